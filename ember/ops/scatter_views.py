"""The ``*_scatter`` ops: a copy of the input with one view's region replaced by ``src``.

``select_scatter``, ``slice_scatter``, ``diagonal_scatter`` and ``as_strided_scatter`` are
the out-of-place twins of writing into ``x.select(...)``, ``x[a:b:c]``, ``x.diagonal(...)``
and ``x.as_strided(...)``. One op does all four: forward copies the input and writes ``src``
into the region; backward hands the input the gradient with the region zeroed (those values
were overwritten) and ``src`` the region's gradient.

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).
"""
from __future__ import annotations

import numpy as np

from .. import _arg_errors
from .._tensor import Tensor
from ..autograd.function import Op
from ._shape_utils import wrap_dim
from ._storage import offset_in, storage_root
from .arrange import _diagonal_dims, _writeable_diagonal

__all__ = ["select_scatter", "slice_scatter", "diagonal_scatter", "as_strided_scatter"]
TENSOR_METHODS: tuple[str, ...] = tuple(__all__)


class ScatterInto(Op):
    """z = x with ``region(z)`` replaced by ``src``; ``region`` maps an array laid out like x
    to the view being replaced."""

    @staticmethod
    def forward(ctx, x, src, *, region, node_name):
        ctx.show_as(node_name)
        ctx.region, ctx.src_dtype = region, src.dtype
        out = np.array(x)
        region(out)[...] = src
        return out

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        gx = gsrc = None
        if need[1]:
            gsrc = np.array(ctx.region(grad), dtype=ctx.src_dtype)
        if need[0]:
            gx = np.array(grad)
            ctx.region(gx)[...] = 0
        return gx, gsrc


class AsStridedScatter(Op):
    """z = a copy of x's whole storage with the strided region replaced by ``src``, seen with
    x's own sizes, strides and offset (torch's layout for the result)."""

    _backward_name = "AsStridedScatterBackward0"

    @staticmethod
    def forward(ctx, x, src, *, layout, region):
        ctx.layout, ctx.region, ctx.src_dtype = layout, region, src.dtype
        buf, out = _buffer(layout, x.dtype)
        out[...] = x
        _strided(buf, region)[...] = src
        return out

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        buf, seen = _buffer(ctx.layout, grad.dtype)
        seen[...] = grad
        area = _strided(buf, ctx.region)
        gsrc = np.array(area, dtype=ctx.src_dtype) if need[1] else None
        area[...] = 0
        return (np.array(seen) if need[0] else None), gsrc


def _buffer(layout, dtype):
    """A zero storage of ``layout[0]`` elements and the tensor ``layout`` describes in it."""
    n, shape, strides, offset = layout
    buf = np.zeros(n, dtype)
    return buf, _strided(buf, (shape, strides, offset))


def _strided(buf, spec):
    shape, strides, offset = spec
    item = buf.itemsize
    return np.lib.stride_tricks.as_strided(buf[offset:], shape, tuple(s * item for s in strides))


def _check_src(src, region_shape):
    if tuple(src._data.shape) != tuple(region_shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(region_shape)}")


def _scatter(name, input, src, region, node_name):
    _check_src(src, region(input._data).shape)
    return ScatterInto.apply(input, src, region=region, node_name=node_name)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``.

    Raises:
        IndexError: ``dim`` or ``index`` out of range.
        RuntimeError: ``src`` is not shaped like the selected slice.
    """
    _arg_errors.check_tensors("select_scatter", input=input, src=src)
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shape))
    n = shape[d]
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size {list(shape)} at "
                         f"dimension {d}")
    key = (slice(None),) * d + (i % n, ...)  # the Ellipsis keeps a 0-d result a view
    return _scatter("select_scatter", input, src, lambda a: a[key], "SelectScatterBackward0")


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """A copy of ``input`` with ``input[start:end:step]`` along ``dim`` replaced by ``src``.

    Raises:
        RuntimeError: ``step`` is not positive, or ``src`` is not shaped like the slice.
    """
    _arg_errors.check_tensors("slice_scatter", input=input, src=src)
    if input._data.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input._data.ndim)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    key = (slice(None),) * d + (slice(start, end, step),)
    return _scatter("slice_scatter", input, src, lambda a: a[key],
                    "SliceScatterBackward0")


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``.

    Raises:
        RuntimeError: ``dim1 == dim2``, or ``src`` is not shaped like the diagonal.
    """
    _arg_errors.check_tensors("diagonal_scatter", input=input, src=src)
    d1, d2 = _diagonal_dims(input._data.ndim, dim1, dim2)
    offset = int(offset)
    return _scatter("diagonal_scatter", input, src,
                    lambda a: _writeable_diagonal(a, offset, d1, d2), "DiagonalScatterBackward0")


def as_strided_scatter(input: Tensor, src: Tensor, size, stride,
                       storage_offset: int | None = None) -> Tensor:
    """A copy of ``input`` with ``input.as_strided(size, stride, storage_offset)`` replaced by
    ``src``; offsets count in the input's storage, as torch's (whose result copies it whole).

    Raises:
        RuntimeError: the strided region leaves the storage, or ``src`` is not shaped like it.
    """
    _arg_errors.check_tensors("as_strided_scatter", input=input, src=src)
    a = input._data
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} and "
                           f"{len(stride)}")
    item = a.itemsize
    root = storage_root(a)
    n, own = root.nbytes // item, offset_in(a, root)
    offset = own if storage_offset is None else int(storage_offset)
    last = offset + sum((k - 1) * s for k, s in zip(size, stride) if k > 0)
    if min(size, default=1) > 0 and last + 1 > n:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{(last + 1) * item} are out of bounds for storage of size "
                           f"{n * item}")
    _check_src(src, size)
    layout = (n, a.shape, tuple(s // item for s in a.strides), own)
    return AsStridedScatter.apply(input, src, layout=layout, region=(size, stride, offset))
