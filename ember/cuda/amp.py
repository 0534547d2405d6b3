"""ember.cuda.amp: torch's older spelling of ``ember.amp`` for CUDA (autocast, GradScaler).

Both resolve to their disabled forms here: CUDA is not available.
"""
from __future__ import annotations

from ..amp import autocast_mode, grad_scaler
from ..amp.autocast_mode import custom_bwd, custom_fwd  # noqa: F401


class autocast(autocast_mode.autocast):  # noqa: N801
    """``torch.cuda.amp.autocast(...)`` = ``torch.autocast("cuda", ...)``: disabled here."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    """``torch.cuda.amp.GradScaler(...)`` = ``torch.amp.GradScaler("cuda", ...)``: disabled."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)
