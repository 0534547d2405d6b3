"""torch's CPU rules for the interpolation modes without antialiasing: which input pixels
(taps) each output reads along an axis, with which weights, and the forward sums in the
order torch's kernels add them (``fma`` and ``cubic`` serve the antialiased modes too).

torch's x86 build fuses ``a * b + c`` into one rounding (a fused multiply-add) wherever the
compiler may, in its source positions as in its sums; ``fma`` reproduces that, so float32
and float64 results agree with torch's bit for bit.
The weights are computed in the kernel's math type (``opmath``: float32 for float16 and
float32, float64 for float64); floor is always taken in float32, as torch's ``floorf``.
``resample`` and ``resample_channels_last`` are the plain reference evaluations; what
``interpolate`` runs is ``_interpolate_pass``, the same sums made fast (and tested equal).
"""
from __future__ import annotations

import numpy as np

_F32, _F64 = np.float32, np.float64
_CUBIC_A = -0.75  # torch's bicubic without antialias (OpenCV's); with it, -0.5
_VECTOR_BYTES = 32  # an AVX2 register: the channels torch's channels-last kernel takes at once


def fma(a, b, c):
    """``a * b + c`` with one rounding, elementwise, in the arguments' float type, where that
    is cheap: float32 goes through float64, where the product is exact (torch's compiled
    loops fuse these). float64 rounds twice (an exact float64 fma costs NumPy six times the
    work; the difference is below 1e-15 relative)."""
    a, b, c = np.asarray(a), np.asarray(b), np.asarray(c)
    dtype = np.result_type(a, b, c)
    if dtype != _F64:
        out = a.astype(_F64) * b.astype(_F64)
        out += c
        return out.astype(dtype)
    return a * b + c


def scales_value(n, o, scale_factor, dtype):
    """torch's compute_scales_value: ``1 / scale_factor`` rounded once to ``dtype``, or the
    size ratio ``n / o`` when no (positive) factor is given."""
    if scale_factor is not None and scale_factor > 0:
        return dtype(1.0 / scale_factor)
    return dtype(n) / dtype(o)


def pixel_scale(n, o, scale_factor, align_corners, dtype):
    """torch's area_pixel_compute_scale: input pixels per output pixel, in ``dtype``."""
    if align_corners:
        return dtype(n - 1) / dtype(o - 1) if o > 1 else dtype(0)
    return scales_value(n, o, scale_factor, dtype)


def source_index(n, o, scale_factor, align_corners, cubic, dtype):
    """torch's area_pixel_compute_source_index for every output: where output ``i`` sits in
    input coordinates (the pixel centres, or the corners with ``align_corners``)."""
    scale = pixel_scale(n, o, scale_factor, align_corners, dtype)
    i = np.arange(o).astype(dtype)
    if align_corners:
        return scale * i
    src = fma(scale, i + dtype(0.5), dtype(-0.5))
    return src if cubic else np.maximum(src, dtype(0))


def floor_and_fraction(real, n, dtype):
    """torch's guard_index_and_lambda: the tap left of each source position (at most
    ``n - 1``) and the position's distance past it, clipped to 0..1."""
    idx = np.minimum(np.floor(real.astype(_F32)).astype(np.int64), n - 1)
    return idx, np.clip(real - idx.astype(dtype), dtype(0), dtype(1))


def nearest_index(n, o, scale_factor, exact, dtype, legacy):
    """The input index each output copies along one axis.

    ``legacy`` is torch's nearest_idx / nearest_exact_idx (float32 math; ``nearest``
    copies an axis that keeps its size and halves the index of one that doubles it), the
    rule of its channels-last kernel and of every nearest backward. Otherwise it is
    compute_indices_weights_nearest, in ``dtype``.
    """
    i = np.arange(o)
    if legacy:
        if not exact and o in (n, 2 * n):
            return i >> (o != n)
        scale = scales_value(n, o, scale_factor, _F32)
        src = ((i + 0.5) * _F64(scale)).astype(_F32) if exact else i.astype(_F32) * scale
    elif exact:
        src = source_index(n, o, scale_factor, False, False, dtype)
        src = (src.astype(_F64) + 0.5).astype(_F32)
    else:
        src = (scales_value(n, o, scale_factor, dtype) * i.astype(dtype)).astype(_F32)
    return np.minimum(np.floor(src).astype(np.int64), n - 1)


def linear_taps(n, o, scale_factor, align_corners, dtype):
    """``(index, weight)`` arrays of shape ``(o, 2)``: the two neighbours and their shares
    (torch's compute_source_index_and_lambda; an axis that keeps its size is copied)."""
    i = np.arange(o)
    if o == n:
        return np.stack([i, i], 1), np.stack([np.ones(o, dtype), np.zeros(o, dtype)], 1)
    real = source_index(n, o, scale_factor, align_corners, False, dtype)
    i0, lam = floor_and_fraction(real, n, dtype)
    return np.stack([i0, i0 + (i0 < n - 1)], 1), np.stack([dtype(1) - lam, lam], 1)


def cubic_near(x, a=_CUBIC_A, as_filter=False):
    """Keys' cubic convolution kernel on ``0 <= x <= 1``, as torch evaluates it; with
    ``as_filter``, as its antialias (and uint8) filter, which fuses one multiply-add more."""
    t = x.dtype.type
    inner = fma(t(a + 2), x, t(-(a + 3))) * x
    return fma(inner, x, t(1)) if as_filter else inner * x + t(1)


def cubic_far(x, a=_CUBIC_A, as_filter=False):
    """Keys' cubic convolution kernel on ``1 <= x <= 2``, as ``cubic_near``."""
    t = x.dtype.type
    inner = fma(fma(t(a), x, t(-5 * a)), x, t(8 * a))
    return fma(inner, x, t(-4 * a)) if as_filter else inner * x - t(4 * a)


def cubic(x, a=_CUBIC_A):
    """torch's cubic filter: Keys' kernel at ``|x|`` (0 from 2 on)."""
    x = np.abs(x)
    t = x.dtype.type
    return np.where(x < 1, cubic_near(x, a, True),
                    np.where(x < 2, cubic_far(x, a, True), t(0)))


def cubic_taps(n, o, scale_factor, align_corners, dtype):
    """``(index, weight)`` arrays of shape ``(o, 4)`` for bicubic: the four neighbours,
    clamped to the edges (torch's compute_indices_weights_cubic)."""
    real = source_index(n, o, scale_factor, align_corners, True, dtype)
    i0, t = floor_and_fraction(real, n, dtype)
    one = dtype(1)
    weights = [cubic_far(t + one), cubic_near(t), cubic_near(one - t),
               cubic_far((one - t) + one)]
    index = [np.clip(i0 + j - 1, 0, n - 1) for j in range(4)]
    return np.stack(index, 1), np.stack(weights, 1)


def taps_matrix(n, index, weight):
    """The ``(o, n)`` matrix of taps (weights of a repeated index add up)."""
    m = np.zeros((index.shape[0], n), weight.dtype)
    np.add.at(m, (np.arange(index.shape[0])[:, None], index), weight)
    return m


def resample(x, taps):
    """Apply per-axis taps to the trailing axes of ``x`` as torch's generic kernel does:
    the last axis first, each output the fused sum of its taps in order."""
    for axis in range(x.ndim - 1, x.ndim - len(taps) - 1, -1):
        index, weight = taps[axis - x.ndim]
        along = (-1,) + (1,) * (x.ndim - 1 - axis)  # the weights broadcast along ``axis``
        x = _fused_sum([np.take(x, i, axis=axis) for i in index.T],
                       [w.reshape(along) for w in weight.T])
    return x


def resample_channels_last(x, taps):
    """Apply two-tap (linear) taps as torch's channels-last kernel does: each output sums
    its 2**nd corners with the products of their per-axis weights, right to left for the
    channels its vector loop takes, left to right for the rest."""
    nd = len(taps)
    values, weights = [], []
    for corner in np.ndindex(*(2,) * nd):
        index = np.ix_(*(taps[a][0][:, c] for a, c in enumerate(corner)))
        values.append(x[(Ellipsis,) + index])
        w = taps[0][1][:, corner[0]]
        for a in range(1, nd):
            w = np.multiply.outer(w, taps[a][1][:, corner[a]])
        weights.append(w)
    channels = x.shape[1]
    vector = channels - channels % (_VECTOR_BYTES // x.dtype.itemsize)
    out = np.empty(values[0].shape, x.dtype)
    if vector:
        head = [v[:, :vector] for v in values]
        out[:, :vector] = _fused_sum(head[::-1], weights[::-1])
    if vector < channels:
        out[:, vector:] = _fused_sum([v[:, vector:] for v in values], weights)
    return out


def _fused_sum(values, weights):
    # v0 * w0 + v1 * w1 + v2 * w2 + ... as torch's compiled loops round it
    if len(values) == 1:
        return values[0] * weights[0]
    out = fma(values[0], weights[0], values[1] * weights[1])
    for v, w in zip(values[2:], weights[2:]):
        out = fma(v, w, out)
    return out
