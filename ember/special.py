"""``torch.special``: the special functions under their SciPy-style names.

Most are the same functions as ``ember.<name>``; ``xlog1py`` lives only here, as in torch, and
``gammainc``/``gammaincc`` are ``ember.igamma``/``igammac`` under SciPy's names. The Bessel
functions, the orthogonal polynomials, zeta, ndtri, log_ndtr, erfcx and entr live in
``ember/ops/_special_{bessel,polynomials,misc}.py``.
"""
from __future__ import annotations

import math

from .ops import exp2, expm1, log1p, log_softmax, logsumexp, round, sigmoid, sinc, softmax
from .ops._special_bessel import *  # noqa: F401,F403
from .ops._special_bessel import __all__ as _bessel
from .ops._special_misc import *  # noqa: F401,F403
from .ops._special_misc import __all__ as _misc
from .ops._special_polynomials import *  # noqa: F401,F403
from .ops._special_polynomials import __all__ as _polynomials
from .ops.pointwise_math import digamma, erf, erfc, erfinv, i0, lgamma, logit, xlogy
from .ops.pointwise_special import _need_tensor, xlog1py
from .ops.special_more import igamma, igammac, polygamma

gammaln = lgamma
psi = digamma
expit = sigmoid


def ndtr(input):
    """The standard normal CDF, ``(1 + erf(x / sqrt(2))) / 2``."""
    return (erf(input * (1 / math.sqrt(2))) + 1) * 0.5


def gammainc(input, other, *, out=None):
    """The regularized lower incomplete gamma function
    ``P(a, x) = 1 / Gamma(a) * integral_0^x t^(a - 1) e^-t dt`` with ``a = input`` and
    ``x = other`` (``torch.igamma``): torch's numbers, a gradient for ``other`` only.

    Raises:
        TypeError: an argument is not a tensor.
        NotImplementedError: integer arguments; at backward, ``input`` requiring grad
            ("the derivative for 'igamma: input' is not implemented.").
    """
    _need_tensor("special_gammainc", input)
    _need_tensor("special_gammainc", other, 2, "other")
    return igamma(input, other, out=out)


def gammaincc(input, other, *, out=None):
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``
    (``torch.igammac``); see :func:`gammainc`."""
    _need_tensor("special_gammaincc", input)
    _need_tensor("special_gammaincc", other, 2, "other")
    return igammac(input, other, out=out)


__all__ = ["digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammainc",
           "gammaincc", "gammaln", "i0", "log1p", "log_softmax", "logit", "logsumexp", "ndtr",
           "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy", *_bessel, *_misc,
           *_polynomials]
