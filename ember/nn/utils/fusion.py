"""``torch.nn.utils.fusion``: fold an eval-mode BatchNorm into the convolution or linear
layer before it, so that one layer computes what the pair computed.

With ``s = bn.weight / sqrt(running_var + eps)`` per output channel, the fused weight is the
layer's weight scaled by ``s`` along its output channels and the fused bias is
``(bias - running_mean) * s + bn.bias``: torch's formulas, in torch's order.
"""
from __future__ import annotations

import copy

import ember

from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A copy of ``conv`` with ``bn`` (both in eval mode) folded into its weight and bias.

    Args:
        conv: a ``Conv{1,2,3}d`` (or transposed) module.
        bn: the ``BatchNorm`` that follows it, with running statistics.
        transpose: ``conv`` is a transposed convolution (output channels on dim 1).

    Returns:
        A deep copy of ``conv`` whose output equals ``bn(conv(x))``.

    Raises:
        AssertionError: a module in training mode, or ``bn`` without running statistics
            (torch's checks and messages).
    """
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused_conv = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused_conv.weight, fused_conv.bias = fuse_conv_bn_weights(
        fused_conv.weight, fused_conv.bias, bn.running_mean, bn.running_var, bn.eps,
        bn.weight, bn.bias, transpose)
    return fused_conv


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b,
                         transpose: bool = False):
    """The fused ``(weight, bias)`` Parameters of a convolution followed by a BatchNorm.

    A missing ``conv_b``/``bn_b`` counts as zeros and a missing ``bn_w`` as ones. Each result
    keeps its input's dtype; the weight requires grad as ``conv_w`` does, the bias as
    ``conv_b`` does (so not at all when ``conv_b`` is None, as in torch).
    """
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    if conv_b is None:
        conv_b = ember.zeros_like(bn_rm)
    if bn_w is None:
        bn_w = ember.ones_like(bn_rm)
    if bn_b is None:
        bn_b = ember.zeros_like(bn_rm)
    bn_var_rsqrt = ember.rsqrt(bn_rv + bn_eps)
    # the output channels: dim 0 of a convolution's weight, dim 1 of a transposed one's
    shape = ([1, -1] if transpose else [-1, 1]) + [1] * (conv_w.dim() - 2)
    fused_w = (conv_w * (bn_w * bn_var_rsqrt).reshape(shape)).to(dtype=weight_dtype)
    fused_b = ((conv_b - bn_rm) * bn_var_rsqrt * bn_w + bn_b).to(dtype=bias_dtype)
    return (Parameter(fused_w, conv_w.requires_grad),
            Parameter(fused_b, conv_b.requires_grad))


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` with ``bn`` (both in eval mode) folded into its weight and bias.

    Returns:
        A deep copy of ``linear`` whose output equals ``bn(linear(x))``.

    Raises:
        AssertionError: a module in training mode, ``bn.num_features`` neither
            ``linear.out_features`` nor 1, or no running statistics (torch's messages).
    """
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused_linear = copy.deepcopy(linear)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got "
            f"linear.out_features={linear.out_features} and bn.num_features={bn.num_features}")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused_linear.weight, fused_linear.bias = fuse_linear_bn_weights(
        fused_linear.weight, fused_linear.bias, bn.running_mean, bn.running_var, bn.eps,
        bn.weight, bn.bias)
    return fused_linear


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The fused ``(weight, bias)`` Parameters of a Linear followed by a BatchNorm.

    A missing ``linear_b`` counts as zeros (and the fused bias then needs no grad, as in
    torch); ``bn_w`` and ``bn_b`` are required here, as in torch.
    """
    weight_dtype = linear_w.dtype
    bias_dtype = linear_b.dtype if linear_b is not None else weight_dtype
    if linear_b is None:
        linear_b = ember.zeros_like(bn_rm)
    bn_scale = bn_w * ember.rsqrt(bn_rv + bn_eps)
    fused_w = linear_w * bn_scale.unsqueeze(-1).to(dtype=weight_dtype)
    fused_b = ((linear_b - bn_rm) * bn_scale + bn_b).to(dtype=bias_dtype)
    return (Parameter(fused_w, linear_w.requires_grad),
            Parameter(fused_b, linear_b.requires_grad))
