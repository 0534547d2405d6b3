"""Tensor creation: from data, filled, ranges, and random."""
from __future__ import annotations

import math

import numpy as np

from . import _dtype
from ._backend import check_device
from ._random import _rng
from ._tensor import Tensor, _wrap


def _np_dtype(dtype, default=None):
    if dtype is None:
        return default if default is not None else _dtype.get_default_dtype().np
    return _dtype.convert(dtype).np


def _finish(arr, requires_grad, device=None):
    check_device(device)
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_array(data):
    """NumPy array for nested data, with torch's dtype inference."""
    if isinstance(data, Tensor):
        return data._data.copy()
    if isinstance(data, np.ndarray):
        return np.array(data, copy=True)
    if isinstance(data, (list, tuple)) and data and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _untensor(data)
    arr = np.array(data)
    if arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(_first_bad(data)).__name__}")
    if arr.dtype.kind == "f" and not _has_numpy_floats(data):
        arr = arr.astype(_dtype.get_default_dtype().np)
    elif arr.dtype.kind in "iu" and arr.dtype != np.uint8:
        arr = arr.astype(np.int64)
    elif arr.dtype.kind in "US":
        raise TypeError(f"new(): invalid data type '{arr.dtype.kind == 'U' and 'str'}'")
    elif arr.dtype.kind == "c":
        raise TypeError("ember has no complex dtypes")
    return arr


def _flat(data):
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
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


def _has_numpy_floats(data):
    if isinstance(data, np.floating):
        return data.dtype != np.float32 or True
    return False


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors).

    Python floats become the default dtype (float32), ints int64, bools bool; NumPy arrays
    keep their dtype.
    """
    arr = _infer_array(data)
    if dtype is not None:
        arr = arr.astype(_np_dtype(dtype), copy=False)
    return _finish(arr, requires_grad, device)


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


asarray = as_tensor


def from_numpy(ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray`` (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy(ndarray.dtype)
    return _wrap(ndarray)


def _rebuild(arr, requires_grad):
    return _finish(arr, requires_grad)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    elif len(size) == 1 and isinstance(size[0], Tensor):
        size = tuple(size[0].tolist())
    out = []
    for s in size:
        if not isinstance(s, (int, np.integer)) and not (isinstance(s, Tensor) and s.numel() == 1):
            raise TypeError(f"empty(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__}")
        s = int(s)
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{[int(x) for x in size]}")
        out.append(s)
    return tuple(out)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor of zeros (written into ``out``, resized, when given)."""
    if out is not None:
        return _into_out("zeros", np.zeros, size, dtype, device, requires_grad, out)
    return _finish(np.zeros(_size(size), _np_dtype(dtype)), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor of ones (written into ``out``, resized, when given)."""
    if out is not None:
        return _into_out("ones", np.ones, size, dtype, device, requires_grad, out)
    return _finish(np.ones(_size(size), _np_dtype(dtype)), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None, out=None):
    """An uninitialised tensor (``out``, resized, when given)."""
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
    _write_out(f"aten::{name}", _wrap(make(_size(size), out_dtype)), out, warn_resize=False)
    if requires_grad:
        out.requires_grad_(True)
    return out


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor filled with ``fill_value`` (dtype inferred from it when not given)."""
    if dtype is None:
        dtype = _dtype.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor)
                                    else fill_value)
    size = _size((size,)) if isinstance(size, (tuple, list)) else _size((size,))
    return _finish(np.full(size, fill_value, _np_dtype(dtype)), requires_grad, device)


def _like(fn):
    def like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
        return fn(input.shape, dtype=dtype or input.dtype, device=device,
                  requires_grad=requires_grad)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with ``input``'s shape and dtype."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    """``full`` with ``input``'s shape and dtype."""
    return full(input.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform [0, 1) numbers with ``input``'s shape and dtype."""
    return rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad,
                generator=generator)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal numbers with ``input``'s shape and dtype."""
    return randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad,
                 generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, generator=None):
    """Random integers with ``input``'s shape."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, generator=generator)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (vals[1] - vals[0]) / vals[2] < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = _dtype.get_default_dtype() if any(isinstance(v, float) for v in vals) \
            else _dtype.int64
    n = math.ceil((vals[1] - vals[0]) / vals[2])
    arr = (vals[0] + np.arange(n, dtype=np.float64) * vals[2]) if _dtype.convert(
        dtype).is_floating_point else np.arange(vals[0], vals[1], vals[2])
    return _finish(arr.astype(_np_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _finish(np.linspace(start, end, steps).astype(_np_dtype(dtype)), requires_grad,
                   device)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """``steps`` values spaced evenly on a log scale."""
    return _finish(np.logspace(start, end, steps, base=base).astype(_np_dtype(dtype)),
                   requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """Identity matrix (n x m)."""
    return _finish(np.eye(n, m, dtype=_np_dtype(dtype)), requires_grad, device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """Indices of the lower triangle as a (2, n) tensor (int64 unless ``dtype`` says)."""
    return _wrap(np.stack(np.tril_indices(row, offset, col)).astype(
        _index_dtype("tril_indices", dtype, device)))


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """Indices of the upper triangle as a (2, n) tensor (int64 unless ``dtype`` says)."""
    return _wrap(np.stack(np.triu_indices(row, offset, col)).astype(
        _index_dtype("triu_indices", dtype, device)))


def _index_dtype(name, dtype, device):
    """The NumPy dtype of ``tril_indices``/``triu_indices``: int32 or int64, as in torch."""
    from .ops._shape_utils import type_name

    check_device(device)
    np_dtype = np.dtype(_np_dtype(dtype, np.int64))
    if np_dtype not in (np.int32, np.int64):
        raise NotImplementedError(f'"{name}" not implemented for \'{type_name(np_dtype)}\'')
    return np_dtype


# --- random ----------------------------------------------------------------------------
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform numbers in [0, 1)."""
    d = _np_dtype(dtype)
    arr = _rng(generator).random(_size(size), dtype=d if d in (np.float32, np.float64) else
                                 np.float64).astype(d, copy=False)
    return _finish(arr, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal numbers."""
    d = _np_dtype(dtype)
    arr = _rng(generator).standard_normal(
        _size(size), dtype=d if d in (np.float32, np.float64) else np.float64).astype(d,
                                                                                    copy=False)
    return _finish(arr, requires_grad, device)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Random integers in [low, high); int64 by default."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    arr = _rng(generator).integers(low, high, _size((size,)) if isinstance(size, (tuple, list))
                                   else _size((size,)))
    return _finish(arr.astype(_np_dtype(dtype, np.dtype(np.int64))), requires_grad, device)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64)."""
    arr = _rng(generator).permutation(int(n))
    return _finish(arr.astype(_np_dtype(dtype, np.dtype(np.int64))), requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Normal numbers; ``mean`` and ``std`` may be tensors (broadcast) or numbers with ``size``."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = _size((size,)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    ref = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    d = ref._data.dtype if ref is not None and dtype is None else _np_dtype(dtype)
    arr = _rng(generator).normal(m, s, shape).astype(d)
    return _finish(arr, requires_grad, device)


def bernoulli(input, p=None, *, generator=None):
    """0/1 draws with probabilities ``input`` (or ``p``)."""
    prob = input._data if p is None else np.full(input.shape, p)
    if np.any((prob < 0) | (prob > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    arr = (_rng(generator).random(prob.shape) < prob).astype(input._data.dtype)
    return _wrap(arr)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the rows of ``input`` (non-negative weights)."""
    p = input._data.astype(np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    rows = p.reshape(-1, p.shape[-1])
    if np.any(rows < 0) or not np.all(np.isfinite(rows)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    sums = rows.sum(axis=1, keepdims=True)
    if np.any(sums <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    n_cat = rows.shape[1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    rng = _rng(generator)
    rows = rows / sums
    if replacement:
        cdf = np.cumsum(rows, axis=1)
        cdf[:, -1] = 1.0
        u = rng.random((rows.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, uu, side="right") for c, uu in zip(cdf, u)])
        out = np.minimum(out, n_cat - 1)
    else:
        # Gumbel top-k: sampling without replacement in proportion to the weights
        with np.errstate(divide="ignore"):
            keys = np.log(rows) - np.log(-np.log(rng.random(rows.shape)))
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64)
    return _wrap(out.reshape(p.shape[:-1] + (num_samples,)))


def poisson(input, generator=None):
    """Poisson draws with rates ``input``."""
    return _wrap(_rng(generator).poisson(input._data).astype(input._data.dtype))
