"""Interpolation (torch.nn.functional): ``interpolate`` and the deprecated ``upsample*``.

Every mode but ``area`` (adaptive average pooling) is a linear map that acts on one spatial
axis at a time, so one ``ResizeMap`` node does it: nearest and nearest-exact pick one source
per output, linear / bilinear / trilinear blend two, bicubic four (torch's taps, edges
clamped; ``_interpolate_taps``), antialiasing a stretched filter (``_interpolate_antialias``).
The forward sums as torch's kernel does, so the values are torch's to the bit; the
gradient applies the transposes of torch's backward kernel's taps, which keeps a few rules
of its own: nearest's backward always uses the float32 indices of its channels-last
kernel, bicubic's copies when no axis changes size. Both run as sparse passes
(``_interpolate_pass``) built once per (sizes, scales, kernel) and cached; the dense (out,
in) matrices serve the double backward.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from ..._memory_format import channels_last, channels_last_3d, is_laid_out
from ..._tensor import Tensor, _wrap
from ._interpolate_antialias import ResizeMap, resize_antialias, resize_uint8
from ._interpolate_pass import (
    CornerSum,
    apply_passes,
    frozen,
    nearest_pass,
    tap_pass,
    transposed,
)
from ._interpolate_taps import _VECTOR_BYTES, cubic_taps, linear_taps, nearest_index, taps_matrix
from ._kernels import FLOATING, FLOATING_AND_BYTE, check_kernel
from ._pooling import _acc, adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _uses_channels_last_kernel(input, size):
    """Whether torch's CPU kernel for this input is its channels-last one (nearest and
    bilinear on 4-D input, nearest and trilinear on 5-D): for channels-last input of more
    than 3 channels, and on 4-D input for any output of at most 128 rows plus columns."""
    x = input._data
    if x.ndim == 5:
        return x.shape[1] > 3 and is_laid_out(x, channels_last_3d)
    return x.ndim == 4 and ((x.shape[1] > 3 and is_laid_out(x, channels_last))
                            or sum(size) <= 128)


def _half_weights(w):
    """The weights torch's generic kernel keeps for float16 input: rounded to float16 (a
    linear pair as ``1 - lam`` and ``lam``, the first computed from the rounded second)."""
    h = w.astype(np.float16)
    if w.shape[1] == 2:
        h[:, 0] = np.float32(1) - h[:, 1].astype(np.float32)
    return h.astype(np.float32)


def _plan(input, mode, size, scales, align_corners):
    """The forward evaluation, forward matrices and backward passes (one per spatial axis)
    of a mode without antialias, each as torch's kernels compute them."""
    x = input._data
    math = np.float64 if x.dtype == np.float64 else np.float32
    legacy = mode != "bicubic" and _uses_channels_last_kernel(input, size)
    forward, mats, grad_mats, grad_passes = _axis_plans(
        mode, tuple(input.shape[2:]), tuple(size), scales, align_corners, np.dtype(math).name,
        legacy, x.dtype == np.float16)
    if mode in ("nearest", "nearest-exact"):
        return (lambda x: apply_passes(x, forward)), mats, grad_mats, grad_passes
    if legacy:
        def evaluate(x):
            return _channels_last(_acc(x), forward).astype(x.dtype, copy=False)
    else:
        def evaluate(x):
            return apply_passes(_acc(x), forward).astype(x.dtype, copy=False)
    return evaluate, mats, grad_mats, grad_passes


@functools.lru_cache(maxsize=64)
def _axis_plans(mode, spatial, size, scales, align_corners, math, legacy, half):
    """What ``_plan`` needs per axis, cached per (sizes, scales, kernel): the forward (passes,
    or the channels-last kernel's taps), the dense matrices and the backward passes."""
    math = np.dtype(math).type
    axes = list(zip(spatial, size, scales))
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        index = [nearest_index(n, o, s, exact, math, legacy) for n, o, s in axes]
        back = [nearest_index(n, o, s, exact, math, True) for n, o, s in axes]
        forward = [nearest_pass(n, i, math) for n, i in zip(spatial, index)]
        mats, grad_mats = ([np.eye(n, dtype=math)[i] for n, i in zip(spatial, rule)]
                           for rule in (index, back))
        grad_passes = [transposed(n, i[:, None], np.ones((len(i), 1), math), math)
                       for n, i in zip(spatial, back)]
        return (forward,) + frozen(mats, grad_mats) + (grad_passes,)
    rule = cubic_taps if mode == "bicubic" else linear_taps
    taps = [rule(n, o, s, align_corners, math) for n, o, s in axes]
    if half and not legacy:
        taps = [(i, _half_weights(w)) for i, w in taps]
    mats = [taps_matrix(n, *t) for n, t in zip(spatial, taps)]
    grad_mats, grad_taps = mats, taps
    if mode == "bicubic" and spatial == tuple(size):  # torch's backward then copies
        grad_mats = [np.eye(n, dtype=math) for n in spatial]
        grad_taps = [(np.arange(n)[:, None], np.ones((n, 1), math)) for n in spatial]
    grad_passes = [transposed(n, i, w, math) for n, (i, w) in zip(spatial, grad_taps)]
    if legacy:
        forward = CornerSum(spatial, taps, math)
    else:
        forward = [tap_pass(n, i, w, math) for n, (i, w) in zip(spatial, taps)]
    return (forward,) + frozen(mats, grad_mats) + (grad_passes,)


def _channels_last(x, corners):
    """torch's channels-last kernel (``CornerSum``): its vector loop takes the channels
    that fill whole 32-byte registers."""
    c = x.shape[1]
    return corners(x, c - c % (_VECTOR_BYTES // x.dtype.itemsize))


# (mode, spatial dims) -> torch's function, its generic kernel and the dtypes it takes
_NEAREST = ("compute_indices_weights_nearest", FLOATING_AND_BYTE)
_KERNELS = {
    ("nearest", 1): ("upsample_nearest1d",) + _NEAREST,
    ("nearest", 2): ("upsample_nearest2d",) + _NEAREST,
    ("nearest", 3): ("upsample_nearest3d",) + _NEAREST,
    ("nearest-exact", 1): ("_upsample_nearest_exact1d",) + _NEAREST,
    ("nearest-exact", 2): ("_upsample_nearest_exact2d",) + _NEAREST,
    ("nearest-exact", 3): ("_upsample_nearest_exact3d",) + _NEAREST,
    ("linear", 1): ("upsample_linear1d", "compute_indices_weights_linear", FLOATING),
    ("bilinear", 2): ("upsample_bilinear2d", "compute_indices_weights_linear", FLOATING_AND_BYTE),
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
    ``align_corners`` for the last four, and ``lanczos`` (4-D input, Lanczos-3, PIL's
    ``LANCZOS``), which requires ``antialias``. ``antialias`` (bilinear, bicubic, lanczos)
    applies torch's separable antialiasing filter.
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
    if mode == "lanczos" and nd == 2:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if antialias:
        size = _check_kernel_args(input, f"_upsample_{mode}2d_aa", output, scales, True)
        return resize_antialias(input, size, scales, mode, align_corners)
    if (mode, nd) not in _KERNELS:
        if mode in _NEEDS and 1 <= nd <= 3:
            raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                      f"{_NEEDS[mode]}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.dim()}D) for the modes: {_MODES} (got {mode})")
    fn, kernel, dtypes = _KERNELS[mode, nd]
    size = _check_kernel_args(input, fn, output, scales, mode not in ("nearest", "nearest-exact"))
    if mode != "bicubic" and _uses_channels_last_kernel(input, size):
        kernel = f"upsample_{'nearest' if mode.startswith('nearest') else mode}{nd}d_channels_last"
    check_kernel(input, kernel, dtypes)
    scales = (None,) * nd if scales is None else tuple(float(s) for s in scales)
    if input._data.dtype == np.uint8 and mode in ("bilinear", "bicubic"):
        return _wrap(resize_uint8(input._data, size, scales, align_corners, mode, False))
    evaluate, mats, grad_mats, grad_passes = _plan(input, mode, size, scales, align_corners)
    name = "Upsample" + {"nearest": "Nearest", "nearest-exact": "NearestExact"}.get(
        mode, mode.capitalize()) + f"{nd}D"
    return ResizeMap.apply(input, mats=mats, grad_mats=grad_mats, node_name=f"{name}Backward0",
                           grad_name=f"{name}BackwardBackward0", evaluate=evaluate,
                           grad_passes=grad_passes)


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
