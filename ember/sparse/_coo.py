"""``Coo``: the raw payload of a sparse COO tensor, as ``np.ndarray`` is a dense tensor's.

A sparse tensor's ``_data`` is a ``Coo``: ``indices`` (int64, ``(sparse_dim, nnz)``), ``values``
(``(nnz, *dense_shape)``), the full ``shape`` and the ``coalesced`` flag. The backward engine
moves these as gradients (``nn.Embedding(sparse=True)``), so they answer ``shape``/``dtype``
and add up as torch's gradient accumulation does. Anything else NumPy is asked to do with one
raises, so an op that ember has no sparse kernel for fails instead of computing a wrong answer.
"""
from __future__ import annotations

import numpy as np

_SPARSE_BACKEND_MSG = (
    "Could not run 'aten::{}' with arguments from the 'SparseCPU' backend. This could be "
    "because the operator doesn't exist for this backend, or was omitted during the "
    "selective/custom build process (if using custom build).")

# NumPy ufunc / function names -> the aten op torch names in its error
_ATEN = {"multiply": "mul", "true_divide": "div", "divide": "div", "subtract": "sub",
         "negative": "neg", "power": "pow", "equal": "eq", "not_equal": "ne",
         "greater": "gt", "less": "lt", "greater_equal": "ge", "less_equal": "le",
         "absolute": "abs", "clip": "clamp", "floor_divide": "floor_divide",
         "maximum": "maximum", "minimum": "minimum", "sum": "sum", "mean": "mean.dim"}


def could_not_run(op: str) -> str:
    """torch's NotImplementedError text for an op the SparseCPU backend lacks."""
    return _SPARSE_BACKEND_MSG.format(op)


class Coo:
    """Sparse COO data: ``indices`` ``(sparse_dim, nnz)`` int64, ``values``
    ``(nnz, *dense_shape)``, ``shape`` (all dims), ``coalesced`` (sorted, no duplicates)."""

    __slots__ = ("indices", "values", "shape", "coalesced")
    _sparse = True  # what the engine looks for (``engine._validate``)
    base = None  # a gradient the engine may keep as .grad without copying

    def __init__(self, indices, values, shape, coalesced=False):
        self.indices, self.values, self.shape = indices, values, tuple(shape)
        self.coalesced = bool(coalesced) or indices.shape[1] < 2

    # --- what the engine and Tensor's attributes read ------------------------------------
    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def itemsize(self):
        return self.values.itemsize

    @property
    def nnz(self):
        return self.indices.shape[1]

    @property
    def sparse_dim(self):
        return self.indices.shape[0]

    @property
    def T(self):  # noqa: N802  (MatMul's backward transposes its operands)
        return transpose(self)

    def copy(self):
        return Coo(self.indices.copy(), self.values.copy(), self.shape, self.coalesced)

    def astype(self, dtype, copy=True):
        return Coo(self.indices, self.values.astype(dtype, copy=copy), self.shape,
                   self.coalesced)

    def fill(self, value):
        """``zero_()``: what ``Optimizer.zero_grad(set_to_none=False)`` calls."""
        if value != 0:
            raise NotImplementedError(could_not_run("fill_.Scalar"))
        self.indices = np.empty((self.sparse_dim, 0), np.int64)
        self.values = np.empty((0,) + self.values.shape[1:], self.values.dtype)
        self.coalesced = True

    # --- gradient accumulation (the engine's buffers) -----------------------------------
    def __add__(self, other):
        # the engine's ``old + new`` when two gradients meet at one input: torch's input buffer
        # computes ``new + old`` for sparse gradients (grad mode off)
        if isinstance(other, Coo):
            return merge_add(other, self)
        return to_dense(self, np.result_type(self.dtype, other.dtype)) + other

    def __radd__(self, other):
        return other + to_dense(self, np.result_type(self.dtype, other.dtype))

    # --- everything else NumPy may try: refuse ---------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs and len(inputs) == 2:
            a, b = inputs
            if ufunc is np.matmul:  # torch.mm(sparse, dense) and friends: a dense product
                return matmul(a, b)
            if ufunc is np.true_divide and isinstance(b, Coo):  # torch.div(dense, sparse)
                what = (f"got shape {list(b.shape)} for divisor" if b.ndim
                        else "got a sparse divisor")
                raise RuntimeError("Sparse division requires a scalar or zero-dim dense tensor "
                                   f"divisor ({what})")
            if ufunc is np.add:
                if isinstance(a, Coo) and not isinstance(b, Coo):
                    raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, "
                                       "sparse) instead.")
                if not isinstance(a, Coo):  # dense + sparse: dense, as torch
                    return a + to_dense(b, np.result_type(a, b.dtype))
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        raise NotImplementedError(could_not_run(_ATEN.get(name, name)))

    def __array_function__(self, func, types, args, kwargs):
        if func in (np.swapaxes, np.transpose) and self.ndim == 2 and self.sparse_dim == 2:
            return transpose(self)
        if func is np.may_share_memory or func is np.shares_memory:
            return False  # the overlap checks of in-place ops and out=: a Coo is fresh memory
        raise NotImplementedError(could_not_run(_ATEN.get(func.__name__, func.__name__)))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotImplementedError(could_not_run(name))

    def __bool__(self):
        raise NotImplementedError(could_not_run("is_nonzero"))

    def __getitem__(self, index):
        raise NotImplementedError(could_not_run("index.Tensor"))

    def __setitem__(self, index, value):
        raise NotImplementedError(could_not_run("index_put_"))

    def _binop(self, other):
        return NotImplemented

    def __iadd__(self, other):
        # the engine's ``leaf.grad._data += g`` on a sparse .grad: it catches this and makes
        # .grad dense (a Coo never becomes dense in place)
        raise TypeError("in-place add into a sparse COO payload")

    __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _binop
    __isub__ = __imul__ = __itruediv__ = _binop
    __hash__ = object.__hash__


# --- the math -----------------------------------------------------------------------------
def occurrence_rank(lin: np.ndarray) -> np.ndarray:
    """For each entry of ``lin``, how many earlier entries hold the same value (0 for the
    first occurrence, 1 for the second ...)."""
    order = np.argsort(lin, kind="stable")
    first = np.ones(lin.size, bool)
    first[1:] = lin[order][1:] != lin[order][:-1]
    starts = np.maximum.accumulate(np.where(first, np.arange(lin.size), 0))
    rank = np.empty(lin.size, np.int64)
    rank[order] = np.arange(lin.size) - starts
    return rank


def linear_index(indices: np.ndarray, sparse_shape) -> np.ndarray:
    """Row-major position of each entry among the sparse dims (int64)."""
    lin = np.zeros(indices.shape[1], np.int64)
    for d, n in enumerate(sparse_shape):
        lin = lin * n + indices[d]
    return lin


def coalesce(c: Coo) -> Coo:
    """Entries sorted by index, duplicates summed (in their order, as torch's CPU kernel)."""
    if c.coalesced:
        return c
    sd = c.sparse_dim
    lin = linear_index(c.indices, c.shape[:sd])
    order = np.argsort(lin, kind="stable")
    lin = lin[order]
    first = np.ones(lin.size, bool)
    first[1:] = lin[1:] != lin[:-1]
    starts = np.flatnonzero(first)
    values = np.add.reduceat(c.values[order], starts, axis=0).astype(c.dtype, copy=False)
    return Coo(np.ascontiguousarray(c.indices[:, order[starts]]), values, c.shape, True)


def to_dense(c: Coo, dtype=None) -> np.ndarray:
    """The dense array: each entry's values added at its index."""
    dtype = c.dtype if dtype is None else dtype
    out = np.zeros(c.shape, dtype)
    values = c.values.astype(dtype, copy=False)
    if c.sparse_dim == 0:
        out += values.sum(axis=0) if c.nnz else 0
    else:
        np.add.at(out, tuple(c.indices), values)
    return out


def from_dense(arr: np.ndarray, sparse_dim: int) -> Coo:
    """The entries of ``arr`` that are not zero (a slice along the dense dims counts when any
    element is), sorted: a coalesced Coo."""
    if sparse_dim == 0:  # one entry holding the whole array, none when it is all zero
        n = int(bool((arr != 0).any()))
        return Coo(np.empty((0, n), np.int64), arr[None][:n].copy(), arr.shape, True)
    lead = arr.reshape(arr.shape[:sparse_dim] + (-1,))
    mask = (lead != 0).any(axis=-1) if arr.ndim > sparse_dim else arr != 0
    idx = np.stack(np.nonzero(mask)).astype(np.int64) if mask.ndim else np.empty((0, 1), np.int64)
    return Coo(idx, arr[tuple(idx)].copy(), arr.shape, True)


def merge_add(a: Coo, b: Coo, alpha=1, dtype=None) -> Coo:
    """``a + alpha * b`` as torch's ``add(sparse, sparse)`` (its in-place ``add_``, gradient
    accumulation and the optimizers' too): one two-pointer merge walk over both entry lists
    as stored, taking the smaller index first and summing the two heads when equal; on
    uncoalesced operands the result keeps their duplicates, and it is coalesced when both
    are. Each value is ``a_v + alpha * b_v`` rounded once (torch's axpy). When either
    operand's values are not contiguous (a stride-0 gradient from a sum, a transposed
    view), torch concatenates the entries instead (``_concat_add``)."""
    dtype = np.result_type(a.dtype, b.dtype) if dtype is None else np.dtype(dtype)
    if b.nnz == 0:
        return Coo(a.indices.copy(), a.values.astype(dtype, copy=True), a.shape, a.coalesced)
    if a.nnz == 0:
        return Coo(b.indices.copy(), _axpy(alpha, b.values, 0, dtype), b.shape, b.coalesced)
    if not (a.values.flags.c_contiguous and b.values.flags.c_contiguous):
        return _concat_add(a, b, alpha, dtype)
    ta, tb = list(zip(*a.indices.tolist())), list(zip(*b.indices.tolist()))
    na, nb = len(ta), len(tb)
    pos_a, pos_b = [0] * na, [0] * nb
    i = j = r = 0
    while i < na or j < nb:
        if i < na and (j >= nb or ta[i] <= tb[j]):
            pos_a[i] = r
            if j < nb and ta[i] == tb[j]:
                pos_b[j] = r
                j += 1
            i += 1
        else:
            pos_b[j] = r
            j += 1
        r += 1
    # torch fills indices sized for na + nb entries and narrows them to r: with merged
    # entries and 2+ sparse dims they are a non-contiguous view (``_grad.accumulate`` reads it)
    idx = np.empty((a.sparse_dim, na + nb), np.int64)[:, :r]
    idx[:, pos_a] = a.indices
    idx[:, pos_b] = b.indices
    values = np.zeros((r,) + a.values.shape[1:], dtype)
    values[pos_a] = a.values
    values[pos_b] = _axpy(alpha, b.values, values[pos_b], dtype)
    return Coo(idx, values, a.shape, a.coalesced and b.coalesced)


def _concat_add(a: Coo, b: Coo, alpha, dtype) -> Coo:
    """torch's ``add_out_sparse_non_contiguous``: ``a``'s entries then ``alpha * b``'s
    (uncoalesced), coalesced only once nnz exceeds the element count."""
    bv = b.values.astype(dtype)
    if alpha != 1:
        bv = (bv * dtype.type(alpha)).astype(dtype, copy=False)
    out = Coo(np.concatenate([a.indices, b.indices], axis=1),
              np.concatenate([a.values.astype(dtype), bv]), a.shape)
    if out.nnz > out.size:  # torch bounds the growth; the result is marked by nnz alone
        c = coalesce(out)
        out = Coo(c.indices, c.values, c.shape)
    return out


def _axpy(alpha, x, y, dtype):
    """``y + alpha * x`` rounded once, in ``dtype`` (float32 exactly through float64)."""
    if alpha == 1:
        return (x.astype(dtype) + y).astype(dtype, copy=False)
    if dtype == np.float32:
        a = np.float64(np.float32(alpha))
        return (np.asarray(y, np.float64) + a * x.astype(np.float64)).astype(np.float32)
    return (y + x.astype(dtype) * dtype.type(alpha)).astype(dtype, copy=False)


def transpose(c: Coo) -> Coo:
    """A 2-D Coo with its two sparse dims swapped (uncoalesced unless trivially so)."""
    if c.ndim != 2 or c.sparse_dim != 2:
        raise NotImplementedError(could_not_run("transpose"))
    return Coo(c.indices[::-1].copy(), c.values, c.shape[::-1], c.nnz < 2)


def matmul(a, b) -> np.ndarray:
    """``a @ b`` where one operand is a 2-D Coo (sparse dims only) and the other dense."""
    if isinstance(a, Coo):
        if a.sparse_dim != 2 or a.ndim != 2:
            raise RuntimeError(f"addmm: matrices expected, got {a.sparse_dim}D tensor")
        b = np.asarray(b)
        if b.ndim != 2:
            raise RuntimeError(f"self must be a matrix (got 2-D and {b.ndim}-D)")
        if b.shape[0] != a.shape[1]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x"
                               f"{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
        dtype = np.result_type(a.dtype, b.dtype)
        out = np.zeros((a.shape[0], b.shape[1]), dtype)
        rows, cols = a.indices
        np.add.at(out, rows, a.values[:, None].astype(dtype) * b[cols])
        return out
    return matmul(transpose(b), np.swapaxes(np.asarray(a), -1, -2)).T.copy()
