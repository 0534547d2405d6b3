"""The C library's math functions, for the few places where ATen calls them and NumPy's
versions (or ember's own) round differently in the last bits, enough to show in torch's
results: ``lgamma`` above all, which no C library rounds correctly, so a rejection test in
``poisson``'s sampler or an incomplete gamma function inherits its particular roundings.

Looked up on first use (finding the library can start a subprocess); where no C math
library can be loaded, callers fall back on their NumPy versions.
"""
from __future__ import annotations

import ctypes
import functools

import numpy as np


@functools.cache
def _library():
    import ctypes.util  # finding the library can start a subprocess: only when first needed

    try:
        return ctypes.CDLL(ctypes.util.find_library("m") or None)
    except (OSError, TypeError):  # pragma: no cover - no C math library to load
        return None


@functools.cache
def function(name: str, nargs: int = 1):
    """The C function ``name`` of ``nargs`` arguments (floats for names ending in ``f``, as
    ``lgammaf``; doubles otherwise), or None when it cannot be had."""
    lib = _library()
    fn = getattr(lib, name, None) if lib is not None else None
    if fn is None:  # pragma: no cover - depends on the platform
        return None
    c_type = ctypes.c_float if name.endswith("f") else ctypes.c_double
    fn.restype, fn.argtypes = c_type, [c_type] * nargs
    return fn


def apply(name: str, *args: np.ndarray, fallback) -> np.ndarray:
    """``name`` of the C library elementwise over ``args`` (broadcast; one call per element,
    about a microsecond each), or ``fallback(*args)`` where the library lacks it."""
    fn = function(name, len(args))
    if fn is None:  # pragma: no cover - depends on the platform
        return fallback(*args)
    dtype = np.float32 if name.endswith("f") else np.float64
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype) for v in args))
    columns = [v.reshape(-1).tolist() for v in arrays]
    out = np.array([fn(*vals) for vals in zip(*columns)] if len(args) > 1 else
                   [fn(v) for v in columns[0]], dtype)
    return out.reshape(arrays[0].shape)
