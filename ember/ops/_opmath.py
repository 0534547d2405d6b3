"""float16 arithmetic as torch's CPU kernels do it ("opmath").

torch computes a float16 pointwise op in float32 and rounds the result to float16 once
(``opmath``); a NumPy formula evaluated in float16 rounds after every step instead. Where a
torch formula is a chain of ops (most gradient formulas), each op rounds once: the helpers
below reproduce those steps. Every caller reaches them behind one ``dtype is HALF`` test,
so float32 pays nothing.

torch's CPU ``mul`` and ``div`` of a float16 tensor by a lone value (a number, or a
one-element tensor that keeps the result float16) read that value's original number in
float32 and round each result once: ``x / 70000`` is ``x / 70000.0f``, never ``x / inf``
(70000 as float16), and ``x * 0.1`` is ``x * 0.1f`` (``half_scalar``, ``times``).
Addition has no such path: ``add``'s alpha is rounded to float16 first (``plus_scaled``).
"""
from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor

HALF = np.dtype(np.float16)


def half_scalar(other, x_ndim=1):
    """``other`` as the float32 array torch's float16 ``mul`` / ``div`` reads, or None when
    the ordinary path (``other`` cast to float16 first) computes the same or does not apply.
    ``x_ndim``: the float16 operand's dims; a 0-d one and a 0-d float tensor promote."""
    if isinstance(other, Tensor):
        a = other._data
        if other._rg or a.size != 1 or a.dtype == np.float16 or a.dtype.kind not in "iuf":
            return None
        if a.dtype.kind == "f" and (a.ndim or not x_ndim):  # the result is float32 or wider
            return None
        with np.errstate(over="ignore"):
            return a.astype(np.float32)
    if type(other) is float or (type(other) is int and -2 ** 63 <= other < 2 ** 63):
        with np.errstate(over="ignore"):
            return np.asarray(other, np.float32)
    return None


def opmath(fn, *args):
    """``fn(*args)`` with every float16 array among ``args`` widened to float32 and the
    result (or each result of a tuple) rounded to float16 once.

    torch's CPU kernels compute a float16 pointwise op in float32 ("opmath") and round once;
    a NumPy formula run in float16 would round after every step. Callers reach this only
    behind an ``x.dtype is HALF`` test, so float32 pays nothing.
    """
    out = fn(*[a.astype(np.float32) if type(a) is np.ndarray and a.dtype is HALF else a
               for a in args])
    if type(out) is tuple:
        return tuple(None if o is None else np.asarray(o).astype(HALF) for o in out)
    return np.asarray(out).astype(HALF)


def _times(x, c):
    return x * c


def half_mul(x, c):
    """float16 ``x`` times the number ``c`` read as float32, rounded once: torch's ``mul``
    by a Python scalar, the step its float16 gradient formulas (``grad * value``) take."""
    return opmath(_times, x, c)


def fma32(a, b, c):
    """float32 fused multiply-add ``a * b + c`` (torch's vectorised kernels use them): in
    float64, where the product of two float32 numbers is exact, then rounded to float32."""
    return (np.asarray(a, np.float64) * b + c).astype(np.float32)


def times(x, c):
    """``x * c`` for a number ``c``; a float16 ``x`` reads ``c`` in float32 and rounds once
    (torch's mul by a Python scalar), where NumPy would round ``c`` to float16 first."""
    return opmath(_times, x, c) if x.dtype is HALF else x * c


def _f64(fn, x):
    # NumPy's float32 sin, exp, atan2, ... can be an ulp off torch's: rounded from float64
    return fn(x.astype(np.float64)).astype(np.float32)


# --- formulas whose float16 steps are torch's (the ops call them; float32 passes through) --
def _plus_scaled(x, y, alpha):
    return x + np.float32(alpha) * y


def plus_scaled(x, y, alpha, scale):
    """``x + alpha * y`` (``sub``: alpha negated), ``scale(y, alpha, dtype)`` the product;
    two float16 arrays as torch's add: alpha rounded to float16, the rest in float32."""
    if type(x) is np.ndarray and x.dtype is HALF and type(y) is np.ndarray and y.dtype is HALF:
        return opmath(_plus_scaled, x, y, HALF.type(alpha))
    return np.add(x, scale(y, alpha, x.dtype))


def pow_grad_half(ctx, grad, x, y, out):
    """torch's float16 pow gradients, op by op, where they differ from ember's generic ones:
    reciprocal's ``-grad * (out * out)``, tensor ** tensor's ``grad * (y * x.pow(y - 1))``,
    and number ** tensor's ``grad * (out * log(number))`` (the log read as float32; the
    number itself, set as ``ctx.base`` by ``pow``). None elsewhere."""
    from ._shape_utils import sum_to_shape

    if type(ctx).__name__ == "ReciprocalBackward0":
        return -grad * (out * out), None
    base = getattr(ctx, "base", None)
    if base is not None and base > 0:
        return None, sum_to_shape(grad * half_mul(out, math.log(base)), y.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if isinstance(y, np.ndarray) and y.dtype is HALF and isinstance(x, np.ndarray):
            gx = gy = None
            if ctx.needs_input_grad[0]:
                gx = np.where(y == 0, HALF.type(0), grad * (y * np.power(x, y - HALF.type(1))))
                gx = sum_to_shape(gx, x.shape)
            if ctx.needs_input_grad[1]:  # 0 where x is 0 and y >= 0, as torch
                gy = grad * np.where((x == 0) & (y >= 0), HALF.type(0), out * np.log(x))
                gy = sum_to_shape(gy, y.shape)
            return gx, gy
    return None


def remember_base(out, base):
    """``out`` (``base ** tensor``); a float16 one keeps the number for its gradient."""
    if out._data.dtype is HALF and out.grad_fn is not None:
        out.grad_fn.base = base
    return out


def div_rounded(x, y, other, mode):
    """Float ``x / y`` rounded by ``mode`` ('floor' | 'trunc'); a float16 ``x`` over a lone
    number as torch's kernel: in float32, the number read as float32 (floor: Python's floor
    division, the fmod-based one torch uses)."""
    wide = half_scalar(other, x.ndim) if type(x) is np.ndarray and x.dtype is HALF else None
    if wide is not None:
        x = x.astype(np.float32)
        return (np.floor_divide(x, wide) if mode == "floor" else np.trunc(x / wide)).astype(HALF)
    if mode == "floor":  # NumPy's floor division is torch's fmod-based one (inf // 1 is nan)
        return np.floor_divide(x, y)
    return np.trunc(np.true_divide(x, y))


def tensor_power(pow_op, x, y):
    """``x ** y`` (``pow_op``: the Pow op) for a tensor ``y``: C's pow, as torch, also where
    NumPy takes its square root for a one-element 0.5 (``(-inf) ** 0.5`` is inf, ``(-0.) **
    0.5`` is 0)."""
    out = pow_op.apply(x, y, node_name="PowBackward1")
    if y._data.size == 1 and out._data.dtype.kind == "f" and y._data.reshape(-1)[0] == 0.5:
        if out._data.ndim:
            fix = (x._data == -np.inf) | (x._data == 0)
            out._data[np.broadcast_to(fix, out._data.shape)] = 0.0
            out._data[np.broadcast_to(x._data == -np.inf, out._data.shape)] = np.inf
        elif x._data == -np.inf or x._data == 0:
            out._data = np.asarray(np.inf if x._data == -np.inf else 0.0, out._data.dtype)
    return out


def round_decimals(input, decimals, round_op, mul, div):
    """torch's ``round(decimals=d)``: ``x * 10**d`` rounded, then ``/ 10**d`` (d < 0: ``x /
    10**-d``, then ``*``); float16 in float32. ``round_op``, ``mul``, ``div``: ember's ops."""
    if input._data.dtype.kind != "f":  # decimals=0 (given) runs another kernel
        from ._shape_utils import type_name

        kernel = "round_cpu" if decimals else "round_vml_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{type_name(input._data.dtype)}'")
    s, x = 10.0 ** abs(decimals), input.float() if input._data.dtype is HALF else input
    r = div(round_op.apply(mul(x, s)), s) if decimals > 0 else mul(round_op.apply(div(x, s)), s)
    return r.half() if input._data.dtype is HALF else r


def _sinc32(x):
    px = np.pi * x
    return np.where(x == 0, 1, _f64(np.sin, px) / px)


def sinc(x):
    """sin(pi x) / (pi x), 1 at 0; float16 in float32, rounded once (torch's kernel)."""
    if x.dtype is HALF:
        return opmath(_sinc32, x)
    px = np.pi * x
    return np.where(x == 0, 1, np.sin(px) / px).astype(x.dtype, copy=False)


def sinc_grad(grad, x):
    """``grad`` times sinc's derivative; float16 as torch's sinc_backward, op by op:
    ``grad * ((x pi cos(x pi) - sin(x pi)) / (x x pi))``, pi read as float32."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if grad.dtype is HALF:
            px, ppx = half_mul(x, math.pi), half_mul(x * x, math.pi)
            cos, sin = (_f64(f, px).astype(HALF) for f in (np.cos, np.sin))
            return np.where(ppx == 0, HALF.type(0), grad * ((px * cos - sin) / ppx))
        px = np.pi * x
        d = (px * np.cos(px) - np.sin(px)) / (px * x)
    return grad * np.where(x == 0, 0, d).astype(x.dtype, copy=False)


def atan2(x, y):
    """``arctan2(x, y)``; two float16 arrays in float32, rounded once (torch's kernel)."""
    if x.dtype is HALF and y.dtype is HALF:
        return opmath(lambda a, b: np.arctan2(a.astype(np.float64), b).astype(np.float32), x, y)
    return np.arctan2(x, y)


def var_grad_half(g, s, x, mean, dof, full):
    """torch's float16 var_backward, op by op: ``(2 / dof) * g * (x - mean)``, the number
    read as float32, ``mean`` float16; std's (``s``: the std) first divides g by 2 s."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if s is not None:
            g = np.where(s == 0, HALF.type(0), g / (s * HALF.type(2)))
        if dof <= 0 and full:
            return g * np.where(x == mean, HALF.type(np.nan), HALF.type(np.inf))
        return half_mul(g, 2.0 / dof if dof else np.inf) * (x - mean)


def log_softmax_shifted(shifted, axis, half):
    """log_softmax from ``x - max``; float16 (``half``, ``shifted`` in float32) over the last
    dim as torch's kernel there: the sum of exps and its log each rounded to float16."""
    if half and axis == shifted.ndim - 1:
        total = np.exp(shifted).sum(axis=axis, keepdims=True).astype(HALF)
        return shifted - np.log(total.astype(np.float32)).astype(HALF)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
