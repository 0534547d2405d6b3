"""``FisherSnedecor(df1, df2)``: the F distribution, reparameterisable through two Gamma
draws."""
from __future__ import annotations

import math
import numbers

import ember

from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all


class FisherSnedecor(Distribution):
    """The Fisher-Snedecor (F) distribution with ``df1`` and ``df2`` degrees of freedom: the
    law of ``(X1 / df1) / (X2 / df2)`` for independent ``X1 ~ Chi2(df1)``,
    ``X2 ~ Chi2(df2)``.

    Samples are torch's after the same ``manual_seed``: all of ``Gamma(df1 / 2, df1)``'s draws
    come first, then ``Gamma(df2 / 2, df2)``'s.

    Args:
        df1: degrees of freedom of the numerator (positive; a number or a tensor).
        df2: degrees of freedom of the denominator (positive; broadcast with ``df1``).
        validate_args: check the arguments (and ``log_prob``'s values) as torch does.
    """

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        if isinstance(df1, numbers.Number) and isinstance(df2, numbers.Number):
            batch_shape = ember.Size()
        else:
            batch_shape = self.df1.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(FisherSnedecor, _instance)
        batch_shape = ember.Size(batch_shape)
        new.df1 = self.df1.expand(batch_shape)
        new.df2 = self.df2.expand(batch_shape)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        """``df2 / (df2 - 2)`` where ``df2 > 2``, else nan."""
        df2 = ember.where(self.df2 <= 2, math.nan, self.df2)
        return df2 / (df2 - 2)

    @property
    def mode(self):
        """``(df1 - 2) / df1 * df2 / (df2 + 2)`` where ``df1 > 2``, else nan."""
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return ember.where(self.df1 <= 2, math.nan, mode)

    @property
    def variance(self):
        """``2 df2^2 (df1 + df2 - 2) / (df1 (df2 - 2)^2 (df2 - 4))`` where ``df2 > 4``, else
        nan."""
        df2 = ember.where(self.df2 <= 4, math.nan, self.df2)
        return (2 * df2.pow(2) * (self.df1 + df2 - 2)
                / (self.df1 * (df2 - 2).pow(2) * (df2 - 4)))

    def rsample(self, sample_shape=()):
        """``X1 / X2`` with ``X1 ~ Gamma(df1 / 2, df1)`` and ``X2 ~ Gamma(df2 / 2, df2)``
        (both clamped at the dtype's ``tiny``); differentiable in ``df1`` and ``df2``."""
        shape = self._extended_shape(sample_shape)
        X1 = self._gamma1.rsample(sample_shape).view(shape)
        X2 = self._gamma2.rsample(sample_shape).view(shape)
        tiny = ember.finfo(X2.dtype).tiny
        X2.clamp_(min=tiny)
        Y = X1 / X2
        Y.clamp_(min=tiny)
        return Y

    def log_prob(self, value):
        """The log density: ``lgamma((df1 + df2) / 2) - lgamma(df1 / 2) - lgamma(df2 / 2)
        + df1/2 log(df1/df2) + (df1/2 - 1) log(value) - (df1 + df2)/2 log1p(df1/df2 value)``."""
        if self._validate_args:
            self._validate_sample(value)
        ct1 = self.df1 * 0.5
        ct2 = self.df2 * 0.5
        ct3 = self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()
        t2 = ct1 * ct3.log() + (ct1 - 1) * ember.log(value)
        t3 = (ct1 + ct2) * ember.log1p(ct3 * value)
        return t1 + t2 - t3


__all__ = ["FisherSnedecor"]
