"""Tangent rules of the reductions and the softmax family.

Sums and means are linear (the same reduction of the tangent); max-like reductions pass on
the tangent of the element they picked (ties share it equally, as torch's ``amax`` does);
var, softmax, log_softmax and logsumexp have their closed forms.
"""
from __future__ import annotations

from ...ops import cumulative, reduce
from ...ops._shape_utils import wrap_dim, wrap_dims
from ...ops.sort import SortValues
from ._rules import is_complex, linear, re_dot, rule

linear(reduce.Sum, reduce.Mean, cumulative.Cumsum)


def _axes(dim, ndim):
    """The reduced dims as a tuple (all of them for None or ())."""
    if dim is None or dim == () or dim == [] or ndim == 0:
        return tuple(range(ndim))
    return tuple(wrap_dims(dim, ndim))


def _kept(out, x, axes, keepdim):
    """A reduction's result with the reduced dims back in as size 1."""
    if keepdim:
        return out
    return out.reshape(tuple(1 if i in axes else s for i, s in enumerate(x.shape)))


def _reduced(v, axes, keepdim):
    return v.sum(dim=axes, keepdim=keepdim) if axes else v


@rule(reduce.Var)
def _var(xs, ts, out, dim=None, correction=1, keepdim=False, std=False):
    x, tx = xs[0], ts[0]
    axes = _axes(dim, x.ndim)
    n = 1
    for a in axes:
        n *= x.shape[a]
    denom = n - correction if n > correction else 0
    centred = x - x.mean(dim=axes, keepdim=True) if axes else x - x
    # |x - mean|^2 for complex x: its tangent pairs conj(x - mean) with tx, real part
    prod = re_dot(centred, tx) if is_complex(x) else centred * tx
    tvar = _reduced(prod, axes, keepdim) * (2.0 / denom if denom else float("inf"))
    if not std:
        return tvar
    from ...ops.clamp import where

    return where(out == 0, 0.0, tvar / (out * 2)).to(out.dtype)  # 0 where std is 0, as torch


@rule(reduce.MaxAll)
def _max_all(xs, ts, out, largest=True):
    x, tx = xs[0], ts[0]
    mask = (x == out).to(tx.dtype)
    return (tx * mask).sum() / mask.sum()


@rule(reduce.Amax)
def _amax(xs, ts, out, dim=(), keepdim=False, largest=True):
    x, tx = xs[0], ts[0]
    axes = _axes(dim, x.ndim)
    mask = (x == _kept(out, x, axes, keepdim)).to(tx.dtype)
    return _reduced(tx * mask, axes, keepdim) / _reduced(mask, axes, keepdim)


@rule(reduce.MaxDim)
def _max_dim(xs, ts, out, dim, keepdim=False, largest=True):
    x, tx = xs[0], ts[0]
    if x.ndim == 0:
        return tx.clone(), None
    axis = wrap_dim(dim, x.ndim)
    idx = out[1] if keepdim else out[1].unsqueeze(axis)
    picked = tx.gather(axis, idx)
    return (picked if keepdim else picked.squeeze(axis)), None


@rule(SortValues)
def _sort(xs, ts, out, dim, descending, k=None, largest=True, stable=False):
    x, tx = xs[0], ts[0]
    if x.ndim == 0:
        return tx.clone(), None
    return tx.gather(wrap_dim(dim, x.ndim), out[1]), None


@rule(reduce.Softmax)
def _softmax(xs, ts, out, dim):
    tx = ts[0]
    return out * (tx - (out * tx).sum(dim=dim, keepdim=True))


@rule(reduce.LogSoftmax)
def _log_softmax(xs, ts, out, dim):
    tx = ts[0]
    return tx - (out.exp() * tx).sum(dim=dim, keepdim=True)


@rule(reduce.Logsumexp)
def _logsumexp(xs, ts, out, dim, keepdim=False):
    x, tx = xs[0], ts[0]
    axes = _axes(dim, x.ndim)
    return _reduced(tx * (x - _kept(out, x, axes, keepdim)).exp(), axes, keepdim)
