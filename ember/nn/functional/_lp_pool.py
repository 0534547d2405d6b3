"""Power-average pooling (torch.nn.functional): ``lp_pool1d``, ``lp_pool2d``, ``lp_pool3d``.

torch composes it from other ops and so does ember, node for node:
``(sign(s) * relu(|s|) * prod(kernel)) ** (1 / p)`` with ``s = avg_pool(x ** p)``;
``p = inf`` is max pooling of ``|x|`` (and ``-inf`` minus max pooling of ``-|x|``).
"""
from __future__ import annotations

from ._activation import relu
from ._pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from ._pooling3d import avg_pool3d, max_pool3d

__all__ = ["lp_pool1d", "lp_pool2d", "lp_pool3d"]


def _ntuple(value, n):
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, avg, max_pool, scale):
    if isinstance(norm_type, (int, float)):
        if norm_type == float("inf"):
            return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if stride is not None:
        out = avg(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * relu(out.abs())).mul(scale).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling over ``(N, C, L)`` or ``(C, L)``: each window gives
    ``(sum x ** p) ** (1 / p)`` (``p = norm_type``); ``stride`` defaults to the kernel.

    ``kernel_size`` is an int, as in torch (which multiplies by it). Where the sum of powers
    is zero the gradient is zero.
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, avg_pool1d, max_pool1d,
                    kernel_size)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling over ``(N, C, H, W)`` or ``(C, H, W)``; see ``lp_pool1d``.
    ``kernel_size`` and ``stride`` are an int or a pair."""
    kw, kh = _ntuple(kernel_size, 2)
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, avg_pool2d, max_pool2d,
                    kw * kh)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``; see
    ``lp_pool1d``. ``kernel_size`` and ``stride`` are an int or a triple."""
    kd, kw, kh = _ntuple(kernel_size, 3)
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, avg_pool3d, max_pool3d,
                    kd * kw * kh)


for _name in __all__:
    globals()[_name].__module__ = "ember.nn.functional"
del _name
