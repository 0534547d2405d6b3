"""Sparse gradients in the backward engine (``autograd/engine.py`` calls these off its dense
path): checking one against its input, and accumulating one into a leaf's ``.grad``."""
from __future__ import annotations

import numpy as np

from .._tensor import _wrap
from ._coo import Coo, merge_add, to_dense


def validated(node, i, g: Coo, meta):
    """``g`` checked against the input's (shape, dtype): torch's error for a wrong shape."""
    shape, dtype = meta
    if g.shape != shape:
        from ..autograd import _errors

        raise RuntimeError(_errors.invalid_gradient(node, i, g.shape, shape))
    return g if g.dtype == dtype else g.astype(dtype)


def as_tensor(g):
    """The gradient ``g`` (a Coo or an array) as a Tensor."""
    if isinstance(g, Coo):
        from ._tensor import wrap

        return wrap(g)
    return _wrap(g)


def accumulate(t, g, shared):
    """Add gradient ``g`` into leaf ``t``'s ``.grad`` when one of them is sparse, as torch's
    AccumulateGrad: a first sparse gradient is kept, re-marked uncoalesced unless it has
    fewer than 2 entries (torch's ``_sparse_coo_tensor_unsafe``), or cloned, its mark kept,
    when its indices or values are not contiguous or someone else holds it; sparse + sparse
    is torch's in-place ``add_`` (merge or concatenation, ``_coo.merge_add``) on the same
    ``.grad`` object; a dense ``.grad`` takes a sparse gradient in place; a sparse ``.grad``
    meeting a dense gradient is replaced by their dense sum."""
    if not isinstance(g, Coo):  # a NumPy scalar (a sum of 0-d gradients): dense after all
        g = np.asarray(g)
    if t._hooks:
        for hook in t._hooks:
            r = hook(as_tensor(g))
            if r is not None:
                g, shared = r._data, True
    dtype = t._data.dtype
    if g.dtype != dtype:
        g = g.astype(dtype)
    grad = t._grad
    if grad is None:
        if isinstance(g, Coo):
            from ._tensor import wrap

            if shared or not (g.values.flags.c_contiguous and g.indices.flags.c_contiguous):
                g = Coo(g.indices.copy(), np.array(g.values, order="C"), g.shape, g.coalesced)
            else:
                g = Coo(g.indices, g.values, g.shape)
            t._grad = wrap(g)
        else:
            fresh = not shared and g.base is None and g.flags.writeable and g.flags.owndata
            t._grad = _wrap(g if fresh else g.copy())
    else:
        acc = grad._data
        if isinstance(acc, Coo):
            if isinstance(g, Coo):
                r = merge_add(acc, g, dtype=acc.dtype)
                acc.indices, acc.values, acc.coalesced = r.indices, r.values, r.coalesced
            else:
                add_into_sparse(t, g)
        elif not isinstance(g, Coo):
            acc += g
        elif g.sparse_dim:  # a dense .grad takes the sparse gradient in place (index_add)
            np.add.at(acc, tuple(g.indices), g.values)
        elif g.nnz:
            acc += g.values.sum(axis=0)
    hooks = t._post_acc_hooks
    if hooks:
        for hook in hooks:
            hook(t)


def add_into_sparse(t, g: np.ndarray):
    """A dense gradient reaches a leaf whose ``.grad`` is sparse: torch sets
    ``.grad = new_grad + .grad``, a new dense tensor (the sparse one is left as it was)."""
    t._grad = _wrap(g + to_dense(t._grad._data, g.dtype))
