"""Unary math ops: exp, log, sqrt, trigonometry, abs; each forward beside its backward.

Integer inputs are promoted to the default float dtype first, as torch does.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Op
from .elementwise import _float_input, _plain, div, sub


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


class Rsqrt(Op):
    """z = 1 / sqrt(x)"""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1 / np.sqrt(x)
        ctx.save_for_backward(out)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
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
    return div(log(input), math.log(2))


def log10(input):
    """Elementwise base-10 logarithm."""
    return div(log(input), math.log(10))


def expm1(input):
    """Elementwise exp(x) - 1."""
    return sub(exp(input), 1)


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
    return div(sin(input), cos(input))


def abs(input):  # noqa: A001
    """Elementwise absolute value."""
    return Abs.apply(input) if input._rg else _plain(np.abs(input._data))


absolute = abs
