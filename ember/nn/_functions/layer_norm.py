"""Layer normalisation over the trailing ``normalized_shape`` axes."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op


class LayerNorm(Op):
    """z = (x - mean) / sqrt(var + eps) * weight + bias, statistics over the last k axes"""

    _backward_name = "NativeLayerNormBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, *, k, eps=1e-5):
        axes = tuple(range(x.ndim - k, x.ndim))
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
        return gx, gw, gb
