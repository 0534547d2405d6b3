"""Formulas for the elementwise ops: arithmetic, unary math, activations, clamp and where.

Each mirrors the op's NumPy ``backward`` line for line; masks (where relu passes, which
bound clamp hit) are constants, as their derivative is zero almost everywhere.
"""
from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor
from ..activation import Gelu, Relu, Sigmoid, Silu, Softplus, Tanh, sigmoid, tanh
from ..blend import Addcmul, Lerp
from ..clamp import Clamp, Fmax, Maximum, Where, where
from ..elementwise import (
    Add,
    Clone,
    Div,
    Fill,
    Mul,
    NanToNum,
    Neg,
    Pow,
    Sub,
    ToDtype,
    _Ceil,
    _Floor,
    _Round,
    _Sign,
    _Trunc,
    to_dtype,
)
from ..math_more import Hardshrink
from ..pointwise_special import Erf, erf
from ..pointwise_trig import Acos, Acosh, Asin, Asinh, Atan, Atanh, Cosh, Sinh, cosh, sinh
from ..unary import (
    Abs,
    Cos,
    Exp,
    Expm1,
    Log,
    Log1p,
    LogBase,
    Rsqrt,
    Sin,
    Sqrt,
    Tan,
    cos,
    exp,
    log,
    rsqrt,
    sin,
)
from ._common import const, formula, saved_tensors, sum_to


# --- arithmetic ----------------------------------------------------------------------------
@formula(Add)
def _add(ctx, grad):
    need = ctx.needs_input_grad
    return (sum_to(grad, ctx.x_shape) if need[0] else None,
            sum_to(grad if ctx.alpha == 1 else grad * ctx.alpha, ctx.y_shape) if need[1]
            else None)


@formula(Sub)
def _sub(ctx, grad):
    need = ctx.needs_input_grad
    return (sum_to(grad, ctx.x_shape) if need[0] else None,
            sum_to(grad * -ctx.alpha, ctx.y_shape) if need[1] else None)


@formula(Mul)
def _mul(ctx, grad):
    x, y = saved_tensors(ctx)
    need = ctx.needs_input_grad
    return (sum_to(grad * y, ctx.x_shape) if need[0] else None,
            sum_to(grad * x, ctx.y_shape) if need[1] else None)


@formula(Div)
def _div(ctx, grad):
    x, y = saved_tensors(ctx)
    need = ctx.needs_input_grad
    return (sum_to(grad / y, ctx.x_shape) if need[0] else None,
            # torch's order, (x / y) / y: y * y would overflow first (float16 past 256)
            sum_to(-grad * (x / y / y), ctx.y_shape) if need[1] else None)


@formula(Neg)
def _neg(ctx, grad):
    return -grad


@formula(Pow)
def _pow(ctx, grad):
    x, y, out = saved_tensors(ctx)
    need = ctx.needs_input_grad
    gx = gy = None
    if need[0]:
        if not isinstance(y, Tensor):  # a number exponent
            gx = grad * 0 if y == 0 else grad * (y * x ** (y - 1))
        else:
            gx = grad * y * x ** (y - 1)
        gx = sum_to(gx, x.shape)
    if need[1]:
        # d/dy x**y = x**y log x, defined as 0 where x == 0 and y >= 0 (torch); log reads 1
        # there, so that no 0 * inf turns the second derivative into nan
        zero = const(_pow_zero(*ctx.saved_tensors[:2]))
        gy = grad * where(zero, 0.0, out * log(where(zero, 1.0, x)))
        gy = sum_to(gy, y.shape)
    return gx, gy


def _pow_zero(x, y):
    """Where d/dy x**y is 0 (torch): x == 0 and y real and >= 0."""
    return (x == 0) & (np.real(y) >= 0) & (np.imag(y) == 0)


@formula(ToDtype)
def _to_dtype(ctx, grad):
    return to_dtype(grad, ctx.x_dtype)


@formula(Clone)
def _clone(ctx, grad):
    return grad


@formula(Fill)
def _fill(ctx, grad):
    need = ctx.needs_input_grad
    return (const(np.zeros(ctx.x_shape, grad._data.dtype)) if need[0] else None,
            sum_to(grad, ctx.value_shape) if need[1] else None)


@formula(_Sign, _Floor, _Ceil, _Round, _Trunc)
def _stepwise(ctx, grad):
    return const(np.zeros_like(grad._data))


# --- unary math ----------------------------------------------------------------------------
@formula(Exp)
def _exp(ctx, grad):
    (out,) = saved_tensors(ctx)
    return grad * out


@formula(Log)
def _log(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad / x


@formula(Log1p)
def _log1p(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad / (1 + x)


@formula(LogBase)
def _log_base(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad / (x * math.log(ctx.base))


@formula(Sqrt)
def _sqrt(ctx, grad):
    (out,) = saved_tensors(ctx)
    return grad / (2 * out)


@formula(Rsqrt)
def _rsqrt(ctx, grad):
    (out,) = saved_tensors(ctx)
    return grad * (-0.5 * out * out * out)


@formula(Sin)
def _sin(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * cos(x)


@formula(Cos)
def _cos(ctx, grad):
    (x,) = saved_tensors(ctx)
    return -grad * sin(x)


@formula(Tan)
def _tan(ctx, grad):
    (out,) = saved_tensors(ctx)
    return grad * (1 + out * out)


@formula(Expm1)
def _expm1(ctx, grad):
    (out,) = saved_tensors(ctx)
    return grad * (out + 1)


@formula(Abs)
def _abs(ctx, grad):
    # torch's grad * sgn(x), recorded: x / |x| depends on a complex x, and a real x gets a
    # (zero) second derivative through it, not none
    from ..math_more import sgn

    return grad * sgn(saved_tensors(ctx)[0])


@formula(Erf)
def _erf(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * (2 / math.sqrt(math.pi) * exp(-x * x))


@formula(Sinh)
def _sinh(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * cosh(x)


@formula(Cosh)
def _cosh(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * sinh(x)


@formula(Atan)
def _atan(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad / (x * x + 1)


@formula(Asin, Acos)
def _asin_acos(ctx, grad):
    (x,) = saved_tensors(ctx)
    g = grad * rsqrt(1 - x * x)
    return -g if issubclass(ctx._fn, Acos) else g  # complex x: a subclass of Acos


@formula(Asinh)
def _asinh(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * rsqrt(x * x + 1)


@formula(Acosh)
def _acosh(ctx, grad):
    (x,) = saved_tensors(ctx)
    if x._data.dtype.kind == "c":  # sqrt(x*x - 1) is another branch off the real line
        return grad * rsqrt(x + 1) * rsqrt(x - 1)
    return grad * rsqrt(x * x - 1)


@formula(Atanh)
def _atanh(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad / (1 - x * x)


# --- activations ---------------------------------------------------------------------------
@formula(Tanh)
def _tanh(ctx, grad):
    (out,) = saved_tensors(ctx)
    return grad * (1 - out * out)


@formula(Sigmoid)
def _sigmoid(ctx, grad):
    (out,) = saved_tensors(ctx)
    return grad * out * (1 - out)


@formula(Relu)
def _relu(ctx, grad):
    from ..math_more import sgn

    # torch's threshold_backward(grad, out): the mask out > 0, with a zero derivative for
    # out (so x gets a zero second derivative, not none)
    (out,) = saved_tensors(ctx)
    mask = const(~(out._data <= 0))  # NaN passes the gradient, as torch's
    return where(mask, grad * sgn(where(mask, out, 1.0)), 0.0)


@formula(NanToNum)
def _nan_to_num(ctx, grad):
    (x,) = ctx.saved_tensors
    return grad * const(np.isfinite(x), grad._data.dtype)


@formula(Gelu)
def _gelu(ctx, grad):
    x = saved_tensors(ctx)[1]
    if ctx.approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)
        t = tanh(k * (x + 0.044715 * x * x * x))
        d = 0.5 * (1 + t) + 0.5 * k * x * (1 - t * t) * (1 + 3 * 0.044715 * x * x)
    else:  # Phi(x) + x phi(x)
        d = 0.5 * (1 + erf(x * (1 / math.sqrt(2.0)))) + x * exp(-0.5 * x * x) * (
            1 / math.sqrt(2 * math.pi))
    return grad * d


@formula(Silu)
def _silu(ctx, grad):
    x = saved_tensors(ctx)[0]
    s = sigmoid(x)
    return grad * (s * (1 + x * (1 - s)))


@formula(Softplus)
def _softplus(ctx, grad):
    (x,) = saved_tensors(ctx)
    bx = x * ctx.beta
    return where(bx > ctx.threshold, grad, grad * sigmoid(bx))


# --- blends ------------------------------------------------------------------------------
@formula(Lerp)
def _lerp(ctx, grad):
    x, y, w = saved_tensors(ctx)
    need = ctx.needs_input_grad
    sx, sy, sw = ctx.shapes
    return (sum_to(grad * (1 - w), sx) if need[0] else None,
            sum_to(grad * w, sy) if need[1] else None,
            sum_to(grad * (y - x), sw) if len(need) > 2 and need[2] else None)


@formula(Addcmul)
def _addcmul(ctx, grad):
    t1, t2 = saved_tensors(ctx)
    need, v = ctx.needs_input_grad, ctx.value
    sx, s1, s2 = ctx.shapes
    gx = sum_to(grad, sx) if need[0] else None
    if ctx.divide:
        g1 = sum_to(grad * v / t2, s1) if need[1] else None
        g2 = sum_to(-grad * v * t1 / (t2 * t2), s2) if need[2] else None
    else:
        g1 = sum_to(grad * v * t2, s1) if need[1] else None
        g2 = sum_to(grad * v * t1, s2) if need[2] else None
    return gx, g1, g2


# --- clamp, max/min, where -----------------------------------------------------------------
@formula(Hardshrink)
def _hardshrink(ctx, grad):
    (keep,) = ctx.saved_tensors
    return grad * const(keep, grad._data.dtype)


@formula(Clamp)
def _clamp(ctx, grad):
    x, lo, hi = ctx.saved_tensors  # which bound was hit: constants
    need = ctx.needs_input_grad
    mask = np.ones(x.shape, dtype=bool)
    if lo is not None:
        mask &= x >= lo
    if hi is not None:
        mask &= x <= hi
    gx = grad * const(mask, grad._data.dtype) if need[0] else None
    glo = ghi = None
    crossed = hi is not None and lo is not None and hi < lo
    if isinstance(lo, np.ndarray) and need[1]:
        glo = sum_to(grad * const((x < lo) & ~crossed, grad._data.dtype), lo.shape)
    if isinstance(hi, np.ndarray) and need[2]:
        ghi = sum_to(grad * const((x > hi) | crossed, grad._data.dtype), hi.shape)
    return gx, glo, ghi


@formula(Maximum)
def _maximum(ctx, grad):
    x, y = ctx.saved_tensors
    w = ((x > y) if ctx.largest else (x < y)) + 0.5 * (x == y)  # the share x gets
    need = ctx.needs_input_grad
    return (sum_to(grad * const(w, grad._data.dtype), x.shape) if need[0] else None,
            sum_to(grad * const(1 - w, grad._data.dtype), y.shape) if need[1] else None)


@formula(Fmax)
def _fmax(ctx, grad):
    x, y = ctx.saved_tensors
    with np.errstate(invalid="ignore"):
        w = ((x >= y) if ctx.largest else (x <= y)) | np.isnan(y)  # where x is chosen
    need = ctx.needs_input_grad
    return (sum_to(grad * const(w, grad._data.dtype), x.shape) if need[0] else None,
            sum_to(grad * const(~w, grad._data.dtype), y.shape) if need[1] else None)


@formula(Where)
def _where(ctx, grad):
    (cond,) = ctx.saved_tensors
    cond = const(cond)
    need = ctx.needs_input_grad
    return (None,
            sum_to(where(cond, grad, 0.0), ctx.x_shape) if need[1] else None,
            sum_to(where(cond, 0.0, grad), ctx.y_shape) if need[2] else None)
