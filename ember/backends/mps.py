"""torch.backends.mps: Apple's Metal backend is not available in ember."""
from __future__ import annotations


def is_available() -> bool:
    """False: no MPS backend."""
    return False


def is_built() -> bool:
    """False: ember is not built with MPS."""
    return False
