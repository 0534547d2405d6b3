"""Tangent rules of the ``nn.functional`` ops: activations, convolution (linear in the input
and in the weight), the losses that are linear in their input (nll) or in a log-softmax of
it (cross entropy), and mse."""
from __future__ import annotations

from ...nn._functions import activation as A
from ...nn._functions import cross_entropy, embedding, pad, pointwise_loss
from ...nn.functional import _channel, _conv, _pooling, _unpool, _vision
from ...nn.modules._backward_hooks import _HookIdentity
from ...ops.reduce import LogSoftmax
from ._rules import add, elementwise, linear, rule, zero_of
from .rules_reduce import _log_softmax

elementwise({
    A.LeakyRelu: lambda x, out, negative_slope=0.01: (
        (x > 0).to(out.dtype) * (1 - negative_slope) + negative_slope),
    A.Elu: lambda x, out, alpha=1.0: _where(x > 0, 1.0, out + alpha).to(out.dtype),
    A.Hardtanh: lambda x, out, min_val=-1.0, max_val=1.0: (
        (x > min_val) & (x < max_val)).to(out.dtype),
    A.LogSigmoid: lambda x, out: (-x).sigmoid(),
})

# linear in the input for fixed indices, pads or matrices
linear(embedding.EmbeddingLookup, pad.IndexPad, _channel.ChannelShuffle, _pooling.AvgPool,
       _pooling.SeparableMap, _conv.Im2Col, _conv.Col2Im, _vision.PixelShuffle,
       _unpool.MaxUnpool, cross_entropy.NLLLoss)


@rule(_HookIdentity)
def _hook_identity(xs, ts, out, hook):
    # the identity a module's full backward hooks hang on: the tangents pass through
    return tuple(ts)


def _where(cond, a, b):
    from ...ops.clamp import where

    return where(cond, a, b)


@rule(pad.ConstantPad)
def _constant_pad(xs, ts, out, pads, value=0.0):
    return pad.ConstantPad.apply(ts[0], pads=pads, value=zero_of(value))


@rule(_conv.Convolution)
def _convolution(xs, ts, out, **options):
    x, w = xs[0], xs[1]
    tx, tw = ts[0], ts[1]
    tb = ts[2] if len(ts) > 2 else None
    conv = _conv.Convolution.apply
    if tb is not None:  # the bias is added along the channel dim (dim 1)
        tb = tb.reshape((1, -1) + (1,) * (out.ndim - 2))
    return add(None if tx is None else conv(tx, w, **options),
               None if tw is None else conv(x, tw, **options), tb)


@rule(cross_entropy.CrossEntropy)
def _cross_entropy(xs, ts, out, target, weight=None, ignore_index=-100, reduction="mean",
                   label_smoothing=0.0):
    # cross entropy is nll of log_softmax over the class dim, and nll is linear
    if label_smoothing:
        return NotImplemented
    x = xs[0]
    dim = 1 if x.ndim > 1 else 0
    t_logp = _log_softmax(xs, ts, LogSoftmax.apply(x, dim=dim), dim=dim)
    return cross_entropy.NLLLoss.apply(t_logp, target=target, weight=weight,
                                       ignore_index=ignore_index, reduction=reduction)


@rule(pointwise_loss.MseLoss)
def _mse(xs, ts, out, reduction, dtype, out_dtype):
    (x, y), (tx, ty) = xs, ts
    d = add(tx, None if ty is None else -ty)
    t = (x - y) * d * 2
    if reduction == "mean":
        t = t.mean()
    elif reduction == "sum":
        t = t.sum()
    return t.to(out.dtype)
