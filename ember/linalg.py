"""``torch.linalg``: norms, decompositions, inverses and solvers of matrices (and batches)."""
from __future__ import annotations

from .ops.linalg import matmul  # noqa: F401
from .ops.statistics_pairs import linalg_cross as cross  # noqa: F401
