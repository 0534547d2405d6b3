"""Convolution layers: Conv1d, Conv2d and their transposes."""
from __future__ import annotations

__all__: list[str] = []
