"""Dropout layers."""
from __future__ import annotations

from .. import functional as F
from ..functional._normalization import _check_p
from .module import Module

__all__ = ["Dropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        _check_p(p)
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """While training, zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)`` (one random draw per element); the identity in ``eval()``.

    Args:
        p: probability of zeroing an element (default 0.5).
        inplace: overwrite the input.

    Shape:
        - Input: ``(*)``; Output: the same.

    Raises:
        ValueError: ``p`` outside [0, 1] ("dropout probability has to be between 0 and 1,
            but got 1.5").
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)
