"""Pooling (torch.nn.functional): max, average and adaptive pooling; upsampling.

Three ops do all of it, for any number of spatial axes (1-D, 2-D and ``_pooling3d``'s 3-D).
``MaxGather`` takes, per spatial axis, a table of the input positions each output window
reads (max pooling, adaptive max pooling) and returns the maxima and their flat indices,
scanning the kernel positions as torch's loop does. ``AvgPool`` sums strided windows one
axis at a time (a box sum is separable).
``SeparableMap`` multiplies each spatial axis by a matrix: adaptive average pooling and
nearest / (bi)linear interpolation are all linear maps that act on one axis at a time.
Each works on ``(*, *spatial)`` arrays, so unbatched inputs need no special case.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ...autograd.function import Op

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "interpolate",
    "upsample", "upsample_nearest", "upsample_bilinear",
]


class MaxGather(Op):
    """z = max over each window of x, the windows given as position tables per axis"""

    @staticmethod
    def forward(ctx, x, *, tables, node_name):
        # tables: one (out_i, k_i) int array per spatial axis; -1 marks padding
        ctx.show_as(node_name)
        nd = len(tables)
        sizes = x.shape[-nd:]
        floating = x.dtype.kind == "f"
        fill = -np.inf if floating else np.iinfo(x.dtype).min
        # one extra slot of -inf at the end of each axis for the padded positions
        xp = np.pad(x, [(0, 0)] * (x.ndim - nd) + [(0, 1)] * nd, constant_values=fill)
        columns = [t.T for t in tables]  # per axis, kernel position j -> (out_i,) positions
        reads = [np.where(c < 0, n, c) for c, n in zip(columns, sizes)]
        # torch's loop: scan each window in order; a larger value or a NaN takes the place,
        # which starts as -inf at the window's first position inside the input
        best = np.full(x.shape[:-nd] + tuple(len(t) for t in tables), fill, x.dtype)
        first = [t[np.arange(len(t)), (t >= 0).argmax(axis=1)] for t in tables]
        flat = np.broadcast_to(_flat(first, sizes), best.shape).copy()
        for where, v in zip(itertools.product(*columns), _window_values(xp, reads)):
            better = v > best
            if floating:
                better |= np.isnan(v)
            np.copyto(best, v, where=better)
            np.copyto(flat, _flat(where, sizes), where=better)
        ctx.x_shape, ctx.n_spatial = x.shape, nd
        ctx.save_for_backward(flat)
        if hasattr(ctx, "mark_non_differentiable_outputs"):
            ctx.mark_non_differentiable_outputs(1)
        return best, flat

    @staticmethod
    def backward(ctx, grad, _grad_indices=None):
        (flat,) = ctx.saved_tensors
        sizes = ctx.x_shape
        n_lead = len(sizes) - ctx.n_spatial
        plane = math.prod(sizes[n_lead:])
        offsets = np.arange(math.prod(sizes[:n_lead])).reshape(
            sizes[:n_lead] + (1,) * ctx.n_spatial) * plane
        gx = np.bincount((flat + offsets).ravel(), weights=grad.ravel(),
                         minlength=math.prod(sizes))
        return gx.astype(grad.dtype, copy=False).reshape(sizes)


def _flat(columns, sizes):
    """The flat index in ``sizes`` of the positions given per axis as (out_i,) columns,
    broadcast to (*out)."""
    nd = len(columns)
    flat = 0
    for i, (c, n) in enumerate(zip(columns, sizes)):
        flat = flat * n + c.reshape((-1,) + (1,) * (nd - 1 - i))
    return flat


def _window_values(xp, gather):
    """Each kernel position's values (*, *out), in scan order: axis i reads ``gather[i][j]``
    (out_i,) at kernel position j; the per-axis gathers are shared along the way."""
    nd = len(gather)

    def walk(a, i):
        if i == nd:
            yield a
            return
        for c in gather[i]:
            yield from walk(a.take(c, axis=i - nd), i + 1)

    return walk(xp, 0)


def _along(axis, ndim, index):
    """An index that applies ``index`` on ``axis`` of an ``ndim``-d array."""
    return (slice(None),) * (axis % ndim) + (index,)


class AvgPool(Op):
    """z = sum of each strided window of x / its divisor

    A box sum is separable: summed along one spatial axis at a time (k strided slices each),
    and its backward spreads the gradient back one axis at a time in reverse.
    """

    @staticmethod
    def forward(ctx, x, *, kernel, stride, pads, divisor, node_name):
        # pads: (before, after) per spatial axis, after covering ceil_mode's last window;
        # divisor: broadcastable to the output's spatial shape
        ctx.show_as(node_name)
        nd = len(kernel)
        y = np.pad(x, [(0, 0)] * (x.ndim - nd) + list(pads))
        ctx.sizes = []
        for axis, k, s, o in zip(range(-nd, 0), kernel, stride, divisor.shape):
            ctx.sizes.append(y.shape[axis])
            y = sum(y[_along(axis, y.ndim, slice(j, j + (o - 1) * s + 1, s))] for j in range(k))
        ctx.kernel, ctx.stride, ctx.pads, ctx.divisor = kernel, stride, pads, divisor
        return (y / divisor).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        nd = len(ctx.kernel)
        g = (grad / ctx.divisor).astype(grad.dtype, copy=False)
        for axis, k, s, n in reversed(list(zip(range(-nd, 0), ctx.kernel, ctx.stride,
                                               ctx.sizes))):
            o = g.shape[axis]
            spread = np.zeros(g.shape[:g.ndim + axis] + (n,) + g.shape[g.ndim + axis + 1:],
                              g.dtype)
            for j in range(k):
                spread[_along(axis, g.ndim, slice(j, j + (o - 1) * s + 1, s))] += g
            g = spread
        crop = tuple(slice(b, b + n - b - a) for (b, a), n in zip(ctx.pads, ctx.sizes))
        return np.ascontiguousarray(g[(Ellipsis,) + crop])


class SeparableMap(Op):
    """z = x multiplied along each spatial axis i by the matrix A_i (out_i, in_i)"""

    @staticmethod
    def forward(ctx, x, *, mats, node_name):
        ctx.show_as(node_name)
        mats = [m.astype(x.dtype, copy=False) for m in mats]
        out = x
        for i, m in enumerate(mats):
            out = np.moveaxis(np.matmul(m, np.moveaxis(out, i - len(mats), -2)), -2,
                              i - len(mats))
        ctx.mats = mats
        return np.ascontiguousarray(out)

    @staticmethod
    def backward(ctx, grad):
        g = grad
        for i, m in enumerate(ctx.mats):
            g = np.moveaxis(np.matmul(m.T, np.moveaxis(g, i - len(ctx.mats), -2)), -2,
                            i - len(ctx.mats))
        return np.ascontiguousarray(g)


# ---------------------------------------------------------------- argument handling

def _tuple(value, nd, fn, name, default=None):
    """An int or a sequence of 1 or ``nd`` ints as an ``nd``-tuple (torch's message otherwise)."""
    if value is None or (not isinstance(value, (int, np.integer)) and len(value) == 0):
        value = default
    if isinstance(value, (int, np.integer)):
        return (int(value),) * nd
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * nd
    if len(value) != nd:
        nd = {1: "one", 2: "two"}[nd]
        raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of {nd} ints"
                           if name == "kernel_size" else
                           f"{fn}: {name} must either be omitted, a single int, or a tuple of "
                           f"{nd} ints" if name == "stride" else
                           f"{fn}: {name} must be either be a single int, or a tuple of {nd} ints")
    return value


def _out_size(n, k, s, p, d, ceil_mode):
    """torch's pooling_output_shape."""
    span = d * (k - 1) + 1
    out = (n + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def _check_rank(input, nd, fn):
    if nd == 1:
        if input.dim() not in (2, 3):
            if fn == "max_pool1d":
                raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with "
                                   f"optional 0 dim batch size for input, but got:"
                                   f"{list(input.shape)}")
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional "
                               f"tensor for argument #1 'self' (while checking arguments for "
                               f"{fn})")
    elif input.dim() not in (3, 4) or 0 in input.shape[1:]:
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")


def _pool_sizes(input, nd, fn, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = _tuple(kernel_size, nd, fn, "kernel_size")
    stride = _tuple(stride, nd, fn, "stride", default=kernel)
    padding = _tuple(padding, nd, fn, "padding")
    dilation = _tuple(dilation, nd, fn, "dilation")
    if any(s == 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got "
                           f"kernel_size={list(kernel)}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation="
                           f"{list(dilation)}")
    for k, p, d in zip(kernel, padding, dilation):
        if fn == "max_pool1d" and p > k // 2:
            raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, "
                               f"but got padding={p} and kernel_size={k}")
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    sizes = tuple(input.shape[-nd:])
    outs = tuple(_out_size(n, k, s, p, d, ceil_mode)
                 for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation))
    if any(o <= 0 for o in outs):
        if fn == "max_pool1d":
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {outs[0]}")
        c = input.shape[-nd - 1] if input.dim() > nd else 1
        ins = (c,) + ((1,) if nd == 1 else ()) + sizes
        got = (c,) + ((1,) if nd == 1 else ()) + outs
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, ins))}). Calculated output "
                           f"size: ({'x'.join(map(str, got))}). Output size is too small")
    return kernel, stride, padding, dilation, sizes, outs


def _max_pool(input, nd, fn, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    _check_rank(input, nd, fn)
    kernel, stride, padding, dilation, sizes, outs = _pool_sizes(
        input, nd, fn, kernel_size, stride, padding, dilation, ceil_mode)
    name = "SqueezeBackward1" if nd == 1 else "MaxPool2DWithIndicesBackward0"
    out, indices = MaxGather.apply(
        input, tables=_max_tables(sizes, kernel, stride, padding, dilation, outs), node_name=name)
    return (out, indices) if return_indices else out


def _max_tables(sizes, kernel, stride, padding, dilation, outs):
    """MaxGather's position tables: window o of axis i reads o * s - p + j * d (-1 outside)."""
    tables = []
    for n, k, s, p, d, o in zip(sizes, kernel, stride, padding, dilation, outs):
        t = np.arange(o)[:, None] * s - p + np.arange(k)[None, :] * d
        tables.append(np.where((t >= 0) & (t < n), t, -1))
    return tables


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over ``(N, C, L)`` or ``(C, L)``; ``stride`` defaults to the kernel.

    With ``return_indices`` also returns each maximum's position along ``L`` (int64); ties go
    to the first position in the window, as torch's CPU kernel.
    """
    return _max_pool(input, 1, "max_pool1d", kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over ``(N, C, H, W)`` or ``(C, H, W)``; indices are flat in ``H * W``."""
    return _max_pool(input, 2, "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_pool(input, nd, fn, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    _check_rank(input, nd, fn)
    kernel, stride, padding, _, sizes, outs = _pool_sizes(
        input, nd, fn, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    name = "SqueezeBackward1" if nd == 1 else "AvgPool2DBackward0"
    return _avg_apply(input, sizes, kernel, stride, padding, outs, count_include_pad,
                      divisor_override, name)


def _avg_apply(input, sizes, kernel, stride, padding, outs, count_include_pad, divisor_override,
               name):
    """AvgPool with each window's divisor and the padding that ceil_mode's last window needs."""
    divisor = np.ones((), np.float64)
    pads = []
    for n, k, s, p, o in zip(sizes, kernel, stride, padding, outs):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        count = end - start if count_include_pad else (
            np.minimum(end, n) - np.maximum(start, 0))
        divisor = np.multiply.outer(divisor, count.astype(np.float64))
        pads.append((p, max(p, (o - 1) * s + k - n - p)))
    if divisor_override is not None:
        divisor = np.full(outs, float(divisor_override))
    return AvgPool.apply(input, kernel=kernel, stride=stride, pads=tuple(pads),
                         divisor=divisor.reshape(outs), node_name=name)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over ``(N, C, L)`` or ``(C, L)``; ``stride`` defaults to the kernel.

    ``count_include_pad`` divides by the window including its zero padding (torch's default).
    """
    return _avg_pool(input, 1, "avg_pool1d", kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over ``(N, C, H, W)`` or ``(C, H, W)``; ``divisor_override``
    replaces every window's divisor."""
    return _avg_pool(input, 2, "avg_pool2d", kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _adaptive_sizes(input, nd, fn, output_size):
    if nd > 1 and not isinstance(output_size, (int, np.integer)) and (
            input.dim() <= len(output_size)):  # torch's _list_with_default, in Python
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    if nd == 1:
        if input.dim() not in (2, 3):
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional "
                               f"tensor for argument #1 'self' (while checking arguments for "
                               f"{fn})")
        if not isinstance(output_size, (int, np.integer)) and len(output_size) != 1:
            raise RuntimeError(f"{fn}() argument 'output_size' should contain one int (got "
                               f"{len(output_size)})")
    elif input.dim() not in (nd + 1, nd + 2):
        colon = ":" if "max" in fn else ""
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got{colon} "
                           f"{list(input.shape)}")
    if isinstance(output_size, (int, np.integer)):
        output_size = (int(output_size),) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise RuntimeError(f"{fn}: output_size must be {nd}")
    sizes = tuple(input.shape[-nd:])
    # None keeps the input's size on that axis
    return sizes, tuple(n if o is None else int(o) for n, o in zip(sizes, output_size))


def _adaptive_windows(n, o):
    start = (np.arange(o) * n) // o
    end = -((-(np.arange(o) + 1) * n) // o)  # ceil
    return start, end


def _check_non_empty(input, fn, dims=None, shape=None):
    """torch's refusal of empty non-batch dims (all after the first, unless ``dims`` says) in
    the adaptive poolings; ``shape`` is the one torch's kernel sees."""
    shape = list(input.shape) if shape is None else shape
    for i in range(1, len(shape)) if dims is None else dims:
        if shape[i] == 0:
            raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {shape} with dimension "
                               f"{i % len(shape)} being empty")


def _adaptive_avg(input, nd, fn, output_size):
    sizes, outs = _adaptive_sizes(input, nd, fn, output_size)
    if outs == (1,) * nd and (nd == 2 or 0 in sizes):  # torch takes the mean (NaN if empty)
        return input.mean((-1, -2) if nd == 2 else -1, keepdim=True)
    # torch pools 1-D as 2-D, with a unit dim before the last; its kernel checks H and W
    shape = list(input.shape[:-1]) + [1] * (nd == 1) + [input.shape[-1]]
    _check_non_empty(input, "adaptive_avg_pool2d", (-2, -1), shape)
    name = "SqueezeBackward1" if nd == 1 else "AdaptiveAvgPool2DBackward0"
    return SeparableMap.apply(input, mats=_adaptive_mats(sizes, outs), node_name=name)


def _adaptive_mats(sizes, outs):
    """One (out, in) averaging matrix per axis: row i averages window i."""
    mats = []
    for n, o in zip(sizes, outs):
        start, end = _adaptive_windows(n, o)
        pos = np.arange(n)
        inside = (pos >= start[:, None]) & (pos < end[:, None])
        mats.append(inside / np.maximum(end - start, 1)[:, None])
    return mats


def adaptive_avg_pool1d(input, output_size):
    """Average over ``output_size`` windows that tile ``L`` (window i: floor(i L / out) to
    ceil((i + 1) L / out))."""
    return _adaptive_avg(input, 1, "adaptive_avg_pool1d", output_size)


def adaptive_avg_pool2d(input, output_size):
    """2-D adaptive average pooling; ``output_size`` is an int or a pair (None keeps a size)."""
    return _adaptive_avg(input, 2, "adaptive_avg_pool2d", output_size)


def _adaptive_max(input, nd, fn, output_size, return_indices):
    sizes, outs = _adaptive_sizes(input, nd, fn, output_size)
    _check_non_empty(input, fn)
    name = "SqueezeBackward1" if nd == 1 else "AdaptiveMaxPool2DBackward0"
    out, indices = MaxGather.apply(input, tables=_adaptive_tables(sizes, outs), node_name=name)
    return (out, indices) if return_indices else out


def _adaptive_tables(sizes, outs):
    """MaxGather's position tables for windows that tile each axis (-1 pads short ones)."""
    tables = []
    for n, o in zip(sizes, outs):
        start, end = _adaptive_windows(n, o)
        t = start[:, None] + np.arange(int((end - start).max(initial=1)))[None, :]
        tables.append(np.where(t < end[:, None], t, -1))
    return tables


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over ``output_size`` windows that tile ``L`` (as ``adaptive_avg_pool1d``)."""
    return _adaptive_max(input, 1, "adaptive_max_pool1d", output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """2-D adaptive max pooling; indices are flat in ``H * W``."""
    return _adaptive_max(input, 2, "adaptive_max_pool2d", output_size, return_indices)


# ---------------------------------------------------------------- interpolation

_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _scale(n, o, scale_factor, align_corners, dtype):
    """torch's area_pixel_compute_scale, in the op's math type (float for float32)."""
    if align_corners:
        return dtype((n - 1) / (o - 1)) if o > 1 else dtype(0)
    if scale_factor is not None:
        return dtype(1) / dtype(scale_factor)
    return dtype(n) / dtype(o)


def _nearest_matrix(n, o, scale, exact, dtype):
    dst = np.arange(o, dtype=dtype)
    src = np.floor((dst + dtype(0.5)) * scale) if exact else np.floor(dst * scale)
    src = np.minimum(src.astype(np.int64), n - 1)
    m = np.zeros((o, n))
    m[np.arange(o), src] = 1.0
    return m


def _linear_matrix(n, o, scale, align_corners, dtype):
    dst = np.arange(o, dtype=dtype)
    src = dst * scale if align_corners else np.maximum(scale * (dst + dtype(0.5)) - dtype(0.5), 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = (src - i0).astype(np.float64)
    m = np.zeros((o, n))
    np.add.at(m, (np.arange(o), i0), 1.0 - lam)
    np.add.at(m, (np.arange(o), i1), lam)
    return m


def _cubic_matrix(n, o, scale, align_corners, dtype):
    """torch's bicubic taps (A = -0.75) at the source positions, clamped to the edges."""
    a = -0.75
    dst = np.arange(o, dtype=dtype)
    src = dst * scale if align_corners else scale * (dst + dtype(0.5)) - dtype(0.5)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    t = np.clip(src - i0, 0, 1).astype(np.float64)
    near = [t, 1.0 - t]  # distances to the taps i0 and i0 + 1; i0 - 1 and i0 + 2 are 1 further
    w_near = [((a + 2) * x - (a + 3)) * x * x + 1 for x in near]
    w_far = [((a * x - 5 * a) * x + 8 * a) * x - 4 * a for x in (t + 1.0, 2.0 - t)]
    m = np.zeros((o, n))
    for offset, w in zip((-1, 0, 1, 2), (w_far[0], w_near[0], w_near[1], w_far[1])):
        np.add.at(m, (np.arange(o), np.clip(i0 + offset, 0, n - 1)), w)
    return m


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dimensions of ``(N, C, *spatial)`` input to ``size`` or by
    ``scale_factor`` (output size ``floor(in * scale_factor)``).

    Modes: ``nearest``, ``nearest-exact``, ``area`` (adaptive average pooling), ``linear``
    (3-D input), ``bilinear`` and ``bicubic`` (4-D input), ``trilinear`` (5-D input), with
    ``align_corners`` for the last four. ``antialias`` raises ``NotImplementedError``.
    """
    nd = input.dim() - 2
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if align_corners is None:
        align_corners = False
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if nd < 1:
        raise ValueError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                         f"{input.dim()}D) for the modes: {_MODES} (got {mode})")
    spatial = tuple(input.shape[2:])
    if size is not None:
        size = (int(size),) * nd if isinstance(size, (int, np.integer)) else tuple(size)
        if len(size) != nd:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and output size of {size}. Please provide input "
                             f"tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, "
                             f"o2, ...,oK) format.")
        scales = (None,) * nd
    else:
        scales = (float(scale_factor),) * nd if isinstance(scale_factor, (int, float)) else \
            tuple(float(s) for s in scale_factor)
        if len(scales) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and scale_factor of shape {scale_factor}. Please "
                             f"provide input tensor in (N, C, d1, d2, ...,dK) format and "
                             f"scale_factor in (s1, s2, ...,sK) format.")
        size = tuple(int(math.floor(n * s)) for n, s in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    if antialias:
        raise NotImplementedError("interpolate: antialias is not supported by ember")
    dtype = np.float32 if input.dtype.itemsize <= 4 else np.float64
    needs = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
    if mode == "bicubic" and nd != 2:  # torch has no message of its own for this one
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.dim()}D) for the modes: {_MODES} (got {mode})")
    if mode in needs and nd != needs[mode]:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                  f"{needs[mode] + 2}D input")
    if mode == "area" and nd <= 3:
        from ._pooling3d import adaptive_avg_pool3d
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](input,
                                                                                      size)
    if mode in ("nearest", "nearest-exact") and nd <= 3:
        exact = mode == "nearest-exact"
        mats = [_nearest_matrix(n, o, _scale(n, o, s, False, dtype), exact, dtype)
                for n, o, s in zip(spatial, size, scales)]
        name = f"Upsample{'NearestExact' if exact else 'Nearest'}{nd}DBackward0"
    elif mode == "bicubic":
        mats = [_cubic_matrix(n, o, _scale(n, o, s, align_corners, dtype), align_corners,
                              dtype) for n, o, s in zip(spatial, size, scales)]
        name = "UpsampleBicubic2DBackward0"
    elif mode in needs:
        mats = [_linear_matrix(n, o, _scale(n, o, s, align_corners, dtype), align_corners,
                               dtype) for n, o, s in zip(spatial, size, scales)]
        name = f"Upsample{('Linear1D', 'Bilinear2D', 'Trilinear3D')[nd - 1]}Backward0"
    elif mode in ("nearest", "nearest-exact", "bicubic", "trilinear", "area"):
        raise NotImplementedError(f"interpolate: mode {mode!r} with {input.dim()}D input is "
                                  f"not supported by ember")
    else:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.dim()}D) for the modes: {_MODES} (got {mode})")
    return SeparableMap.apply(input, mats=mats, node_name=name)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode="nearest")``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode="bilinear", align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


for _name in __all__:
    globals()[_name].__module__ = "ember.nn.functional"
del _name
