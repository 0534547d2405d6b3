"""``autocast``: a context manager (and decorator) that computes at full precision.

It validates its arguments and tracks the enabled state like torch (so
``is_autocast_enabled`` answers as torch would), but no op casts: ember runs in the
tensors' own dtypes. ``device_type="cuda"`` warns and disables itself, as on a CPU build.
"""
from __future__ import annotations

import functools
import threading
import warnings

from .. import _dtype
from .._backend import device as _device

_DEFAULT_DTYPE = {"cpu": _dtype.bfloat16, "cuda": _dtype.float16, "mps": _dtype.float16}


class _State(threading.local):
    """Per-thread autocast state: an enabled flag and dtype per device type."""

    def __init__(self):
        self.enabled = {}
        self.dtype = dict(_DEFAULT_DTYPE)

    def is_enabled(self, device_type=None):
        return self.enabled.get(device_type or "cuda", False)


_state = _State()
_noted = [False]


def is_autocast_available(device_type: str) -> bool:
    """True for "cpu": the only device type an ember autocast region can be enabled on."""
    return device_type == "cpu"


def get_autocast_dtype(device_type: str):
    """The dtype an autocast region on ``device_type`` names (bfloat16 for "cpu")."""
    return _state.dtype.get(device_type, _dtype.float16)


class autocast:  # noqa: N801  (torch spells it in lower case)
    """Mixed-precision region; ember computes at full precision inside it.

    Args:
        device_type: "cpu" or "cuda" (anything torch's ``device`` accepts).
        dtype: the lower precision asked for; bfloat16 (CPU) or float16 (CUDA) by default.
        enabled: False makes the region a no-op.
        cache_enabled: accepted and ignored (there is no cast cache).

    Differs from PyTorch: no op is cast, so results equal those outside the region. On
    "cuda" the region disables itself with torch's warning (CUDA is not available); on
    "cpu" with a dtype other than bfloat16/float16 too.
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _device(device_type).type
        self.fast_dtype = _state.dtype.get(self.device, _dtype.float16) if dtype is None \
            else _dtype.convert(dtype)
        self._cache_enabled = cache_enabled
        enabled = bool(enabled)
        if enabled and self.device == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          UserWarning, stacklevel=2)
            enabled = False
        elif enabled and self.device == "cpu" and self.fast_dtype.name not in ("bfloat16",
                                                                              "float16"):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                          "torch.float16 currently.", UserWarning, stacklevel=2)
            enabled = False
        elif enabled and self.device not in ("cpu", "cuda"):
            warnings.warn(f"autocast on device type {self.device!r} is not available in ember. "
                          "Disabling autocast.", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = enabled

    def __enter__(self):
        if self._enabled and not _noted[0]:
            _noted[0] = True
            warnings.warn("ember.autocast: ops run at full precision (no mixed precision on "
                          "NumPy); results match a region without autocast.", UserWarning,
                          stacklevel=2)
        self._prev = (_state.enabled.get(self.device, False), _state.dtype.get(self.device))
        _state.enabled[self.device] = self._enabled
        _state.dtype[self.device] = self.fast_dtype
        return self

    def __exit__(self, exc_type, exc, tb):
        _state.enabled[self.device], _state.dtype[self.device] = self._prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with autocast(self.device, dtype=self.fast_dtype, enabled=self._enabled,
                          cache_enabled=self._cache_enabled):
                return func(*args, **kwargs)

        return wrapper


def custom_fwd(fwd=None, *, device_type: str = "cuda", cast_inputs=None):
    """Decorator for a custom Function's forward; ember calls it unchanged."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type: str = "cuda"):
    """Decorator for a custom Function's backward; ember calls it unchanged."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
