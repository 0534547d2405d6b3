"""What the formula modules share: registration and the Tensor twins of the array helpers."""
from __future__ import annotations

import numpy as np

from ..._tensor import _wrap
from ...autograd._double_backward import saved_tensors, stand_in  # noqa: F401


def formula(*ops):
    """Decorator: the function is the ``backward_graph`` of each op in ``ops``."""

    def register(fn):
        for op in ops:
            op.backward_graph = staticmethod(fn)
        return fn

    return register


def const(a, dtype=None):
    """An array (or number) as a Tensor that needs no gradient."""
    return _wrap(np.asarray(a, dtype))


def sum_to(g, shape):
    """``g`` summed over the dims broadcasting added or stretched, back to ``shape`` (the
    Tensor twin of ``sum_to_shape``)."""
    shape = tuple(shape)
    if g._data.shape == shape:
        return g
    lead = g.ndim - len(shape)
    dims = list(range(lead)) + [i + lead for i, s in enumerate(shape)
                                if s == 1 and g.shape[i + lead] != 1]
    if dims:
        g = g.sum(dim=dims, keepdim=True)
    return g.reshape(shape)


def kept_shape(grad, x_shape, axes, keepdim):
    """``grad`` of a reduction, with the reduced axes back in as size 1."""
    if axes is None:
        shape = (1,) * len(x_shape)
    elif keepdim:
        return grad
    else:
        shape = tuple(1 if i in axes else s for i, s in enumerate(x_shape))
    return grad if grad._data.shape == shape else grad.reshape(shape)


def expand_back(grad, x_shape, axes, keepdim):
    """``grad`` of a reduction broadcast back over the reduced axes to ``x_shape``."""
    g = kept_shape(grad, x_shape, axes, keepdim)
    return g if g._data.shape == tuple(x_shape) else g.expand(*x_shape)
