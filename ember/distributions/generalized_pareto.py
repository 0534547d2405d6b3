"""``GeneralizedPareto(loc, scale, concentration)``: the peaks-over-threshold tail model."""
from __future__ import annotations

import math
import numbers

import ember

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution: survival function
    ``(1 + xi z)^(-1/xi)`` with ``z = (x - loc) / scale`` (``exp(-z)`` at ``xi = 0``).

    Exponential at ``loc = 0, xi = 0``, Pareto for ``xi > 0, loc = scale / xi`` and uniform at
    ``xi = -1``. The support is ``[loc, inf)`` for ``xi >= 0`` and
    ``[loc, loc - scale / xi]`` for ``xi < 0``. Sampled by inversion of a uniform draw
    (torch's numbers, reparameterisable). A concentration within ``isclose`` of 0 takes the
    exponential formulas, as torch. Differs from torch: float64 parameters work in
    ``log_prob``, ``cdf`` and ``log_survival_function``, where torch's compare with a float32
    zero raises "Double did not match Float".

    Args:
        loc: the location (real).
        scale: the scale, positive.
        concentration: the shape ``xi`` (real).
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if all(isinstance(v, numbers.Number) for v in (loc, scale, concentration)):
            batch_shape = ember.Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = ember.Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        """``icdf(u)`` for ``u ~ U[0, 1)``."""
        shape = self._extended_shape(sample_shape)
        u = ember.rand(shape, dtype=self.loc.dtype)
        return self.icdf(u)

    def _safe_concentration(self):
        """(``xi`` close to 0, ``xi`` with those entries replaced by 1)."""
        eq_zero = ember.isclose(self.concentration, ember.zeros_like(self.concentration))
        return eq_zero, ember.where(eq_zero, ember.ones_like(self.concentration),
                                    self.concentration)

    def log_prob(self, value):
        """``-log(scale) - (1 + 1/xi) log1p(xi z)`` (``-log(scale) - z`` at ``xi = 0``)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + ember.ones_like(z)
        where_nonzero = ember.where(y == 0, y, y * ember.log1p(safe_conc * z))
        return -self.scale.log() - ember.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        """``log P(X > value) = -log1p(xi z) / xi`` (``-z`` at ``xi = 0``)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        where_nonzero = -ember.log1p(safe_conc * z) / safe_conc
        return ember.where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value):
        """``log1p(-exp(log_survival_function(value)))``."""
        return ember.log1p(-ember.exp(self.log_survival_function(value)))

    def cdf(self, value):
        """``exp(log_cdf(value))``."""
        return ember.exp(self.log_cdf(value))

    def icdf(self, value):
        """``loc + scale expm1(-xi log1p(-value)) / xi`` (``loc - scale log1p(-value)`` at
        ``xi = 0``)."""
        eq_zero, safe_conc = self._safe_concentration()
        logu = ember.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * ember.expm1(-safe_conc * logu)
        where_zero = self.loc - self.scale * logu
        return ember.where(eq_zero, where_zero, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        """``loc + scale / (1 - xi)``, nan for ``xi >= 1``."""
        valid = self.concentration < 1
        safe_conc = ember.where(valid, self.concentration, 0.5)
        result = self.loc + self.scale / (1 - safe_conc)
        return ember.where(valid, result, math.nan)

    @property
    def variance(self):
        """``scale^2 / ((1 - xi)^2 (1 - 2 xi))``, nan for ``xi >= 1/2``."""
        valid = self.concentration < 0.5
        safe_conc = ember.where(valid, self.concentration, 0.25)
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return ember.where(valid, result, math.nan)

    def entropy(self):
        """``log(scale) + xi + 1``."""
        ans = ember.log(self.scale) + self.concentration + 1
        return ember.broadcast_to(ans, self._batch_shape)

    @property
    def mode(self):
        """``loc``."""
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        """``[loc, loc - scale / xi]`` for ``xi < 0``, else ``[loc, inf)``."""
        lower = self.loc
        upper = ember.where(self.concentration < 0, lower - self.scale / self.concentration,
                            math.inf)
        return constraints.interval(lower, upper)


__all__ = ["GeneralizedPareto"]
