"""More reductions and statistics: torch functions that summarise values along dims.

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).

This file holds the NaN-aware reductions, ``aminmax``, the running max/min/logsumexp and
``scatter_reduce``; order statistics live in ``statistics_order.py``, distances, ``cross``
and covariance in ``statistics_pairs.py``, and counting (``unique``, ``bincount``) in
``statistics_sets.py``. ``statistics_pairs.linalg_cross`` is ``torch.linalg.cross``, for
whoever wires ``ember.linalg`` to export.
"""
from __future__ import annotations

import numpy as np

from .. import return_types
from .._tensor import Tensor, _wrap
from ..autograd.function import Op
from ._complex_pointwise import log_add_exp as _log_add_exp
from ._empty_reductions import float_proxy
from ._shape_utils import type_name, wrap_dim, wrap_dims
from .cumulative import scan_acc
from .statistics_order import median, mode, nanmedian, nanquantile, quantile
from .statistics_pairs import cdist, corrcoef, cov, cross, dist
from .statistics_sets import bincount, histc, unique, unique_consecutive

__all__ = ["nansum", "nanmean", "aminmax", "cummax", "cummin", "logcumsumexp",
           "scatter_reduce", "median", "nanmedian", "quantile", "nanquantile", "mode",
           "dist", "cdist", "cross", "cov", "corrcoef", "bincount", "histc", "unique",
           "unique_consecutive"]
TENSOR_METHODS: tuple[str, ...] = (
    "nansum", "nanmean", "aminmax", "cummax", "cummin", "logcumsumexp", "scatter_reduce",
    "median", "nanmedian", "quantile", "nanquantile", "mode", "dist", "cross", "cov",
    "corrcoef", "bincount", "histc", "unique", "unique_consecutive")


def _contiguous(a):
    """``a`` in C order; a 0-d array stays 0-d (``np.ascontiguousarray`` would make it 1-d)."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _reduced_axes(dim, ndim):
    """``dim`` as a tuple of axes, or None for all of them (``()``/``[]``/None; 0-d input)."""
    if dim is None or (not isinstance(dim, (int, np.integer)) and len(dim) == 0):
        return None
    axes = wrap_dims(dim, ndim)
    return None if ndim == 0 else axes


def _back_to_input(grad, x_shape, axes, keepdim):
    """``grad`` with the reduced axes put back as size 1 (it then broadcasts to ``x_shape``)."""
    if axes is None:
        return grad.reshape((1,) * len(x_shape))
    if keepdim:
        return grad
    return grad.reshape(tuple(1 if i in axes else s for i, s in enumerate(x_shape)))


# --- NaN-aware reductions -----------------------------------------------------------------
class Nansum(Op):
    """z = sum of the non-NaN x over ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False, dtype=None):
        axes = _reduced_axes(dim, x.ndim)
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim = axes, keepdim
        # the ufunc itself (not np.nansum), so that NumPy's float warnings are silenced
        xz = np.where(np.isnan(x), 0, x) if x.dtype.kind in "fc" else x
        if x.dtype == np.float16 and dtype is None:  # summed in float32, as torch
            out = np.add.reduce(xz, axis=axes, keepdims=keepdim, dtype=np.float32)
            with np.errstate(over="ignore"):
                return _contiguous(np.asarray(out).astype(np.float16))
        return _contiguous(np.asarray(np.add.reduce(xz, axis=axes, keepdims=keepdim,
                                                    dtype=dtype)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        g = _back_to_input(grad, x.shape, ctx.axes, ctx.keepdim)
        return np.where(np.isnan(x), 0, g).astype(grad.dtype)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` treating NaN as 0; integer and bool inputs sum to int64."""
    x = input._data
    if x.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")
    if dtype is not None:
        from .. import _dtype

        np_dtype = _dtype.convert(dtype).np
    else:
        np_dtype = np.int64 if x.dtype.kind in "biu" else None
    if x.dtype.kind != "f":  # integers hold no NaN and need no graph
        out = np.sum(x, axis=_reduced_axes(dim, x.ndim), keepdims=keepdim, dtype=np_dtype)
        return _wrap(_contiguous(out))
    if np_dtype is not None:
        input = input.to(dtype)
    return Nansum.apply(input, dim=dim, keepdim=keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-NaN values over ``dim`` (NaN where there are none)."""
    from .compare import logical_not
    from .elementwise import isnan
    from .reduce import sum as _sum

    if input._data.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")
    if input._data.dtype.kind != "f" and dtype is None:
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {type_name(input._data.dtype)}")
    factor = _sum(logical_not(isnan(input)), dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / factor


# --- aminmax ------------------------------------------------------------------------------
def _share(grad, x, value, axes, keepdim):
    """``grad`` shared equally among the elements of ``x`` equal to ``value``."""
    v = _back_to_input(value, x.shape, axes, keepdim)
    mask = x == v
    count = mask.sum(axis=axes, keepdims=True)
    return mask * (_back_to_input(grad, x.shape, axes, keepdim) / count)


class Aminmax(Op):
    """(min, max) of x over ``dim``; ties share each gradient equally"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False):
        axes = None if dim is None or x.ndim == 0 else (wrap_dim(dim, x.ndim),)
        if dim is not None and x.ndim == 0:
            wrap_dim(dim, 0)
        if x.size == 0:
            if dim is None:
                raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension "
                                   "as the operation has no identity.")
            if x.shape[axes[0]] == 0:
                raise IndexError(f"aminmax: Expected reduction dim {axes[0]} to have non-zero "
                                 "size.")
        lo = np.min(x, axis=axes, keepdims=keepdim)
        hi = np.max(x, axis=axes, keepdims=keepdim)
        lo, hi = _contiguous(lo), _contiguous(hi)
        ctx.save_for_backward(x, lo, hi)
        ctx.axes, ctx.keepdim = axes, keepdim
        return lo, hi

    @staticmethod
    def backward(ctx, glo, ghi):
        x, lo, hi = ctx.saved_tensors
        out = np.zeros(x.shape, (glo if glo is not None else ghi).dtype)
        if glo is not None:
            out += _share(glo, x, lo, ctx.axes, ctx.keepdim)
        if ghi is not None:
            out += _share(ghi, x, hi, ctx.axes, ctx.keepdim)
        return out


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over ``dim`` (all elements when None) in one call."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"aminmax(): argument 'dim' must be int, not {type(dim).__name__}")
    if input._data.dtype.kind == "c" and dim is not None and not input._data.ndim:
        raise RuntimeError(f"aminmax not implemented for {type_name(input._data.dtype)}")
    if input._data.dtype.kind == "c" and not input._data.size:  # torch checks shapes first
        float_proxy(aminmax, input, dim=dim, keepdim=keepdim)
    _no_complex("aminmax_cpu", input)
    if dim is None and keepdim and input._data.ndim:
        lo, hi = Aminmax.apply(input.reshape(-1), dim=0, keepdim=True)
        shape = (1,) * input._data.ndim
        return return_types.aminmax((lo.reshape(shape), hi.reshape(shape)))
    return return_types.aminmax(Aminmax.apply(input, dim=dim, keepdim=keepdim))


# --- running max / min / logsumexp ---------------------------------------------------------
def _scatter_add_along(shape, idx, grad, axis):
    """A zero array of ``shape`` with ``grad`` added at ``idx`` along ``axis`` (repeats add)."""
    g, i = np.moveaxis(grad, axis, -1), np.moveaxis(idx, axis, -1)
    n = g.shape[-1]
    rows = int(np.prod(g.shape[:-1], dtype=np.int64))
    flat = (i.reshape(rows, n) + (np.arange(rows) * n)[:, None]).ravel()
    out = np.bincount(flat, g.reshape(-1).astype(np.float64), rows * n)
    out = out.reshape(g.shape).astype(grad.dtype)
    return np.ascontiguousarray(np.moveaxis(out, -1, axis))


class Cummax(Op):
    """(values, indices) = running max (or min) along ``dim``; the gradient goes to the
    index each running value came from"""

    @staticmethod
    def forward(ctx, x, *, dim, largest=True):
        name = "cummax" if largest else "cummin"
        if not largest:
            ctx.show_as("CumminBackward0")
        ctx.x_shape = x.shape
        if x.ndim == 0:
            if dim not in (0, -1):
                raise IndexError(f"{name}(): Expected reduction dim -1 or 0 for scalar but got "
                                 f"{dim}")
            return x.copy(), np.zeros((), np.int64)
        axis = wrap_dim(dim, x.ndim)
        values = (np.maximum if largest else np.minimum).accumulate(x, axis=axis)
        # an element takes over when it ties the running value (torch's >= / <=) or is NaN
        took = x == values
        if x.dtype.kind == "f":
            took |= np.isnan(x)
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        pos = np.arange(x.shape[axis]).reshape(shape)
        idx = np.maximum.accumulate(np.where(took, pos, 0), axis=axis).astype(np.int64)
        ctx.axis = axis
        ctx.save_for_backward(idx)
        return np.ascontiguousarray(values), np.ascontiguousarray(idx)

    @staticmethod
    def backward(ctx, grad, grad_idx):
        if ctx.x_shape == ():
            return grad
        (idx,) = ctx.saved_tensors
        if grad.size == 0:
            return np.zeros(ctx.x_shape, grad.dtype)
        return _scatter_add_along(ctx.x_shape, idx, grad, ctx.axis)


def cummax(input, dim):
    """``(values, indices)``: the running maximum along ``dim`` and where it came from (the
    latest index on ties; NaN propagates)."""
    if input._data.ndim and input._data.size:  # torch returns 0-d and empty ones as is
        _no_complex("cummax_cpu", input)
    return return_types.cummax(Cummax.apply(input, dim=dim, largest=True))


def cummin(input, dim):
    """``(values, indices)``: the running minimum along ``dim`` (see ``cummax``)."""
    if input._data.ndim and input._data.size:  # torch returns 0-d and empty ones as is
        _no_complex("cummin_cpu", input)
    return return_types.cummin(Cummax.apply(input, dim=dim, largest=False))


def _no_complex(kernel, input):
    if input._data.dtype.kind == "c":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{type_name(input._data.dtype)}'")


def _logcumsumexp(a, axis):
    """The running log-sum-exp in torch's scan dtype (float64 for float32, float32 for
    float16), each value rounded back to ``a``'s dtype."""
    if a.dtype.kind == "c":
        return _complex_logcumsumexp(a, axis)
    acc = a.astype(scan_acc(a.dtype), copy=False)
    return np.logaddexp.accumulate(acc, axis=axis).astype(a.dtype, copy=False)


def _complex_logcumsumexp(a, axis):
    """The running complex log-sum-exp, accumulated left to right as torch does."""
    moved = np.moveaxis(a, axis, 0)
    out = np.empty_like(moved)
    if moved.shape[0]:
        acc = out[0] = moved[0]
        for k in range(1, moved.shape[0]):
            acc = out[k] = _log_add_exp(acc, moved[k])
    return np.moveaxis(out, 0, axis)


def _reverse_logcumsumexp(a, axis):
    return np.flip(_logcumsumexp(np.flip(a, axis), axis), axis)


class Logcumsumexp(Op):
    """z[k] = log(sum(exp(x[:k+1]))) along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim):
        axis = wrap_dim(dim, x.ndim)
        ctx.axis = axis
        out = x.copy() if x.ndim == 0 else np.ascontiguousarray(_logcumsumexp(x, axis))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if x.ndim == 0:
            return grad.copy()
        if x.dtype.kind == "c":  # the holomorphic formula, summed in complex log space
            with np.errstate(divide="ignore", invalid="ignore"):
                acc = _reverse_logcumsumexp(np.log(grad) - out, ctx.axis)
                return np.ascontiguousarray(np.exp(x + acc)).astype(grad.dtype, copy=False)
        # gx[k] = sum_j>=k grad[j] exp(x[k] - out[j]), summed in log space for each sign
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = _reverse_logcumsumexp(np.log(np.maximum(grad, 0)) - out, ctx.axis)
            neg = _reverse_logcumsumexp(np.log(np.maximum(-grad, 0)) - out, ctx.axis)
            gx = np.exp(x + pos) - np.exp(x + neg)
        return np.ascontiguousarray(gx).astype(grad.dtype, copy=False)


def logcumsumexp(input, dim):
    """log(cumsum(exp(x))) along ``dim``, computed stably; float and complex inputs, as in
    torch."""
    wrap_dim(dim, input._data.ndim)  # torch checks the dim first
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                  f"'{type_name(input._data.dtype)}'")
    return Logcumsumexp.apply(input, dim=dim)


# --- scatter_reduce ---------------------------------------------------------------------------
_REDUCES = {"sum": "sum", "prod": "prod", "mean": "mean", "amax": "amax", "amin": "amin",
            "max": "amax", "min": "amin"}  # torch still takes the old 'max' / 'min'


def _extreme(dtype, largest):
    """The identity of max (or min) for ``dtype``."""
    if dtype.kind == "f":
        return -np.inf if largest else np.inf
    if dtype == np.bool_:
        return not largest
    info = np.iinfo(dtype)
    return info.min if largest else info.max


class ScatterReduce(Op):
    """z = x with src reduced into it at ``index`` along ``dim`` (sum, prod, mean, amax,
    amin); ties of amax/amin share the gradient, prod's gradient is exact at zeros"""

    @staticmethod
    def forward(ctx, x, index, src, *, dim, reduce, include_self=True):
        coords = list(np.indices(index.shape, sparse=True))
        coords[dim] = index
        lin = np.ravel_multi_index(tuple(np.broadcast_arrays(*coords)), x.shape).ravel() \
            if index.size else np.zeros(0, np.int64)
        vals = src[tuple(slice(0, s) for s in index.shape)].ravel()
        out = x.reshape(-1).copy()
        hit = np.zeros(out.shape, bool)
        hit[lin] = True
        fresh = hit & (not include_self)  # positions that start from the reduction's identity
        count = None
        if reduce in ("sum", "mean"):
            out[fresh] = 0
            if out.dtype == np.float16:  # summed in float32, rounded once (torch)
                out = out.astype(np.float32)
            np.add.at(out, lin, vals)
            if reduce == "mean":
                count = np.bincount(lin, minlength=out.size) + (1 if include_self else 0)
                count = np.where(count == 0, 1, count)
                out = (out // count if out.dtype.kind in "iu" else out / count).astype(x.dtype)
        elif reduce == "prod":
            out[fresh] = 1
            np.multiply.at(out, lin, vals)
        else:
            out[fresh] = _extreme(x.dtype, reduce == "amax")
            (np.maximum if reduce == "amax" else np.minimum).at(out, lin, vals)
        out = out.astype(x.dtype, copy=False).reshape(x.shape)
        ctx.save_for_backward(x, vals, lin, hit, out)
        ctx.reduce, ctx.include_self, ctx.count = reduce, include_self, count
        ctx.index_shape, ctx.src_shape = index.shape, src.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        x, vals, lin, hit, out = ctx.saved_tensors
        g = grad.reshape(-1)
        own = ~hit | ctx.include_self  # where x itself took part in the reduction
        reduce, n = ctx.reduce, g.size
        if reduce == "sum":
            gx, gv = g, g[lin]
        elif reduce == "mean":
            scaled = g / ctx.count
            gx, gv = scaled, scaled[lin]
        elif reduce == "prod":
            xf = x.reshape(-1)
            zeros = np.where(own, xf == 0, False).astype(np.int64)
            zeros += np.bincount(lin, vals == 0, n).astype(np.int64)
            nonzero = np.where(own & (xf != 0), xf, 1).astype(grad.dtype)
            np.multiply.at(nonzero, lin, np.where(vals == 0, 1, vals).astype(grad.dtype))
            gx = g * _product_of_others(xf, zeros, nonzero)
            gv = g[lin] * _product_of_others(vals, zeros[lin], nonzero[lin])
        else:
            of = out.reshape(-1)
            xf = x.reshape(-1)
            tie_x = own & ((xf == of) | (np.isnan(xf) & np.isnan(of)))
            tie_v = (vals == of[lin]) | (np.isnan(vals) & np.isnan(of[lin]))
            count = tie_x + np.bincount(lin, tie_v, n)
            share = g / np.where(count == 0, 1, count)
            gx, gv = share * tie_x, share[lin] * tie_v
        gx = np.where(own, gx, 0).astype(grad.dtype).reshape(grad.shape)
        gsrc = None
        if ctx.needs_input_grad[2]:
            gsrc = np.zeros(ctx.src_shape, grad.dtype)
            gsrc[tuple(slice(0, s) for s in ctx.index_shape)] = gv.reshape(ctx.index_shape)
        return gx if ctx.needs_input_grad[0] else None, None, gsrc


def _product_of_others(v, zeros, nonzero):
    """For a contributor ``v`` to a product with ``zeros`` zero factors whose nonzero factors
    multiply to ``nonzero``: the product of the other factors, exact where ``v`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v == 0, np.where(zeros == 1, nonzero, 0),
                        np.where(zeros == 0, nonzero / np.where(v == 0, 1, v), 0))


def _check_scatter(x, dim, index, src, reduce):
    if not isinstance(index, Tensor) or index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if reduce not in _REDUCES:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    if x.dtype != src.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    idx = index._data
    d = wrap_dim(dim, x.ndim)
    if idx.ndim != x.ndim and not (idx.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if idx.ndim != src.ndim and not (idx.ndim <= 1 and src.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    xs, ss, js = x.shape or (1,), src.shape or (1,), idx.shape or (1,)
    if any(j > s for j, s in zip(js, ss)) or any(j > s for k, (j, s) in enumerate(zip(js, xs))
                                                 if k != d):
        raise RuntimeError(f"Expected index {list(js)} to be no larger than self {list(xs)} "
                           f"apart from dimension {d} and to be no larger size than src "
                           f"{list(ss)}")
    if idx.size and (idx.min() < 0 or idx.max() >= xs[d]):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {xs[d]}")
    return d


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with ``src`` reduced in at ``index`` along ``dim``.

    Args:
        reduce: 'sum', 'prod', 'mean', 'amax' or 'amin'. 'mean' of integers rounds down.
        include_self: whether ``input``'s own values at the scattered positions take part.
    """
    x = input._data
    d = _check_scatter(x, dim, index, src._data, reduce)
    if x.ndim == 0 or index._data.ndim == 0 or src._data.ndim == 0:  # work in 1-D
        out = ScatterReduce.apply(input.reshape(-1), index.reshape(-1), src.reshape(-1),
                                  dim=0, reduce=_REDUCES[reduce], include_self=include_self)
        return out.reshape(x.shape)
    return ScatterReduce.apply(input, index, src, dim=d, reduce=_REDUCES[reduce],
                               include_self=include_self)


def _scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place ``scatter_reduce``."""
    from .. import _inplace

    return _inplace.run(self, scatter_reduce, (dim, index, src, reduce),
                        {"include_self": include_self})


_scatter_reduce_.__name__ = "scatter_reduce"  # _inplace names the version bump after it
Tensor.scatter_reduce_ = _scatter_reduce_
