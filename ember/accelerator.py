"""``ember.accelerator``: torch's device-agnostic accelerator API, as a CPU-only build answers it.

ember runs on NumPy, so there is no accelerator: ``is_available()`` is False,
``current_accelerator()`` is None and ``device_count()`` is 0, which is what the tutorials'
``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``
needs. The functions that would touch a device raise torch's RuntimeError ("Cannot access
accelerator device when none is available."), after torch's own argument checks.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict

__all__ = ["Graph", "current_accelerator", "current_device_idx", "current_device_index",
           "get_device_capability", "current_stream", "device_count", "device_index",
           "empty_cache", "empty_host_cache", "get_memory_info", "is_available",
           "max_memory_allocated", "max_memory_reserved", "memory_allocated", "memory_reserved",
           "memory_stats", "reset_accumulated_memory_stats", "reset_peak_memory_stats",
           "set_device_idx", "set_device_index", "set_stream", "synchronize"]

_NONE_MSG = "Cannot access accelerator device when none is available."


def _no_accelerator():
    raise RuntimeError(_NONE_MSG)


def _get_device_index(device, optional: bool = False) -> int:
    """torch's argument check: an int passes; a device (or device string) needs an accelerator
    of its type; None (or a device without an index) needs ``optional``."""
    if isinstance(device, int):
        return device
    from ._backend import device as _device

    if isinstance(device, str):
        device = _device(device)
    if isinstance(device, _device):
        raise RuntimeError("Accelerator expected")  # current_accelerator() is None
    if not optional:
        raise ValueError("Expected a torch.device with a specified index or an integer, but "
                         f"got:{device}")
    return current_device_index()


def is_available() -> bool:
    """False: ember has no accelerator (a CPU-only torch build answers the same)."""
    return False


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator (with or without ``check_available``)."""
    return None


def device_count() -> int:
    """0: the number of accelerators ember can use."""
    return 0


def current_device_index() -> int:
    """The index of the current accelerator device.

    Raises:
        RuntimeError: always (no accelerator), with torch's message.
    """
    _no_accelerator()


def current_device_idx() -> int:
    """Deprecated alias of :func:`current_device_index` (torch's FutureWarning)."""
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_index(device, /) -> None:
    """Make ``device`` the current accelerator device; a negative index is a no-op, as in
    torch.

    Raises:
        RuntimeError: a device or non-negative index (no accelerator), torch's messages.
        ValueError: None or another non-device.
    """
    if _get_device_index(device, optional=False) >= 0:
        _no_accelerator()


def set_device_idx(device, /) -> None:
    """Deprecated alias of :func:`set_device_index` (torch's FutureWarning)."""
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


def get_device_capability(device=None, /) -> dict:
    """The capabilities of an accelerator device.

    Raises:
        RuntimeError: always (no accelerator).
    """
    _get_device_index(device, optional=True)
    _no_accelerator()


def current_stream(device=None, /):
    """The current stream of an accelerator device.

    Raises:
        RuntimeError: always (no accelerator).
    """
    _get_device_index(device, optional=True)
    _no_accelerator()


def set_stream(stream) -> None:
    """Make ``stream`` current.

    Raises:
        TypeError: ``stream`` is not a Stream (torch's message).
        RuntimeError: a stream (no accelerator).
    """
    if type(stream).__name__ != "Stream":
        raise TypeError("_accelerator_setStream(): incompatible function arguments. The "
                        "following argument types are supported:\n    1. (arg0: torch.Stream) "
                        f"-> None\n\nInvoked with: {stream!r}")
    _no_accelerator()


def synchronize(device=None, /) -> None:
    """Wait for an accelerator device's work to finish.

    Raises:
        RuntimeError: always (no accelerator).
    """
    _get_device_index(device, optional=True)
    _no_accelerator()


class device_index:  # noqa: N801  (torch's name)
    """Context manager that makes ``device`` the current accelerator device index inside it;
    ``None`` switches nothing (and works here).

    Raises:
        RuntimeError: on entering with an index (no accelerator).
    """

    def __init__(self, device: int | None, /) -> None:
        self.idx = device
        self.prev_idx = -1

    def __enter__(self) -> None:
        if self.idx is not None:
            _no_accelerator()

    def __exit__(self, *exc_info) -> None:
        if self.idx is not None:
            _no_accelerator()


class Graph:
    """An accelerator graph (capture and replay).

    Raises:
        RuntimeError: when constructed (no accelerator).
    """

    def __init__(self, keep_graph: bool = False, *, pool=None,
                 capture_error_mode: str = "default") -> None:
        _no_accelerator()


# --- memory: torch first asks whether the allocator is initialised, which raises here -------
def empty_cache() -> None:
    """Release cached accelerator memory. Raises RuntimeError (no accelerator)."""
    _no_accelerator()


def empty_host_cache() -> None:
    """Release cached pinned host memory. Raises RuntimeError (no accelerator)."""
    _no_accelerator()


def memory_stats(device_index=None, /) -> OrderedDict:
    """The accelerator allocator's statistics. Raises RuntimeError (no accelerator)."""
    _no_accelerator()


def memory_allocated(device_index=None, /) -> int:
    """Bytes held by tensors on an accelerator. Raises RuntimeError (no accelerator)."""
    return memory_stats(device_index).get("allocated_bytes.all.current", 0)


def max_memory_allocated(device_index=None, /) -> int:
    """Peak bytes held by tensors. Raises RuntimeError (no accelerator)."""
    return memory_stats(device_index).get("allocated_bytes.all.peak", 0)


def memory_reserved(device_index=None, /) -> int:
    """Bytes reserved by the allocator. Raises RuntimeError (no accelerator)."""
    return memory_stats(device_index).get("reserved_bytes.all.current", 0)


def max_memory_reserved(device_index=None, /) -> int:
    """Peak bytes reserved by the allocator. Raises RuntimeError (no accelerator)."""
    return memory_stats(device_index).get("reserved_bytes.all.peak", 0)


def reset_accumulated_memory_stats(device_index=None, /) -> None:
    """Reset the allocator's accumulated statistics. Raises RuntimeError (no accelerator)."""
    _no_accelerator()


def reset_peak_memory_stats(device_index=None, /) -> None:
    """Reset the allocator's peak statistics. Raises RuntimeError (no accelerator)."""
    _no_accelerator()


def get_memory_info(device_index=None, /) -> tuple[int, int]:
    """(free, total) bytes of an accelerator device.

    Raises:
        RuntimeError: always (no accelerator).
    """
    _get_device_index(device_index, optional=True)
    _no_accelerator()


def get_device_module(device=None):
    """The module of a device type (``ember.get_device_module("cuda")`` is ``ember.cuda``);
    with no device, the current accelerator's, which is ``ember.cpu`` here.

    Raises:
        RuntimeError: a device of an unknown type, or one ember has no module for.
    """
    import ember

    from ._backend import device as _device

    if isinstance(device, _device):
        name = device.type
    elif isinstance(device, str):
        name = _device(device).type
    elif device is None:
        name = "cpu"
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, or "
                           "None")
    module = getattr(ember, name, None)
    if module is None:
        raise RuntimeError(f"Device '{name}' does not have a corresponding module registered as "
                           f"'torch.{name}'.")
    return module
