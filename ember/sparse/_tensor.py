"""The sparse COO tensor (``layout == ember.sparse_coo``): a Tensor whose ``_data`` is a ``Coo``.

It is a subclass of ``Tensor``, so ``isinstance(s, ember.Tensor)`` holds and the attributes
that only read the payload's ``shape``/``dtype`` (``shape``, ``dtype``, ``dim()``,
``numel()``, ``requires_grad``, ``grad``, ``grad_fn``) are inherited. The ops torch has for
sparse tensors that ember has too are methods here; every other op reaches the ``Coo`` and
raises (``NotImplementedError`` naming the op and the SparseCPU backend, as torch).
"""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .._layout import LAYOUTS
from .._tensor import Tensor, _wrap
from ..autograd import grad_mode
from . import _autograd as _ag
from ._coo import Coo, could_not_run

_new = object.__new__


def wrap(c: Coo, requires_grad: bool = False) -> SparseTensor:
    """A fresh sparse leaf around ``c`` (no copy)."""
    t = _new(SparseTensor)
    t._data = c
    t._rg = requires_grad
    t._grad = None
    t._grad_fn = None
    t._vc = [0]
    return t


def _scalar_operand(op, other):
    """``other`` as a NumPy scalar for ``sparse <op> scalar``; torch's error for a divisor
    that is not a scalar or a 0-d dense tensor (``mul`` takes those: see ``SparseTensor.mul``)."""
    if isinstance(other, Tensor):
        if other.is_sparse or other._data.ndim:
            if op == "div":
                raise RuntimeError(div_error(other))
            raise NotImplementedError(could_not_run(f"{op}.Tensor"))
        return other
    if isinstance(other, (bool, int, float, complex, np.number, np.bool_)):
        return other
    return NotImplemented


def div_error(divisor) -> str:
    """torch's message for a divisor of a sparse division that is not a scalar or 0-d dense."""
    what = (f"got shape {list(divisor.shape)} for divisor" if divisor._data.ndim
            else "got a sparse divisor")
    return f"Sparse division requires a scalar or zero-dim dense tensor divisor ({what})"


def _tensor_operand(other) -> bool:
    """Whether ``sparse * other`` takes torch's tensor kernels (``ember/sparse/_mul.py``):
    a sparse or dense tensor with elements, or a 0-d one that requires grad."""
    return isinstance(other, Tensor) and (other.is_sparse or bool(other._data.ndim) or (
        other._rg and grad_mode.state.enabled))


def _factor(other):
    """A scalar operand's value; one that requires grad is refused (its gradient would be lost)."""
    if isinstance(other, Tensor):
        if other._rg and grad_mode.state.enabled:
            raise NotImplementedError("ember: a sparse tensor times a scalar tensor that "
                                      "requires grad is not differentiated; use a number")
        return other.item()
    return other


class SparseTensor(Tensor):
    """A sparse COO tensor: ``indices`` (``sparse_dim x nnz``, int64) and ``values``
    (``nnz x dense dims``); duplicate indices add up. Made by ``ember.sparse_coo_tensor``,
    ``Tensor.to_sparse()`` and the backward of ``nn.Embedding(sparse=True)``.
    """

    __slots__ = ()

    # --- layout ---------------------------------------------------------------------------
    @property
    def layout(self):
        """``ember.sparse_coo``."""
        return LAYOUTS["sparse_coo"]

    @property
    def is_sparse(self) -> bool:
        """True."""
        return True

    def sparse_dim(self) -> int:
        """Number of sparse (indexed) dims."""
        return self._data.sparse_dim

    def dense_dim(self) -> int:
        """Number of dense dims (those of each value)."""
        return self._data.ndim - self._data.sparse_dim

    def _nnz(self) -> int:
        """Number of stored entries (duplicates counted)."""
        return self._data.nnz

    def is_coalesced(self) -> bool:
        """Whether the entries are sorted with no duplicate index."""
        return self._data.coalesced

    def _coalesced_(self, coalesced: bool) -> SparseTensor:
        """Set the coalesced flag (unchecked, as torch)."""
        self._data.coalesced = bool(coalesced)
        return self

    def _indices(self) -> Tensor:
        """The indices as stored (shared), coalesced or not."""
        return _wrap(self._data.indices)

    def _values(self) -> Tensor:
        """The values as stored (shared, not differentiable)."""
        return _wrap(self._data.values)

    def indices(self) -> Tensor:
        """The indices of a coalesced tensor (shared)."""
        if not self._data.coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return _wrap(self._data.indices)

    def values(self) -> Tensor:
        """The values of a coalesced tensor; differentiable (``ValuesBackward0``)."""
        if not self._data.coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        if self._rg and grad_mode.state.enabled:
            return _ag.Values.apply(self)
        return _wrap(self._data.values)

    def coalesce(self) -> SparseTensor:
        """Self if coalesced, else a copy with sorted, unique indices (duplicates summed)."""
        if self._data.coalesced:
            return self
        return _ag.apply_sparse(_ag.Coalesce, self)

    # --- conversion -------------------------------------------------------------------------
    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        """The dense tensor; backward gives a sparse gradient at this tensor's entries (with
        ``masked_grad=False``: at the nonzero elements of the incoming gradient)."""
        if dtype is not None:
            raise RuntimeError("dtype argument is not supported by sparse_to_dense")
        return _ag.ToDense.apply(self, masked=masked_grad is None or bool(masked_grad))

    def to_sparse(self, *args, layout=None, blocksize=None, dense_dim=None) -> SparseTensor:
        """Self (already sparse COO)."""
        from . import _convert

        _convert.check_sparse_layout(layout, blocksize, dense_dim)
        return self

    to_sparse_coo = to_sparse

    def numpy(self, *, force=False):
        """Raises torch's TypeError: densify first."""
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def tolist(self):
        """Raises torch's error (no storage)."""
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def data_ptr(self) -> int:
        """Raises torch's error (no storage)."""
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def stride(self, dim=None):
        """Zeros, as torch reports for a sparse tensor."""
        st = (0,) * self._data.ndim
        return st if dim is None else st[dim]

    def is_contiguous(self, *, memory_format=None) -> bool:
        """False."""
        return False

    def contiguous(self, *, memory_format=None):
        """Raises torch's error."""
        raise RuntimeError("unsupported memory format option Contiguous")

    def reshape(self, *shape):
        """Raises torch's error."""
        raise RuntimeError("reshape is not implemented for sparse tensors")

    def isreal(self):
        """Raises torch's error (its ``isreal`` makes a strided tensor like this one)."""
        raise RuntimeError("memory format option is only supported by strided tensors")

    def set_(self, source=None, storage_offset=0, size=None, stride=None):
        """Raises torch's NotImplementedError (a sparse tensor has no storage to set)."""
        raise NotImplementedError(could_not_run("set_" if source is None else
                                                "set_.source_Tensor"))

    def to(self, *args, **kwargs) -> SparseTensor:
        """Convert the values' dtype (only ``"cpu"`` as device); self when nothing changes."""
        dtype = kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", False)
        for a in args:
            if isinstance(a, _dtype.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
        if dtype is None or _dtype.convert(dtype).np == self._data.dtype:
            return self.clone() if copy else self
        return self._map_values(lambda v: v.to(dtype), "ToCopyBackward0")

    def type(self, dtype=None):
        """The type name (``torch.sparse.FloatTensor``), or a converted tensor."""
        if dtype is None:
            return super().type().replace("torch.", "torch.sparse.")
        return self.to(dtype)

    # --- graph --------------------------------------------------------------------------
    def detach(self) -> SparseTensor:
        """The same indices and values, cut from the graph."""
        t = wrap(Coo(self._data.indices, self._data.values, self._data.shape,
                     self._data.coalesced))
        t._vc = self._vc
        return t

    @property
    def data(self) -> SparseTensor:
        """A detached tensor sharing indices and values."""
        return self.detach()

    @data.setter
    def data(self, value):
        self._data = value._data

    def clone(self, *, memory_format=None) -> SparseTensor:
        """A copy of indices and values (coalesced flag kept); differentiable."""
        return self._map_values(lambda v: v.clone(), "CloneBackward0", copy_indices=True)

    def _map_values(self, fn, node_name, factor=1, copy_indices=False):
        """A sparse tensor with this one's indices and ``fn(values)``, ``factor`` times this
        one (so the gradient is ``factor * grad``)."""
        from ..autograd.grad_mode import no_grad

        c = self._data
        with no_grad():
            values = fn(_wrap(c.values))._data
        if not (self._rg and grad_mode.state.enabled):
            idx = c.indices.copy() if copy_indices else c.indices
            return wrap(Coo(idx, values, c.shape, c.coalesced))
        return _ag.apply_sparse(_ag.SparseScale, self, values=values, factor=factor,
                                copy_indices=copy_indices, node_name=node_name)

    # --- arithmetic ---------------------------------------------------------------------
    def mul(self, other) -> SparseTensor:
        """``self * other`` for a scalar, a dense tensor (broadcast) or a sparse tensor of the
        same size: a sparse result, with torch's entries and gradients (``sparse/_mul.py``)."""
        if _tensor_operand(other):
            from . import _mul

            return _mul.mul(self, other)
        other = _scalar_operand("mul", other)
        if other is NotImplemented:
            return NotImplemented
        return self._map_values(lambda v: v * other, "MulBackward0", _factor(other))

    __mul__ = __rmul__ = mul

    def div(self, other, *, rounding_mode=None) -> SparseTensor:
        """``self / other`` for a scalar or 0-d dense ``other`` (sparse result)."""
        other = _scalar_operand("div", other)
        if other is NotImplemented:
            return NotImplemented
        if rounding_mode is None and _tensor_operand(other):  # a 0-d divisor that needs grad
            from . import _mul

            return _mul.div_by_tensor(self, other)
        if rounding_mode is not None:  # of the summed entries; no gradient, as torch
            from ..ops import div

            return self.coalesce()._map_values(lambda v: div(v, other, rounding_mode=rounding_mode),
                                    "DivBackward2", 0 * _factor(other))
        return self._map_values(lambda v: v / other, "DivBackward0", 1 / _factor(other))

    __truediv__ = div

    def __rtruediv__(self, other):
        if isinstance(other, Tensor):  # dense / sparse (Python asks the subclass first)
            raise RuntimeError(div_error(self))
        raise NotImplementedError(could_not_run("reciprocal"))

    def neg(self) -> SparseTensor:
        """``-self`` (sparse)."""
        return self._map_values(lambda v: -v, "NegBackward0", -1)

    __neg__ = neg

    def add(self, other, *, alpha=1) -> Tensor:
        """``self + alpha * other`` for a sparse ``other`` of the same size (sparse result)."""
        from . import _ops

        return _ops.add(self, other, alpha=alpha)

    def __add__(self, other):
        return self.add(other)

    def __radd__(self, other):
        if isinstance(other, Tensor):
            return other.add(self)
        return self.add(other)

    def sub(self, other, *, alpha=1) -> Tensor:
        """``self - alpha * other`` for a sparse ``other`` of the same size."""
        return self.add(other, alpha=-alpha)

    __sub__ = sub

    def add_(self, other, *, alpha=1) -> SparseTensor:
        """In place: ``self += alpha * other`` for a sparse ``other``."""
        from . import _ops

        return _ops.add_(self, other, alpha)

    __iadd__ = add_

    def mul_(self, other) -> SparseTensor:
        """In place: ``self *= other`` for a scalar, dense or sparse ``other`` (the entries of
        ``self * other``; not differentiated)."""
        from . import _ops

        if _tensor_operand(other):
            return _ops.mul_tensor_(self, other)
        return _ops.scale_(self, _scalar_operand("mul", other))

    __imul__ = mul_

    def div_(self, other) -> SparseTensor:
        """In place: ``self /= other`` for a scalar ``other``."""
        from . import _ops

        return _ops.scale_(self, _scalar_operand("div", other), divide=True)

    __itruediv__ = div_

    def zero_(self) -> SparseTensor:
        """In place: no entries left (nnz 0)."""
        self._data.fill(0)
        self._vc[0] += 1
        return self

    def sum(self, dim=None, keepdim=False, dtype=None) -> Tensor:
        """Sum of all entries (0-d, dense), or over ``dim`` (sparse, as ``sparse.sum``)."""
        from . import sum as sparse_sum

        if keepdim or dtype is not None:
            raise NotImplementedError(could_not_run("sum.dim_IntList"))
        return sparse_sum(self, dim)

    def transpose(self, dim0, dim1) -> SparseTensor:
        """Swap two sparse dims (an uncoalesced copy; torch refuses dense dims)."""
        from . import _shape

        return _shape.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def t(self) -> SparseTensor:
        """The transpose of a sparse matrix (at most 2 sparse and no dense dims)."""
        from . import _shape

        return _shape.t(self)

    def narrow_copy(self, dim, start, length) -> SparseTensor:
        """The entries within ``start:start + length`` of ``dim``, as a new sparse tensor."""
        from . import _shape

        return _shape.narrow_copy(self, dim, start, length)

    def index_select(self, dim, index) -> SparseTensor:
        """The slices at ``index`` along ``dim`` (torch's entry order; uncoalesced)."""
        from . import _shape

        return _shape.index_select(self, dim, index)

    def mm(self, mat2) -> Tensor:
        """``self @ mat2`` for a dense ``mat2`` (``sparse.mm``'s gradients)."""
        from . import mm

        return mm(self, mat2)

    # --- printing -----------------------------------------------------------------------
    def __repr__(self):
        from ._format import format_sparse

        return format_sparse(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise TypeError("ember cannot pickle a sparse tensor; densify it with .to_dense()")

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        new = wrap(self._data.copy(), self._rg)
        memo[id(self)] = new
        return new
