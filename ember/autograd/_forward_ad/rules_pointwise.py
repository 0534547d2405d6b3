"""Tangent rules of the pointwise ops: unary math and activations (``tx * f'(x)``), the
arithmetic, and the ops that pick between their inputs (max, where, clamp).

Binary rules add one term per input that has a tangent; a term's shape is the broadcast of
its tangent and the other operand, and ``_apply`` expands a tangent that came out smaller
than the output (``x + y`` with only the smaller ``y`` dual).
"""
from __future__ import annotations

import math

import numpy as np

from ... import _tensor as _t
from ...ops import activation as A
from ...ops import blend, elementwise, pointwise_math, pointwise_special, unary
from ...ops import math_more as M
from ...ops import pointwise_trig as T
from ...ops.clamp import Clamp, Maximum, Where, where
from ._rules import add, is_complex, linear, re_dot, rule, zero, zeros_like
from ._rules import elementwise as unary_table

_SQRT_PI = math.sqrt(math.pi)


def _t_or_none(v):
    """A raw array operand as a constant Tensor; Tensors and numbers as they are."""
    return _t._wrap(v) if isinstance(v, np.ndarray) else v


def _where(cond, a, b):
    return where(cond, a, b)


def _sigmoid(x):
    return A.sigmoid(x)


def _gelu(x, out, approximate="none"):
    if approximate != "none":
        return NotImplemented
    cdf = 0.5 * (1 + (x * (1 / math.sqrt(2))).erf())
    return cdf + x * (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))


unary_table({
    unary.Exp: lambda x, out: out,
    unary.Log: lambda x, out: x.reciprocal(),
    unary.Log1p: lambda x, out: (x + 1).reciprocal(),
    unary.Sqrt: lambda x, out: (out * 2).reciprocal(),
    unary.Rsqrt: lambda x, out: out * out * out * -0.5,
    unary.Sin: lambda x, out: x.cos(),
    unary.Cos: lambda x, out: -x.sin(),
    unary.Tan: lambda x, out: out * out + 1,
    unary.Expm1: lambda x, out: out + 1,
    unary.LogBase: lambda x, out, base: (x * math.log(base)).reciprocal(),
    A.Tanh: lambda x, out: 1 - out * out,
    A.Sigmoid: lambda x, out: out * (1 - out),
    A.Relu: lambda x, out: (out > 0).to(out.dtype),
    A.Silu: lambda x, out: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))),
    A.Softplus: lambda x, out, beta=1.0, threshold=20.0: _where(
        x * beta > threshold, 1.0, _sigmoid(x * beta)).to(out.dtype),
    T.Asin: lambda x, out: (1 - x * x).rsqrt(),
    T.Acos: lambda x, out: -(1 - x * x).rsqrt(),
    T.Atan: lambda x, out: (x * x + 1).reciprocal(),
    T.Sinh: lambda x, out: x.cosh(),
    T.Cosh: lambda x, out: x.sinh(),
    T.Asinh: lambda x, out: (x * x + 1).rsqrt(),
    T.Acosh: lambda x, out: _acosh_slope(x),
    T.Atanh: lambda x, out: (1 - x * x).reciprocal(),
    pointwise_special.Erf: lambda x, out: (-x * x).exp() * (2 / _SQRT_PI),
    pointwise_special.Erfc: lambda x, out: (-x * x).exp() * (-2 / _SQRT_PI),
    pointwise_special.Erfinv: lambda x, out: (out * out).exp() * (_SQRT_PI / 2),
    pointwise_special.Lgamma: lambda x, out: x.digamma(),
    pointwise_special.Digamma: lambda x, out: _polygamma(1, x),
    pointwise_math.Exp2: lambda x, out: out * math.log(2),
    pointwise_math.Deg2Rad: lambda x, out: math.pi / 180,
    pointwise_math.Rad2Deg: lambda x, out: 180 / math.pi,
    pointwise_math.Frac: lambda x, out: 1,
})


def _acosh_slope(x):
    # for complex x, 1 / sqrt(x*x - 1) is on the wrong side of a branch cut
    if is_complex(x):
        return (x + 1).rsqrt() * (x - 1).rsqrt()
    return (x * x - 1).rsqrt()


def _polygamma(n, x):
    from ... import ops

    return ops.polygamma(n, x)


@rule(A.Gelu)
def _gelu_rule(xs, ts, out, approximate="none"):
    d = _gelu(xs[0], out, approximate)
    return NotImplemented if d is NotImplemented else ts[0] * d


@rule(elementwise.Neg)
def _neg(xs, ts, out):
    return -ts[0]


rule(elementwise._Sign, elementwise._Floor, elementwise._Ceil, elementwise._Round,
     elementwise._Trunc, M.Angle)(zero)
linear(elementwise.Clone)


def abs_tangent(x, t):
    """The tangent of ``|x|``: ``t sgn(x)``, and ``Re(conj(sgn(x)) t)`` for complex ``x``."""
    if is_complex(x):
        return re_dot(x.sgn(), t)
    return t * x.sgn()


@rule(unary.Abs)
def _abs(xs, ts, out):
    return abs_tangent(xs[0], ts[0])


@rule(M.Sgn)
def _sgn(xs, ts, out):
    """Zero for real ``x``; for complex ``x``, ``x / |x|`` moves only across the direction:
    ``(t - sgn^2 conj(t)) / (2 |x|)``, 0 where ``x`` is 0 (torch's sgn_backward)."""
    x, t = xs[0], ts[0]
    if not is_complex(x):
        return zeros_like(out)
    size = x.abs()
    return _where(size == 0, 0.0, (t - out * out * t.conj()) / (size * 2)).to(out.dtype)


@rule(elementwise.ToDtype)
def _to_dtype(xs, ts, out, dtype):
    kind = out._data.dtype.kind
    if kind == "f" and not is_complex(ts[0]):
        return ts[0].to(dtype)
    if kind not in "fc":
        return None
    # complex to real keeps the real part (torch's cast, without its warning)
    return elementwise.ToDtype.apply(ts[0], dtype=dtype)


@rule(elementwise.NanToNum)
def _nan_to_num(xs, ts, out, **options):
    return _where(xs[0].isfinite(), ts[0], 0.0).to(ts[0].dtype)


@rule(elementwise.Fill)
def _fill(xs, ts, out, node_name=None):
    # z takes the value everywhere: its tangent is the value's, or zero
    return ts[1] if ts[1] is not None else zeros_like(out)


# --- arithmetic ----------------------------------------------------------------------------
@rule(elementwise.Add)
def _add(xs, ts, out, alpha=1):
    tx, ty = ts
    return add(tx, ty if ty is None or alpha == 1 else ty * alpha)


@rule(elementwise.Sub)
def _sub(xs, ts, out, alpha=1, node_name=None):
    tx, ty = ts
    return add(tx, None if ty is None else (-ty if alpha == 1 else ty * -alpha))


@rule(elementwise.Mul)
def _mul(xs, ts, out):
    (x, y), (tx, ty) = xs, ts
    return add(None if tx is None else tx * _t_or_none(y), None if ty is None else ty * x)


@rule(elementwise.Div)
def _div(xs, ts, out):
    y, (tx, ty) = _t_or_none(xs[1]), ts
    return add(None if tx is None else tx / y, None if ty is None else -(ty * out) / y)


@rule(elementwise.Pow)
def _pow(xs, ts, out, node_name=None):
    (x, y), (tx, ty) = xs, ts
    x, y = _t_or_none(x), _t_or_none(y)
    gx = gy = None
    if tx is not None:
        if isinstance(y, _t.Tensor):
            gx = tx * y * x.pow(y - 1)
        else:
            gx = tx * 0 if y == 0 else tx * (x.pow(y - 1) * y)
    if ty is not None:
        # d/dy x**y = x**y log x; 0 where x == 0 and y >= 0 (Re(y) >= 0), as torch
        y_re = y.real if is_complex(y) else y
        gy = ty * _where((x == 0) & (y_re >= 0), 0.0, out * x.log()).to(out.dtype)
    return add(gx, gy)


@rule(pointwise_math.Atan2)
def _atan2(xs, ts, out):
    (x, y), (tx, ty) = xs, ts
    r = (x * x + y * y).reciprocal()
    return add(None if tx is None else tx * y * r, None if ty is None else -ty * x * r)


@rule(pointwise_math.Hypot)
def _hypot(xs, ts, out):
    (x, y), (tx, ty) = xs, ts
    return add(None if tx is None else tx * x / out, None if ty is None else ty * y / out)


@rule(pointwise_math.Logaddexp)
def _logaddexp(xs, ts, out):
    (x, y), (tx, ty) = xs, ts
    return add(None if tx is None else tx * (x - out).exp(),
               None if ty is None else ty * (y - out).exp())


@rule(blend.Lerp)
def _lerp(xs, ts, out):
    (x, y, w), (tx, ty, tw) = xs, ts
    w = _t_or_none(w)
    return add(None if tx is None else tx * (1 - w), None if ty is None else ty * w,
               None if tw is None else tw * (y - x))


@rule(blend.Addcmul)
def _addcmul(xs, ts, out, value=1, divide=False):
    (_, a, b), (tx, ta, tb) = xs, ts
    if divide:
        part = add(None if ta is None else ta / b, None if tb is None else -tb * a / (b * b))
    else:
        part = add(None if ta is None else ta * b, None if tb is None else tb * a)
    if part is not None and value != 1:
        part = part * value
    return add(tx, part)


# --- picking between inputs ----------------------------------------------------------------
@rule(Maximum)
def _maximum(xs, ts, out, largest=True):
    (x, y), (tx, ty) = xs, ts
    tx = tx if tx is not None else zeros_like(x)
    ty = ty if ty is not None else zeros_like(y)
    first = x > y if largest else x < y
    return _where(x == y, (tx + ty) * 0.5, _where(first, tx, ty))


@rule(Where)
def _where_rule(xs, ts, out):
    (cond, x, y), (_, tx, ty) = xs, ts
    cond = _t_or_none(cond)
    tx = tx if tx is not None else zeros_like(x)
    ty = ty if ty is not None else zeros_like(y)
    return _where(cond, tx, ty)


@rule(Clamp)
def _clamp(xs, ts, out, node_name=None):
    (x, lo, hi), (tx, tlo, thi) = xs, ts
    lo, hi = _t_or_none(lo), _t_or_none(hi)
    inside = None
    if lo is not None:
        inside = x >= lo
    if hi is not None:
        inside = x <= hi if inside is None else inside & (x <= hi)
    result = _where(inside, tx, 0.0) if tx is not None else zeros_like(out)
    crossed = (hi < lo) if lo is not None and hi is not None else None
    if tlo is not None:  # below the lower bound: lo's tangent (unless the bounds cross)
        below = x < lo if crossed is None else (x < lo) & ~crossed
        result = _where(below, tlo, result)
    if thi is not None:  # above the upper bound, or crossed bounds: hi's tangent
        above = x > hi if crossed is None else (x > hi) | crossed
        result = _where(above, thi, result)
    return result
