"""Sliding-block layers: ``Unfold`` (im2col) and ``Fold`` (col2im)."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["Unfold", "Fold"]


class Unfold(Module):
    """``F.unfold`` as a layer: ``(N, C, H, W)`` -> ``(N, C * kH * kW, L)``, one column per
    sliding block.

    Args:
        kernel_size, dilation, padding, stride: an int or a pair (height, width).
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """``F.fold`` as a layer: ``(N, C * kH * kW, L)`` -> ``(N, C, *output_size)``, the
    blocks summed where they overlap.

    Args:
        output_size: the spatial size ``(H, W)`` of the output (or an int).
        kernel_size, dilation, padding, stride: an int or a pair (height, width).
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
