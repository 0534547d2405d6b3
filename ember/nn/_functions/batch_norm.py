"""Batch normalisation over every axis but the channel axis 1, with its closed-form backward."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op
from ...ops._opmath import HALF
from ._reduce import blas_ok, filled


def _channel_view(v, ndim):
    """A per-channel vector shaped to broadcast against (N, C, *)."""
    return v if ndim == 2 else v.reshape((-1,) + (1,) * (ndim - 2))


def _per_channel_sum(a, axes, scale=1.0):
    """scale * the sum over every axis but 1 (a BLAS product, the scale folded into the
    vector, where it can)."""
    if blas_ok(a):
        return filled(a.shape[0], scale, a.dtype) @ a
    out = a.sum(axis=axes)
    if scale != 1.0:
        out *= scale
    return out


def _per_channel_dot(a, b, scale=1.0):
    """scale * the sum over every axis but 1 of a * b."""
    if blas_ok(a):
        return filled(a.shape[0], scale, a.dtype) @ (a * b)
    if a.ndim == 2:
        out = np.einsum("ij,ij->j", a, b)
    else:
        n, c = a.shape[:2]
        out = np.einsum("icl,icl->c", a.reshape(n, c, -1), b.reshape(n, c, -1))
    if scale != 1.0:
        out *= scale
    return out


class BatchNorm(Op):
    """z = (x - mean) / sqrt(var + eps) * weight + bias, statistics per channel (axis 1)

    In training the batch's mean and biased variance normalise, and the running
    statistics (when given) move toward the batch's mean and *unbiased* variance by
    ``momentum``; otherwise the running statistics normalise.

    Backward (training), with xhat = (x - mean) * invstd and n values per channel:
    ``dx = weight * invstd * (g - mean(g) - xhat * mean(g * xhat))``,
    ``dweight = sum(g * xhat)``, ``dbias = sum(g)``.
    """

    _backward_name = "NativeBatchNormBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, *, running_mean=None, running_var=None,
                training=True, momentum=0.1, eps=1e-5):
        ndim = x.ndim
        axes = 0 if ndim == 2 else (0,) + tuple(range(2, ndim))
        ctx.ndim, ctx.axes, ctx.training = ndim, axes, training
        if x.dtype is HALF:
            return _half_forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps)
        cv = _channel_view
        if training:
            n = x.size // x.shape[1]
            inv_n = 1.0 / n
            mean = _per_channel_sum(x, axes, inv_n)
            xc = x - cv(mean, ndim)
            var = _per_channel_dot(xc, xc, inv_n)            # biased: normalises
            invstd = var + eps
            np.sqrt(invstd, out=invstd)
            np.divide(1.0, invstd, out=invstd)
            if running_mean is not None:
                running_mean *= 1.0 - momentum
                running_mean += momentum * mean
            if running_var is not None:
                running_var *= 1.0 - momentum
                running_var += (momentum * n / max(n - 1, 1)) * var   # unbiased: tracked
            # out = xc * (weight * invstd) + bias: xhat itself is never materialised
            k = invstd if weight is None else weight * invstd
            out = xc * cv(k, ndim)
            if bias is not None:
                out += cv(bias, ndim)
            ctx.save_for_backward(xc, invstd, k)
            return out
        # evaluation: one scale and one shift per channel
        invstd = 1.0 / np.sqrt(running_var + eps)
        k = invstd if weight is None else weight * invstd
        shift = -running_mean * k
        if bias is not None:
            shift += bias
        out = x * cv(k.astype(x.dtype, copy=False), ndim)
        out += cv(shift.astype(x.dtype, copy=False), ndim)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, running_mean.copy(), invstd, k)
        return out

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        ndim, axes = ctx.ndim, ctx.axes
        cv = _channel_view
        gx = gw = gb = None
        need_w = len(need) > 1 and need[1]
        need_b = len(need) > 2 and need[2]
        if grad.dtype is HALF:  # float16: in float32, each gradient rounded once
            grads = BatchNorm.backward(ctx, grad.astype(np.float32))
            return tuple(None if g is None else g.astype(np.float16) for g in grads)
        if not ctx.training:
            x, mean, invstd, k = ctx.saved_tensors
            if need_w:
                gw = _per_channel_dot(grad, x - cv(mean, ndim)) * invstd
            if need_b:
                gb = grad.sum(axis=axes)
            if need[0]:
                gx = grad * cv(k, ndim)
            return gx, gw, gb
        xc, invstd, k = ctx.saved_tensors
        n = grad.size // grad.shape[1]
        gsum = _per_channel_sum(grad, axes)
        gdot = _per_channel_dot(grad, xc)
        gdot *= invstd                                       # sum(g * xhat)
        if need_w:
            gw = gdot
        if need_b:
            gb = gsum
        if need[0]:
            k_n = k * (1.0 / n)
            gx = grad * cv(k, ndim)
            gx -= xc * cv(k_n * invstd * gdot, ndim)
            gx -= cv(gsum * k_n, ndim)
        return gx, gw, gb


def _half_forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
    """torch's float16 kernel: statistics in float32, rounded to float16 (its saved mean
    and 1 / std, which both the output and the backward read); the output computed in
    float32 as ``x * alpha + beta`` and rounded once. What backward computes is kept in
    float32."""
    f = x.astype(np.float32)
    w = None if weight is None else weight.astype(np.float32)
    b = None if bias is None else bias.astype(np.float32)
    ndim, axes = ctx.ndim, ctx.axes
    cv = _channel_view
    if ctx.training:
        n = x.size // x.shape[1]
        mean = f.mean(axis=axes)
        var = np.square(f - cv(mean, ndim)).mean(axis=axes)
        for stat, new in ((running_mean, mean), (running_var, var * (n / max(n - 1, 1)))):
            if stat is not None:
                stat[...] = momentum * new + (1.0 - momentum) * stat.astype(np.float32)
        mean = mean.astype(np.float16).astype(np.float32)
        invstd = (1.0 / np.sqrt(var + np.float32(eps))).astype(np.float16).astype(np.float32)
    else:
        mean = running_mean.astype(np.float32)
        invstd = 1.0 / np.sqrt(running_var.astype(np.float32) + np.float32(eps))
    k = invstd if w is None else w * invstd
    shift = -mean * k if b is None else b - mean * k
    out = f * cv(k, ndim) + cv(shift, ndim)
    if ctx.training:
        ctx.save_for_backward(f - cv(mean, ndim), invstd, k)
    elif ctx.needs_input_grad:
        ctx.save_for_backward(x, mean, invstd, k)
    return out.astype(np.float16)
