"""ember.random: torch.random's names for the default generator, and ``fork_rng``."""
from __future__ import annotations

import contextlib

from ._random import (  # noqa: F401
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = ["default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed",
           "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Run the block with the default generator's state saved, and restore it afterwards,
    so draws inside do not shift the ones after. ``enabled=False`` makes it a no-op; there
    are no device generators to fork (``devices`` must then be empty or None)."""
    if not enabled:
        yield
        return
    if devices:
        from ._backend import check_device

        check_device(device_type)
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
