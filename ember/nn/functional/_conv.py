"""Convolutions (torch.nn.functional): conv1d, conv2d and their transposes."""
from __future__ import annotations

__all__: list[str] = []
