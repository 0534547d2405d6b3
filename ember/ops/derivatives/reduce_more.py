"""Formulas for the remaining reductions and order statistics: nansum, aminmax, cummax/cummin,
median, mode, quantile, scatter_reduce; and the pairwise ops dist, cdist and cross.

The selecting ones (median, mode, cummax, aminmax) send the gradient to the chosen
elements: a constant mask or index, so their gradient is linear in ``grad``, as in torch.
"""
from __future__ import annotations

import math

import numpy as np

from ..clamp import where
from ..indexing import GetItem, IndexPut, ScatterAdd
from ..statistics import Aminmax, Cummax, Nansum, ScatterReduce
from ..statistics_order import MedianAll, MedianDim, Mode, Quantile
from ..statistics_pairs import Cdist, Cross, Dist
from ..unary import abs as abs_
from ._common import const, expand_back, formula, kept_shape, saved_tensors, sum_to
from ._rest import delayed, zero_on_edge


def _zeros(shape, like):
    return const(np.zeros(shape, like._data.dtype))


def _corner_into(values, shape, corner_shape, like):
    """``values`` (``corner_shape``) in the leading corner of zeros of ``shape``."""
    values = values.reshape(corner_shape)
    if tuple(corner_shape) == tuple(shape):
        return values
    corner = tuple(slice(0, s) for s in corner_shape)
    return IndexPut.apply(_zeros(shape, like), values, index=corner)


# --- NaN-aware sums, min and max -----------------------------------------------------------
@formula(Nansum)
def _nansum(ctx, grad):
    (x,) = ctx.saved_tensors
    g = expand_back(grad, x.shape, ctx.axes, ctx.keepdim)
    return g * const(~np.isnan(x), grad._data.dtype)  # torch multiplies: a nan grad stays nan


@formula(Aminmax)
def _aminmax(ctx, grad_min, grad_max):
    x, lo, hi = ctx.saved_tensors
    out = None
    for grad, value in ((grad_min, lo), (grad_max, hi)):
        # ties share the gradient equally: a constant share per element
        v = value if ctx.keepdim or ctx.axes is None else np.expand_dims(value, ctx.axes)
        mask = x == v
        share = mask / mask.sum(axis=ctx.axes, keepdims=True)
        g = kept_shape(grad, x.shape, ctx.axes, ctx.keepdim) * const(share, grad._data.dtype)
        out = g if out is None else out + g
    return out


# --- scans and order statistics ------------------------------------------------------------
def _to_index(ctx, grad, idx, keepdim=True):
    """``grad`` written at ``idx`` along ``ctx.axis`` into zeros of the input's shape."""
    if not keepdim:
        grad, idx = grad.unsqueeze(ctx.axis), np.expand_dims(idx, ctx.axis)
    return ScatterAdd.apply(_zeros(ctx.x_shape, grad), idx, grad, dim=ctx.axis)


@formula(Cummax)
def _cummax(ctx, grad, grad_indices=None):
    if ctx.x_shape == ():
        return grad
    if grad.numel() == 0:
        return _zeros(ctx.x_shape, grad)
    (idx,) = ctx.saved_tensors  # each running value back to where it came from
    return _to_index(ctx, grad, idx)


@formula(MedianDim, Mode)
def _median_dim(ctx, grad, grad_indices=None):
    if ctx.x_shape == ():
        return grad
    (idx,) = ctx.saved_tensors
    return _to_index(ctx, grad, idx, ctx.keepdim)


@formula(MedianAll)
def _median_all(ctx, grad):
    x, out = ctx.saved_tensors
    mask = np.isnan(x) if np.isnan(out) else x == out
    return grad * const(mask / mask.sum(), grad._data.dtype)


@formula(Quantile)
def _quantile(ctx, grad):
    order, below, above, w = ctx.saved_tensors
    nrows, n = order.shape
    g = grad.reshape(1 if ctx.scalar_q else grad.shape[0], nrows).t()  # (rows, nq)
    zeros = _zeros((nrows, n), grad)
    # each quantile lerps two sorted values; the sorted places go back through the order
    gs = (ScatterAdd.apply(zeros, below, g * const(1 - w), dim=1)
          + ScatterAdd.apply(zeros, above, g * const(w), dim=1))
    rows = ScatterAdd.apply(zeros, order, gs, dim=1)
    shape = tuple(ctx.x_shape)
    if ctx.axis is None:
        return rows.reshape(shape)
    xs_shape = shape if shape else (1,)
    moved = tuple(np.delete(xs_shape, ctx.axis)) + (xs_shape[ctx.axis],)
    return rows.reshape(moved).movedim(-1, ctx.axis).reshape(shape)


# --- scatter_reduce ------------------------------------------------------------------------
@formula(ScatterReduce)
def _scatter_reduce(ctx, grad):
    x_arr, vals, lin, hit, out_arr = ctx.saved_tensors
    x, _, _, _, out = saved_tensors(ctx)
    own = ~hit | ctx.include_self  # where x itself took part in the reduction
    reduce, n, dt = ctx.reduce, grad.numel(), grad._data.dtype
    need = ctx.needs_input_grad
    g = grad.reshape(-1)
    if reduce == "sum":
        gx, gv = g, GetItem.apply(g, index=lin)
    elif reduce == "mean":
        scaled = g / const(ctx.count, dt)
        gx, gv = scaled, GetItem.apply(scaled, index=lin)
    elif reduce == "prod":
        return _scatter_prod(ctx, grad, x, out)
    else:  # amax, amin: ties share the gradient, a constant share per element
        of, xf = out_arr.reshape(-1), x_arr.reshape(-1)
        tie_x = own & ((xf == of) | (np.isnan(xf) & np.isnan(of)))
        tie_v = (vals == of[lin]) | (np.isnan(vals) & np.isnan(of[lin]))
        count = tie_x + np.bincount(lin, tie_v, n)
        inv = 1 / np.where(count == 0, 1, count)
        gx = g * const(inv * tie_x, dt)
        gv = GetItem.apply(g, index=lin) * const(inv[lin] * tie_v, dt)
    gx = where(const(own), gx, 0.0).reshape(grad.shape) if need[0] else None
    gsrc = _corner_into(gv, ctx.src_shape, ctx.index_shape, grad) if need[2] else None
    return gx, None, gsrc


def _scatter_prod(ctx, grad, x, out):
    """torch's scatter_reduce prod gradient, on the flattened input: each factor gets the
    product of the others, the products recomputed with zeros (one per place) masked to 1."""
    _, vals, lin, hit, _ = ctx.saved_tensors
    own, need = ~hit | ctx.include_self, ctx.needs_input_grad
    g, flat = grad.reshape(-1), out.reshape(-1)
    # src's corner on src's edge: the values forward kept, plus src minus itself
    src0 = zero_on_edge(ctx, 2, ctx.src_shape, vals.dtype)
    v = const(vals) + src0[tuple(slice(0, s) for s in ctx.index_shape)].reshape(-1)

    def reduced(base, src):
        return ScatterReduce.apply(base, lin, src, dim=0, reduce="prod",
                                   include_self=ctx.include_self)

    gx = gsrc = None
    if need[0]:
        x_zero = const(x._data.reshape(-1) == 0)
        masked_x = where(x_zero, 1.0, x.reshape(-1))
        gx = where(const(own), g * reduced(masked_x, v) / masked_x, 0.0).reshape(grad.shape)
    if need[2]:
        zero = vals == 0
        zeros_at = np.bincount(lin, zero, g.numel())[lin]
        single = const(zero & (zeros_at == 1))
        others = reduced(x.reshape(-1), where(single, 1.0, v))
        gv = where(single, GetItem.apply(g * others, index=lin),
                   GetItem.apply(g * flat, index=lin) / where(const(zero), 1.0, v))
        gsrc = _corner_into(gv, ctx.src_shape, ctx.index_shape, grad)
        if (zeros_at > 1).any():
            gsrc = delayed(ctx, (grad,), "scatter_reduce(): Double backward is unsupported for "
                           "src when >1 zeros in src are scattered to the same position in "
                           "self", RuntimeError)[2]
    return gx, None, gsrc


# --- pairwise ------------------------------------------------------------------------------
@formula(Cross)
def _cross(ctx, grad):
    x, y = saved_tensors(ctx)
    need = ctx.needs_input_grad
    return (sum_to(Cross.apply(y, grad, dim=ctx.axis), x.shape) if need[0] else None,
            sum_to(Cross.apply(grad, x, dim=ctx.axis), y.shape) if need[1] else None)


def _p_norm_grad(d, norm, grad, p):
    """``d ||d||_p / d d`` times ``grad``, on Tensors (``norm`` and ``grad`` broadcast against
    ``d``): torch's ``norm_backward``, 0 where the norm is 0."""
    da, dt = d._data, grad._data.dtype
    if p == 0:
        return _zeros(da.shape, grad)
    if p == 1:
        return grad * const(np.sign(da), dt)
    if p in (math.inf, -math.inf):  # the largest (smallest) |d| share the gradient
        hit = np.abs(da) == norm._data
        return grad * const(np.sign(da) * hit / hit.sum(), dt)
    zero = const(norm._data == 0)
    if p < 1:  # torch: |d| ** (p - 1) sgn(d), 0 where d is 0, times grad norm ** (1 - p)
        d_zero = const(da == 0)
        scaled = where(d_zero, 0.0, abs_(where(d_zero, 1.0, d)) ** (p - 1) * const(np.sign(da)))
        return scaled * grad * norm ** (1 - p)
    scale = where(zero, 0.0, grad / where(zero, 1.0, norm) ** (p - 1))
    if p == 2:
        return scale * d
    d_zero = const(da == 0)
    return where(d_zero, 0.0, scale * d * abs_(where(d_zero, 1.0, d)) ** (p - 2))


@formula(Dist)
def _dist(ctx, grad):
    d_arr, _ = ctx.saved_tensors
    (_, out) = saved_tensors(ctx)
    # forward kept d = x - y: d plus (x - x) - (y - y) has d's value and reaches x and y
    d = (const(d_arr) + zero_on_edge(ctx, 0, ctx.x_shape, d_arr.dtype)
         - zero_on_edge(ctx, 1, ctx.y_shape, d_arr.dtype))
    g = _p_norm_grad(d, out, grad, ctx.p)
    need = ctx.needs_input_grad
    return (sum_to(g, ctx.x_shape) if need[0] else None,
            sum_to(-g, ctx.y_shape) if need[1] else None)


@formula(Cdist)
def _cdist(ctx, grad):
    d_arr, _ = ctx.saved_tensors
    (_, out) = saved_tensors(ctx)
    if ctx.p != 2 or max(d_arr.shape[-3:-1]) <= 25:
        # torch's _cdist_backward has no derivative; only its matrix-product path for p = 2
        # with more than 25 rows (the default compute_mode) is differentiated twice
        return delayed(ctx, (grad,), "the derivative for '_cdist_backward' is not implemented.")
    (s1, s2), dt = ctx.shapes, d_arr.dtype
    # the pairwise differences, reaching x1 and x2 as in dist
    d = (const(d_arr) + zero_on_edge(ctx, 0, s1, dt).unsqueeze(-2)
         - zero_on_edge(ctx, 1, s2, dt).unsqueeze(-3))
    g = _p_norm_grad(d, out.unsqueeze(-1), grad.unsqueeze(-1), 2)
    need = ctx.needs_input_grad
    return (sum_to(g.sum(-2), s1) if need[0] else None,
            sum_to(-g.sum(-3), s2) if need[1] else None)
