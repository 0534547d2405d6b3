"""Differentiable sparse ops. Forward and backward work on ``Coo`` payloads and arrays.

Ops with a dense result are ordinary ``Op`` subclasses (``apply`` hands them the ``Coo``).
Ops with a sparse result go through ``apply_sparse``, which records the node the same way
(the engine's dense path never sees them). A gradient reaching a sparse tensor may be a
``Coo`` (from ``to_dense`` or ``sparse.mm``) or a dense array (from ``torch.mm``); each
backward takes both.
"""
from __future__ import annotations

import numpy as np

from .. import _tensor as _t
from ..autograd import function as _fn
from ..autograd import grad_mode
from ..autograd.function import Op
from ..ops._shape_utils import sum_to_shape
from . import _coo
from ._coo import Coo


def _dense(g):
    return _coo.to_dense(g) if isinstance(g, Coo) else g


def _mask(g, c: Coo) -> Coo:
    """``g`` (dense or Coo) at the entries of ``c`` coalesced, marked coalesced: the gradient
    torch's ``sparse.mm`` and ``to_dense`` give (``.grad`` re-marks it, see
    ``_grad.accumulate``)."""
    c = _coo.coalesce(c)
    g = _dense(g)
    idx = np.ascontiguousarray(c.indices)  # new indices in torch: contiguous
    return Coo(idx, g[tuple(idx)].astype(c.dtype, copy=False), c.shape, True)


def no_create_graph(ctx, *grads):
    """``backward_graph`` of the sparse ops: ember records no graph through sparse gradients.

    As torch, an op whose gradient is linear in the incoming one and reads none of its
    inputs gives that gradient without a graph when the incoming one has none (torch's sparse
    kernels have no derivative formulas); anything else raises."""
    if not ctx._fn._sparse_linear or any(g is not None and g._rg for g in grads):
        raise NotImplementedError(f"ember: backward(create_graph=True) through {ctx.name()}, "
                                  "whose gradient is a sparse tensor, is not supported")
    from ..autograd.engine import _call_backward
    from ._grad import as_tensor

    with grad_mode.no_grad():
        res = _call_backward(ctx, [None if g is None else g._data for g in grads], None)
    return tuple(None if r is None else as_tensor(r if isinstance(r, Coo) else np.asarray(r))
                 for r in res)


class SparseOp(Op):
    """An op with a sparse input or output: no ``create_graph=True`` (see ``no_create_graph``)."""

    backward_graph = staticmethod(no_create_graph)
    _sparse_linear = True  # the gradient reads no input: see ``no_create_graph``


def apply_sparse(cls, *inputs, **options):
    """Run ``cls.forward`` (which returns a ``Coo``) and wrap the result as a sparse tensor,
    recording a node when grad mode is on and a tensor input requires grad."""
    from ._tensor import wrap

    Tensor = _t.Tensor
    arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    need = grad_mode.state.enabled and any(isinstance(x, Tensor) and x._rg for x in inputs)
    if not need:
        return wrap(cls.forward(_fn._NO_CTX, *arrays, **options))
    ctx = cls._node_cls()
    ctx.next_functions = tuple(_fn._edge(x) if isinstance(x, Tensor) and x._rg
                               else _fn._NO_EDGE for x in inputs)
    out = cls.forward(ctx, *arrays, **options)
    ctx._seq_nr = next(_fn._seq)
    ctx._out_meta = ((out.shape, out.dtype),)
    t = wrap(out, requires_grad=True)
    t._grad_fn = ctx
    return t


class SparseCooTensor(SparseOp):
    """s = COO(indices, values, size); values' gradient: each entry's gradient at its index"""

    _backward_name = "SparseCooTensorWithDimsAndTensorsBackward0"  # torch's name

    @staticmethod
    def forward(ctx, values, *, indices, shape, coalesced=False, node_name=None):
        ctx.indices = indices
        if node_name:
            ctx.show_as(node_name)
        return Coo(indices, values, shape, coalesced)

    @staticmethod
    def backward(ctx, grad):
        return _dense(grad)[tuple(ctx.indices)]

    @staticmethod
    def backward_graph(ctx, grad):
        """create_graph: the same gather, differentiable in ``grad`` (``At``)."""
        return At.apply(grad, indices=ctx.indices)


class At(SparseOp):
    """v = g at ``indices`` (each entry's element(s), g sparse or dense); g's gradient: the
    incoming one put back at those indices (sparse for a sparse g, dense otherwise)"""

    _backward_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, g, *, indices):
        ctx.indices, ctx.shape, ctx.sparse = indices, g.shape, isinstance(g, Coo)
        return _dense(g)[tuple(indices)]

    @staticmethod
    def backward(ctx, grad):
        if ctx.sparse:
            return Coo(ctx.indices, grad, ctx.shape)
        out = np.zeros(ctx.shape, grad.dtype)
        np.add.at(out, tuple(ctx.indices), grad)
        return out


class Coalesce(SparseOp):
    """s = coalesce(x); the gradient passes through unchanged"""

    _backward_name = "CoalesceBackward0"

    @staticmethod
    def forward(ctx, x):
        return _coo.coalesce(x)

    @staticmethod
    def backward(ctx, grad):
        return grad

    backward_graph = backward  # the identity: the gradient keeps its graph


class Values(SparseOp):
    """v = x's values; x's gradient: COO(x.indices, grad)"""

    _backward_name = "ValuesBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.indices, ctx.shape, ctx.coalesced = x.indices, x.shape, x.coalesced
        return x.values

    @staticmethod
    def backward(ctx, grad):
        return Coo(ctx.indices, grad, ctx.shape, ctx.coalesced)

    @staticmethod
    def backward_graph(ctx, grad):
        return apply_sparse(SparseCooTensor, grad, indices=ctx.indices, shape=ctx.shape,
                            coalesced=ctx.coalesced)


class ToDense(SparseOp):
    """z = x.to_dense(); x's gradient: the incoming gradient at x's entries (sparse)"""

    _backward_name = "ToDenseBackward0"

    @staticmethod
    def forward(ctx, x, *, masked=True):
        ctx.x, ctx.masked = x, masked
        return _coo.to_dense(x)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.masked:  # torch: the gradient itself, as sparse (its nonzeros)
            return _coo.from_dense(_dense(grad), ctx.x.sparse_dim)
        return _mask(grad, ctx.x)

    @staticmethod
    def backward_graph(ctx, grad):
        if grad.is_sparse or not ctx.masked:
            return NotImplemented
        return apply_sparse(SparseMask, grad, mask=_coo.coalesce(ctx.x))


class ToSparse(SparseOp):
    """s = x.to_sparse(sparse_dim); x's gradient: the incoming gradient, dense"""

    _backward_name = "ToSparseBackward1"

    @staticmethod
    def forward(ctx, x, *, sparse_dim):
        return _coo.from_dense(x, sparse_dim)

    @staticmethod
    def backward(ctx, grad):
        return _dense(grad)

    @staticmethod
    def backward_graph(ctx, grad):
        return ToDense.apply(grad) if grad.is_sparse else grad


class SparseAddmm(SparseOp):
    """z = beta * input + alpha * (s @ d) for a 2-D sparse s; s's gradient is masked to its
    entries (sparse), d's is s^T @ grad"""

    _backward_name = "SparseAddmmBackward0"
    _sparse_linear = False  # s's gradient reads d, d's reads s

    @staticmethod
    def forward(ctx, s, d, input=None, *, beta=1, alpha=1):
        ctx.s, ctx.d, ctx.beta, ctx.alpha = s, d, beta, alpha
        ctx.in_shape = None if input is None else np.shape(input)
        out = _coo.matmul(s, d)
        if alpha != 1:
            out = out * out.dtype.type(alpha)
        if input is not None:
            out = out + (input if beta == 1 else input * out.dtype.type(beta))
        return out

    @staticmethod
    def backward(ctx, grad):
        s, d, need = ctx.s, ctx.d, ctx.needs_input_grad
        g = grad if ctx.alpha == 1 else grad * grad.dtype.type(ctx.alpha)
        gs = _mask(np.matmul(g, d.T), s) if need[0] else None
        gd = _coo.matmul(_coo.transpose(s), g) if need[1] else None
        gi = None
        if len(need) > 2 and need[2]:
            gi = sum_to_shape(grad if ctx.beta == 1 else grad * grad.dtype.type(ctx.beta),
                              ctx.in_shape)
        return (gs, gd, gi) if len(need) > 2 else (gs, gd)

    @staticmethod
    def backward_graph(ctx, grad):
        """torch's formulas on Tensors (create_graph): s gets ``(grad @ d^T).sparse_mask(s)``
        (``SparseMaskBackward0``), d gets ``s^T @ grad`` (``MmBackward0``), input
        ``beta * grad``; all differentiable again in grad, s and d."""
        from ..autograd._double_backward import stand_in

        need = ctx.needs_input_grad
        s = _sparse_on_edge(ctx.s, ctx.next_functions[0])
        g = grad if ctx.alpha == 1 else grad * ctx.alpha
        gs = gd = gi = None
        if need[0]:
            d = stand_in(ctx, 1, ctx.d)
            gs = apply_sparse(SparseMask, g.mm(d.t()), mask=_coo.coalesce(ctx.s))
        if need[1]:
            gd = SparseTMm.apply(s, grad)
            if gd.grad_fn is not None:
                gd.grad_fn.show_as("MmBackward0")
            if ctx.alpha != 1:
                gd = gd * ctx.alpha
                if gd.grad_fn is not None:
                    gd.grad_fn.show_as("MulBackward1")  # torch's maybe_multiply by a Scalar
        if len(need) > 2 and need[2]:
            from ..ops.derivatives import sum_to

            gi = sum_to(grad if ctx.beta == 1 else grad * ctx.beta, ctx.in_shape)
        return (gs, gd, gi) if len(need) > 2 else (gs, gd)


def _sparse_on_edge(c: Coo, edge):
    """The sparse input ``c`` as a Tensor whose gradient goes along ``edge`` (the sparse
    twin of ``_double_backward._on_edge``)."""
    from ..autograd.function import AccumulateGrad
    from ._tensor import wrap

    fn, nr = edge
    if fn is None:
        return wrap(c)
    if type(fn) is AccumulateGrad:
        if fn.variable._data is c:
            return fn.variable
        t = wrap(c, requires_grad=True)
        t._accum = fn
        return t
    t = wrap(c, requires_grad=True)
    t._grad_fn = fn
    if nr:
        t._output_nr = nr
    return t


class SparseMask(SparseOp):
    """s = x at the entries of ``mask`` (coalesced; torch's ``sparse_mask``); x's gradient:
    the incoming gradient at those entries, zero elsewhere (dense)"""

    _backward_name = "SparseMaskBackward0"

    @staticmethod
    def forward(ctx, x, *, mask):
        ctx.mask = mask
        idx = np.ascontiguousarray(mask.indices)
        return Coo(idx, x[tuple(idx)], mask.shape, True)

    @staticmethod
    def backward(ctx, grad):
        idx = tuple(ctx.mask.indices)
        out = np.zeros(ctx.mask.shape, grad.dtype)
        out[idx] = _dense(grad)[idx]
        return out


class SparseTMm(SparseOp):
    """z = s^T @ g for a 2-D sparse s and a dense g (sparse.mm's gradient of its dense operand);
    s's gradient: g @ grad^T (dense, as torch's MmBackward0 through a transpose), g's: s @ grad"""

    _backward_name = "SparseTMmBackward"
    _sparse_linear = False

    @staticmethod
    def forward(ctx, s, g):
        ctx.s, ctx.g = s, g
        return _coo.matmul(_coo.transpose(s), g)

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        gs = np.matmul(ctx.g, grad.T).astype(ctx.s.dtype, copy=False) if need[0] else None
        gg = _coo.matmul(ctx.s, grad) if need[1] else None
        return gs, gg


class SparseSum(SparseOp):
    """z = sum of all of x's entries (0-d, dense); x's gradient: grad at each entry"""

    _backward_name = "SumBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.asarray(x.values.sum(dtype=x.dtype) if x.nnz else x.dtype.type(0))

    @staticmethod
    def backward(ctx, grad):
        x = _coo.coalesce(ctx.x)  # each index once: a sparse gradient adds up its duplicates
        # torch's values are ``grad`` expanded (stride 0): a read-only view here too, so that
        # adding it to another sparse gradient concatenates as torch's does
        return Coo(x.indices, np.broadcast_to(grad, x.values.shape), x.shape, True)


class SparseSumDim(SparseOp):
    """z = x summed over ``dims`` (some sparse): a coalesced sparse result; x's gradient:
    each entry gets the gradient at its reduced index"""

    _backward_name = "SparseSumBackward0"

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.x, ctx.dims = x, dims
        sd = x.sparse_dim
        keep = [d for d in range(sd) if d not in dims]
        dense_axes = tuple(1 + d - sd for d in dims if d >= sd)
        values = x.values.sum(axis=dense_axes) if dense_axes else x.values
        shape = tuple(n for i, n in enumerate(x.shape) if i not in dims)
        ctx.keep, ctx.dense_axes = keep, dense_axes
        return _coo.coalesce(Coo(x.indices[keep], values, shape))

    @staticmethod
    def backward(ctx, grad):
        x, keep = _coo.coalesce(ctx.x), ctx.keep
        g = _dense(grad)
        rows = g[tuple(x.indices[keep])] if keep else np.broadcast_to(
            g, (x.nnz,) + g.shape)
        for a in ctx.dense_axes:
            rows = np.expand_dims(rows, a % x.values.ndim)
        return Coo(x.indices, np.broadcast_to(rows, x.values.shape).copy(), x.shape, True)


class SparseSumToDense(SparseSumDim):
    """z = x summed over every sparse dim (and ``dims``' dense ones): a dense result; x's
    gradient as ``SparseSumDim``'s"""

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.x, ctx.dims, ctx.keep = x, dims, []
        ctx.dense_axes = tuple(1 + d - x.sparse_dim for d in dims if d >= x.sparse_dim)
        out = x.values.sum(axis=(0,) + ctx.dense_axes, dtype=x.dtype)
        return np.asarray(out)


class SparseScale(SparseOp):
    """s = factor * x entry by entry (mul or div by a scalar, neg, clone, a dtype cast: the
    new values come computed); x's gradient: factor * grad"""

    _backward_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, *, values, factor=1, copy_indices=False, node_name=None):
        ctx.factor, ctx.dtype = factor, x.dtype
        if node_name:
            ctx.show_as(node_name)
        idx = x.indices.copy() if copy_indices else x.indices
        return Coo(idx, values, x.shape, x.coalesced)

    @staticmethod
    def backward(ctx, grad):
        f, dtype = ctx.factor, ctx.dtype
        if f == 0 and isinstance(grad, Coo):  # rounded division: torch's empty gradient
            return Coo(np.empty((grad.sparse_dim, 0), np.int64),
                       np.empty((0,) + grad.values.shape[1:], dtype), grad.shape, True)
        if isinstance(grad, Coo):
            v = grad.values if f == 1 else grad.values * f
            return Coo(grad.indices, v.astype(dtype, copy=False), grad.shape, grad.coalesced)
        return (grad if f == 1 else grad * f).astype(dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, grad):
        if ctx.factor == 0:
            return NotImplemented
        g = grad if ctx.factor == 1 else grad * ctx.factor
        return g if g._data.dtype == ctx.dtype else g.to(_dtype_of(ctx.dtype))


class SparseAdd(SparseOp):
    """s = a + alpha * b for two sparse tensors (torch's merge); a's gradient is the incoming
    gradient at a's entries, b's the same times alpha"""

    _backward_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b, *, alpha=1):
        ctx.a, ctx.b, ctx.alpha = a, b, alpha
        return _coo.merge_add(a, b, alpha)

    @staticmethod
    def backward(ctx, grad):
        # a sparse tensor's gradient means its dense sum, so a and b get grad as it is
        need = ctx.needs_input_grad
        gb = None
        if need[1]:
            gb = grad if ctx.alpha == 1 else (
                Coo(grad.indices, grad.values * ctx.alpha, grad.shape, grad.coalesced)
                if isinstance(grad, Coo) else grad * ctx.alpha)
        return grad if need[0] else None, gb

    @staticmethod
    def backward_graph(ctx, grad):
        need = ctx.needs_input_grad
        gb = (grad if ctx.alpha == 1 else grad * ctx.alpha) if need[1] else None
        return grad if need[0] else None, gb


def _dtype_of(np_dtype):
    from .._dtype import from_numpy

    return from_numpy(np_dtype)


def _add_scaled_entries(out, s: Coo, v, alpha):
    """``out[index] += alpha * value`` entry by entry in stored order, each a fused
    multiply-add rounded once, as torch's CPU kernel (float32 exactly, through float64;
    float64 through long double). A round per repeat of an index keeps the order."""
    wide = np.longdouble if out.dtype.itemsize >= 8 else np.float64
    if out.dtype.kind == "c":
        wide = np.clongdouble if out.dtype.itemsize >= 16 else np.complex128
    a = wide(out.dtype.type(alpha))
    lin = _coo.linear_index(s.indices, s.shape[:s.sparse_dim])
    rank = _coo.occurrence_rank(lin)
    for r in range(int(rank.max()) + 1 if lin.size else 0):
        sel = np.flatnonzero(rank == r)
        at = tuple(s.indices[:, sel])
        out[at] = (out[at].astype(wide) + a * v[sel].astype(wide)).astype(out.dtype)


class DenseSparseAdd(Op):
    """z = x + alpha * s for a dense x and a sparse s of one size (a dense result, as torch's
    ``add(dense, sparse)``); x's gradient is grad, s's alpha * grad, both dense (torch's)"""

    _backward_name = "AddBackward0"

    @staticmethod
    def forward(ctx, x, s, *, alpha=1, dtype, node_name=None):
        ctx.alpha, ctx.dtypes = alpha, (x.dtype, s.dtype)
        if node_name:
            ctx.show_as(node_name)
        out = x.astype(dtype, copy=True)
        v = s.values.astype(dtype, copy=False)
        if alpha != 1 and dtype.kind in "fc" and s.sparse_dim:
            _add_scaled_entries(out, s, v, alpha)
        elif s.sparse_dim:  # entry by entry, in stored order (torch's CPU kernel)
            np.add.at(out, tuple(s.indices), v if alpha == 1 else v * dtype.type(alpha))
        elif s.nnz:
            out += (v if alpha == 1 else v * dtype.type(alpha)).sum(axis=0)
        return out

    @staticmethod
    def backward(ctx, grad):
        need, (dx, ds) = ctx.needs_input_grad, ctx.dtypes
        gx = grad.astype(dx, copy=False) if need[0] else None
        gs = None
        if need[1]:
            gs = (grad if ctx.alpha == 1 else grad * grad.dtype.type(ctx.alpha)).astype(
                ds, copy=False)
        return gx, gs

    @staticmethod
    def backward_graph(ctx, grad):
        need, (dx, ds) = ctx.needs_input_grad, ctx.dtypes
        from .._dtype import from_numpy

        gx = grad.to(from_numpy(dx)) if need[0] else None
        gs = (grad if ctx.alpha == 1 else grad * ctx.alpha).to(from_numpy(ds)) if need[1] \
            else None
        return gx, gs
