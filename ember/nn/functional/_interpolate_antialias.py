"""Antialiased resizing: ``interpolate(..., antialias=True)`` for bilinear, bicubic and
lanczos (which requires it).

torch's separable filter (after PIL): to shrink an axis by ``s`` the filter is stretched to
``s`` times its width, so every input pixel under an output pixel's footprint counts;
enlarging keeps the plain filter. The filter is the triangle for bilinear, Keys' cubic
with ``a = -0.5`` for bicubic (the non-antialiased bicubic uses -0.75) and Lanczos-3
(``sinc(x) sinc(x / 3)`` for ``|x| < 3``, PIL's ``LANCZOS``) for lanczos. Each output's taps
are cut at the borders and its weights divided by their sum. Output ``i`` is centred at
``scale * (i + 0.5)`` in input coordinates, ``align_corners`` or not: that flag only
changes ``scale`` (``(in - 1) / (out - 1)`` instead of ``in / out`` or ``1 / scale_factor``).

The weights are computed in the input's float type and the taps summed in the order and
with the fused multiply-adds of torch's compiled loop (``aa_pass``), so float32 and
float64 results are torch's bit for bit. uint8 input takes torch's integer path: weights rounded to
int16 fixed point, each pass rounded and clamped to 0..255; torch takes that path for
bilinear and bicubic uint8 without antialias too, with the plain (unstretched, unnormalised)
two or four taps of ``_interpolate_taps``.
"""
from __future__ import annotations

import functools

import numpy as np

from ..._tensor import _wrap
from ...autograd._forward_ad._rules import linear
from ...ops.derivatives._common import formula
from ._interpolate_pass import TapPass, apply_passes, frozen, transposed
from ._interpolate_taps import (
    cubic,
    floor_and_fraction,
    fma,
    pixel_scale,
    source_index,
    taps_matrix,
)
from ._kernels import check_kernel
from ._pooling import SeparableMap, _acc

__all__ = []

_TAPS = {"bilinear": 2, "bicubic": 4, "lanczos": 6}  # torch's interp_size: width at scale 1
_DTYPES = frozenset({"float32", "float64", "uint8"})


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0).astype(x.dtype)


def _keys_cubic(x):
    return cubic(x, a=-0.5)


def _lanczos(x):
    # torch's float32 filter takes sinc(x) in float32 and sinc(x / 3) in float64
    x = np.abs(x)
    t = x.dtype.type
    with np.errstate(invalid="ignore", divide="ignore"):
        px = x * t(np.pi)
        sin = _sinf(px) if t == np.float32 else np.sin(px)
        near = np.where(x == 0, t(1), sin / px)
        third = x.astype(np.float64) / 3.0
        far = np.where(third == 0, 1.0, np.sin(third * np.pi) / (third * np.pi))
    return np.where(x < 3, (near.astype(np.float64) * far).astype(t), t(0))


_HEX = float.fromhex
_SIN = [_HEX("-0x1.555545995a603p-3"), _HEX("0x1.1107605230bc4p-7"),
        _HEX("-0x1.994eb3774cf24p-13")]
_COS = [1.0, _HEX("-0x1.ffffffd0c621cp-2"), _HEX("0x1.55553e1068f19p-5"),
        _HEX("-0x1.6c087e89a359dp-10"), _HEX("0x1.99343027bf8c3p-16")]


def _top12(y):
    return (np.asarray(y, np.float32).view(np.uint32) >> 20) & 0x7FF


def _sinf(y):
    """glibc's sinf (as its x86-64 FMA build rounds it: not always the nearest float) on
    float32 ``0 <= y < 120``, the float32 sin torch's lanczos filter calls."""
    x = y.astype(np.float64)
    top = _top12(y)
    small = top < _top12(_HEX("0x1.921FB6p-1"))  # below pi / 4: no reduction
    n = np.where(small, 0, ((x * _HEX("0x1.45F306DC9C883p+23")).astype(np.int32) + 0x800000) >> 24)
    r = np.where(small, x, fma(-n.astype(np.float64), _HEX("0x1.921FB54442D18p0"), x))
    x2 = r * r
    xs = r * np.array([1.0, -1.0, -1.0, 1.0])[n & 3]
    x3 = x2 * xs
    sin = fma(fma(x2, _SIN[2], _SIN[1]), x2 * x3, fma(x3, _SIN[0], xs))
    c = [np.where(n & 2, -v, v) for v in _COS]  # the second table negates cos
    cos = fma(x2, c[1], c[0])
    cos = fma(fma(x2, c[4], c[3]), x2 * (x2 * x2), fma(x2 * x2, c[2], cos))
    out = np.where(n & 1, cos, sin).astype(np.float32)
    return np.where(top < _top12(_HEX("0x1p-12")), y, out)


_FILTERS = {"bilinear": _triangle, "bicubic": _keys_cubic, "lanczos": _lanczos}


def aa_taps(n, o, scale, mode, dtype=np.float64):
    """Each output's antialiased taps along one axis, as torch's
    _compute_indices_min_size_weights_aa finds them: ``(index, weight, count)``, index and
    weight of shape ``(o, width)`` (weights past an output's ``count`` taps are 0, their
    index clamped to the input), the weights of each output summing to 1.

    Args:
        n: input size; o: output size.
        scale: input pixels per output pixel (``pixel_scale``).
        mode: ``"bilinear"``, ``"bicubic"`` or ``"lanczos"``.
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
    w = np.where(np.arange(width) < xsize[:, None], w, dtype(0))
    total = np.add.accumulate(w, axis=1)[:, -1]  # torch sums the taps in order
    w = np.where(total[:, None] != 0, w / np.where(total == 0, 1, total)[:, None], w)
    return np.minimum(idx, n - 1), w.astype(dtype, copy=False), xsize


def aa_weights(n, o, scale, mode, dtype=np.float64):
    """The ``(o, n)`` matrix of antialiased weights along one axis, each row summing to 1
    (``aa_taps``'s arguments)."""
    return taps_matrix(n, *aa_taps(n, o, scale, mode, dtype)[:2])


def aa_pass(n, index, weight, count, dtype):
    """torch's float forward along one axis: each output its ``count`` taps' products added
    in order. The compiled loop adds them in blocks of 16 bytes of products (4 float32, 2
    float64) rounded apart, and fuses the multiply-add of the taps left over after the last
    block; outputs are grouped by their count, which sets that order."""
    block = 16 // np.dtype(dtype).itemsize
    groups = []
    for c in np.unique(count).tolist():
        fused_from = (c - 1) // block * block + 1
        ops = ((0, "mul"),) + tuple((j, "fma" if j >= fused_from else "add")
                                    for j in range(1, c))
        groups.append((np.flatnonzero(count == c), ops, max(c, 1)))
    return TapPass(n, index, weight, groups, dtype)


class ResizeMap(SeparableMap):
    """z = A_H x A_W^T over the spatial axes (one matrix A_i per axis); backward multiplies
    by B_i^T, the transpose of what torch's backward kernel applies, which can differ from
    A_i (see ``resize_antialias`` and ``interpolate``). ``evaluate``, when given, computes z
    in torch's own order and rounding, and ``grad_passes`` (the B_i^T as sparse passes) the
    gradient; the matrices then serve the double backward only."""

    @staticmethod
    def forward(ctx, x, *, mats, grad_mats, node_name, grad_name, evaluate=None,
                grad_passes=None):
        if evaluate is None:
            out = SeparableMap.forward(ctx, x, mats=mats, node_name=node_name)
        else:
            ctx.show_as(node_name)
            out = evaluate(x)
        dtype = _acc(x).dtype
        ctx.fwd_mats = [m.astype(dtype, copy=False) for m in mats]
        ctx.mats = [m.astype(dtype, copy=False) for m in grad_mats]  # what backward reads
        ctx.grad_name = grad_name
        ctx.grad_passes = grad_passes  # B_i^T as sparse passes, when given
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.grad_passes is None:
            return SeparableMap.backward(ctx, grad)
        g = _acc(grad)
        if g.dtype != ctx.mats[0].dtype:
            g = g.astype(ctx.mats[0].dtype)
        return apply_passes(g, ctx.grad_passes).astype(grad.dtype, copy=False)


@formula(ResizeMap)
def _resize_map(ctx, grad):
    # torch's resize and resize-backward kernels are each other's derivative, so the
    # gradient's own backward applies A (not B, where they differ) and is named after it
    return ResizeMap.apply(grad, mats=[m.T for m in ctx.mats],
                           grad_mats=[m.T for m in ctx.fwd_mats], node_name=ctx.grad_name,
                           grad_name=ctx.name())


# the tangent is the op applied to the input's tangent (forward mats, as torch's jvp)
linear(ResizeMap)


def _plain_weights(n, o, scale_factor, align_corners, mode):
    """The weights torch's integer kernel takes for bilinear and bicubic without antialias
    (float64): the float kernels' two or four taps, not normalised, those past an edge
    added to the edge pixel; and the largest running sum of a pixel's weights on the way,
    which sets the precision."""
    taps = _TAPS[mode]
    is_cubic = mode == "bicubic"
    real = source_index(n, o, scale_factor, align_corners, is_cubic, np.float64)
    left, lam = floor_and_fraction(real, n, np.float64)
    m = np.zeros((o, n))
    rows, peak = np.arange(o), 0.0
    for j in range(taps):
        x = (j + 1 - taps // 2) - lam
        col = np.clip(left + j + 1 - taps // 2, 0, n - 1)
        m[rows, col] += cubic(x) if is_cubic else _triangle(x)
        peak = max(peak, m[rows, col].max())
    return m, peak


def _fixed_point(m, peak):
    """torch's int16 fixed-point weights and their number of fraction bits: as many as keep
    twice ``peak`` below 2**15."""
    bits = 0
    while bits < 22 and int(0.5 + peak * (1 << (bits + 1))) < (1 << 15):
        bits += 1
    v = m * (1 << bits)
    return np.trunc(v + np.where(v < 0, -0.5, 0.5)).astype(np.int64), bits


def resize_uint8(x, size, scales, align_corners, mode, antialias):
    """uint8 resize as torch's integer kernel: the W pass, then the H pass, each rounded
    and clamped to 0..255; an axis that keeps its size is copied."""
    out = x
    for axis in (3, 2):
        n, o = x.shape[axis], size[axis - 2]
        if n == o:
            continue
        s = scales[axis - 2]
        if antialias:
            m = aa_weights(n, o, pixel_scale(n, o, s, align_corners, np.float64), mode)
            m, bits = _fixed_point(m, m.max())
        else:
            m, bits = _fixed_point(*_plain_weights(n, o, s, align_corners, mode))
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
        return _wrap(resize_uint8(input._data, size, scales, align_corners, mode, True))
    forward, mats, grad_mats, grad_passes = _aa_plan(
        mode, tuple(input.shape[2:]), tuple(size), scales, align_corners,
        input._data.dtype.name)
    name = f"Upsample{mode.capitalize()}2DAa"
    return ResizeMap.apply(input, mats=mats, grad_mats=grad_mats, node_name=f"{name}Backward0",
                           grad_name=f"{name}BackwardBackward0",
                           evaluate=lambda x: apply_passes(x, forward), grad_passes=grad_passes)


@functools.lru_cache(maxsize=64)
def _aa_plan(mode, spatial, size, scales, align_corners, dtype):
    """``resize_antialias``'s per-axis forward passes (None where an axis is copied), dense
    matrices and backward passes, cached per (sizes, scales, dtype)."""
    dtype = np.dtype(dtype).type
    forward, mats, grad_mats, grad_passes = [], [], [], []
    for n, o, s in zip(spatial, size, scales):
        scale = pixel_scale(n, o, s, align_corners, dtype)
        index, weight, count = aa_taps(n, o, scale, mode, dtype)
        grad_mats.append(taps_matrix(n, index, weight))
        grad_passes.append(transposed(n, index, weight, dtype, count))
        mats.append(np.eye(n, dtype=dtype) if n == o else grad_mats[-1])
        forward.append(None if n == o else [index, weight, count])
    if forward[0] is not None and size[1] == 1:
        mats[0] = _first_row_everywhere(mats[0], size)
        forward[0] = [np.repeat(t[:1], len(t), axis=0) for t in forward[0]]
    forward = [None if t is None else aa_pass(n, *t, dtype) for n, t in zip(spatial, forward)]
    return (forward,) + frozen(mats, grad_mats) + (grad_passes,)
