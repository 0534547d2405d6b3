"""Sub-pixel rearrangement layers: ``PixelShuffle`` and ``PixelUnshuffle``."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """``F.pixel_shuffle`` as a layer: ``(*, C * r^2, H, W)`` -> ``(*, C, H * r, W * r)``.

    Args:
        upscale_factor: ``r``, the factor to increase the height and width by.
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``F.pixel_unshuffle`` as a layer: ``(*, C, H * r, W * r)`` -> ``(*, C * r^2, H, W)``.

    Args:
        downscale_factor: ``r``, the factor to decrease the height and width by.
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
