"""``ember.sparse_coo_tensor`` and ``Tensor.to_sparse``: making sparse COO tensors."""
from __future__ import annotations

import warnings

import numpy as np

from .. import _tensor as _t
from .._layout import LAYOUTS, layout
from . import _autograd as _ag
from . import _ops

_IMPLICIT = (
    "Sparse invariant checks are implicitly disabled. Memory errors (e.g. SEGFAULT) will occur "
    "when operating on a sparse tensor which violates the invariants, but checks incur "
    "performance overhead. To silence this warning, explicitly opt in or out. See "
    "`torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance.")

# [checks enabled, set explicitly, warned]: torch's global flag (check_sparse_tensor_invariants)
STATE = [False, False, False]


def check_sparse_layout(value, blocksize=None, dense_dim=None):
    """Refuse a ``layout=`` other than sparse COO (ember has no CSR/BSR tensors)."""
    if value is not None and value is not LAYOUTS["sparse_coo"]:
        if not isinstance(value, layout):
            raise TypeError(f"to_sparse(): argument 'layout' must be torch.layout, not "
                            f"{type(value).__name__}")
        raise NotImplementedError(f"to_sparse(layout={value}): ember has only sparse COO "
                                  "tensors")
    if blocksize is not None or dense_dim is not None:
        raise RuntimeError("to_sparse for Strided to SparseCoo conversion does not use "
                           "specified blocksize or dense_dim")


def _indices_array(indices):
    arr = indices._data if isinstance(indices, _t.Tensor) else np.asarray(indices)
    if arr.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(arr.shape)}")
    return arr.astype(np.int64)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None,
                      is_coalesced=None):
    """A sparse COO tensor with entries ``values`` at ``indices`` (``sparse_dim x nnz``).

    Args:
        indices: integer indices, one column per entry (int64 after conversion).
        values: one value (a scalar or a dense slice) per entry; a Tensor is kept, its
            graph too (the result's ``grad_fn`` then leads back to it).
        size: the full size; by default each sparse dim is one more than its largest index.
        dtype: the values' dtype (default: that of ``values``).
        device: only the CPU.
        requires_grad: make the result a leaf that requires grad.
        check_invariants: check that indices are in range (and coalesced when
            ``is_coalesced``); None: the global setting, with torch's warning once.
        is_coalesced: mark the result coalesced (checked only with the invariant checks).

    Returns:
        A Tensor with ``layout == ember.sparse_coo``.

    Raises:
        RuntimeError: torch's errors for mismatched nnz, sizes and (checked) indices.
    """
    from .. import _backend, _creation, _dtype

    _backend.check_device(device)
    idx = _indices_array(indices)
    if isinstance(values, _t.Tensor):
        if dtype is not None:
            values = values.to(_dtype.convert(dtype))
    else:
        values = _creation.tensor(values, dtype=dtype)
    v = values._data
    sparse_dim, nnz = idx.shape
    if v.ndim == 0 or v.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {v.shape[0] if v.ndim else 1}")
    dense_dim = v.ndim - 1
    if size is None:
        sizes = tuple(int(m) + 1 for m in idx.max(axis=1)) if nnz else (0,) * sparse_dim
        shape = sizes + v.shape[1:]
    else:
        shape = tuple(int(s) for s in size)
        if len(shape) != sparse_dim + dense_dim:
            raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: "
                               f"len(size) = {len(shape)}, sparse_dim = {sparse_dim}, "
                               f"dense_dim = {dense_dim}")
        if shape[sparse_dim:] != v.shape[1:]:
            want = [nnz, *shape[sparse_dim:]]
            raise RuntimeError(f"values has incorrect size, expected {want}, got "
                               f"{list(v.shape)}")
    if check_invariants is None:
        check_invariants = STATE[0]
        if not STATE[1] and not STATE[2]:
            STATE[2] = True
            warnings.warn(_IMPLICIT, UserWarning, stacklevel=2)
    if check_invariants:
        _check_invariants(idx, shape, sparse_dim, bool(is_coalesced))
    if requires_grad and v.dtype.kind not in "fc":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    out = _ops.from_values(idx, values, shape, bool(is_coalesced))
    if requires_grad:
        out._rg = True
    return out


def _check_invariants(idx, shape, sparse_dim, coalesced):
    for d in range(sparse_dim):
        row = idx[d]
        if row.size and row.min() < 0:
            raise RuntimeError(f"found negative index {int(row.min())} for dim {d}")
        if row.size and row.max() >= shape[d]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                               f"{shape[d]} but found index {int(row.max())}")
    if coalesced and idx.shape[1] > 1:
        from ._coo import linear_index

        lin = linear_index(idx, shape[:sparse_dim])
        if (np.diff(lin) <= 0).any():
            raise RuntimeError("cannot set is_coalesced to true if indices correspond to "
                               "uncoalesced COO tensor")


def to_sparse(self, *args, layout=None, blocksize=None, dense_dim=None, sparse_dim=None):
    """This dense tensor as sparse COO: its nonzero entries (or, with ``sparse_dim``, its
    nonzero slices along the first ``sparse_dim`` dims), coalesced; differentiable."""
    if args:
        if len(args) > 1 or sparse_dim is not None:
            raise TypeError("to_sparse() takes at most 1 positional argument")
        sparse_dim = args[0]
    check_sparse_layout(layout, blocksize, dense_dim)
    ndim = self._data.ndim
    if sparse_dim is None:
        sparse_dim = ndim
    elif not 0 <= sparse_dim <= ndim:
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{ndim}] range, "
                           f"but {sparse_dim} is given")
    elif sparse_dim == 0 and ndim:
        raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when self.dim()>0")
    return _ag.apply_sparse(_ag.ToSparse, self, sparse_dim=int(sparse_dim))


def to_sparse_coo(self):
    """This dense tensor as sparse COO (all dims sparse)."""
    return to_sparse(self)
