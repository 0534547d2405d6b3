"""Integer-only pointwise functions (no gradient): ``gcd``, ``lcm`` and the bit shifts."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._shape_utils import check_broadcast, operands, type_name
from .elementwise import _plain
from .pointwise_special import _need_tensor


def _integer_operands(name, kernel, input, other, scalars=False):
    if not scalars:
        _need_tensor(name, input)
        _need_tensor(name, other, 2, "other")
    elif not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__})")
    x, y = operands(input, other)
    if isinstance(x, Tensor) and isinstance(y, Tensor):  # torch checks shapes before dtypes
        check_broadcast(x._data.shape, y._data.shape)
    dtype = (x if isinstance(x, Tensor) else y)._data.dtype
    if dtype.kind not in "iu":
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{type_name(dtype)}\'')
    xa = x._data if isinstance(x, Tensor) else np.asarray(x, dtype)
    ya = y._data if isinstance(y, Tensor) else np.asarray(y, dtype)
    return xa.astype(dtype, copy=False), ya.astype(dtype, copy=False), dtype


def gcd(input, other):
    """Elementwise greatest common divisor (integer tensors; always non-negative)."""
    x, y, _ = _integer_operands("gcd", "gcd", input, other)
    return _plain(np.gcd(x, y))


def lcm(input, other):
    """Elementwise least common multiple (integer tensors; always non-negative)."""
    x, y, _ = _integer_operands("lcm", "lcm", input, other)
    return _plain(np.lcm(x, y))


def bitwise_left_shift(input, other):
    """``input << other``; shifts that are negative or not below the bit width give 0."""
    x, y, dtype = _integer_operands("bitwise_left_shift", "lshift", input, other, True)
    bits = dtype.itemsize * 8
    unsigned = np.dtype(f"u{dtype.itemsize}")
    out = np.left_shift(x.astype(unsigned), np.clip(y, 0, bits - 1).astype(unsigned))
    return _plain(np.where((y < 0) | (y >= bits), 0, out.astype(dtype)).astype(dtype))


def bitwise_right_shift(input, other):
    """``input >> other``; shifts that are negative or too wide fill with the sign bit."""
    x, y, dtype = _integer_operands("bitwise_right_shift", "rshift", input, other, True)
    top = dtype.itemsize * 8 - (dtype.kind == "i")  # torch's largest meaningful shift
    if dtype.kind == "u":
        out = np.where(y >= top, 0, np.right_shift(x, np.clip(y, 0, top - 1)))
    else:
        out = np.right_shift(x, np.where((y < 0) | (y > top), top, y))
    return _plain(np.asarray(out).astype(dtype, copy=False))
