"""``F.linear`` recorded node for node as torch records it.

torch's ``F.linear`` is ``addmm(bias, x, weight.t())`` for a 2-D input; for any other input
with a bias that is one row (``(out,)``, ``(1, out)``, ...) and contiguous input, the same
on a 2-D view of ``x``, viewed back to ``x``'s batch shape; otherwise
``matmul(x, weight.t())`` and an in-place ``add_`` of the bias. So the graph of a
``Linear`` layer reads::

    AddmmBackward0
        AccumulateGrad   (bias)
        <the input's node>
        TBackward0
            AccumulateGrad   (weight)

ember records exactly these nodes. The arithmetic stays one GEMM forward and one per input
backward: ``LinearAddmm`` computes ``x @ weight.T + bias`` straight from the weight, and
hands back the weight's gradient already laid out as the weight, for ``WeightT`` to pass on.
"""
from __future__ import annotations

import numpy as np

from .._tensor import _mark_view, _wrap
from ..autograd.function import Op
from . import linalg, shape
from ._opmath import HALF
from ._shape_utils import sum_to_shape


class WeightT(Op):
    """z = w.T for the weight of ``F.linear`` (torch's ``weight.t()``, a view)"""

    _backward_name = "TBackward0"

    @staticmethod
    def forward(ctx, w):
        return w.T

    @staticmethod
    def backward(ctx, grad):
        # LinearAddmm's gradient for w.T is the transpose of a fresh array in the weight's
        # layout: hand that array on whole, so that .grad keeps it without a copy
        fresh = ctx.__dict__.pop("_fresh", None)
        if fresh is not None and grad.base is fresh and grad.shape == fresh.shape[::-1] \
                and grad.strides == fresh.strides[::-1]:  # grad is all of fresh, transposed
            return fresh
        return grad.T


class LinearAddmm(Op):
    """z = bias + x @ wt, with wt = weight.t() (torch's addmm inside ``F.linear``)"""

    _backward_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, b, x, wt):
        need = ctx.needs_input_grad
        if need:  # as torch: x for the weight's gradient, the weight for x's
            ctx.save_for_backward(x if need[2] else None, wt if need[1] else None)
            ctx.b_shape, ctx.mm_shapes = b.shape, (x.shape, wt.shape)
        if x.dtype is HALF:  # float32 products plus the bias, rounded once (torch's half gemm)
            out = np.matmul(x.astype(np.float32), wt.astype(np.float32))
            out += b
            return out.astype(np.float16)
        out = np.matmul(x, wt)
        out += b
        return out

    @staticmethod
    def backward(ctx, grad):
        x, wt = ctx.saved_tensors
        need = ctx.needs_input_grad
        gb = gx = gwt = None
        if need[0]:
            if grad.dtype is HALF:
                gb = sum_to_shape(grad.astype(np.float32), ctx.b_shape).astype(HALF)
            elif ctx.b_shape == grad.shape[1:]:
                gb = grad.sum(axis=0)
            else:
                gb = sum_to_shape(grad, ctx.b_shape)
        if need[1]:
            gx = np.matmul(grad, wt.T)
        if need[2]:
            fresh = np.matmul(grad.T, x)  # the weight's gradient, in the weight's layout
            gwt = fresh.T
            t_node = ctx.next_functions[2][0]
            if t_node._fn is WeightT:
                t_node._fresh = fresh
        return gb, gx, gwt


def weight_t(weight):
    """``weight.t()`` as ``F.linear`` takes it: a view, recorded as ``TBackward0``."""
    return _mark_view(WeightT.apply(weight), weight)


def addmm_linear(bias, x, weight):
    """``addmm(bias, x, weight.t())`` for a 2-D ``x``, with addmm's errors."""
    bd, xd, wd = bias._data, x._data, weight._data
    if xd.shape[1] != wd.shape[1] or xd.dtype is not wd.dtype or bd.dtype is not wd.dtype:
        linalg.check_linear(xd, wd, bd)
    if bd.shape != wd.shape[:1]:
        shape.expand(_wrap(bd), xd.shape[0], wd.shape[0])  # torch's error: bias can't cover
    return LinearAddmm.apply(bias, x, weight_t(weight))


def _bias_is_one_row(bias):
    """torch's test for the flattened path: a contiguous bias with one non-1 dim or fewer."""
    d = bias._data
    return (d.ndim == 1 or sum(s != 1 for s in d.shape) == 1) and d.flags.c_contiguous


def record(input, weight, bias):
    """``F.linear`` with grad recorded, through torch's nodes (see the module docstring)."""
    nd = input._data.ndim
    if bias is not None:
        if nd == 2:
            return addmm_linear(bias, input, weight)
        if _bias_is_one_row(bias) and input._data.flags.c_contiguous:
            lead = input._data.shape[:-1]
            rows = int(np.prod(lead, dtype=np.int64))
            out = addmm_linear(bias, shape.reshape(input, (rows, input._data.shape[-1])), weight)
            return shape.view(out, lead + (out._data.shape[1],))
    out = linalg.matmul(input, weight_t(weight))
    if bias is not None:
        out.add_(bias)
    return out
