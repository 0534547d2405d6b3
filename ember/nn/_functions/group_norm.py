"""Group normalisation as one node, as torch's ``native_group_norm``."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op


class GroupNorm(Op):
    """z = (x - mean) / sqrt(var + eps) * weight[c] + bias[c], where the statistics are
    taken over each sample's group of channels (and its spatial dims)"""

    _backward_name = "NativeGroupNormBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, *, num_groups, eps=1e-5):
        grouped = x.reshape(x.shape[0], num_groups, -1)
        xhat = grouped - grouped.mean(axis=2, keepdims=True)
        var = np.mean(np.square(xhat), axis=2, keepdims=True)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat *= invstd
        xhat = xhat.reshape(x.shape)
        channel = (1, -1) + (1,) * (x.ndim - 2)
        out = xhat * weight.reshape(channel) if weight is not None else xhat.copy()
        if bias is not None:
            out += bias.reshape(channel)
        ctx.num_groups = num_groups
        ctx.save_for_backward(xhat, invstd, weight)
        return out

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        others = (0,) + tuple(range(2, grad.ndim))  # every dim but the channels
        gx = gw = gb = None
        if need[1]:
            gw = (grad * xhat).sum(axis=others)
        if need[2]:
            gb = grad.sum(axis=others)
        if need[0]:
            # per group: dx = invstd * (gy - mean(gy) - xhat * mean(gy * xhat)), gy = g * w
            gy = grad * weight.reshape((1, -1) + (1,) * (grad.ndim - 2)) \
                if weight is not None else grad
            rows = (grad.shape[0], ctx.num_groups, -1)
            gy, xg = gy.reshape(rows), xhat.reshape(rows)
            gx = gy - gy.mean(axis=2, keepdims=True)
            gx -= xg * np.mean(gy * xg, axis=2, keepdims=True)
            gx *= invstd
            gx = gx.reshape(grad.shape)
        return gx, gw, gb
