"""Integer-style division: ``floor_divide``, ``remainder`` (Python's sign rule) and ``fmod``
(C's), built from ``div`` with a rounding mode; and torch's errors for integer division (none
for bool, none by zero)."""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._shape_utils import check_broadcast, operands, type_name
from .elementwise import div, mul, sub


def _check_integer_division(kernel, kind, divisor):
    """torch's errors for integer division: none for bool, and none by zero."""
    if kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if not np.all(divisor):
        raise RuntimeError("ZeroDivisionError")


def _modulus_input(kernel, input, other):
    """``input`` ready for ``remainder``/``fmod``: torch's errors checked (shapes first, then
    no complex, then ``_check_integer_division``), a bool ``input`` cast to the result dtype
    (``sub`` refuses bools, torch's kernels do not)."""
    x, y = operands(input, other)
    ya = y._data if isinstance(y, Tensor) else y
    check_broadcast(np.shape(x._data if isinstance(x, Tensor) else x), np.shape(ya))
    result = _dtype.result_type(input, other)
    kind = result.np.kind
    if kind == "c":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(result.np)}'")
    if kind in "iub":
        _check_integer_division(kernel, kind, ya)
    if isinstance(input, Tensor) and input._data.dtype == np.bool_:
        input = input.to(result)
    return input


def floor_divide(input, other):
    """Elementwise floor of the quotient (no gradient)."""
    return div(input, other, rounding_mode="floor")


def remainder(input, other):
    """Python-style modulus (sign of the divisor); gradient 1 for ``input``."""
    input = _modulus_input("remainder_cpu", input, other)
    return sub(input, mul(floor_divide(input, other), other))


def fmod(input, other):
    """C-style modulus (sign of the dividend)."""
    input = _modulus_input("fmod_cpu", input, other)
    return sub(input, mul(div(input, other, rounding_mode="trunc"), other))
