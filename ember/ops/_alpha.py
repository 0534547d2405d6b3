"""``alpha`` of ``add``/``sub`` (``x + alpha * y``): torch's checks of it, and the product
``alpha * y`` in ``y``'s dtype (integers wrapping as torch's casts do)."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._shape_utils import _fit_int


def times_alpha(y, alpha, dtype=None):
    """``alpha * y`` that keeps ``y``'s dtype: a Python number stays one (NumPy reads it
    weakly), where NumPy's product would be a strong int64 or float64 scalar; an integer
    product outside ``dtype`` (the other operand's) wraps into it, as torch's cast does."""
    if not isinstance(y, np.ndarray):
        if dtype == np.bool_:  # a bool result: alpha converts to bool (True + True * 2 is True)
            return bool(y) and bool(alpha)
        return y * alpha if dtype is None else _fit_int(y * alpha, dtype)
    if y.dtype == np.bool_:
        if dtype is None or dtype == np.bool_:
            return y & bool(alpha)
        y = y.astype(dtype)  # a bool operand is read in the other's dtype: True * 2 is 2
    return np.multiply(y, _fit_int(alpha, y.dtype) if type(alpha) is int else alpha)


def check_alpha(x, y, alpha, negated=False):
    """torch's errors for an ``alpha`` the result's dtype cannot take (``sub`` converts
    ``-alpha``: ``negated``)."""
    integral = all(v._data.dtype.kind in "iub" if isinstance(v, Tensor) else
                   not isinstance(v, (float, complex)) for v in (x, y))  # the result's dtype
    if isinstance(alpha, bool) and not all(  # a bool result: bool tensors, or one and a bool
            v._data.dtype == np.bool_ if isinstance(v, Tensor) else isinstance(v, bool)
            for v in (x, y)):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if integral and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if integral and type(alpha) is int:
        arrays = [v._data for v in (x, y) if isinstance(v, Tensor)]
        _check_alpha_fits(-alpha if negated else alpha, np.result_type(*arrays))


def check_alpha_after_out(name, x, y, alpha, out, negated=False):
    """:func:`check_alpha` after torch's earlier checks: the operands' shapes, then the cast
    of the result into ``out``."""
    from ._out import out_checked_first
    from ._shape_utils import check_broadcast

    with out_checked_first(name, out, (x, y)):
        if isinstance(x, Tensor) and isinstance(y, Tensor):
            check_broadcast(x._data.shape, y._data.shape)
        check_alpha(x, y, alpha, negated)


_C_INT_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int"}


def _check_alpha_fits(alpha, dtype):
    """torch converts an integer ``alpha`` to the result's type with an overflow check (an
    unsigned type also takes the negatives of its values, which wrap)."""
    if dtype.kind not in "iu":
        return
    info = np.iinfo(dtype)
    low = -int(info.max) if dtype.kind == "u" else int(info.min)
    if not low <= alpha <= info.max:
        if dtype == np.int64:
            raise OverflowError("int too big to convert")
        raise RuntimeError(f"value cannot be converted to type {_C_INT_NAMES[dtype.name]} "
                           "without overflow")
