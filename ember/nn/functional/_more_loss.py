"""More losses (torch.nn.functional): margin, embedding, Poisson and Gaussian NLL, triplet ..."""
from __future__ import annotations

__all__: list[str] = []
