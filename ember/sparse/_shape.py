"""Shape ops and softmax on sparse COO tensors, as torch's SparseCPU kernels: ``transpose``/
``t``, ``narrow_copy``, ``index_select`` (their entries, order and coalesced flag), and
``sparse.softmax``/``log_softmax`` with gradients."""
from __future__ import annotations

import numpy as np

from .. import _tensor as _t
from ..ops._shape_utils import wrap_dim as _wrap_dim
from . import _autograd as _ag
from . import _coo
from ._coo import Coo, could_not_run


def _swap(c: Coo, d0, d1) -> Coo:
    idx = c.indices.copy()
    idx[[d0, d1]] = idx[[d1, d0]]
    shape = list(c.shape)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    out = Coo(idx, c.values.copy(), shape)
    out.coalesced = c.coalesced if d0 == d1 else c.nnz == 0  # torch: uncoalesced at nnz 1 too
    return out


class SparseTranspose(_ag.SparseOp):
    """s = x with sparse dims d0 and d1 swapped (uncoalesced); x's gradient: grad swapped back"""

    _backward_name = "TransposeBackward0"

    @staticmethod
    def forward(ctx, x, *, d0, d1, node_name=None):
        ctx.d0, ctx.d1 = d0, d1
        if node_name:
            ctx.show_as(node_name)
        return _swap(x, d0, d1)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Coo):
            return _swap(grad, ctx.d0, ctx.d1)
        return np.swapaxes(grad, ctx.d0, ctx.d1).copy()

    @staticmethod
    def backward_graph(ctx, grad):
        if grad.is_sparse:
            return transpose(grad, ctx.d0, ctx.d1)
        return grad.transpose(ctx.d0, ctx.d1)


def transpose(x, dim0, dim1, node_name=None):
    """``x.transpose(dim0, dim1)`` for a sparse ``x``: both dims must be sparse (torch)."""
    c = x._data
    d0, d1 = _wrap_dim(dim0, c.ndim), _wrap_dim(dim1, c.ndim)
    if d0 >= c.sparse_dim or d1 >= c.sparse_dim:
        raise RuntimeError(f"sparse transpose: transposed dimensions must be sparse Got "
                           f"sparse_dim: {c.sparse_dim}, d0: {dim0}, d1: {dim1}")
    return _ag.apply_sparse(SparseTranspose, x, d0=d0, d1=d1, node_name=node_name)


def t(x):
    """``x.t()`` for a sparse ``x`` of at most 2 sparse and no dense dims."""
    c = x._data
    if c.sparse_dim > 2 or c.ndim != c.sparse_dim:
        raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but "
                           f"got {c.sparse_dim} sparse and {c.ndim - c.sparse_dim} dense "
                           "dimensions")
    if c.ndim < 2:
        return x.clone() if x.grad_fn is None and not x._rg else x
    return transpose(x, 0, 1, node_name="TBackward0")


class _NoGradient(_ag.SparseOp):
    """A sparse result whose backward raises torch's error (torch has no sparse kernel for
    it): ``forward`` gets the result already computed."""

    @staticmethod
    def forward(ctx, x, *, result, node_name, missing):
        ctx.show_as(node_name)
        ctx.missing = missing
        return result

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(could_not_run(ctx.missing))


def narrow_copy(x, dim, start, length):
    """``x.narrow_copy(dim, start, length)`` for a sparse ``x``: the entries in the range,
    their index shifted (a sparse dim), or every entry's values sliced (a dense dim)."""
    c = x._data
    d = _wrap_dim(dim, c.ndim)
    size = c.shape[d]
    if start < 0:
        start += size
    if not (0 <= start and length >= 0 and start + length <= size):
        raise RuntimeError(f"Invalid range to narrow. range(start, start+length) must be a "
                           f"subset of range(0, {size}).")
    shape = list(c.shape)
    shape[d] = length
    if d < c.sparse_dim:
        keep = (c.indices[d] >= start) & (c.indices[d] < start + length)
        idx = c.indices[:, keep]
        idx[d] -= start
        out = Coo(np.ascontiguousarray(idx), c.values[keep], shape)
    else:
        axis = d - c.sparse_dim + 1
        values = np.take(c.values, np.arange(start, start + length), axis=axis)
        out = Coo(c.indices.copy(), values, shape)
    out.coalesced = c.coalesced  # kept as it was, whatever nnz is left (torch)
    return _ag.apply_sparse(_NoGradient, x, result=out, node_name="NarrowCopyBackward0",
                            missing="as_strided")


def index_select(x, dim, index):
    """``x.index_select(dim, index)`` for a sparse ``x``: along a sparse dim, for each position
    of ``index`` in turn the entries at that index (in stored order), uncoalesced."""
    c = x._data
    d = _wrap_dim(dim, c.ndim)
    ix = index._data if isinstance(index, _t.Tensor) else np.asarray(index)
    if isinstance(index, _t.Tensor) and index.is_sparse or ix.ndim > 1 or \
            ix.dtype.kind not in "iu":
        raise IndexError("index_select() argument index must be 1-D strided (non-sparse) "
                         "long-tensor.")
    ix = ix.reshape(-1).astype(np.int64)
    size = c.shape[d]
    bad = ix[(ix < -size) | (ix >= size)]
    if bad.size:
        raise IndexError(f"index_select(): index contains {int(bad[0])} that is out of range "
                         f"for tensor of size {list(c.shape)} at dimension {d}")
    ix = ix % size if size else ix
    shape = list(c.shape)
    shape[d] = ix.size
    if d < c.sparse_dim:
        if _by_index_position(c, d, ix.size):
            pos, entry = np.nonzero(ix[:, None] == c.indices[d][None, :])
        else:
            entry, pos = np.nonzero(c.indices[d][:, None] == ix[None, :])
        idx = c.indices[:, entry]
        idx[d] = pos
        out = Coo(np.ascontiguousarray(idx), c.values[entry], shape)
    else:
        out = Coo(c.indices.copy(), np.take(c.values, ix, axis=d - c.sparse_dim + 1), shape)
    return _ag.apply_sparse(_NoGradient, x, result=out, node_name="IndexSelectBackward0",
                            missing="index_add_")


def _by_index_position(c: Coo, d, n) -> bool:
    """Whether torch's kernel (single-threaded) lists the matches by position in ``index``
    (then by entry) rather than by entry (then by position): it depends on which loop it
    puts outside, chosen from the sizes."""
    nnz = c.nnz
    if nnz <= 16384 and n <= 16384 and nnz * n <= 16384:  # its brute-force double loop
        return nnz >= n
    if nnz <= c.shape[d]:  # binary search into the sorted one of the two
        return nnz <= n or (c.coalesced and d == 0 and n * np.log2(nnz) <= (nnz + n)
                            * np.log2(n))
    return n <= nnz  # count sort


# --- softmax ---------------------------------------------------------------------------------
def _pools(c: Coo, dim):
    """For a coalesced ``c`` and a sparse ``dim``: each entry's pool (entries that share
    every other sparse index), as an inverse index into the pools."""
    others = [i for i in range(c.sparse_dim) if i != dim]
    if not others:
        return np.zeros(c.nnz, np.int64), int(c.nnz > 0)
    key = _coo.linear_index(c.indices[others], [c.shape[i] for i in others])
    _, inverse = np.unique(key, return_inverse=True)
    return inverse.reshape(-1), int(inverse.max()) + 1 if c.nnz else 0


def _pool_max(v, pool, n):
    out = np.full((n,) + v.shape[1:], -np.inf, v.dtype)
    np.maximum.at(out, pool, v)
    return out


def _pool_sum(v, pool, n):
    out = np.zeros((n,) + v.shape[1:], v.dtype)
    np.add.at(out, pool, v)
    return out


class SparseSoftmax(_ag.SparseOp):
    """s = softmax (or log_softmax) of x's entries along ``dim``, absent entries left out;
    x's gradient: y * (g - sum(g * y)) (softmax) or g - exp(y) * sum(g) (log_softmax), per
    pool"""

    _backward_name = "SparseSoftmaxBackward0"
    _sparse_linear = False

    @staticmethod
    def forward(ctx, x, *, dim, log):
        c = _coo.coalesce(x)
        if log:
            ctx.show_as("SparseLogSoftmaxBackward0")
        v = c.values
        if dim >= c.sparse_dim:  # a dense dim: softmax of each entry's values
            axis = dim - c.sparse_dim + 1
            shifted = v - v.max(axis=axis, keepdims=True)
            lse = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
            pool = None
        else:
            pool, n = _pools(c, dim)
            shifted = v - _pool_max(v, pool, n)[pool]
            lse = np.log(_pool_sum(np.exp(shifted), pool, n))[pool]
        out = shifted - lse if log else np.exp(shifted - lse)
        ctx.c, ctx.dim, ctx.log, ctx.pool, ctx.out = c, dim, log, pool, out
        return Coo(np.ascontiguousarray(c.indices), out.astype(v.dtype, copy=False), c.shape,
                   True)

    @staticmethod
    def backward(ctx, grad):
        c, y = ctx.c, ctx.out
        g = grad.values if isinstance(grad, Coo) and _same_entries(grad, c) else \
            _coo.to_dense(grad)[tuple(c.indices)] if isinstance(grad, Coo) else \
            grad[tuple(c.indices)]
        if ctx.dim >= c.sparse_dim:
            axis = ctx.dim - c.sparse_dim + 1

            def total(a):
                return a.sum(axis=axis, keepdims=True)
        else:
            n = int(ctx.pool.max()) + 1 if c.nnz else 0

            def total(a):
                return _pool_sum(a, ctx.pool, n)[ctx.pool]
        gx = g - np.exp(y) * total(g) if ctx.log else y * (g - total(g * y))
        return Coo(c.indices, gx.astype(c.dtype, copy=False), c.shape, True)


def _same_entries(a: Coo, b: Coo) -> bool:
    return a.nnz == b.nnz and a.coalesced and np.array_equal(a.indices, b.indices)


def softmax(x, dim, dtype=None, log=False):
    """``sparse.softmax``/``log_softmax`` of a sparse ``x`` along ``dim``: a coalesced result
    at x's (coalesced) entries."""
    if dtype is not None:
        x = x.to(dtype)
    c = x._data
    if c.dtype.kind not in "fc":
        from .._dtype import scalar_type_name

        name = "log_softmax" if log else "softmax"
        raise NotImplementedError(f"\"{name}\" not implemented for "
                                  f"'{scalar_type_name(c.dtype)}'")
    d = _wrap_dim(dim, c.ndim)
    return _ag.apply_sparse(SparseSoftmax, x, dim=d, log=log)
