"""The same strided view of a tangent as of its primal.

A view op run through ``Op.apply`` gets its tangent from the same op on the tangent. Two
places take a view without an op and need this instead: strided views (``unfold``,
``as_strided``) of tensors that do not require grad, and an in-place change of a view whose
base has no tangent yet (the base gets a zero tangent, the view a view of it).
"""
from __future__ import annotations

import numpy as np

from ... import _tensor as _t


class _Memory:
    """An ``__array_interface__`` over memory owned by ``owner`` (kept alive with it)."""

    def __init__(self, interface, owner):
        self.__array_interface__ = interface
        self.owner = owner


def _address(a):
    return a.__array_interface__["data"][0]


def _scaled(strides, to_size, from_size):
    return tuple(s * to_size // from_size for s in strides)


def _over(owner, start, shape, strides, dtype):
    """The array of ``shape`` and ``strides`` (bytes) starting at address ``start``."""
    interface = {"data": (start, False), "shape": tuple(shape), "strides": tuple(strides),
                 "typestr": np.dtype(dtype).str, "version": 3}
    return np.asarray(_Memory(interface, owner))


def zeros_laid_out_as(ref, dtype):
    """Zeros of ``dtype`` with ``ref``'s shape and exactly its strides (scaled to the item
    size), over fresh memory as long as ``ref``'s span."""
    dtype = np.dtype(dtype)
    if ref.size == 0:
        return np.zeros(ref.shape, dtype)
    strides = _scaled(ref.strides, dtype.itemsize, ref.itemsize)
    low = sum((n - 1) * s for n, s in zip(ref.shape, strides) if s < 0)
    high = sum((n - 1) * s for n, s in zip(ref.shape, strides) if s > 0) + dtype.itemsize
    buffer = np.zeros(high - low, np.uint8)
    return _over(buffer, _address(buffer) - low, ref.shape, strides, dtype)


def same_view(tangent, ref, view):
    """A Tensor over ``tangent``'s memory placed as ``view`` is over ``ref``'s (``tangent``
    is ``ref``'s tangent). When the tangent is laid out differently it is first copied into
    ``ref``'s layout (the result then shares no memory with it). A view of another dtype
    (``z.real``, ``view_as_real``) reads the same bytes of a tangent of ``ref``'s dtype."""
    a = tangent._data
    retyped = view.dtype != ref.dtype
    dtype = ref.dtype if retyped else a.dtype
    size = dtype.itemsize
    if a.dtype != dtype or a.shape != ref.shape or any(
            n > 1 and s != r for n, s, r in zip(ref.shape, a.strides,
                                                _scaled(ref.strides, size, ref.itemsize))):
        a = zeros_laid_out_as(ref, dtype)
        a[...] = tangent._data
        source = None
    else:
        source = tangent
    start = _address(a) + (_address(view) - _address(ref)) * size // ref.itemsize
    arr = _over(a, start, view.shape, _scaled(view.strides, size, ref.itemsize),
                view.dtype if retyped else dtype)
    out = _t._wrap(arr)
    if source is not None:
        _t._mark_view(out, source)
    return out
