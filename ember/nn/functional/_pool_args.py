"""The 1-D and 2-D poolings' argument checks, in torch's order and words.

torch has three sets of them. ``max_pool1d`` (without indices) checks its own arguments
(``check_max_pool1d``). ``avg_pool1d`` and ``max_pool1d(..., return_indices=True)`` check that
each option holds one int, then run the 2-D kernel on an ``(N, C, 1, L)`` view, so their
later messages name that view. The 2-D kernels check each option's length, compute each
output size (``pooling_output_shape``: stride, then padding) and then the whole
(``pool2d_shape_check``: kernel, stride, dilation, the input's rank and empty dims, padding,
output size).
"""
from __future__ import annotations

import numpy as np

from ._common import _size_index_error


def _ints(value):
    """An int or a sequence of ints as a tuple (``None`` as the empty one)."""
    if value is None:
        return ()
    if isinstance(value, (int, np.integer)):
        return (int(value),)
    return tuple(int(v) for v in value)


def out_size(n, k, s, p, d, ceil_mode):
    """torch's pooling_output_shape (without its checks)."""
    span = d * (k - 1) + 1
    out = (n + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def _options_2d(fn, kernel_size, stride, padding, dilation):
    """The four options as pairs, with the 2-D kernels' length messages."""
    kernel = _ints(kernel_size)
    if len(kernel) not in (1, 2):
        raise RuntimeError(f"{fn}: kernel_size must either be a single int, or a tuple of two "
                           f"ints")
    stride = _ints(stride)
    if len(stride) not in (0, 1, 2):
        raise RuntimeError(f"{fn}: stride must either be omitted, a single int, or a tuple of "
                           f"two ints")
    padding = _ints(padding)
    if len(padding) not in (1, 2):
        raise RuntimeError(f"{fn}: padding must either be a single int, or a tuple of two ints")
    dilation = _ints(dilation)
    if len(dilation) not in (1, 2):
        raise RuntimeError(f"{fn}: dilation must be either a single int, or a tuple of two ints")
    kernel, padding, dilation = (v * 2 if len(v) == 1 else v for v in (kernel, padding, dilation))
    stride = kernel if not stride else stride * 2 if len(stride) == 1 else stride
    return kernel, stride, padding, dilation


def _check_1d_option(fn, name, value):
    """torch's ``check1d``: a 1-D pooling option holds one int."""
    got = _ints(value)
    if len(got) != 1:
        raise RuntimeError(f"{fn}() argument '{name}' should contain one int (got {len(got)})")
    return got[0]


def pool2d_sizes(shape, fn, kernel_size, stride, padding, dilation, ceil_mode, avg,
                 divisor_override=None):
    """The 2-D kernels' checks for an input (or 1-D view) of ``shape``; returns the options
    as pairs and the output's (H, W)."""
    kernel, stride, padding, dilation = _options_2d(fn, kernel_size, stride, padding, dilation)
    if avg:
        if divisor_override is not None and divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        if len(shape) < 3:  # avg_pool2d reads the planes, size(-3), first
            raise _size_index_error(len(shape), -3)
    elif len(shape) not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    outs = []
    for n, k, s, p, d in zip(shape[-2:], kernel, stride, padding, dilation):
        if s == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > int(((k - 1) * d + 1) / 2):  # C++ division, towards zero
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
        outs.append(out_size(n, k, s, p, d, ceil_mode))
    (kh, kw), (dh, dw), (lh, lw) = kernel, stride, dilation
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {dh} dW: {dw}")
    if lh <= 0 or lw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {lh} "
                           f"dilationW: {lw}")
    check_planes(shape)
    (ph, pw) = padding
    if kw // 2 < pw or kh // 2 < ph:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}")
    if min(outs) < 1:
        planes = shape[-3] if len(shape) >= 3 else 1
        raise RuntimeError(f"Given input size: ({planes}x{shape[-2]}x{shape[-1]}). Calculated "
                           f"output size: ({planes}x{outs[0]}x{outs[1]}). Output size is too "
                           f"small")
    return kernel, stride, padding, dilation, tuple(outs)


def check_planes(shape):
    """pool2d_shape_check's test of the input: 3-D or 4-D, empty only in the batch dim."""
    if not ((len(shape) == 3 and 0 not in shape)
            or (len(shape) == 4 and 0 not in shape[1:])):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{list(shape)}")


def pool1d_as_2d(shape, fn, kernel_size, stride, padding, dilation, ceil_mode, avg):
    """``avg_pool1d`` and ``max_pool1d`` with indices: torch's 1-D checks, then the 2-D
    kernel's on the ``(*, 1, L)`` view; returns the 1-D options and output length."""
    if len(shape) not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {len(shape)}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for {fn})")
    k = _check_1d_option(fn, "kernel_size", kernel_size)
    s = _check_1d_option(fn, "stride", stride) if _ints(stride) else k
    p = _check_1d_option(fn, "padding", padding)
    d = _check_1d_option(fn, "dilation", dilation) if not avg else 1
    view = shape[:-1] + (1,) + shape[-1:]
    _, _, _, _, outs = pool2d_sizes(view, "avg_pool2d" if avg else "max_pool2d", (1, k), (1, s),
                                    (0, p), (1, d), ceil_mode, avg)
    return (k,), (s,), (p,), (d,), outs[1:]


def max_pool1d_sizes(shape, kernel_size, stride, padding, dilation, ceil_mode):
    """``max_pool1d`` without indices: torch's ``check_max_pool1d``."""
    if not ((len(shape) == 2 and 0 not in shape) or (len(shape) == 3 and 0 not in shape[1:])):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{list(shape)}")
    kernel, stride, padding, dilation = map(_ints, (kernel_size, stride, padding, dilation))
    for name, value, what in (("kernel_size", kernel, "an int, list of ints or tuple of ints"),
                              ("stride", stride or (0,),
                               "None, an int, list of ints, or tuple of ints"),
                              ("padding", padding, "an int, list of ints, or tuple of ints"),
                              ("dilation", dilation, "an int, list of ints or tuple of ints")):
        if len(value) != 1:
            raise RuntimeError(f"max_pool1d() {name} must be {what} of size 1 but got size "
                               f"{len(value)}")
    (k,), (p,), (d,) = kernel, padding, dilation
    s = stride[0] if stride else k
    for name, value in (("kernel_size", k), ("stride", s)):
        if value <= 0:
            raise RuntimeError(f"max_pool1d() {name} must be greater than zero, but got {value}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    o = out_size(shape[-1], k, s, p, d, ceil_mode)
    if o <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {o}")
    return (k,), (s,), (p,), (d,), (o,)
