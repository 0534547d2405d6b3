"""Comparison and logical ops: results are bool tensors and carry no gradient."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap
from ._out import out_error, write_out
from ._shape_utils import check_broadcast, operands, type_name


def _arrays(x, y):
    x, y = operands(x, y)
    a = x._data if isinstance(x, Tensor) else x
    b = y._data if isinstance(y, Tensor) else y
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape != b.shape:
        check_broadcast(a.shape, b.shape)
    return a, b


def _is_complex(v):
    """True for a complex array or number: complex numbers have no order."""
    return v.dtype.kind == "c" if type(v) is np.ndarray else type(v) is complex


def _cmp(ufunc, name, ordered=True):
    def op(input, other, *, out=None):
        if not isinstance(input, Tensor):  # torch takes a number as ``other`` only
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({type(input).__name__}, {type(other).__name__}), but expected "
                            "(Tensor input, Tensor other) or (Tensor input, Number other)")
        a, b = _arrays(input, other)
        if ordered and (type(a) is np.ndarray and a.dtype.kind == "c" or _is_complex(b)):
            dt = np.result_type(a, b)
            raise out_error(name, NotImplementedError(
                f'"{name}_cpu" not implemented for \'{type_name(dt)}\''), out, (input, other))
        return write_out(name, _wrap(np.asarray(ufunc(a, b))), out, (input, other))

    op.__name__ = ufunc.__name__
    op.__doc__ = f"Elementwise ``{ufunc.__name__}`` as a bool tensor."
    return op


eq = _cmp(np.equal, "eq", ordered=False)
ne = _cmp(np.not_equal, "ne", ordered=False)
lt = _cmp(np.less, "lt")
le = _cmp(np.less_equal, "le")
gt = _cmp(np.greater, "gt")
ge = _cmp(np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _need_tensors(name, input, other):
    """torch's TypeError for the ops that take no Python numbers."""
    for arg, pos, value in (("input", 1, input), ("other", 2, other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                            f"{type(value).__name__}")
    if input._data.shape != other._data.shape:
        check_broadcast(input._data.shape, other._data.shape)
    return input._data, other._data


def _logical(ufunc):
    def op(input, other, *, out=None):
        a, b = _need_tensors(ufunc.__name__, input, other)
        return write_out(ufunc.__name__, _wrap(np.asarray(ufunc(a, b))), out, (input, other))

    op.__name__ = ufunc.__name__
    op.__doc__ = f"Elementwise ``{ufunc.__name__}`` (non-zero is True) as a bool tensor."
    return op


logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)
logical_xor = _logical(np.logical_xor)


def logical_not(input, *, out=None):
    """Elementwise NOT (non-zero is True)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"logical_not(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return write_out("logical_not", _wrap(np.logical_not(input._data)), out, (input,))


def _bitwise(ufunc, name):
    def op(input, other):
        a, b = _arrays(input, other)
        rt = np.result_type(a, b)
        if rt.kind in "fc":
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
    if input._data.dtype.kind in "fc":
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for "
                                  f"'{type_name(input._data.dtype)}'")
    return _wrap(np.invert(input._data))


def equal(input, other):
    """True if both have the same shape and elements."""
    for arg, pos, value in (("input", 1, input), ("other", 2, other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"equal(): argument '{arg}' (position {pos}) must be Tensor, not "
                            f"{type(value).__name__}")
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data,
                                                                          other._data))


def _close(name, input, other, rtol, atol, equal_nan):
    a, b = _need_tensors(name, input, other)
    if a.dtype != b.dtype:  # torch compares like with like only
        raise RuntimeError(f"{type_name(a.dtype)} did not match {type_name(b.dtype)}")
    for tol, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"{tol} must be greater than or equal to zero, but got {value}")
    return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if all elements are close (torch's formula |a - b| <= atol + rtol |b|)."""
    return bool(np.all(_close("allclose", input, other, rtol, atol, equal_nan)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise closeness as a bool tensor (same dtypes, as torch requires)."""
    return _wrap(np.asarray(_close("isclose", input, other, rtol, atol, equal_nan)))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of ``elements`` occurs in ``test_elements``."""
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    bad = next((dt for dt in (e.dtype, t.dtype) if dt.kind in "bc"), None)
    if bad is not None:  # torch's kernel has no bool or complex loop
        raise RuntimeError(f"Unsupported input type encountered for isin(): {type_name(bad)}")
    return _wrap(np.asarray(np.isin(e, t, assume_unique=assume_unique, invert=invert)))
