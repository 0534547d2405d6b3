"""Max unpooling (torch.nn.functional): the partial inverse of max pooling, and the
``*_with_indices`` spellings of the max pools.

``MaxUnpool`` writes each value at the flat spatial position its index names (zeros
elsewhere, the last write winning on repeated indices, as torch's CPU loop); its backward
reads the gradient back from the same positions. 1-D unpooling is torch's 2-D one on a
trailing axis of size 1, messages included.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.function import Op
from ...ops._shape_utils import type_name
from ._pooling import adaptive_max_pool1d, adaptive_max_pool2d, max_pool1d, max_pool2d
from ._pooling3d import adaptive_max_pool3d, max_pool3d

__all__ = [
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "max_pool1d_with_indices",
    "max_pool2d_with_indices", "max_pool3d_with_indices", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
]


class MaxUnpool(Op):
    """z[plane, indices[plane, i]] = x[plane, i]; zero elsewhere"""

    @staticmethod
    def forward(ctx, x, indices, *, out_sizes, node_name):
        ctx.show_as(node_name)
        lead = x.shape[:x.ndim - len(out_sizes)]
        planes = math.prod(lead)
        flat = indices.reshape(planes, -1)
        out = np.zeros((planes, math.prod(out_sizes)), x.dtype)
        out[np.arange(planes)[:, None], flat] = x.reshape(planes, -1)
        ctx.x_shape = x.shape
        ctx.save_for_backward(flat)
        return out.reshape(lead + tuple(out_sizes))

    @staticmethod
    def backward(ctx, grad):
        (flat,) = ctx.saved_tensors
        planes = flat.shape[0]
        gx = grad.reshape(planes, -1)[np.arange(planes)[:, None], flat]
        return gx.reshape(ctx.x_shape), None


def _ntuple(value, n):
    """torch's ``_single`` / ``_pair`` / ``_triple``: a sequence as a tuple, else repeated."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    """The spatial output size: the pool's inverse, or ``output_size`` when it is in range."""
    nd = len(kernel_size)
    default = [(input.shape[-nd + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d]
               for d in range(nd)]
    if output_size is None:
        ret = default
    else:
        if len(output_size) == nd + 2:
            output_size = output_size[2:]
        if len(output_size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                             f"elements, but it has a length of '{len(output_size)}'")
        for d in range(nd):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < output_size[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                                 f'{lo} and {hi})')
        ret = output_size
    for d in range(nd):
        if ret[d] < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={ret[d]}")
    return [int(s) for s in ret]


def _check_unpool(input, indices, out_sizes, nd, stride=None, padding=None):
    """torch's checks of max_unpooling{2,3}d_forward_out_cpu, in its order."""
    if indices._data.dtype != np.int64:
        raise RuntimeError("elements in indices should be type int64" + (
            f" but got: {type_name(indices._data.dtype)}" if nd == 2 else ""))
    if nd == 2 and len(out_sizes) != 2:
        raise RuntimeError(f"There should be exactly two elements (height, width) in "
                           f"output_size, but got {len(out_sizes)} elements.")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to max_unpooling{nd}d should be a {nd + 1}d or {nd + 2}d "
                           f"Tensor, but got a tensor with {input.dim()} dimensions.")
    if nd == 3:
        for name, v in (("output_size", out_sizes), ("stride", stride), ("padding", padding)):
            if len(v) != 3:
                sep = ", but got " if name == "output_size" else ", but got: "
                raise RuntimeError(f"There should be exactly three elements (depth, height, "
                                   f"width) in {name}{sep}{len(v)} elements.")
    if tuple(input.shape) != tuple(indices.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    for i in range(1, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"max_unpooling{nd}d_forward_out_cpu(): Expected input to have "
                               f"non-zero size for non-batch dimensions, but got "
                               f"{list(input.shape)} with dimension {i} being empty.")
    if nd == 3:
        if min(out_sizes) <= 0:
            raise RuntimeError("Output height, width, depth should be greater than 0, but got "
                               "oT: {} oH: {} oW: {}".format(*out_sizes))
        if min(stride) <= 0:
            raise RuntimeError(f"strides should be greater than zero, but got stride: "
                               f"{list(stride)}")


def _unpool(input, indices, out_sizes, nd, fn, name):
    """Check the indices against the output size and apply ``MaxUnpool``."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{fn}" not implemented for '
                                  f"'{type_name(input._data.dtype)}'")
    total = math.prod(out_sizes)
    idx = indices._data
    if total > 0 and idx.size:
        bad = (idx < 0) | (idx >= total)
        if bad.any():
            # torch's loop keeps the last bad index it meets
            raise RuntimeError(f"Found an invalid max index: {idx[bad].flat[-1]} (output volumes "
                               f"are of size {'x'.join(map(str, out_sizes))})")
    lead = tuple(input.shape[:input.dim() - nd])
    if total == 0 or 0 in lead:
        return input.new_zeros(lead + tuple(out_sizes))
    return MaxUnpool.apply(input, indices, out_sizes=tuple(out_sizes), node_name=name)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: each value of ``(N, C, L_in)`` or ``(C, L_in)`` is
    placed at the position along ``L`` that ``indices`` gives (zeros elsewhere).

    The output length is ``(L_in - 1) * stride - 2 * padding + kernel_size`` unless
    ``output_size`` (``(L,)`` or ``(N, C, L)``) asks for one within a stride of it.

    Raises:
        ValueError: an ``output_size`` out of that range or of the wrong length.
        RuntimeError: non-int64 indices, indices outside the output, a shape mismatch.
    """
    kernel_size = _ntuple(kernel_size, 1)
    stride = _ntuple(stride, 1) if stride is not None else kernel_size
    padding = _ntuple(padding, 1)
    sizes = _unpool_output_size(input, kernel_size, stride, padding, output_size) + [1]
    x, i = input.unsqueeze(-1), indices.unsqueeze(-1)
    _check_unpool(x, i, sizes, 2)
    out = _unpool(x, i, sizes, 2, "max_unpool2d", "MaxUnpool2DBackward0")
    return out.squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d`` over ``(N, C, H, W)`` or ``(C, H, W)``: each value is
    placed at its flat ``H_out * W_out`` index; see ``max_unpool1d`` for the output size."""
    kernel_size = _ntuple(kernel_size, 2)
    stride = _ntuple(stride, 2) if stride is not None else kernel_size
    padding = _ntuple(padding, 2)
    sizes = _unpool_output_size(input, kernel_size, stride, padding, output_size)
    _check_unpool(input, indices, sizes, 2)
    return _unpool(input, indices, sizes, 2, "max_unpool2d", "MaxUnpool2DBackward0")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d`` over ``(N, C, D, H, W)`` or ``(C, D, H, W)``; indices
    are flat in ``D_out * H_out * W_out``; see ``max_unpool1d`` for the output size."""
    kernel_size = _ntuple(kernel_size, 3)
    stride = _ntuple(stride, 3) if stride is not None else kernel_size
    padding = _ntuple(padding, 3)
    sizes = _unpool_output_size(input, kernel_size, stride, padding, output_size)
    _check_unpool(input, indices, sizes, 3, stride, padding)
    return _unpool(input, indices, sizes, 3, "max_unpool3d", "MaxUnpool3DBackward0")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool1d`` that always returns ``(output, indices)``."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool2d`` that always returns ``(output, indices)``."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool3d`` that always returns ``(output, indices)``."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d`` that always returns ``(output, indices)``."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d`` that always returns ``(output, indices)``."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d`` that always returns ``(output, indices)``."""
    return adaptive_max_pool3d(input, output_size, True)


for _name in __all__:
    globals()[_name].__module__ = "ember.nn.functional"
del _name
