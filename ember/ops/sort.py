"""Sorting ops: sort, argsort, topk, kthvalue, and searchsorted/bucketize."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.function import Op
from ._shape_utils import wrap_dim
from .indexing import getitem


class SortValues(Op):
    """(values, indices) = x sorted along ``dim``; the gradient returns to the source slots"""

    _backward_name = "SortBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, dim, descending, k=None, largest=True, stable=False):
        axis = wrap_dim(dim, x.ndim)
        ctx.x_shape = x.shape
        if k is not None:
            ctx.show_as("TopkBackward0")
        if x.ndim == 0:
            return x.copy(), np.zeros((), np.int64)
        key = -x if descending else x
        if k is not None and k < x.shape[axis] // 4 and not stable:
            part = np.argpartition(key, k - 1, axis=axis) if k else np.take(
                np.argsort(key, axis=axis), [], axis=axis)
            part = np.take(part, np.arange(k), axis=axis)
            vals = np.take_along_axis(key, part, axis)
            order = np.argsort(vals, axis=axis, kind="stable")
            idx = np.take_along_axis(part, order, axis)
        else:
            idx = np.argsort(key, axis=axis, kind="stable")
            if k is not None:
                idx = np.take(idx, np.arange(k), axis=axis)
        ctx.save_for_backward(idx)
        ctx.axis = axis
        return np.take_along_axis(x, idx, axis), idx.astype(np.int64)

    @staticmethod
    def backward(ctx, grad, grad_idx):
        if not ctx.x_shape:
            return grad
        (idx,) = ctx.saved_tensors
        out = np.zeros(ctx.x_shape, grad.dtype)
        np.put_along_axis(out, idx, grad, ctx.axis)
        return out


_Sorted = namedtuple("sort", ["values", "indices"])
_Topk = namedtuple("topk", ["values", "indices"])
_Kthvalue = namedtuple("kthvalue", ["values", "indices"])


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim`` (ties keep their order)."""
    v, i = SortValues.apply(input, dim=dim, descending=descending, stable=True)
    return _Sorted(v, i)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    v, i = SortValues.apply(input, dim=d, descending=largest, k=k)
    return _Topk(v, i)


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest value along ``dim`` and its index."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    v, i = sort(input, d)
    if input._data.ndim == 0:
        return _Kthvalue(v, i)
    index = (slice(None),) * d + (slice(k - 1, k) if keepdim else k - 1,)
    return _Kthvalue(getitem(v, index), getitem(i, index))


def searchsorted(sorted_sequence, values, *, right=False, side=None):
    """Insertion points that keep ``sorted_sequence`` sorted."""
    side = side or ("right" if right else "left")
    v = values._data if isinstance(values, Tensor) else np.asarray(values)
    return _wrap(np.asarray(np.searchsorted(sorted_sequence._data, v, side=side), np.int64))


def bucketize(input, boundaries, *, right=False):
    """Bucket index of each value."""
    return searchsorted(boundaries, input, right=right)
