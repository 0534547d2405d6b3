"""Reductions that NumPy's general machinery makes slow at the sizes of a training batch."""
from __future__ import annotations

import numpy as np

_AS_UNSIGNED = {np.dtype(f"i{n}"): np.dtype(f"u{n}") for n in (1, 2, 4, 8)}
_FILLED = {}
_KEEP_UP_TO = 1 << 16


def out_of_range(idx: np.ndarray, n: int) -> bool:
    """Whether an integer id lies outside ``[0, n)``, in one pass over the ids instead of
    min and max: seen as unsigned, a negative id is larger than any valid one."""
    if idx.dtype.kind == "u":
        return bool(np.maximum.reduce(idx, axis=None) >= n)
    unsigned = _AS_UNSIGNED.get(idx.dtype)
    if unsigned is None:  # a non-native byte order
        return bool(idx.min() < 0 or idx.max() >= n)
    return bool(np.maximum.reduce(idx.view(unsigned), axis=None) >= n)


def filled(n: int, value: float, dtype) -> np.ndarray:
    """A read-only vector of ``n`` copies of ``value``; short ones are kept for the next call
    like it."""
    if n > _KEEP_UP_TO:
        return np.full(n, value, dtype)
    key = (n, value, dtype)
    v = _FILLED.get(key)
    if v is None:
        if len(_FILLED) >= 16:
            _FILLED.clear()
        v = _FILLED[key] = np.full(n, value, dtype)
        v.flags.writeable = False
    return v


def blas_ok(a: np.ndarray) -> bool:
    """Whether ``a`` is a float32 or float64 matrix, whose column sums a BLAS product can do:
    ``ones @ a`` takes half the time of ``a.sum(axis=0)`` for the (N, C) arrays of a small
    step, where NumPy adds row after row."""
    return a.ndim == 2 and a.dtype.char in "fd"
