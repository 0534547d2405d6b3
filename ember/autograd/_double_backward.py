"""``create_graph=True``: the backward pass recorded as a graph of its own.

``engine.run_backward`` moves NumPy arrays from node to node: fast, and nothing it computes
is recorded. Higher-order gradients (Hessians, gradient penalties, MAML's inner step) need
the gradients to be differentiable in turn, so with ``create_graph=True`` this engine walks
the same graph in the same order (same dependency counts, same ready-heap) with two
differences:

1. the gradients it moves are Tensors and grad mode is on while it runs, so every op a
   backward formula uses is recorded: the gradients it returns have a ``grad_fn``;
2. each node runs its op's ``backward_graph(ctx, *grads)``, the op's backward formula
   written with ember ops on Tensors (``ember/ops/derivatives``, torch's derivatives.yaml),
   where the op's ``backward`` works on arrays. What forward saved comes back as Tensors on
   the graph (``saved_tensors``), as torch's ``SavedVariable`` does. A formula may return
   ``NotImplemented`` for a case it does not cover.

A user's ``autograd.Function`` needs nothing more: its backward already takes Tensors and
uses ember ops. An op without ``backward_graph`` still gives the right gradient, but that
gradient hangs from an ``Error`` node: differentiating through it again raises
NotImplementedError naming the op (torch's ``DelayedError``), never a silently wrong number.
"""
from __future__ import annotations

import heapq

import numpy as np

from .. import _tensor as _t
from . import anomaly_mode as anomaly
from . import grad_mode
from .engine import (
    GraphTask,
    _check_versions,
    _discover,
    _errors,
    _flush_packed,
    _loud,
    _needed,
    _node_of,
    _quiet,
    _root_grads,
    current_task,
    hooks_see_none,
)
from .function import (
    AccumulateGrad,
    Node,
    _creation_site,
    _hook_stack,
    _seq,
    record_creation_site,
)


# --- what forward saved, as Tensors on the graph ---------------------------------------------
def _on_edge(array, edge):
    """A Tensor holding ``array`` whose gradient goes along ``edge`` = ``(node, input_nr)``."""
    fn, nr = edge
    if fn is None:
        return _t._wrap(array)  # the input needs no gradient: a constant
    if type(fn) is AccumulateGrad:
        if fn.variable._data is array:
            return fn.variable  # the leaf itself
        t = _t._wrap(array, requires_grad=True)
        t._accum = fn  # an alias of the leaf: its gradient accumulates into the leaf's .grad
        return t
    t = _t._wrap(array)
    t._rg = True
    t._grad_fn = fn
    if nr:
        t._output_nr = nr
    return t


def saved_tensors(ctx):
    """What ``ctx``'s forward saved, as Tensors (torch's ``SavedVariable.unpack``).

    A saved input comes back on that input's edge and a saved output on the node itself,
    so that differentiating the formula that uses them reaches the inputs (a saved output
    ``out`` of exp leads back through ExpBackward0 to x, as in torch). Anything else a
    forward saved (a mask, an index array) is a constant; None and numbers stay as they are.
    Which array is which: ``_record`` noted each input's and output's array id and position
    (``_saved_versions``, also used for the in-place check).
    """
    arrays = ctx.saved_tensors
    if type(arrays) is not tuple:
        from ._saved_hooks import packed_double_backward

        return packed_double_backward(ctx)
    slots = {arr_id: slot for arr_id, _vc, _version, slot in ctx._saved_versions or ()
             if arr_id}
    out = []
    for a in arrays:
        if type(a) is not np.ndarray:
            out.append(a)
            continue
        slot = slots.get(id(a))
        if slot is None:
            out.append(_t._wrap(a))
        elif slot >= 0:
            out.append(_on_edge(a, ctx.next_functions[slot]))
        else:
            out.append(_on_edge(a, (ctx, ~slot)))
    return tuple(out)


def stand_in(ctx, i, array):
    """``array`` as a Tensor on the edge of input ``i``: gradients reaching it go to that input.

    For fused ops whose forward saved what its backward needs instead of the input itself:
    ``array`` must be the input's value, rebuilt from what forward saved (a convolution's
    windows, batch norm's weight), or, for ops that do not change when the input shifts by
    a constant along the reduced dims (var, layer and batch norm, cross entropy, attention's
    scores), the input minus that constant: every derivative of such an op at ``x - c``
    equals the one at ``x``, so ``x - c`` can stand in for ``x``.
    """
    return _on_edge(array, ctx.next_functions[i])


# --- the node that delays an error -----------------------------------------------------------
class _Raise:
    """The ``_fn`` of an ``Error`` node: running it, in any engine, raises its message."""

    handles_missing_grads = True

    @staticmethod
    def backward(ctx, *grads):
        raise ctx.error_type(ctx.message)

    backward_graph = backward


class Error(Node):
    """A gradient ember computed but cannot differentiate again (torch's ``DelayedError``).

    Its edges lead where the failed node's inputs and gradients come from, so a later
    backward that needs this gradient's derivative reaches it, and raises.
    """

    _fn = _Raise


def _delayed_error(node, grads, results, message, error_type=NotImplementedError):
    """``results`` (arrays) as Tensors whose ``grad_fn`` is an ``Error`` node."""
    err = Error()
    err.message, err.error_type = message, error_type
    edges = list(node.next_functions)
    edges += [_node_of(g) for g in grads if g is not None and g._rg]
    err.next_functions = tuple(edges)
    err._seq_nr = next(_seq)
    err._n_outputs = len(results)
    err._out_meta = tuple(((), np.dtype(np.float32)) if r is None else (r.shape, r.dtype)
                          for r in results)
    return tuple(None if r is None else _t._wrap_result(r, err, i)
                 for i, r in enumerate(results))


def _not_implemented(node):
    return (f"double backward is not implemented for {node.name()}: ember has no Tensor-level "
            f"backward formula (backward_graph) for this op, so the gradient computed through "
            f"it with create_graph=True cannot be differentiated again")


# --- one node ------------------------------------------------------------------------------
def _call(node, grads):
    """The node's gradients for its inputs, as Tensors (or None), one per input."""
    fn = node._fn
    if hasattr(fn, "call_with_tensors"):  # a user's Function: Tensors in, Tensors out
        return fn.call_with_tensors(node, grads, _delayed_error)
    formula = getattr(fn, "backward_graph", None)
    if formula is None:
        return _call_without_formula(node, grads)
    if node._n_outputs == 1:
        res = formula(node, grads[0])
    else:
        if not getattr(fn, "handles_missing_grads", False):
            grads = [g if g is not None else _t._wrap(np.zeros(shape, dtype))
                     for g, (shape, dtype) in zip(grads, node._out_meta)]
        res = formula(node, *grads)
    if res is NotImplemented:  # a case the formula does not cover
        return _call_without_formula(node, grads)
    if type(res) is not tuple:
        res = (res,)
    n_in = len(node.next_functions)
    if len(res) != n_in:
        if len(res) > n_in and all(r is None for r in res[n_in:]):
            res = res[:n_in]
        else:
            raise RuntimeError(_errors().wrong_count(node, n_in, len(res)))
    return res


def _call_without_formula(node, grads):
    """The op's NumPy backward: correct values now, an error if differentiated again."""
    from .engine import _call_backward

    arrays = [None if g is None else g._data for g in grads]
    with grad_mode.no_grad():
        res = _call_backward(node, arrays, None)
    res = [None if r is None else np.asarray(r) for r in res]
    return _delayed_error(node, grads, res, _not_implemented(node))


def _checked(node, i, g, meta):
    """``g`` as a Tensor of ``meta``'s shape and dtype (a broadcast gradient summed back)."""
    if not isinstance(g, _t.Tensor):
        g = _t._wrap(np.asarray(g))
    shape, dtype = meta
    if g._data.shape != shape:
        # as torch: the input's shape expands to the gradient's, which is summed back (and a
        # gradient missing only leading 1s is reshaped)
        try:
            joint = np.broadcast_shapes(g._data.shape, shape)
        except ValueError:
            joint = None
        if joint == g._data.shape:
            from ..ops.derivatives import sum_to

            g = sum_to(g, shape)
        elif joint == shape and g._data.size == int(np.prod(shape)):
            g = g.reshape(shape)
        else:
            raise RuntimeError(_errors().invalid_gradient(node, i, g._data.shape, shape))
    if g._data.dtype != dtype:
        from ..ops.elementwise import ToDtype

        g = ToDtype.apply(g, dtype=_dtype_of(dtype))
    return g


def _dtype_of(np_dtype):
    from .. import _dtype

    return _dtype.from_numpy(np_dtype)


def _run_pre_hooks(node, grads):
    grads = list(grads)
    for nr, hooks in (node._tensor_hooks or {}).items():
        if grads[nr] is None:
            hooks_see_none(hooks)
            continue
        for hook in hooks:
            r = hook(grads[nr])
            if r is not None:
                grads[nr] = r if isinstance(r, _t.Tensor) else _t._wrap(np.asarray(r))
    for hook in node._pre_hooks or ():
        r = hook(tuple(grads))
        if r is not None:
            grads = list(r)
    return grads


def _capture_hooks(node, grads):
    """The tensor hooks on a gradient that is captured and goes no further (torch runs
    them before capturing; the node's own pre-hooks do not run)."""
    if type(node) is AccumulateGrad:
        node_hooks = {0: node.variable._hooks} if node.variable._hooks else None
    else:
        node_hooks = node._tensor_hooks
    if not node_hooks:
        return grads
    grads = list(grads)
    for nr, hooks in node_hooks.items():
        for hook in hooks:
            if grads[nr] is not None:
                r = hook(grads[nr])
                if r is not None:
                    grads[nr] = r if isinstance(r, _t.Tensor) else _t._wrap(np.asarray(r))
    return grads


def _accumulate(t, g):
    """``t.grad`` += ``g`` with grad mode on: out of place, so ``.grad`` keeps a graph."""
    for hook in t._hooks or ():
        r = hook(g)
        if r is not None:
            g = r
    if not t._rg:  # frozen since the graph was recorded: torch's AccumulateGrad skips it
        return
    if g._data.dtype != t._data.dtype:
        g = g.to(t.dtype)
    if t.grad is None:
        from ..ops.elementwise import clone

        # .grad owns its memory, as torch's copy (a sparse gradient: its own clone)
        dense = type(g._data) is np.ndarray
        g = clone(g) if dense else g.clone()
        if g.grad_fn is not None and dense:  # a sparse clone stays CloneBackward0 (torch)
            g.grad_fn.show_as("CopyBackwards")
        t.grad = g
    else:
        t.grad = t.grad + g
    for hook in t._post_acc_hooks or ():
        hook(t)


# --- the walk ------------------------------------------------------------------------------
def run_backward_graph(tensors, grad_tensors=None, retain_graph=True, inputs=None,
                       accumulate=True, allow_unused=False, capture_hooks=False):
    """``engine.run_backward`` with ``create_graph=True``: the same walk, recorded.

    With ``inputs`` and ``accumulate`` a leaf input accumulates as the walk reaches it, and a
    non-leaf Tensor input gets its gradient (with its graph) once its tensor hooks ran.
    """
    if _hook_stack:
        _flush_packed()
    roots = _root_grads(tensors, grad_tensors, keep_tensors=True)
    released = (record_creation_site.enabled and _creation_site()) or True  # for the error
    buffers = {}
    root_nodes = []
    for t, g in roots:
        node, nr = _node_of(t)
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_outputs
            root_nodes.append(node)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    deps, seen = _discover(root_nodes)
    captures = needed = None
    if inputs is not None:
        captures, targets, results = {}, set(), {}
        for x in inputs:
            if not x._rg:
                raise RuntimeError(_errors().input_no_grad(inputs, x))
            if not accumulate and getattr(x, "_no_grad_view", False) and x._grad_fn is None:
                continue  # torch's edge to nowhere (``grad_sink``): never reached, so unused
            node, nr = _node_of(x)
            targets.add(node)
            if not accumulate or (x._grad_fn is not None and isinstance(x, _t.Tensor)):
                captures.setdefault(node, []).append((nr, x))
        needed = _needed(root_nodes, targets)
        capture_hooks = capture_hooks or accumulate

    ready = [(-n._seq_nr, i, n) for i, n in enumerate(root_nodes) if deps.get(n, 0) == 0]
    heapq.heapify(ready)
    counter = len(ready)
    check_nan = anomaly.state.enabled and anomaly.state.check_nan
    grad_enabled_before = grad_mode.state.enabled
    grad_mode.state.enabled = True
    quiet = _quiet()  # 0s and infinities in formulas give inf or nan silently, as in torch
    outer_task = current_task[0]
    current_task[0] = GraphTask(seen, needed, None if accumulate else captures)
    try:
        while ready:
            node = heapq.heappop(ready)[2]
            grads = buffers.pop(node, None)
            if captures is not None and node in captures:
                only = type(node) is AccumulateGrad or not any(
                    needed.get(c, False) for c, _ in node.next_functions if c is not None)
                if only and capture_hooks and grads is not None:
                    grads = _capture_hooks(node, grads)
                for nr, x in captures[node]:
                    if grads is not None and grads[nr] is not None:
                        if accumulate:
                            _accumulate(x, grads[nr])
                        else:
                            results[id(x)] = grads[nr]
                if only:
                    grads = None
            if type(node) is AccumulateGrad:
                if grads is not None and grads[0] is not None and accumulate:
                    _accumulate(node.variable, grads[0])
                continue
            res = None
            if grads is not None and any(g is not None for g in grads) and (
                    needed is None or needed.get(node, False)):
                if node._tensor_hooks or node._pre_hooks:
                    grads = _run_pre_hooks(node, grads)
                if node._saved_versions:
                    _check_versions(node)
                res = _call(node, grads)
                if check_nan:
                    anomaly.check_gradients(node, [r if r is None else r._data for r in res])
                for hook in node._post_hooks or ():
                    hook(tuple(res), tuple(grads))
            if not retain_graph:
                if node._saved is not None:
                    node._saved = None
                    node._saved_versions = None
                node._released = released
            for i, (child, nr) in enumerate(node.next_functions):
                if child is None:
                    continue
                if res is not None and res[i] is not None:
                    if type(child) is AccumulateGrad:
                        d = child.variable._data
                        meta = d.shape, d.dtype
                    else:
                        meta = child._out_meta[nr]
                    g = _checked(node, i, res[i], meta)
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * child._n_outputs
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                left = deps[child] - 1
                deps[child] = left
                if left == 0 and (needed is None or needed.get(child, False)):
                    counter += 1
                    heapq.heappush(ready, (-child._seq_nr, counter, child))
    finally:
        current_task[0] = outer_task
        _loud(quiet)
        grad_mode.state.enabled = grad_enabled_before

    if inputs is None or accumulate:
        return None
    out = []
    for i, x in enumerate(inputs):
        g = results.get(id(x))
        if g is None and not allow_unused:
            raise RuntimeError(_errors().unused_input(i, x))
        out.append(g)
    return tuple(out)
