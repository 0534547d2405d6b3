"""The backward engine: from the outputs' gradients to every leaf's ``.grad``.

The steps the notes describe, in order:

1. Find the graph: walk from each output's ``grad_fn`` through ``next_functions``
   (iteratively, so a 10,000-op chain needs no recursion) and count, for every node, how
   many edges lead into it (its dependencies).
2. Run nodes in reverse topological order: a node becomes ready when all the gradient
   it will receive has arrived (its count drops to zero); among ready nodes the most
   recently created runs first, as in torch.
3. Each node's backward turns the gradient of its output into gradients for its inputs;
   gradients reaching the same place from several branches are summed.
4. ``AccumulateGrad`` nodes add into the leaves' ``.grad`` (hence ``zero_grad``).
5. Unless ``retain_graph``, each node frees what it saved once it has run.
"""
from __future__ import annotations

import heapq

import numpy as np

from .. import _tensor as _t
from . import anomaly_mode as anomaly
from . import grad_mode
from .function import (
    AccumulateGrad,
    _check_versions,
    _creation_site,
    _hook_stack,
    _refresh_view,
    record_creation_site,
)

try:  # NumPy >= 2: the error state is a context variable; setting it is all errstate does
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    _IGNORE_ALL = _make_extobj(all="ignore")

    def _quiet():
        """Silence NumPy's floating-point warnings; returns the token for ``_loud``."""
        return _extobj_contextvar.set(_IGNORE_ALL)

    def _loud(token):
        _extobj_contextvar.reset(token)
except (ImportError, AttributeError, TypeError):  # pragma: no cover - NumPy 1.x
    def _quiet():
        """Silence NumPy's floating-point warnings; returns the token for ``_loud``."""
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def _loud(token):
        token.__exit__(None, None, None)


def _node_of(t):
    if t._base is not None and t._view_version != t._vc[0]:
        _refresh_view(t)
    if t._grad_fn is not None:
        return t._grad_fn, t._output_nr
    acc = t._accum
    if acc is None:
        acc = t._accum = AccumulateGrad(t)
    return acc, 0


def _errors():
    from . import _errors  # error path only: the messages explain why, where and the fix

    return _errors


def _root_grads(tensors, grad_tensors, keep_tensors=False):
    """``(tensor, gradient)`` for each root: its given gradient, or 1 for a one-element root.
    The gradients are arrays, or Tensors with ``keep_tensors`` (create_graph: a given gradient
    keeps its own graph)."""
    roots = []
    for i, t in enumerate(tensors):
        if not t._rg:
            raise RuntimeError(_errors().no_grad_fn(i, t))
        g = grad_tensors[i] if grad_tensors is not None else None
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(_errors().not_scalar(t))
            if t._data.dtype.kind == "c":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs "
                                   f"but got {t.dtype}")
            g = np.ones(t._data.shape, t._data.dtype) if t._data.ndim else np.array(
                1, t._data.dtype)
            if keep_tensors:
                g = _t._wrap(g)
        else:
            if not isinstance(g, _t.Tensor):
                g = np.asarray(g, dtype=t._data.dtype)
                if keep_tensors:
                    g = _t._wrap(g)
            elif not keep_tensors:
                g = g._data
            shape = g._data.shape if keep_tensors else g.shape
            if shape != t._data.shape:
                raise RuntimeError(_errors().shape_mismatch(
                    i, shape, t._data.shape,
                    f"Mismatch in shape: grad_output[{i}] has a shape of {_t.Size(shape)} and "
                    f"output[{i}] has a shape of {_t.Size(t._data.shape)}."))
        roots.append((t, g))
    return roots


def _discover(root_nodes):
    """Dependency counts of every node reachable from the roots (iterative DFS), and the
    nodes themselves as a dict in the order they were found (the graph views show it)."""
    deps = {}
    seen = dict.fromkeys(root_nodes)
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen[child] = None
                stack.append(child)
    return deps, seen


def _needed(root_nodes, targets):
    """Nodes from which some target node can be reached (post-order, iteratively)."""
    needed = {}
    for root in root_nodes:
        if root in needed:
            continue
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, it = stack[-1]
            for child, _ in it:
                if child is not None and child not in needed:
                    stack.append((child, iter(child.next_functions)))
                    break
            else:
                stack.pop()
                needed[node] = node in targets or any(
                    needed.get(c, False) for c, _ in node.next_functions if c is not None)
    return needed


def _sparse_grad():
    from ..sparse import _grad  # sparse COO gradients (nn.Embedding(sparse=True)) only

    return _grad


def _validate(node, i, g, meta):
    if type(g) is not np.ndarray:
        if isinstance(g, _t.Tensor):
            g = g._data
        if getattr(g, "_sparse", False):  # a sparse COO gradient (ember/sparse/_coo.py)
            return _sparse_grad().validated(node, i, g, meta)
        if type(g) is not np.ndarray:
            g = np.asarray(g)
    shape, dtype = meta
    if g.shape == shape and g.dtype == dtype:
        return g
    if g.shape != shape:
        try:  # as torch: the input's shape expands to the gradient's, which is summed back
            if np.broadcast_shapes(g.shape, shape) not in (shape, g.shape):
                raise ValueError
            g = _sum_to(g, shape)
        except ValueError:
            raise RuntimeError(_errors().invalid_gradient(node, i, g.shape, shape)) from None
    if g.dtype != dtype:
        g = _cast(g, dtype)
    return g


def _cast(g, dtype):
    """``g`` as ``dtype``; a real input keeps the real part of a complex gradient (torch)."""
    if g.dtype.kind == "c" and dtype.kind != "c":
        g = g.real
    return g.astype(dtype)


def _sum_to(g, shape):
    if g.ndim < len(shape):
        g = g.reshape((1,) * (len(shape) - g.ndim) + g.shape)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    g = g.sum(axis=axes, keepdims=True) if axes else g
    return g.reshape(shape)


def _accumulate(t, g, shared):
    """Add ``g`` into leaf ``t``'s ``.grad``: copy on first write, in place after."""
    if type(g) is not np.ndarray:  # a sparse gradient: torch's rules (ember/sparse/_grad.py)
        return _sparse_grad().accumulate(t, g, shared)
    if t._hooks:
        for hook in t._hooks:
            r = hook(_t._wrap(g))
            if r is not None:
                g = r._data
    if not t._rg:  # frozen since the graph was recorded: torch's AccumulateGrad skips it
        return
    if g.dtype != t._data.dtype:
        g = _cast(g, t._data.dtype)
    if t._grad is None:
        if shared or g.base is not None or not g.flags.writeable or not g.flags.owndata:
            g = g.copy()
        t._grad = _t._wrap(g)
    else:
        try:
            t._grad._data += g
        except TypeError:  # a sparse .grad meets a dense gradient: .grad becomes their sum
            if type(t._grad._data) is np.ndarray:
                raise
            _sparse_grad().add_into_sparse(t, g)
    hooks = t._post_acc_hooks
    if hooks:
        for hook in hooks:
            hook(t)


class GraphTask:
    """The backward that is running (torch's graph task), as ``current_task[0]``: what
    ``register_multi_grad_hook`` asks about it. ``nodes``: every node it found (roots
    included); ``needed``: with ``inputs``, whether a node leads to one (else None);
    ``captures``: with ``autograd.grad``'s inputs, the nodes whose gradient it returns."""

    __slots__ = ("nodes", "needed", "captures", "__weakref__")

    def __init__(self, nodes, needed, captures):
        self.nodes, self.needed, self.captures = nodes, needed, captures


# the running backward's GraphTask, set once per backward (nested backwards restore the outer)
current_task = [None]


def run_backward(tensors, grad_tensors=None, retain_graph=False, inputs=None,
                 accumulate=True, allow_unused=False, tracer=None, capture_hooks=False):
    """Backpropagate from ``tensors``.

    With ``inputs`` and ``accumulate`` (``backward(inputs=...)``) only these tensors get a
    ``.grad``: a leaf accumulates, a non-leaf is made to retain its gradient, as torch does.
    With ``inputs`` and not ``accumulate`` (``autograd.grad``) return their gradients;
    ``capture_hooks``: run the tensor hooks of a gradient that is only captured, as torch's
    ``autograd.grad`` does (off for ember's own calls, whose caller accumulates the result).
    """
    if _hook_stack:
        _flush_packed()
    roots = _root_grads(tensors, grad_tensors)
    released = (record_creation_site.enabled and _creation_site()) or True  # for the error
    buffers = {}
    # ids of gradient arrays that more than one place may hold (a user's root gradient, one
    # array returned for two inputs): a leaf copies these instead of keeping them as .grad
    shared = set()
    root_nodes = []
    for t, g in roots:
        node, nr = _node_of(t)
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_outputs
            root_nodes.append(node)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
        shared.add(id(g))
    deps, seen = _discover(root_nodes)

    captures = None
    needed = None
    if inputs is not None:
        captures, needed, results = _targets(root_nodes, inputs, accumulate)

    if tracer is not None:
        tracer.start(root_nodes, deps, seen)

    ready = [(-n._seq_nr, i, n) for i, n in enumerate(root_nodes) if deps.get(n, 0) == 0]
    heapq.heapify(ready)
    counter = len(ready)
    heappop, heappush = heapq.heappop, heapq.heappush
    fast_leaves = captures is None and tracer is None and accumulate
    check_nan = anomaly.state.enabled and anomaly.state.check_nan
    grad_enabled_before = grad_mode.state.enabled
    grad_mode.state.enabled = False
    # backward formulas meet 0s and infinities (log'(0), sqrt'(0)); torch gives inf or nan
    # there without a word, and so does ember: NumPy's RuntimeWarnings stay off
    quiet = _quiet()
    outer_task = current_task[0]
    current_task[0] = GraphTask(seen, needed, captures)
    try:
        while ready:
            node = heappop(ready)[2]
            grads = buffers.pop(node, None)
            if captures is not None and node in captures:
                only = type(node) is AccumulateGrad or not any(
                    needed.get(c, False) for c, _ in node.next_functions if c is not None)
                if only and capture_hooks and grads is not None:
                    grads = _capture_hooks(node, grads)
                for nr, x in captures[node]:
                    g = grads[nr] if grads is not None else None
                    if g is not None:
                        results[id(x)] = g
                if only:
                    grads = None
            if type(node) is AccumulateGrad:
                if grads is not None and grads[0] is not None and accumulate:
                    if tracer is not None:
                        tracer.accumulate(node, grads[0])
                    _accumulate(node.variable, grads[0], id(grads[0]) in shared)
                continue
            res = None
            if grads is not None:
                if node._tensor_hooks or node._pre_hooks:
                    grads = _run_pre_hooks(node, grads)
                if (grads[0] is not None if len(grads) == 1
                        else any(g is not None for g in grads)) and (
                        needed is None or needed.get(node, False)):
                    if node._n_outputs == 1 and tracer is None:  # the common case, inline
                        if node._saved_versions:
                            _check_versions(node)
                        res = node._fn.backward(node, grads[0])
                        if type(res) is not tuple:
                            res = (res,)
                        if len(res) != len(node.next_functions):
                            res = _checked_count(node, res)
                    else:
                        res = _call_backward(node, grads, tracer)
                    if check_nan:
                        anomaly.check_gradients(node, res)
                    n_res = len(res)
                    if n_res == 2:
                        if res[0] is res[1] and res[0] is not None:
                            shared.add(id(res[0]))
                    elif n_res > 2:
                        _mark_duplicates(res, shared)
                    if node._post_hooks:
                        _run_post_hooks(node, res, grads)
            if not retain_graph:
                if node._saved is not None:
                    node._saved = None
                    node._saved_versions = None
                node._released = released
            i = 0
            for child, nr in node.next_functions:
                if child is not None:
                    if res is not None:
                        g = res[i]
                        if g is not None:
                            if type(child) is AccumulateGrad:
                                d = child.variable._data
                                meta = d.shape, d.dtype
                            else:
                                meta = child._out_meta[nr]
                            if type(g) is not np.ndarray or g.shape != meta[0] or \
                                    g.dtype != meta[1]:
                                g = _validate(node, i, g, meta)
                            buf = buffers.get(child)
                            if buf is None:
                                buf = buffers[child] = [None] * child._n_outputs
                            buf[nr] = g if buf[nr] is None else buf[nr] + g
                    left = deps[child] - 1
                    deps[child] = left
                    if left == 0 and (needed is None or needed.get(child, False)):
                        if fast_leaves and type(child) is AccumulateGrad:
                            # a leaf's gradient is complete: accumulate now, no queueing
                            lbuf = buffers.pop(child, None)
                            if lbuf is not None and lbuf[0] is not None:
                                _accumulate(child.variable, lbuf[0], id(lbuf[0]) in shared)
                        else:
                            counter += 1
                            heappush(ready, (-child._seq_nr, counter, child))
                i += 1
    finally:
        current_task[0] = outer_task
        _loud(quiet)
        grad_mode.state.enabled = grad_enabled_before
        if tracer is not None:
            tracer.finish()

    if captures is None:
        return None
    out = []
    for i, x in enumerate(inputs):
        g = results.get(id(x))
        if g is None:
            if not allow_unused:
                raise RuntimeError(_errors().unused_input(i, x))
            out.append(None)
        else:
            if id(g) in shared or g.base is not None:
                g = g.copy()
            out.append(_t._wrap(g) if type(g) is np.ndarray else _sparse_grad().as_tensor(g))
    return tuple(out)


def _flush_packed():
    """Under saved-tensor hooks: the last op's saved values packed (``_saved_hooks.flush``)."""
    from ._saved_hooks import flush

    flush()


def _targets(root_nodes, inputs, accumulate):
    """``(captures, needed, results)`` for a backward restricted to ``inputs``: ``captures``
    (node -> [(output_nr, input)]) only without ``accumulate``; with it, a non-leaf input
    retains its gradient from now on (torch's ``backward(inputs=...)`` does the same)."""
    captures = None if accumulate else {}
    targets = set()
    for x in inputs:
        if not x._rg:
            raise RuntimeError(_errors().input_no_grad(inputs, x))
        if captures is not None and getattr(x, "_no_grad_view", False) and x._grad_fn is None:
            continue  # torch's edge to nowhere (``grad_sink``): never reached, so unused
        node, nr = _node_of(x)
        targets.add(node)
        if captures is not None:
            captures.setdefault(node, []).append((nr, x))
        elif x._grad_fn is not None and isinstance(x, _t.Tensor):
            x.retain_grad()
    return captures, _needed(root_nodes, targets), {}


def _capture_hooks(node, grads):
    """The tensor hooks on a gradient that is captured and goes no further (torch runs
    them before capturing; the node's own pre-hooks do not run)."""
    if type(node) is not AccumulateGrad:
        return _run_tensor_hooks(node, grads) if node._tensor_hooks else grads
    g = grads[0]
    hooks = node.variable._hooks
    if g is None or not hooks:
        return grads
    for hook in hooks:
        r = hook(_t._wrap(g))
        if r is not None:
            g = r._data if isinstance(r, _t.Tensor) else np.asarray(r)
    return [g]


def _mark_duplicates(res, shared):
    """One array returned for several inputs (``Add`` gives ``grad`` to both) is shared."""
    for a in range(len(res)):
        ga = res[a]
        if ga is not None:
            for b in range(a + 1, len(res)):
                if res[b] is ga:
                    shared.add(id(ga))


def _run_pre_hooks(node, grads):
    if node._tensor_hooks:
        grads = _run_tensor_hooks(node, grads)
    if node._pre_hooks:
        for hook in node._pre_hooks:
            r = hook(tuple(_t._wrap(g) if g is not None else None for g in grads))
            if r is not None:
                grads = [x._data if x is not None else None for x in r]
    return grads


def _run_post_hooks(node, res, grads):
    for hook in node._post_hooks:
        hook(tuple(_t._wrap(g) if g is not None else None for g in res),
             tuple(_t._wrap(g) if g is not None else None for g in grads))


def _run_tensor_hooks(node, grads):
    grads = list(grads)
    for nr, hooks in node._tensor_hooks.items():
        g = grads[nr]
        if g is None:  # an output that got no gradient while another did
            hooks_see_none(hooks)
            continue
        for hook in hooks:
            r = hook(_t._wrap(g))
            if r is not None:
                g = r._data if isinstance(r, _t.Tensor) else np.asarray(r)
        grads[nr] = g
    return grads


def hooks_see_none(hooks):
    """torch calls a tensor's hooks with None when its node runs without a gradient for it
    (a split piece that was not used); a hook may not put a gradient there."""
    for hook in hooks:
        if not getattr(hook, "_retain", False) and hook(None) is not None:
            raise RuntimeError("can't replace a None gradient with a non-None value")


def _call_backward(node, grads, tracer):
    fn = node._fn
    if node._saved_versions:
        _check_versions(node)
    if tracer is not None:
        tracer.before(node, grads)
    if node._n_outputs == 1:
        res = fn.backward(node, grads[0])
        if type(res) is not tuple:
            res = (res,)
        if len(res) == len(node.next_functions) and tracer is None:
            return res
    elif getattr(fn, "handles_missing_grads", False):
        res = fn.backward(node, *grads)
    else:
        full = [g if g is not None else np.zeros(shape, dtype)
                for g, (shape, dtype) in zip(grads, node._out_meta)]
        res = fn.backward(node, *full)
        if type(res) is not tuple:
            res = (res,)
    res = _checked_count(node, res)
    if tracer is not None:
        tracer.after(node, res)
    return res


def _checked_count(node, res):
    """``res`` with one gradient per input: trailing Nones dropped, torch's error otherwise."""
    n_in = len(node.next_functions)
    if len(res) != n_in:
        if len(res) > n_in and all(r is None for r in res[n_in:]):
            res = res[:n_in]
        else:
            raise RuntimeError(_errors().wrong_count(node, n_in, len(res)))
    return res
