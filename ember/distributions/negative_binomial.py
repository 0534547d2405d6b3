"""``NegativeBinomial(total_count, probs=... | logits=...)``: a Gamma-Poisson mixture."""
from __future__ import annotations

import ember

from .._random import _gen
from . import _samplers, constraints
from ._counted import expand_count_and_param, init_count_and_param
from .distribution import Distribution
from .gamma import Gamma
from .utils import lazy_property, logits_to_probs, probs_to_logits


class _HalfOpenInterval(constraints.Constraint):
    """``[lower_bound, upper_bound)`` (torch's ``constraints.half_open_interval``)."""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        return (self.lower_bound <= value) & (value < self.upper_bound)

    def __repr__(self):
        return f"HalfOpenInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class NegativeBinomial(Distribution):
    """The number of successes before ``total_count`` failures in Bernoulli(``probs``)
    trials: ``P(k) = C(k + r - 1, k) (1 - p)^r p^k``."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": _HalfOpenInterval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        init_count_and_param(self, total_count, probs, logits, validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_count_and_param(self, NegativeBinomial, batch_shape, _instance)

    @property
    def mean(self):
        """``total_count * exp(logits)`` (``r p / (1 - p)``)."""
        return self.total_count * ember.exp(self.logits)

    @property
    def mode(self):
        """``floor((total_count - 1) exp(logits))``, at least 0."""
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        """``mean / (1 - p)``."""
        return self.mean / ember.sigmoid(-self.logits)

    @lazy_property
    def logits(self):
        """``log p - log(1 - p)``."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """``sigmoid(logits)``."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        """The shape of the parameter tensor."""
        return self._param.size()

    @lazy_property
    def _gamma(self):
        return Gamma(concentration=self.total_count, rate=ember.exp(-self.logits),
                     validate_args=False)

    def sample(self, sample_shape=()):
        """``poisson(rate)`` with ``rate ~ Gamma(total_count, exp(-logits))`` (torch's
        numbers)."""
        with ember.no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
        return ember.from_numpy(_samplers.poisson(_gen(None), rate.numpy()))

    def log_prob(self, value):
        """``r logsigmoid(-logits) + k logsigmoid(logits) + log C(k + r - 1, k)``."""
        if self._validate_args:
            self._validate_sample(value)
        logsigmoid = ember.nn.functional.logsigmoid
        log_unnormalized_prob = (self.total_count * logsigmoid(-self.logits)
                                 + value * logsigmoid(self.logits))
        log_normalization = (-ember.lgamma(self.total_count + value) + ember.lgamma(1.0 + value)
                             + ember.lgamma(self.total_count))
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization


__all__ = ["NegativeBinomial"]
