"""Antialiased resizing: ``interpolate(..., antialias=True)`` for bilinear and bicubic.

torch's separable filter (after PIL): to shrink an axis by ``s`` the filter is stretched to
``s`` times its width, so every input pixel under an output pixel's footprint counts;
enlarging keeps the plain filter. The filter is the triangle for bilinear and Keys' cubic
with ``a = -0.5`` for bicubic (the non-antialiased bicubic uses -0.75). Each output's taps
are cut at the borders and its weights divided by their sum. Output ``i`` is centred at
``scale * (i + 0.5)`` in input coordinates, ``align_corners`` or not: that flag only
changes ``scale`` (``(in - 1) / (out - 1)`` instead of ``in / out`` or ``1 / scale_factor``).

The weights are computed in the input's float type, as torch does, so float32 results
agree with torch's to rounding. uint8 input takes torch's integer path: weights rounded to
int16 fixed point, each pass rounded and clamped to 0..255.
"""
from __future__ import annotations

import numpy as np

from ..._tensor import _wrap
from ...autograd._forward_ad._rules import linear
from ...ops.derivatives._common import formula
from ._kernels import check_kernel
from ._pooling import SeparableMap

__all__ = []

_TAPS = {"bilinear": 2, "bicubic": 4}  # torch's interp_size: the filter's width at scale 1
_DTYPES = frozenset({"float32", "float64", "uint8"})


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0).astype(x.dtype)


def _keys_cubic(x, a=-0.5):
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0)).astype(x.dtype)


_FILTERS = {"bilinear": _triangle, "bicubic": _keys_cubic}


def _scale(n, o, scale_factor, align_corners, dtype):
    """torch's area_pixel_compute_scale in ``dtype``: input pixels per output pixel."""
    if align_corners:
        return dtype(n - 1) / dtype(o - 1) if o > 1 else dtype(0)
    if scale_factor is not None and scale_factor > 0:
        return dtype(1.0 / scale_factor)
    return dtype(n) / dtype(o)


def aa_weights(n, o, scale, mode, dtype=np.float64):
    """The ``(o, n)`` matrix of antialiased weights along one axis, each row summing to 1.

    Args:
        n: input size; o: output size.
        scale: input pixels per output pixel (see ``_scale``).
        mode: ``"bilinear"`` or ``"bicubic"``.
        dtype: the float type the weights are computed in (the input's, for float input).
    """
    scale = dtype(scale)
    half = _TAPS[mode] * 0.5
    support = dtype(half * scale) if scale >= 1 else dtype(half)
    invscale = dtype(1.0 / np.float64(scale)) if scale >= 1 else dtype(1)
    width = int(np.ceil(support)) * 2 + 1
    center = (np.float64(scale) * (np.arange(o) + 0.5)).astype(dtype)
    # int64 casts truncate toward zero, as C++ does
    xmin = np.maximum(((center - support).astype(np.float64) + 0.5).astype(np.int64), 0)
    xmax = np.minimum(((center + support).astype(np.float64) + 0.5).astype(np.int64), n)
    xsize = np.clip(xmax - xmin, 0, width)  # rounding can make it one longer than the taps
    idx = xmin[:, None] + np.arange(width)
    dist = (idx.astype(dtype) - center[:, None]).astype(np.float64) + 0.5
    w = _FILTERS[mode]((dist * np.float64(invscale)).astype(dtype))
    inside = np.arange(width) < xsize[:, None]
    w = np.where(inside, w, dtype(0))
    total = np.add.accumulate(w, axis=1)[:, -1]  # torch sums the taps in order
    w = np.where(total[:, None] != 0, w / np.where(total == 0, 1, total)[:, None], w)
    m = np.zeros((o, n), dtype)
    rows = np.broadcast_to(np.arange(o)[:, None], idx.shape)
    m[rows[inside], idx[inside]] = w[inside]
    return m


class AntialiasMap(SeparableMap):
    """z = A_H x A_W^T over the last two axes; backward multiplies by B_H^T and B_W (see
    ``resize_antialias`` for where B differs from A)."""

    @staticmethod
    def forward(ctx, x, *, mats, grad_mats, node_name, grad_name):
        out = SeparableMap.forward(ctx, x, mats=mats, node_name=node_name)
        ctx.fwd_mats = [m.astype(x.dtype, copy=False) for m in mats]
        ctx.mats = [m.astype(x.dtype, copy=False) for m in grad_mats]  # what backward reads
        ctx.grad_name = grad_name
        return out


@formula(AntialiasMap)
def _antialias_map(ctx, grad):
    # torch's resize and resize-backward kernels are each other's derivative, so the
    # gradient's own backward applies A (not B, where they differ) and is named after it
    return AntialiasMap.apply(grad, mats=[m.T for m in ctx.mats],
                              grad_mats=[m.T for m in ctx.fwd_mats], node_name=ctx.grad_name,
                              grad_name=ctx.name())


# the tangent is the op applied to the input's tangent (forward mats, as torch's jvp)
linear(AntialiasMap)


def _uint8_weights(n, o, scale, mode):
    """torch's int16 fixed-point weights for uint8 input and their number of fraction bits."""
    m = aa_weights(n, o, scale, mode)
    bits = 0
    while bits < 22 and int(0.5 + m.max() * (1 << (bits + 1))) < (1 << 15):
        bits += 1
    v = m * (1 << bits)
    return np.trunc(v + np.where(v < 0, -0.5, 0.5)).astype(np.int64), bits


def _resize_uint8(x, size, scales, align_corners, mode):
    """uint8 resize as torch's integer kernel: the W pass, then the H pass, each rounded
    and clamped to 0..255; an axis that keeps its size is copied."""
    out = x
    for axis in (3, 2):
        n, o = x.shape[axis], size[axis - 2]
        if n == o:
            continue
        m, bits = _uint8_weights(n, o, _scale(n, o, scales[axis - 2], align_corners,
                                              np.float64), mode)
        # torch's vectorised kernel (up to 4 channels) does not share the generic one's bug
        if axis == 2 and x.shape[1] > 4:
            m = _first_row_everywhere(m, size)
        # integer sums far below 2**53: float64 matmul gives them exactly, and faster
        acc = np.matmul(m.astype(np.float64), np.moveaxis(out, axis, -2).astype(np.float64))
        acc = np.moveaxis(acc, -2, axis).astype(np.int64)
        out = np.clip((acc + (1 << (bits - 1))) >> bits, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)


def _first_row_everywhere(m, size):
    """The H-pass matrix torch's generic kernel applies: when the output has width 1 its
    inner loop runs along H, yet it reads the weights as constant along that loop, so every
    output row gets row 0's weights (up to 32768 output elements; past that, its threads
    restart the loop mid-plane). Its backward, a separate kernel, is not affected."""
    return np.repeat(m[:1], m.shape[0], axis=0) if size[1] == 1 else m


def resize_antialias(input, size, scales, mode, align_corners):
    """``interpolate(input, size, mode=mode, antialias=True)`` on 4-D ``input`` whose output
    size ``size`` (H, W) was checked already; ``scales`` are the scale factors (or None).

    Where an axis keeps its size, torch's forward copies it, yet its backward still applies
    the filter for ``1 / scale_factor`` there (not the identity when ``scale_factor`` is not
    1, e.g. 1.1 on 5 pixels); both are reproduced.
    """
    check_kernel(input, "compute_index_ranges_weights", _DTYPES)
    scales = (None, None) if scales is None else tuple(float(s) for s in scales)
    if input._data.dtype == np.uint8:
        return _wrap(_resize_uint8(input._data, size, scales, align_corners, mode))
    dtype = input._data.dtype.type
    grad_mats, mats = [], []
    for n, o, s in zip(input.shape[2:], size, scales):
        m = aa_weights(n, o, _scale(n, o, s, align_corners, dtype), mode, dtype)
        grad_mats.append(m)
        mats.append(np.eye(n, dtype=dtype) if n == o else m)
    if input.shape[2] != size[0]:
        mats[0] = _first_row_everywhere(mats[0], size)
    name = f"Upsample{mode.capitalize()}2DAa"
    return AntialiasMap.apply(input, mats=mats, grad_mats=grad_mats,
                              node_name=f"{name}Backward0", grad_name=f"{name}BackwardBackward0")
