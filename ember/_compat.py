"""Small top-level functions that training scripts call on a CPU.

``compile`` (returns its argument unchanged), thread counts, the float32 matmul precision
flag, ``finfo``/``iinfo`` and ``histogram``/``histc``; plus torch's spellings of the
common functions (``out=``, ``axis``/``keepdims``), which ``ember/__init__`` and the
Tensor methods apply. None of them touches autograd.
"""
from __future__ import annotations

import builtins
import math
import os
import warnings

import numpy as np

from . import _dtype, return_types

__all__ = ["compile", "set_num_threads", "get_num_threads", "set_num_interop_threads",
           "get_num_interop_threads", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "finfo", "iinfo", "histogram", "histc",
           "is_autocast_enabled", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "set_deterministic_debug_mode", "get_deterministic_debug_mode", "get_default_device",
           "set_default_device"]


# --- compile ----------------------------------------------------------------------------------
_compile_noted = [False]


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None,  # noqa: A001
            options=None, name=None, disable=False, **kwargs):
    """torch.compile: returns ``model`` unchanged (ember has no compiler).

    The first call warns once that nothing was compiled. Called without ``model`` it
    returns a decorator, as torch does (``@torch.compile(mode="max-autotune")``).

    Returns:
        ``model`` itself, or a decorator that returns its argument.
    """
    if model is None:
        def decorator(fn):
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                           mode=mode, options=options, name=name, disable=disable)

        return decorator
    if not callable(model):
        raise RuntimeError(f"compile: expected a callable (a Module or a function), got "
                           f"{type(model).__name__}")
    if not _compile_noted[0] and not disable:
        _compile_noted[0] = True
        warnings.warn("ember.compile: ember has no compiler; the model runs eagerly, unchanged.",
                      UserWarning, stacklevel=2)
    return model


# --- threads ----------------------------------------------------------------------------------
_threads = {"intra": None, "inter": None, "limiter": None}


def _blas_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


def _check_thread_count(fn, n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise RuntimeError(f"{fn} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{fn} expects a positive integer")


def set_num_threads(int) -> None:  # noqa: A002  (torch's parameter name)
    """Set how many threads NumPy's BLAS uses (through threadpoolctl, when installed).

    Without threadpoolctl the number is only remembered, and ``get_num_threads`` returns it.

    Raises:
        RuntimeError: ``int`` is not a positive integer (torch's message).
    """
    n = int
    _check_thread_count("set_num_threads", n)
    _threads["intra"] = builtins.int(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    # The limiter applies at construction and stays in force until restored.
    _threads["limiter"] = threadpool_limits(limits=builtins.int(n), user_api="blas")


def get_num_threads() -> builtins.int:
    """Threads used for intra-op work: the BLAS thread count, else the CPU count."""
    if _threads["intra"] is not None:
        return _threads["intra"]
    return _blas_threads() or os.cpu_count() or 1


def set_num_interop_threads(int) -> None:  # noqa: A002
    """Remembered only: ember runs ops one after another on the calling thread."""
    _check_thread_count("set_num_interop_threads", int)
    _threads["inter"] = builtins.int(int)


def get_num_interop_threads() -> builtins.int:
    """The value given to ``set_num_interop_threads``, else the CPU count."""
    return _threads["inter"] or os.cpu_count() or 1


# --- float32 matmul precision -------------------------------------------------------------------
_matmul_precision = ["highest"]


def set_float32_matmul_precision(precision: str) -> None:
    """Remember the float32 matmul precision ("highest", "high" or "medium").

    NumPy always multiplies float32 at full precision, so this changes no result; it keeps
    ``get_float32_matmul_precision`` and ``backends.cuda.matmul.allow_tf32`` consistent as
    in torch. An unknown value warns and has no effect, like torch.

    Raises:
        RuntimeError: ``precision`` is not a str (torch's message).
    """
    if not isinstance(precision, str):
        from ._namespace_more import tp_name

        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{tp_name(precision)}")
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    """The value last set by ``set_float32_matmul_precision`` ("highest" at start)."""
    return _matmul_precision[0]


_deterministic = [False, False]  # mode, warn_only


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Remembered only: every ember op is already deterministic."""
    _deterministic[:] = [bool(mode), bool(warn_only)]


def are_deterministic_algorithms_enabled() -> bool:
    """The value given to ``use_deterministic_algorithms`` (False at start)."""
    return _deterministic[0]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """The ``warn_only`` given to ``use_deterministic_algorithms`` (False at start)."""
    return _deterministic[1]


def set_deterministic_debug_mode(debug_mode) -> None:
    """torch's other spelling: 0 / "default" off, 1 / "warn" warn only, 2 / "error" on."""
    names = {"default": 0, "warn": 1, "error": 2}
    if isinstance(debug_mode, str):
        if debug_mode not in names:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = names[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError("invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> builtins.int:
    """0 (off), 1 (warn only) or 2 (on), from ``use_deterministic_algorithms``."""
    return 0 if not _deterministic[0] else 1 if _deterministic[1] else 2


def get_default_device():
    """``device("cpu")``: the only device ember has."""
    from ._backend import CPU

    return CPU


def set_default_device(device) -> None:
    """Accepts the CPU (or None); another device raises as creating a tensor there does."""
    from ._backend import check_device

    check_device(device)


def is_autocast_enabled(*args, **kwargs) -> bool:
    """Whether an ``autocast`` region is active (see ``ember.amp.autocast_mode``)."""
    from .amp.autocast_mode import is_autocast_enabled

    return is_autocast_enabled(*args, **kwargs)


# --- finfo / iinfo ------------------------------------------------------------------------------
def _fmt(v) -> str:
    return f"{v:g}"


# bfloat16 has float32's exponent and an 8-bit significand; NumPy has no such type, so its
# limits are written out (ember stores bfloat16 tensors as float32).
_BF16 = dict(bits=16, eps=0.0078125, max=3.3895313892515355e38, tiny=1.1754943508222875e-38,
             resolution=0.01)


class finfo:  # noqa: N801  (torch spells it in lower case)
    """Machine limits of a floating-point dtype: ``bits``, ``eps``, ``max``, ``min``,
    ``tiny`` (= ``smallest_normal``), ``resolution`` and ``dtype`` (its name).

    Args:
        type: a floating-point dtype; the default dtype when omitted.

    Raises:
        TypeError: ``type`` is not a floating-point dtype.
    """

    def __init__(self, type=None):  # noqa: A002
        d = _dtype.get_default_dtype() if type is None else _dtype.convert(type)
        d = d.to_real()  # a complex dtype's limits are its parts' (torch's)
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo "
                            "to handle 'torch.finfo'")
        if d.name == "bfloat16":
            v = _BF16
        else:
            info = np.finfo(d.np)
            v = dict(bits=info.bits, eps=builtins.float(info.eps),
                     max=builtins.float(info.max), tiny=builtins.float(info.smallest_normal),
                     resolution=10.0 ** -info.precision)
        self.bits = v["bits"]
        self.eps = v["eps"]
        self.max = v["max"]
        self.min = -v["max"]
        self.tiny = self.smallest_normal = v["tiny"]
        self.resolution = v["resolution"]
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={_fmt(self.resolution)}, min={_fmt(self.min)}, "
                f"max={_fmt(self.max)}, eps={_fmt(self.eps)}, "
                f"smallest_normal={_fmt(self.smallest_normal)}, tiny={_fmt(self.tiny)}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801
    """Machine limits of an integer dtype: ``bits``, ``min``, ``max`` and ``dtype`` (its name).

    Raises:
        TypeError: ``type`` is bool or a floating-point dtype.
    """

    def __init__(self, type):  # noqa: A002
        d = _dtype.convert(type)
        if d.name == "bool":
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits = info.bits
        self.min = builtins.int(info.min)
        self.max = builtins.int(info.max)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={_fmt(self.min)}, max={_fmt(self.max)}, dtype={self.dtype})"


# --- histograms -------------------------------------------------------------------------------
def _check_bins(bins):
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")


def _range_text(v, derived_from_many):
    """A range end as torch's message prints it: C++'s ``%g``, and a NaN that the min/max
    reduction made over several values carries the sign bit (``-nan``)."""
    if math.isnan(v):
        return "-nan" if derived_from_many or math.copysign(1.0, v) < 0 else "nan"
    return f"{v:g}"


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):  # noqa: A002
    """Histogram of the values of a float tensor; mirrors ``torch.histogram``.

    Args:
        input: float tensor of any shape (flattened).
        bins: number of equal-width bins, or a 1-D tensor of increasing bin edges.
        range: ``(min, max)`` of the bins; the data's range when omitted.
        weight: optional tensor shaped like ``input``, each value's weight.
        density: normalise so the histogram integrates to 1.

    Returns:
        ``(hist, bin_edges)``, a named tuple of tensors with ``input``'s dtype.
    """
    from ._namespace_gaps_native import histogramdd
    from ._tensor import Tensor

    if not isinstance(bins, Tensor):
        _check_bins(bins)
    w = None if weight is None else weight.reshape(-1)
    hist, (bin_edges,) = histogramdd(input.reshape(-1, 1),
                                     [bins] if isinstance(bins, Tensor) else bins,
                                     range=range, weight=w, density=density)
    result = return_types.histogram((hist, bin_edges))
    if out is not None:
        from .ops._out import write_out

        return write_out("histogram", result, out, (input,))
    return result


def histc(input, bins=100, min=0, max=0, *, out=None):  # noqa: A002
    """Equal-width histogram; ``min == max`` uses the data's range. Mirrors ``torch.histc``."""
    from ._creation import tensor
    from .ops._shape_utils import type_name

    _check_bins(bins)
    x = input._data.reshape(-1)
    lo, hi = builtins.float(min), builtins.float(max)
    if x.dtype.kind == "c" and lo == hi and x.size:  # only a range taken from the data
        raise NotImplementedError(f"\"aminmax_cpu\" not implemented for '{type_name(x.dtype)}'")
    derived = lo == hi and x.size
    if derived:
        lo, hi = builtins.float(x.min()), builtins.float(x.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        many = derived and x.size > 1
        raise RuntimeError(f"torch.histc: range of [{_range_text(lo, many)}, "
                           f"{_range_text(hi, many)}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if x.dtype.kind in "iu":  # torch widens an empty range by 1 each side, then casts the ends
        info, ends = np.iinfo(x.dtype), (lo - 1, hi + 1) if lo == hi else (lo, hi)
        if not builtins.all(info.min <= e <= info.max for e in ends):
            raise RuntimeError(f"value cannot be converted to type {x.dtype.name}_t without "
                               "overflow")
    if x.dtype.kind != "f":  # bool fails on the bin edges' linspace, integers when counting
        kernel = "linspace_cpu" if x.dtype.kind == "b" else "histogram_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(x.dtype)}'")
    if lo == hi:  # a single value (or no data): NumPy centres a unit-wide range on it
        hist, _ = np.histogram(x, bins=bins)
    else:
        hist, _ = np.histogram(x[(x >= lo) & (x <= hi)], bins=bins, range=(lo, hi))
    result = tensor(hist.astype(x.dtype))
    if out is not None:
        return out.copy_(result)
    return result


# --- torch's spellings on the common functions ---------------------------------------------
# Functions whose torch twin takes ``out=`` but whose ember op does not; ``ember/__init__``
# exports wrapped versions (Tensor methods keep the unwrapped, faster ones).
_OUT_FUNCTIONS = frozenset("""
abs acos addcdiv addcmul amax amin argmax argmin bmm ceil clamp cos cumprod cumsum exp expm1
floor gather index_select lerp log log10 log1p log2 logsumexp masked_select maximum minimum
mean mm neg norm pow prod reciprocal remainder round rsqrt sigmoid sign sin sqrt square std
sum tan tanh trunc var where floor_divide fmod atan2 arctan2 hypot xlogy copysign nextafter
ldexp heaviside gcd lcm logaddexp logaddexp2 bitwise_and bitwise_or bitwise_xor
bitwise_left_shift bitwise_right_shift clamp_min clamp_max float_power
angle frac nansum signbit nan_to_num sgn bitwise_not exp2 msort median aminmax
""".split())
# Functions taking ``dim``/``keepdim`` that torch also lets you spell ``axis``/``keepdims``
# (NumPy's names: ``x.max(axis=1)`` and ``x.std(1, keepdims=True)`` run under torch).
DIM_FUNCTIONS = frozenset("""
all amax amin any argmax argmin argsort count_nonzero cumprod cumsum log_softmax logsumexp
max mean min prod softmax sort squeeze std sum topk unbind unsqueeze var stack
""".split())


def torch_kwargs(kwargs: dict) -> dict:
    """``kwargs`` with torch's NumPy-style aliases renamed: axis -> dim, keepdims -> keepdim.

    Raises:
        TypeError: both a name and its alias were given.
    """
    kwargs = dict(kwargs)
    for alias, name in (("axis", "dim"), ("keepdims", "keepdim")):
        if alias in kwargs:
            if name in kwargs:
                raise TypeError(f"got both {name!r} and its alias {alias!r}")
            kwargs[name] = kwargs.pop(alias)
    return kwargs


def _write_out(name, result, out, inputs=(), warn_resize=True):
    """Copy ``result`` into ``out``'s memory as torch does: no autograd, torch's overlap and
    cast checks, and a resize (with torch's warning) when the shapes differ."""
    from . import _inplace
    from .autograd import grad_mode

    if (result._rg or out._rg) and grad_mode.state.enabled:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    _inplace.check_internal_overlap(out._data)
    _inplace.check_no_partial_overlap(out._data, inputs)
    _inplace.check_out(name, out, result._data, inputs)  # torch's shape, then dtype errors
    if out._data.shape != result._data.shape:
        if out._data.size and warn_resize:
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out._data.shape)}, which does not match the required output "
                          f"shape {list(result._data.shape)}. This behavior is deprecated, and "
                          "in a future PyTorch release outputs will not be resized unless they "
                          "have zero elements. You can explicitly reuse an out tensor t by "
                          "resizing it, inplace, to zero elements with t.resize_(0).",
                          UserWarning, stacklevel=3)
        if out._data.size == result._data.size and out._data.flags.c_contiguous:
            out._data = out._data.reshape(result._data.shape)  # the same memory, as torch
        else:
            out._data = np.empty(result._data.shape, out._data.dtype)  # torch resizes ``out``
    _inplace.assign(out, result._data)
    out._bump()
    return out


def _torch_spelling(fn, takes_out: bool, takes_dim: bool):
    import functools
    import inspect

    writes_out = "out" in inspect.signature(fn).parameters  # fn handles ``out=`` itself

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if takes_dim and ("axis" in kwargs or "keepdims" in kwargs):
            kwargs = torch_kwargs(kwargs)
        if writes_out:
            return fn(*args, out=out, **kwargs)
        if out is not None and not takes_out:
            raise TypeError(f"{fn.__name__}() got an unexpected keyword argument 'out'")
        if out is not None:
            from . import _inplace

            kwargs = _inplace.out_options(fn.__name__, args, kwargs, out)
        try:
            result = fn(*args, **kwargs)
        except (NotImplementedError, RuntimeError) as e:  # torch checks ``out`` first
            if out is None:
                raise
            raise _inplace.out_kernel_error(fn, out, args, e) from e.__cause__
        if out is None:
            return result
        if isinstance(result, tuple):  # (values, indices) into a tuple ``out``
            from .ops._out import write_out

            return write_out(fn.__name__, result, out, args)
        return _write_out(fn.__name__, result, out, args)

    return wrapper


def out_variants() -> dict:
    """``{name: function}`` for ``ember/__init__``: the ops of ``_OUT_FUNCTIONS`` accepting
    ``out=`` and those of ``DIM_FUNCTIONS`` accepting ``axis``/``keepdims``."""
    from . import ops

    return {name: _torch_spelling(getattr(ops, name), name in _OUT_FUNCTIONS,
                                  name in DIM_FUNCTIONS)
            for name in sorted(_OUT_FUNCTIONS | DIM_FUNCTIONS) if hasattr(ops, name)}
