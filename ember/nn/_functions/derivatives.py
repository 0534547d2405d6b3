"""Backward formulas on Tensors (``backward_graph``, for ``create_graph=True``) of the fused
nn ops: activations, dropout, pointwise losses, cross entropy and NLL, layer and batch
norm, embedding, convolution, pooling and padding (attention's is beside its op, in
``nn/_attention.py``). See ``ember/ops/derivatives`` for how the formulas work.

The fused ops save what their NumPy backward needs, which is not always the input: cross
entropy keeps ``exp(x - max)``, the norms keep ``x - mean``, a convolution its input's
windows. Those ops do not change when ``x`` shifts by a constant along the reduced dims,
so the saved ``x - c`` stands in for ``x`` (``stand_in``); a convolution's input is rebuilt
from its windows. The formula recomputes what it needs from the stand-in with ember ops.
"""
from __future__ import annotations

import numpy as np

from ...ops.activation import sigmoid
from ...ops.clamp import clamp, where
from ...ops.derivatives._common import const, formula, saved_tensors, stand_in
from ...ops.indexing import GetItem, IndexPut, ScatterAdd
from ...ops.reduce import softmax
from ...ops.shape import cat
from ...ops.unary import log, rsqrt
from ..functional._conv import Convolution, _add_cols
from ..functional._pooling import AvgPool, MaxGather, SeparableMap, _along
from .activation import Elu, Hardtanh, LeakyRelu, LogSigmoid
from .batch_norm import BatchNorm
from .cross_entropy import CrossEntropy, NLLLoss, from_rows
from .dropout import Dropout
from .embedding import EmbeddingLookup
from .group_norm import GroupNorm
from .layer_norm import LayerNorm
from .pad import ConstantPad, IndexPad
from .pointwise_loss import (
    EPSILON,
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    HuberLoss,
    MseLoss,
    SmoothL1Loss,
)


# --- activations and dropout -------------------------------------------------------------
@formula(LeakyRelu)
def _leaky_relu(ctx, grad):
    (x,) = ctx.saved_tensors
    return where(const(x > 0), grad, grad * ctx.slope)


@formula(Elu)
def _elu(ctx, grad):
    x, _ = ctx.saved_tensors
    _, out = saved_tensors(ctx)  # below 0: d/dx alpha * (e^x - 1) = out + alpha
    return where(const(x > 0), grad, grad * (out + ctx.alpha))


@formula(Hardtanh)
def _hardtanh(ctx, grad):
    (x,) = ctx.saved_tensors
    return grad * const((x > ctx.lo) & (x < ctx.hi), grad._data.dtype)


@formula(LogSigmoid)
def _log_sigmoid(ctx, grad):
    (x,) = saved_tensors(ctx)
    return grad * sigmoid(-x)


@formula(Dropout)
def _dropout(ctx, grad):
    return grad * const(ctx.saved_tensors[1]), None


# --- pointwise losses ----------------------------------------------------------------------
def _upstream(ctx, grad, n):
    return grad / n if ctx.reduction == "mean" else grad


def _input_and_target(ctx, g):
    need = ctx.needs_input_grad
    return (g if need[0] else None), (-g if need[1] else None)


@formula(MseLoss)
def _mse_loss(ctx, grad):
    x, y, _ = saved_tensors(ctx)
    return _input_and_target(ctx, (x - y) * (2 * _upstream(ctx, grad, x.numel())))


@formula(SmoothL1Loss)
def _smooth_l1_loss(ctx, grad):
    x, y, _ = saved_tensors(ctx)
    slope = clamp((x - y) / ctx.beta, -1.0, 1.0)  # d / beta, or +-1 beyond beta
    return _input_and_target(ctx, slope * _upstream(ctx, grad, x.numel()))


@formula(HuberLoss)
def _huber_loss(ctx, grad):
    x, y, _ = saved_tensors(ctx)
    slope = clamp(x - y, -ctx.delta, ctx.delta)  # d, or +-delta beyond delta
    return _input_and_target(ctx, slope * _upstream(ctx, grad, x.numel()))


@formula(BinaryCrossEntropy)
def _binary_cross_entropy(ctx, grad):
    x, y = saved_tensors(ctx)
    f = _upstream(ctx, grad, x.numel())
    if ctx.weight is not None:
        f = f * const(ctx.weight)
    need = ctx.needs_input_grad
    return ((f * (x - y) / clamp((1 - x) * x, min=EPSILON)) if need[0] else None,
            (-f * log(x / (1 - x))) if need[1] else None)


@formula(BinaryCrossEntropyWithLogits)
def _binary_cross_entropy_with_logits(ctx, grad):
    x, y, _ = saved_tensors(ctx)
    f = _upstream(ctx, grad, x.numel())
    if ctx.weight is not None:
        f = f * const(ctx.weight)
    pw = None if ctx.pos_weight is None else const(ctx.pos_weight)
    need = ctx.needs_input_grad
    gx = gy = None
    if need[0]:  # sigmoid(x) - y, or (p y + 1 - y) sigmoid(x) - p y
        s = sigmoid(x)
        gx = (s - y if pw is None else (pw * y + 1 - y) * s - pw * y) * f
    if need[1]:  # -x, or log sigmoid(-x) - p log sigmoid(x)
        if pw is None:
            gy = -x * f
        else:
            log_sig = LogSigmoid.apply(x)
            gy = (log_sig - x - pw * log_sig) * f
    return gx, gy


# --- cross entropy and NLL: rows of class scores -------------------------------------------
def _rows(t):
    """Tensor twin of ``to_rows``: ``(rows, C)`` with the class axis last."""
    if t.ndim == 2:
        return t
    if t.ndim == 1:
        return t.unsqueeze(0)
    return t.movedim(1, -1).reshape(-1, t.shape[1])


def _unrows(g, shape):
    """Tensor twin of ``from_rows``."""
    if len(shape) == 2:
        return g
    if len(shape) == 1:
        return g.reshape(shape)
    return g.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)).movedim(-1, 1)


def _row_factors(ctx, grad):
    """d loss / d loss_i as a column ``(rows or 1, 1)``: ``grad`` spread by the reduction,
    0 for ignored rows."""
    if ctx.reduction == "none":
        f = grad.reshape(-1)
    else:
        f = grad / ctx.denom if ctx.reduction == "mean" else grad
    if ctx.valid is not None:
        f = where(const(ctx.valid), f, 0.0)
    return f.reshape(-1, 1)


def _one_hot(t, num_classes, dtype):
    out = np.zeros((t.size, num_classes), dtype)
    out[np.arange(t.size), t] = 1
    return out


@formula(CrossEntropy)
def _cross_entropy(ctx, grad):
    e, _ = ctx.saved_tensors  # e = exp(x - max), by rows
    rows, num_classes = e.shape
    with np.errstate(divide="ignore"):
        # x - max = log e stands in for x (where e underflowed to 0, -inf: p is 0 there too)
        x = stand_in(ctx, 0, from_rows(np.log(e), ctx.x_shape))
    p = softmax(_rows(x), 1)
    f = _row_factors(ctx, grad)
    onehot = _one_hot(ctx.t, num_classes, e.dtype)
    eps, weight = ctx.eps, ctx.weight
    if weight is None:  # (p - q) * f, q the one-hot smoothed toward uniform
        gx = p * f - const(onehot * (1.0 - eps) + eps / num_classes) * f
    else:
        onehot_coef = f * const((1.0 - eps) * weight[ctx.t][:, None])
        p_coef = onehot_coef + f * (eps / num_classes * weight.sum()) if eps else onehot_coef
        gx = p * p_coef - const(onehot) * onehot_coef
        if eps:
            gx = gx - f * const(eps / num_classes * weight[None, :])
    return _unrows(gx, ctx.x_shape)


@formula(NLLLoss)
def _nll_loss(ctx, grad):
    num_classes = ctx.x_shape[1] if len(ctx.x_shape) > 1 else ctx.x_shape[0]
    f = _row_factors(ctx, grad)
    if ctx.weight is not None:
        f = f * const(ctx.weight[ctx.t][:, None])
    return _unrows(const(-_one_hot(ctx.t, num_classes, ctx.dtype)) * f, ctx.x_shape)


# --- normalisation -------------------------------------------------------------------------
def _rstd(var, invstd):
    """``1 / sqrt(var + eps)`` on the graph, ``eps`` read back from forward's ``invstd``
    (``var + eps = 1 / invstd**2``): only the sum matters, and that is exact."""
    return rsqrt(var + const(1.0 / (invstd * invstd) - var._data))


def _normalise_backward(grad, xhat, rstd, dims):
    """d/dx of ``(x - mean) * rstd`` along ``dims``, applied to ``grad``."""
    return rstd * (grad - grad.mean(dim=dims, keepdim=True)
                   - xhat * (grad * xhat).mean(dim=dims, keepdim=True))


@formula(LayerNorm)
def _layer_norm(ctx, grad):
    xhat_a, invstd_a, _ = ctx.saved_tensors
    w = saved_tensors(ctx)[2]
    need = ctx.needs_input_grad
    dims = list(ctx.axes)
    x = stand_in(ctx, 0, xhat_a / invstd_a)  # x - mean stands in for x
    xc = x - x.mean(dim=dims, keepdim=True)
    rstd = _rstd((xc * xc).mean(dim=dims, keepdim=True), invstd_a)
    xhat = xc * rstd
    lead = list(range(grad.ndim - len(dims)))
    gx = gw = gb = None
    if len(need) > 1 and need[1]:
        gw = (grad * xhat).sum(dim=lead) if lead else grad * xhat
    if len(need) > 2 and need[2]:
        gb = grad.sum(dim=lead) if lead else grad
    if need[0]:
        gx = _normalise_backward(grad * w if w is not None else grad, xhat, rstd, dims)
    return gx, gw, gb


@formula(GroupNorm)
def _group_norm(ctx, grad):
    xhat_a, invstd_a, _ = ctx.saved_tensors
    w = saved_tensors(ctx)[2]
    need = ctx.needs_input_grad
    shape, rows = grad.shape, (grad.shape[0], ctx.num_groups, -1)
    # x - mean stands in for x
    x = stand_in(ctx, 0, (xhat_a.reshape(rows) / invstd_a).reshape(shape)).reshape(rows)
    xc = x - x.mean(dim=2, keepdim=True)
    rstd = _rstd((xc * xc).mean(dim=2, keepdim=True), invstd_a)
    xhat = xc * rstd
    others = [0] + list(range(2, grad.ndim))
    gx = gw = gb = None
    if need[1]:
        gw = (grad * xhat.reshape(shape)).sum(dim=others)
    if need[2]:
        gb = grad.sum(dim=others)
    if need[0]:
        gy = grad * w.reshape((1, -1) + (1,) * (grad.ndim - 2)) if w is not None else grad
        gx = _normalise_backward(gy.reshape(rows), xhat, rstd, [2]).reshape(shape)
    return gx, gw, gb


@formula(BatchNorm)
def _batch_norm(ctx, grad):
    need = ctx.needs_input_grad
    need_w = len(need) > 1 and need[1]
    need_b = len(need) > 2 and need[2]
    ndim = ctx.ndim
    dims = [0] + list(range(2, ndim))
    channel = (-1,) + (1,) * (ndim - 2)  # a per-channel vector, to broadcast against (N, C, *)
    saved = ctx.saved_tensors
    invstd_a, k_a = saved[-2], saved[-1]
    # forward saved k = weight * invstd (weight None: k = invstd, and the weight reads 1)
    w_a = k_a / invstd_a
    w = stand_in(ctx, 1, w_a) if need_w else const(w_a)
    gx = gw = gb = None
    if not ctx.training:  # the running statistics: an affine map of x
        x = saved_tensors(ctx)[0]
        mean, invstd = const(saved[1].reshape(channel)), const(invstd_a)
        if need_w:
            gw = (grad * (x - mean)).sum(dim=dims) * invstd
        if need_b:
            gb = grad.sum(dim=dims)
        if need[0]:
            gx = grad * (w * invstd).reshape(channel)
        return gx, gw, gb
    x = stand_in(ctx, 0, saved[0])  # forward saved x - mean: it stands in for x
    xc = x - x.mean(dim=dims, keepdim=True)
    rstd = _rstd((xc * xc).mean(dim=dims, keepdim=True), invstd_a.reshape(channel))
    xhat = xc * rstd
    if need_w:
        gw = (grad * xhat).sum(dim=dims)
    if need_b:
        gb = grad.sum(dim=dims)
    if need[0]:
        gx = w.reshape(channel) * _normalise_backward(grad, xhat, rstd, dims)
    return gx, gw, gb


# --- embedding ------------------------------------------------------------------------------
@formula(EmbeddingLookup)
def _embedding(ctx, grad):
    idx, dim = ctx.idx, grad.shape[-1]
    if ctx.scale_grad_by_freq:
        counts = np.bincount(idx.reshape(-1), minlength=ctx.num_rows)
        grad = grad / const(counts[idx][..., None].astype(grad._data.dtype))
    flat = idx.reshape(-1)
    rows = np.ascontiguousarray(np.broadcast_to(flat[:, None], (flat.size, dim)))
    zeros = const(np.zeros((ctx.num_rows, dim), grad._data.dtype))
    gw = ScatterAdd.apply(zeros, rows.astype(np.int64), grad.reshape(-1, dim), dim=0)
    if ctx.padding_idx is not None:  # the padding row is never trained
        keep = np.ones((ctx.num_rows, 1), grad._data.dtype)
        keep[ctx.padding_idx] = 0
        gw = gw * const(keep)
    return gw



# --- convolution --------------------------------------------------------------------------
def _weight_grad(inp, g, kernel, stride, pads, dilation, groups):
    """``sum over n, out of g[n, o, out] * inp_padded[n, c, out * stride + k * dilation]``,
    shaped ``(O, C / groups, *kernel)``: a convolution of ``inp`` by ``g`` with the batch and
    channel axes swapped, stride and dilation trading places (torch's trick)."""
    c, o = inp.shape[1] // groups, g.shape[1] // groups
    parts = []
    for i in range(groups):
        x_i = inp[:, i * c:(i + 1) * c].transpose(0, 1)  # batch C / groups, channels N
        g_i = g[:, i * o:(i + 1) * o].transpose(0, 1)    # O / groups filters over N channels
        r = Convolution.apply(x_i, g_i, stride=dilation, pads=pads, dilation=stride, groups=1)
        r = r[(slice(None), slice(None)) + tuple(slice(0, k) for k in kernel)]  # (C/g, O/g, *k)
        parts.append(r.transpose(0, 1))
    return parts[0] if groups == 1 else cat(parts, 0)


def _input_from_windows(ctx):
    """The input x, rebuilt from the windows forward saved (im2col): each element is in one
    or more windows; one no window reaches reads 0 (the convolution never sees it)."""
    kernel = ctx.saved_tensors[0].shape[2:]
    args = (kernel, ctx.stride, ctx.dilation, ctx.groups)
    total = np.zeros(ctx.xp_shape, ctx.cols.dtype)
    count = np.zeros(ctx.xp_shape, ctx.cols.dtype)
    _add_cols(total, ctx.cols, *args)
    _add_cols(count, np.ones_like(ctx.cols), *args)
    xp = total / np.maximum(count, 1)
    return xp[(Ellipsis,) + tuple(slice(b, b + s) for s, (b, _) in
                                  zip(ctx.x_shape[2:], ctx.pads))]


@formula(Convolution)
def _convolution(ctx, grad):
    need = ctx.needs_input_grad
    options = dict(stride=ctx.stride, pads=ctx.pads, dilation=ctx.dilation, groups=ctx.groups)
    gx = gw = gb = None
    if not ctx.transposed:  # gx: the transposed convolution; gw: the input's windows by grad
        (w,) = saved_tensors(ctx)
        if need[0]:
            gx = Convolution.apply(grad, w, transposed=True, output_size=ctx.x_shape[2:],
                                   **options)
        if need[1]:
            x = stand_in(ctx, 0, _input_from_windows(ctx))
            gw = _weight_grad(x, grad, w.shape[2:], **options)
    else:  # the other way round
        x, w = saved_tensors(ctx)
        if need[0]:
            gx = Convolution.apply(grad, w, **options)
        if need[1]:
            gw = _weight_grad(grad, x, w.shape[2:], **options)
    if ctx.has_bias and need[2]:
        gb = grad.sum(dim=[0] + list(range(2, grad.ndim)))
    return gx, gw, gb


# --- pooling and padding: gradients that only move ``grad`` around ---------------------------
def _scatter_rows(shape, axis, idx, g):
    """``zeros(shape)`` with ``g``'s slices along ``axis`` added at positions ``idx``."""
    full = np.moveaxis(np.broadcast_to(idx.reshape((-1,) + (1,) * (g.ndim - 1)),
                                       np.moveaxis(g._data, axis, 0).shape), 0, axis)
    zeros = const(np.zeros(shape, g._data.dtype))
    return ScatterAdd.apply(zeros, np.ascontiguousarray(full).astype(np.int64), g, dim=axis)


@formula(MaxGather)
def _max_gather(ctx, grad, grad_indices=None):
    (flat,) = ctx.saved_tensors  # where each window's maximum is, as a constant
    sizes = ctx.x_shape
    n_lead = len(sizes) - ctx.n_spatial
    plane = int(np.prod(sizes[n_lead:]))
    offsets = np.arange(int(np.prod(sizes[:n_lead]))).reshape(
        sizes[:n_lead] + (1,) * ctx.n_spatial) * plane
    index = (flat + offsets).reshape(-1).astype(np.int64)
    zeros = const(np.zeros(int(np.prod(sizes)), grad._data.dtype))
    return ScatterAdd.apply(zeros, index, grad.reshape(-1), dim=0).reshape(sizes)


@formula(AvgPool)
def _avg_pool(ctx, grad):
    # spread each window's share back, one spatial axis at a time (as the NumPy backward)
    nd = len(ctx.kernel)
    g = grad / const(ctx.divisor)
    for axis, k, s, n in reversed(list(zip(range(-nd, 0), ctx.kernel, ctx.stride, ctx.sizes))):
        o = g.shape[axis]
        shape = list(g.shape)
        shape[axis] = n
        spread = const(np.zeros(shape, grad._data.dtype))
        for j in range(k):
            window = _along(axis, g.ndim, slice(j, j + (o - 1) * s + 1, s))
            spread = IndexPut.apply(spread, g, index=window, accumulate=True)
        g = spread
    crop = tuple(slice(b, n - a) for (b, a), n in zip(ctx.pads, ctx.sizes))
    return GetItem.apply(g, index=(Ellipsis,) + crop)


@formula(SeparableMap)
def _separable_map(ctx, grad):
    return SeparableMap.apply(grad, mats=[m.T for m in ctx.mats], node_name=ctx.name())


@formula(ConstantPad)
def _constant_pad(ctx, grad):
    zeros = const(np.zeros(ctx.x_shape, grad._data.dtype))
    return IndexPut.apply(zeros, GetItem.apply(grad, index=ctx.inner), index=ctx.crop)


@formula(IndexPad)
def _index_pad(ctx, grad):
    g = grad
    for axis, idx in reversed(list(ctx.indices.items())):
        shape = list(g.shape)
        shape[axis] = ctx.x_shape[axis]
        g = _scatter_rows(tuple(shape), axis, idx, g)
    return g
