"""More activations (torch.nn.functional): selu, celu, hardswish, hardsigmoid, softsign, ..."""
from __future__ import annotations

__all__: list[str] = []
