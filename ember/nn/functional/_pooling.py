"""Pooling (torch.nn.functional): max, average, adaptive and Lp pooling; upsampling."""
from __future__ import annotations

__all__: list[str] = []
