"""``ember.sparse``: sparse COO tensors, as far as sparse embedding gradients need them.

torch's ``torch.sparse`` namespace: ``mm``, ``addmm`` (differentiable twice), ``sum``,
``softmax``, ``log_softmax`` and ``check_sparse_tensor_invariants``. The tensors themselves
come from ``ember.sparse_coo_tensor``, ``Tensor.to_sparse()`` and
``nn.Embedding(sparse=True)``'s backward. CSR/CSC/BSR layouts and the other ``torch.sparse``
functions are not implemented (they raise NotImplementedError).
"""
from __future__ import annotations

from . import _autograd as _ag
from . import _convert
from ._convert import sparse_coo_tensor
from ._coo import could_not_run
from ._tensor import SparseTensor

__all__ = ["addmm", "check_sparse_tensor_invariants", "log_softmax", "mm", "softmax", "sum",
           "sparse_coo_tensor", "SparseTensor"]


def _is_sparse(t) -> bool:
    return isinstance(t, SparseTensor)


def _check_mm(mat1, mat2, where="addmm"):
    if not _is_sparse(mat1):
        raise RuntimeError(f"{where}: expected mat1 to be a sparse COO tensor")
    if _is_sparse(mat2):
        raise NotImplementedError(could_not_run("_sparse_sparse_matmul"))
    c = mat1._data
    if c.ndim != 2 or c.sparse_dim != 2:
        raise RuntimeError(f"addmm: matrices expected, got {c.sparse_dim}D tensor")
    d = mat2._data
    if d.ndim != 2:
        raise RuntimeError(f"addmm: matrices expected, got {d.ndim}D tensor")
    if d.shape[0] != c.shape[1]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {c.shape[1]}, "
                           f"got {d.shape[0]}")
    if d.dtype != c.dtype:
        from .._dtype import scalar_type_name

        raise RuntimeError(f"expected scalar type {scalar_type_name(c.dtype)} but found "
                           f"{scalar_type_name(d.dtype)}")


def mm(mat1, mat2, reduce=None):
    """``mat1 @ mat2`` for a 2-D sparse ``mat1`` and a dense ``mat2`` (dense result).

    The gradient of ``mat1`` is sparse, at its entries only (coalesced), as torch's
    ``sparse.mm``; ``mat2``'s is ``mat1^T @ grad``. Plain ``ember.mm`` / ``@`` with a sparse
    operand also work, with a dense gradient for it (torch's ``MmBackward0``).

    Raises:
        RuntimeError: shapes or dtypes that do not fit (torch's messages).
        NotImplementedError: ``reduce`` (sparse CSR only in torch) or two sparse operands.
    """
    if reduce is not None:
        raise NotImplementedError("sparse.mm(reduce=...): ember has no sparse CSR tensors")
    if not _is_sparse(mat1):
        from .. import ops

        return ops.mm(mat1, mat2)
    _check_mm(mat1, mat2)
    return _ag.SparseAddmm.apply(mat1, mat2)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``beta * mat + alpha * (mat1 @ mat2)`` for a 2-D sparse ``mat1`` and dense ``mat``,
    ``mat2``; gradients as ``sparse.mm``'s (``mat``'s is ``beta * grad``)."""
    _check_mm(mat1, mat2)
    return _ag.SparseAddmm.apply(mat1, mat2, mat, beta=beta, alpha=alpha)


def sum(input, dim=None, dtype=None):  # noqa: A001  (torch's name)
    """Sum of all entries of a sparse tensor (a dense 0-d tensor), or over ``dim`` (a sparse
    tensor, coalesced; dense 0-d when every dim is summed)."""
    if not _is_sparse(input):
        from .. import ops

        return ops.sum(input, dim) if dim is not None else ops.sum(input)
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return _ag.SparseSum.apply(input)
    ndim = input._data.ndim
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(sorted({d % ndim if -ndim <= d < ndim else _bad_dim(d, ndim) for d in dims}))
    if len(dims) == ndim:
        out = _ag.SparseSum.apply(input)
        if out.grad_fn is not None:
            out.grad_fn.show_as("SparseSumBackward0")
        return out
    if all(d in dims for d in range(input._data.sparse_dim)):  # no sparse dim left: dense
        return _ag.SparseSumToDense.apply(input, dims=dims)
    return _ag.apply_sparse(_ag.SparseSumDim, input, dims=dims)


def _bad_dim(d, ndim):
    raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                     f"{ndim - 1}], but got {d})")


def softmax(input, dim, *, dtype=None):
    """Softmax of a sparse tensor's entries along ``dim``, absent entries left out (treated
    as -inf): a coalesced sparse result at the input's entries, differentiable. A dense
    ``input`` gets the ordinary softmax."""
    if not _is_sparse(input):
        from .. import ops

        return ops.softmax(input, dim, dtype=dtype)
    from . import _shape

    return _shape.softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax of a sparse tensor's entries along ``dim`` (see ``softmax``)."""
    if not _is_sparse(input):
        from .. import ops

        return ops.log_softmax(input, dim, dtype=dtype)
    from . import _shape

    return _shape.softmax(input, dim, dtype, log=True)


class check_sparse_tensor_invariants:  # noqa: N801  (torch's name)
    """Turn on the checks of sparse tensor constructors: indices in range, coalesced when
    claimed. A context manager and decorator, with ``is_enabled``/``enable``/``disable``."""

    @staticmethod
    def is_enabled() -> bool:
        """Whether the constructors check their indices."""
        return _convert.STATE[0]

    @staticmethod
    def enable() -> None:
        """Check from now on."""
        _convert.STATE[0] = _convert.STATE[1] = True

    @staticmethod
    def disable() -> None:
        """Stop checking."""
        _convert.STATE[0], _convert.STATE[1] = False, True

    def __init__(self, enable=True):
        self.state = enable
        self.saved_state = None

    def __enter__(self):
        if self.saved_state is not None:
            raise RuntimeError("This context manager instance is already activated. Use a "
                               "different context manager instance for context nesting.")
        self.saved_state = tuple(_convert.STATE[:2])
        _convert.STATE[0], _convert.STATE[1] = bool(self.state), True

    def __exit__(self, *exc):
        _convert.STATE[0], _convert.STATE[1] = self.saved_state
        self.saved_state = None

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with check_sparse_tensor_invariants(self.state):
                return fn(*args, **kwargs)

        return wrapper



