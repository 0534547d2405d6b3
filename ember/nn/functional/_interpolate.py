"""Interpolation (torch.nn.functional): ``interpolate`` and the deprecated ``upsample*``.

Every mode but ``area`` (adaptive average pooling) is a linear map that acts on one spatial
axis at a time, so one ``SeparableMap`` node does it with one (out, in) matrix per axis:
nearest and nearest-exact pick one source per output, linear / bilinear / trilinear blend two,
bicubic four (torch's taps, edges clamped).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..._tensor import Tensor
from ._interpolate_antialias import resize_antialias
from ._kernels import FLOATING, FLOATING_AND_BYTE, check_kernel
from ._pooling import SeparableMap, adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

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


# (mode, spatial dims) -> torch's function, its kernel and the dtypes that kernel takes
_KERNELS = {
    ("nearest", 1): ("upsample_nearest1d", "compute_indices_weights_nearest", FLOATING_AND_BYTE),
    ("nearest", 2): ("upsample_nearest2d", "upsample_nearest2d_channels_last", FLOATING_AND_BYTE),
    ("nearest", 3): ("upsample_nearest3d", "compute_indices_weights_nearest", FLOATING_AND_BYTE),
    ("nearest-exact", 1): ("_upsample_nearest_exact1d", "compute_indices_weights_nearest",
                           FLOATING_AND_BYTE),
    ("nearest-exact", 2): ("_upsample_nearest_exact2d", "upsample_nearest2d_channels_last",
                           FLOATING_AND_BYTE),
    ("nearest-exact", 3): ("_upsample_nearest_exact3d", "compute_indices_weights_nearest",
                           FLOATING_AND_BYTE),
    ("linear", 1): ("upsample_linear1d", "compute_indices_weights_linear", FLOATING),
    ("bilinear", 2): ("upsample_bilinear2d", "upsample_bilinear2d_channels_last",
                      FLOATING_AND_BYTE),
    ("bicubic", 2): ("upsample_bicubic2d", "compute_indices_weights_cubic", FLOATING_AND_BYTE),
    ("trilinear", 3): ("upsample_trilinear3d", "compute_indices_weights_linear", FLOATING),
}
_NEEDS = {"linear": 3, "bilinear": 4, "trilinear": 5}  # the input rank a blending mode needs


def _is_int(value):
    """An int as torch's argument parser takes one (a one-element integer tensor too)."""
    if isinstance(value, Tensor):
        return value.numel() == 1 and value._data.dtype.kind in "iu"
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _output_and_scales(input, size, scale_factor, mode, recompute_scale_factor):
    """torch's Python checks of ``size`` and ``scale_factor``: the output size (or None) and
    the scale factors (or None), one per spatial dim."""
    nd = input.dim() - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scales = None
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(f"Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of {spatial} "
                                 f"and output size of {size}. Please provide input tensor in (N, "
                                 f"C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                                 f"format.")
            if not all(_is_int(x) for x in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] "
                                f"or Tuple[int, int, int], but got size with types "
                                f"{[type(x) for x in size]}")
            output = tuple(size)
        else:
            output = (size,) * max(nd, 0)
    elif scale_factor is not None:
        output = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of {spatial} "
                                 f"and scale_factor of shape {scale_factor}. Please provide input "
                                 f"tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                                 f"(s1, s2, ...,sK) format.")
            scales = tuple(scale_factor)
        else:
            scales = (scale_factor,) * max(nd, 0)
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or (mode == "area" and output is None):
        output, scales = tuple(int(n * s) for n, s in zip(spatial, scales)), None
    return output, scales


def _check_kernel_args(input, fn, output, scales, interpolating):
    """torch's C++ argument parsing and upsample_Nd_common_check; returns the output size."""
    given = ["list", "NoneType"] if output is not None else ["NoneType", "list"]
    if interpolating:
        given.insert(1, "bool")
    if (output is not None and not all(_is_int(o) for o in output)) or (
            scales is not None and not all(isinstance(s, (int, float, np.number))
                                           for s in scales)):
        raise TypeError(f"{fn}() received an invalid combination of arguments - got (Tensor, "
                        f"{', '.join(given)}), but expected one of:")
    spatial = tuple(input.shape[2:])
    if output is None:
        output = tuple(int(n * float(s)) for n, s in zip(spatial, scales))
    output = tuple(int(o) for o in output)
    if min(spatial) <= 0 or min(output) <= 0:
        axes = "DHW"[3 - len(spatial):]
        ins = ", ".join(f"{a}: {n}" for a, n in zip(axes, spatial))
        outs = ", ".join(f"{a}: {o}" for a, o in zip(axes, output))
        joiner = " and" if len(spatial) == 1 else ""
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({ins}){joiner} output ({outs})")
    if 0 in input.shape[1:]:
        raise RuntimeError(f"Non-empty {input.dim()}D data tensor expected but got a tensor with "
                           f"sizes {list(input.shape)}")
    return output


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dimensions of ``(N, C, *spatial)`` input to ``size`` or by
    ``scale_factor`` (output size ``floor(in * scale_factor)``).

    Modes: ``nearest``, ``nearest-exact``, ``area`` (adaptive average pooling), ``linear``
    (3-D input), ``bilinear`` and ``bicubic`` (4-D input), ``trilinear`` (5-D input), with
    ``align_corners`` for the last four. ``antialias`` (bilinear and bicubic) applies torch's
    separable antialiasing filter.
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    output, scales = _output_and_scales(input, size, scale_factor, mode, recompute_scale_factor)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    nd = input.dim() - 2
    if mode == "area" and 1 <= nd <= 3:
        from ._pooling3d import adaptive_avg_pool3d
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](input,
                                                                                      output)
    if (mode, nd) not in _KERNELS:
        if mode in _NEEDS and 1 <= nd <= 3:
            raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                      f"{_NEEDS[mode]}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.dim()}D) for the modes: {_MODES} (got {mode})")
    if antialias:
        size = _check_kernel_args(input, f"_upsample_{mode}2d_aa", output, scales, True)
        return resize_antialias(input, size, scales, mode, align_corners)
    fn, kernel, dtypes = _KERNELS[mode, nd]
    size = _check_kernel_args(input, fn, output, scales, mode not in ("nearest", "nearest-exact"))
    check_kernel(input, kernel, dtypes)
    spatial = tuple(input.shape[2:])
    scales = (None,) * nd if scales is None else tuple(float(s) for s in scales)
    dtype = np.float32 if input.dtype.itemsize <= 4 else np.float64
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        mats = [_nearest_matrix(n, o, _scale(n, o, s, False, dtype), exact, dtype)
                for n, o, s in zip(spatial, size, scales)]
        name = f"Upsample{'NearestExact' if exact else 'Nearest'}{nd}DBackward0"
    elif mode == "bicubic":
        mats = [_cubic_matrix(n, o, _scale(n, o, s, align_corners, dtype), align_corners,
                              dtype) for n, o, s in zip(spatial, size, scales)]
        name = "UpsampleBicubic2DBackward0"
    else:
        mats = [_linear_matrix(n, o, _scale(n, o, s, align_corners, dtype), align_corners,
                               dtype) for n, o, s in zip(spatial, size, scales)]
        name = f"Upsample{('Linear1D', 'Bilinear2D', 'Trilinear3D')[nd - 1]}Backward0"
    return SeparableMap.apply(input, mats=mats, node_name=name)


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  f"instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (warns, as torch does)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode="nearest")`` (warns)."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode="bilinear", align_corners=True)`` (warns)."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


for _name in __all__:
    globals()[_name].__module__ = "ember.nn.functional"
del _name
