"""Unary math ops: exp, log, sqrt, trigonometry, abs; each forward beside its backward.

Integer inputs are promoted to the default float dtype first, as torch does.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Op
from ._opmath import HALF, opmath
from .elementwise import _float_input, _plain


class Exp(Op):
    """z = exp(x)"""

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Op):
    """z = log(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Log1p(Op):
    """z = log(1 + x)"""

    _backward_name = "Log1PBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x)


class Sqrt(Op):
    """z = sqrt(x)"""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return grad / (2 * out)


def _rsqrt(x):
    return 1 / np.sqrt(x)


def _cube(x):
    return x * x * x


def _times(x, c):
    return x * c


class Rsqrt(Op):
    """z = 1 / sqrt(x)"""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            # float16: torch's vectorised kernel, 1 / sqrt in float32 rounded once
            out = opmath(_rsqrt, x) if x.dtype is HALF else 1 / np.sqrt(x)
        ctx.save_for_backward(out)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        if grad.dtype is HALF:  # torch's -0.5 * grad * out.pow(3): each op rounded once
            return (grad * -0.5) * opmath(_cube, out)
        return grad * (-0.5 * out * out * out)


class Sin(Op):
    """z = sin(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)


class Cos(Op):
    """z = cos(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * np.sin(x)


class Tan(Op):
    """z = tan(x)"""

    @staticmethod
    def forward(ctx, x):
        out = np.tan(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 + out * out)


class Expm1(Op):
    """z = exp(x) - 1, exact near 0"""

    @staticmethod
    def forward(ctx, x):
        out = np.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out + 1)


class LogBase(Op):
    """z = log2(x) or log10(x) (exact at powers of the base)"""

    _backward_name = "Log2Backward0"  # torch's name for base 2

    @staticmethod
    def forward(ctx, x, *, base):
        ctx.save_for_backward(x)
        ctx.base = base
        if base == 10:
            ctx.show_as("Log10Backward0")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log2(x) if base == 2 else np.log10(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if grad.dtype is HALF:  # torch's grad / (x * ln(base)): the constant read as float32
            return grad / opmath(_times, x, math.log(ctx.base))
        return grad / (x * x.dtype.type(math.log(ctx.base)))


class Abs(Op):
    """z = |x| (gradient sign(x), 0 at 0 as in torch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


def exp(input):
    """Elementwise e**x."""
    return Exp.apply(_float_input(input))


def log(input):
    """Elementwise natural logarithm."""
    return Log.apply(_float_input(input))


def log1p(input):
    """Elementwise log(1 + x), accurate near 0."""
    return Log1p.apply(_float_input(input))


def log2(input):
    """Elementwise base-2 logarithm."""
    return LogBase.apply(_float_input(input), base=2)


def log10(input):
    """Elementwise base-10 logarithm."""
    return LogBase.apply(_float_input(input), base=10)


def expm1(input):
    """Elementwise exp(x) - 1."""
    return Expm1.apply(_float_input(input))


def sqrt(input):
    """Elementwise square root."""
    return Sqrt.apply(_float_input(input))


def rsqrt(input):
    """Elementwise 1 / sqrt(x)."""
    return Rsqrt.apply(_float_input(input))


def sin(input):
    """Elementwise sine."""
    return Sin.apply(_float_input(input))


def cos(input):
    """Elementwise cosine."""
    return Cos.apply(_float_input(input))


def tan(input):
    """Elementwise tangent."""
    return Tan.apply(_float_input(input))


def abs(input):  # noqa: A001
    """Elementwise absolute value."""
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return Abs.apply(input) if input._rg else _plain(np.abs(input._data))


def _abs_(input):
    """In-place ``abs``; torch refuses it on complex tensors (the result is real)."""
    if input._data.dtype.kind == "c":
        raise RuntimeError("In-place abs is not supported for complex tensors.")
    return input._inplace(abs)


absolute = abs
