"""Order statistics: median, nanmedian, quantile, nanquantile and mode.

Where values tie, the conventions are torch's: ``median(x)`` and ``nanmedian(x)`` share the
gradient among the elements equal to the result; with ``dim`` the chosen index is the one
a stable sort puts at the median's position (the lower median, NaN sorting last), and the
whole gradient goes there. ``quantile`` interpolates between stably sorted neighbours, so
its gradient reaches those two elements. ``mode`` picks the most frequent value (the
smallest on a tie in counts) and the last index holding it.
"""
from __future__ import annotations

import numpy as np

from .. import return_types
from .._tensor import Tensor
from ..autograd.function import Op
from ._shape_utils import type_name, wrap_dim

__all__ = ["median", "nanmedian", "quantile", "nanquantile", "mode"]
TENSOR_METHODS = ("median", "nanmedian", "quantile", "nanquantile", "mode")


def _to_last(x, axis):
    """``x`` with ``axis`` moved last."""
    return np.moveaxis(x, axis, -1)


def _put_at(x_shape, idx, grad, axis, keepdim):
    """A zero array of ``x_shape`` with ``grad`` written at ``idx`` along ``axis``."""
    g = grad if keepdim else np.expand_dims(grad, axis)
    out = np.zeros(x_shape, grad.dtype)
    np.put_along_axis(out, idx if keepdim else np.expand_dims(idx, axis), g, axis)
    return out


class MedianAll(Op):
    """z = the lower median of all elements; ties share the gradient equally"""

    _backward_name = "MedianBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, ignore_nan=False):
        if ignore_nan:
            ctx.show_as("NanmedianBackward0")
        flat = x.reshape(-1)
        nan = np.isnan(flat) if x.dtype.kind == "f" else np.zeros(flat.shape, bool)
        if flat.size == 0:
            out = np.asarray(_empty_median(x.dtype), x.dtype)
        elif nan.any() and not ignore_nan:
            out = np.asarray(np.nan, x.dtype)
        else:
            valid = flat[~nan]
            if valid.size == 0:
                out = np.asarray(np.nan, x.dtype)
            else:
                k = (valid.size - 1) // 2
                out = np.asarray(np.partition(valid, k)[k])
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        mask = np.isnan(x) if np.isnan(out) else x == out
        return (mask * (grad / mask.sum())).astype(grad.dtype)


class MedianDim(Op):
    """(values, indices) = the lower median along ``dim``; the gradient goes to the index"""

    _backward_name = "MedianBackward1"  # torch's name

    @staticmethod
    def forward(ctx, x, *, dim, keepdim=False, ignore_nan=False):
        if ignore_nan:
            ctx.show_as("NanmedianBackward1")
        ctx.x_shape = x.shape
        if x.ndim == 0:
            return x.copy(), np.zeros((), np.int64)
        axis = wrap_dim(dim, x.ndim)
        n = x.shape[axis]
        if n == 0:
            raise IndexError(f"median(): Expected reduction dim {axis} to have non-zero size.")
        order = np.argsort(x, axis=axis, kind="stable")  # NaN sorts last, as in torch
        nans = (np.isnan(x).sum(axis=axis, keepdims=True) if x.dtype.kind == "f"
                else np.zeros(x.shape[:axis] + (1,) + x.shape[axis + 1:], np.int64))
        if ignore_nan:
            k = np.maximum(n - nans - 1, 0) // 2  # C++ rounds -1 // 2 to 0 for all-NaN rows
        else:  # a row holding NaN gives its first NaN
            k = np.where(nans > 0, n - nans, (n - 1) // 2)
        idx = np.take_along_axis(order, k, axis)
        values = np.take_along_axis(x, idx, axis)
        ctx.axis, ctx.keepdim = axis, keepdim
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        idx = idx.astype(np.int64)
        ctx.save_for_backward(idx)
        return values, idx

    @staticmethod
    def backward(ctx, grad, grad_idx):
        if ctx.x_shape == ():
            return grad
        (idx,) = ctx.saved_tensors
        return _put_at(ctx.x_shape, idx, grad, ctx.axis, ctx.keepdim)


def _empty_median(dtype):
    """torch's median of no elements: NaN cast to ``dtype`` the way its kernel does (NaN
    becomes INT_MIN as a 32-bit int, truncated to narrower ints; True as a bool)."""
    if dtype.kind in "fcb":
        return np.nan if dtype.kind != "b" else True
    return 0 if dtype.itemsize <= 2 else np.iinfo(dtype).min


def _median_dtype_check(input, kernel):
    if input._data.dtype.kind in "bc":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{type_name(input._data.dtype)}'")


def median(input, dim=None, keepdim=False):
    """The lower median of all elements, or ``(values, indices)`` along ``dim``.

    NaN propagates: a row holding NaN has median NaN, at its first NaN's index.
    """
    if dim is None:
        if input._data.size:  # torch fills an empty input's median before it checks dtypes
            _median_dtype_check(input, "median_cpu")
        return MedianAll.apply(input)
    x = input._data
    axis = wrap_dim(dim, x.ndim)  # torch checks the dim and its size first
    if not x.ndim or x.shape[axis]:
        _median_dtype_check(input, "median_out")
    return return_types.median(MedianDim.apply(input, dim=dim, keepdim=keepdim))


def nanmedian(input, dim=None, keepdim=False):
    """``median`` ignoring NaN (NaN only where every value is NaN)."""
    if dim is None:
        if input._data.size:  # torch fills an empty input's median before it checks dtypes
            _median_dtype_check(input, "median_cpu")
        return MedianAll.apply(input, ignore_nan=True)
    x = input._data
    axis = wrap_dim(dim, x.ndim)  # torch checks the dim and its size first
    if not x.ndim or x.shape[axis]:
        _median_dtype_check(input, "median_out")
    return return_types.nanmedian(MedianDim.apply(input, dim=dim, keepdim=keepdim, ignore_nan=True))


# --- quantile ------------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _lerp(a, b, w):
    """torch's CPU lerp (exact at both ends)."""
    return np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))


class Quantile(Op):
    """z = sorted(x)[below] + w * (sorted(x)[above] - sorted(x)[below]) at rank q * (n - 1)"""

    @staticmethod
    def forward(ctx, x, *, q, dim, keepdim, scalar_q, interpolation, ignore_nan):
        ctx.x_shape = x.shape
        if dim is None:
            rows = x.reshape(1, -1)
            axis = None
        else:
            axis = wrap_dim(dim, x.ndim) if x.ndim else 0
            xs = x.reshape(1) if x.ndim == 0 else x
            rows = _to_last(xs, axis)
            rows = rows.reshape(-1, rows.shape[-1])
        n = rows.shape[-1]
        order = np.argsort(rows, axis=-1, kind="stable")  # NaN last, as torch sorts
        srt = np.take_along_axis(rows, order, -1)
        nan = np.isnan(srt)
        qs = q.astype(x.dtype)[None, :]  # (1, nq); ranks in the input's dtype, as torch
        if ignore_nan:
            ranks = qs * ((~nan).sum(-1, keepdims=True) - 1).astype(x.dtype)
            ranks = np.where(ranks < 0, 0, ranks).astype(x.dtype)
        else:
            ranks = np.where(nan.any(-1, keepdims=True), x.dtype.type(n - 1),
                             qs * x.dtype.type(n - 1)).astype(x.dtype)
        if interpolation == "lower":
            ranks = np.floor(ranks)
        elif interpolation == "higher":
            ranks = np.ceil(ranks)
        elif interpolation == "nearest":
            ranks = np.round(ranks)  # half to even, as torch's round
        below = ranks.astype(np.int64)
        above = np.ceil(ranks).astype(np.int64)
        if interpolation == "linear":
            w = (ranks - below).astype(x.dtype)
        elif interpolation == "midpoint":
            w = np.full(ranks.shape, 0.5, x.dtype)
        else:
            w, above = np.zeros(ranks.shape, x.dtype), below
        lo, hi = np.take_along_axis(srt, below, -1), np.take_along_axis(srt, above, -1)
        out = _lerp(lo, hi, w).astype(x.dtype)  # (rows, nq)
        ctx.save_for_backward(order, below, above, w)
        ctx.axis, ctx.keepdim, ctx.scalar_q = axis, keepdim, scalar_q
        # reshape (rows, nq) to (nq, *reduced shape)
        if axis is None:
            red = (1,) * x.ndim if keepdim else ()
        else:
            moved = list(x.shape) if x.ndim else [1]
            moved.pop(axis)
            red = tuple(moved)
            if keepdim:
                red = red[:axis] + (1,) + red[axis:]
            if x.ndim == 0 and not keepdim:
                red = ()
        ctx.red = red
        result = np.ascontiguousarray(out.T).reshape((out.shape[1],) + red)
        return result[0] if scalar_q else result

    @staticmethod
    def backward(ctx, grad):
        order, below, above, w = ctx.saved_tensors
        nrows, n = order.shape
        g = grad.reshape((1 if ctx.scalar_q else grad.shape[0], nrows)).T  # (rows, nq)
        offsets = (np.arange(nrows) * n)[:, None]
        gs = np.bincount((below + offsets).ravel(), (g * (1 - w)).ravel(), nrows * n)
        gs += np.bincount((above + offsets).ravel(), (g * w).ravel(), nrows * n)
        gsorted = gs.reshape(nrows, n).astype(grad.dtype)
        grows = np.empty_like(gsorted)
        np.put_along_axis(grows, order, gsorted, -1)
        shape = ctx.x_shape
        if ctx.axis is None:
            return grows.reshape(shape)
        xs_shape = shape if shape else (1,)
        moved = tuple(np.delete(xs_shape, ctx.axis)) + (xs_shape[ctx.axis],)
        return np.ascontiguousarray(np.moveaxis(grows.reshape(moved), -1, ctx.axis)).reshape(
            shape)


def _fmt(v):
    """A float as C++'s ostream writes it (``1.5``, ``2``)."""
    return f"{v:g}"


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    x = input._data
    if isinstance(q, Tensor):
        qa, scalar_q = q._data, q._data.ndim == 0
    else:
        qf = float(q)
        if not 0 <= qf <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {_fmt(qf)}")
        qa, scalar_q = np.asarray(qf, x.dtype if x.dtype.kind == "f" else np.float64), True
        if x.dtype.kind != "f":
            qa = qa.astype(x.dtype) if x.dtype != np.bool_ else qa
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError("quantile() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if x.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if qa.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if qa.dtype != x.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    if isinstance(q, Tensor) and ((qa < 0) | (qa > 1)).any():
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    if dim is not None:
        wrap_dim(dim, x.ndim)  # torch's IndexError for a bad dim
    return Quantile.apply(input, q=qa.reshape(-1), dim=dim, keepdim=keepdim, scalar_q=scalar_q,
                          interpolation=interpolation, ignore_nan=ignore_nan)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-th quantiles of ``input`` (flattened when ``dim`` is None).

    Args:
        q: a float or a scalar / 1-D tensor of the input's dtype, in [0, 1]. A 1-D ``q``
            puts its dim first in the result.
        interpolation: 'linear', 'lower', 'higher', 'midpoint' or 'nearest'.

    A row holding NaN gives NaN. torch builds quantile from sort, gather and lerp (its
    ``grad_fn`` is the last of those views); ember records one ``QuantileBackward0`` node
    with the same gradient.
    """
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` ignoring NaN (NaN only where a row is all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, True)


# --- mode ---------------------------------------------------------------------------------
class Mode(Op):
    """(values, indices) = the most frequent value along ``dim`` and its last index"""

    @staticmethod
    def forward(ctx, x, *, dim=-1, keepdim=False):
        ctx.x_shape = x.shape
        if x.ndim == 0:
            wrap_dim(dim, 0)
            return x.copy(), np.zeros((), np.int64)
        axis = wrap_dim(dim, x.ndim)
        n = x.shape[axis]
        if n == 0:
            raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size.")
        rows = _to_last(x, axis).reshape(-1, n)
        order = np.argsort(rows, axis=-1, kind="stable")
        srt = np.take_along_axis(rows, order, -1)
        start = np.ones(srt.shape, bool)
        start[:, 1:] = srt[:, 1:] != srt[:, :-1]
        pos = np.arange(n)
        run = pos - np.maximum.accumulate(np.where(start, pos, 0), axis=-1) + 1
        # the first run to reach the longest length ends at the smallest such value; a stable
        # sort leaves the last index of that value at the run's end
        end = np.argmax(run == run.max(-1, keepdims=True), axis=-1)[:, None]
        values = np.take_along_axis(srt, end, -1)[:, 0]
        idx = np.take_along_axis(order, end, -1)[:, 0].astype(np.int64)
        red = _to_last(x, axis).shape[:-1]
        values, idx = values.reshape(red), idx.reshape(red)
        if keepdim:
            values, idx = np.expand_dims(values, axis), np.expand_dims(idx, axis)
        ctx.axis, ctx.keepdim = axis, keepdim
        ctx.save_for_backward(idx)
        return values, idx

    @staticmethod
    def backward(ctx, grad, grad_idx):
        if ctx.x_shape == ():
            return grad
        (idx,) = ctx.saved_tensors
        return _put_at(ctx.x_shape, idx, grad, ctx.axis, ctx.keepdim)


def mode(input, dim=-1, keepdim=False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest of those
    tied in count) and the last index where it occurs."""
    x = input._data
    if x.dtype.kind not in "biuf" and x.ndim and x.size:  # torch checks shapes first
        raise NotImplementedError(f'"mode_cpu" not implemented for '
                                  f"'{type_name(input._data.dtype)}'")
    return return_types.mode(Mode.apply(input, dim=dim, keepdim=keepdim))
