"""More Tensor-level formulas for the ``nn`` ops (``create_graph=True``): the piecewise and
smooth activations (selu, celu, hardswish, hardsigmoid, softshrink, mish, glu),
unfold/fold, EmbeddingBag and cross entropy with probability targets.

As in ``derivatives.py``: masks are constants, what forward saved comes back on the graph
through ``saved_tensors``, and a fused op's input is rebuilt with ``stand_in``.
"""
from __future__ import annotations

import numpy as np

from ...ops.activation import sigmoid, softplus, tanh
from ...ops.clamp import where
from ...ops.derivatives._common import const, formula, saved_tensors, stand_in
from ...ops.indexing import GetItem, IndexPut
from ...ops.math_more import outside_band
from ...ops.reduce import log_softmax
from ...ops.shape import cat
from ..functional._conv import Col2Im, Im2Col
from ..functional._more_activation import (
    Celu,
    Hardsigmoid,
    Hardswish,
    ScaledElu,
    Softshrink,
)
from .activation import Glu, Mish
from .cross_entropy import SoftCrossEntropy, from_rows
from .derivatives import _rows, _unrows
from .embedding import EmbeddingBagOp


# --- activations ----------------------------------------------------------------------------
@formula(ScaledElu, Celu)
def _scaled_elu(ctx, grad):
    x, _ = ctx.saved_tensors
    _, out = saved_tensors(ctx)  # below 0: d/dx = input_scale * (out + scale * alpha)
    return where(const(x > 0), grad * ctx.scale, grad * (out + ctx.sa) * ctx.input_scale)


@formula(Hardswish)
def _hardswish(ctx, grad):
    (x,) = saved_tensors(ctx)  # 0 below -3, x / 3 + 1/2 on [-3, 3], 1 above
    mid = where(const(x._data <= 3), grad * (x / 3 + 0.5), grad)
    return where(const(x._data < -3), 0.0, mid)


@formula(Hardsigmoid)
def _hardsigmoid(ctx, grad):
    (x,) = ctx.saved_tensors
    return grad * const(((x > -3) & (x < 3)) / 6.0, grad._data.dtype)


@formula(Softshrink)
def _softshrink(ctx, grad):
    (x,) = ctx.saved_tensors  # NaN passes, as in the first backward
    return grad * const(outside_band(x, ctx.lambd), grad._data.dtype)


@formula(Mish)
def _mish(ctx, grad):
    x, _ = saved_tensors(ctx)
    t = tanh(softplus(x))  # d/dx = tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x)
    return grad * (t + x * (1 - t * t) * sigmoid(x))


@formula(Glu)
def _glu(ctx, grad):
    x, _ = saved_tensors(ctx)
    a, b = x.chunk(2, ctx.dim)
    s = sigmoid(b)
    return cat([grad * s, grad * a * s * (1 - s)], ctx.dim)


# --- unfold and fold: each is the other's adjoint ---------------------------------------------
@formula(Im2Col)
def _im2col(ctx, grad):
    return Col2Im.apply(grad, size=ctx.size, geometry=ctx.geometry, batched=ctx.batched)


@formula(Col2Im)
def _col2im(ctx, grad):
    return Im2Col.apply(grad, geometry=ctx.geometry, batched=ctx.batched)


# --- EmbeddingBag -----------------------------------------------------------------------------
@formula(EmbeddingBagOp)
def _embedding_bag(ctx, grad):
    weight, psw = saved_tensors(ctx)
    ids, bags, dt = ctx.ids, ctx.bags, grad._data.dtype
    need = ctx.needs_input_grad
    g_rows = GetItem.apply(grad, index=bags)  # each id's bag gradient
    gw = gp = None
    if need[0]:
        zeros = const(np.zeros(ctx.w_shape, dt))
        if ctx.mode == "max":  # feature d of bag b goes to the row that won it
            won = ctx.winner < ids.size
            cols = np.broadcast_to(np.arange(ctx.w_shape[1]), won.shape)[won]
            gw = IndexPut.apply(zeros, GetItem.apply(grad, index=won),
                                index=(ids[ctx.winner[won]], cols), accumulate=True)
        else:
            rows = g_rows
            if psw is not None:
                rows = rows * GetItem.apply(psw, index=ctx.keep).unsqueeze(1)
            if ctx.mode == "mean":
                rows = rows / const(ctx.counts[bags][:, None], dt)
            if ctx.scale_grad_by_freq:
                freq = np.bincount(ctx.all_idx, minlength=ctx.w_shape[0])
                rows = rows / const(freq[ids][:, None], dt)
            gw = IndexPut.apply(zeros, rows, index=ids, accumulate=True)
    if psw is not None and need[1]:
        dots = (g_rows * GetItem.apply(weight, index=ids)).sum(1)
        gp = IndexPut.apply(const(np.zeros(psw.shape, dt)), dots, index=ctx.keep)
    return gw, gp


# --- cross entropy with class probabilities ---------------------------------------------------
@formula(SoftCrossEntropy)
def _soft_cross_entropy(ctx, grad):
    logp, wq = ctx.saved_tensors
    rows, num_classes = logp.shape
    eps, weight, shape = ctx.eps, ctx.weight, ctx.x_shape
    if eps == 1:
        return NotImplemented  # q is uniform: the target cannot be read back from it
    # the target, read back from wq = (target * (1 - eps) + eps / C) * weight (a class of
    # weight 0 reads 0: nothing depends on it there); log p stands in for x (a shift per row)
    w = np.ones(num_classes, logp.dtype) if weight is None else weight
    q = wq / np.where(w == 0, 1, w)
    target = np.where(w == 0, 0, (q - eps / num_classes) / (1 - eps)).astype(logp.dtype)
    x = stand_in(ctx, 0, from_rows(logp, shape))
    t = stand_in(ctx, 1, from_rows(target, shape))
    lp = log_softmax(_rows(x), 1)
    q = _rows(t) * (1.0 - eps) + eps / num_classes if eps else _rows(t)
    wq = q if weight is None else q * const(weight)
    f = grad.reshape(-1, 1) if ctx.reduction == "none" else (
        grad / rows if ctx.reduction == "mean" else grad)
    need = ctx.needs_input_grad
    gx = _unrows(lp.exp() * wq.sum(1, keepdim=True) * f - wq * f, shape) if need[0] else None
    gt = None
    if need[1]:
        scale = (1.0 - eps) if weight is None else const(weight * (1.0 - eps))
        gt = _unrows(-lp * f * scale, shape)
    return gx, gt
