"""Integer arithmetic torch's way: ``floor_divide`` (``div`` with a rounding mode),
``remainder`` (Python's sign rule) and ``fmod`` (C's), exact as torch's kernels; torch's errors
for integer division (none for bool, none by zero); integer powers with negative exponents."""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Op
from ._shape_utils import check_broadcast, operands, sum_to_shape, type_name
from .elementwise import div


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


class Remainder(Op):
    """z = x - y floor(x / y), exactly (C's fmod, then moved to the divisor's sign, as torch's
    kernel); dz/dx = 1, dz/dy = -floor(x / y)"""

    @staticmethod
    def forward(ctx, x, y, *, node_name):
        ctx.show_as(node_name)
        return _modulus_forward(ctx, x, y, fmod_only=False)

    @staticmethod
    def backward(ctx, grad):
        return _modulus_backward(ctx, grad, np.floor)


class Fmod(Op):
    """z = x - y trunc(x / y) (C's fmod: the dividend's sign); dz/dx = 1,
    dz/dy = -trunc(x / y)"""

    @staticmethod
    def forward(ctx, x, y, *, node_name):
        ctx.show_as(node_name)
        return _modulus_forward(ctx, x, y, fmod_only=True)

    @staticmethod
    def backward(ctx, grad):
        return _modulus_backward(ctx, grad, np.trunc)


def _modulus_forward(ctx, x, y, fmod_only):
    xa, ya = np.asarray(x), np.asarray(y)
    ctx.shapes = (xa.shape, ya.shape)
    ctx.save_for_backward(x, y)
    if xa.dtype.kind != "f" and ya.dtype.kind != "f":
        return np.fmod(x, y) if fmod_only else np.remainder(x, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        mod = np.fmod(x, y)
        if not fmod_only:
            mod = np.where((mod != 0) & ((ya < 0) != (mod < 0)), mod + y, mod)
    return np.asarray(mod).astype(np.result_type(x, y), copy=False)


def _modulus_backward(ctx, grad, rounding):
    if not isinstance(ctx.saved_tensors[0], np.ndarray):  # a number % a tensor: as torch
        raise RuntimeError(f"derivative for aten::{'fmod' if rounding is np.trunc else 'remainder'}"
                           " is not implemented")
    x, y = ctx.saved_tensors
    gx = gy = None
    if ctx.needs_input_grad[0]:
        gx = sum_to_shape(grad, ctx.shapes[0])
    if ctx.needs_input_grad[1]:
        with np.errstate(invalid="ignore", divide="ignore"):
            gy = sum_to_shape(-grad * rounding(x / y), ctx.shapes[1]).astype(grad.dtype)
    return gx, gy


def _modulus(op, name, input, other):
    """``op`` on torch's result dtype; the node named as torch's (a scalar divisor: ``0``)."""
    x, y = operands(input, other)
    suffix = "1" if isinstance(x, Tensor) and isinstance(y, Tensor) else "0"
    return op.apply(x, y, node_name=f"{name}Backward{suffix}")


def remainder(input, other):
    """Python-style modulus (sign of the divisor); gradient 1 for ``input``."""
    input = _modulus_input("remainder_cpu", input, other)
    return _modulus(Remainder, "Remainder", input, other)


def fmod(input, other):
    """C-style modulus (sign of the dividend).

    Raises:
        TypeError: a number as ``input`` (torch has no such overload, unlike ``remainder``).
    """
    if not isinstance(input, Tensor):
        from .. import _arg_errors

        raise _arg_errors.invalid_combination(
            "fmod", (input, other), expected=("(Tensor input, Tensor other, *, Tensor out = None)",
                                              "(Tensor input, Number other, *, Tensor out = None)"))
    input = _modulus_input("fmod_cpu", input, other)
    return _modulus(Fmod, "Fmod", input, other)


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
