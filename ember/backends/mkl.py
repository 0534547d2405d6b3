"""torch.backends.mkl: ember does not link MKL itself (NumPy may)."""
from __future__ import annotations


def is_available() -> bool:
    """False: ember has no MKL kernels of its own."""
    return False
