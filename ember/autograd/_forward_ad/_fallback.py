"""Tangents for ops without a rule, from their reverse-mode formula (the double-vjp trick).

The vector-Jacobian product ``g(u) = J^T u`` of an op is linear in ``u``, so
``<g(u), t> = <u, J t>`` and its gradient with respect to ``u`` is the Jacobian-vector
product ``J t``. With the op recorded once, the engine gives both steps:

1. ``g = grad(out, inputs, u, create_graph=True)``, the op's Tensor formula
   (``backward_graph``, as for double backward) run on a stand-in ``u``;
2. ``J t = grad(sum_i <g_i, t_i>, u)``.

The op's forward runs once (random ops draw once). Inputs that require grad are used as
they are, so that the tangent stays differentiable with respect to them; dual inputs that
do not get a leaf alias that requires grad, whose edges are cut from the node afterwards.
An op without ``backward_graph`` raises torch's NotImplementedError, and so does one whose
formula cannot be differentiated (its gradient hangs from an error node).
"""
from __future__ import annotations

import numpy as np

from ... import _tensor as _t
from .. import grad_mode
from . import _state
from ._apply import ORIG


def unsupported(cls) -> str:
    """torch's message for an op without forward AD, with the op's aten name."""
    from ...profiler._record import op_name

    return (f"Trying to use forward AD with {op_name(cls).replace('aten::', '')} that does not "
            "support it because it has not been implemented yet.\nPlease file an issue to "
            "PyTorch at https://github.com/pytorch/pytorch/issues/new?template=feature-request"
            ".yml so that we can prioritize its implementation or submit a PR adding the "
            "implementation to derivatives.yaml")


def run(cls, inputs, ts, options):
    """``(output, tangents)`` of ``cls`` on ``inputs`` whose tangents are ``ts``."""
    if getattr(cls, "backward_graph", None) is None:
        raise NotImplementedError(unsupported(cls))
    from .. import grad as autograd_grad

    grad_on = grad_mode.state.enabled
    stand, targets, real = [], [], False
    for x, t in zip(inputs, ts):
        s = x
        if isinstance(x, _t.Tensor) and x._rg and grad_on:
            real = True
        elif t is not None:
            s = _t._wrap(x._data, requires_grad=True)
        stand.append(s)
        if t is not None and not any(s is d for d, _ in targets):
            targets.append((s, t))
    needs_graph = grad_on and (real or any(t is not None and t._rg for t in ts))
    with _state.passthrough(), grad_mode.enable_grad():
        out = ORIG["op_apply"](cls, *stand, **options)
        outs = out if isinstance(out, tuple) else (out,)
        diff = [i for i, o in enumerate(outs) if isinstance(o, _t.Tensor) and o._rg]
        us = [_t._wrap(np.zeros(outs[i]._data.shape, outs[i]._data.dtype), requires_grad=True)
              for i in diff]
        touts = [None] * len(outs)
        if diff:
            gs = autograd_grad([outs[i] for i in diff], [s for s, _ in targets], us,
                               create_graph=True, allow_unused=True)
            total = None
            for g, (_, t) in zip(gs, targets):
                if g is not None:
                    term = _pairing(g, t)
                    total = term if total is None else total + term
            jvps = [None] * len(us)
            if total is not None and total._rg:
                try:
                    jvps = autograd_grad(total, us, create_graph=needs_graph,
                                         allow_unused=True)
                except NotImplementedError:  # the formula's gradient hangs from an error node
                    raise NotImplementedError(unsupported(cls)) from None
            for i, u, j in zip(diff, us, jvps):
                touts[i] = j if j is not None else _t._wrap(np.zeros_like(u._data))
            if not needs_graph:
                touts = [None if j is None else j.detach() for j in touts]
    if real:
        _cut_stand_ins(outs, inputs, stand)
    else:
        outs = tuple(_t._wrap(o._data) if isinstance(o, _t.Tensor) else o for o in outs)
    if isinstance(out, tuple):
        return outs, tuple(touts)
    return outs[0], touts[0]


def _pairing(g, t):
    """``<g, t>``, the real number whose gradient with respect to ``u`` is ``J t``:
    ``sum(g * t)`` for real tensors, ``Re(sum(conj(g) * t))`` for complex ones. (torch's
    vjp ``g(u) = conj(A) u + B conj(u)`` of ``J t = A t + B conj(t)`` is only real-linear in
    ``u``; the gradient of that real part is ``A t + B conj(t)`` under its convention.)"""
    if g._data.dtype.kind != "c" and t._data.dtype.kind != "c":
        return (g * t).sum()
    return (g.conj() * t).real.sum()


def _cut_stand_ins(outs, inputs, stand):
    """The user's output keeps its node: cut the edges to the aliases that stood in for
    inputs that need no gradient."""
    node = next((o._grad_fn for o in outs if isinstance(o, _t.Tensor) and o._grad_fn), None)
    if node is None:
        return
    edges = list(node.next_functions)
    for i, (x, s) in enumerate(zip(inputs, stand)):
        if s is not x and i < len(edges):
            edges[i] = (None, 0)
    node.next_functions = tuple(edges)
    node.needs_input_grad = tuple(fn is not None for fn, _ in edges)
