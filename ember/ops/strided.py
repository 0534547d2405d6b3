"""Views by strides: ``unfold`` (sliding windows along a dim) and ``as_strided``.

Both hand back a NumPy view of the input's memory, so they share its version counter. Their
gradient scatters back through ``Region`` (``copy_slices.py``), summing where windows
overlap, so each input element gets the gradient of every window that holds it.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._shape_utils import wrap_dim
from ._storage import storage_root, strided_over
from .copy_slices import AsStrided, Region

__all__ = ["as_strided", "unfold"]
TENSOR_METHODS = ("as_strided", "unfold")


def _view(input: Tensor, array: np.ndarray, node_name: str) -> Tensor:
    """``array`` (a view of ``input``'s memory) as a Tensor recorded like torch's view."""
    from .shape import _as_view

    if not input._rg:
        from .._tensor import _wrap

        return _as_view(_wrap(array), input)
    out = AsStrided.apply(input, view=array, region=Region(input._data, array),
                          node_name=node_name)
    return _as_view(out, input)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Windows of ``size`` elements every ``step`` along ``dimension``, as a new last dim:
    ``x.unfold(0, 3, 2)`` of ``arange(7)`` is ``[[0, 1, 2], [2, 3, 4], [4, 5, 6]]``."""
    a = input._data
    if a.ndim == 0:
        shape, strides, d = (), (), None
        n = 1
    else:
        d = wrap_dim(dimension, a.ndim)
        n = a.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d or 0} is {n} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if d is None:
        view = a.reshape(1)
    else:
        count = (n - size) // step + 1
        shape = a.shape[:d] + (count,) + a.shape[d + 1:] + (size,)
        strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1:] + (a.strides[d],)
        view = np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)
    return _view(input, view, "UnfoldBackward0")


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view with the given ``size`` and ``stride`` (in elements) over the input's storage,
    starting ``storage_offset`` elements in (by default where the input starts)."""
    a = input._data
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} and "
                           f"{len(stride)}")
    item = a.itemsize
    root = storage_root(a)
    root_start = root.__array_interface__["data"][0]
    offset = (a.__array_interface__["data"][0] - root_start) // item \
        if storage_offset is None else int(storage_offset)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride) if n > 0)
    if min(size, default=1) > 0 and (last + 1) * item > root.nbytes:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{(last + 1) * item} are out of bounds for storage of size "
                           f"{root.nbytes}")
    view = strided_over(root, size, stride, offset)
    if input._rg:
        low, high = _bounds(a)
        v_low, v_high = _bounds(view)
        if v_low < low or v_high > high:
            raise NotImplementedError("as_strided over memory outside the input's own elements "
                                      "has no gradient in ember")
    return _view(input, view, "AsStridedBackward0")


def _bounds(a: np.ndarray) -> tuple[int, int]:
    from .copy_slices import _byte_bounds

    return _byte_bounds(a)
