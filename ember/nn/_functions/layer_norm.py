"""Layer normalisation over the trailing ``normalized_shape`` axes."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op
from ...ops._opmath import HALF


class LayerNorm(Op):
    """z = (x - mean) / sqrt(var + eps) * weight + bias, statistics over the last k axes"""

    _backward_name = "NativeLayerNormBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, *, k, eps=1e-5, half_stats=False):
        # half_stats: a float16 input already in float32 (group norm): the statistics for
        # backward are still rounded to float16, as torch keeps them
        axes = tuple(range(x.ndim - k, x.ndim))
        if x.dtype is HALF:
            return _layer_norm_half(ctx, x, weight, bias, axes, eps)
        if half_stats:
            return _half_forward(ctx, x, weight, bias, axes, eps)
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        var = np.mean(np.square(xhat), axis=axes, keepdims=True)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat *= invstd
        out = xhat * weight if weight is not None else xhat.copy()
        if bias is not None:
            out += bias
        ctx.axes = axes
        ctx.save_for_backward(xhat, invstd, weight)
        return out

    @staticmethod
    def backward(ctx, grad):
        if grad.dtype is HALF:
            return _layer_norm_half_backward(ctx, grad)
        xhat, invstd, weight = ctx.saved_tensors
        half = grad.dtype == np.float16  # float16: in float32, each gradient rounded once
        if half:
            grad = grad.astype(np.float32)
            weight = None if weight is None else weight.astype(np.float32)
        need = ctx.needs_input_grad
        axes = ctx.axes
        lead = tuple(range(grad.ndim - len(axes)))
        gx = gw = gb = None
        if len(need) > 1 and need[1]:
            gw = (grad * xhat).sum(axis=lead) if lead else grad * xhat
        if len(need) > 2 and need[2]:
            gb = grad.sum(axis=lead) if lead else grad.copy()
        if need[0]:
            # dx = invstd * (gy - mean(gy) - xhat * mean(gy * xhat)), gy = g * weight
            gy = grad * weight if weight is not None else grad
            gx = gy - gy.mean(axis=axes, keepdims=True)
            gx -= xhat * np.mean(gy * xhat, axis=axes, keepdims=True)
            gx *= invstd
        if half:
            return tuple(None if g is None else g.astype(np.float16) for g in (gx, gw, gb))
        return gx, gw, gb


def _half_forward(ctx, x, weight, bias, axes, eps):
    """torch's float16 kernel: statistics and output in float32, the output rounded once;
    the backward reads the mean and 1 / std rounded to float16, as torch saves them."""
    f = x.astype(np.float32, copy=False)
    mean = f.mean(axis=axes, keepdims=True)
    var = np.mean(np.square(f - mean), axis=axes, keepdims=True)
    invstd = np.float32(1.0) / np.sqrt(var + np.float32(eps))
    out = (f - mean) * invstd
    if weight is not None:
        out *= weight.astype(np.float32)
    if bias is not None:
        out += bias.astype(np.float32)
    invstd = invstd.astype(np.float16).astype(np.float32)
    xhat = (f - mean.astype(np.float16)) * invstd
    ctx.axes = axes
    ctx.save_for_backward(xhat, invstd, weight)
    return out.astype(x.dtype)


def _layer_norm_half(ctx, x, weight, bias, axes, eps):
    """torch's float16 kernel: moments in float32, ``(x * rstd - rstd * mean) * w + b`` in
    float32 rounded once; mean and rstd kept in the parameters' dtype (float16 without
    parameters), which is what its backward reads."""
    f = x.astype(np.float32)
    wide = f.astype(np.float64)
    mean = wide.mean(axis=axes, keepdims=True)
    var = np.mean(np.square(wide - mean), axis=axes, keepdims=True).astype(np.float32)
    mean = mean.astype(np.float32)
    rstd = np.float32(1) / np.sqrt(var + np.float32(eps))
    out = f * rstd + (-rstd * mean)
    if weight is not None:
        out = out * weight.astype(np.float32)
    if bias is not None:
        out = out + bias.astype(np.float32)
    stats = np.float32 if weight is not None and weight.dtype != HALF else HALF
    ctx.axes = axes
    ctx.save_for_backward(x, mean.astype(stats).astype(np.float32),
                          rstd.astype(stats).astype(np.float32), weight)
    return out.astype(HALF)


def _layer_norm_half_backward(ctx, grad):
    """torch's float16 backward: per row ``a = rstd``, ``b = (db * mean - ds) * a^3 / N``,
    ``c = -b * mean - db * a / N`` and ``dx = a * dy * w + b * x + c``, in float32."""
    x, mean, a, weight = ctx.saved_tensors
    need, axes = ctx.needs_input_grad, ctx.axes
    dy, f = grad.astype(np.float32), x.astype(np.float32)
    w = None if weight is None else weight.astype(np.float32)
    lead = tuple(range(grad.ndim - len(axes)))
    gx = gw = gb = None
    if len(need) > 1 and need[1]:
        gw = _row_sum(dy * (a * f + (-a * mean)), len(lead), weight.dtype)
    if len(need) > 2 and need[2]:
        gb = _row_sum(dy, len(lead), weight.dtype)
    if need[0]:
        scale = np.float32(1 / int(np.prod([x.shape[i] for i in axes])))
        # torch's products in its order: (dy * x) * w, (a * dy) * w
        dyx = dy * f if w is None else dy * f * w
        dyw = dy if w is None else dy * w
        ds = dyx.astype(np.float64).sum(axis=axes, keepdims=True).astype(np.float32)
        db = dyw.astype(np.float64).sum(axis=axes, keepdims=True).astype(np.float32)
        b = (db * mean - ds) * a * a * a * scale
        c = -b * mean - db * a * scale
        ady = a * dy if w is None else a * dy * w
        gx = (ady + b * f + c).astype(HALF)
    return gx, gw, gb


def _row_sum(rows, n_lead, dtype):
    """Sum over the leading axes as torch's single-threaded kernel: row after row into a
    buffer of the parameters' dtype, so a float16 buffer rounds after every row. (With
    several threads torch splits the rows between buffers, and its sums vary with the count.)"""
    rows = rows.reshape((-1,) + rows.shape[n_lead:])
    if dtype != HALF:
        return rows.sum(axis=0).astype(dtype)
    acc = np.zeros(rows.shape[1:], np.float32)
    for row in rows:
        acc = (acc + row).astype(HALF).astype(np.float32)
    return acc.astype(HALF)
