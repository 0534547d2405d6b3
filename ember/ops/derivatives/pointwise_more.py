"""Formulas for the rest of the elementwise ops: two-input math (atan2, hypot, logaddexp,
xlogy, ...), the special functions (lgamma, digamma, polygamma, erfc, erfinv, i0, igamma)
and the piecewise ones (prelu, renorm, frexp, the sign-like ops whose gradient is 0).

Each mirrors the op's NumPy ``backward``. Where a formula divides by something that is 0 at
a point the op masks (xlogy's log y at x == y == 0, i1 / x at 0), the masked places divide
by 1 instead, so that the second derivative is the masked value's, not nan; sinc and atan2
keep torch's nan there (torch masks their first derivative only).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.function import Op
from ..clamp import where
from ..complex_ops import conj_physical, real
from ..math_more import Angle, CompareAs, Frexp, Prelu, Renorm, Sgn, sgn
from ..modulus import Fmod, Remainder
from ..pointwise_math import (
    Atan2,
    Copysign,
    Deg2Rad,
    Exp2,
    Frac,
    Heaviside,
    Hypot,
    Ldexp,
    Logaddexp,
    Logaddexp2,
    Logit,
    Nextafter,
    Rad2Deg,
    Sinc,
    Xlogy,
    exp2,
)
from ..pointwise_special import (
    I0,
    Digamma,
    Erfc,
    Erfinv,
    Lgamma,
    Xlog1py,
    _in_float64,
    i0_array,
    i1_array,
)
from ..special_more import Igamma, Mvlgamma, Polygamma
from ..unary import abs as abs_
from ..unary import cos, exp, log, log1p, sin
from ..vector_norm import VectorNorm
from ._common import const, formula, saved_tensors, sum_to
from ._rest import zero_on_edge

_LN2 = math.log(2)


def _zeros(shape, like):
    return const(np.zeros(shape, like._data.dtype))


def _both(ctx, gx, gy, x_shape, y_shape):
    """Each operand's gradient (a function of nothing, called only when needed), summed
    back to its shape: the Tensor twin of ``pointwise_math._grads``."""
    need = ctx.needs_input_grad
    return (sum_to(gx(), x_shape) if need[0] else None,
            sum_to(gy(), y_shape) if need[1] else None)


# --- unary ---------------------------------------------------------------------------------
@formula(Sinc)
def _sinc(ctx, grad):
    (x,) = saved_tensors(ctx)
    px = math.pi * x  # 0 at x == 0, as torch (whose second derivative there is nan)
    return grad * where(const(x._data == 0), 0.0, (px * cos(px) - sin(px)) / (px * x))


@formula(Deg2Rad)
def _deg2rad(ctx, grad):
    return grad * (math.pi / 180)


@formula(Rad2Deg)
def _rad2deg(ctx, grad):
    return grad * (180 / math.pi)


@formula(Frac)
def _frac(ctx, grad):
    return grad


@formula(Exp2)
def _exp2(ctx, grad):
    (out,) = saved_tensors(ctx)
    return grad * out * _LN2


@formula(Logit)
def _logit(ctx, grad):
    (x,) = saved_tensors(ctx)
    a = x._data
    if ctx.eps is None:  # nan outside [0, 1]
        out, fill = (a < 0) | (a > 1), np.nan
    else:  # 0 outside [eps, 1 - eps]
        out, fill = (a < a.dtype.type(ctx.eps)) | (a > a.dtype.type(1 - ctx.eps)), 0.0
    return where(const(out), fill, grad / (x * (1 - x)))


# --- two inputs ----------------------------------------------------------------------------
@formula(Atan2)
def _atan2(ctx, grad):
    x, y = saved_tensors(ctx)
    r2 = x * x + y * y
    recip = where(const(r2._data == 0), 0.0, 1 / r2)  # torch: 0 at the origin (then nan)
    return _both(ctx, lambda: grad * y * recip, lambda: grad * -x * recip, x.shape, y.shape)


@formula(Hypot)
def _hypot(ctx, grad):
    x, y, out = saved_tensors(ctx)
    return _both(ctx, lambda: grad * x / out, lambda: grad * y / out, x.shape, y.shape)


@formula(Logaddexp)
def _logaddexp(ctx, grad):
    x, y = saved_tensors(ctx)
    return _both(ctx, lambda: grad / (1 + exp(y - x)), lambda: grad / (1 + exp(x - y)),
                 x.shape, y.shape)


@formula(Logaddexp2)
def _logaddexp2(ctx, grad):
    x, y = saved_tensors(ctx)
    return _both(ctx, lambda: grad / (1 + exp2(y - x)), lambda: grad / (1 + exp2(x - y)),
                 x.shape, y.shape)


def _xlog(ctx, grad, fn, pole):
    """xlogy (``fn`` log, pole 0) and xlog1py (log1p, pole -1): d/dx = fn(y) (0 where x == 0
    and y is at or below the pole), d/dy = x / (y - pole)."""
    x, y = saved_tensors(ctx)
    dead = const((x._data == 0) & (y._data <= pole))
    return _both(ctx, lambda: grad * where(dead, 0.0, fn(where(dead, pole + 1.0, y))),
                 lambda: grad * x / (y - pole), x.shape, y.shape)


@formula(Xlogy)
def _xlogy(ctx, grad):
    return _xlog(ctx, grad, log, 0)


@formula(Xlog1py)
def _xlog1py(ctx, grad):
    return _xlog(ctx, grad, log1p, -1)


@formula(Copysign)
def _copysign(ctx, grad):
    x, out = ctx.saved_tensors
    need = ctx.needs_input_grad
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(x == 0, 0, out / x)  # +-1: piecewise constant
    return (sum_to(grad * const(ratio, grad._data.dtype), x.shape) if need[0] else None,
            _zeros(ctx.y_shape, grad) if need[1] else None)


@formula(Nextafter)
def _nextafter(ctx, grad):
    need = ctx.needs_input_grad
    return (sum_to(grad, ctx.x_shape) if need[0] else None,
            _zeros(ctx.y_shape, grad) if need[1] else None)


@formula(Ldexp)
def _ldexp(ctx, grad):
    scale, out = ctx.saved_tensors[0], saved_tensors(ctx)[1]
    need = ctx.needs_input_grad
    gx = gy = None
    if need[0]:  # 2 ** y, with y's edge: scale * 2 ** (y - y)
        y0 = zero_on_edge(ctx, 1, ctx.y_shape, scale.dtype)
        gx = sum_to(grad * (const(scale) * exp2(y0)), ctx.x_shape)
    if need[1]:
        gy = sum_to(grad * out * _LN2, ctx.y_shape)
    return gx, gy


@formula(Heaviside)
def _heaviside(ctx, grad):
    raise RuntimeError("derivative for aten::heaviside is not implemented")


# --- special functions ---------------------------------------------------------------------
@formula(Erfc)
def _erfc(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * (-2 / math.sqrt(math.pi) * exp(-x * x))


@formula(Erfinv)
def _erfinv(ctx, grad):
    (out,) = saved_tensors(ctx)
    return grad * (math.sqrt(math.pi) / 2 * exp(out * out))


@formula(Lgamma)
def _lgamma(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * Digamma.apply(x)


@formula(Digamma)
def _digamma(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * Polygamma.apply(x, n=1)


@formula(Polygamma)
def _polygamma(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * Polygamma.apply(x, n=ctx.n + 1)


@formula(Mvlgamma)
def _mvlgamma(ctx, grad):
    (x,) = saved_tensors(ctx)
    shifts = np.arange(-(ctx.p - 1) / 2, 0.25, 0.5)  # x - i / 2, i < p
    return grad * Digamma.apply(x.unsqueeze(-1) + const(shifts, x._data.dtype)).sum(-1)


class I1(Op):
    """z = I1(x), the modified Bessel function of order 1 (i0's derivative); dz/dx =
    I0(x) - I1(x) / x, 1/2 at 0"""

    @staticmethod
    def forward(ctx, x):
        out = _in_float64(i1_array, x)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(x == 0, 0.5, _in_float64(i0_array, x) - out / x)
        return (grad * d).astype(grad.dtype, copy=False)


@formula(I1)
def _i1(ctx, grad):
    x, out = saved_tensors(ctx)
    zero = const(x._data == 0)
    return grad * where(zero, 0.5, I0.apply(x) - out / where(zero, 1.0, x))


@formula(I0)
def _i0(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * I1.apply(x)


@formula(Igamma)
def _igamma(ctx, grad):
    a, x = saved_tensors(ctx)
    if ctx.needs_input_grad[0]:
        name = "igammac" if ctx.upper else "igamma"
        raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
    d = exp((a - 1) * log(x) - x - Lgamma.apply(a))  # x ** (a - 1) e ** -x / Gamma(a)
    return None, sum_to(grad * (-d if ctx.upper else d), x.shape)


# --- piecewise and sign-like ---------------------------------------------------------------
@formula(Angle, Sgn)
def _flat(ctx, grad):
    return _zeros(grad.shape, grad)


@formula(CompareAs)
def _compare_as(ctx, grad):
    need = ctx.needs_input_grad
    shape, dtype = ctx.y_meta
    return (_zeros(grad.shape, grad) if need[0] else None,
            const(np.zeros(shape, dtype)) if need[1] else None)


@formula(Frexp)
def _frexp(ctx, grad, grad_exponent=None):
    (e,) = ctx.saved_tensors  # the mantissa is x / 2 ** e, e piecewise constant
    return grad * const(np.ldexp(np.ones((), grad._data.dtype), -e), grad._data.dtype)


@formula(Prelu)
def _prelu(ctx, grad):
    x, w = saved_tensors(ctx)
    pos = const(x._data > 0)
    need = ctx.needs_input_grad
    gx = gw = None
    if need[0]:
        gx = where(pos, grad, w.reshape(ctx.w_view) * grad)
    if need[1]:
        part = where(pos, 0.0, x * grad)
        gw = sum_to(part, ctx.w_view).reshape(w.shape)
    return gx, gw


def _norm_grad(g, x, p, norm):
    """torch's ``norm_backward`` on Tensors: d ||x||_p / dx times ``g`` (both keepdim)."""
    xa, na = x._data, norm._data
    # a complex x's sgn moves with x: recorded, not a constant
    sign = sgn(x) if xa.dtype.kind == "c" else const(np.sign(xa))
    if p == 1:
        return g * sign
    zero = const(na == 0)
    if p == math.inf:
        hit = np.abs(xa) == na
        share = hit / hit.sum(axis=tuple(i for i in range(xa.ndim) if na.shape[i] == 1),
                              keepdims=True)
        return g * sign * const(share, na.dtype)
    x_zero = const(xa == 0)
    if p < 1:  # |x| ** (p - 1) sgn(x), 0 where x is 0, times g norm ** (1 - p)
        scaled = where(x_zero, 0.0, abs_(where(x_zero, 1.0, x)) ** (p - 1)) * sign
        return scaled * g * norm ** (1 - p)
    scale = where(zero, 0.0, g / where(zero, 1.0, norm) ** (p - 1))
    if p == 2:
        return scale * x
    return where(x_zero, 0.0, scale * x * abs_(where(x_zero, 1.0, x)) ** (p - 2))


def _conj_if_complex(t):
    return conj_physical(t) if t._data.dtype.kind == "c" else t


@formula(Renorm)
def _renorm(ctx, grad):
    (x, _) = saved_tensors(ctx)
    p, axes, maxnorm = ctx.p, ctx.axes, ctx.maxnorm
    if axes:
        norm = VectorNorm.apply(x, p=p, dim=axes, keepdim=True)
        gsum = (_conj_if_complex(x) * grad).sum(dim=list(axes), keepdim=True)
    else:  # a 1-D input: each slice is one element
        norm, gsum = abs_(x), _conj_if_complex(x) * grad
    if gsum._data.dtype.kind == "c":  # the norm is real: only Re(conj(x) grad) reaches it
        gsum = real(gsum)
    invnorm = 1 / (norm + 1e-7)
    factor = invnorm * maxnorm
    nb = _norm_grad(gsum, x, p, norm)
    big = const(norm._data > maxnorm)
    return where(big, factor * grad - factor * invnorm * nb, grad)



@formula(Remainder, Fmod)
def _modulus(ctx, grad):
    x, y = ctx.saved_tensors  # the quotient's rounding is flat: it enters as a constant
    rounding = np.floor if ctx._fn is Remainder else np.trunc
    if not isinstance(x, np.ndarray):  # a number % a tensor: torch has no derivative
        return ctx._fn.backward(ctx, grad._data)  # raises torch's error
    with np.errstate(invalid="ignore", divide="ignore"):
        quotient = const(rounding(x / y), grad._data.dtype)
    gy = sum_to(-grad * quotient, ctx.shapes[1]) if ctx.needs_input_grad[1] else None
    return sum_to(grad, ctx.shapes[0]), gy
