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
from ...ops._opmath import HALF, opmath

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
        # float16: torch's kernel rounds the difference and its square to float16
        d = np.subtract(x, y, dtype=HALF if x.dtype is HALF else dtype)
        ctx.save_for_backward(x, y, d)
        ctx.reduction = reduction
        return reduce((d * d).astype(dtype, copy=False), reduction, out_dtype)

    @staticmethod
    def backward(ctx, grad):
        _, _, d = ctx.saved_tensors
        if d.dtype is HALF:  # torch: norm * (x - y) * grad, float16 step by step
            norm = 2 / d.size if ctx.reduction == "mean" else 2.0
            return input_and_target_grads(ctx, HALF.type(norm) * d * grad)
        g = d * (2 * upstream(grad, ctx.reduction, d.size))
        return input_and_target_grads(ctx, g)


def _smooth_l1_grad(d, beta, norm, grad):
    out = np.where(np.abs(d) >= beta, np.where(d > 0, np.float32(1), np.float32(-1)), d / beta)
    return norm * out * grad


class SmoothL1Loss(Op):
    """loss_i = 0.5 d_i^2 / beta if |d_i| < beta else |d_i| - 0.5 beta, with d = x - y"""

    _backward_name = "SmoothL1LossBackward0"

    @staticmethod
    def forward(ctx, x, y, *, beta, reduction, dtype, out_dtype):
        d = np.subtract(x, y, dtype=dtype)
        z = np.abs(d)
        if x.dtype is HALF:  # torch's kernel: float16 step by step, beta a float16
            z, b = np.abs(x - y), HALF.type(beta)
            loss = np.where(z < b, HALF.type(0.5) * z * z / b, z - HALF.type(0.5) * b)
            loss = loss.astype(dtype)
        else:
            loss = np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)
        ctx.save_for_backward(x, y, d)
        ctx.beta, ctx.reduction = beta, reduction
        return reduce(loss, reduction, out_dtype)

    @staticmethod
    def backward(ctx, grad):
        _, _, d = ctx.saved_tensors
        if grad.dtype is HALF:  # torch: in float32, beta and norm float32
            norm = 1 / d.size if ctx.reduction == "mean" else 1.0
            g = opmath(_smooth_l1_grad, d, np.float32(ctx.beta), np.float32(norm), grad)
            return input_and_target_grads(ctx, g)
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
        if grad.dtype is HALF:  # torch's kernel: float16 step by step, delta and norm float16
            d, dl = d.astype(HALF), HALF.type(ctx.delta)
            n = HALF.type(1 / d.size if ctx.reduction == "mean" else 1.0)
            g = np.where(d < -dl, -n * grad * dl, np.where(d > dl, n * grad * dl, n * d * grad))
            return input_and_target_grads(ctx, g)
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
        if x.dtype is HALF and y.dtype is HALF:  # torch's kernel: float16 step by step
            log_x, log_1mx = log_x.astype(HALF), log_1mx.astype(HALF)
            loss = ((y - HALF.type(1)) * log_1mx - y * log_x).astype(dtype)
        else:
            loss = (yc - 1) * log_1mx - yc * log_x
        if weight is not None:
            loss *= weight
        ctx.save_for_backward(x, y)
        ctx.weight, ctx.reduction, ctx.dtype = weight, reduction, dtype
        return reduce(loss, reduction, out_dtype)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if grad.dtype is HALF and x.dtype is HALF and y.dtype is HALF and ctx.needs_input_grad[0] \
                and not ctx.needs_input_grad[1]:
            return _bce_grad_half(ctx, grad, x, y), None
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


def _bce_grad_half(ctx, grad, x, y):
    """torch's float16 backward: grad * (x - y) / max((1 - x) x, eps) step by step (eps is 0
    in float16), then times the weight, then divided by n in float32 for 'mean'."""
    gx = grad * (x - y) / np.maximum((HALF.type(1) - x) * x, HALF.type(EPSILON))
    if ctx.weight is not None:
        gx = (gx * ctx.weight).astype(HALF)
    if ctx.reduction == "mean":
        gx = (gx / np.float32(x.size)).astype(HALF)
    return gx


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
        if x.dtype is HALF and y.dtype is HALF and pos_weight is None:
            # torch's composite: (1 - y) * x - log_sigmoid(x), each op rounded to float16
            loss = ((HALF.type(1) - y) * x - opmath(_log_sigmoid32, x)).astype(dtype)
            if weight is not None:
                loss = (loss.astype(HALF) * weight).astype(dtype)
            ctx.save_for_backward(x, y, e)
            ctx.weight, ctx.pos_weight, ctx.reduction = weight, pos_weight, reduction
            ctx.dtype = dtype
            return reduce(loss, reduction, out_dtype)
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
        if grad.dtype is HALF and x.dtype is HALF and y.dtype is HALF and ctx.pos_weight is None:
            return _bce_logits_grad_half(ctx, grad, x, y)
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


def _log_sigmoid32(x):
    return np.minimum(x, 0) - log1p(np.exp(-np.abs(x).astype(np.float64))).astype(np.float32)


def _sigmoid32(x):
    return 1 / (1 + np.exp(-x.astype(np.float64)).astype(np.float32))


def _bce_logits_grad_half(ctx, grad, x, y):
    """torch's composite float16 backward: (sigmoid(x) - y) * grad (and -x * grad for the
    target), each op rounded to float16, then times the weight, then / n for 'mean'."""
    out = []
    for i, g in enumerate(((opmath(_sigmoid32, x) - y) * grad, -x * grad)):
        if not ctx.needs_input_grad[i]:
            out.append(None)
            continue
        if ctx.weight is not None:
            g = (g * ctx.weight).astype(HALF)
        if ctx.reduction == "mean":
            g = (g / np.float32(x.size)).astype(HALF)
        out.append(g)
    return tuple(out)


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
