"""Integer-style division: ``floor_divide``, ``remainder`` (Python's sign rule) and ``fmod``
(C's), built from ``div`` with a rounding mode; and torch's errors for integer division (none
for bool, none by zero)."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._shape_utils import operands, type_name
from .elementwise import div, mul, sub


def _check_integer_division(kernel, kind, divisor):
    """torch's errors for integer division: none for bool, and none by zero."""
    if kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if not np.all(divisor):
        raise RuntimeError("ZeroDivisionError")


def _check_modulus(kernel, input, other):
    """``_check_integer_division`` for ``remainder``/``fmod`` operands."""
    x, y = operands(input, other)
    ya = y._data if isinstance(y, Tensor) else y
    rt = np.result_type(x._data if isinstance(x, Tensor) else x, ya)
    kind = rt.kind
    if kind == "c":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(rt)}'")
    if kind in "iub":
        _check_integer_division(kernel, kind, ya)


def floor_divide(input, other):
    """Elementwise floor of the quotient (no gradient)."""
    return div(input, other, rounding_mode="floor")


def remainder(input, other):
    """Python-style modulus (sign of the divisor); gradient 1 for ``input``."""
    _check_modulus("remainder_cpu", input, other)
    return sub(input, mul(floor_divide(input, other), other))


def fmod(input, other):
    """C-style modulus (sign of the dividend)."""
    _check_modulus("fmod_cpu", input, other)
    return sub(input, mul(div(input, other, rounding_mode="trunc"), other))
