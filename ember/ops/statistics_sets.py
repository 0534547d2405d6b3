"""Counting values: unique, unique_consecutive, bincount and histc (none differentiable)."""
from __future__ import annotations

import numpy as np

from .. import _arg_errors
from .._compat import histc
from .._tensor import Tensor, _wrap
from ._shape_utils import type_name, wrap_dim

__all__ = ["unique", "unique_consecutive", "bincount", "histc"]


def _results(out, inverse, counts, return_inverse, return_counts):
    """A tensor alone, or a tuple with the inverse and counts asked for (torch's shapes)."""
    if not (return_inverse or return_counts):
        return _wrap(out)
    result = [_wrap(out)]
    if return_inverse:
        result.append(_wrap(inverse.astype(np.int64)))
    if return_counts:
        result.append(_wrap(counts.astype(np.int64)))
    return tuple(result)


def _rows(x, dim):
    """``x`` with ``dim`` first and the rest flattened: one row per slice along ``dim``."""
    moved = np.moveaxis(x, dim, 0)
    return moved.reshape(moved.shape[0], int(np.prod(moved.shape[1:]))), moved.shape


def _check_empty_dims(shape, d):
    """torch's refusal of unique slices when a dim other than ``d`` is empty."""
    empty = list(shape).count(0)
    if shape[d] == 0 and empty > 1:
        raise RuntimeError("Number of zero sized dimensions is more than one, so unique cannot "
                           "be applied ")
    if shape[d] != 0 and empty:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct values (or slices along ``dim``) of ``input``, sorted.

    Returns the values alone, or a tuple adding ``inverse`` (where each element went: the
    input's shape, or ``(input.size(dim),)``) and ``counts`` when asked. NaNs stay distinct.
    ember always sorts, which torch's CPU kernel also does for ``sorted=False``. The result
    never requires grad (torch marks it but cannot differentiate it).
    """
    for arg, value in (("sorted", sorted), ("return_inverse", return_inverse),
                       ("return_counts", return_counts)):  # torch.unique passes them by name
        _arg_errors.check_bool("_unique2" if dim is None else "unique_dim", arg, None, value)
    x = input._data
    if x.dtype.kind == "c":
        raise NotImplementedError(f"\"unique\" not implemented for '{type_name(x.dtype)}'")
    if dim is None:
        out, inverse, counts = np.unique(x.reshape(-1), return_inverse=True, return_counts=True,
                                         equal_nan=False)
        return _results(out, inverse.reshape(x.shape), counts, return_inverse, return_counts)
    d = wrap_dim(dim, x.ndim)
    _check_empty_dims(x.shape, d)
    if x.shape[d] == 0:
        empty = np.zeros(0, np.int64)
        return _results(x.copy(), empty, empty, return_inverse, return_counts)
    rows, moved_shape = _rows(x, d)
    keys, inverse, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
    out = np.moveaxis(keys.reshape((keys.shape[0],) + moved_shape[1:]), 0, d)
    return _results(np.ascontiguousarray(out), inverse.reshape(-1), counts, return_inverse,
                    return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """``input`` with each run of equal consecutive values (or slices along ``dim``) kept
    once; the flattened input when ``dim`` is None. See ``unique`` for the extra outputs."""
    _arg_errors.check_bool("unique_consecutive", "return_inverse", None, return_inverse)
    _arg_errors.check_bool("unique_consecutive", "return_counts", None, return_counts)
    x = input._data
    if x.dtype.kind == "c":  # torch's kernels have no complex loops, even for no elements
        raise NotImplementedError(f"\"{'unique' if dim is None else 'unique_dim'}\" not "
                                  f"implemented for '{type_name(x.dtype)}'")
    if dim is None:
        rows, moved_shape, d = x.reshape(-1, 1), (x.size,), None
    else:
        d = wrap_dim(dim, x.ndim)
        _check_empty_dims(x.shape, d)
        rows, moved_shape = _rows(x, d)
    n = rows.shape[0]
    starts = np.ones(n, bool)
    if n > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, n))
    inverse = np.cumsum(starts) - 1
    if d is None:
        return _results(x.reshape(-1)[first], inverse.reshape(x.shape), counts, return_inverse,
                        return_counts)
    kept = rows[first].reshape((first.size,) + moved_shape[1:])
    return _results(np.ascontiguousarray(np.moveaxis(kept, 0, d)), inverse, counts,
                    return_inverse, return_counts)


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ... occurs in a 1-D non-negative integer tensor, or the sum
    of ``weights`` there (float32 weights stay float32, all others give float64).

    The result never requires grad (torch records a node that cannot backward).
    """
    if weights is not None:
        _arg_errors.check_tensors("bincount", input=input, weights=weights)
    x = input._data
    if x.dtype.kind not in "iu":
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{type_name(x.dtype)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if x.ndim == 1 and x.size == 0:
        return _wrap(np.zeros(minlength, np.int64))
    if x.ndim != 1 or x.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _wrap(np.bincount(x, minlength=minlength).astype(np.int64))
    w = weights._data if isinstance(weights, Tensor) else np.asarray(weights)
    if w.ndim != 1 or w.shape[0] != x.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dtype = np.float32 if w.dtype == np.float32 else np.float64
    return _wrap(np.bincount(x, w.astype(np.float64), minlength).astype(dtype))


histc = histc  # torch.histc, kept in ember/_compat.py; listed here to be a Tensor method too
