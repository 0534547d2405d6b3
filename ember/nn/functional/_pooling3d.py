"""3-D (volumetric) pooling (torch.nn.functional): max, average and adaptive pooling over
``(N, C, D, H, W)`` or ``(C, D, H, W)``.

The arithmetic is the 1-D and 2-D pools' (``_pooling``'s ops and window tables work on any
number of spatial axes). What this file adds is torch's 3-D argument checking, whose order
and messages differ from 2-D's: they come from ATen's ``pooling_output_shape`` (per axis) and
then ``pool3d_shape_check``.
"""
from __future__ import annotations

import numpy as np

from ._kernels import FLOATING, FLOATING_AND_LONG, REAL, check_kernel
from ._pool_args import out_size as _out_size
from ._pooling import (
    MaxGather,
    SeparableMap,
    _adaptive_mats,
    _adaptive_tables,
    _avg_apply,
    _check_non_empty,
    _max_tables,
)

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]

_AVG_POOL3D = FLOATING_AND_LONG - {"float16"}  # torch's 3-D average has no half kernel


def _triple(value, message, default=None):
    """An int or a sequence of 1 or 3 ints as a triple; ``message`` otherwise."""
    if value is None or (not isinstance(value, (int, np.integer)) and len(value) == 0):
        if default is None:
            raise RuntimeError(message)
        return default
    if isinstance(value, (int, np.integer)):
        return (int(value),) * 3
    value = tuple(int(v) for v in value)
    if len(value) not in (1, 3):
        raise RuntimeError(message)
    return value * 3 if len(value) == 1 else value


def _c_half(k, d):
    """C++'s ``((k - 1) * d + 1) / 2``, which truncates towards zero."""
    return int(((k - 1) * d + 1) / 2)


def _pool3d_sizes(input, fn, kernel, stride, padding, dilation, ceil_mode, avg):
    """The output's (D, H, W), checked in torch's order; ``fn`` names torch's kernel."""
    sizes = tuple(input.shape[-3:])
    outs = []
    for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):  # pooling_output_shape
        if s == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > _c_half(k, d):
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
        outs.append(_out_size(n, k, s, p, d, ceil_mode))
    (kt, kh, kw), (dt, dh, dw), (pt, ph, pw) = kernel, stride, padding
    if min(kernel) <= 0:  # pool3d_shape_check
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {kt} kH: {kh} "
                           f"kW: {kw}")
    if min(stride) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dT: {dt} dH: {dh} "
                           f"dW: {dw}")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero, but got dilationT: "
                           "{} dilationH: {} dilationW: {}".format(*dilation))
    for i in range(1 if input.dim() == 5 else 0, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"{fn}: Expected input's non-batch dimensions to have positive "
                               f"length, but input has a shape of {list(input.shape)} and "
                               f"non-batch dimension 0 has length zero!")
    if avg and any(n < k for n, k in zip(sizes, kernel)):
        raise RuntimeError("input image (T: {} H: {} W: {}) smaller than kernel size (kT: {} "
                           "kH: {} kW: {})".format(*sizes, *kernel))
    if any(k // 2 < p for k, p in zip(kernel, padding)):
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"kT: {kt} kW: {kw} kH: {kh} padT: {pt} padW: {pw} padH: {ph}")
    if min(outs) < 1:
        c = input.shape[-4]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c,) + sizes))}). "
                           f"Calculated output size: ({'x'.join(map(str, [c] + outs))}). "
                           f"Output size is too small")
    return sizes, tuple(outs)


def _check_rank(input):
    if input.dim() not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``; ``stride`` defaults to
    the kernel.

    Each option is an int or a triple (depth, height, width). With ``return_indices`` also
    returns each maximum's flat position in ``D * H * W`` (int64); ties go to the first
    position in the window, as torch's CPU kernel.
    """
    msg = "max_pool3d: {} must either be {}a single int, or a tuple of three ints"
    kernel = _triple(kernel_size, msg.format("kernel_size", ""))
    stride = _triple(stride, msg.format("stride", "omitted, "), default=kernel)
    padding = _triple(padding, msg.format("padding", ""))
    dilation = _triple(dilation, "max_pool3d: dilation must be either a single int, or a tuple "
                                 "of three ints")
    _check_rank(input)
    sizes, outs = _pool3d_sizes(input, "max_pool3d_with_indices_out_cpu_template()", kernel,
                                stride, padding, dilation, ceil_mode, avg=False)
    check_kernel(input, "max_pool3d", REAL)
    out, indices = MaxGather.apply(
        input, tables=_max_tables(sizes, kernel, stride, padding, dilation, outs),
        node_name="MaxPool3DWithIndicesBackward0")
    return (out, indices) if return_indices else out


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``; ``stride`` defaults
    to the kernel.

    ``count_include_pad`` divides by the window including its zero padding (torch's default);
    ``divisor_override`` replaces every window's divisor.
    """
    msg = "avg_pool3d: {} must be {}a single int, or a tuple of three ints"
    kernel = _triple(kernel_size, msg.format("kernel_size", ""))
    stride = _triple(stride, msg.format("stride", "omitted, "), default=kernel)
    padding = _triple(padding, msg.format("padding", ""))
    _check_rank(input)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    sizes, outs = _pool3d_sizes(input, "avg_pool3d()", kernel, stride, padding, (1, 1, 1),
                                ceil_mode, avg=True)
    check_kernel(input, "avg_pool3d_out_frame", _AVG_POOL3D)
    return _avg_apply(input, sizes, kernel, stride, padding, outs, count_include_pad,
                      divisor_override, "AvgPool3DBackward0")


def _adaptive_output(input, output_size):
    """``output_size`` as a triple, None taking the input's size (torch's Python wrapper)."""
    if isinstance(output_size, (int, np.integer)):
        return (int(output_size),) * 3
    output_size = tuple(output_size)
    if input.dim() <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    sizes = input.shape[-len(output_size):]
    return tuple(n if o is None else int(o) for n, o in zip(sizes, output_size))


def adaptive_avg_pool3d(input, output_size):
    """Average over ``output_size`` windows that tile each of ``D, H, W`` (window i:
    floor(i n / out) to ceil((i + 1) n / out)); ``output_size`` is an int or a triple, None
    keeping a size. An output of 1 x 1 x 1 is the mean, as in torch."""
    outs = _adaptive_output(input, output_size)
    if len(outs) != 3:
        raise RuntimeError("adaptive_avg_pool3d: output_size must be 3")
    if min(outs) < 0:
        raise RuntimeError("adaptive_avg_pool3d: elements of output_size must be greater than "
                           "or equal to 0 but received {{{}, {},{}}}".format(*outs))
    if outs == (1, 1, 1):
        return input.mean((-1, -2, -3), keepdim=True)
    _check_non_empty(input, "adaptive_avg_pool3d")
    if input.dim() not in (4, 5):
        raise RuntimeError(f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got "
                           f"{list(input.shape)}")
    check_kernel(input, "adaptive_avg_pool3d_cpu", FLOATING)
    mats = _adaptive_mats(input.shape[-3:], outs)
    return SeparableMap.apply(input, mats=mats, node_name="AdaptiveAvgPool3DBackward0")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maximum over ``output_size`` windows that tile ``D, H, W`` (as ``adaptive_avg_pool3d``);
    indices are flat in ``D * H * W``."""
    outs = _adaptive_output(input, output_size)
    if input.dim() not in (4, 5):
        raise RuntimeError(f"adaptive_max_pool3d(): Expected 4D or 5D tensor, but got: "
                           f"{list(input.shape)}")
    _check_non_empty(input, "adaptive_max_pool3d")
    if len(outs) != 3:
        raise RuntimeError("adaptive_max_pool3d(): internal error: output_size.size() must be 3")
    if min(outs) < 0:
        shape = list(input.shape[:-3]) + list(outs)
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{next(o for o in outs if o < 0)}: {shape}")
    check_kernel(input, "adaptive_max_pool3d_cpu", FLOATING)
    tables = _adaptive_tables(input.shape[-3:], outs)
    out, indices = MaxGather.apply(input, tables=tables, node_name="AdaptiveMaxPool3DBackward0")
    return (out, indices) if return_indices else out


for _name in __all__:
    globals()[_name].__module__ = "ember.nn.functional"
del _name
