"""The float32 second operand of torch's float16 multiply and divide.

torch's CPU ``mul`` and ``div`` of a float16 tensor by a lone value (a number, or a
one-element tensor that keeps the result float16) read that value's original number in
float32 and round each result once: ``x / 70000`` is ``x / 70000.0f``, never ``x / inf``
(70000 as float16), and ``x * 0.1`` is ``x * 0.1f``. Addition has no such path.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor

HALF = np.dtype(np.float16)


def half_scalar(other, x_ndim=1):
    """``other`` as the float32 array torch's float16 ``mul`` / ``div`` reads, or None when
    the ordinary path (``other`` cast to float16 first) computes the same or does not apply.
    ``x_ndim``: the float16 operand's dims; a 0-d one and a 0-d float tensor promote."""
    if isinstance(other, Tensor):
        a = other._data
        if other._rg or a.size != 1 or a.dtype == np.float16 or a.dtype.kind not in "iuf":
            return None
        if a.dtype.kind == "f" and (a.ndim or not x_ndim):  # the result is float32 or wider
            return None
        with np.errstate(over="ignore"):
            return a.astype(np.float32)
    if type(other) is float or (type(other) is int and -2 ** 63 <= other < 2 ** 63):
        with np.errstate(over="ignore"):
            return np.asarray(other, np.float32)
    return None
