"""A tensor's storage as NumPy sees it: the array that owns the memory, offsets into it, and
strided views over it whose ``.base`` leads back to it (so ``storage_offset`` and sharing
checks keep working on them)."""
from __future__ import annotations

import numpy as np


def storage_root(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory, following NumPy's bases (also through the
    ``DummyArray`` that ``np.lib.stride_tricks.as_strided`` leaves behind)."""
    while True:
        b = a.base
        if isinstance(b, np.ndarray):
            a = b
        elif b is not None and isinstance(getattr(b, "base", None), np.ndarray):
            a = b.base
        else:
            return a


def offset_in(a: np.ndarray, root: np.ndarray) -> int:
    """Where ``a``'s first element lies in ``root``, in elements."""
    return (a.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // a.itemsize


def strided_over(root: np.ndarray, shape, strides, offset: int) -> np.ndarray:
    """The view of ``root``'s memory with ``shape``, ``strides`` and ``offset`` (in elements);
    the caller has checked that it stays inside the memory."""
    item = root.itemsize
    byte_strides = tuple(int(s) * item for s in strides)
    if root.flags.c_contiguous:
        return np.ndarray(tuple(shape), root.dtype, buffer=root, offset=int(offset) * item,
                          strides=byte_strides)
    flat = np.lib.stride_tricks.as_strided(root, (root.nbytes // item,), (item,))
    return np.lib.stride_tricks.as_strided(flat[int(offset):], tuple(shape), byte_strides,
                                           writeable=root.flags.writeable)
