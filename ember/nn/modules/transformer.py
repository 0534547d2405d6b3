"""Attention layers: MultiheadAttention and the Transformer encoder and decoder."""
from __future__ import annotations

__all__: list[str] = []
