"""ember.amp: automatic mixed precision, in the forms that run on a CPU without changing results.

``autocast`` records that a region asked for lower precision but computes in the tensors'
own dtypes (NumPy has no bfloat16, and float16 on a CPU is slower, not faster).
``GradScaler`` is complete: scaling, unscaling, skipping steps with inf/nan gradients and
adjusting the scale behave as torch's CPU GradScaler; with ``enabled=False`` (or
``device="cuda"``, which is not available) it passes everything through.
"""
from __future__ import annotations

from .autocast_mode import (
    autocast,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
)
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd", "get_autocast_dtype",
           "is_autocast_available"]
