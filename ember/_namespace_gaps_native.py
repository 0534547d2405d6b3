"""torch's ATen-level top-level ops: ``convolution`` and ``conv_tbc``, the ``native_*``
normalisations and dropout (which also return their statistics or mask), ``binomial``,
``segment_reduce`` and ``histogramdd``.

Each keeps ATen's signature (every argument required where torch's is) and its errors; the
math is ember's ``nn.functional`` ops where they exist, so gradients come with them.
"""
from __future__ import annotations

import math

import numpy as np

from . import _arg_errors, return_types
from ._dtype import c_type_name
from ._tensor import Tensor, _wrap
from .autograd.function import Op

__all__ = ["binomial", "conv_tbc", "convolution", "native_layer_norm", "native_batch_norm",
           "native_dropout", "native_group_norm", "segment_reduce", "histogramdd"]


def _F():  # noqa: N802  (torch's own alias for the module)
    from .nn import functional

    return functional


def _type_name(np_dtype):
    from .ops._shape_utils import type_name

    return type_name(np_dtype)


class EmbeddingRenorm(Op):
    """Rows of x named in idx rescaled to norm max_norm where their norm exceeds it; no
    derivative (torch's backward raises)."""

    @staticmethod
    def forward(ctx, x, *, idx, max_norm, norm_type):
        from .nn._functions.embedding import renorm_

        out = x.copy()
        renorm_(out, idx, max_norm, norm_type)
        return out

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative for 'embedding_renorm' is not implemented.")


# --- sampling ---------------------------------------------------------------------------------
def binomial(count, prob, generator=None):
    """``torch.binomial``: successes in ``count`` trials of probability ``prob`` (the two
    broadcast), drawn with torch's CPU sampler from ``generator`` (default: ember's), so the
    draws equal torch's after the same seed. An input that requires grad gives a result
    whose backward raises, as torch (no derivative).

    Raises:
        ValueError: an integer ``count`` or ``prob``.
        RuntimeError: ``count`` and ``prob`` of different float dtypes, or shapes that do not
            broadcast.
    """
    from ._random import _gen
    from .distributions._samplers import binomial as sample
    from .ops._linalg_ldl import _NoDerivative
    from .ops._shape_utils import check_broadcast

    _arg_errors.check_tensors("binomial", count=count, prob=prob)
    c, p = count._data, prob._data
    for name, a in (("count", c), ("prob", p)):
        if a.dtype.kind != "f":
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                             f"{_type_name(a.dtype)}")
    if c.dtype != p.dtype:
        raise RuntimeError(f"Found dtype {_type_name(p.dtype)} but expected "
                           f"{_type_name(c.dtype)}")
    check_broadcast(c.shape, p.shape)
    drawn = sample(_gen(generator), c, p)
    return _NoDerivative.apply(count, prob, fn=lambda *_: drawn, name="binomial")


# --- convolutions -----------------------------------------------------------------------------
def _int_list(name, pos, value):
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"convolution(): argument '{name}' (position {pos}) must be tuple of "
                        f"ints, not {type(value).__name__}")
    return [int(v) for v in value]


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """``torch.convolution``: ATen's convolution, every argument required. The number of
    spatial dims comes from ``weight`` (1, 2 or 3); ``transposed`` picks the transposed
    convolution, which alone reads ``output_padding``; each list holds one value or one per
    spatial dim.

    Raises:
        TypeError: a list argument given as an int (torch's binding wants lists).
        RuntimeError: ``input`` and ``weight`` of different ranks, and the convolutions' own
            errors (channels, groups, sizes).
    """
    stride = _int_list("stride", 4, stride)
    padding = _int_list("padding", 5, padding)
    dilation = _int_list("dilation", 6, dilation)
    output_padding = _int_list("output_padding", 8, output_padding)
    nd = weight.dim() - 2
    if input.dim() != weight.dim():
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-"
                           f"dimensional weight {list(weight.shape)}, but got {input.dim()}-"
                           f"dimensional input of size {list(input.shape)} instead")
    if nd not in (1, 2, 3):
        raise RuntimeError(f"convolution: expected a weight with 3, 4 or 5 dims, got "
                           f"{weight.dim()}")
    def one(v):  # one value, or one per spatial dim
        return v[0] if len(v) == 1 else tuple(v)

    F = _F()
    if transposed:
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]
        return fn(input, weight, bias, one(stride), one(padding), one(output_padding), groups,
                  one(dilation))
    fn = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    return fn(input, weight, bias, one(stride), one(padding), one(dilation), groups)


def conv_tbc(input, weight, bias, pad=0):
    """``torch.conv_tbc``: a 1-D convolution over time-major input.

    Args:
        input: ``(T, B, C_in)``.
        weight: ``(kW, C_in, C_out)``.
        bias: ``(C_out,)``, required.
        pad: zeros added at both ends of the time dim (a negative pad crops).

    Returns:
        ``(T + 2 pad - kW + 1, B, C_out)``.

    Raises:
        TypeError: ``bias`` is None.
        RuntimeError: wrong ranks or channel counts, or no room for the kernel.
    """
    if not isinstance(bias, Tensor):
        raise TypeError("conv_tbc(): argument 'bias' (position 3) must be Tensor, not "
                        f"{type(bias).__name__}")
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    t, b, c_in = input.shape
    k, w_in, c_out = weight.shape
    if c_in != w_in:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if bias.shape[0] != c_out:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    olen = t - k + 1 + 2 * pad
    if olen < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {olen}: "
                           f"[{olen}, {b}, {c_out}]")
    if olen == 0:
        from ._creation import zeros

        return zeros((0, b, c_out), dtype=input.dtype) + bias
    F = _F()
    x = input.permute(1, 2, 0)
    if pad:
        x = F.pad(x, (pad, pad))
    out = F.conv1d(x, weight.permute(2, 1, 0), bias)
    return out.permute(2, 0, 1).contiguous()


# --- normalisation and dropout ----------------------------------------------------------------
def _stats(x, axes, eps):
    """Mean and ``1 / sqrt(biased var + eps)`` of array ``x`` over ``axes``, kept as dims."""
    mean = x.mean(axis=axes, keepdims=True)
    var = np.square(x - mean).mean(axis=axes, keepdims=True)
    return mean, (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """``torch.native_layer_norm``: ``(output, mean, rstd)``, the statistics over the
    trailing ``normalized_shape`` dims kept as size-1 dims (and not differentiable, as
    torch's)."""
    out = _F().layer_norm(input, normalized_shape, weight, bias, eps)
    k = len(normalized_shape) if isinstance(normalized_shape, (list, tuple)) else 1
    axes = tuple(range(input.dim() - k, input.dim()))
    mean, rstd = _stats(input._data, axes, eps)
    return out, _wrap(mean), _wrap(rstd)


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """``torch.native_batch_norm``: ``(output, save_mean, save_invstd)``. While
    ``training`` those are the batch's per-channel mean and ``1 / sqrt(biased var + eps)``
    (and the running statistics are updated in place); otherwise two empty tensors."""
    out = _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                          eps)
    x = input._data
    if not training:
        return out, _wrap(np.empty(0, x.dtype)), _wrap(np.empty(0, x.dtype))
    axes = (0, *range(2, x.ndim))
    mean, invstd = _stats(x, axes, eps)
    return out, _wrap(mean.reshape(-1)), _wrap(invstd.reshape(-1))


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):  # noqa: N803
    """``torch.native_group_norm``: ``(output, mean, rstd)`` for ``input`` read as
    ``(N, C, HxW)``, ``mean`` and ``rstd`` shaped ``(N, group)``; all three differentiable,
    as torch's.

    Raises:
        RuntimeError: ``group`` not positive, ``C`` not divisible by it, ``weight`` or
            ``bias`` not of ``C`` values, or ``N * C * HxW`` not ``input``'s size.
    """
    if group <= 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {group}")
    if C % group:
        raise RuntimeError("Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={group}")
    shown = list(weight.shape) if weight is not None else [0]
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and (p.dim() != 1 or p.numel() != C):
            # NOTE: torch's message shows the weight's shape for both
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {shown} and input "
                               f"of shape {list(input.shape)}")
    if input.numel() != N * C * HxW:
        raise RuntimeError("Expected X.numel() == N * C * HxW to be true, but got false.  "
                           "(Could this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    xg = input.reshape(N, group, -1)
    mean = xg.mean(-1)
    var = (xg - mean.unsqueeze(-1)).square().mean(-1)
    rstd = (var + eps).rsqrt()
    out = ((xg - mean.unsqueeze(-1)) * rstd.unsqueeze(-1)).reshape(N, C, HxW)
    if weight is not None:
        out = out * weight.reshape(1, C, 1)
    if bias is not None:
        out = out + bias.reshape(1, C, 1)
    return out.reshape(input.shape), mean, rstd


class NativeDropout(Op):
    """z = x * m * scale, m ~ Bernoulli(1 - p) (returned, bool, as a second output)"""

    @staticmethod
    def forward(ctx, x, *, p, generator):
        from ._sampling import bernoulli_scalar

        mask = bernoulli_scalar(generator, x.shape, 1.0 - p).astype(bool)
        scale = x.dtype.type(0.0 if p == 1 else 1.0 / (1.0 - p))
        ctx.save_for_backward(mask)
        ctx.scale = scale
        if hasattr(ctx, "mark_non_differentiable_outputs"):  # (absent when not recording)
            ctx.mark_non_differentiable_outputs(1)
        return (x * mask) * scale, mask

    @staticmethod
    def backward(ctx, grad, _grad_mask=None):
        (mask,) = ctx.saved_tensors
        return grad * mask * ctx.scale


def native_dropout(input, p, train):
    """``torch.native_dropout``: ``(output, mask)``. While ``train`` (or None) each element
    survives with probability ``1 - p`` and is scaled by ``1 / (1 - p)`` (the mask is the
    draw torch's CPU dropout makes after the same seed); otherwise a copy and an all-True
    mask.

    Raises:
        RuntimeError: ``1 - p`` outside ``[0, 1]`` while training (torch's bernoulli message).
    """
    from ._random import default_generator

    if input.numel() == 0:
        return input, _wrap(np.empty_like(input._data))
    if train is None or train:
        if not 0 <= 1 - p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={1 - p}")
        return NativeDropout.apply(input, p=float(p), generator=default_generator)
    return input.clone(), _wrap(np.ones(input.shape, bool))


# --- segment_reduce ---------------------------------------------------------------------------
_REDUCE = {"max": "max", "amax": "max", "min": "min", "amin": "min", "mean": "mean",
           "sum": "sum", "prod": "prod"}


def _reduce_segment(seg, reduce, initial):
    """One segment ``seg`` ``(L, I)`` reduced over its rows as ATen's kernel does."""
    if reduce in ("sum", "mean"):
        acc = np.add.reduce(seg, axis=0, initial=0 if initial is None else initial)
        if reduce == "mean":
            if len(seg) == 0 and initial is None:
                acc = np.full_like(acc, np.nan)
            elif len(seg):
                acc = np.where(np.isnan(acc), acc, acc / acc.dtype.type(len(seg)))
        return acc
    if reduce == "prod":
        return np.multiply.reduce(seg, axis=0, initial=1 if initial is None else initial)
    ufunc = np.maximum if reduce == "max" else np.minimum
    start = (-np.inf if reduce == "max" else np.inf) if initial is None else initial
    return ufunc.reduce(seg, axis=0, initial=start)


class SegmentReduce(Op):
    """out[o, j] = reduce(x[o, offsets[o, j]:offsets[o, j + 1]]) over consecutive segments"""

    @staticmethod
    def forward(ctx, x, *, shape, offsets, reduce, initial):
        p, _, inner = x.shape
        s = offsets.shape[1] - 1
        out = np.empty((p, s, inner), x.dtype)
        for o in range(p):
            for j in range(s):
                seg = x[o, offsets[o, j]:offsets[o, j + 1]]
                out[o, j] = _reduce_segment(seg, reduce, initial)
        ctx.save_for_backward(x, out)
        ctx.offsets, ctx.reduce, ctx.initial = offsets, reduce, initial
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        offsets, reduce = ctx.offsets, ctx.reduce
        grad = grad.reshape(out.shape)
        gx = np.zeros_like(x)
        for o in range(x.shape[0]):
            for j in range(offsets.shape[1] - 1):
                a, b = offsets[o, j], offsets[o, j + 1]
                if b <= a:
                    continue
                gx[o, a:b] = _segment_grad(x[o, a:b], out[o, j], grad[o, j], reduce,
                                           ctx.initial)
        return gx


def _segment_grad(seg, out, g, reduce, initial):
    """ATen's ``_segment_reduce_backward`` for one segment ``seg`` ``(L, I)``."""
    if reduce == "sum":
        return np.broadcast_to(g, seg.shape)
    if reduce == "mean":
        return np.broadcast_to(g / g.dtype.type(len(seg)), seg.shape)
    if reduce == "prod":
        gx = g * out / seg
        holes = np.isnan(seg) | (seg == 0)
        for i, col in zip(*np.nonzero(holes)):  # explicit product of the others
            others = np.delete(seg[:, col], i)
            start = seg.dtype.type(1 if initial is None else initial)
            gx[i, col] = g[col] * np.multiply.reduce(others, initial=start)
        return gx
    hit = np.isnan(seg) | (seg == out)
    gx = np.where(hit, g, g.dtype.type(0))
    count = hit.sum(axis=0)
    # NOTE: as ATen, ties share the gradient, but only where it is positive
    share = (count >= 2) & (gx > 0)
    return np.where(share, gx / np.maximum(count, 1).astype(gx.dtype), gx)


def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0,
                   unsafe=False, initial=None):
    """``torch.segment_reduce``: reduce consecutive segments of ``data`` along ``axis``.

    Args:
        data: float tensor.
        reduce: ``"sum"``, ``"mean"``, ``"max"``/``"amax"``, ``"min"``/``"amin"`` or
            ``"prod"``.
        lengths: integer tensor of segment lengths, its last dim along ``axis`` (its leading
            dims those of ``data`` before ``axis``).
        offsets: the segments' boundaries instead (one more than the segments); wins over
            ``lengths``.
        unsafe: skip the checks that lengths are non-negative and cover ``data``.
        initial: the reduction's starting value (the result of an empty segment); without
            it an empty segment gives 0, NaN (mean), -inf, inf or 1.

    Returns:
        ``data``'s shape with ``axis`` replaced by the number of segments.

    Raises:
        RuntimeError: ``indices`` given, neither ``lengths`` nor ``offsets``, an unknown
            ``reduce``, lengths that do not fit.
        NotImplementedError: integer ``data``, or float lengths or offsets.
    """
    from .ops._shape_utils import wrap_dim

    axis = wrap_dim(axis, data.dim())
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    if reduce not in _REDUCE:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    kind = "offsets" if offsets is not None else "lengths"
    bounds = (offsets if offsets is not None else lengths)._data
    if bounds.ndim > data.dim() or axis != bounds.ndim - 1:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of {kind} "
                           f"but got {axis}.")
    if kind == "lengths" and not unsafe:
        if bounds.size and bounds.min() < 0:
            raise RuntimeError("lengths contains negative value!")
        if not np.all(bounds.sum(axis=-1) == data.shape[axis]):
            raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum "
                               "to data.size(lengths.dim()-1) when !unsafe.")
    if bounds.dtype not in (np.int64, np.int32):
        raise NotImplementedError(f'"_segment_reduce_{kind}_cpu_kernel1" not implemented for '
                                  f"'{_type_name(bounds.dtype)}'")
    if data._data.dtype.kind != "f":
        raise NotImplementedError('"_segment_reduce_cpu" not implemented for '
                                  f"'{_type_name(data._data.dtype)}'")
    lead = int(np.prod(data.shape[:axis], dtype=np.int64))
    rows = bounds.reshape(lead, -1).astype(np.int64)
    if kind == "lengths":
        rows = np.concatenate([np.zeros((lead, 1), np.int64), np.cumsum(rows, axis=1)], axis=1)
    shape = (*data.shape[:axis], rows.shape[1] - 1, *data.shape[axis + 1:])
    x = data.reshape(lead, data.shape[axis], -1)
    return SegmentReduce.apply(x, shape=shape, offsets=rows, reduce=_REDUCE[reduce],
                               initial=initial).reshape(shape)


# --- histogramdd ------------------------------------------------------------------------------
def _outer_edges(points, range, n):  # noqa: A002
    """ATen's leftmost and rightmost edges per dim: ``range``'s, the data's, or ``(0, 1)``
    for no data; a zero-width range widens by 0.5 each way."""
    lo, hi = [0.0] * n, [1.0] * n
    if range is not None:
        if len(range) != 2 * n:
            raise RuntimeError(f"torch.histogramdd: for a {n}-dimensional histogram range "
                               f"should have {2 * n} elements, but got {len(range)}")
        lo, hi = [float(v) for v in range[0::2]], [float(v) for v in range[1::2]]
    elif len(points):
        lo, hi = [float(v) for v in points.min(axis=0)], [float(v) for v in points.max(axis=0)]
    for d in np.arange(n):
        if not (np.isfinite(lo[d]) and np.isfinite(hi[d])):
            raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{lo[d]:g}, "
                               f"{hi[d]:g}] is not finite")
        if lo[d] > hi[d]:
            raise RuntimeError("torch.histogramdd: min should not exceed max, but got min "
                               f"{lo[d]:g} max {hi[d]:g} for dimension {d}")
        if lo[d] == hi[d]:
            lo[d], hi[d] = lo[d] - 0.5, hi[d] + 0.5
    return lo, hi


def _bin_edges(input, points, bins, range, n):  # noqa: A002
    """One 1-D edges array per dim, from bin counts or given edge tensors."""
    from ._creation import linspace

    dtype = input._data.dtype
    if isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor):
        if len(bins) != n:
            raise RuntimeError(f"torch.histogramdd: expected {n} sequences of bin edges for a "
                               f"{n}-dimensional histogram but got {len(bins)}")
        for d, b in enumerate(bins):
            if b._data.dtype != dtype:
                raise RuntimeError("torch.histogramdd: input tensor and bins tensors should "
                                   f"have the same dtype, but got input with dtype "
                                   f"{_c_name(dtype)} and bins for dimension {d} with dtype "
                                   f"{_c_name(b._data.dtype)}")
            if b.dim() != 1:
                raise RuntimeError("torch.histogramdd: bins tensor should have one dimension, "
                                   f"but got {b.dim()} dimensions in the bins tensor for "
                                   f"dimension {d}")
            if b.numel() == 0:
                raise RuntimeError("torch.histogramdd: bins tensor should have at least 1 "
                                   "element, but got 0 elements in the bins tensor for "
                                   f"dimension {d}")
            if b.numel() == 1:
                raise RuntimeError(f"torch.histogram(): bins must be > 0, but got 0 for "
                                   f"dimension {d}")
        return [b._data for b in bins]
    counts = [int(bins)] * n if isinstance(bins, (int, np.integer)) else [int(b) for b in bins]
    if len(counts) != n:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    for d, c in enumerate(counts):
        if c <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {c} for "
                               f"dimension {d}")
    lo, hi = _outer_edges(points, range, n)
    from ._dtype import from_numpy

    return [linspace(lo[d], hi[d], counts[d] + 1, dtype=from_numpy(dtype))._data
            for d in np.arange(n)]


_c_name = c_type_name  # torch's C++ name of a dtype in its messages


def histogramdd(input, bins, *, range=None, weight=None, density=False):  # noqa: A002
    """``torch.histogramdd``: the histogram of the points in the last dim of ``input``.

    Args:
        input: float tensor ``(*, N)``: points in N dims.
        bins: an int (bins per dim), N ints, or N 1-D tensors of bin edges. Each bin holds
            its left edge; the last also its right one.
        range: ``[lo_0, hi_0, lo_1, hi_1, ...]`` for int ``bins`` (the data's range by
            default).
        weight: ``input``'s shape without the last dim: each point's weight.
        density: divide by the total and by each bin's volume.

    Returns:
        ``(hist, bin_edges)``: an N-dim tensor and a tuple of N edge tensors, in
        ``input``'s dtype. Points outside the edges (and NaN) are left out.
    """
    if input.dim() == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if input.dim() < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    dtype = input._data.dtype
    floating = dtype.kind == "f" and dtype != np.float16
    given_edges = isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor)
    if range is None and not given_edges and not floating:  # the data's range is computed
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_type_name(dtype)}'")
    n = input.shape[-1]
    points = input._data.reshape(math.prod(input.shape[:-1]), n)
    if weight is not None:
        if weight._data.dtype != dtype:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor "
                               "and weight tensor should have the same dtype, but got "
                               f"input({_c_name(dtype)}), and weight("
                               f"{_c_name(weight._data.dtype)})")
        if tuple(weight.shape) != tuple(input.shape[:-1]):
            raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have "
                               "the same shape as the input tensor excluding its innermost "
                               f"dimension, but got input with shape {list(input.shape)} and "
                               f"weight with shape {list(weight.shape)}")
    edges = _bin_edges(input, points, bins, range, n)
    if dtype.kind != "f":  # the counting kernel has float loops only (Half included)
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_type_name(dtype)}'")
    hist = np.zeros([len(e) - 1 for e in edges], dtype)
    keep = np.ones(len(points), bool)
    pos = []
    for d, e in enumerate(edges):
        col = points[:, d]
        keep &= (col >= e[0]) & (col <= e[-1])
        where = np.searchsorted(e, col, side="right") - 1
        pos.append(np.minimum(where, len(e) - 2))  # the last bin holds its right edge
    if hist.size and n:  # no dims: torch's 0-d histogram stays 0
        w = np.ones(len(points), dtype) if weight is None else weight._data.reshape(-1)
        np.add.at(hist, tuple(p[keep] for p in pos), w[keep])
    if density:
        hist = hist / hist.sum()
        for d, e in enumerate(edges):
            shape = [1] * n
            shape[d] = len(e) - 1
            hist = hist / np.diff(e).reshape(shape)
    return return_types.histogramdd((_wrap(hist.astype(dtype, copy=False)),
                                     tuple(_wrap(e.copy()) for e in edges)))
