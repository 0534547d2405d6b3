"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad (1d-3d).

Each holds its padding as a tuple ``(left, right[, top, bottom[, front, back]])`` and calls
:func:`ember.nn.functional.pad`.
"""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
    "ZeroPad3d",
]


def _ntuple(padding, n):
    """An int repeated ``n`` times, or the sequence itself as a tuple (torch's ``_ntuple``)."""
    if isinstance(padding, (list, tuple)):
        return tuple(padding)
    return (padding,) * n


class _PadNd(Module):
    """Pads with ``F.pad(input, padding, _mode)``; ``_n`` is the number of padded dims."""

    _mode = "constant"
    _n = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._n)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        n = self._n
        if input.dim() not in (n + 1, n + 2):
            raise ValueError(f"expected {n + 1}D or {n + 2}D input (got {input.dim()}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dimension by wrapping around. Shape: ``(C, W)`` or ``(N, C, W)``."""

    _n = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last 2 dimensions by wrapping around. Shape: ``(C, H, W)`` or ``(N, C, H, W)``."""

    _n = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last 3 dimensions by wrapping around. Shape: ``(C, D, H, W)`` or
    ``(N, C, D, H, W)``."""

    _n = 3


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value`` (negative padding crops)."""

    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dimensions with ``value`` (negative padding crops)."""

    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dimensions with ``value`` (negative padding crops)."""

    _n = 3


class _ReflectionPadNd(_PadNd):
    _mode = "reflect"


class ReflectionPad1d(_ReflectionPadNd):
    """Pad the last dimension with its reflection (the edge not repeated)."""

    _n = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Pad the last 2 dimensions with their reflection."""

    _n = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pad the last 3 dimensions with their reflection."""

    _n = 3


class _ReplicationPadNd(_PadNd):
    _mode = "replicate"


class ReplicationPad1d(_ReplicationPadNd):
    """Pad the last dimension by repeating its edge values."""

    _n = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Pad the last 2 dimensions by repeating their edge values."""

    _n = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pad the last 3 dimensions by repeating their edge values."""

    _n = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dimension with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dimensions with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dimensions with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"
