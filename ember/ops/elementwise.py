"""Elementwise ops: arithmetic, powers, clamping, rounding (exp/log/sqrt/trig: unary.py;
activations: activation.py).

Each op's forward and backward sit side by side; gradients of broadcast operands are
summed back to the operand's shape with ``sum_to_shape``.
"""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .._memory_format import copy_in
from .._tensor import Tensor, _wrap
from ..autograd import grad_mode
from ..autograd.function import Op, _record
from . import _opmath
from ._alpha import check_alpha_after_out as _check_alpha
from ._alpha import times_alpha as _times_alpha
from ._opmath import HALF, half_scalar, times
from ._out import out_checked_first
from ._shape_utils import check_broadcast, operands, sparse_op, sum_to_shape, type_name


def _bshape_check(x, y):
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.shape != y.shape:
        check_broadcast(x.shape, y.shape)


def _shape(v):
    return v.shape if isinstance(v, np.ndarray) else ()


# --- arithmetic ---------------------------------------------------------------------
class Add(Op):
    """z = x + alpha * y"""

    @staticmethod
    def forward(ctx, x, y, *, alpha=1):
        _bshape_check(x, y)
        ctx.x_shape, ctx.y_shape, ctx.alpha = _shape(x), _shape(y), alpha
        return np.add(x, y) if alpha == 1 else _opmath.plus_scaled(x, y, alpha, _times_alpha)

    @staticmethod
    def backward(ctx, grad):
        gx = sum_to_shape(grad, ctx.x_shape) if ctx.needs_input_grad[0] else None
        gy = None
        if ctx.needs_input_grad[1]:
            gy = sum_to_shape(grad if ctx.alpha == 1 else times(grad, ctx.alpha), ctx.y_shape)
        return gx, gy


class Sub(Op):
    """z = x - alpha * y"""

    @staticmethod
    def forward(ctx, x, y, *, alpha=1, node_name=None):
        _bshape_check(x, y)
        ctx.x_shape, ctx.y_shape, ctx.alpha = _shape(x), _shape(y), alpha
        if node_name:
            ctx.show_as(node_name)
        return np.subtract(x, y) if alpha == 1 else _opmath.plus_scaled(x, y, -alpha, _times_alpha)

    @staticmethod
    def backward(ctx, grad):
        gx = sum_to_shape(grad, ctx.x_shape) if ctx.needs_input_grad[0] else None
        gy = times(-grad, ctx.alpha) if ctx.needs_input_grad[1] else None  # float16: as torch
        return gx, (None if gy is None else sum_to_shape(gy, ctx.y_shape))


class Mul(Op):
    """z = x * y"""

    @staticmethod
    def forward(ctx, x, y, *, opmath=False):
        # opmath: x float16, y float32 (``_opmath.half_scalar``): multiplied in float32
        _bshape_check(x, y)
        need = ctx.needs_input_grad
        if need:  # each gradient needs the *other* operand only
            ctx.save_for_backward(x if need[1] else None, y if need[0] else None)
            ctx.x_shape, ctx.y_shape = _shape(x), _shape(y)
        return np.multiply(x, y).astype(x.dtype) if opmath else np.multiply(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = None
        if ctx.needs_input_grad[0]:
            gx = grad * y
            if gx.dtype != grad.dtype:  # float16 by an opmath factor
                gx = gx.astype(grad.dtype)
            gx = sum_to_shape(gx, ctx.x_shape)
        gy = sum_to_shape(grad * x, ctx.y_shape) if ctx.needs_input_grad[1] else None
        return gx, gy


class Div(Op):
    """z = x / y"""

    @staticmethod
    def forward(ctx, x, y, *, opmath=False):
        # opmath: x float16, y float32 (``_opmath.half_scalar``): divided in float32
        _bshape_check(x, y)
        need = ctx.needs_input_grad
        if need:  # the numerator only for the denominator's gradient, as torch saves them
            ctx.save_for_backward(x if need[1] else None, y)
            ctx.x_shape, ctx.y_shape = _shape(x), _shape(y)
        with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 is inf or nan, silently
            return np.true_divide(x, y).astype(x.dtype) if opmath else np.true_divide(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = None
        if ctx.needs_input_grad[0]:
            gx = grad / y
            if gx.dtype != grad.dtype:  # float16 by an opmath divisor
                gx = gx.astype(grad.dtype)
            gx = sum_to_shape(gx, ctx.x_shape)
        # torch's order, (x / y) / y: y * y would overflow first (float16 past 256)
        gy = sum_to_shape(-grad * (x / y / y), ctx.y_shape) if ctx.needs_input_grad[1] else None
        return gx, gy


class Neg(Op):
    """z = -x"""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Op):
    """z = x ** y (tensor or scalar exponent, tensor or scalar base)"""

    @staticmethod
    def forward(ctx, x, y, *, node_name="PowBackward0"):
        _bshape_check(x, y)
        # torch's names: tensor ** number 0, tensor ** tensor 1, number ** tensor 2
        ctx.show_as(node_name)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1, (-1) ** 0.5: as torch
            out = _integer_power(x, y) if _negative_integer_exponents(x, y) else np.power(x, y)
        if out.dtype != x.dtype:  # NumPy raises bools to int8; torch keeps the operands' dtype
            out = out.astype(x.dtype)
        ctx.save_for_backward(x, y, None if node_name == "PowBackward0" else out)  # as torch
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors  # (out: None for a number exponent, needed for y only)
        if grad.dtype is HALF and (half := _opmath.pow_grad_half(ctx, grad, x, y, out)) is not None:
            return half  # torch's float16 formulas, op by op
        gx = gy = None
        if ctx.needs_input_grad[0]:
            if isinstance(y, np.ndarray):
                gx = grad * y * np.power(x, y - 1)
            elif y == 0:
                gx = np.zeros_like(grad)
            else:
                gx = grad * (y * np.power(x, y - 1))
            gx = sum_to_shape(gx, _shape(x))
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                # d/dy x**y = x**y log x; torch defines it as 0 where x == 0 and y >= 0
                zero = (x == 0) & (np.real(y) >= 0) & (np.imag(y) == 0)  # y real, as torch
                gy = grad * np.where(zero, 0, out * np.log(x))
            gy = sum_to_shape(gy.astype(grad.dtype, copy=False), _shape(y))
        return gx, gy


_NO_OPTIONS = {}


def _fast(op, ufunc, input, other):
    """The common case without promotion: two float tensors of one dtype, or a float tensor
    and a Python number. ``ufunc`` straight on the arrays when nothing needs recording,
    ``op.apply`` otherwise; None when promotion (or anything unusual) is due."""
    if type(input) is not Tensor:
        return None
    x = input._data
    if x.dtype.kind != "f":
        return None
    if type(other) is Tensor:
        if other._data.dtype is not x.dtype:
            return None
        if (input._rg or other._rg) and grad_mode.state.enabled:
            return _record(op, (input, other), (x, other._data), _NO_OPTIONS)
        y = other._data
        if x.shape != y.shape:
            check_broadcast(x.shape, y.shape)
        return _wrap(ufunc(x, y))
    if type(other) is float or type(other) is int:
        if input._rg and grad_mode.state.enabled:
            return _record(op, (input, other), (x, other), _NO_OPTIONS)
        return _wrap(ufunc(x, other))
    return None


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting; mirrors ``torch.add``."""
    r = _fast(Add, np.add, input, other) if alpha == 1 and out is None else None
    if r is not None or (r := sparse_op("add", input, other, alpha, out)) is not None:
        return r
    if alpha != 1 or isinstance(alpha, bool):
        _check_alpha("add", input, other, alpha, out)
    x, y = operands(input, other)
    if not isinstance(x, Tensor):
        x, y = y, x
    return _out(Add.apply(x, y, alpha=alpha) if alpha != 1 else Add.apply(x, y), out, "add",
                (input, other))


def _is_bool(v):
    return isinstance(v, (bool, np.bool_)) or (isinstance(v, Tensor) and v._data.dtype == np.bool_)


def sub(input, other, *, alpha=1, out=None, node_name=None):
    """``input - alpha * other``; mirrors ``torch.sub`` (``node_name``, ember's own: the name
    of the recorded node when ``input`` is a number)."""
    r = _fast(Sub, np.subtract, input, other) if alpha == 1 and out is None else None
    if r is not None or (r := sparse_op("sub", input, other, alpha, out)) is not None:
        return r
    if _is_bool(input) or _is_bool(other):
        if _is_bool(input) and _is_bool(other):
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    if alpha != 1 or isinstance(alpha, bool):
        _check_alpha("sub", input, other, alpha, out, negated=True)
    x, y = operands(input, other)
    if not isinstance(x, Tensor):  # a number minus a tensor
        return _out(Sub.apply(x, y, alpha=alpha, node_name=node_name), out, "sub",
                    (input, other))
    return _out(Sub.apply(x, y, alpha=alpha) if alpha != 1 else Sub.apply(x, y), out, "sub",
                (input, other))


subtract = sub


def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (``number - tensor`` is torch's ``RsubBackward1``)."""
    return sub(other, input, alpha=alpha, node_name="RsubBackward1")


def mul(input, other, *, out=None):
    """Elementwise product; mirrors ``torch.mul``."""
    if type(input) is Tensor and input._data.dtype is HALF:
        b = half_scalar(other, input._data.ndim)
        if b is not None:  # read in float32, as torch (see _opmath)
            return _out(Mul.apply(input, b, opmath=True), out, "mul", (input, other))
    r = _fast(Mul, np.multiply, input, other) if out is None else None
    if r is not None or (r := sparse_op("mul", input, other, out)) is not None:
        return r
    x, y = operands(input, other)
    if not isinstance(x, Tensor):
        x, y = y, x
    return _out(Mul.apply(x, y), out, "mul", (input, other))


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """Elementwise quotient; ``rounding_mode`` "trunc" or "floor" rounds (no gradient)."""
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                             f"but found '{rounding_mode}'")
        if (r := sparse_op("div", input, other, out, rounding_mode)) is not None:
            return r
        x, y = operands(input, other)
        xa = x._data if isinstance(x, Tensor) else x
        ya = y._data if isinstance(y, Tensor) else y
        check_broadcast(np.shape(xa), np.shape(ya))
        kind = np.result_type(xa, ya).kind
        with out_checked_first("div", out, (input, other)):  # torch checks ``out`` first
            if kind == "c":
                raise NotImplementedError(f"\"div_{rounding_mode}_cpu\" not implemented for "
                                          f"'{type_name(np.result_type(xa, ya))}'")
            if kind in "iub":
                _check_integer_division(f"div_{rounding_mode}_cpu", kind, ya, xa)
        if kind in "iub":
            if rounding_mode == "floor":
                r = np.floor_divide(xa, ya)
            else:
                r = np.trunc(np.true_divide(xa, ya)).astype(np.result_type(xa, ya))
        else:  # float16 over a lone number: in float32, as torch (see _opmath)
            r = _opmath.div_rounded(xa, ya, other, rounding_mode)
        return _out(_wrap(np.asarray(r)), out, "div", (input, other))
    if isinstance(input, Tensor) and input._data.dtype is HALF:
        b = half_scalar(other, input._data.ndim)
        if b is not None:  # read in float32, as torch (see _opmath)
            return _out(Div.apply(input, b, opmath=True), out, "div", (input, other))
    x, y = operands(input, other, floating=True)
    if not isinstance(x, Tensor):
        return _out(mul(reciprocal(y), x), out, "div", (input, other))
    return _out(Div.apply(x, y) if type(x._data) is np.ndarray else x.div(y), out, "div",
                (input, other))


divide = true_divide = div


def neg(input):
    """``-input``."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return Neg.apply(input)


negative = neg


def pow(input, exponent):  # noqa: A001
    """``input ** exponent`` for tensor or scalar base and exponent."""
    if not isinstance(input, Tensor):
        x, y = operands(py_num(input), exponent)
        if y._data.dtype == np.bool_:
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        out = Pow.apply(np.asarray(x, dtype=y._data.dtype), y, node_name="PowBackward2")
        return _opmath.remember_base(out, x)  # float16: its gradient reads log(x), as torch
    e = py_num(exponent)
    if isinstance(e, Tensor):
        if e._data.dtype == np.bool_ and input._data.dtype == np.bool_:
            check_broadcast(input._data.shape, e._data.shape)  # torch checks shapes first
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        return _opmath.tensor_power(Pow, *operands(input, e))
    if type(e) is int and e < 0 and input._data.dtype.kind in "biu":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    x, y = operands(input, e)
    return Pow.apply(x, y, node_name="PowBackward1" if isinstance(y, Tensor) else "PowBackward0")


def py_num(v):
    """A NumPy scalar as a Python number."""
    return v.item() if isinstance(v, np.generic) else v


def float_power(input, exponent):
    """``input ** exponent`` computed in float64 (complex128 when either is complex)."""
    wide = _dtype.complex128 if any(
        isinstance(v, complex) or (isinstance(v, Tensor) and v._data.dtype.kind == "c")
        for v in (input, exponent)) else _dtype.float64
    x = input.to(wide) if isinstance(input, Tensor) else input
    e = exponent.to(wide) if isinstance(exponent, Tensor) else exponent
    return pow(x, e)


def square(input):
    """``input ** 2`` (torch's ``PowBackward0``)."""
    return pow(input, 2)


def _out(result, out, name, inputs):
    """``result``, or ``result`` written into ``out``'s memory (torch's ``out=``)."""
    if out is None:
        return result
    from .._compat import _write_out

    return _write_out(name, result, out, inputs)


# --- unary math -----------------------------------------------------------------------
def _float_input(x):
    """Unary float ops promote integer tensors to the default float dtype, as torch does."""
    kind = x._data.dtype.kind
    if kind != "f" and kind != "c":
        return to_dtype(x, _dtype.get_default_dtype())
    return x


class ToDtype(Op):
    """z = x converted to another dtype; the gradient converts back"""

    _backward_name = "ToCopyBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, dtype):
        ctx.x_dtype = x.dtype
        if x.dtype.kind == "c" and dtype.np.kind != "c":
            x = x.real  # the imaginary part is discarded (with torch's warning, in to_dtype)
        return x.astype(dtype.np)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.x_dtype)


class Clone(Op):
    """z = a copy of x"""

    @staticmethod
    def forward(ctx, x, *, memory_format=None):
        return copy_in(x, memory_format)  # by default the input's layout, as torch

    @staticmethod
    def backward(ctx, grad):
        return grad


class Fill(Op):
    """z = value everywhere, in x's shape and dtype (zero_, fill_, copy_); no gradient to x"""

    @staticmethod
    def forward(ctx, x, value, *, node_name=None):
        ctx.x_shape, ctx.value_shape = x.shape, np.shape(value)
        # torch's names: fill_(number) 2, fill_(tensor) 3; zero_ and copy_ pass their own
        ctx.show_as(node_name or ("FillBackward3" if isinstance(value, np.ndarray)
                                  else "FillBackward2"))
        out = np.empty(x.shape, x.dtype)
        out[...] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        gx = np.zeros(ctx.x_shape, grad.dtype) if need[0] else None
        gv = sum_to_shape(grad, ctx.value_shape) if need[1] else None
        return gx, gv


def fill(input, value, *, node_name=None):
    """A tensor like ``input`` holding ``value`` (a number, or a tensor broadcast to
    ``input``'s shape) everywhere; its gradient goes to ``value``, none to ``input``.

    ``node_name`` (ember's own): the recorded node's name (``ZeroBackward0`` for zero_).
    """
    options = {"node_name": node_name} if node_name else {}
    return Fill.apply(input, value, **options)


def to_dtype(input, dtype):
    """``input`` converted to ``dtype`` (differentiable between float dtypes)."""
    dtype = _dtype.convert(dtype)
    if input._data.dtype == dtype.np:
        return input
    if input._data.dtype.kind == "c" and not dtype.is_complex:
        from .complex_ops import discard_imag_warning

        discard_imag_warning()
        if not dtype.is_floating_point:
            return _plain(input._data.real.astype(dtype.np))
    if not (dtype.is_floating_point or dtype.is_complex):
        from .._tensor import _wrap

        return _wrap(input._data.astype(dtype.np))
    return ToDtype.apply(input, dtype=dtype)


def clone(input, *, memory_format=None):
    """A copy with its own storage, laid out as ``input`` is unless ``memory_format`` says
    (``ember.contiguous_format``: row-major)."""
    if memory_format is None:
        return Clone.apply(input)
    return Clone.apply(input, memory_format=memory_format)


def reciprocal(input):
    """Elementwise 1 / x."""
    x = _float_input(input)
    return Pow.apply(x, -1.0, node_name="ReciprocalBackward0")


# --- non-differentiable elementwise -----------------------------------------------------
def _plain(arr):
    from .._tensor import _wrap

    return _wrap(arr)


def _stepwise(fn):
    """Ops whose gradient is zero almost everywhere (sign, floor, ...): torch gives zeros."""

    class Step(Op):
        __doc__ = f"z = {fn.__name__}(x) (zero gradient)"

        @staticmethod
        def forward(ctx, x):
            return fn(x)

        @staticmethod
        def backward(ctx, grad):
            return np.zeros_like(grad)

    Step.__name__ = fn.__name__.capitalize()
    Step._node_cls.__name__ = Step.__name__ + "Backward0"
    return Step


def sign_nan_zero(x):
    """torch's sign, ``(0 < x) - (x < 0)``: 0 where ``x`` is NaN (``np.sign`` gives NaN)."""
    out = np.sign(x)
    if out.dtype.kind == "f":
        out = np.where(out == out, out, out.dtype.type(0))
    return out


sign_nan_zero.__name__ = "sign"
_Sign, _Floor, _Ceil, _Round, _Trunc = (
    _stepwise(sign_nan_zero), _stepwise(np.floor), _stepwise(np.ceil), _stepwise(np.round),
    _stepwise(np.trunc))


def _to_whole(op, input):
    """Apply a rounding op; an integer tensor is already whole and comes back as a copy (torch
    has no rounding kernel for bool)."""
    if input.is_floating_point():
        return op.apply(input)
    if input._data.dtype.kind == "c":
        name = op.__name__.lower()
        if name == "round":
            raise NotImplementedError(f"\"round_vml_cpu\" not implemented for "
                                      f"'{type_name(input._data.dtype)}'")
        raise NotImplementedError(f"{name} is not supported for complex inputs")
    if input._data.dtype == np.bool_:
        raise NotImplementedError(f"\"{op.__name__.lower()}_vml_cpu\" not implemented for 'Bool'")
    return input.clone()


def sign(input):
    """Elementwise -1, 0 or 1 (a bool tensor is its own sign)."""
    if input._data.dtype.kind in "bc":
        if input._data.dtype.kind == "c":
            raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support "
                                      "complex numbers. Please use torch.sgn instead.")
        return input.clone()
    return _Sign.apply(input)


def floor(input):
    """Elementwise floor."""
    return _to_whole(_Floor, input)


def ceil(input):
    """Elementwise ceiling."""
    return _to_whole(_Ceil, input)


def round(input, *, decimals=None):  # noqa: A001
    """Round half to even, as torch does (``decimals`` defaults to 0)."""
    if decimals is not None and (decimals or input._data.dtype.kind in "biu"):
        return _opmath.round_decimals(input, decimals, _Round, mul, div)
    return _to_whole(_Round, input)


def trunc(input):
    """Round toward zero."""
    return _to_whole(_Trunc, input)


def isnan(input):
    """Elementwise NaN test."""
    return _plain(np.isnan(input._data))


def isinf(input):
    """Elementwise infinity test."""
    return _plain(np.isinf(input._data))


def isfinite(input):
    """Elementwise finiteness test."""
    return _plain(np.isfinite(input._data))


class NanToNum(Op):
    """z = x where x is finite, else the replacement; the gradient passes where x is finite"""

    @staticmethod
    def forward(ctx, x, *, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.isfinite(x)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN and infinities with finite numbers."""
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


from .modulus import (  # noqa: E402,F401,I001
    _check_integer_division, _integer_power, _negative_integer_exponents, floor_divide, fmod,
    remainder)
