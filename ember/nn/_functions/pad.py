"""Padding: constant, reflect, replicate and circular, on the trailing dimensions."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op


def source_index(n, before, after, mode):
    """For each output position along one axis, the input position it copies."""
    if mode == "circular":
        # torch crops first (negative pads), then wraps around what is left
        start = max(-before, 0)
        kept = n - start - max(-after, 0)
        pos = np.arange(-max(before, 0), kept + max(after, 0))
        return pos % kept + start if kept > 0 else np.full(pos.shape, min(start, n - 1))
    pos = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    # reflect: mirror without repeating the edge element
    period = 2 * (n - 1)
    r = np.abs(pos) % period if period else np.zeros_like(pos)
    return np.where(r >= n, period - r, r)


class ConstantPad(Op):
    """z = x surrounded by ``value`` (negative pads crop)"""

    _backward_name = "ConstantPadNdBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, pads, value=0.0):
        # pads: one (before, after) pair per axis of x
        grow = [(max(b, 0), max(a, 0)) for b, a in pads]
        crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(pads, x.shape))
        src = x[crop]
        out = np.pad(src, grow, mode="constant", constant_values=value) if any(
            b or a for b, a in grow) else src.copy()
        ctx.pads, ctx.x_shape = pads, x.shape
        ctx.crop = crop
        ctx.inner = tuple(slice(b, b + s) for (b, _), s in zip(grow, src.shape))
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = np.zeros(ctx.x_shape, grad.dtype)
        gx[ctx.crop] = grad[ctx.inner]
        return gx


class IndexPad(Op):
    """z = x gathered along each padded axis (reflect / replicate / circular)"""

    @staticmethod
    def forward(ctx, x, *, indices):
        # indices: {axis: source positions}
        out = x
        for axis, idx in indices.items():
            out = np.take(out, idx, axis=axis)
        ctx.indices, ctx.x_shape = indices, x.shape
        return out if out is not x else x.copy()

    @staticmethod
    def backward(ctx, grad):
        g = grad
        for axis, idx in reversed(list(ctx.indices.items())):
            moved = np.moveaxis(g, axis, 0)
            acc = np.zeros((ctx.x_shape[axis],) + moved.shape[1:], grad.dtype)
            np.add.at(acc, idx, moved)
            g = np.moveaxis(acc, 0, axis)
        return np.ascontiguousarray(g)
