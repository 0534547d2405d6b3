"""``torch.special``: the special functions under their SciPy-style names.

Most are the same functions as ``ember.<name>``; ``xlog1py`` lives only here, as in torch.
"""
from __future__ import annotations

import math

from .ops import exp2, expm1, log1p, log_softmax, logsumexp, round, sigmoid, sinc, softmax
from .ops.pointwise_math import digamma, erf, erfc, erfinv, i0, lgamma, logit, xlogy
from .ops.pointwise_special import xlog1py

gammaln = lgamma
psi = digamma
expit = sigmoid


def ndtr(input):
    """The standard normal CDF, ``(1 + erf(x / sqrt(2))) / 2``."""
    return (erf(input * (1 / math.sqrt(2))) + 1) * 0.5


__all__ = ["digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0",
           "log1p", "log_softmax", "logit", "logsumexp", "ndtr", "psi", "round", "sinc",
           "softmax", "xlog1py", "xlogy"]
