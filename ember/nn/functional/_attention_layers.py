"""Multi-head attention (torch.nn.functional.multi_head_attention_forward)."""
from __future__ import annotations

__all__: list[str] = []
