"""Integer arithmetic torch's way: ``floor_divide``, ``remainder`` (Python's sign rule) and
``fmod`` (C's), built from ``div`` with a rounding mode; torch's errors for integer division
(none for bool, none by zero); integer powers with negative exponents."""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._shape_utils import check_broadcast, operands, type_name
from .elementwise import div, mul, sub


def _check_integer_division(kernel, kind, divisor, dividend):
    """torch's errors for integer division: none for bool, and none by zero (unless the
    result is empty: the kernel then divides nothing)."""
    if kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if not np.all(divisor) and np.prod(np.broadcast_shapes(np.shape(dividend),
                                                          np.shape(divisor))):
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
        _check_integer_division(kernel, kind, ya, x._data if isinstance(x, Tensor) else x)
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


def _negative_integer_exponents(x, y):
    """Whether NumPy's integer power would refuse ``x ** y`` (an integer exponent below 0)."""
    return (isinstance(y, np.ndarray) and y.dtype.kind in "iu" and x.dtype.kind in "biu"
            and (y < 0).any())


def _integer_power(x, y):
    """torch's integer ``x ** y`` where some ``y < 0``: 1 ** y is 1, (-1) ** y is -1 for odd
    ``y``, anything else is 0 (integer division of 1 by a power), 0 ** y included."""
    negative = y < 0
    out = np.power(x, np.where(negative, 0, y))
    base = np.broadcast_to(x, out.shape)
    unit = np.where((base == -1) & (y % 2 == 1), -1, np.where(np.abs(base) == 1, 1, 0))
    return np.where(negative, unit, out).astype(out.dtype)
