"""Sparse + sparse and in-place scaling, with torch's checks and results."""
from __future__ import annotations

import numpy as np

from .. import _tensor as _t
from ..autograd import grad_mode
from . import _autograd as _ag
from . import _coo
from ._coo import Coo


def _check_pair(a, b):
    """torch's errors for ``sparse + other``: a dense other, a size or density mismatch."""
    if not isinstance(b, _t.Tensor) or not b.is_sparse:
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")
    ca, cb = a._data, b._data
    if ca.shape != cb.shape:
        raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but "
                           f"{list(ca.shape)} != {list(cb.shape)}")
    if ca.sparse_dim != cb.sparse_dim:
        raise RuntimeError(f"add: expected 'self' and 'other' to have same density, but "
                           f"'self' has {ca.sparse_dim} sparse dimensions while 'other' has "
                           f"{cb.sparse_dim} sparse dimensions")


def add(a, b, alpha=1):
    """``a + alpha * b`` for two sparse COO tensors of one size (sparse result)."""
    from ._tensor import wrap

    _check_pair(a, b)
    ca, cb = a._data, b._data
    if not ((a._rg or b._rg) and grad_mode.state.enabled):
        return wrap(_coo.merge_add(ca, cb, alpha))
    return _ag.apply_sparse(_ag.SparseAdd, a, b, alpha=alpha)


def _dt(np_dtype):
    from .. import _dtype

    return _dtype.from_numpy(np.dtype(np_dtype))


def _check_inplace(t):
    if t._rg and t._grad_fn is None and grad_mode.state.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def add_(a, b, alpha=1):
    """In place ``a += alpha * b`` (both sparse): a's entries become the sum's."""
    _check_pair(a, b)
    _check_inplace(a)
    c = a._data
    r = _coo.merge_add(c, b._data, alpha, dtype=c.dtype)
    c.indices, c.values, c.coalesced = r.indices, r.values, r.coalesced
    a._vc[0] += 1
    return a


def scale_(a, factor, divide=False):
    """In place ``a *= factor`` (or ``/=``) for a scalar factor."""
    _check_inplace(a)
    c = a._data
    if isinstance(factor, _t.Tensor):
        factor = factor.item()
    if c.dtype.kind in "iub" and (divide or isinstance(factor, float)):
        from .._dtype import scalar_type_name

        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{scalar_type_name(c.dtype)}")
    v = c.values / factor if divide else c.values * factor
    c.values = v.astype(c.dtype, copy=False)
    a._vc[0] += 1
    return a


def from_values(indices: np.ndarray, values, shape, coalesced=False):
    """A sparse tensor with ``indices`` and the dense Tensor ``values`` (recorded when values
    require grad: ``SparseCooTensorWithDimsAndTensorsBackward0``)."""
    from ._tensor import wrap

    if values._rg and grad_mode.state.enabled:
        return _ag.apply_sparse(_ag.SparseCooTensor, values, indices=indices, shape=shape,
                                coalesced=coalesced)
    return wrap(Coo(indices, values._data, shape, coalesced))
