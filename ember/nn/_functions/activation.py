"""Pointwise activations that ``ember.ops`` does not already have."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op


class LeakyRelu(Op):
    """z = x if x > 0 else slope * x"""

    @staticmethod
    def forward(ctx, x, *, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad, grad * grad.dtype.type(ctx.slope))


class Elu(Op):
    """z = x if x > 0 else alpha * (exp(x) - 1)"""

    @staticmethod
    def forward(ctx, x, *, alpha=1.0):
        neg = (alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)
        out = np.where(x > 0, x, neg)
        ctx.save_for_backward(x, out)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        # below 0: d/dx alpha * (e^x - 1) = out + alpha
        return np.where(x > 0, grad, grad * (out + x.dtype.type(ctx.alpha)))


class Hardtanh(Op):
    """z = clamp(x, min_val, max_val); gradient 1 strictly inside, 0 elsewhere (torch's)"""

    @staticmethod
    def forward(ctx, x, *, min_val=-1.0, max_val=1.0):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = min_val, max_val
        return np.clip(x, min_val, max_val).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ((x > ctx.lo) & (x < ctx.hi))


class LogSigmoid(Op):
    """z = -softplus(-x) = min(x, 0) - log1p(exp(-|x|))"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # d/dx = sigmoid(-x) = 1 - sigmoid(x), computed without overflow
        e = np.exp(-np.abs(x))
        s_neg = np.where(x >= 0, e / (1 + e), 1 / (1 + e))
        return (grad * s_neg).astype(grad.dtype, copy=False)


def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow, in x's dtype."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Mish(Op):
    """z = x * tanh(softplus(x)) (softplus linear above 20, as torch's)"""

    @staticmethod
    def forward(ctx, x):
        softplus = np.where(x > 20, x, np.logaddexp(0, x)).astype(x.dtype, copy=False)
        t = np.tanh(softplus)
        ctx.save_for_backward(x, t)
        return x * t

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        # d/dx = tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x)
        return grad * (t + x * (1 - t * t) * _sigmoid(x))


class Glu(Op):
    """z = a * sigmoid(b), with a and b the two halves of x along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim):
        a, b = np.split(x, 2, axis=dim)
        s = _sigmoid(b)
        ctx.save_for_backward(x, s)  # x itself, so that a formula can differentiate through it
        ctx.dim = dim
        return a * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        a = np.split(x, 2, axis=ctx.dim)[0]
        return np.concatenate([grad * s, grad * a * s * (1 - s)], axis=ctx.dim)
