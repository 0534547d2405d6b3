"""Sorting ops: sort, argsort, topk, kthvalue, and searchsorted/bucketize."""
from __future__ import annotations

import numpy as np

from .. import _arg_errors, return_types
from .._tensor import Tensor, _wrap
from ..autograd.function import Op
from ._out import write_out
from ._shape_utils import type_name, wrap_dim


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
        # partial sort for a small k: floats only (-x would wrap unsigned ints), and no NaN
        # when the largest are wanted (torch counts NaN as the largest value)
        if (k is not None and 0 < k < x.shape[axis] // 4 and not stable and x.dtype.kind == "f"
                and not (descending and np.isnan(x).any())):
            key = -x if descending else x
            part = np.argpartition(key, k - 1, axis=axis)
            part = np.take(part, np.arange(k), axis=axis)
            vals = np.take_along_axis(key, part, axis)
            order = np.argsort(vals, axis=axis, kind="stable")
            idx = np.take_along_axis(part, order, axis)
        else:
            idx = _argsort(x, axis, descending)
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


class Kthvalue(Op):
    """(v, i) = the k-th smallest of x along ``dim`` (of equal values, the first in a stable
    order) and its index; the gradient goes back to that slot"""

    @staticmethod
    def forward(ctx, x, *, k, dim, keepdim):
        idx = np.take(_argsort(x, dim, False), [k - 1], axis=dim)
        ctx.save_for_backward(idx)
        ctx.x_shape, ctx.axis, ctx.keepdim = x.shape, dim, keepdim
        v = np.take_along_axis(x, idx, dim)
        if not keepdim:
            v, idx = v.squeeze(dim), idx.squeeze(dim)
        return v, idx.astype(np.int64)

    @staticmethod
    def backward(ctx, grad, grad_idx):
        (idx,) = ctx.saved_tensors
        out = np.zeros(ctx.x_shape, grad.dtype)
        np.put_along_axis(out, idx, grad if ctx.keepdim else np.expand_dims(grad, ctx.axis),
                          ctx.axis)
        return out


def _argsort(x, axis, descending):
    """Stable argsort along ``axis``; descending keeps ties in order and puts NaN first, as
    torch does, for every dtype (negating would wrap unsigned ints and fail on bool)."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    idx = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (x.shape[axis] - 1) - np.flip(idx, axis)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """(values, indices) sorted along ``dim`` (ties keep their order)."""
    if input._data.dtype.kind == "c":
        raise RuntimeError(" Sort does not support complex dtypes on CPU")
    v, i = SortValues.apply(input, dim=dim, descending=descending, stable=True)
    return write_out("sort", return_types.sort((v, i)), out, (input,))


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:  # torch checks k before the dtype
        raise RuntimeError("selected index k out of range")
    if input._data.dtype.kind in "bc":
        kind = "bool" if input._data.dtype.kind == "b" else "complex"
        raise RuntimeError(f"{' ' * (kind == 'complex')}topk does not support {kind} dtypes on "
                           "CPU")
    v, i = SortValues.apply(input, dim=d, descending=largest, k=k)
    return write_out("topk", return_types.topk((v, i)), out, (input,))


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest value along ``dim`` and its index."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    # torch checks the dtype last, and returns a 0-d input of any dtype as it is
    if input._data.dtype.kind in "bc" and input._data.ndim:
        raise NotImplementedError(f"\"kthvalue_cpu\" not implemented for "
                                  f"'{type_name(input._data.dtype)}'")
    if input._data.ndim == 0:
        v, i = SortValues.apply(input, dim=d, descending=False, stable=True)
        return write_out("kthvalue", return_types.kthvalue((v, i)), out, (input,))
    result = return_types.kthvalue(Kthvalue.apply(input, k=k, dim=d, keepdim=keepdim))
    return write_out("kthvalue", result, out, (input,))


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Insertion points that keep ``sorted_sequence`` sorted (along its last dim, which may
    have leading dims matching ``values``'); int32 with ``out_int32``."""
    if side is not None and side not in ("left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                           f"{side}")
    if right and side == "left":
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got "
                           "side of left while right was True")
    side = side or ("right" if right else "left")
    seq = sorted_sequence._data
    v = values._data if isinstance(values, Tensor) else np.asarray(values)
    if v.ndim == 0 and seq.ndim != 1:
        raise RuntimeError(f"torch.searchsorted(): input value can be a scalar only when "
                           f"boundaries tensor dimension is 1, but we got boundaries tensor "
                           f"dim({seq.ndim}) and input value's dim(0) numel(1)")
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if seq.ndim > 1 and (v.ndim != seq.ndim or v.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                           "first N-1 dimensions of boundaries tensor and input value tensor must "
                           f"match, but we got boundaries tensor {list(seq.shape)} and input value "
                           f"tensor {list(v.shape)}")
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, -1)
    bad = next((dt for dt in (seq.dtype, v.dtype) if dt.kind == "c"), None)
    if bad is None and seq.dtype == np.bool_ and v.dtype == np.bool_:
        bad = seq.dtype  # the kernel has no bool loop; mixed with numbers, they promote
    if bad is not None and v.size:  # no values: the kernel never runs
        raise NotImplementedError(f"\"searchsorted_out_cpu\" not implemented for "
                                  f"'{type_name(bad)}'")
    if _out_of_order(seq):
        found = _binary_search(seq, v, side == "right")
    elif seq.ndim <= 1:
        found = np.searchsorted(seq, v, side=side)
    else:
        lead = int(np.prod(v.shape[:-1]))  # the leading dims match seq's
        rows = zip(seq.reshape(lead, seq.shape[-1]), v.reshape(lead, v.shape[-1]))
        found = np.array([np.searchsorted(s, r, side=side) for s, r in rows],
                         np.int64).reshape(v.shape)
    result = _wrap(np.asarray(found, np.int32 if out_int32 else np.int64))
    return write_out("searchsorted", result, out, (sorted_sequence,))


def _out_of_order(seq):
    """Whether ``seq`` (along its last dim) holds NaN or is not sorted: NumPy's search and
    torch's then take different paths (NumPy also reorders its probes by the keys)."""
    if seq.dtype.kind == "f" and np.isnan(seq).any():
        return True
    return bool((seq[..., 1:] < seq[..., :-1]).any())


def _binary_search(seq, v, right):
    """torch's kernel: per value, lower (``right``: upper) bound by halving ``[0, n)``, going
    right while ``!(mid >= v)`` (``!(mid > v)``), whatever the sequence holds."""
    n = seq.shape[-1]
    rows = seq.reshape(-1, n)
    keys = v.reshape(rows.shape[0], -1) if seq.ndim > 1 else v.reshape(1, -1)
    start = np.zeros(keys.shape, np.int64)
    end = np.full(keys.shape, n, np.int64)
    which = np.arange(rows.shape[0])[:, None]
    with np.errstate(invalid="ignore"):
        while (start < end).any():
            active = start < end
            mid = start + ((end - start) >> 1)
            mid_val = rows[which, np.minimum(mid, n - 1)]
            go_right = ~(mid_val > keys) if right else ~(mid_val >= keys)
            start = np.where(active & go_right, mid + 1, start)
            end = np.where(active & ~go_right, mid, end)
    return start.reshape(v.shape)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """Bucket index of each value (``boundaries``: 1-D, sorted)."""
    if not isinstance(boundaries, Tensor):
        raise _arg_errors.invalid_combination("bucketize", (input, boundaries), expected=(
            "(Tensor input, Tensor boundaries, *, bool out_int32 = False, bool right = False, "
            "Tensor out = None)",
            "(Number self, Tensor boundaries, *, bool out_int32 = False, bool right = False)"))
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)
