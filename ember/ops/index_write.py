"""Out-of-place writes at indices: ``index_fill``, ``index_copy``, ``masked_scatter``, ``put``.

Each returns a new tensor: the input with some elements replaced. The gradient of the input
is the incoming gradient with those elements zeroed (their old values no longer matter); the
gradient of what was written is the incoming gradient read back at the written places. The
in-place ``*_`` methods run these through ember's in-place machinery.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from ._shape_utils import check_broadcast, type_name, wrap_dim

__all__ = ["index_copy", "index_fill", "masked_scatter", "put"]
TENSOR_METHODS = ("index_copy", "index_fill", "masked_scatter", "put")


def _along(a: np.ndarray, dim: int) -> np.ndarray:
    """A view of ``a`` with ``dim`` first, so that ``view[index]`` picks along ``dim``."""
    return np.moveaxis(a, dim, 0) if a.ndim else a.reshape(1)


def _zeroed(grad: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    """A copy of ``grad`` with the slices at ``index`` along ``dim`` zeroed: the input's
    gradient where its values were overwritten."""
    out = grad.copy()
    _along(out, dim)[index] = 0
    return out


def _dim_and_size(input: Tensor, dim: int) -> tuple[int, int]:
    """``dim`` wrapped, and the size along it (a 0-d tensor counts as one element)."""
    if not input._data.ndim:
        return 0, 1
    d = wrap_dim(dim, input._data.ndim)
    return d, input._data.shape[d]


def _check_index(name: str, index: Tensor, dim: int, size: int) -> np.ndarray:
    """``index`` as a flat int64 array, with torch's errors (``index_copy_`` takes no
    negative index; ``index_fill_`` counts them from the end)."""
    idx = index._data
    if idx.dtype != np.int64:
        raise IndexError(f"{name}(): Expected dtype int64 for index.")
    if idx.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    idx = idx.reshape(-1)
    low = 0 if name == "index_copy_" else -size
    bad = idx[(idx >= size) | (idx < low)]
    if bad.size:
        prefix = f"{name}(): " if name == "index_copy_" else ""
        raise IndexError(f"{prefix}index {int(bad[0])} is out of bounds for dimension {dim} "
                         f"with size {size}")
    return idx % size if size else idx


class IndexFill(Op):
    """z = x with the slices at ``index`` along ``dim`` set to ``value``"""

    @staticmethod
    def forward(ctx, x, value, *, dim, index):
        ctx.dim, ctx.index = dim, index
        ctx.show_as("IndexFillBackward1" if isinstance(value, np.ndarray) else
                    "IndexFillBackward0")
        out = x.copy()
        _along(out, dim)[index] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = _zeroed(grad, ctx.dim, ctx.index)
        if ctx.needs_input_grad[1]:  # every filled element once, however often it was named
            gv = _along(grad, ctx.dim)[np.unique(ctx.index)].sum()
            gv = np.asarray(gv, grad.dtype)
        return gx, gv


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a number or a
    0-d tensor)."""
    d, size = _dim_and_size(input, dim)
    idx = _check_index("index_fill_", index, d, size)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        value = value.to(input.dtype) if value.dtype != input.dtype else value
    return IndexFill.apply(input, value, dim=d, index=idx)


class IndexCopy(Op):
    """z = x with the slices at ``index`` along ``dim`` replaced by ``source``'s"""

    @staticmethod
    def forward(ctx, x, source, *, dim, index):
        ctx.dim, ctx.index = dim, index
        out = x.copy()
        _along(out, dim)[index] = _along(source, dim)
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = _zeroed(grad, ctx.dim, ctx.index)
        if ctx.needs_input_grad[1]:
            gs = np.ascontiguousarray(np.moveaxis(_along(grad, ctx.dim)[ctx.index], 0, ctx.dim)
                                      if grad.ndim else grad)
        return gx, gs


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s slices."""
    d, size = _dim_and_size(input, dim)
    _check_copy_shapes(input._data, d, index._data, source._data)
    idx = _check_index("index_copy_", index, d, size)
    return IndexCopy.apply(input, source, dim=d, index=idx)


def _check_copy_shapes(x, d, idx, src):
    """``index_copy``'s checks in torch's order: index rank, ranks, index dtype, dtypes,
    slice shapes, index count."""
    if idx.ndim >= 2:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {idx.ndim})")
    if not src.ndim and idx.size != 1:
        raise IndexError(f"index_copy_(): When source is scalar, index should have one element "
                         f"(got {idx.size})")
    if src.ndim != x.ndim and src.ndim and x.ndim:
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({src.ndim}), "
                         f"destination dimensionality ({x.ndim})")
    if idx.dtype != np.int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got "
                           f"{type_name(idx.dtype)}")
    if src.dtype != x.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {type_name(x.dtype)} and (source) "
                           f"{type_name(src.dtype)}")
    x_slice = [n for i, n in enumerate(x.shape) if i != d]
    src_slice = [n for i, n in enumerate(src.shape) if i != d]
    if x_slice != src_slice:
        raise RuntimeError(
            f"index_copy_(): Source/destination tensor must have same slice shapes. Destination "
            f"slice shape: {' '.join(map(str, x_slice))} at dimension {d} and source slice shape:"
            f" {' '.join(map(str, src_slice))} at dimension 0.")
    count = src.shape[d] if src.ndim else 1
    if idx.size != count:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to "
                         f"source.size(dim) ({count})")


class MaskedScatter(Op):
    """z = x with the places where ``mask`` is True filled, in order, from ``source``"""

    @staticmethod
    def forward(ctx, x, source, *, mask):
        ctx.mask, ctx.source_shape = mask, source.shape
        out = x.copy()
        count = int(mask.sum())
        out[mask] = source.reshape(-1)[:count]
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = np.where(ctx.mask, 0, grad).astype(grad.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            flat = np.zeros(int(np.prod(ctx.source_shape)), grad.dtype)
            taken = grad[ctx.mask]
            flat[:taken.size] = taken
            gs = flat.reshape(ctx.source_shape)
        return gx, gs


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the places where ``mask`` is True filled, in row-major order, from
    ``source``'s first elements; ``input`` and ``mask`` broadcast together."""
    m = mask._data
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {type_name(m.dtype)}")
    full = tuple(check_broadcast(m.shape, input._data.shape))  # torch's expand_outplace
    if full != input._data.shape:
        input = input.expand(*full)
    m = np.broadcast_to(m, full)
    if int(m.sum()) > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.apply(input, source, mask=m)


class Put(Op):
    """z = x with the elements at flat ``index`` set to (or, ``accumulate``, added) ``source``"""

    @staticmethod
    def forward(ctx, x, source, *, index, accumulate):
        ctx.index, ctx.accumulate, ctx.source_shape = index, accumulate, source.shape
        out = x.copy()
        flat = out.reshape(-1)
        if accumulate:
            np.add.at(flat, index, source.reshape(-1))
        else:
            flat[index] = source.reshape(-1)
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = grad.copy()
            if not ctx.accumulate:
                gx.reshape(-1)[ctx.index] = 0
        if ctx.needs_input_grad[1]:
            gs = grad.reshape(-1)[ctx.index].reshape(ctx.source_shape)
        return gx, gs


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with the elements at flat positions ``index`` (of the row-major order) set
    to ``source``'s, or with them added when ``accumulate``."""
    n = input._data.size
    idx = index._data.reshape(-1)
    if idx.dtype != np.int64:
        raise IndexError("put_(): Expected a long tensor for index, but got "
                         f"{type_name(idx.dtype)}")
    if idx.size != source._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source._data.size}, "
                         f"index.numel() = {idx.size}")
    bad = idx[(idx >= n) | (idx < -n)]
    if bad.size:
        raise IndexError(f"out of range: tried to access index {int(bad[0])} on a tensor of "
                         f"{n} elements.")
    return Put.apply(input, source, index=idx % n if n else idx, accumulate=bool(accumulate))
