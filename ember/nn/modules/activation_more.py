"""More activation layers: SELU, CELU, Hardswish, PReLU, Threshold, ..."""
from __future__ import annotations

__all__: list[str] = []
