"""``Kumaraswamy(concentration1, concentration0)``: a Beta look-alike with a closed-form cdf."""
from __future__ import annotations

import math

import ember

from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all

_EULER = 0.57721566490153286060


def _moments(a, b, n):
    """The ``n``-th moment, ``b B(1 + n/a, b)``, through ``lgamma``."""
    arg1 = 1 + n / a
    log_value = ember.lgamma(arg1) + ember.lgamma(b) - ember.lgamma(arg1 + b)
    return b * ember.exp(log_value)


class Kumaraswamy(TransformedDistribution):
    """The Kumaraswamy distribution on ``[0, 1]``: density ``a b x^(a-1) (1 - x^a)^(b-1)``.

    Built as torch builds it, ``(1 - U^(1/b))^(1/a)`` for ``U ~ Uniform(0, 1)``, so samples
    are torch's numbers and ``rsample`` is differentiable.

    Args:
        concentration1: the first concentration ``a`` (alpha), positive.
        concentration0: the second concentration ``b`` (beta), positive.
    """

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base_dist = Uniform(ember.full_like(self.concentration0, 0),
                            ember.full_like(self.concentration0, 1),
                            validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        """``b B(1 + 1/a, b)``."""
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        """torch's expression, nan for every parameter.

        NOTE: torch computes ``log1p(-b) / b - log1p(-a b)`` (nan wherever ``b > 1`` or
        ``a b > 1``) and then sets nan where ``a < 1`` or ``b < 1``, so its mode is nan
        everywhere; kept as torch's. The true mode, ``((a - 1) / (a b - 1))^(1/a)`` for
        ``a, b >= 1`` (not both 1), is not what torch returns.
        """
        log_mode = (self.concentration0.reciprocal() * (-self.concentration0).log1p()
                    - (-self.concentration0 * self.concentration1).log1p())
        invalid = (self.concentration0 < 1) | (self.concentration1 < 1)
        return ember.where(invalid, math.nan, log_mode).exp()

    @property
    def variance(self):
        """The second moment less the squared mean."""
        return (_moments(self.concentration1, self.concentration0, 2)
                - ember.pow(self.mean, 2))

    def entropy(self):
        """``(1 - 1/b) + (1 - 1/a) H_b - log a - log b``, ``H_b`` the ``b``-th harmonic
        number (``digamma(b + 1) + euler_gamma``)."""
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        h0 = ember.digamma(self.concentration0 + 1) + _EULER
        return t0 + t1 * h0 - ember.log(self.concentration1) - ember.log(self.concentration0)


__all__ = ["Kumaraswamy"]
