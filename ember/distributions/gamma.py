"""``Gamma(concentration, rate)``: reparameterisable through torch's implicit gradient."""
from __future__ import annotations

import numbers

import ember

from ..special import gammainc
from . import constraints
from ._functions import standard_gamma
from .exp_family import ExponentialFamily
from .utils import broadcast_all


class Gamma(ExponentialFamily):
    """The Gamma distribution with shape ``concentration`` (alpha) and ``rate`` (beta):
    density ``rate^alpha x^(alpha - 1) exp(-rate x) / Gamma(alpha)`` on ``x >= 0``."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number):
            batch_shape = ember.Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = ember.Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        ExponentialFamily.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        """``concentration / rate``."""
        return self.concentration / self.rate

    @property
    def mode(self):
        """``(concentration - 1) / rate``, floored at 0."""
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        """``concentration / rate^2``."""
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        """``_standard_gamma(concentration) / rate``: torch's draws; gradients reach
        ``concentration`` by implicit reparameterisation and ``rate`` through the division."""
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=ember.finfo(value.dtype).tiny)  # outside autograd
        return value

    def log_prob(self, value):
        """``alpha log(rate) + (alpha - 1) log(value) - rate value - lgamma(alpha)``."""
        value = ember.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (ember.xlogy(self.concentration, self.rate)
                + ember.xlogy(self.concentration - 1, value)
                - self.rate * value - ember.lgamma(self.concentration))

    def cdf(self, value):
        """``P(concentration, rate * value)``, the regularized lower incomplete gamma
        function (``special.gammainc``, torch's numbers). As in torch it has no gradient for
        ``concentration``: backward through it raises NotImplementedError."""
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self):
        """``alpha - log(rate) + lgamma(alpha) + (1 - alpha) digamma(alpha)``."""
        return (self.concentration - ember.log(self.rate) + ember.lgamma(self.concentration)
                + (1.0 - self.concentration) * ember.digamma(self.concentration))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return ember.lgamma(x + 1) + (x + 1) * ember.log(-y.reciprocal())


__all__ = ["Gamma"]
