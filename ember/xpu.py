"""``ember.xpu``: torch's Intel-GPU module, as a torch build without XPU answers it.

``is_available()`` is False, ``device_count()`` is 0, the memory counters read 0 (empty
statistics), seeding is a no-op; what needs a device raises torch's AssertionError ("Torch not
compiled with XPU enabled"), and ``Stream``/``Event`` raise on construction as torch's dummy
classes do. The pyzes-backed telemetry (``temperature``, ``power_draw`` ...) and graphs and
pluggable allocators are left out.
"""
from __future__ import annotations

from collections import OrderedDict

__all__ = ["Event", "Stream", "StreamContext", "can_device_access_peer", "current_device",
           "current_stream", "default_generators", "device", "device_of", "device_count",
           "empty_cache", "get_arch_list", "get_device_capability", "get_device_name",
           "get_device_properties", "get_gencode_flags", "get_per_process_memory_fraction",
           "get_rng_state", "get_rng_state_all", "init", "initial_seed", "is_available",
           "is_bf16_supported", "is_initialized", "is_tf32_supported", "manual_seed",
           "manual_seed_all", "max_memory_allocated", "max_memory_reserved", "mem_get_info",
           "memory_allocated", "memory_reserved", "memory_snapshot", "memory_stats",
           "memory_stats_as_nested_dict", "reset_accumulated_memory_stats",
           "reset_peak_memory_stats", "seed", "seed_all", "set_device",
           "set_per_process_memory_fraction", "set_rng_state", "set_rng_state_all",
           "set_stream", "stream", "synchronize"]

default_generators: tuple = ()


def _not_compiled():
    raise AssertionError("Torch not compiled with XPU enabled")


def is_available() -> bool:
    """False: ember has no XPU support."""
    return False


def device_count() -> int:
    """0: the number of XPU devices."""
    return 0


def is_initialized() -> bool:
    """False: the XPU state is never initialised."""
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: no XPU device."""
    return False


def is_tf32_supported() -> bool:
    """False: no XPU device."""
    return False


def get_arch_list() -> list[str]:
    """[]: ember is built for no XPU architecture."""
    return []


def get_gencode_flags() -> str:
    """"": ember is built for no XPU architecture."""
    return ""


def init() -> None:
    """Initialise XPU. Raises AssertionError (no XPU)."""
    _not_compiled()


def current_device() -> int:
    """The current XPU device index. Raises AssertionError (no XPU)."""
    _not_compiled()


def set_device(device) -> None:
    """Select an XPU device. Raises AssertionError (no XPU)."""
    _not_compiled()


def get_device_name(device=None) -> str:
    """An XPU device's name. Raises AssertionError (no XPU)."""
    _not_compiled()


def get_device_properties(device=None):
    """An XPU device's properties. Raises AssertionError (no XPU)."""
    _not_compiled()


def get_device_capability(device=None) -> dict:
    """An XPU device's capability. Raises AssertionError (no XPU)."""
    _not_compiled()


def can_device_access_peer(device, peer) -> bool:
    """Whether two XPU devices share memory. Raises AssertionError (no XPU)."""
    _not_compiled()


def synchronize(device=None) -> None:
    """Wait for an XPU device. Raises AssertionError (no XPU)."""
    _not_compiled()


def current_stream(device=None):
    """The current XPU stream. Raises AssertionError (no XPU)."""
    _not_compiled()


def set_stream(stream) -> None:
    """Make ``stream`` current; None is a no-op, as in torch."""
    if stream is not None:
        _not_compiled()


def mem_get_info(device=None) -> tuple[int, int]:
    """(free, total) XPU memory. Raises AssertionError (no XPU)."""
    _not_compiled()


def get_per_process_memory_fraction(device=None) -> float:
    """The XPU memory cap. Raises AssertionError (no XPU)."""
    _not_compiled()


def set_per_process_memory_fraction(fraction: float, device=None) -> None:
    """Cap XPU memory. Raises AssertionError (no XPU)."""
    _not_compiled()


def initial_seed() -> int:
    """The XPU generator's seed. Raises AssertionError (no XPU)."""
    _not_compiled()


def get_rng_state(device="xpu"):
    """The XPU generator's state. Raises AssertionError (no XPU)."""
    _not_compiled()


def get_rng_state_all() -> list:
    """[]: one state per XPU device."""
    return []


def set_rng_state(new_state, device="xpu") -> None:
    """Set the XPU generator's state: a no-op without XPU, as in torch."""


def set_rng_state_all(new_states) -> None:
    """Set each XPU generator's state: a no-op without XPU."""


def manual_seed(seed: int) -> None:
    """Seed the XPU generator: a no-op without XPU, as in torch."""


def manual_seed_all(seed: int) -> None:
    """Seed every XPU generator: a no-op without XPU."""


def seed() -> None:
    """Seed the XPU generator randomly: a no-op without XPU."""


def seed_all() -> None:
    """Seed every XPU generator randomly: a no-op without XPU."""


def empty_cache() -> None:
    """Release cached XPU memory: nothing to release."""


def memory_stats(device=None) -> OrderedDict:
    """The XPU allocator's statistics: empty, as on a build without XPU."""
    return OrderedDict()


def memory_stats_as_nested_dict(device=None) -> dict:
    """The XPU allocator's statistics, nested: empty."""
    return {}


def memory_snapshot(mempool_id=None) -> list:
    """The XPU allocator's segments: none."""
    return []


def memory_allocated(device=None) -> int:
    """0 bytes held by XPU tensors."""
    return 0


def max_memory_allocated(device=None) -> int:
    """0: the peak bytes held by XPU tensors."""
    return 0


def memory_reserved(device=None) -> int:
    """0 bytes reserved by the XPU allocator."""
    return 0


def max_memory_reserved(device=None) -> int:
    """0: the peak bytes reserved by the XPU allocator."""
    return 0


def reset_accumulated_memory_stats(device=None) -> None:
    """Reset the XPU allocator's accumulated statistics: there are none."""


def reset_peak_memory_stats(device=None) -> None:
    """Reset the XPU allocator's peak statistics: there are none."""


class Stream:
    """An XPU stream. Raises RuntimeError when constructed, as torch's dummy class does."""

    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError("Tried to instantiate dummy base class Stream")


class Event:
    """An XPU event. Raises RuntimeError when constructed, as torch's dummy class does."""

    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError("Tried to instantiate dummy base class Event")


class StreamContext:
    """Context manager that makes ``stream`` current inside it; None switches nothing."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def __enter__(self):
        if self.stream is not None:
            _not_compiled()

    def __exit__(self, *exc_info) -> None:
        return None


def stream(stream) -> StreamContext:
    """A :class:`StreamContext` for ``stream`` (None: a no-op context)."""
    return StreamContext(stream)


class device:  # noqa: N801  (torch's name)
    """Context manager that selects an XPU device inside it.

    Raises:
        ValueError: a device that is not an XPU one (torch's message).
        NotImplementedError: on entering (no XPU support), as in torch.
    """

    def __init__(self, device) -> None:
        if isinstance(device, str) or hasattr(device, "type"):
            from ._backend import device as _device

            d = _device(device) if isinstance(device, str) else device
            if d.type != "xpu":
                raise ValueError(f"Expected a xpu device, but got: {d}")
            device = d.index
        self.idx = -1 if device is None else device
        self.prev_idx = -1

    def __enter__(self) -> None:
        raise NotImplementedError("PyTorch was compiled without XPU support")

    def __exit__(self, *exc_info) -> bool:
        raise NotImplementedError("PyTorch was compiled without XPU support")


class device_of(device):  # noqa: N801  (torch's name)
    """:class:`device` of a tensor's XPU device (index -1 for a CPU tensor)."""

    def __init__(self, obj) -> None:
        super().__init__(obj.get_device() if getattr(obj, "is_xpu", False) else -1)
