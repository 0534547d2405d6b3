"""Pointwise activations that ``ember.ops`` does not already have."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op
from ...ops._opmath import HALF, opmath


def _leaky(x, v, slope):
    return np.where(x > 0, v, v * np.float32(slope))


def elu_half(x, negcoef, poscoef, negiptcoef):
    """torch's float16 elu kernel: in float32, the coefficients read as float32."""
    return np.where(x > 0, x * np.float32(poscoef),
                    np.expm1(x * np.float32(negiptcoef)) * np.float32(negcoef))


def elu_grad_half(grad, x, negcoef, poscoef, negiptcoef):
    """torch's float16 elu_backward (from the input) in float32."""
    e = np.exp(x * np.float32(negiptcoef))
    return np.where(x > 0, grad * np.float32(poscoef),
                    grad * np.float32(negiptcoef) * np.float32(negcoef) * e)


class LeakyRelu(Op):
    """z = x if x > 0 else slope * x"""

    @staticmethod
    def forward(ctx, x, *, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        if x.dtype is HALF:  # torch: the slope read as float32, each product rounded once
            return opmath(_leaky, x, x, negative_slope)
        return np.where(x > 0, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if grad.dtype is HALF:
            return opmath(_leaky, x, grad, ctx.slope)
        return np.where(x > 0, grad, grad * grad.dtype.type(ctx.slope))


class Elu(Op):
    """z = x if x > 0 else alpha * (exp(x) - 1)"""

    @staticmethod
    def forward(ctx, x, *, alpha=1.0):
        if x.dtype is HALF:  # torch: in float32, rounded once
            out = opmath(elu_half, x, alpha, 1.0, 1.0)
            ctx.save_for_backward(x, out)
            ctx.alpha = alpha
            return out
        neg = (alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)
        out = np.where(x > 0, x, neg)
        ctx.save_for_backward(x, out)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if grad.dtype is HALF:
            return opmath(elu_grad_half, grad, x, ctx.alpha, 1.0, 1.0)
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


def _f64(fn, x):
    return fn(x.astype(np.float64)).astype(np.float32)


def _exp_neg_abs(x):
    return _f64(np.exp, -np.abs(x))


def _log_sigmoid(x):
    return np.minimum(x, 0) - _f64(np.log1p, _exp_neg_abs(x))


def _log_sigmoid_grad(grad, x, z):
    neg = x < 0
    return (neg - np.where(neg, 1, -1).astype(np.float32) * (z / (1 + z))) * grad


class LogSigmoid(Op):
    """z = -softplus(-x) = min(x, 0) - log1p(exp(-|x|))"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        if x.dtype is HALF:  # torch: in float32, rounded once
            return opmath(_log_sigmoid, x)
        return (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if grad.dtype is HALF:  # torch: from its float16 buffer exp(-|x|), in float32
            return opmath(_log_sigmoid_grad, grad, x, opmath(_exp_neg_abs, x))
        # d/dx = sigmoid(-x) = 1 - sigmoid(x), computed without overflow
        e = np.exp(-np.abs(x))
        s_neg = np.where(x >= 0, e / (1 + e), 1 / (1 + e))
        return (grad * s_neg).astype(grad.dtype, copy=False)


def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow, in x's dtype."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _mish_half(x):
    return x * _f64(np.tanh, _f64(np.log1p, _f64(np.exp, x)))


def _mish_grad_half(grad, x):
    s = 1 / (1 + _f64(np.exp, -x))
    t = _f64(np.tanh, _f64(np.log1p, _f64(np.exp, x)))
    return grad * (t + x * s * (1 - t * t))


class Mish(Op):
    """z = x * tanh(softplus(x)) (softplus linear above 20, as torch's)"""

    @staticmethod
    def forward(ctx, x):
        if x.dtype is HALF:  # torch: x tanh(log1p(exp(x))) in float32, rounded once
            ctx.save_for_backward(x, None)
            return opmath(_mish_half, x)
        softplus = np.where(x > 20, x, np.logaddexp(0, x)).astype(x.dtype, copy=False)
        t = np.tanh(softplus)
        ctx.save_for_backward(x, t)
        return x * t

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        if grad.dtype is HALF:
            return opmath(_mish_grad_half, grad, x)
        # d/dx = tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x)
        return grad * (t + x * (1 - t * t) * _sigmoid(x))


def _sigmoid32(b):
    return 1 / (1 + _f64(np.exp, -b))


def _glu_half(a, b):
    return a * _sigmoid32(b)


def _glu_grad_half(s, a, grad):
    return (1 - s) * s * a * grad


class Glu(Op):
    """z = a * sigmoid(b), with a and b the two halves of x along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim):
        a, b = np.split(x, 2, axis=dim)
        # float16: torch's sigmoid rounded once (what its backward rounds it to)
        s = opmath(_sigmoid32, b) if x.dtype is HALF else _sigmoid(b)
        ctx.save_for_backward(x, s)  # x itself, so that a formula can differentiate through it
        ctx.dim = dim
        if x.dtype is HALF:  # torch: a * sigmoid(b) in float32, rounded once
            return opmath(_glu_half, a, b)
        return a * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        a = np.split(x, 2, axis=ctx.dim)[0]
        if grad.dtype is HALF:  # torch's glu_backward: the second half in float32
            return np.concatenate([s * grad, opmath(_glu_grad_half, s, a, grad)], axis=ctx.dim)
        return np.concatenate([grad * s, grad * a * s * (1 - s)], axis=ctx.dim)
