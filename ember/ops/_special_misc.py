"""More of ``torch.special``: zeta (Hurwitz's), ndtri, log_ndtr, erfcx, entr and multigammaln.

Values follow torch's kernels (``aten/src/ATen/native/Math.h``): ``ndtri`` is Cephes' rational
approximation in the input's precision; ``log_ndtr`` is SciPy's formula (through ``erfcx``
below -1, so it stays finite far into the tail); ``zeta`` is Cephes' (in float64, as torch
computes it for float32 too). ``erfcx`` uses Cody's rational approximations in float64
(torch uses Johnson's Faddeeva tables; both are accurate to a few float64 ulps) with torch's
float32 steps where they change the rounding. Gradients are torch's formulas
(``tools/autograd/derivatives.yaml``); zeta's first argument has none, as in torch.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from ._out import write_out
from ._shape_utils import sum_to_shape
from .pointwise_math import binary_float
from .pointwise_special import _C, _D, _P, _Q, _SQRT_PI, _erf_small, erfc_array, float_input
from .pointwise_special import run_quietly as _run
from .special_more import mvlgamma, zeta_array

__all__ = ["zeta", "ndtri", "log_ndtr", "erfcx", "entr", "multigammaln"]

_SQRT_2PI = 2.50662827463100050242
_EXP_M2 = 0.13533528323661269189  # exp(-2)
# Cephes ndtri: |y - 1/2| <= 3/8; then z = sqrt(-2 log y) in [2, 8) and [8, 64)
_NDTRI_P0 = (-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1,
             1.39312609387279679503E1, -1.23916583867381258016E0)
_NDTRI_Q0 = (1.0, 1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1,
             -2.25462687854119370527E2, 2.00260212380060660359E2, -8.20372256168333339912E1,
             1.59056225126211695515E1, -1.18331621121330003142E0)
_NDTRI_P1 = (4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1,
             4.40805073893200834700E1, 1.46849561928858024014E1, 2.18663306850790267539E0,
             -1.40256079171354495875E-1, -3.50424626827848203418E-2, -8.57456785154685413611E-4)
_NDTRI_Q1 = (1.0, 1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1,
             1.50425385692907503408E1, 2.50464946208309415979E0, -1.42182922854787788574E-1,
             -3.80806407691578277194E-2, -9.33259480895457427372E-4)
_NDTRI_P2 = (3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0,
             1.33303460815807542389E0, 2.01485389549179081538E-1, 1.23716634817820021358E-2,
             3.01581553508235416007E-4, 2.65806974686737550832E-6, 6.23974539184983293730E-9)
_NDTRI_Q2 = (1.0, 6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0,
             2.16236993594496635890E-1, 1.34204006088543189037E-2, 3.28014464682127739104E-4,
             2.89247864745380683936E-6, 6.79019408009981274425E-9)


def _polevl(z, coefs):
    r = np.zeros_like(z)
    for c in coefs:
        r = r * z + c
    return r


# --- kernels ----------------------------------------------------------------------------------
def ndtri_array(y0):
    """The inverse of the standard normal CDF, Cephes' ndtri in y0's dtype (torch's)."""
    t = y0.dtype.type
    flip = y0 > t(1) - t(_EXP_M2)
    y = np.where(flip, 1 - y0, y0)
    central = y > t(_EXP_M2)
    yc = np.where(central, y - 0.5, 0.0).astype(y0.dtype)
    y2 = yc * yc
    mid = (yc + yc * (y2 * _polevl(y2, _NDTRI_P0) / _polevl(y2, _NDTRI_Q0))) * _SQRT_2PI
    ys = np.where(central | (y <= 0), 0.5, y).astype(y0.dtype)
    x = np.sqrt(-2.0 * np.log(ys))
    x0 = x - np.log(x) / x
    z = 1.0 / x
    x1 = np.where(x < 8.0, z * _polevl(z, _NDTRI_P1) / _polevl(z, _NDTRI_Q1),
                  z * _polevl(z, _NDTRI_P2) / _polevl(z, _NDTRI_Q2))
    tail = x0 - x1
    out = np.where(central, mid, np.where(flip, tail, -tail))
    out = np.where(y0 == 0, -np.inf, np.where(y0 == 1, np.inf, out))
    return np.where((y0 < 0) | (y0 > 1) | np.isnan(y0), np.nan, out).astype(y0.dtype)


def _erfcx_pos(y):
    """exp(y^2) erfc(y) for float64 y >= 0: Cody's CALERF with jint = 2."""
    small = y <= 0.46875
    ys = np.where(small, y, 0.0)
    near = np.exp(ys * ys) * (1 - _erf_small(ys))
    yb = np.where(small, 1.0, y)
    num, den = _C[8] * yb, yb
    for i in range(7):
        num, den = (num + _C[i]) * yb, (den + _D[i]) * yb
    mid = (num + _C[7]) / (den + _D[7])
    z = 1 / (yb * yb)
    num, den = _P[5] * z, z
    for i in range(4):
        num, den = (num + _P[i]) * z, (den + _Q[i]) * z
    far = (1 / _SQRT_PI - z * (num + _P[4]) / (den + _Q[4])) / yb
    return np.where(small, near, np.where(yb <= 4, mid, far))


def erfcx_array(x):
    """exp(x^2) erfc(x) in x's dtype; below 0 torch's 2 exp(x^2) - erfcx(-x), in x's dtype."""
    pos = _erfcx_pos(np.abs(x).astype(np.float64)).astype(x.dtype)
    twice = 2 * np.exp(x * x)
    neg = np.where(x < -6.1, twice, twice - pos)
    out = np.where(x >= 0, pos, np.where(x < -26.7, np.inf, neg))
    return np.where(np.isnan(x), x, out).astype(x.dtype, copy=False)


def log_ndtr_array(x):
    """log Phi(x), torch's calc_log_ndtr."""
    t = x * 0.70710678118654752440
    left = x < -1.0
    tl = np.where(left, t, 0.0).astype(x.dtype)
    far = np.log(erfcx_array(-tl) / 2) - tl * tl
    near = np.log1p(-erfc_array(t.astype(np.float64)).astype(x.dtype) / 2)
    return np.where(left, far, near).astype(x.dtype, copy=False)


def entr_array(x):
    """-x log x: 0 at 0, -inf below 0, nan at nan."""
    out = -x * np.log(np.where(x > 0, x, 1.0).astype(x.dtype))
    out = np.where(x == 0, 0.0, np.where(x < 0, -np.inf, out))
    return np.where(np.isnan(x), x, out).astype(x.dtype, copy=False)


# --- ops --------------------------------------------------------------------------------------
class Ndtri(Op):
    """z = Phi^-1(x); dz/dx = sqrt(2 pi) exp(z^2 / 2)"""

    _backward_name = "SpecialNdtriBackward0"

    @staticmethod
    def forward(ctx, x):
        out = _run(ndtri_array, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return grad * _SQRT_2PI * np.exp(out * out / 2)


class LogNdtr(Op):
    """z = log Phi(x); dz/dx = exp(-(z + x^2 / 2)) / sqrt(2 pi)"""

    _backward_name = "SpecialLogNdtrBackward0"

    @staticmethod
    def forward(ctx, x):
        out = _run(log_ndtr_array, x)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return grad / _SQRT_2PI * np.exp(-(out + x * x / 2))


class Erfcx(Op):
    """z = exp(x^2) erfc(x); dz/dx = 2 x z - 2 / sqrt(pi)"""

    _backward_name = "SpecialErfcxBackward0"

    @staticmethod
    def forward(ctx, x):
        out = _run(erfcx_array, x)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            return (2.0 * x * out - 2.0 / _SQRT_PI) * grad


class Entr(Op):
    """z = -x log x; dz/dx = -(1 + log x)"""

    _backward_name = "SpecialEntrBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _run(entr_array, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad * -(1 + np.log(x))


class Zeta(Op):
    """z = zeta(x, q) = sum_k (k + q)^-x; dz/dq = -x zeta(x + 1, q), none for x (as torch)"""

    @staticmethod
    def forward(ctx, x, q, *, node_name="SpecialZetaBackward0"):
        ctx.show_as(node_name)
        ctx.save_for_backward(x, q)
        with np.errstate(all="ignore"):
            return np.asarray(zeta_array(x, q)).astype(np.result_type(x, q), copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, q = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        with np.errstate(all="ignore"):
            g = grad * -x * zeta_array(x + 1.0, q).astype(grad.dtype)
        return None, sum_to_shape(g, np.shape(q)).astype(grad.dtype, copy=False)


# --- wrappers ---------------------------------------------------------------------------------
def zeta(input, other, *, out: Tensor | None = None) -> Tensor:
    """Hurwitz's zeta function ``sum_k (k + other) ** -input`` (``torch.special.zeta``),
    elementwise with broadcasting; either argument may be a Python number, integers give the
    default float dtype. Only ``other`` gets a gradient, as in torch.

    Raises:
        TypeError: neither argument is a tensor.
        NotImplementedError: at backward, ``input`` requiring grad.
    """
    result = binary_float(Zeta, "special_zeta", input, other, scalars=True,
                          names=("SpecialZetaBackward0", "SpecialZetaBackward1",
                                 "SpecialZetaBackward2"))
    return write_out("special_zeta", result, out, (input, other))


def ndtri(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The argument ``x`` at which the standard normal CDF equals ``input``
    (``torch.special.ndtri``): -inf at 0, inf at 1, NaN outside [0, 1]."""
    result = Ndtri.apply(float_input("special_ndtri", input))
    return write_out("special_ndtri", result, out, (input,))


def log_ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The log of the standard normal CDF, accurate far into the left tail
    (``torch.special.log_ndtr``)."""
    result = LogNdtr.apply(float_input("special_log_ndtr", input))
    return write_out("special_log_ndtr", result, out, (input,))


def erfcx(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The scaled complementary error function ``exp(x^2) erfc(x)``
    (``torch.special.erfcx``)."""
    result = Erfcx.apply(float_input("special_erfcx", input))
    return write_out("special_erfcx", result, out, (input,))


def entr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elementwise entropy ``-x log x`` (0 at 0, -inf for negative ``x``;
    ``torch.special.entr``)."""
    result = Entr.apply(float_input("special_entr", input))
    return write_out("special_entr", result, out, (input,))


def multigammaln(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The multivariate log-gamma function of dimension ``p`` (``torch.special.multigammaln``,
    an alias of ``ember.mvlgamma``)."""
    return write_out("special_multigammaln", mvlgamma(input, p), out, (input,))
