"""Formulas for the remaining shape and indexing ops: rot90, diag_embed, block_diag,
narrow_copy, put, index_reduce, the ``*_scatter`` ops and the view bookkeeping of in-place
changes (``AsStridedBackward0``, ``CopySlices``).

The linear ones send ``grad`` back by the inverse rearrangement (another ember op), or,
for the regions of views and strided storage, by ``LinearMap`` with the op's NumPy
backward and its transpose. index_reduce's prod and mean are products and quotients of
Tensors; its amax and amin send the gradient to the elements that won (constant shares).
"""
from __future__ import annotations

import numpy as np

from ..arrange import BlockDiag, DiagEmbed, Rot90, rot90
from ..clamp import where
from ..copy_slices import AsStrided, CopySlices
from ..index_reduce import IndexReduce
from ..index_write import Put
from ..indexing import GetItem, IndexPut
from ..scatter_views import AsStridedScatter, ScatterInto, _buffer, _strided
from ..shape_more import NarrowCopy
from ._common import const, formula, saved_tensors
from ._rest import LinearMap, delayed


def _zeros(shape, like):
    return const(np.zeros(shape, like._data.dtype))


# --- rearrangements ------------------------------------------------------------------------
@formula(Rot90)
def _rot90(ctx, grad):
    return rot90(grad, -ctx.k, ctx.dims)


@formula(DiagEmbed)
def _diag_embed(ctx, grad):
    return grad.diagonal(*ctx.args)


@formula(BlockDiag)
def _block_diag(ctx, grad):
    return tuple(grad[r:r + s[0], c:c + s[1]] if need else None
                 for (r, c, s, _), need in zip(ctx.spans, ctx.needs_input_grad))


@formula(NarrowCopy)
def _narrow_copy(ctx, grad):
    return IndexPut.apply(_zeros(ctx.x_shape, grad), grad, index=ctx.key)


@formula(Put)
def _put(ctx, grad):
    need = ctx.needs_input_grad
    gx = gs = None
    if need[0]:  # written places get nothing, unless the writes added
        gx = grad if ctx.accumulate else IndexPut.apply(
            grad.reshape(-1), 0.0, index=ctx.index).reshape(grad.shape)
    if need[1]:
        gs = GetItem.apply(grad.reshape(-1), index=ctx.index).reshape(ctx.source_shape)
    return gx, gs


# --- index_reduce --------------------------------------------------------------------------
@formula(IndexReduce)
def _index_reduce(ctx, grad):
    index, dim, reduce, include_self = ctx.options
    x_arr, src_arr, out_arr = ctx.saved_tensors
    x, src, out = (t.movedim(dim, 0) for t in saved_tensors(ctx))  # rows along dim first
    g, dt = grad.movedim(dim, 0), grad._data.dtype
    hit = np.zeros(g.shape[:1] + (1,) * (g.ndim - 1), bool)
    hit[index] = True  # the rows that received src's rows
    if reduce == "prod":
        gx, gs = _index_prod(ctx, g, x, src, out, hit)
    elif reduce == "mean":
        n = np.full(hit.shape, 1 if include_self else 0, dt)
        np.add.at(n, index, 1)
        n[n == 0] = 1
        gx, gs = g / const(n), GetItem.apply(g, index=index) / const(n[index])
    else:  # ties share the gradient, self counted even when not included (as torch)
        rows, x_rows = np.moveaxis(out_arr, dim, 0), np.moveaxis(x_arr, dim, 0)
        self_is = (x_rows == rows).astype(dt)
        src_is = (np.moveaxis(src_arr, dim, 0) == rows[index]).astype(dt)
        n = self_is.copy()
        np.add.at(n, index, src_is)
        inv = np.where(n == 0, 0, 1 / np.where(n == 0, 1, n))
        gx = g * const(self_is * inv)
        gs = GetItem.apply(g * const(inv), index=index) * const(src_is)
    if not include_self:
        gx = where(const(hit), 0.0, gx)
    need = ctx.needs_input_grad
    return (gx.movedim(0, dim) if need[0] else None,
            gs.movedim(0, dim) if need[1] else None)


def _index_prod(ctx, g, x, src, out, hit):
    """torch's index_reduce prod gradient on rows (``dim`` first): each factor gets the
    product of the others, the products recomputed with zeros (one per row) masked to 1."""
    index, dim, _, include_self = ctx.options

    def reduced(base, source):
        return IndexReduce.apply(base, source, index=index, dim=0, reduce="prod",
                                 include_self=include_self)

    x_zero = const(x._data == 0)
    masked_x = where(x_zero, 1.0, x)
    gx = g * reduced(masked_x, src) / masked_x
    zero = src._data == 0
    zeros_at = np.zeros(hit.shape[:1] + src.shape[1:], np.int64)
    np.add.at(zeros_at, index, zero)
    zeros_at = zeros_at[index]
    single = const(zero & (zeros_at == 1))
    others = reduced(x, where(single, 1.0, src))
    gs = where(single, GetItem.apply(g * others, index=index),
               GetItem.apply(g * out, index=index) / where(const(zero), 1.0, src))
    if (zeros_at > 1).any() and ctx.needs_input_grad[1]:
        gs = delayed(ctx, (g.movedim(0, dim),), "index_reduce(): Double backward is unsupported "
                     "for source when >1 zeros in source are scattered to the same position in "
                     "self", RuntimeError)[1].movedim(dim, 0)  # torch's words and type
    return gx, gs


# --- regions of views and strided storage --------------------------------------------------
@formula(AsStrided)
def _as_strided(ctx, grad):
    region = ctx.region
    return LinearMap.apply(grad, fn=region.scatter, adjoint=region.take)


@formula(CopySlices)
def _copy_slices(ctx, grad):
    region, need = ctx.region, ctx.needs_input_grad
    return (LinearMap.apply(grad, fn=region.without, adjoint=region.without) if need[0] else None,
            LinearMap.apply(grad, fn=region.take, adjoint=region.scatter) if need[1] else None)


@formula(ScatterInto)
def _scatter_into(ctx, grad):
    region, shape, need = ctx.region, grad.shape, ctx.needs_input_grad

    def take(g):
        return np.array(region(g))

    def put(s):
        g = np.zeros(shape, s.dtype)
        region(g)[...] = s
        return g

    def without(g):
        g = np.array(g)
        region(g)[...] = 0
        return g

    return (LinearMap.apply(grad, fn=without, adjoint=without) if need[0] else None,
            LinearMap.apply(grad, fn=take, adjoint=put) if need[1] else None)


@formula(AsStridedScatter)
def _as_strided_scatter(ctx, grad):
    layout, region, need = ctx.layout, ctx.region, ctx.needs_input_grad

    def take(g):  # the region of the storage that holds g
        buf, seen = _buffer(layout, g.dtype)
        seen[...] = g
        return np.array(_strided(buf, region))

    def put(s):  # its transpose: s added into zeros' storage (repeated places add up)
        buf, seen = _buffer(layout, s.dtype)
        np.add.at(buf, _strided(np.arange(buf.size), region), s)
        return np.array(seen)

    def without(g):
        buf, seen = _buffer(layout, g.dtype)
        seen[...] = g
        _strided(buf, region)[...] = 0
        return np.array(seen)

    return (LinearMap.apply(grad, fn=without, adjoint=without) if need[0] else None,
            LinearMap.apply(grad, fn=take, adjoint=put) if need[1] else None)
