"""torch.backends.mkldnn (oneDNN): not used by ember; the flag is kept for scripts."""
from __future__ import annotations

enabled = False


def is_available() -> bool:
    """False: no oneDNN kernels."""
    return False
