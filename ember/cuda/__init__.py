"""ember.cuda: what scripts ask of torch.cuda on a machine without a GPU.

ember runs on the CPU only, so ``is_available()`` is False and ``device_count()`` is 0.
Seeding, cache and memory queries are harmless no-ops (as on a CPU build of torch); calls
that need a device (``current_device``, ``get_device_name``, ``set_device``, streams) raise
a RuntimeError that says so (also an AssertionError, as on torch's CPU build).
"""
from __future__ import annotations

from contextlib import contextmanager

__all__ = ["is_available", "device_count", "is_initialized", "init", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "synchronize", "empty_cache",
           "current_device", "get_device_name", "get_device_capability",
           "get_device_properties", "set_device", "device", "is_bf16_supported",
           "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "reset_peak_memory_stats", "current_stream", "stream",
           "Event", "Stream", "amp"]

_NO_CUDA = ("Torch not compiled with CUDA enabled: CUDA is not available: ember runs on the "
            "CPU only (ember.cuda.is_available() is False). Use device='cpu'.")


def _unavailable(*args, **kwargs):
    from .._backend import DeviceUnavailableError

    raise DeviceUnavailableError(_NO_CUDA)


def is_available() -> bool:
    """False: ember has no GPU backend."""
    return False


def device_count() -> int:
    """0: no CUDA devices."""
    return 0


def is_initialized() -> bool:
    """False: there is nothing to initialise."""
    return False


def init() -> None:
    """Raises: CUDA cannot be initialised without a GPU backend."""
    _unavailable()


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False, as on a CPU build of torch."""
    return False


def manual_seed(seed: int) -> None:
    """No-op (no CUDA generators); seed the CPU with ``ember.manual_seed``."""


def manual_seed_all(seed: int) -> None:
    """No-op (no CUDA generators)."""


def seed() -> None:
    """No-op (no CUDA generators)."""


def seed_all() -> None:
    """No-op (no CUDA generators)."""


def synchronize(device=None) -> None:
    """No-op: every ember op has finished when it returns.

    NOTE: a CPU build of torch raises here; ember lets timing code written as
    ``torch.cuda.synchronize(); t = time.time()`` run unchanged.
    """


def empty_cache() -> None:
    """No-op: no device memory cache."""


def memory_allocated(device=None) -> int:
    """0 bytes: no device memory."""
    return 0


def max_memory_allocated(device=None) -> int:
    """0 bytes: no device memory."""
    return 0


def memory_reserved(device=None) -> int:
    """0 bytes: no device memory."""
    return 0


def max_memory_reserved(device=None) -> int:
    """0 bytes: no device memory."""
    return 0


def reset_peak_memory_stats(device=None) -> None:
    """No-op: no device memory."""


def current_device() -> int:
    """Raises RuntimeError: there is no current CUDA device."""
    _unavailable()


def get_device_name(device=None) -> str:
    """Raises RuntimeError: there is no CUDA device to name."""
    _unavailable()


def get_device_capability(device=None):
    """Raises RuntimeError: there is no CUDA device."""
    _unavailable()


def get_device_properties(device=None):
    """Raises RuntimeError: there is no CUDA device."""
    _unavailable()


def set_device(device) -> None:
    """Raises RuntimeError: there is no CUDA device to select."""
    _unavailable()


def current_stream(device=None):
    """Raises RuntimeError: no CUDA streams."""
    _unavailable()


@contextmanager
def stream(stream):
    """A no-op context when ``stream`` is None; raises otherwise (no CUDA streams)."""
    if stream is not None:
        _unavailable()
    yield


class device:  # noqa: N801  (torch spells it in lower case)
    """``with torch.cuda.device(i):``: raises RuntimeError on entry (no CUDA devices)."""

    def __init__(self, device):
        self.idx = device

    def __enter__(self):
        _unavailable()

    def __exit__(self, *exc):
        return False


class Stream:
    """Raises RuntimeError when constructed: no CUDA streams."""

    def __init__(self, *args, **kwargs):
        _unavailable()


class Event:
    """Raises RuntimeError when constructed: no CUDA events."""

    def __init__(self, *args, **kwargs):
        _unavailable()


# torch.cuda.FloatTensor and friends name CUDA tensor types; constructing one raises.
FloatTensor = DoubleTensor = HalfTensor = LongTensor = IntTensor = BoolTensor = _unavailable


def __getattr__(name):
    if name == "amp":
        import importlib

        return importlib.import_module(f"{__name__}.amp")
    raise AttributeError(f"module 'ember.cuda' has no attribute {name!r}")

