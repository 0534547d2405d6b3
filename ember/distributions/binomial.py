"""``Binomial(total_count, probs=... | logits=...)``: successes in ``total_count`` trials."""
from __future__ import annotations

import ember

from .._random import _gen
from . import _samplers, constraints
from ._counted import expand_count_and_param, init_count_and_param
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, probs_to_logits


def _clamp_by_zero(x):
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(Distribution):
    """The number of successes in ``total_count`` independent trials of probability ``probs``
    (or ``sigmoid(logits)``); ``total_count`` broadcasts with the probabilities."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        init_count_and_param(self, total_count, probs, logits, validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_count_and_param(self, Binomial, batch_shape, _instance)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        """The integers ``0 .. total_count``."""
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        """``total_count * probs``."""
        return self.total_count * self.probs

    @property
    def mode(self):
        """``floor((total_count + 1) probs)``, at most ``total_count``."""
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        """``total_count * probs * (1 - probs)``."""
        return self.total_count * self.probs * (1 - self.probs)

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

    def sample(self, sample_shape=()):
        """Counts (in the parameter's dtype) drawn as ``torch.binomial`` draws them on the
        CPU."""
        shape = self._extended_shape(sample_shape)
        with ember.no_grad():
            count = self.total_count.detach().expand(shape).numpy()
            probs = self.probs.detach().expand(shape).numpy()
        return ember.from_numpy(_samplers.binomial(_gen(None), count, probs))

    def log_prob(self, value):
        """``log C(n, k) + k logit - n log(1 + exp(logit))``, from the logits."""
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = ember.lgamma(self.total_count + 1)
        log_factorial_k = ember.lgamma(value + 1)
        log_factorial_nmk = ember.lgamma(self.total_count - value + 1)
        normalize_term = (self.total_count * _clamp_by_zero(self.logits)
                          + self.total_count * ember.log1p(ember.exp(-ember.abs(self.logits)))
                          - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        """``-sum_k p(k) log p(k)`` over the support (one ``total_count`` for the batch)."""
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(ember.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        """``0 .. total_count`` along dim 0 (one ``total_count`` for the batch)."""
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError(
                "Inhomogeneous total count not supported by `enumerate_support`.")
        values = ember.arange(1 + total_count, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


__all__ = ["Binomial"]
