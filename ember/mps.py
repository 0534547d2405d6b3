"""``ember.mps``: torch's Apple-GPU module, as a torch build without MPS answers it.

ember has no MPS backend: ``is_available()`` is False and ``device_count()`` is 0,
``manual_seed`` is a no-op (as in torch), and the functions that need the backend raise torch's
RuntimeError ("Cannot execute ... without MPS backend."). ``ember.backends.mps`` has the
``is_built``/``is_available`` pair.
"""
from __future__ import annotations

__all__ = ["compile_shader", "device_count", "get_rng_state", "manual_seed", "seed",
           "set_rng_state", "synchronize", "empty_cache", "set_per_process_memory_fraction",
           "current_allocated_memory", "driver_allocated_memory", "Event", "profiler",
           "recommended_max_memory", "is_available", "load_metallib"]


def _without_mps(what: str):
    raise RuntimeError(f"Cannot execute {what}() without MPS backend.")


def is_available() -> bool:
    """False: ember has no MPS backend."""
    return False


def device_count() -> int:
    """0: the number of MPS devices."""
    return 0


def synchronize() -> None:
    """Wait for the MPS device. Raises RuntimeError (no MPS backend)."""
    _without_mps("deviceSynchronize")


def get_rng_state(device="mps"):
    """The MPS generator's state. Raises RuntimeError (no MPS backend)."""
    _without_mps("getDefaultGenerator")


def set_rng_state(new_state, device="mps") -> None:
    """Set the MPS generator's state. Raises RuntimeError (no MPS backend)."""
    _without_mps("getDefaultGenerator")


def manual_seed(seed: int) -> None:
    """Seed the MPS generator: a no-op without MPS, as in torch."""


def seed() -> None:
    """Seed the MPS generator randomly. Raises RuntimeError (no MPS backend)."""
    _without_mps("getDefaultGenerator")


def empty_cache() -> None:
    """Release cached MPS memory. Raises RuntimeError (no MPS backend)."""
    _without_mps("emptyCache")


def set_per_process_memory_fraction(fraction) -> None:
    """Cap MPS memory. Raises RuntimeError (no MPS backend)."""
    _without_mps("setMemoryFraction")


def current_allocated_memory() -> int:
    """Bytes held by MPS tensors. Raises RuntimeError (no MPS backend)."""
    _without_mps("getCurrentAllocatedMemory")


def driver_allocated_memory() -> int:
    """Bytes the Metal driver holds. Raises RuntimeError (no MPS backend)."""
    _without_mps("getDriverAllocatedMemory")


def recommended_max_memory() -> int:
    """Metal's recommended working-set size. Raises RuntimeError (no MPS backend)."""
    _without_mps("getRecommendedMaxMemory")


def compile_shader(source: str):
    """Compile a Metal shader. Raises RuntimeError ("MPS is not available")."""
    raise RuntimeError("MPS is not available")


def load_metallib(source):
    """Load a Metal library. Raises RuntimeError ("MPS is not available")."""
    raise RuntimeError("MPS is not available")


class Event:
    """An MPS event. Raises RuntimeError when constructed (no MPS backend)."""

    def __init__(self, enable_timing: bool = False) -> None:
        _without_mps("acquireEvent")


class _Profiler:
    """``ember.mps.profiler``: the Metal profiler; every call raises (no MPS backend)."""

    @staticmethod
    def start(mode: str = "interval", wait_until_completed: bool = False) -> None:
        """Start profiling. Raises RuntimeError (no MPS backend)."""
        _without_mps("profilerStartTrace")

    @staticmethod
    def stop() -> None:
        """Stop profiling. Raises RuntimeError (no MPS backend)."""
        _without_mps("profilerStopTrace")


profiler = _Profiler()
