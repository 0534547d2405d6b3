"""Tensor creation: from data, filled, ranges, and random."""
from __future__ import annotations

import math
import operator

import numpy as np

from . import _dtype
from ._backend import check_device
from ._layout import check_layout
from ._tensor import Tensor, _require_grad, _wrap


def _np_dtype(dtype, default=None):
    if dtype is None:
        return default if default is not None else _dtype.get_default_dtype().np
    return _dtype.convert(dtype).np


def _finish(arr, requires_grad, device=None):
    check_device(device)
    t = _wrap(arr)
    if requires_grad:
        _require_grad(t, _FACTORY_FLOAT_ONLY)
    return t


_FACTORY_FLOAT_ONLY = "Only Tensors of floating point and complex dtype can require gradients"


_C_NAMES = {"int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
            "uint8": "uint8_t", "float16": "c10::Half", "float32": "float", "float64": "double"}


def checked_value(value, np_dtype):
    """A Python number as a 0-d array of ``np_dtype``, converted as torch's C++ does: floats
    truncate to ints, negative ints wrap into unsigned types, and out-of-range values raise
    torch's overflow error (NumPy would wrap or give inf silently)."""
    dt = np.dtype(np_dtype)
    if isinstance(value, np.generic):
        value = value.item()
    if dt.kind == "b" or not isinstance(value, (int, float)) or isinstance(value, bool):
        if isinstance(value, complex) and dt.kind not in "bc" and value.imag:
            raise RuntimeError(f"value cannot be converted to type "
                               f"{_C_NAMES.get(dt.name, dt.name)} without overflow")
        return np.asarray(value.real if isinstance(value, complex) and dt.kind != "c"
                          else value).astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        ok = math.isfinite(value)
        if ok:
            v = int(value)
            ok = info.min <= v <= info.max or (dt.kind == "u" and -info.max <= v < 0)
        if ok:
            return np.asarray(v, np.int64).astype(dt)  # two's complement wrap for unsigned
    elif not math.isfinite(value) or abs(value) <= float(np.finfo(dt).max):
        return np.asarray(value, dt)
    raise RuntimeError(f"value cannot be converted to type {_C_NAMES.get(dt.name, dt.name)} "
                       "without overflow")


def _infer_array(data, float_dtype=None, target=None):
    """NumPy array for nested data, with torch's dtype inference (Python floats become
    ``float_dtype``, by default the default dtype: a caller that casts afterwards asks for
    float64, so that ``tensor([0.1], dtype=float64)`` is not rounded through float32).
    ``target``: the NumPy dtype the caller casts to (it only picks torch's error messages)."""
    if isinstance(data, Tensor):
        return data._data.copy()
    if isinstance(data, np.ndarray):
        return np.array(data, copy=True)
    given = data
    if isinstance(data, (list, tuple)) and data and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _untensor(data)
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    try:
        arr = np.array(data)
    except ValueError:
        # torch reads a one-element tensor where a scalar belongs as that scalar
        fixed = _scalars_at(given, _raise_store_error(given, target))
        if given is data or any(isinstance(x, Tensor) for x in _flat(fixed)):
            raise ValueError(_ragged_message(data)) from None
        return _infer_array(fixed, float_dtype, target)
    if arr.dtype == object:
        if any(isinstance(x, int) for x in _flat(data)) and all(
                isinstance(x, (int, float, bool, np.generic)) for x in _flat(data)):
            raise ValueError("Overflow when unpacking long long")  # beyond 64 bits
        bad = type(_first_bad(data))
        if target is None:  # torch infers the dtype first, and fails there
            raise RuntimeError(f"Could not infer dtype of {bad.__name__}")
        raise TypeError(_bad_scalar_message(bad, target))
    if arr.dtype.kind in "US":
        # a str is a dimension where torch takes the sizes from, elsewhere a bad scalar
        _raise_store_error(data, target)
        bad = next(x for x in _flat(data) if isinstance(x, (str, bytes)))
        if target is not None:
            raise TypeError(_bad_scalar_message(type(bad), target))
        raise TypeError(f"new(): invalid data type '{type(bad).__name__}'")
    if arr.dtype == np.uint64 and not isinstance(data, np.generic):
        raise ValueError("Overflow when unpacking long long")  # Python ints of 2**63 and up
    if isinstance(data, np.generic):  # a NumPy scalar keeps its dtype
        return arr
    if isinstance(data, (list, tuple)) and any(isinstance(x, (np.generic, np.ndarray))
                                               for x in _flat(data)):
        # dtype= given: keep NumPy's float64 (no rounding Python floats through float32)
        want = target if target is not None else _scalars_dtype(data).np
        if want.kind in "iu" and any(isinstance(x, np.bool_) for x in _flat(data)):
            # torch stores each item with __index__, which NumPy bools lack
            raise TypeError("'numpy.bool' object cannot be interpreted as an integer")
        return arr if float_dtype is not None else arr.astype(want)
    if arr.dtype.kind == "f":
        arr = arr.astype(float_dtype or _dtype.get_default_dtype().np)
    elif arr.dtype.kind == "c":  # Python complex numbers: the default dtype's complex twin
        arr = arr.astype(np.complex128 if float_dtype is not None else
                         _dtype.default_complex().np)
    elif arr.dtype.kind in "iu" and arr.dtype != np.uint8:
        arr = arr.astype(np.int64)
    return arr


def _scalars_dtype(data):
    """torch's dtype for nested numbers with NumPy scalars among them: NumPy scalars keep their
    dtype, Python bools/ints/floats count as bool/int64/default float, all promoted together."""
    out = None
    for x in _flat(data):
        if isinstance(x, (np.generic, np.ndarray)):
            d = _dtype.from_numpy(x.dtype)
        elif isinstance(x, bool):
            d = _dtype.bool_
        else:
            d = _dtype.scalar_dtype(x)
        out = d if out is None else _dtype.promote_types(out, d)
    return out


def _bad_scalar_message(t: type, target) -> str:
    """torch's TypeError for a ``t`` where it stores a scalar of dtype ``target``."""
    heap = t.__flags__ & (1 << 9) or t.__module__ == "builtins"  # CPython's tp_name
    name = t.__name__ if heap else f"{t.__module__}.{t.__name__}"
    if target.kind in "fc":
        return f"must be real number, not {name}"
    return f"'{name}' object cannot be interpreted as an integer"


def _scalars_at(data, depth):
    """``data`` with the tensors ``depth`` levels down as 0-d arrays (torch's scalars)."""
    if isinstance(data, Tensor) and depth == 0:
        return data._data.reshape(())
    return ([_scalars_at(x, depth - 1) for x in data]
            if isinstance(data, (list, tuple)) and depth > 0 else data)


def _raise_store_error(data, target) -> int:
    """Raise torch's error for nested data that is not rectangular, if it has one: torch
    takes the sizes from the first element at each level, infers the dtype from every
    scalar (unless given), then stores each element into that shape, depth first; else
    return the depth of the scalars."""
    sizes, x = [], data
    while isinstance(x, (list, tuple)):
        sizes.append(len(x))
        x = x[0] if x else None
    if isinstance(x, str):
        raise ValueError("too many dimensions 'str'")
    if target is None:  # torch infers the dtype from every scalar before storing any
        for v in _flat(data):
            if isinstance(v, (np.ndarray, np.generic)):
                _dtype.from_numpy(v.dtype)
            elif isinstance(v, (str, bytes)):
                raise TypeError(f"new(): invalid data type '{type(v).__name__}'")
            elif not isinstance(v, (int, float, complex, Tensor)):
                raise RuntimeError(f"Could not infer dtype of {type(v).__name__}")
        kinds = {np.asarray(v._data if isinstance(v, Tensor) else v).dtype.kind
                 for v in _flat(data)}
        target = np.dtype(np.float64 if kinds & set("fc") else bool if kinds <= {"b"}
                          else np.int64)

    def store(obj, dim):
        if dim < len(sizes) and not isinstance(obj, (list, tuple, Tensor, np.ndarray)):
            raise TypeError("not a sequence")
        if dim < len(sizes) and (isinstance(obj, (list, tuple)) or obj.ndim):
            n = len(obj) if isinstance(obj, (list, tuple)) else obj.shape[0]  # tensors: rows
            if n != sizes[dim]:
                raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} "
                                 f"(got {n})")
            for item in obj:
                store(item, dim + 1)
        elif dim == len(sizes) and isinstance(obj, (list, tuple)):
            raise TypeError(_bad_scalar_message(type(obj), target))
        elif dim == len(sizes) and isinstance(obj, Tensor) and obj.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        elif dim == len(sizes) and isinstance(obj, np.ndarray) and obj.ndim:
            # torch reads it with __index__ / __float__: NumPy's own error
            operator.index(obj) if target.kind in "iub" else float(obj)
        elif isinstance(obj, np.bool_) and target.kind in "iu":
            raise TypeError("'numpy.bool' object cannot be interpreted as an integer")

    store(data, 0)
    return len(sizes)


def _ragged_message(data, dim=0):
    """torch's ValueError for nested sequences of unequal lengths."""
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (list, tuple)):
        n = len(data[0])
        for item in data:
            if isinstance(item, (list, tuple)) and len(item) != n:
                return f"expected sequence of length {n} at dim {dim + 1} (got {len(item)})"
        for item in data:
            msg = _ragged_message(item, dim + 1)
            if msg:
                return msg
    return None if dim else "expected a rectangular nested sequence"


def _flat(data):
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(reversed(x))  # first to last, as torch reads them
        else:
            yield x


def _first_bad(data):
    for x in _flat(data):
        if not isinstance(x, (int, float, bool, np.generic)):
            return x
    return data


def _untensor(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_untensor(x) for x in data]
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors).

    Python floats become the default dtype (float32), ints int64, bools bool; NumPy arrays
    keep their dtype.
    """
    to = None if dtype is None else np.dtype(_np_dtype(dtype))
    arr = _infer_array(data, None if dtype is None else np.float64, to)
    if dtype is not None:
        if arr.dtype.kind == "c" and to.kind != "c" and not isinstance(data, (Tensor, np.ndarray)):
            raise TypeError("must be real number, not complex")
        if to.kind in "iu" and not isinstance(data, (Tensor, np.ndarray)):
            _check_int_range(arr, to)  # Python numbers: torch's overflow error, not a wrap
        arr = arr.astype(to, copy=False)
    return _finish(arr, requires_grad, device)


def _check_int_range(arr, to):
    if not arr.size or arr.dtype.kind == "b":
        return
    info = np.iinfo(to)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, bool)
        vals = np.trunc(arr[~bad]) if arr.dtype.kind == "f" else arr
        low = -info.max if to.kind == "u" else info.min  # negatives wrap into unsigned types
    if bad.any() or vals.min() < low or vals.max() > info.max:
        raise RuntimeError(f"value cannot be converted to type {to.name} without overflow")


def as_tensor(data, dtype=None, device=None):
    """A tensor sharing memory with ``data`` when it is an ndarray or tensor of that dtype."""
    if isinstance(data, Tensor):
        if dtype is None or _np_dtype(dtype) == data._data.dtype:
            return data
        return data.to(dtype)
    if isinstance(data, np.ndarray):
        _dtype.from_numpy(data.dtype)
        if dtype is None or _np_dtype(dtype) == data.dtype:
            return _finish(data, False, device)
        return _finish(data.astype(_np_dtype(dtype)), False, device)
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``obj`` as a tensor, sharing memory when it can (``copy=True``: never; ``copy=False``:
    always, or ValueError)."""
    shares = isinstance(obj, (Tensor, np.ndarray))
    if copy is False:
        if not shares:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        have = obj._data.dtype if isinstance(obj, Tensor) else obj.dtype
        if dtype is not None and _np_dtype(dtype) != have:
            from .ops._shape_utils import type_name

            raise ValueError(f"can't alias tensor with dtype '{type_name(have)}' into dtype "
                             f"'{type_name(_np_dtype(dtype))}'.")
    if copy:
        data = obj._data if isinstance(obj, Tensor) else obj
        t = tensor(data, dtype=dtype, device=device)
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        if isinstance(obj, Tensor) and t is obj:
            t = t.detach()
        _finish(t._data, True)  # torch's error for a non-float dtype
        t.requires_grad_(True)
    return t


def from_numpy(ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray`` (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy(ndarray.dtype)
    return _wrap(ndarray)


def _rebuild(arr, requires_grad):
    return _finish(arr, requires_grad)


def _size(size, name="empty"):
    """``size`` (varargs, one sequence, or one Size/tensor) as a tuple of ints, with torch's
    errors."""
    sequence = len(size) == 1 and isinstance(size[0], (tuple, list))
    if sequence:
        size = tuple(size[0])
    elif len(size) == 1 and isinstance(size[0], Tensor) and size[0]._data.size != 1:
        raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                        "Tensor")
    out = []
    for s in size:
        if not isinstance(s, (int, np.integer)) and not (isinstance(s, Tensor) and s.numel() == 1):
            if not out and sequence:
                raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, "
                                f"but found element of type {type(s).__name__} at pos 0")
            if not out and len(size) > 1:  # torch's parser then reads size as one argument
                raise TypeError(f"{name}() takes 1 positional argument but {len(size)} were "
                                "given")
            if len(size) == 1:
                raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, "
                                f"not {type(s).__name__}")
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos "
                            f"{len(out) + 1} with error \"type must be tuple of ints,but got "
                            f"{type(s).__name__}\"")
        out.append(int(s))
    if any(s < 0 for s in out):
        if name == "zeros":  # torch's zeros checks the sizes in its own words
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        bad = next(s for s in out if s < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {out}")
    return tuple(out)


def _size_arg(size, kw):
    """The varargs size, or torch's ``size=`` keyword."""
    if kw is not None:
        if size:
            raise TypeError("size given both positionally and as size=")
        return (kw,)
    return size


def zeros(*size, dtype=None, layout=None, device=None, requires_grad=False, out=None,
          **kw):
    """A tensor of zeros (written into ``out``, resized, when given)."""
    if layout is not None:
        check_layout(layout)
    size = _size_arg(size, kw.pop("size", None))
    if out is not None:
        return _into_out("zeros", np.zeros, size, dtype, device, requires_grad, out)
    return _finish(np.zeros(_size(size, "zeros"), _np_dtype(dtype)), requires_grad, device)


def ones(*size, dtype=None, layout=None, device=None, requires_grad=False, out=None, **kw):
    """A tensor of ones (written into ``out``, resized, when given)."""
    if layout is not None:
        check_layout(layout)
    size = _size_arg(size, kw.pop("size", None))
    if out is not None:
        return _into_out("ones", np.ones, size, dtype, device, requires_grad, out)
    return _finish(np.ones(_size(size, "ones"), _np_dtype(dtype)), requires_grad, device)


def empty(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None, out=None, **kw):
    """An uninitialised tensor (``out``, resized, when given)."""
    if layout is not None:
        check_layout(layout)
    size = _size_arg(size, kw.pop("size", None))
    if out is not None:
        return _into_out("empty", np.empty, size, dtype, device, requires_grad, out)
    return _finish(np.empty(_size(size), _np_dtype(dtype)), requires_grad, device)


def _into_out(name, make, size, dtype, device, requires_grad, out):
    """torch's ``zeros(..., out=t)``: ``t`` takes the new values in its dtype, and keeps its
    memory where the size allows."""
    from ._compat import _write_out
    from .ops._shape_utils import type_name

    check_device(device)
    out_dtype = out._data.dtype
    if dtype is not None and _np_dtype(dtype) != out_dtype:
        raise RuntimeError(f"dtype {type_name(_np_dtype(dtype))} does not match dtype of out "
                           f"parameter ({type_name(out_dtype)})")
    _write_out(f"aten::{name}", _wrap(make(_size(size, name), out_dtype)), out,
               warn_resize=False)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _with_out(name, make, dtype, out):
    """``make(dtype)``, written into ``out`` (whose dtype it takes) when given."""
    if out is None:
        return make(dtype)
    from .ops._out import write_out

    return write_out(name, make(out.dtype if dtype is None else dtype), out)


def full(size, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
         out=None):
    """A tensor filled with ``fill_value`` (dtype inferred from it when not given)."""
    if layout is not None:
        check_layout(layout)
    if out is not None:
        return _with_out("full", lambda d: full(size, fill_value, dtype=d, device=device),
                         dtype, out)
    if isinstance(fill_value, (Tensor, np.generic)):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = _dtype.scalar_dtype(fill_value)
    if not isinstance(size, (tuple, list, Tensor)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    value = checked_value(fill_value, _np_dtype(dtype))
    return _finish(np.full(_size((size,), "full"), value), requires_grad, device)


def _like(fn):
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None):
        if layout is not None:
            check_layout(layout)
        return fn(input.shape, dtype=dtype or input.dtype, device=device,
                  requires_grad=requires_grad)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with ``input``'s shape and dtype."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    """``full`` with ``input``'s shape and dtype."""
    if layout is not None:
        check_layout(layout)
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad)


def arange(start=0, end=None, step=1, *, dtype=None, layout=None, device=None,
           requires_grad=False, out=None):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    if layout is not None:
        check_layout(layout)
    if out is not None:
        return _with_out("arange", lambda d: arange(start, end, step, dtype=d, device=device),
                         dtype, out)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        dtype = _dtype.get_default_dtype() if any(isinstance(v, float) for v in vals) \
            else _dtype.int64
    if _dtype.convert(dtype) is _dtype.bool_ or _dtype.convert(dtype).is_complex:
        from .ops._shape_utils import type_name

        raise NotImplementedError(f"\"arange_cpu\" not implemented for "
                                  f"'{type_name(_np_dtype(dtype))}'")
    if not _dtype.convert(dtype).is_floating_point:
        vals = [int(v) for v in vals]  # torch truncates the bounds to the integer dtype
        if vals[2] == 0:
            raise ValueError("step must be nonzero")
    if (vals[1] - vals[0]) / vals[2] < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = math.ceil((vals[1] - vals[0]) / vals[2])
    arr = (vals[0] + np.arange(n, dtype=np.float64) * vals[2]) if _dtype.convert(
        dtype).is_floating_point else np.arange(vals[0], vals[1], vals[2])
    return _finish(arr.astype(_np_dtype(dtype)), requires_grad, device)


def _spaced(name, steps, dtype):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if _dtype.convert(dtype or _dtype.get_default_dtype()) is _dtype.bool_:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")
    return _np_dtype(dtype)


def _bounds(start, end, np_dtype):
    """linspace/logspace bounds as numbers; an integer dtype truncates them first (torch)."""
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    if np.dtype(np_dtype).kind in "iu":
        start, end = int(start), int(end)
    return start, end


def linspace(start, end, steps, *, dtype=None, layout=None, device=None, requires_grad=False,
             out=None):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if layout is not None:
        check_layout(layout)
    if out is not None:
        return _with_out("linspace", lambda d: linspace(start, end, steps, dtype=d), dtype, out)
    d = _spaced("linspace", steps, dtype)
    start, end = _bounds(start, end, d)
    return _finish(np.linspace(start, end, steps).astype(d), requires_grad, device)


def logspace(start, end, steps, base=10.0, *, dtype=None, layout=None, device=None,
             requires_grad=False, out=None):
    """``steps`` values spaced evenly on a log scale."""
    if layout is not None:
        check_layout(layout)
    if out is not None:
        return _with_out("logspace", lambda d: logspace(start, end, steps, base, dtype=d),
                         dtype, out)
    d = _spaced("logspace", steps, dtype)
    start, end = _bounds(start, end, d)
    return _finish(np.logspace(start, end, steps, base=base).astype(d), requires_grad, device)


def eye(n, m=None, *, dtype=None, layout=None, device=None, requires_grad=False, out=None):
    """Identity matrix (n x m)."""
    if layout is not None:
        check_layout(layout)
    if out is not None:
        return _with_out("eye", lambda d: eye(n, m, dtype=d), dtype, out)
    for pos, name, v in ((1, "n", n), (2, "m", m)):
        if v is not None and not isinstance(v, (int, np.integer)):
            raise TypeError(f"eye(): argument '{name}' (position {pos}) must be int, not "
                            f"{type(v).__name__}")
        if v is not None and v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    return _finish(np.eye(n, m, dtype=_np_dtype(dtype)), requires_grad, device)


def tril_indices(row, col, offset=0, *, dtype=None, layout=None, device=None):
    """Indices of the lower triangle as a (2, n) tensor (int64 unless ``dtype`` says)."""
    if layout is not None:
        check_layout(layout)
    d = _index_dtype("tril_indices", dtype, device, row, col)
    return _wrap(np.stack(np.tril_indices(row, offset, col)).astype(d))


def triu_indices(row, col, offset=0, *, dtype=None, layout=None, device=None):
    """Indices of the upper triangle as a (2, n) tensor (int64 unless ``dtype`` says)."""
    if layout is not None:
        check_layout(layout)
    d = _index_dtype("triu_indices", dtype, device, row, col)
    return _wrap(np.stack(np.triu_indices(row, offset, col)).astype(d))


def _index_dtype(name, dtype, device, row, col):
    """The NumPy dtype of ``tril_indices``/``triu_indices``: int32 or int64, as in torch."""
    from .ops._shape_utils import type_name

    for label, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{label} must be non-negative, got{v}")  # sic: torch's spacing
    check_device(device)
    np_dtype = np.dtype(_np_dtype(dtype, np.int64))
    if np_dtype not in (np.int32, np.int64):
        raise NotImplementedError(f'"{name}" not implemented for \'{type_name(np_dtype)}\'')
    return np_dtype


from ._creation_random import (  # noqa: E402,F401  (the random half, in its own file)
    bernoulli,
    multinomial,
    normal,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
)
