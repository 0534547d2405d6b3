"""Comparison and logical ops: results are bool tensors and carry no gradient."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap
from ._shape_utils import check_broadcast, operands, type_name


def _arrays(x, y):
    x, y = operands(x, y)
    a = x._data if isinstance(x, Tensor) else x
    b = y._data if isinstance(y, Tensor) else y
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape != b.shape:
        check_broadcast(a.shape, b.shape)
    return a, b


def _cmp(ufunc):
    def op(input, other):
        a, b = _arrays(input, other)
        return _wrap(np.asarray(ufunc(a, b)))

    op.__name__ = ufunc.__name__
    op.__doc__ = f"Elementwise ``{ufunc.__name__}`` as a bool tensor."
    return op


eq = _cmp(np.equal)
ne = _cmp(np.not_equal)
lt = _cmp(np.less)
le = _cmp(np.less_equal)
gt = _cmp(np.greater)
ge = _cmp(np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(ufunc):
    def op(input, other):
        a = input._data if isinstance(input, Tensor) else np.asarray(input)
        b = other._data if isinstance(other, Tensor) else np.asarray(other)
        return _wrap(np.asarray(ufunc(a, b)))

    op.__name__ = ufunc.__name__
    op.__doc__ = f"Elementwise ``{ufunc.__name__}`` (non-zero is True) as a bool tensor."
    return op


logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)
logical_xor = _logical(np.logical_xor)


def logical_not(input):
    """Elementwise NOT (non-zero is True)."""
    return _wrap(np.logical_not(input._data))


def _bitwise(ufunc, name):
    def op(input, other):
        a, b = _arrays(input, other)
        rt = np.result_type(a, b)
        if rt.kind == "f":
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{type_name(rt)}\'')
        return _wrap(np.asarray(ufunc(a, b)))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` of integer or bool tensors."
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(input):
    """Elementwise NOT of integer or bool tensors."""
    if input._data.dtype.kind == "f":
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for "
                                  f"'{type_name(input._data.dtype)}'")
    return _wrap(np.invert(input._data))


def equal(input, other):
    """True if both have the same shape and elements."""
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data,
                                                                          other._data))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if all elements are close (torch's formula |a - b| <= atol + rtol |b|)."""
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise closeness as a bool tensor."""
    b = other._data if isinstance(other, Tensor) else other
    return _wrap(np.isclose(input._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isin(elements, test_elements, *, invert=False):
    """True where an element of ``elements`` occurs in ``test_elements``."""
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return _wrap(np.isin(e, t, invert=invert))
