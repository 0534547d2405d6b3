"""``mul`` with a sparse COO operand (sparse * sparse, sparse * dense, dense * sparse, a 0-d
tensor that requires grad) and ``div`` by a 0-d tensor that requires grad: torch's CPU kernels
(which entries the result keeps, in which order, coalesced or not) and its gradients.

torch's rules, as ``aten/src/ATen/native/sparse`` computes them:

- sparse * sparse, both coalesced: the entries both have, sorted (coalesced).
- sparse * sparse otherwise: every entry of one operand (the *source*) times the sum of the
  other's entries at its index, 0 where it has none; the source's indices and coalesced flag.
  The other operand is the coalesced one when exactly one is, else the one with more entries
  (``self`` on a tie).
- sparse * dense: each entry times the dense element(s) at its index (the dense operand may
  broadcast); more dims on the dense side add leading sparse dims (then coalesced).
"""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .. import _tensor as _t
from ..ops._shape_utils import sum_to_shape
from . import _autograd as _ag
from . import _coo
from ._coo import Coo, could_not_run

_INTERSECT = ("sparse_binary_op_intersection_cpu(): expects sparse inputs with equal "
              "dimensionality, number of sparse dimensions, and shape of sparse dimensions")


def _acc(dtype):
    """The accumulation type of torch's CPU kernels (``acc_type<T, false>``)."""
    if dtype.kind == "f":
        return np.float64 if dtype.itemsize >= 4 else np.float32
    if dtype.kind == "c":
        return np.complex128
    return np.int64 if dtype.kind in "iu" else dtype


def _empty(shape, sparse_dim, dense_shape, dtype) -> Coo:
    return Coo(np.empty((sparse_dim, 0), np.int64), np.empty((0,) + tuple(dense_shape), dtype),
               shape, True)


def mul_sparse(x: Coo, y: Coo, dtype) -> Coo:
    """torch's ``mul(sparse, sparse)`` of two same-size sparse tensors, in ``dtype``."""
    sd = x.sparse_dim
    if x.ndim != y.ndim or sd != y.sparse_dim or x.shape[:sd] != y.shape[:sd]:
        raise RuntimeError(_INTERSECT)
    if x.shape != y.shape:
        raise RuntimeError(f"mul: expected 'self' and 'other' to have same sizes when both are "
                           f"sparse, but {list(x.shape)} != {list(y.shape)}")
    if not x.nnz or not y.nnz:
        return _empty(x.shape, sd, x.values.shape[1:], dtype)
    if x.coalesced and y.coalesced:
        lx, ly = (_coo.linear_index(c.indices, c.shape[:sd]) for c in (x, y))
        _, ix, iy = np.intersect1d(lx, ly, assume_unique=True, return_indices=True)
        # torch narrows indices sized min(nnz) to the matches: a view, as here
        idx = np.empty((sd, min(x.nnz, y.nnz)), np.int64)[:, :ix.size]
        idx[...] = x.indices[:, ix]
        values = x.values[ix].astype(dtype) * y.values[iy].astype(dtype)
        return Coo(idx, values.astype(dtype, copy=False), x.shape, True)
    if x.coalesced != y.coalesced:
        probe, source = (x, y) if x.coalesced else (y, x)
    else:
        probe, source = (x, y) if x.nnz >= y.nnz else (y, x)
        if probe.nnz // int(np.prod(probe.shape[:sd], dtype=np.int64)) > 50:
            probe = _coo.coalesce(probe)
    lp = _coo.linear_index(probe.indices, probe.shape[:sd])
    ls = _coo.linear_index(source.indices, source.shape[:sd])
    order = np.argsort(lp, kind="stable")
    lp = lp[order]
    first = np.searchsorted(lp, ls, "left")
    count = np.searchsorted(lp, ls, "right") - first
    acc = _acc(np.dtype(dtype))
    sv = source.values.astype(dtype).astype(acc)
    pv = probe.values.astype(dtype).astype(acc)
    out = np.zeros(sv.shape, acc)
    for k in range(int(count.max())):  # each source entry: the sum over its matches, in order
        sel = np.flatnonzero(count > k)
        out[sel] += sv[sel] * pv[order[first[sel] + k]]
    return Coo(source.indices.copy(), out.astype(dtype), x.shape, source.coalesced)


def _broadcast_shape(d_shape, s_shape):
    """``infer_size(dense, sparse)`` with torch's error (the dense operand is tensor a)."""
    n = max(len(d_shape), len(s_shape))
    a = (1,) * (n - len(d_shape)) + tuple(d_shape)
    b = (1,) * (n - len(s_shape)) + tuple(s_shape)
    out = []
    for i, (p, q) in enumerate(zip(a, b)):
        if p != q and p != 1 and q != 1:
            raise RuntimeError(f"The size of tensor a ({p}) must match the size of tensor b "
                               f"({q}) at non-singleton dimension {i}")
        out.append(q if p == 1 else p)
    return tuple(out)


def mul_dense(s: Coo, d: np.ndarray, dtype) -> Coo:
    """torch's ``mul(sparse, dense)`` (and ``mul(dense, sparse)``), in ``dtype``."""
    res_shape = _broadcast_shape(d.shape, s.shape)
    if not s.nnz or not s.size or not d.size:
        return _empty(res_shape, len(res_shape), (), dtype)
    if d.ndim > s.ndim:  # new sparse dims: duplicates would repeat, so coalesce first
        s = _coo.coalesce(s)
    sd, dd = s.sparse_dim, s.ndim - s.sparse_dim
    if d.ndim <= dd:  # only the dense dims meet: the values alone
        d_rows = d
    else:
        n_sparse = min(sd, d.ndim - dd)
        d_start, s_start = max(0, d.ndim - s.ndim), max(0, s.ndim - d.ndim)
        index = [Ellipsis] if d_start else []
        index += [s.indices[s_start + i] for i in range(n_sparse)]
        index += [slice(None)] * (d.ndim - d_start - n_sparse)
        d_rows = np.broadcast_to(d, res_shape[len(res_shape) - d.ndim:])[tuple(index)]
    values = (d_rows.astype(dtype) * s.values.astype(dtype)).astype(dtype, copy=False)
    if s.ndim >= d.ndim:
        return Coo(s.indices, values, res_shape, s.coalesced)
    batch = d.shape[:max(0, d.ndim - s.ndim)]
    count = int(np.prod(batch, dtype=np.int64))
    lead = np.indices(batch).reshape(len(batch), -1).repeat(s.nnz, axis=1)
    idx = np.concatenate([lead, np.tile(s.indices, (1, count))]).astype(np.int64)
    return Coo(idx, values.reshape((count * s.nnz,) + s.values.shape[1:]), res_shape, True)


def _times(g, other: Coo, dtype) -> Coo:
    """``g * other`` for a gradient ``g`` (a Coo, or dense) and a sparse ``other``."""
    if isinstance(g, Coo):
        return mul_sparse(g, other, dtype)
    return mul_dense(other, g, dtype)


def _grad_to(g: Coo, shape, dtype):
    """A sparse gradient for an input of ``shape``: itself, or summed to a 0-d one (torch's
    ``sum_to`` on a sparse gradient works for these two only)."""
    if g.shape == tuple(shape):
        return g
    if not shape:
        return np.asarray(g.values.sum(dtype=dtype) if g.nnz else np.zeros((), dtype))
    raise NotImplementedError(could_not_run("view"))


class SparseMul(_ag.SparseOp):
    """s = x * y for two sparse x, y; x's gradient: grad * y, y's: grad * x (sparse)"""

    _backward_name = "MulBackward0"
    _sparse_linear = False

    @staticmethod
    def forward(ctx, x, y, *, dtype):
        ctx.x, ctx.y = x, y
        return mul_sparse(x, y, dtype)

    @staticmethod
    def backward(ctx, grad):
        need, x, y = ctx.needs_input_grad, ctx.x, ctx.y
        gx = _times(grad, y, np.result_type(grad.dtype, y.dtype)) if need[0] else None
        gy = _times(grad, x, np.result_type(grad.dtype, x.dtype)) if need[1] else None
        return gx, gy


class SparseDenseMul(_ag.SparseOp):
    """s = x * d for a sparse x and a dense d (a sparse result); x's gradient: grad * d
    (sparse), d's: grad * x (sparse when d has x's size, summed when d is 0-d)"""

    _backward_name = "MulBackward0"
    _sparse_linear = False

    @staticmethod
    def forward(ctx, x, d, *, dtype):
        ctx.x, ctx.d = x, d
        return mul_dense(x, d, dtype)

    @staticmethod
    def backward(ctx, grad):
        need, x, d = ctx.needs_input_grad, ctx.x, ctx.d
        gx = gd = None
        if need[0]:
            if isinstance(grad, Coo):
                gx = mul_dense(grad, d, np.result_type(grad.dtype, d.dtype))
            else:
                gx = sum_to_shape(grad * d, x.shape)
        if need[1]:
            gd = _grad_to(_times(grad, x, np.result_type(grad.dtype, x.dtype)), d.shape,
                          d.dtype)
        return gx, gd


class SparseDivScalar(_ag.SparseOp):
    """s = x / c for a sparse x and a 0-d dense c; x's gradient: grad / c, c's:
    -sum(grad * (x / c) / c)"""

    _backward_name = "DivBackward0"
    _sparse_linear = False

    @staticmethod
    def forward(ctx, x, c, *, dtype):
        ctx.x, ctx.c = x, c
        return Coo(x.indices, (x.values.astype(dtype) / c.astype(dtype)).astype(dtype,
                                                                                copy=False),
                   x.shape, x.coalesced)

    @staticmethod
    def backward(ctx, grad):
        need, x, c = ctx.needs_input_grad, ctx.x, ctx.c
        gx = gc = None
        if need[0]:
            if isinstance(grad, Coo):
                gx = Coo(grad.indices, grad.values / c, grad.shape, grad.coalesced)
            else:
                gx = grad / c
        if need[1]:
            q = Coo(x.indices, x.values / c / c, x.shape, x.coalesced)
            g = _times(grad, q, np.result_type(grad.dtype, x.dtype))
            gc = _grad_to(Coo(g.indices, -g.values, g.shape, g.coalesced), (), c.dtype)
        return gx, gc


def _is_sparse(v) -> bool:
    return isinstance(v, _t.Tensor) and isinstance(v._data, Coo)


def mul(input, other):
    """``input * other`` with a sparse operand and a Tensor other one (sparse result)."""
    sparse, dense = (input, other) if _is_sparse(input) else (other, input)
    dtype = _dtype.result_type(input, other).np
    if _is_sparse(dense):
        return _ag.apply_sparse(SparseMul, input, other, dtype=dtype)
    return _ag.apply_sparse(SparseDenseMul, sparse, dense, dtype=dtype)


def div_by_tensor(input, other):
    """``input / other`` for a sparse ``input`` and a 0-d dense ``other``."""
    dtype = _dtype.result_type(input, other).np
    if dtype.kind in "iub":
        dtype = _dtype.get_default_dtype().np
    return _ag.apply_sparse(SparseDivScalar, input, other, dtype=dtype)
