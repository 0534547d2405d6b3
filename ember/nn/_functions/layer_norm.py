"""Layer normalisation over the trailing ``normalized_shape`` axes."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op


class LayerNorm(Op):
    """z = (x - mean) / sqrt(var + eps) * weight + bias, statistics over the last k axes"""

    _backward_name = "NativeLayerNormBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, *, k, eps=1e-5, half_stats=False):
        # half_stats: a float16 input already in float32 (group norm): the statistics for
        # backward are still rounded to float16, as torch keeps them
        axes = tuple(range(x.ndim - k, x.ndim))
        if x.dtype == np.float16 or half_stats:
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
