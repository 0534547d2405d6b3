"""Inverse trigonometric and hyperbolic functions (asin ... atanh) and their gradients.

Listed in ``pointwise_math.__all__``; integer and bool tensors give the default float dtype.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Op
from ._opmath import HALF, opmath
from .pointwise_special import float_input


# --- inverse trigonometric and hyperbolic functions ---------------------------------------
def _rsqrt(v):
    return 1 / np.sqrt(v)


def _rsqrt_half(v):
    """torch's float16 rsqrt: 1 / sqrt in float32, rounded once."""
    return opmath(_rsqrt, v)


class Asin(Op):
    """z = asin(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            if grad.dtype is HALF:  # torch's grad * (-x * x + 1).rsqrt(), op by op
                return grad * _rsqrt_half(-x * x + 1)
            return grad / np.sqrt(1 - x * x)


class Acos(Op):
    """z = acos(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            if grad.dtype is HALF:  # torch's grad * -(-x * x + 1).rsqrt(), op by op
                return grad * -_rsqrt_half(-x * x + 1)
            return -grad / np.sqrt(1 - x * x)


class Atan(Op):
    """z = atan(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * x + 1)


class Sinh(Op):
    """z = sinh(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):
            return np.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return grad * np.cosh(x)


class Cosh(Op):
    """z = cosh(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):
            return np.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return grad * np.sinh(x)


class Asinh(Op):
    """z = asinh(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if grad.dtype is HALF:  # torch's grad * (x.pow(2) + 1).rsqrt(), op by op
            return grad * _rsqrt_half(x * x + 1)
        return grad / np.sqrt(x * x + 1)


class Acosh(Op):
    """z = acosh(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            if x.dtype.kind == "c":  # torch's branch: sqrt(x*x - 1) differs off the real line
                return grad / (np.sqrt(x + 1) * np.sqrt(x - 1))
            if grad.dtype is HALF:  # torch's grad * (x.pow(2) - 1).rsqrt(), op by op
                return grad * _rsqrt_half(x * x - 1)
            return grad / np.sqrt(x * x - 1)


class Atanh(Op):
    """z = atanh(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return grad / (1 - x * x)



def asin(input):
    """Elementwise arcsine (nan outside [-1, 1])."""
    return Asin.apply(float_input("asin", input))


def acos(input):
    """Elementwise arccosine (nan outside [-1, 1])."""
    return Acos.apply(float_input("acos", input))


def atan(input):
    """Elementwise arctangent."""
    return Atan.apply(float_input("atan", input))


def sinh(input):
    """Elementwise hyperbolic sine."""
    return Sinh.apply(float_input("sinh", input))


def cosh(input):
    """Elementwise hyperbolic cosine."""
    return Cosh.apply(float_input("cosh", input))


def asinh(input):
    """Elementwise inverse hyperbolic sine."""
    return Asinh.apply(float_input("asinh", input))


def acosh(input):
    """Elementwise inverse hyperbolic cosine (nan below 1)."""
    return Acosh.apply(float_input("acosh", input))


def atanh(input):
    """Elementwise inverse hyperbolic tangent (+-inf at +-1, nan beyond)."""
    return Atanh.apply(float_input("atanh", input))


arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
