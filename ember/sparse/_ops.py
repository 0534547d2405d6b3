"""Sparse + sparse, dense +/- sparse (in place too), in-place scaling, and the top-level
``ember.add``/``sub``/``mul``/``div`` on sparse operands, with torch's checks and results."""
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


def mul_tensor_(a, other):
    """In place ``a *= other`` for a dense or sparse ``other``: ``a`` takes the entries of
    ``a * other`` (torch's ``mul_out`` into ``a``), whose dtype must be ``a``'s."""
    from .. import _dtype
    from . import _mul

    _check_inplace(a)
    if grad_mode.state.enabled and (a._rg or other._rg):
        raise NotImplementedError("ember: an in-place mul_ of a sparse tensor by a tensor that "
                                  "requires grad is not differentiated; use mul")
    dt = _dtype.result_type(a, other)
    if dt.np != a._data.dtype:
        raise RuntimeError(f"dtype of values ({_dtype.scalar_type_name(dt.np)}) must match "
                           f"dtype of sparse tensor ({_dtype.scalar_type_name(a._data.dtype)})")
    with grad_mode.no_grad():
        r = _mul.mul(a, other)._data
    if r.shape != a._data.shape:
        raise RuntimeError(f"output with shape {list(a._data.shape)} doesn't match the "
                           f"broadcast shape {list(r.shape)}")
    c = a._data
    c.indices, c.values, c.coalesced = r.indices, r.values, r.coalesced
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


def _is_sparse(v) -> bool:
    return isinstance(v, _t.Tensor) and isinstance(v._data, Coo)


def binary(name, input, other, alpha=1, out=None):
    """``ember.add``/``ember.sub`` (``name``) with a sparse operand, as torch: sparse with
    sparse gives a sparse sum; dense with sparse (of one size) a dense one; sparse with
    dense is torch's error. ``elementwise.add``/``sub`` send these here."""
    from ..ops._alpha import check_alpha

    a = -alpha if name == "sub" else alpha
    if _is_sparse(input):
        if alpha != 1 or isinstance(alpha, bool):
            _check_alpha_pair(input, other, alpha, name == "sub")
        r = add(input, other, a)
        if name == "sub" and r.grad_fn is not None:
            r.grad_fn.show_as("SubBackward0")
        return r if out is None else _into_sparse(r, out, name)
    s = other._data
    shape = getattr(input, "shape", ())
    if tuple(shape) != s.shape:
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(shape)} while other has size {list(s.shape)} (FYI: "
                           "dense-sparse addition does not currently support broadcasting)")
    if alpha != 1 or isinstance(alpha, bool):
        check_alpha(input, _t._wrap(s.values), alpha, negated=name == "sub")
    dtype = _dtype_promote(input._data.dtype, s.dtype)
    r = _ag.DenseSparseAdd.apply(input, other, alpha=a, dtype=dtype,
                                 node_name="SubBackward0" if name == "sub" else None)
    if out is None:
        return r
    from .._compat import _write_out

    return _write_out(name, r, out, (input,))


def _check_alpha_pair(a, b, alpha, negated):
    from ..ops._alpha import check_alpha

    if _is_sparse(b):
        check_alpha(_t._wrap(a._data.values), _t._wrap(b._data.values), alpha, negated)


def _dtype_promote(da, db):
    from .. import _dtype

    return _dtype.promote_types(_dtype.from_numpy(da), _dtype.from_numpy(db)).np


def _into_sparse(r, out, name):
    """``out=`` for a sparse result: ``out`` (sparse) takes its entries."""
    if not _is_sparse(out):
        raise RuntimeError(f"{name}(sparse, sparse, out=): expected 'out' to be a sparse tensor")
    if (r._rg or out._rg) and grad_mode.state.enabled:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    c = r._data.astype(out._data.dtype, copy=False)
    out._data.indices, out._data.values, out._data.coalesced = c.indices, c.values, c.coalesced
    out._data.shape = c.shape
    out._vc[0] += 1
    return out


def dense_inplace(t, name, other, alpha, fn):
    """``dense.add_(sparse)``/``sub_``/``mul_``/``div_``: torch's dtype check, then the
    out-of-place op written into ``t`` (recorded like any in-place op)."""
    dt = _dtype_promote(t._data.dtype, other._data.dtype)
    if dt != t._data.dtype and not np.can_cast(dt, t._data.dtype, "same_kind"):
        from .._dtype import scalar_type_name as _name

        raise RuntimeError(f"Can't convert result type {_name(dt)} to output "
                           f"{_name(t._data.dtype)} in {name} operation")
    if name == "mul":  # torch: the sparse product, densified (zeros elsewhere) into t
        return t._inplace(lambda x, s: fn(x, s).to_dense(), other)
    return t._inplace(fn, other, **({"alpha": alpha} if alpha != 1 else {}))


def dispatch(name, input, other, *args):
    """``ember.add``/``sub``/``mul``/``div`` (``name``) with a sparse operand (see
    ``ops._shape_utils.sparse_op``); ``args``: ``alpha, out`` or ``out[, rounding_mode]``."""
    if name in ("add", "sub"):
        return binary(name, input, other, *args)
    out, *mode = args
    r = scalar_op(name, input, other, *mode)
    if out is None:
        return r
    return _into_sparse(r, out, name)


def scalar_op(name, input, other, rounding_mode=None):
    """``ember.mul``/``ember.div`` with a sparse operand: the sparse tensor's method (a
    scalar or 0-d factor; ``mul`` with the sparse tensor second too)."""
    if name == "mul":
        if _is_sparse(input):
            return input.mul(other)
        return other.mul(input)
    if not _is_sparse(input):  # dense / sparse: torch's divisor check
        from ._tensor import div_error

        raise RuntimeError(div_error(other))
    return input.div(other, rounding_mode=rounding_mode)
