"""``autocast``: a context manager (and decorator) that computes at full precision, and torch's
autocast state API (``get_autocast_dtype``, ``set_autocast_enabled``, the cache flag, the
nesting counter and the deprecated per-device spellings).

The state is per thread and answers as torch's does (so ``is_autocast_enabled`` and
``get_autocast_dtype`` agree with torch inside and outside a region), but no op casts: ember
runs in the tensors' own dtypes. ``device_type="cuda"`` warns and disables itself, as on a CPU
build.
"""
from __future__ import annotations

import functools
import threading
import warnings

from .. import _dtype

# torch's device type names, in the order of its "Expected one of ..." message
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")
# the device types with an autocast dispatch key, and the dtype each starts with ("hip" has a
# dtype but no key, as in torch)
_AUTOCAST_TYPES = ("cpu", "cuda", "xpu", "ipu", "hpu", "xla", "privateuseone", "mps", "mtia",
                   "maia")
_BF16_FIRST = ("cpu", "xla", "hpu", "maia")
_DEFAULT_DTYPE = {d: (_dtype.bfloat16 if d in _BF16_FIRST else _dtype.float16)
                  for d in (*_AUTOCAST_TYPES, "hip")}


class _State(threading.local):
    """Per-thread autocast state: enabled flags and dtypes per device type, the cache flag and
    the nesting count."""

    def __init__(self):
        self.enabled = {}
        self.dtype = dict(_DEFAULT_DTYPE)
        self.cache_enabled = True
        self.nesting = 0


_state = _State()
_noted = [False]
_UNSET = object()  # an argument not given


def _type_error(fn, arg, pos, want, value):
    from .._arg_errors import type_name

    return TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be {want}, not "
                     f"{type_name(value)}")


def _device_type(fn, device_type, pos=1):
    """The device type of a device string ("cuda:0" -> "cuda"), with torch's errors."""
    if not isinstance(device_type, str):
        raise _type_error(fn, "device_type", pos, "str", device_type)
    name, _, index = device_type.partition(":")
    if name not in _DEVICE_TYPES or (index and not index.isdigit()):
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of "
                           f"device string: {device_type}")
    return name


def _autocast_type(fn, device_type):
    name = _device_type(fn, device_type)
    if name not in _AUTOCAST_TYPES:
        raise RuntimeError("unknown device type for autocast in "
                           "get_autocast_dispatch_key_from_device_type")
    return name


def _check_bool(fn, value, pos):
    if not isinstance(value, bool):
        raise _type_error(fn, "enabled", pos, "bool", value)


def _check_dtype(fn, value, pos):
    if not isinstance(value, _dtype.dtype):
        raise _type_error(fn, "dtype", pos, "torch.dtype", value)


def is_autocast_available(device_type: str) -> bool:
    """Whether ``device_type`` has autocast support (as a CPU build of torch answers: True for
    "cpu", "cuda", "mps", "xpu" and the other accelerator types, False for "meta")."""
    return _device_type("is_autocast_available", device_type) in _AUTOCAST_TYPES


def get_autocast_dtype(device_type: str = _UNSET):
    """The dtype an autocast region on ``device_type`` casts to (bfloat16 for "cpu", float16
    for "cuda" unless changed by :func:`set_autocast_dtype` or an enclosing region).

    Raises:
        RuntimeError: an unknown device type, or one without an autocast dtype (torch's
            "unsupported scalarType").
    """
    if device_type is _UNSET:  # torch's message for a missing argument
        from .._arg_errors import missing

        raise missing("get_autocast_dtype", "device_type")
    name = _device_type("get_autocast_dtype", device_type)
    if name not in _state.dtype:
        raise RuntimeError("unsupported scalarType")
    return _state.dtype[name]


def set_autocast_dtype(device_type: str, dtype) -> None:
    """Set the dtype that autocast on ``device_type`` names (any dtype, as in torch)."""
    if not isinstance(device_type, str):  # torch checks both types before the device
        raise _type_error("set_autocast_dtype", "device_type", 1, "str", device_type)
    _check_dtype("set_autocast_dtype", dtype, 2)
    _state.dtype[_device_type("set_autocast_dtype", device_type)] = dtype


def is_autocast_enabled(device_type: str = _UNSET) -> bool:
    """Whether autocast is on for ``device_type``; without an argument, for "cuda" (torch's
    legacy meaning).

    Raises:
        TypeError: a ``device_type`` that is not a str (None included, as in torch).
        RuntimeError: a device type without autocast ("meta").
    """
    if device_type is _UNSET:
        return _state.enabled.get("cuda", False)
    return _state.enabled.get(_autocast_type("is_autocast_enabled", device_type), False)


def set_autocast_enabled(device_type: str, enabled: bool = _UNSET) -> None:
    """``set_autocast_enabled(device_type, enabled)``, or ``set_autocast_enabled(enabled)`` for
    "cuda" (torch's legacy form). Only records the flag: ember never casts.

    Raises:
        TypeError: ``enabled`` not a bool, ``device_type`` not a str (torch's messages).
        RuntimeError: a device type without autocast ("meta").
    """
    if enabled is _UNSET:
        _check_bool("set_autocast_enabled", device_type, 1)
        _state.enabled["cuda"] = device_type
        return
    if not isinstance(device_type, str):
        raise _type_error("set_autocast_enabled", "device_type", 1, "str", device_type)
    _check_bool("set_autocast_enabled", enabled, 2)
    _state.enabled[_autocast_type("set_autocast_enabled", device_type)] = enabled


def _deprecated(old, new):
    warnings.warn(f"torch.{old} is deprecated. Please use torch.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def _strict_bool(value):
    if not isinstance(value, bool):
        raise TypeError(f"enabled must be a bool (got {type(value).__name__})")


def _legacy(device_type):
    """The deprecated ``get/set_autocast_<device>_dtype`` and ``is/set_autocast_<device>_enabled``
    functions of one device type (torch's DeprecationWarning each call)."""
    def get_dtype():
        _deprecated(f"get_autocast_{short}_dtype()", f"get_autocast_dtype('{device_type}')")
        return _state.dtype[device_type]

    def set_dtype(dtype):
        if not isinstance(dtype, _dtype.dtype):
            raise TypeError(f"dtype must be a torch.dtype (got {type(dtype).__name__})")
        _deprecated(f"set_autocast_{short}_dtype(dtype)",
                    f"set_autocast_dtype('{device_type}', dtype)")
        _state.dtype[device_type] = dtype

    def is_enabled():
        _deprecated(f"is_autocast_{short}_enabled()", f"is_autocast_enabled('{device_type}')")
        return _state.enabled.get(device_type, False)

    def set_enabled(enabled):
        _strict_bool(enabled)
        _deprecated(f"set_autocast_{short}_enabled(enabled)",
                    f"set_autocast_enabled('{device_type}', enabled)")
        _state.enabled[device_type] = enabled

    short = "gpu" if device_type == "cuda" else device_type
    fns = {f"get_autocast_{short}_dtype": get_dtype, f"set_autocast_{short}_dtype": set_dtype,
           f"is_autocast_{short}_enabled": is_enabled,
           f"set_autocast_{short}_enabled": set_enabled}
    for name, fn in fns.items():
        fn.__name__ = fn.__qualname__ = name
        verb = "the dtype" if "dtype" in name else "whether autocast is on"
        action = "Set" if name.startswith("set") else "Return"
        fn.__doc__ = (f"{action} {verb} for {device_type!r} (deprecated in torch: use "
                      f"``{name.replace(f'_{short}', '')}('{device_type}', ...)``).")
    return fns


_LEGACY = {**_legacy("cpu"), **_legacy("ipu"), **_legacy("xla")}
_LEGACY.update({k: v for k, v in _legacy("cuda").items() if "dtype" in k})  # torch has no
# is/set_autocast_gpu_enabled: the one-argument is/set_autocast_enabled are CUDA's
globals().update(_LEGACY)


def is_autocast_cache_enabled() -> bool:
    """Whether autocast's cast cache is on (True unless turned off; ember has no cache)."""
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Turn autocast's cast cache flag on or off (ember has no cache: only the flag changes)."""
    _strict_bool(enabled)
    _state.cache_enabled = enabled


def clear_autocast_cache() -> None:
    """Empty autocast's cast cache: nothing to do in ember, which casts nothing."""


def autocast_increment_nesting() -> int:
    """Count one more open autocast region in this thread; return the new count."""
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting() -> int:
    """Count one autocast region less (may go below 0, as in torch); return the new count."""
    _state.nesting -= 1
    return _state.nesting


class autocast:  # noqa: N801  (torch spells it in lower case)
    """Mixed-precision region; ember computes at full precision inside it.

    Args:
        device_type: "cpu", "cuda" or another device type torch's autocast knows.
        dtype: the lower precision asked for; :func:`get_autocast_dtype` (bfloat16 on "cpu",
            float16 on "cuda") by default.
        enabled: False makes the region a no-op.
        cache_enabled: the cache flag inside the region (:func:`is_autocast_cache_enabled`
            by default); ember has no cast cache.

    Differs from PyTorch: no op is cast, so results equal those outside the region. On
    "cuda" the region disables itself with torch's warning (CUDA is not available); on
    other device types with a dtype other than bfloat16/float16 too. The state it sets
    (enabled flag, dtype, cache flag, nesting count) is torch's.

    Raises:
        ValueError: a ``device_type`` that is not a str.
        RuntimeError: a device type without autocast ("meta").
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = _device_type("autocast", device_type)
        if self.device not in _AUTOCAST_TYPES:
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{device_type}'")
        if self.device == "privateuseone":  # no backend registered a module for it
            raise AssertionError(
                "Tried to use AMP with the `privateuseone` backend, but the backend has not "
                "registered a module or  the module miss some necessary funcs. The backend "
                "should register a module by `torch._register_device_module`, and the module "
                "must have these funcs: \n`get_amp_supported_dtype() -> List[torch.dtype]`. \n")
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None \
            else cache_enabled
        if enabled and self.device == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          UserWarning, stacklevel=2)
            enabled = False
        elif enabled and not (isinstance(self.fast_dtype, _dtype.dtype)
                              and self.fast_dtype.name in ("bfloat16", "float16")):
            name = self.device.upper()
            warnings.warn(f"In {name} autocast, but the target dtype is not supported. "
                          f"Disabling autocast.\n{name} Autocast only supports dtypes of "
                          "torch.bfloat16, torch.float16 currently.", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = enabled

    def __enter__(self):
        if self._enabled and not _noted[0]:
            _noted[0] = True
            warnings.warn("ember.autocast: ops run at full precision (no mixed precision on "
                          "NumPy); results match a region without autocast.", UserWarning,
                          stacklevel=2)
        self.prev_cache_enabled = _state.cache_enabled
        self.prev = _state.enabled.get(self.device, False)
        self.prev_fastdtype = _state.dtype.get(self.device)
        _state.enabled[self.device] = bool(self._enabled)
        _state.dtype[self.device] = self.fast_dtype
        _state.nesting += 1
        _state.cache_enabled = bool(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc, tb):
        _state.nesting -= 1
        _state.enabled[self.device] = self.prev
        _state.dtype[self.device] = self.prev_fastdtype
        _state.cache_enabled = self.prev_cache_enabled
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


# the state functions torch has at top level (``torch.get_autocast_dtype`` ...)
STATE_FUNCTIONS = ("get_autocast_dtype", "set_autocast_dtype", "is_autocast_enabled",
                   "set_autocast_enabled", "is_autocast_cache_enabled",
                   "set_autocast_cache_enabled", "clear_autocast_cache",
                   "autocast_increment_nesting", "autocast_decrement_nesting", *_LEGACY)
