"""torch's errors for convolution operands of different dtypes, or of one it has no kernel for.

Which message torch gives depends on the backend it picks: a float32 input goes to oneDNN
when it is a batch, grouped, large or has a big kernel (its ``use_mkldnn`` heuristic), which
compares the operands' legacy type names; the native kernels say "expected scalar type".
A plain convolution checks the bias's dtype before anything else (``bias_check_early``); a
``'same'``-padded one adds the bias afterwards, casting it; a transposed one has kernels only
for floating point and int64 input, and its 3-D kernel checks the bias like the weight.
It also keeps torch's option checks made before the operands' channels (``SIGN_CHECKS``) and
the ones of a ``padding='same'`` convolution (``check_same``).
"""
from __future__ import annotations

import math

import numpy as np

from ..._dtype import c_type_name
from ...ops._shape_utils import type_name
from ._common import _legacy_name


def bias_check_early(x, b) -> None:
    """A plain (not transposed, not ``'same'``) convolution's first check: the bias's dtype."""
    if b is not None and b.dtype != x.dtype:
        raise RuntimeError(f"Input type ({c_type_name(x.dtype)}) and bias type "
                           f"({c_type_name(b.dtype)}) should be the same")


def _uses_onednn(x, w, groups) -> bool:
    """torch's ``use_mkldnn`` for a CPU float32 input (as a 4-D ``(N, C, H, W)`` view)."""
    if x.dtype != np.float32:
        return False
    size = x.shape if x.ndim >= 4 else x.shape[:2] + (1,) + x.shape[2:]
    kernel = w.shape if w.ndim >= 4 else w.shape[:2] + (1,) + w.shape[2:]
    return (groups > 1 or (kernel[-1] > 3 and kernel[-2] > 3) or size[0] > 1
            or math.prod(size[:4]) > 20480)


def _onednn_check(x, w, b) -> None:
    for arg, operand in (("weight", w), ("bias", b)):
        if operand is not None and operand.dtype != x.dtype:
            raise RuntimeError(f"Input type ({_legacy_name(x.dtype)}) and {arg} type "
                               f"({_legacy_name(operand.dtype)}) should be the same or input "
                               f"should be a MKLDNN tensor and {arg} is a dense tensor")


def _scalar_type(x, other) -> RuntimeError:
    return RuntimeError(f"expected scalar type {type_name(x.dtype)} but found "
                        f"{type_name(other.dtype)}")


def check_conv_dtypes(x, w, b, *, nd: int, transposed: bool, groups: int) -> None:
    """torch's dtype errors for the (batched) input ``x``, weight ``w`` and bias ``b`` arrays
    once their shapes have passed; call it only when the dtypes are not all one float."""
    onednn = _uses_onednn(x, w, groups)
    if transposed:
        if onednn:
            return _onednn_check(x, w, b)
        if x.dtype.kind not in "fc" and x.dtype != np.int64:  # complex: torch splits it
            kernel = f"slow_conv_transpose{3 if nd == 3 else 2}d_out_cpu"
            raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                      f"'{type_name(x.dtype)}'")
        if w.dtype != x.dtype:
            raise _scalar_type(x, w)
        if b is not None and b.dtype != x.dtype:
            if nd == 3:
                raise _scalar_type(x, b)
            if x.dtype.kind != "f":  # the bias is added in place
                raise RuntimeError(f"result type {type_name(b.dtype)} can't be cast to the "
                                   f"desired output type {type_name(x.dtype)}")
        return None
    if onednn:
        return _onednn_check(x, w, b)
    if x.dtype == np.bool_:
        kernel = "compute_columns3d" if nd == 3 else "slow_conv2d_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if w.dtype != x.dtype:
        raise _scalar_type(x, w)
    return None


# (option, refused value, torch's message), in the order torch checks them
SIGN_CHECKS = (("padding", lambda v: v < 0, "negative padding is not supported"),
               ("output_padding", lambda v: v < 0, "negative output_padding is not supported"),
               ("stride", lambda v: v <= 0, "non-positive stride is not supported"),
               ("dilation", lambda v: v < 0, "dilation should be greater than zero"))


def check_same(input, weight, stride, dilation, groups):
    """torch's own checks (order and words) of a ``padding='same'`` convolution of a batched
    ``input``; returns the input shape its channel error names (torch first pads the extra
    element of an odd total padding)."""
    k = weight.dim()
    if k < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if k != input.dim():
        raise RuntimeError(f"Expected {k}-dimensional input for {k}-dimensional weight"
                           f"{list(weight.shape)}, but got {input.dim()}-dimensional input of "
                           f"size {list(input.shape)} instead")
    values = [[v] if isinstance(v, (int, np.integer)) else list(v) for v in (stride, dilation)]
    for name, v in zip(("stride", "dilation"), values):
        if len(v) not in (1, k - 2):
            raise RuntimeError(f"{name} cannot broadcast to {k - 2} dimensions")
    if any(s != 1 for s in values[0]):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    dilation = values[1] * (k - 2) if len(values[1]) == 1 else values[1]
    extra = [d * (n - 1) % 2 for d, n in zip(dilation, weight.shape[2:])]
    return list(input.shape[:2]) + [n + e for n, e in zip(input.shape[2:], extra)]
