"""``index_reduce`` (rows of ``source`` folded into ``input`` at ``index`` by prod, mean, amax
or amin) and ``nonzero_static`` (``nonzero`` padded or cut to a fixed number of rows).

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).
"""
from __future__ import annotations

import warnings

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.function import Op
from ._shape_utils import type_name, wrap_dim

__all__ = ["index_reduce", "nonzero_static"]
TENSOR_METHODS: tuple[str, ...] = tuple(__all__)

_REDUCTIONS = ("prod", "mean", "amax", "amin")
_warned = [False]


def _rows(a: np.ndarray, dim: int) -> np.ndarray:
    """A view of ``a`` with ``dim`` first, so ``view[i]`` is row ``i`` along ``dim``."""
    return np.moveaxis(a, dim, 0)


def _reduce(x, src, index, dim, reduce, include_self):
    """The forward on arrays: a copy of ``x`` with the rows of ``src`` folded in."""
    out = np.array(x)
    rows, s = _rows(out, dim), _rows(src, dim)
    hit = np.unique(index)
    if reduce == "prod":
        if not include_self:
            rows[hit] = 1
        np.multiply.at(rows, index, s)
    elif reduce == "mean":
        count = np.zeros(rows.shape[:1] + (1,) * (rows.ndim - 1), np.int64)
        count[hit] = 1 if include_self else 0
        if not include_self:
            rows[hit] = 0
        np.add.at(rows, index, s)
        np.add.at(count, index, 1)
        count = np.maximum(count, 1)
        if out.dtype.kind == "f":
            rows /= count.astype(out.dtype)
        else:
            rows //= count.astype(out.dtype)
    else:
        if not include_self:
            start = (-np.inf if reduce == "amax" else np.inf) if out.dtype.kind == "f" else (
                np.iinfo(out.dtype).min if reduce == "amax" else np.iinfo(out.dtype).max)
            rows[hit] = start
        (np.maximum if reduce == "amax" else np.minimum).at(rows, index, s)
    return out


class IndexReduce(Op):
    """z = x with row ``index[i]`` along ``dim`` folded with ``src[i]`` (prod, mean, amax,
    amin); the gradients follow torch's ``index_reduce_backward``"""

    @staticmethod
    def forward(ctx, x, src, *, index, dim, reduce, include_self):
        out = _reduce(x, src, index, dim, reduce, include_self)
        ctx.save_for_backward(x, src, out)
        ctx.options = index, dim, reduce, include_self
        return out

    @staticmethod
    def backward(ctx, grad):
        x, src, out = ctx.saved_tensors
        index, dim, reduce, include_self = ctx.options
        g, gs = _rows(grad, dim), None
        if reduce == "prod":
            gx, gs = _prod_grads(_rows(x, dim), _rows(src, dim), g, index, include_self)
        elif reduce == "mean":
            n = np.full(g.shape[:1] + (1,) * (g.ndim - 1), 1 if include_self else 0, g.dtype)
            np.add.at(n, index, 1)
            n[n == 0] = 1
            gx, gs = g / n, g[index] / n[index]
        else:  # ties share the gradient, self counted even when not included (as torch)
            r = _rows(out, dim)
            self_is = (_rows(x, dim) == r).astype(g.dtype)
            src_is = (_rows(src, dim) == r[index]).astype(g.dtype)
            n = self_is.copy()
            np.add.at(n, index, src_is)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = g / n
            gx, gs = self_is * share, src_is * share[index]
        if not include_self:
            gx = np.array(gx)
            gx[np.unique(index)] = 0
        need = ctx.needs_input_grad
        return (np.moveaxis(gx, 0, dim).astype(grad.dtype) if need[0] else None,
                np.moveaxis(gs, 0, dim).astype(grad.dtype) if need[1] else None)


def _prod_grads(x, s, g, index, include_self):
    """Each factor's gradient is the product of the other factors of its row (zeros exact)."""
    zeros_src = np.zeros(x.shape, np.int64)
    np.add.at(zeros_src, index, (s == 0).astype(np.int64))
    nonzero_src = np.ones_like(x)
    np.multiply.at(nonzero_src, index, np.where(s == 0, 1, s))
    prod_src = np.where(zeros_src > 0, 0, nonzero_src)
    gx = g * prod_src
    own = x if include_self else np.ones_like(x)
    zeros = zeros_src + (own == 0)
    nonzero = nonzero_src * np.where(own == 0, 1, own)
    zi, nzi = zeros[index], nonzero[index]
    with np.errstate(divide="ignore", invalid="ignore"):
        others = np.where(s == 0, np.where(zi == 1, nzi, 0),
                          np.where(zi == 0, nzi / np.where(s == 0, 1, s), 0))
    return gx, g[index] * others


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy of ``input`` whose rows ``index[i]`` along ``dim`` are folded with
    ``source``'s row ``i`` by ``reduce`` ("prod", "mean", "amax" or "amin"), the input's own
    values taking part unless ``include_self`` is False. Integer means round down.

    Raises:
        RuntimeError: an unknown ``reduce``, an index that is not int32/int64, dtypes or
            shapes that do not fit.
        IndexError: an index out of range, or an index that is not a vector.
        NotImplementedError: a bool input.
    """
    if not _warned[0]:
        _warned[0] = True
        warnings.warn("index_reduce() is in beta and the API may change at any time.",
                      UserWarning, stacklevel=2)
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    x, idx, src = input._data, index._data, source._data
    if idx.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{type_name(idx.dtype)}")
    if idx.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: "
                         f"{idx.ndim} with type: {type_name(idx.dtype)} and size: "
                         f"{list(idx.shape)}")
    if x.dtype != src.dtype:
        raise RuntimeError(f"index_reduce_(): self ({type_name(x.dtype)}) and source "
                           f"({type_name(src.dtype)}) must have the same scalar type")
    d = wrap_dim(dim, x.ndim)
    if x.ndim != src.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, src.shape))
                                 if i != d):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(x.shape)} "
                           f"source.shape = {list(src.shape)}")
    if idx.size != src.shape[d]:
        raise RuntimeError(f"index_reduce_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({src.shape[d]}), for dim: {d}")
    if x.dtype == np.bool_:
        raise NotImplementedError("\"index_func_\" not implemented for 'Bool'")
    flat = idx.reshape(-1).astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= x.shape[d]):
        raise IndexError("index out of range in self")
    return IndexReduce.apply(input, source, index=flat, dim=d, reduce=reduce,
                             include_self=bool(include_self))


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero(input)`` with exactly ``size`` rows: the first ones, padded with rows of
    ``fill_value`` when there are fewer.

    Raises:
        RuntimeError: a negative ``size``.
    """
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    x = input._data
    found = np.argwhere(x).astype(np.int64) if x.ndim else np.zeros((int(bool(x)), 0), np.int64)
    out = np.full((int(size), x.ndim), fill_value, np.int64)
    k = min(len(found), int(size))
    out[:k] = found[:k]
    return _wrap(out)
