"""Pointwise regression and binary losses, one node each (torch's fused kernels): mean
squared error, smooth L1, Huber, and binary cross entropy on probabilities and on logits.

Each op sees ``input`` and ``target`` of one shape (the functional wrapper broadcasts them
first, as torch does), computes the elementwise loss in ``dtype`` and reduces it
('none' | 'mean' | 'sum'). Each backward is the elementwise derivative times the upstream
gradient, divided by the element count for 'mean'. ``weight`` and ``pos_weight`` are plain
arrays: torch gives them no gradient. The ops keep ``input`` and ``target`` as saved values
(even where the derivative needs only their difference) so that changing either in place
before backward raises torch's error.
"""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op

EPSILON = 1e-12  # torch's floor on x (1 - x) in the gradient of binary cross entropy


def compute_dtype(dtype):
    """The dtype a loss is computed in: float16 works in float32, as torch's CPU kernels do."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def log1p(v):
    """log(1 + v), accurate for tiny v (Kahan's trick, within 3 ulp): NumPy's own log1p is
    several times slower than its log in float32, and these losses are log-bound."""
    u = 1 + v
    d = u - 1                                        # v as far as 1 + v kept it
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.log(u) * (v / d)
    return np.where(d == 0, v, r)


def reduce(loss, reduction, out_dtype):
    """The elementwise loss, reduced; 'mean' of nothing is nan, as in torch."""
    if reduction == "none":
        return loss.astype(out_dtype, copy=False)
    total = loss.sum(dtype=loss.dtype)
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            total = total / loss.size
    return np.asarray(total, out_dtype)


def upstream(grad, reduction, n):
    """What each element's loss receives: the output gradient, divided by n for 'mean'."""
    if reduction == "mean":
        if grad.dtype == np.float16:  # in float32: n need not fit in float16
            grad = grad.astype(np.float32)
        with np.errstate(invalid="ignore", divide="ignore"):
            return grad / n
    return grad


def input_and_target_grads(ctx, g):
    """``g`` for the input and ``-g`` for the target, where they are wanted."""
    need = ctx.needs_input_grad
    return (g if need[0] else None), (-g if need[1] else None)


class MseLoss(Op):
    """loss_i = (x_i - y_i)^2"""

    _backward_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx, x, y, *, reduction, dtype, out_dtype):
        d = np.subtract(x, y, dtype=dtype)
        ctx.save_for_backward(x, y, d)
        ctx.reduction = reduction
        return reduce(d * d, reduction, out_dtype)

    @staticmethod
    def backward(ctx, grad):
        _, _, d = ctx.saved_tensors
        g = d * (2 * upstream(grad, ctx.reduction, d.size))
        return input_and_target_grads(ctx, g)


class SmoothL1Loss(Op):
    """loss_i = 0.5 d_i^2 / beta if |d_i| < beta else |d_i| - 0.5 beta, with d = x - y"""

    _backward_name = "SmoothL1LossBackward0"

    @staticmethod
    def forward(ctx, x, y, *, beta, reduction, dtype, out_dtype):
        d = np.subtract(x, y, dtype=dtype)
        z = np.abs(d)
        loss = np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)
        ctx.save_for_backward(x, y, d)
        ctx.beta, ctx.reduction = beta, reduction
        return reduce(loss, reduction, out_dtype)

    @staticmethod
    def backward(ctx, grad):
        _, _, d = ctx.saved_tensors
        slope = np.clip(d / ctx.beta, -1.0, 1.0)        # d / beta, or +-1 beyond beta
        return input_and_target_grads(ctx, slope * upstream(grad, ctx.reduction, d.size))


class HuberLoss(Op):
    """loss_i = 0.5 d_i^2 if |d_i| < delta else delta (|d_i| - 0.5 delta), with d = x - y"""

    _backward_name = "HuberLossBackward0"

    @staticmethod
    def forward(ctx, x, y, *, delta, reduction, dtype, out_dtype):
        d = np.subtract(x, y, dtype=dtype)
        z = np.abs(d)
        loss = np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))
        ctx.save_for_backward(x, y, d)
        ctx.delta, ctx.reduction = delta, reduction
        return reduce(loss, reduction, out_dtype)

    @staticmethod
    def backward(ctx, grad):
        _, _, d = ctx.saved_tensors
        slope = np.clip(d, -ctx.delta, ctx.delta)       # d, or +-delta beyond delta
        return input_and_target_grads(ctx, slope * upstream(grad, ctx.reduction, d.size))


def check_unit_interval(a, what):
    """torch's error unless every element of ``a`` lies in [0, 1] (nan fails too)."""
    if a.size and not (a.min() >= 0 and a.max() <= 1):
        raise RuntimeError(f"all elements of {what} should be between 0 and 1")


class BinaryCrossEntropy(Op):
    """loss_i = -w_i (y_i max(log x_i, -100) + (1 - y_i) max(log(1 - x_i), -100))"""

    _backward_name = "BinaryCrossEntropyBackward0"

    @staticmethod
    def forward(ctx, x, y, *, weight=None, reduction, dtype, out_dtype):
        check_unit_interval(x, "input")
        check_unit_interval(y, "target")
        xc, yc = x.astype(dtype, copy=False), y.astype(dtype, copy=False)
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 below
            log_x = np.maximum(np.log(xc), -100)
            log_1mx = np.maximum(log1p(-xc), -100)
        loss = (yc - 1) * log_1mx - yc * log_x
        if weight is not None:
            loss *= weight
        ctx.save_for_backward(x, y)
        ctx.weight, ctx.reduction, ctx.dtype = weight, reduction, dtype
        return reduce(loss, reduction, out_dtype)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        x = x.astype(ctx.dtype, copy=False)
        f = upstream(grad, ctx.reduction, x.size)
        if ctx.weight is not None:
            f = f * ctx.weight
        gx = gy = None
        if ctx.needs_input_grad[0]:       # (x - y) / (x (1 - x)), the denominator kept >= 1e-12
            gx = f * (x - y) / np.maximum((1 - x) * x, EPSILON)
        if ctx.needs_input_grad[1]:       # -logit(x): infinite at x = 0 or 1, as in torch
            with np.errstate(divide="ignore"):
                gy = -f * np.log(x / (1 - x))
        return gx, gy


class BinaryCrossEntropyWithLogits(Op):
    """loss_i = w_i ((1 - y_i) x_i - (1 + (p_i - 1) y_i) log sigmoid(x_i)), p = pos_weight

    ``log sigmoid(x) = min(x, 0) - log1p(exp(-|x|))`` never overflows.
    """

    _backward_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, x, y, *, weight=None, pos_weight=None, reduction, dtype, out_dtype):
        xc, yc = x.astype(dtype, copy=False), y.astype(dtype, copy=False)
        e = np.exp(-np.abs(xc))                          # exp(-|x|), in (0, 1]
        log_sig = np.minimum(xc, 0) - log1p(e)
        if pos_weight is not None:
            log_sig *= (pos_weight - 1) * yc + 1
        loss = (1 - yc) * xc - log_sig
        if weight is not None:
            loss *= weight
        ctx.save_for_backward(x, y, e)
        ctx.weight, ctx.pos_weight, ctx.reduction, ctx.dtype = weight, pos_weight, reduction, dtype
        return reduce(loss, reduction, out_dtype)

    @staticmethod
    def backward(ctx, grad):
        x, y, e = ctx.saved_tensors
        x, y = x.astype(ctx.dtype, copy=False), y.astype(ctx.dtype, copy=False)
        pw = ctx.pos_weight
        f = upstream(grad, ctx.reduction, x.size)
        if ctx.weight is not None:
            f = f * ctx.weight
        gx = gy = None
        if ctx.needs_input_grad[0]:       # sigmoid(x) - y, or (p y + 1 - y) sigmoid(x) - p y
            sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
            gx = sig - y if pw is None else (pw * y + 1 - y) * sig - pw * y
            gx = gx * f
        if ctx.needs_input_grad[1]:       # -x, or log sigmoid(-x) - p log sigmoid(x)
            if pw is None:
                gy = -x * f
            else:
                log_sig = np.minimum(x, 0) - log1p(e)
                gy = (log_sig - x - pw * log_sig) * f
        return gx, gy


class SelfXlogy(Op):
    """z = xlogy(t, t) = t log t (0 where t == 0, nan where t < 0): kl_div's entropy term.

    The gradient is torch's for ``xlogy(t, t)``, ``xlogy(t != 0, t) + t / t``: log t + 1,
    and nan at t == 0 (0 / 0) and below.
    """

    _backward_name = "XlogyBackward0"  # torch's name

    @staticmethod
    def forward(ctx, t):
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(t == 0, 0, t * np.log(t)).astype(t.dtype, copy=False)
        ctx.save_for_backward(t)
        return out

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.where(t != 0, np.log(t), 0) + t / t
        return (grad * d).astype(t.dtype, copy=False)
