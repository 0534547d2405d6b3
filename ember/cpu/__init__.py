"""ember.cpu: torch.cpu's device queries (the CPU is always there) and ``ember.cpu.amp``."""
from __future__ import annotations

from contextlib import contextmanager

from . import amp  # noqa: F401

__all__ = ["is_available", "is_initialized", "synchronize", "current_device", "set_device",
           "device_count", "stream", "current_stream", "amp"]


def is_available() -> bool:
    """True: ember always runs on the CPU."""
    return True


def is_initialized() -> bool:
    """True: nothing to initialise."""
    return True


def synchronize(device=None) -> None:
    """No-op: CPU work is synchronous."""


def current_device() -> str:
    """``"cpu"``, as torch.cpu answers."""
    return "cpu"


def set_device(device) -> None:
    """No-op (there is one CPU device)."""


def device_count() -> int:
    """1: the CPU."""
    return 1


def current_stream(device=None):
    """None: the CPU has no streams to hand out."""
    return None


@contextmanager
def stream(stream=None):
    """A no-op stream context."""
    yield
