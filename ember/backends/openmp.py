"""torch.backends.openmp: ember has no OpenMP kernels of its own."""
from __future__ import annotations


def is_available() -> bool:
    """False: ember's parallelism is NumPy's BLAS threads."""
    return False
