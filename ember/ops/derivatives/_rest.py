"""Helpers for the formulas of the last batch (``*_more.py``): a delayed error where torch has
no double backward, a zero on an input's edge for ops that saved ``x - y`` instead of their
inputs, and ``LinearMap`` for the linear ops that move elements around in ways no other
ember op does (regions of views and strided storage)."""
from __future__ import annotations

import numpy as np

from ...autograd import grad_mode
from ...autograd._double_backward import _delayed_error, stand_in
from ...autograd.function import Op
from ._common import formula


def delayed(ctx, grads, message, error_type=NotImplementedError):
    """The op's NumPy gradients, hanging from a node that raises ``message`` when they are
    differentiated again (where torch has no double backward for the op)."""
    from ...autograd.engine import _call_backward

    arrays = [None if g is None else g._data for g in grads]
    with grad_mode.no_grad():
        res = _call_backward(ctx, arrays, None)
    res = [None if r is None else np.asarray(r) for r in res]
    return _delayed_error(ctx, grads, res, message, error_type)


def zero_on_edge(ctx, i, shape, dtype):
    """Zeros on the edge of input ``i``: the input minus its own value, as a Tensor.

    For ops whose forward saved ``d = x - y`` (dist, cdist) or ``2 ** y`` (ldexp) but not
    the inputs: ``const(d) + (x0 - y0)``, with ``x0``, ``y0`` these zeros, has ``d``'s
    value and its derivatives reach ``x`` and ``y``, as ``x - y`` would.
    """
    return stand_in(ctx, i, np.zeros(shape, dtype))


class LinearMap(Op):
    """z = fn(x) for a linear ``fn`` given with its adjoint (the transpose): what the
    gradient of a linear op's backward needs, where no ember op does that rearrangement."""

    _backward_name = "LinearMapBackward"

    @staticmethod
    def forward(ctx, x, *, fn, adjoint):
        ctx.fn, ctx.adjoint = fn, adjoint
        return np.asarray(fn(x))

    @staticmethod
    def backward(ctx, grad):
        return np.asarray(ctx.adjoint(grad))


@formula(LinearMap)
def _linear_map(ctx, grad):
    return LinearMap.apply(grad, fn=ctx.adjoint, adjoint=ctx.fn)
