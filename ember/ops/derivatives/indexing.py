"""Formulas for indexing: reading at an index and writing there are each other's gradient
(``x[index]`` scatters ``grad`` back into zeros; ``index_put`` reads ``grad[index]``), and
so are gather and scatter_add."""
from __future__ import annotations

import numpy as np

from ..clamp import where
from ..indexing import (
    Gather,
    GetItem,
    IndexPut,
    IndexSelect,
    MaskedFill,
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


@formula(ScatterAdd)
def _scatter_add(ctx, grad):
    (index,) = ctx.saved_tensors
    need = ctx.needs_input_grad
    gsrc = None
    if need[2]:
        gsrc = Gather.apply(grad, index, dim=ctx.axis)
        if gsrc._data.shape != tuple(ctx.src_shape):  # src larger than index: the rest gets 0
            corner = tuple(slice(0, s) for s in gsrc._data.shape)
            gsrc = IndexPut.apply(_zeros(ctx.src_shape, grad), gsrc, index=corner)
    return (grad if need[0] else None), None, gsrc


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
