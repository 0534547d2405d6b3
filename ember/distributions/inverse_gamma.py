"""``InverseGamma(concentration, rate)``: ``1 / X`` for ``X ~ Gamma(concentration, rate)``."""
from __future__ import annotations

import math

import ember

from . import constraints
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform


class InverseGamma(TransformedDistribution):
    """The inverse gamma distribution: density
    ``rate^alpha x^(-alpha - 1) exp(-rate / x) / Gamma(alpha)`` on ``x > 0``.

    A Gamma pushed through ``PowerTransform(-1)`` as in torch, so samples are torch's numbers
    and ``rsample`` is differentiable (implicit reparameterisation of the Gamma draws).

    Args:
        concentration: the shape ``alpha``, positive.
        rate: the rate ``beta`` (one over the scale), positive.
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -base_dist.rate.new_ones(())
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self):
        """The base Gamma's concentration."""
        return self.base_dist.concentration

    @property
    def rate(self):
        """The base Gamma's rate."""
        return self.base_dist.rate

    @property
    def mean(self):
        """``rate / (alpha - 1)``, inf for ``alpha <= 1``."""
        result = self.rate / (self.concentration - 1)
        return ember.where(self.concentration > 1, result, math.inf)

    @property
    def mode(self):
        """``rate / (alpha + 1)``."""
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        """``rate^2 / ((alpha - 1)^2 (alpha - 2))``, inf for ``alpha <= 2``."""
        result = self.rate.square() / ((self.concentration - 1).square()
                                       * (self.concentration - 2))
        return ember.where(self.concentration > 2, result, math.inf)

    def entropy(self):
        """``alpha + log(rate) + lgamma(alpha) - (1 + alpha) digamma(alpha)``."""
        return (self.concentration + self.rate.log() + self.concentration.lgamma()
                - (1 + self.concentration) * self.concentration.digamma())


__all__ = ["InverseGamma"]
