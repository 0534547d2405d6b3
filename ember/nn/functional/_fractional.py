"""Fractional max pooling (torch.nn.functional): max pooling whose windows start at
pseudo-random, increasing positions (Graham, "Fractional Max-Pooling", 2014).

Each plane (one channel of one sample) has one random sample ``u`` in [0, 1) per spatial
axis. Along an axis of ``n`` inputs, ``o`` outputs and a window of ``k``, window ``i < o - 1``
starts at ``int((i + u) * a) - int(u * a)`` with ``a = (n - k) / (o - 1)``, and the last one
at ``n - k``; the arithmetic is done in the input's dtype, as torch's kernel does. The
samples come from ``_random_samples`` or, when it is None, from ``rand`` on ember's
generator (which follows torch's stream after ``manual_seed``).
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ... import _creation_random
from ._pooling import MaxGather

__all__ = ["fractional_max_pool2d", "fractional_max_pool3d",
           "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"]


class FractionalMaxGather(MaxGather):
    """z = max over each window of x, the windows starting where each plane's table says

    The backward (scattering the gradient to the argmax) is ``MaxGather``'s.
    """

    @staticmethod
    def forward(ctx, x, *, starts, kernel, node_name):
        # starts: per spatial axis, an int64 (planes, out_i) table of window starts
        ctx.show_as(node_name)
        nd = len(kernel)
        sizes, lead = x.shape[-nd:], x.shape[:-nd]
        planes = math.prod(lead)
        outs = tuple(s.shape[1] for s in starts)
        xf = x.reshape(planes, -1)
        # axis i's starts, shaped to broadcast against (planes, *outs)
        cols = [s.reshape((planes,) + (1,) * i + (o,) + (1,) * (nd - 1 - i))
                for i, (s, o) in enumerate(zip(starts, outs))]
        best = np.full((planes,) + outs, -np.inf, x.dtype)
        flat = np.broadcast_to(_flat(cols, sizes), best.shape).copy()
        # torch's scan: window positions in order; a larger value or a NaN takes the place
        for offset in itertools.product(*(range(k) for k in kernel)):
            where = np.broadcast_to(_flat([c + j for c, j in zip(cols, offset)], sizes),
                                    best.shape)
            v = np.take_along_axis(xf, where.reshape(planes, -1), axis=1).reshape(best.shape)
            better = (v > best) | np.isnan(v)
            np.copyto(best, v, where=better)
            np.copyto(flat, where, where=better)
        ctx.x_shape, ctx.n_spatial = x.shape, nd
        flat = flat.reshape(lead + outs)
        ctx.save_for_backward(flat)
        if hasattr(ctx, "mark_non_differentiable_outputs"):
            ctx.mark_non_differentiable_outputs(1)
        return best.reshape(lead + outs), flat


def _flat(columns, sizes):
    """The flat index in ``sizes`` of positions given per axis (broadcasting arrays)."""
    flat = 0
    for c, n in zip(columns, sizes):
        flat = flat * n + c
    return flat


def _intervals(samples, n, o, k, dtype):
    """Window starts (planes, o) along an axis: torch's generate_intervals in ``dtype``."""
    starts = np.empty((samples.shape[0], o), np.int64)
    if o > 1:
        alpha = dtype(n - k) / dtype(o - 1)
        i = np.arange(o - 1).astype(dtype)
        starts[:, :-1] = (((i + samples[:, None]) * alpha).astype(np.int64)
                          - (samples * alpha).astype(np.int64)[:, None])
    if o > 0:
        starts[:, -1] = n - k
    return starts


def _size_list(value, nd, message):
    """An int or a sequence of ``nd`` ints (torch's IntArrayRef[nd]); ``message`` otherwise."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * nd
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * nd
    if len(value) != nd:
        raise RuntimeError(message)
    return value


def _fractional(input, kernel_size, output_size, samples, nd):
    fn = f"fractional_max_pool{nd}d"
    ints = "tuple of Ints" if nd == 2 else "tuple of three Ints"
    kernel = _size_list(kernel_size, nd, f"{fn}: kernel_size must either be a single Int or "
                                         f"{ints}")
    outs = _size_list(output_size, nd, f"{fn}: output_size must either be a single Int or "
                                       f"{ints}")
    where = f"{fn}()" if nd == 2 else f"{fn}_out()"
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{where}: Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    for i in range(1, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"{where}: Expected input to have non-zero size for non-batch "
                               f"dimensions, but got{list(input.shape)} with dimension {i} "
                               f"being empty.")
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, but got: "
                           f"{samples.dim()}")
    batched = input.dim() == nd + 2
    n_batch = input.shape[0] if batched else 1
    channels = input.shape[-nd - 1]
    if samples.shape[0] < n_batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != channels:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got "
                           f"{samples.shape[2]}.")
    sizes = tuple(input.shape[-nd:])
    names = ("height", "width") if nd == 2 else ("time", "height", "width")
    for name, n, k, o in zip(names, sizes, kernel, outs):
        if o + k - 1 > n:
            raise RuntimeError(f"{where}: pool {name} {k} too large relative to input {name} "
                               f"{n}")
    dtype = input._data.dtype.type
    u = samples._data[:n_batch].reshape(n_batch * channels, nd)
    # the 2-D kernel reads a plane's samples as (width, height); the 3-D one as (t, h, w)
    order = (1, 0) if nd == 2 else (0, 1, 2)
    starts = [_intervals(u[:, j], n, o, k, dtype)
              for j, n, o, k in zip(order, sizes, outs, kernel)]
    out, indices = FractionalMaxGather.apply(
        input, starts=starts, kernel=kernel, node_name=f"FractionalMaxPool{nd}DBackward0")
    return out, indices


def _random(input, samples, nd):
    if samples is None:
        n_batch = 1 if input.dim() == nd + 1 else input.size(0)
        samples = _creation_random.rand(n_batch, input.size(-nd - 1), nd, dtype=input.dtype)
    return samples


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """2-D fractional max pooling of ``(N, C, H, W)`` or ``(C, H, W)`` input; returns
    ``(output, indices)``, the indices flat in ``H * W``.

    Args:
        kernel_size: the window, an int or ``(kH, kW)``.
        output_size: ``oH x oW`` (an int or a pair), or else
        output_ratio: a fraction of the input size per axis (in (0, 1)).
        _random_samples: ``(N, C, 2)`` samples in [0, 1), the input's dtype; drawn with
            ``rand`` when None.

    Raises:
        ValueError: neither ``output_size`` nor ``output_ratio`` is given.
        RuntimeError: a window that does not fit (``oH + kH - 1 > H``), samples of another
            dtype or shape, an input that is not 3-D or 4-D.
    """
    if output_size is None and output_ratio is None:
        raise ValueError("fractional_max_pool2d requires specifying either an output_size or "
                         "an output_ratio")
    if output_size is None:
        if len(output_ratio) > 2:  # NOTE: a bare float raises TypeError here, as in torch
            raise ValueError("fractional_max_pool2d requires output_ratio to either be a "
                             "single Int or tuple of Ints.")
        ratio = tuple(output_ratio)
        output_size = [int(input.size(-2) * ratio[0]), int(input.size(-1) * ratio[1])]
    samples = _random(input, _random_samples, 2)
    return _fractional(input, kernel_size, output_size, samples, 2)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """3-D fractional max pooling of ``(N, C, T, H, W)`` or ``(C, T, H, W)`` input; returns
    ``(output, indices)``, the indices flat in ``T * H * W``. ``_random_samples`` is
    ``(N, C, 3)``; otherwise as ``fractional_max_pool2d_with_indices``."""
    if output_size is None and output_ratio is None:
        raise ValueError("fractional_max_pool3d requires specifying either an output_size or "
                         "an output_ratio")
    if output_size is None:
        ratio = (tuple(output_ratio) if isinstance(output_ratio, (list, tuple))
                 else (output_ratio,) * 3)
        output_size = [int(input.size(-3) * ratio[0]), int(input.size(-2) * ratio[1]),
                       int(input.size(-1) * ratio[2])]
    samples = _random(input, _random_samples, 3)
    return _fractional(input, kernel_size, output_size, samples, 3)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """2-D fractional max pooling; with ``return_indices`` also the flat indices (see
    ``fractional_max_pool2d_with_indices``)."""
    out = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio,
                                             return_indices, _random_samples)
    return out if return_indices else out[0]


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """3-D fractional max pooling; with ``return_indices`` also the flat indices (see
    ``fractional_max_pool3d_with_indices``)."""
    out = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio,
                                             return_indices, _random_samples)
    return out if return_indices else out[0]


for _name in __all__:
    globals()[_name].__module__ = "ember.nn.functional"
del _name
