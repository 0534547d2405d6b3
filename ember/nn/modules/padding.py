"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad (1d-3d)."""
from __future__ import annotations

__all__: list[str] = []
