"""Slicing and row ops built on indexing.py: take_along_dim, narrow, select, index_add."""
from __future__ import annotations

import numpy as np

from .. import _arg_errors
from ._shape_utils import type_name, wrap_dim
from .indexing import ScatterAdd, gather, getitem


def take_along_dim(input, indices, dim=None):
    """Values at ``indices`` along ``dim`` (flattened when None)."""
    _arg_errors.check_tensors("take_along_dim", input=input, indices=indices)
    if indices._data.dtype != np.int64:
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{type_name(indices._data.dtype)}")
    if dim is None:  # as torch: a gather from the flattened input (no negative indices)
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if input._data.ndim != indices._data.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input._data.ndim} dimensions for "
                           f"input, and {indices._data.ndim} dimensions for indices")
    d = wrap_dim(dim, input.dim())
    sizes = [max(a, b) for a, b in zip(input.shape, indices.shape)]  # both broadcast but on d
    if any(a != s for i, (a, s) in enumerate(zip(input.shape, sizes)) if i != d):
        input = input.expand([s if i != d else a for i, (a, s) in enumerate(zip(input.shape,
                                                                                  sizes))])
    return gather(input, d, indices.expand([s if i != d else b for i, (b, s) in
                                           enumerate(zip(indices.shape, sizes))]))


def narrow(input, dim, start, length):
    """A view of ``length`` elements of ``dim`` starting at ``start``."""
    if not input._data.ndim:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input._data.ndim)
    n, start = input._data.shape[d], int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    start %= n or 1
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),), "SliceBackward0")


def select(input, dim, index):
    """The slice at ``index`` of ``dim``, without that dim."""
    if not input._data.ndim:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input._data.ndim)
    if not -input._data.shape[d] <= index < input._data.shape[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input._data.shape)} at dimension {d}")
    return getitem(input, (slice(None),) * d + (index,))


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` rows added at ``index`` along ``dim``."""
    from .elementwise import mul

    d = wrap_dim(dim, input._data.ndim)
    idx = index._data
    if idx.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: "
                         f"{idx.ndim} with type: {type_name(idx.dtype)} and size: "
                         f"{list(idx.shape)}")
    if idx.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: "
                           f"{type_name(idx.dtype)}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_add_(): self ({type_name(input._data.dtype)}) and source "
                           f"({type_name(source._data.dtype)}) must have the same scalar type")
    _check_add_shapes(input._data.shape, d, idx.size, source._data.shape)
    if not input._data.ndim:  # 0-d self and source: one element added (index 0)
        return index_add(input.reshape(1), 0, index.reshape(1), source.reshape(1),
                         alpha=alpha).reshape(())
    bad = (idx < 0) | (idx >= input._data.shape[d])
    if bad.any():
        # torch's loop kernel (not its scatter_add: >1-d, alpha 1, int64 index) words it so
        if input._data.ndim == 1 or alpha != 1 or idx.dtype != np.int64:
            raise IndexError("index out of range in self")
        raise RuntimeError(f"index {int(idx[bad].flat[0])} is out of bounds for dimension {d} "
                           f"with size {input._data.shape[d]}")
    shape = [1] * input._data.ndim
    shape[d] = idx.size
    full = np.broadcast_to(idx.reshape(shape), source._data.shape)
    src = source if alpha == 1 else mul(source, alpha)
    # torch's float16 index_add sums in float32 only where it calls scatter_add: first or
    # last dim of a tensor, alpha 1, int64 ids; otherwise it adds slice by slice in float16
    wide = input._data.ndim > 1 and d in (0, input._data.ndim - 1) and alpha == 1 \
        and idx.dtype == np.int64
    return ScatterAdd.apply(input, np.ascontiguousarray(full), src, dim=d, wide=wide,
                            name="IndexAddBackward0")


def _check_add_shapes(x_shape, d, count, src_shape):
    """``index_add``'s shape checks in torch's words: the indexed dim within the source,
    one index per source slice, the other dims equal."""
    if d and d >= len(src_shape):
        raise IndexError(f"index_add_(): Indexing dim {d} is out of bounds of the source tensor "
                         f"with dim {len(src_shape)}")
    slices = src_shape[d] if src_shape else 1
    if count != slices:
        raise RuntimeError(f"index_add_(): Number of indices ({count}) should be equal to "
                           f"source.size(dim): ({slices}), for dim: {d}")
    x_rest, src_rest = list(x_shape), list(src_shape)
    if x_rest and src_rest:
        del x_rest[d], src_rest[d]
    if x_rest != src_rest:
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(x_shape)} source.shape "
                           f"= {list(src_shape)}")
