"""Formulas for the reductions: sum, mean, var/std, max/min, softmax family, vector norm;
prod, the scans (cumsum, cumprod, logcumsumexp) and sort/topk values.

Sum and mean spread the gradient back over the reduced dims; max and min send it to the
chosen elements (a constant mask); softmax and log-softmax reuse their saved output, which
leads back through their own node, as in torch.
"""
from __future__ import annotations

import numpy as np

from ..clamp import where
from ..cumulative import Cumprod, Cumsum
from ..indexing import ScatterAdd
from ..math_more import sgn
from ..reduce import (
    Amax,
    LogSoftmax,
    Logsumexp,
    MaxAll,
    MaxDim,
    Mean,
    Prod,
    Softmax,
    Sum,
    Var,
    logsumexp,
)
from ..shape import flip
from ..sort import Kthvalue, SortValues
from ..statistics import Logcumsumexp
from ..unary import abs as abs_
from ..unary import exp
from ..vector_norm import VectorNorm
from ._common import const, expand_back, formula, kept_shape, saved_tensors, stand_in


def _one_left_out(x):
    """``(..., n, n)``: row k is ``x`` (last dim) with ``x[k]`` replaced by 1. Its products
    are the products of all the others, exact with zeros in ``x`` (no division)."""
    n = x.shape[-1]
    return where(const(np.eye(n, dtype=bool)), 1.0, x.unsqueeze(-2).expand(*x.shape[:-1], n, n))


@formula(Sum)
def _sum(ctx, grad):
    return expand_back(grad, ctx.x_shape, ctx.axes, ctx.keepdim)


@formula(Mean)
def _mean(ctx, grad):
    g = expand_back(grad, ctx.x_shape, ctx.axes, ctx.keepdim)
    return g * (1.0 / ctx.n) if ctx.n else g


@formula(Cumsum)
def _cumsum(ctx, grad):
    if grad.ndim == 0:
        return grad
    # x[k] feeds every out[j], j >= k: the gradient is a running sum from the end
    return flip(flip(grad, [ctx.axis]).cumsum(ctx.axis), [ctx.axis])


@formula(Prod)
def _prod(ctx, grad):
    x = saved_tensors(ctx)[0]  # (x, result)
    shape = x.shape
    if ctx.axes is None:
        axis, x, g = 0, x.reshape(-1), grad.reshape(1)
    else:
        (axis,) = ctx.axes
        g = grad if ctx.keepdim else grad.unsqueeze(axis)
    if not (x._data == 0).any():  # d prod / d x[k] = prod / x[k]
        return (g * x.prod(axis, keepdim=True) / x).reshape(shape)
    others = _one_left_out(x.movedim(axis, -1)).prod(-1).movedim(-1, axis)
    return (g * others).reshape(shape)


@formula(Cumprod)
def _cumprod(ctx, grad):
    x, out = saved_tensors(ctx)
    if x.ndim == 0:
        return grad
    axis = ctx.axis
    if not (x._data == 0).any():  # x[k] feeds out[j >= k]: d out[j] / d x[k] = out[j] / x[k]
        return flip(flip(grad * out, [axis]).cumsum(axis), [axis]) / x
    # with zeros: row k of c holds the running products with x[k] left out, and
    # d out[j] / d x[k] = c[k, j] for j >= k (0 before k)
    xl, gl = x.movedim(axis, -1), grad.movedim(axis, -1)
    c = _one_left_out(xl).cumprod(-1)
    later = const(np.triu(np.ones((x.shape[axis],) * 2, bool)))
    return (where(later, c, 0.0) * gl.unsqueeze(-2)).sum(-1).movedim(-1, axis)


@formula(Logcumsumexp)
def _logcumsumexp(ctx, grad):
    x, out = saved_tensors(ctx)
    if x.ndim == 0:
        return grad
    # gx[k] = sum over j >= k of grad[j] exp(x[k] - out[j]): the exponent is <= 0 there
    axis = ctx.axis
    xl, ol, gl = (t.movedim(axis, -1) for t in (x, out, grad))
    later = const(np.triu(np.ones((x.shape[axis],) * 2, bool)))
    w = exp(where(later, xl.unsqueeze(-1) - ol.unsqueeze(-2), -np.inf))
    return (w * gl.unsqueeze(-2)).sum(-1).movedim(-1, axis)


@formula(SortValues)
def _sort(ctx, grad, grad_indices=None):
    if not ctx.x_shape:
        return grad
    (idx,) = ctx.saved_tensors  # each value back to its place
    return ScatterAdd.apply(const(np.zeros(ctx.x_shape, grad._data.dtype)), idx, grad,
                            dim=ctx.axis)


@formula(Kthvalue)
def _kthvalue(ctx, grad, grad_indices=None):
    (idx,) = ctx.saved_tensors  # the value back to its slot
    g = grad if ctx.keepdim else grad.unsqueeze(ctx.axis)
    return ScatterAdd.apply(const(np.zeros(ctx.x_shape, grad._data.dtype)), idx, g,
                            dim=ctx.axis)


@formula(Var)
def _var(ctx, grad):
    centred = ctx.saved_tensors[1]  # (x, x - mean[, std])
    x = stand_in(ctx, 0, centred)  # var ignores a shift of x: x - mean stands in for x
    dims = list(ctx.axes) if ctx.axes is not None else list(range(x.ndim))
    c = x - x.mean(dim=dims, keepdim=True)
    g = kept_shape(grad, ctx.x_shape, ctx.axes, ctx.keepdim)
    if ctx.std:  # d std = d var / (2 std); 0 where std is 0, as torch (on std's own output)
        s = kept_shape(saved_tensors(ctx)[2], ctx.x_shape, ctx.axes, ctx.keepdim)
        zero = const(s._data == 0)
        g = where(zero, 0.0, g / (2 * where(zero, 1.0, s)))
    if ctx.dof <= 0 and ctx.full:  # torch: infinite, NaN where x is at its mean
        return g * const(np.where(centred == 0, np.nan, np.inf), grad._data.dtype)
    with np.errstate(divide="ignore"):
        factor = np.float64(2.0) / ctx.dof  # inf for a zero dof, as torch's 2 / 0
    return g * c * factor


@formula(MaxAll)
def _max_all(ctx, grad):
    x, out = ctx.saved_tensors
    mask = x == out  # ties share the gradient
    return grad * const(mask / mask.sum(), grad._data.dtype)


@formula(MaxDim)
def _max_dim(ctx, grad, grad_indices=None):
    if ctx.x_shape == ():
        return grad
    (idx,) = ctx.saved_tensors
    chosen = np.zeros(ctx.x_shape, grad._data.dtype)
    np.put_along_axis(chosen, idx, 1, ctx.axis)
    g = grad if ctx.keepdim else grad.unsqueeze(ctx.axis)
    return g * const(chosen)


@formula(Amax)
def _amax(ctx, grad):
    x, out = ctx.saved_tensors
    out = out.reshape(ctx.kept_shape)  # the result, its reduced dims kept
    mask = x == out
    share = mask / mask.sum(axis=ctx.axes, keepdims=True)
    g = grad if ctx.keepdim else grad.reshape(out.shape)
    return g * const(share, grad._data.dtype)


@formula(Softmax)
def _softmax(ctx, grad):
    (out,) = saved_tensors(ctx)
    gy = grad * out
    return gy - out * gy.sum(dim=ctx.axis, keepdim=True)


@formula(LogSoftmax)
def _log_softmax(ctx, grad):
    (out,) = saved_tensors(ctx)
    return grad - exp(out) * grad.sum(dim=ctx.axis, keepdim=True)


@formula(Logsumexp)
def _logsumexp(ctx, grad):
    x = saved_tensors(ctx)[0]
    dims = ctx.axes if ctx.axes is not None else tuple(range(x.ndim))
    g = grad if ctx.keepdim else grad.reshape(ctx.kept_shape)
    return g * exp(x - logsumexp(x, dims, keepdim=True))  # softmax over the reduced dims


@formula(VectorNorm)
def _vector_norm(ctx, grad):
    x_arr, out = ctx.saved_tensors
    out = out.reshape(ctx.kept_shape)  # the result, its reduced dims kept
    (x, _) = saved_tensors(ctx)
    g = grad.reshape(out.shape)
    p, dt = ctx.p, grad._data.dtype
    # complex x: its phase sgn(x) = x / |x| depends on x, so it is recorded, not a constant
    sign = sgn(x) if x_arr.dtype.kind == "c" else const(np.sign(x_arr), dt)
    if p == 1:
        return g * sign
    if p == 0:
        return None
    if abs(p) == float("inf"):  # the largest (smallest) |x| share the gradient
        hit = np.abs(x_arr) == out
        return g * const(hit / hit.sum(axis=ctx.axes, keepdims=True), dt) * sign
    # d/dx = x |x|^(p-2) / norm^(p-1); 0 where the norm is 0, as torch (the masked places
    # divide by 1 instead, so that the second derivative is 0 there too, not nan)
    n = VectorNorm.apply(x, p=p, dim=ctx.axes, keepdim=True)
    zero = const(out == 0)
    scale = where(zero, 0.0, g / where(zero, 1.0, n) ** (p - 1))
    if p == 2:
        return scale * x
    x_zero = const(x_arr == 0)
    return where(x_zero, 0.0, scale * x * abs_(where(x_zero, 1.0, x)) ** (p - 2))
