"""More elementwise math: torch's special functions and two-argument formulas.

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).
The special functions (erf, lgamma, ...) live in ``pointwise_special.py``, asin ... atanh in
``pointwise_trig.py``, the fused matrix products (addmv, baddbmm, ...) in ``products.py``;
their names are listed here.
"""
from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from . import _opmath, pointwise_special, pointwise_trig, products
from ._complex_pointwise import COMPLEX_BINARY, log_add_exp
from ._shape_utils import check_broadcast, operands, sum_to_shape, type_name
from .elementwise import _plain
from .pointwise_integer import (  # noqa: F401  (listed in __all__)
    bitwise_left_shift,
    bitwise_right_shift,
    gcd,
    lcm,
)
from .pointwise_special import (  # noqa: F401  (listed in __all__)
    _need_tensor,
    digamma,
    erf,
    erfc,
    erfinv,
    float_input,
    i0,
    lgamma,
    xlog1py,
)
from .pointwise_trig import (  # noqa: F401  (listed in __all__)
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    asin,
    asinh,
    atan,
    atanh,
    cosh,
    sinh,
)
from .products import addbmm, addmv, addr, baddbmm  # noqa: F401  (listed in __all__)

_LN2 = math.log(2)


# --- argument handling --------------------------------------------------------------------
def _not_implemented(name, dtype):
    return NotImplementedError(f'"{name}_cpu" not implemented for \'{type_name(dtype)}\'')


def _arrays(x, y, dtype):
    """Python numbers as 0-d arrays of the result dtype, so forward sees arrays only."""
    x = x if isinstance(x, Tensor) else np.asarray(x, dtype)
    y = y if isinstance(y, Tensor) else np.asarray(y, dtype)
    return x, y


def _result_dtype(x, y):
    return (x if isinstance(x, Tensor) else y)._data.dtype


def binary_float(op, name, input, other, *, scalars=False, ints=True, names=None):
    """Apply a two-input float op with torch's promotion.

    ``scalars``: a Python number may stand for either tensor (xlogy), or, when "other",
    for ``other`` only (copysign); without it both must be tensors. ``ints``: integer
    and bool results become the default float dtype; otherwise they raise torch's
    NotImplementedError. ``names``: the node's name for (tensor, tensor), (number, tensor)
    and (tensor, number).
    """
    if not scalars:
        _need_tensor(name, input)
        _need_tensor(name, other, 2, "other")
    elif not isinstance(input, Tensor) and (scalars == "other" or not isinstance(other, Tensor)):
        forms = ["(Tensor input, Tensor other, *, Tensor out = None)",
                 "(Number self, Tensor other, *, Tensor out = None)",
                 "(Tensor input, Number other, *, Tensor out = None)"]
        if scalars == "other":
            del forms[1]
        got = "Tensor" if isinstance(other, Tensor) else type(other).__name__
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {got}), but expected one of:\n"
                        + "".join(f" * {f}\n" for f in forms))
    x, y = operands(input, other, floating=ints)
    if isinstance(x, Tensor) and isinstance(y, Tensor):  # torch checks shapes before dtypes
        check_broadcast(x._data.shape, y._data.shape)
    dtype = _result_dtype(x, y)
    if dtype.kind != "f" and not (dtype.kind == "c" and name in COMPLEX_BINARY):
        raise _not_implemented(name, dtype)
    options = {}
    if names is not None:
        options["node_name"] = names[0 if isinstance(x, Tensor) and isinstance(y, Tensor)
                                     else 1 if isinstance(y, Tensor) else 2]
    x, y = _arrays(x, y, dtype)
    return op.apply(x, y, **options)


def _grads(ctx, grad, gx, gy, x, y):
    """Each operand's gradient (a function of nothing, called only when needed), summed
    back to its shape."""
    need = ctx.needs_input_grad
    return (sum_to_shape(gx(), x.shape).astype(grad.dtype, copy=False) if need[0] else None,
            sum_to_shape(gy(), y.shape).astype(grad.dtype, copy=False) if need[1] else None)


def _check_shapes(x, y):
    if x.shape != y.shape:
        check_broadcast(x.shape, y.shape)


# --- other unary functions -----------------------------------------------------------------
class Sinc(Op):
    """z = sin(pi x) / (pi x), 1 at 0"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):  # float16: torch's (see _opmath)
            return _opmath.sinc(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _opmath.sinc_grad(grad, x)  # float16: torch's formula, op by op


class Deg2Rad(Op):
    """z = x * pi / 180"""

    @staticmethod
    def forward(ctx, x):
        return _opmath.times(x, math.pi / 180)  # float16: the constant read as float32, as torch

    @staticmethod
    def backward(ctx, grad):
        return _opmath.times(grad, math.pi / 180)


class Rad2Deg(Op):
    """z = x * 180 / pi"""

    @staticmethod
    def forward(ctx, x):
        return _opmath.times(x, 180 / math.pi)  # float16: the constant read as float32, as torch

    @staticmethod
    def backward(ctx, grad):
        return _opmath.times(grad, 180 / math.pi)


class Frac(Op):
    """z = x - trunc(x) (gradient 1)"""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            return x - np.trunc(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Exp2(Op):
    """z = 2 ** x"""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):
            out = np.exp2(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return _opmath.times(grad * out, _LN2)  # float16: ln 2 read as float32, as torch


class Logit(Op):
    """z = log(x / (1 - x)), x clamped to [eps, 1 - eps] when eps is given"""

    @staticmethod
    def forward(ctx, x, *, eps=None):
        ctx.save_for_backward(x)
        ctx.eps = eps
        if eps is not None:  # torch's order: below eps first (matters when eps > 0.5)
            lo, hi = x.dtype.type(eps), x.dtype.type(1 - eps)
            x = np.where(x < lo, lo, np.where(x > hi, hi, x))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x / (1 - x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        with np.errstate(divide="ignore", invalid="ignore"):
            g = grad / (x * (1 - x))
            if eps is None:  # torch: nan outside [0, 1]; 0 outside [eps, 1 - eps] with eps
                return np.where((x < 0) | (x > 1), np.nan, g).astype(grad.dtype, copy=False)
            lo, hi = x.dtype.type(eps), x.dtype.type(1 - eps)
            return np.where((x < lo) | (x > hi), 0, g).astype(grad.dtype, copy=False)


# --- two-input functions -----------------------------------------------------------------
class Atan2(Op):
    """z = atan2(x, y), the angle of the point (y, x)"""

    @staticmethod
    def forward(ctx, x, y):
        _check_shapes(x, y)
        ctx.save_for_backward(x, y)
        return _opmath.atan2(x, y)  # float16: in float32, rounded once, as torch

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        r2 = x * x + y * y
        with np.errstate(divide="ignore"):
            recip = np.where(r2 == 0, 0, 1 / r2).astype(r2.dtype)  # torch: 0 at the origin
        return _grads(ctx, grad, lambda: grad * y * recip, lambda: grad * -x * recip, x, y)


class Hypot(Op):
    """z = sqrt(x**2 + y**2)"""

    @staticmethod
    def forward(ctx, x, y):
        _check_shapes(x, y)
        out = np.hypot(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):  # nan at (0, 0), as torch
            return _grads(ctx, grad, lambda: grad * x / out, lambda: grad * y / out, x, y)


def _log_add(x, y, exp, scale):
    """torch's formula: max + log1p(exp(-|x - y|)) (times 1/ln 2 for base 2), the infinity
    itself where both are the same infinity."""
    if x.dtype.kind == "c":
        return log_add_exp(x, y)
    m = np.maximum(x, y)
    with np.errstate(invalid="ignore"):
        d = np.log1p(exp(-np.abs(x - y)))
        out = m + (d if scale == 1 else d * scale)
        return np.where(np.isinf(x) & (x == y), x, out).astype(out.dtype, copy=False)


class Logaddexp(Op):
    """z = log(exp(x) + exp(y))"""

    @staticmethod
    def forward(ctx, x, y):
        _check_shapes(x, y)
        ctx.save_for_backward(x, y)
        return _log_add(x, y, np.exp, 1)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        with np.errstate(over="ignore", invalid="ignore"):
            return _grads(ctx, grad, lambda: grad / (1 + np.exp(y - x)),
                          lambda: grad / (1 + np.exp(x - y)), x, y)


class Logaddexp2(Op):
    """z = log2(2**x + 2**y)"""

    @staticmethod
    def forward(ctx, x, y):
        _check_shapes(x, y)
        ctx.save_for_backward(x, y)
        return _log_add(x, y, np.exp2, 1 / _LN2)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        with np.errstate(over="ignore", invalid="ignore"):
            return _grads(ctx, grad, lambda: grad / (1 + np.exp2(y - x)),
                          lambda: grad / (1 + np.exp2(x - y)), x, y)


class Xlogy(Op):
    """z = x * log(y), 0 where x == 0 (unless y is nan)"""

    @staticmethod
    def forward(ctx, x, y, *, node_name="XlogyBackward0"):
        _check_shapes(x, y)
        ctx.show_as(node_name)
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(np.isnan(y), np.nan, np.where(x == 0, 0, x * np.log(y)))
        return out.astype(np.result_type(x, y), copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return _grads(ctx, grad,
                          lambda: grad * np.where((x == 0) & (y <= 0), 0, np.log(y)),
                          lambda: grad * x / y, x, y)


class Copysign(Op):
    """z = |x| with the sign of y (gradient sign-flip for x, 0 at x == 0; none for y)"""

    @staticmethod
    def forward(ctx, x, y, *, node_name="CopysignBackward0"):
        _check_shapes(x, y)
        ctx.show_as(node_name)
        out = np.copysign(x, y)
        ctx.save_for_backward(x, out)
        ctx.y_shape = y.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(x == 0, 0, out / x)
        need = ctx.needs_input_grad
        gx = sum_to_shape(grad * ratio, x.shape).astype(grad.dtype, copy=False) if need[0] \
            else None
        gy = np.zeros(ctx.y_shape, grad.dtype) if need[1] else None
        return gx, gy


class Nextafter(Op):
    """z = the next float after x towards y (gradient 1 for x, 0 for y, as torch)"""

    @staticmethod
    def forward(ctx, x, y):
        _check_shapes(x, y)
        ctx.x_shape, ctx.y_shape = x.shape, y.shape
        return np.nextafter(x, y)

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        gx = sum_to_shape(grad, ctx.x_shape) if need[0] else None
        gy = np.zeros(ctx.y_shape, grad.dtype) if need[1] else None
        return gx, gy


class Ldexp(Op):
    """z = x * 2 ** y"""

    @staticmethod
    def forward(ctx, x, y, *, exact=False):
        _check_shapes(x, y)
        with np.errstate(over="ignore"):
            if exact:  # torch's kernel for integer exponents: ldexp with an int32 exponent
                e = y.astype(np.int32)
                scale, out = np.ldexp(np.ones((), x.dtype), e), np.ldexp(x, e)
            else:
                scale = np.exp2(y)
                out = x * scale
        ctx.save_for_backward(scale, out)
        ctx.x_shape, ctx.y_shape = x.shape, y.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        scale, out = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = sum_to_shape(grad * scale, ctx.x_shape) if need[0] else None
        gy = sum_to_shape(grad * out * _LN2, ctx.y_shape) if need[1] else None
        return gx, gy


class Heaviside(Op):
    """z = 0 for x < 0, values for x == 0, 1 for x > 0 (no derivative in torch)"""

    _backward_name = "torch::autograd::NotImplemented"  # torch's node for a missing formula

    @staticmethod
    def forward(ctx, x, values):
        _check_shapes(x, values)
        return np.where(x == 0, values, x > 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::heaviside is not implemented")


# --- wrappers ------------------------------------------------------------------------------
def sinc(input):
    """Normalised sinc, ``sin(pi x) / (pi x)``, 1 at 0."""
    return Sinc.apply(float_input("sinc", input))


def deg2rad(input):
    """Degrees to radians."""
    return Deg2Rad.apply(float_input("deg2rad", input))


def rad2deg(input):
    """Radians to degrees."""
    return Rad2Deg.apply(float_input("rad2deg", input))


def frac(input):
    """Fractional part ``x - trunc(x)`` (float tensors only, as torch)."""
    _need_tensor("frac", input)
    if input._data.dtype.kind != "f":
        raise _not_implemented("frac", input._data.dtype)
    return Frac.apply(input)


def exp2(input):
    """Elementwise ``2 ** x``."""
    return Exp2.apply(float_input("exp2", input))


def logit(input, eps=None):
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to ``[eps, 1 - eps]``
    (and the gradient is 0 outside that range, as torch)."""
    x = float_input("logit", input)
    return Logit.apply(x) if eps is None else Logit.apply(x, eps=float(eps))


def signbit(input):
    """True where the sign bit is set (-0.0 and negative numbers, nan with its sign)."""
    _need_tensor("signbit", input)
    x = input._data
    if x.dtype.kind == "c":
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    return _plain(np.signbit(x) if x.dtype.kind == "f" else np.less(x, 0))


def atan2(input, other):
    """Elementwise ``atan2(input, other)``: the angle of the point ``(other, input)``."""
    return binary_float(Atan2, "atan2", input, other)


arctan2 = atan2


def hypot(input, other):
    """Elementwise ``sqrt(input**2 + other**2)`` (float tensors only, as torch)."""
    return binary_float(Hypot, "hypot", input, other, ints=False)


def logaddexp(input, other):
    """``log(exp(input) + exp(other))`` without overflow (float tensors only)."""
    return binary_float(Logaddexp, "logaddexp", input, other, ints=False)


def logaddexp2(input, other):
    """``log2(2**input + 2**other)`` without overflow (float tensors only)."""
    return binary_float(Logaddexp2, "logaddexp2", input, other, ints=False)


def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (nan where ``other`` is nan)."""
    return binary_float(Xlogy, "xlogy", input, other, scalars=True,
                        names=("XlogyBackward0", "XlogyBackward1", "XlogyBackward2"))


def copysign(input, other):
    """``|input|`` with the sign of ``other`` (a tensor or a number)."""
    return binary_float(Copysign, "copysign", input, other, scalars="other",
                        names=("CopysignBackward0", None, "CopysignBackward1"))


def nextafter(input, other):
    """The next representable float after ``input`` towards ``other``."""
    return binary_float(Nextafter, "nextafter", input, other, ints=False)


def ldexp(input, other):
    """``input * 2 ** other``; a float ``input`` with an integer ``other`` is scaled exactly,
    without forming ``2 ** other`` (so ``-0.0 * 2 ** 250`` stays ``-0.0``), as torch.

    Raises:
        NotImplementedError: a float ``input`` with a bool ``other``.
    """
    if (isinstance(input, Tensor) and isinstance(other, Tensor)
            and input._data.dtype.kind == "f" and other._data.dtype.kind in "biu"):
        check_broadcast(input._data.shape, other._data.shape)
        if other._data.dtype.kind == "b":
            raise NotImplementedError(
                f"\"ldexp_cpu_exp\" not implemented for '{type_name(other._data.dtype)}'")
        return Ldexp.apply(input, other, exact=True)
    return binary_float(Ldexp, "ldexp", input, other)


def heaviside(input, values):
    """Step function: 0 below 0, ``values`` at 0, 1 above; both tensors of one dtype."""
    _need_tensor("heaviside", input)
    _need_tensor("heaviside", values, 2, "values")
    if input._data.dtype.kind == "c" or values._data.dtype.kind == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return Heaviside.apply(input, values)


# --- in-place methods ----------------------------------------------------------------------
def _inplace(fn):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``; returns self."
    return method


_FUNCTIONS = """asin acos atan sinh cosh asinh acosh atanh arcsin arccos arctan arcsinh arccosh
arctanh atan2 arctan2 hypot logaddexp logaddexp2 xlogy copysign nextafter ldexp heaviside
sinc deg2rad rad2deg frac signbit exp2 logit gcd lcm bitwise_left_shift bitwise_right_shift
erf erfc erfinv lgamma digamma i0 addmv addr baddbmm addbmm""".split()
# torch has the in-place method for each function but these; the torch.<name>_ functions
# only for some
_NO_INPLACE = {"logaddexp", "logaddexp2", "signbit"}
_INPLACE_FUNCTIONS = """asin acos atan sinh cosh asinh acosh atanh arcsin arccos arctan arcsinh
arccosh arctanh xlogy ldexp sinc deg2rad rad2deg frac exp2 logit gcd lcm erf erfc i0
addmv""".split()
for _name in _FUNCTIONS:
    if _name not in _NO_INPLACE:
        globals()[_name + "_"] = _inplace(globals()[_name])
        setattr(Tensor, _name + "_", globals()[_name + "_"])

Tensor.__lshift__ = lambda self, other: bitwise_left_shift(self, other)
Tensor.__rlshift__ = lambda self, other: bitwise_left_shift(other, self)
Tensor.__rshift__ = lambda self, other: bitwise_right_shift(self, other)
Tensor.__rrshift__ = lambda self, other: bitwise_right_shift(other, self)
Tensor.__ilshift__ = lambda self, other: self._inplace(bitwise_left_shift, other)
Tensor.__irshift__ = lambda self, other: self._inplace(bitwise_right_shift, other)

__all__ = _FUNCTIONS + [name + "_" for name in _INPLACE_FUNCTIONS]
TENSOR_METHODS: tuple[str, ...] = tuple(_FUNCTIONS)  # the in-place ones are set above
del pointwise_special, pointwise_trig, products, xlog1py  # xlog1py: ember.special's only
