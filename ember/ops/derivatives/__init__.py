"""Backward formulas on Tensors (``backward_graph``), for ``create_graph=True``.

Each op's ``backward`` (beside its forward) works on NumPy arrays: nothing it computes is
recorded. The formulas here are the same chain rule written with ember ops on Tensors, so
that running them records a graph: the gradients they return can be differentiated again
(torch keeps these formulas in ``tools/autograd/derivatives.yaml``). One module per family;
``@formula(Op)`` sets ``Op.backward_graph``.

A formula gets the node (``ctx``, with what forward kept on it) and the output gradients as
Tensors, and returns one Tensor or None per input. ``saved_tensors(ctx)`` gives what forward
saved as Tensors on the graph: an input's array on that input's edge, an output's on the
node, anything else (masks, indices) as a constant.
"""
from . import (  # noqa: F401  (registers the formulas)
    complex,
    indexing,
    linalg,
    linalg_more,
    pointwise,
    pointwise_more,
    reduce,
    reduce_more,
    shape,
    shape_more,
)
from ._common import const, expand_back, formula, saved_tensors, stand_in, sum_to  # noqa: F401
