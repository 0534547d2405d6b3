"""Formulas for indexing: reading at an index and writing there are each other's gradient
(``x[index]`` scatters ``grad`` back into zeros; ``index_put`` reads ``grad[index]``), and
so are gather and scatter_add. The writes (scatter, index_copy/index_fill, masked_scatter)
send nothing to the places they overwrote; take and diagonal write ``grad`` back in place."""
from __future__ import annotations

import numpy as np

from ..arrange import Diagonal, Take, Trace
from ..clamp import where
from ..index_write import IndexCopy, IndexFill, MaskedScatter
from ..indexing import (
    Gather,
    GetItem,
    IndexPut,
    IndexSelect,
    MaskedFill,
    Scatter,
    ScatterAdd,
    _is_basic,
)
from ._common import const, formula, sum_to


def _zeros(shape, like):
    return const(np.zeros(shape, like._data.dtype))


@formula(GetItem)
def _getitem(ctx, grad):
    # a basic index (ints, slices) reaches each element once: assign; an index array may
    # repeat elements: accumulate
    return IndexPut.apply(_zeros(ctx.x_shape, grad), grad, index=ctx.index,
                          accumulate=not _is_basic(ctx.index))


@formula(IndexPut)
def _index_put(ctx, grad):
    need = ctx.needs_input_grad
    gx = gv = None
    if need[0]:
        gx = grad if ctx.accumulate else IndexPut.apply(grad, 0.0, index=ctx.index)
    if need[1]:
        gv = sum_to(GetItem.apply(grad, index=ctx.index), ctx.v_shape)
    return gx, gv


@formula(Gather)
def _gather(ctx, grad):
    (index,) = ctx.saved_tensors
    return ScatterAdd.apply(_zeros(ctx.x_shape, grad), index, grad, dim=ctx.axis), None


def _src_grad(ctx, grad, index):
    """What scatter's ``src`` sent: ``grad`` read at ``index``, in src's leading corner."""
    gsrc = Gather.apply(grad, index, dim=ctx.axis)
    if gsrc._data.shape != tuple(ctx.src_shape):  # src larger than index: the rest gets 0
        corner = tuple(slice(0, s) for s in gsrc._data.shape)
        gsrc = IndexPut.apply(_zeros(ctx.src_shape, grad), gsrc, index=corner)
    return gsrc


@formula(ScatterAdd)
def _scatter_add(ctx, grad):
    (index,) = ctx.saved_tensors
    need = ctx.needs_input_grad
    gsrc = _src_grad(ctx, grad, index) if need[2] else None
    return (grad if need[0] else None), None, gsrc


@formula(Scatter)
def _scatter(ctx, grad):
    if ctx.multiply:
        return NotImplemented  # the op's own backward raises torch's error
    (index,) = ctx.saved_tensors
    need = ctx.needs_input_grad
    gx = gsrc = None
    if need[0]:  # overwritten places get nothing
        written = np.zeros(grad.shape, bool)
        corner = written[tuple(slice(None) if d == ctx.axis else slice(0, s)
                               for d, s in enumerate(index.shape))]
        np.put_along_axis(corner, index, True, ctx.axis)
        gx = where(const(written), 0.0, grad)
    if len(need) > 2 and need[2]:
        gsrc = _src_grad(ctx, grad, index)
    return gx, None, gsrc


@formula(IndexSelect)
def _index_select(ctx, grad):
    (index,) = ctx.saved_tensors
    shape = [1] * grad.ndim
    shape[ctx.axis] = index.size
    full = np.ascontiguousarray(np.broadcast_to(index.reshape(shape), grad._data.shape))
    return ScatterAdd.apply(_zeros(ctx.x_shape, grad), full, grad, dim=ctx.axis), None


@formula(MaskedFill)
def _masked_fill(ctx, grad):
    (mask,) = ctx.saved_tensors
    mask = const(mask)
    need = ctx.needs_input_grad
    gx = sum_to(where(mask, 0.0, grad), ctx.x_shape) if need[0] else None
    gv = None
    if need[2]:
        gv = where(mask, grad, 0.0).sum().reshape(ctx.value_shape)
    return gx, None, gv


def _slices_mask(shape, dim, index):
    """A constant: 1 except on the slices at ``index`` along ``dim`` (written over there)."""
    keep = np.ones(shape, bool)
    (np.moveaxis(keep, dim, 0) if keep.ndim else keep.reshape(1))[index] = False
    return const(keep)


@formula(IndexFill)
def _index_fill(ctx, grad):
    need = ctx.needs_input_grad
    keep = _slices_mask(grad.shape, ctx.dim, ctx.index)
    gx = where(keep, grad, 0.0) if need[0] else None
    gv = where(keep, 0.0, grad).sum() if len(need) > 1 and need[1] else None
    return gx, gv


@formula(IndexCopy)
def _index_copy(ctx, grad):
    need = ctx.needs_input_grad
    gx = gs = None
    if need[0]:
        gx = where(_slices_mask(grad.shape, ctx.dim, ctx.index), grad, 0.0)
    if need[1]:
        gs = grad if grad.ndim == 0 else GetItem.apply(
            grad, index=(slice(None),) * ctx.dim + (ctx.index,))
    return gx, gs


@formula(MaskedScatter)
def _masked_scatter(ctx, grad):
    need = ctx.needs_input_grad
    gx = gs = None
    if need[0]:
        gx = where(const(ctx.mask), 0.0, grad)
    if need[1]:  # source's first elements went, in order, to the masked places
        taken = GetItem.apply(grad, index=ctx.mask)
        flat = _zeros((int(np.prod(ctx.source_shape)),), grad)
        gs = IndexPut.apply(flat, taken, index=slice(0, taken.shape[0])).reshape(ctx.source_shape)
    return gx, gs


@formula(Take)
def _take(ctx, grad):
    flat = _zeros((int(np.prod(ctx.x_shape)),), grad)
    return IndexPut.apply(flat, grad, index=ctx.index, accumulate=True).reshape(ctx.x_shape)


@formula(Diagonal)
def _diagonal(ctx, grad):
    # grad written on the diagonal of zeros, with dim1 and dim2 moved last (so that the
    # diagonal's positions index the last two dims and grad's layout matches), moved back
    offset, d1, d2 = ctx.args
    n = len(ctx.x_shape)
    d1, d2 = d1 % n, d2 % n
    order = [d for d in range(n) if d not in (d1, d2)] + [d1, d2]
    k = np.arange(grad.shape[-1])
    rows, cols = (k, k + offset) if offset >= 0 else (k - offset, k)
    zeros = _zeros(tuple(ctx.x_shape[d] for d in order), grad)
    g = IndexPut.apply(zeros, grad, index=(Ellipsis, rows, cols))
    return g.permute(*(int(d) for d in np.argsort(order)))


@formula(Trace)
def _trace(ctx, grad):
    return grad * const(np.eye(*ctx.x_shape, dtype=grad._data.dtype))
