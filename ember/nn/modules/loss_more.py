"""More loss layers: the margin, embedding, Poisson/Gaussian NLL and triplet losses."""
from __future__ import annotations

__all__: list[str] = []
