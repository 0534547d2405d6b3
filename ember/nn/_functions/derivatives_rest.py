"""The last Tensor-level formulas for the ``nn`` ops (``create_graph=True``): threshold,
rrelu and the dropout-like noise, kl_div's ``t log t``, the channel and pixel shuffles,
max_unpool and grid_sample. Local response norm's ``CrossMapLRN2d`` and ``ctc_loss`` have
no double backward in torch either: their gradients raise torch's error when differentiated
again. See ``ember/ops/derivatives`` for how the formulas work.
"""
from __future__ import annotations

import numpy as np

from ...ops.clamp import where
from ...ops.derivatives._common import const, formula, saved_tensors
from ...ops.derivatives._rest import delayed, zero_on_edge
from ...ops.indexing import Gather, GetItem, IndexPut
from ...ops.shape import stack
from ...ops.unary import log
from ..functional._channel import ChannelShuffle, CrossMapLRN2d
from ..functional._ctc import CtcLoss
from ..functional._more_activation import NoiseAffine, RreluWithNoise, Threshold
from ..functional._unpool import MaxUnpool
from ..functional._vision import GridSample, PixelShuffle
from .pointwise_loss import SelfXlogy


# --- activations and noise: the gradient is grad times a constant ------------------------------
@formula(Threshold)
def _threshold(ctx, grad):
    (x,) = ctx.saved_tensors
    return grad * const(x > ctx.threshold, grad._data.dtype)


@formula(NoiseAffine, RreluWithNoise)
def _noise(ctx, grad):
    (scale,) = ctx.saved_tensors
    return grad * const(scale, grad._data.dtype)


@formula(SelfXlogy)
def _self_xlogy(ctx, grad):
    (t,) = saved_tensors(ctx)
    nonzero = const(t._data != 0)  # log t + t / t: nan at 0 (0 / 0) and below, as torch
    return grad * (where(nonzero, log(where(nonzero, t, 1.0)), 0.0) + t / t)


# --- rearrangements --------------------------------------------------------------------------
@formula(ChannelShuffle)
def _channel_shuffle(ctx, grad):
    return ChannelShuffle.apply(grad, groups=grad.shape[1] // ctx.groups)  # the inverse shuffle


@formula(PixelShuffle)
def _pixel_shuffle(ctx, grad):
    return PixelShuffle.apply(grad, factor=ctx.factor, inverse=not ctx.inverse)


@formula(MaxUnpool)
def _max_unpool(ctx, grad):
    (flat,) = ctx.saved_tensors  # each input element went to one place: read it back
    planes = flat.shape[0]
    return Gather.apply(grad.reshape(planes, -1), flat, dim=1).reshape(ctx.x_shape), None


# --- grid_sample -------------------------------------------------------------------------------
def _tap_weights(taps, grid0, mults):
    """Each tap's (weight, d weight / d ix, d weight / d iy) as Tensors that move with the grid.

    The sampling positions move with the grid at the rates forward found (0 where clipped):
    ``rate * (grid - grid)`` is 0 and reaches the grid. Bilinear taps weigh ``wx * wy``, each
    factor linear in its position with slope +-1 (taps in the order (x0, y0), (x0, y1),
    (x1, y0), (x1, y1)); forward kept ``dwx = sx wy`` and ``dwy = wx sy``.
    """
    if len(taps) == 1:  # nearest: weight 1, no slope
        _, _, weight, dwx, dwy, _ = taps[0]
        return [(const(weight), const(dwx), const(dwy))]
    dix, diy = const(mults[0]) * grid0[..., 0], const(mults[1]) * grid0[..., 1]
    out = []
    for k, (_, _, _, dwx, dwy, _) in enumerate(taps):
        sx, sy = (1.0 if k >= 2 else -1.0), (1.0 if k % 2 else -1.0)
        wx, wy = const(sy * dwy) + sx * dix, const(sx * dwx) + sy * diy
        out.append((wx * wy, sx * wy, wx * sy))
    return out


@formula(GridSample)
def _grid_sample(ctx, grad):
    (x,) = saved_tensors(ctx)
    n, c, h, w = x.shape
    need, batch = ctx.needs_input_grad, ctx.batch
    g = grad.permute(0, 2, 3, 1)  # (N, Ho, Wo, C)
    mult_x, mult_y = ctx.mults
    grid0 = zero_on_edge(ctx, 1, mult_x.shape + (2,), mult_x.dtype)
    gx_in = gix = giy = None
    for tap, (wgt, dw_x, dw_y) in zip(ctx.taps, _tap_weights(ctx.taps, grid0, ctx.mults)):
        cx, cy, _, _, _, inside = tap
        cyc, cxc = np.clip(cy, 0, h - 1), np.clip(cx, 0, w - 1)
        keep = const(inside)
        if need[0]:
            part = IndexPut.apply(const(np.zeros((n, h, w, c), grad._data.dtype)),
                                  g * where(keep, wgt, 0.0).unsqueeze(-1),
                                  index=(batch, cyc, cxc), accumulate=True)
            gx_in = part if gx_in is None else gx_in + part
        if need[1]:
            vals = GetItem.apply(x, index=(batch, slice(None), cyc, cxc))  # (N, Ho, Wo, C)
            dot = where(keep, (vals * g).sum(-1), 0.0)
            gix = dot * dw_x if gix is None else gix + dot * dw_x
            giy = dot * dw_y if giy is None else giy + dot * dw_y
    g_input = gx_in.permute(0, 3, 1, 2) if need[0] else None
    g_grid = stack([gix * const(mult_x), giy * const(mult_y)], -1) if need[1] else None
    return g_input, g_grid


# --- no double backward in torch -----------------------------------------------------------
@formula(CrossMapLRN2d)
def _cross_map_lrn2d(ctx, grad):
    # torch's legacy layer writes its gradient with out= ops, which autograd cannot record
    return delayed(ctx, (grad,), "mul(): functions with out=... arguments don't support "
                   "automatic differentiation, but one of the arguments requires grad.",
                   RuntimeError)


@formula(CtcLoss)
def _ctc_loss(ctx, grad):
    return delayed(ctx, (grad,), "derivative for aten::_ctc_loss_backward is not implemented",
                   RuntimeError)

