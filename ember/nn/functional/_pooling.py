"""Pooling (torch.nn.functional): max, average and adaptive pooling.

Three ops do all of it, for any number of spatial axes (1-D, 2-D and ``_pooling3d``'s 3-D).
``MaxGather`` takes, per spatial axis, a table of the input positions each output window
reads (max pooling, adaptive max pooling) and returns the maxima and their flat indices,
scanning the kernel positions as torch's loop does. ``AvgPool`` sums strided windows one
axis at a time (a box sum is separable).
``SeparableMap`` multiplies each spatial axis by a matrix: adaptive average pooling (and
``_interpolate``'s nearest / (bi)linear interpolation) are linear maps that act on one axis at
a time.
Each works on ``(*, *spatial)`` arrays, so unbatched inputs need no special case.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ...autograd.function import Op
from ._kernels import FLOATING, FLOATING_AND_LONG, REAL, check_kernel
from ._pool_args import max_pool1d_sizes, pool1d_as_2d, pool2d_sizes

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
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
        y = np.pad(_acc(x), [(0, 0)] * (x.ndim - nd) + list(pads))
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
        out = _acc(x)
        mats = [m.astype(out.dtype, copy=False) for m in mats]
        for i, m in enumerate(mats):
            out = np.moveaxis(np.matmul(m, np.moveaxis(out, i - len(mats), -2)), -2,
                              i - len(mats))
        ctx.mats = mats
        return np.ascontiguousarray(out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        g = _acc(grad)
        for i, m in enumerate(ctx.mats):
            g = np.moveaxis(np.matmul(m.T, np.moveaxis(g, i - len(ctx.mats), -2)), -2,
                            i - len(ctx.mats))
        return np.ascontiguousarray(g).astype(grad.dtype, copy=False)


class EmptyPool(Op):
    """z = the empty output of an adaptive pooling to a zero size; its backward fails as
    torch's kernels do"""

    @staticmethod
    def forward(ctx, x, *, shape, node_name, message):
        ctx.show_as(node_name)
        ctx.message = message
        return np.zeros(shape, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(ctx.message)


def _empty_pool(input, nd, outs, kernel, node_name):
    """The empty adaptive pooling output (``outs`` holds a 0), with torch's backward error
    naming the shape its 2-D ``kernel`` sees (a unit dim added for 1-D)."""
    shape = list(input.shape[:-nd]) + [1] * (nd == 1) + list(outs)
    dim = next(i for i in range(1, len(shape)) if shape[i] == 0)
    return EmptyPool.apply(input, shape=tuple(input.shape[:-nd]) + tuple(outs),
                           node_name=node_name, message=(
                               f"{kernel}_backward(): Expected grad_output to have non-zero "
                               f"size for non-batch dimensions, but grad_output has sizes "
                               f"{shape} with dimension {dim} being empty"))


def _acc(x):
    """float16 as torch's pooling and interpolation kernels compute it: in float32 (the
    result is rounded back once)."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


# ---------------------------------------------------------------- max and average pooling

def _max_pool(input, nd, fn, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    shape = tuple(input.shape)
    if nd == 1 and not return_indices:
        args = max_pool1d_sizes(shape, kernel_size, stride, padding, dilation, ceil_mode)
        check_kernel(input, "max_pool1d_impl", FLOATING)
    else:
        sizes = pool1d_as_2d if nd == 1 else pool2d_sizes
        args = sizes(shape, fn, kernel_size, stride, padding, dilation, ceil_mode, False)
        check_kernel(input, "max_pool2d", REAL)
    kernel, stride, padding, dilation, outs = args
    name = "SqueezeBackward1" if nd == 1 else "MaxPool2DWithIndicesBackward0"
    tables = _max_tables(shape[-nd:], kernel, stride, padding, dilation, outs)
    out, indices = MaxGather.apply(input, tables=tables, node_name=name)
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
    shape = tuple(input.shape)
    if nd == 1:
        args = pool1d_as_2d(shape, fn, kernel_size, stride, padding, 1, ceil_mode, True)
    else:
        args = pool2d_sizes(shape, fn, kernel_size, stride, padding, 1, ceil_mode, True,
                            divisor_override)
    check_kernel(input, "avg_pool2d", FLOATING_AND_LONG)
    kernel, stride, padding, _, outs = args
    name = "SqueezeBackward1" if nd == 1 else "AvgPool2DBackward0"
    return _avg_apply(input, shape[-nd:], kernel, stride, padding, outs, count_include_pad,
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
        if fn == "adaptive_max_pool2d":  # (torch's max kernel words it so)
            raise RuntimeError("adaptive_max_pool2d(): internal error: output_size.size() "
                               "must be 2")
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
    if nd == 2 and input.dim() not in (3, 4) and (output_size == 1 or (
            isinstance(output_size, (tuple, list)) and list(output_size) == [1, 1]
            and input.dim() > 2)):
        return input.mean((-1, -2), keepdim=True)  # torch's shortcut, before its rank check
    sizes, outs = _adaptive_sizes(input, nd, fn, output_size)
    if min(outs) < 0:  # torch pools 1-D as 2-D, with a unit dim before the last
        pair = ((1,) + outs) if nd == 1 else outs
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than or "
                           f"equal to 0 but received {{{pair[0]}, {pair[1]}}}")
    # torch takes the mean (NaN if empty; mean's error for integer input, 1-D pools too)
    if outs == (1,) * nd and (nd == 2 or 0 in sizes or not input.is_floating_point()):
        return input.mean((-1, -2) if nd == 2 else -1, keepdim=True)
    shape = list(input.shape[:-1]) + [1] * (nd == 1) + [input.shape[-1]]
    _check_non_empty(input, "adaptive_avg_pool2d", (-2, -1), shape)
    if 0 not in outs:  # torch returns an empty output before it looks at the dtype
        check_kernel(input, "adaptive_avg_pool2d", FLOATING)
    name = "SqueezeBackward1" if nd == 1 else "AdaptiveAvgPool2DBackward0"
    if 0 in outs and input.numel():
        return _empty_pool(input, nd, outs, "adaptive_avg_pool2d", name)
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
    if min(outs) < 0:  # torch's output allocation (1-D pools as 2-D, a unit dim added)
        shape = list(input.shape[:-nd]) + [1] * (nd == 1) + list(outs)
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{next(o for o in outs if o < 0)}: {shape}")
    check_kernel(input, "adaptive_max_pool2d", FLOATING)
    name = "SqueezeBackward1" if nd == 1 else "AdaptiveMaxPool2DBackward0"
    if 0 in outs and input.numel():
        from ... import _creation

        out = _empty_pool(input, nd, outs, "adaptive_max_pool2d", name)
        indices = _creation.tensor(np.zeros(out.shape, np.int64))
        return (out, indices) if return_indices else out
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


for _name in __all__:
    globals()[_name].__module__ = "ember.nn.functional"
del _name
