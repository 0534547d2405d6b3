"""The rest of ``torch.autograd.graph``: gradient edges, multi-grad hooks, version bumps,
mutation of saved tensors, and the multithreading switch.

- ``get_gradient_edge(t)``: the ``(node, output_nr)`` where ``t``'s gradient is computed;
  ``autograd.grad`` takes such edges as outputs and inputs.
- ``register_multi_grad_hook(tensors, fn, mode="all" | "any")``: ``fn`` once all (or the
  first) of the gradients that this backward will compute for ``tensors`` have arrived.
- ``increment_version(t)``: tell autograd that ``t`` was changed in place behind its back.
- ``allow_mutation_on_saved_tensors()``: in-place changes of saved tensors do not spoil the
  backward.
- ``set_multithreading_enabled(mode)``: torch's switch; ember's backward is always on the
  calling thread, so it only records the mode.

A multi-grad hook must know which nodes the running backward will reach. torch asks its
engine's graph task; ember's engine keeps that state in the locals of ``run_backward`` (the
dependency counts and, for ``autograd.grad(inputs=...)``, the nodes that lead to an input),
and keeps it nowhere else, so that the engine's hot loop carries nothing for this feature.
The hook reads those locals from the engine's frame (``sys._getframe``), once per backward.
"""
from __future__ import annotations

import functools
import sys
import weakref
from typing import Any, NamedTuple

import numpy as np

from .. import _tensor as _t
from .function import AccumulateGrad, _RemovableHandle
from .function import Node as _Node


# --- gradient edges --------------------------------------------------------------------------
class GradientEdge(NamedTuple):
    """Where a given tensor's gradient is computed: ``node`` (its ``grad_fn``, or the
    ``AccumulateGrad`` of a leaf) and its ``output_nr``. From ``get_gradient_edge``."""

    node: _Node
    output_nr: int
    ownership_token: Any = None


def get_gradient_edge(tensor) -> GradientEdge:
    """The gradient edge of ``tensor``: ``autograd.grad(loss, get_gradient_edge(x))`` equals
    ``autograd.grad(loss, x)``, and keeps working after ``x`` itself is gone.

    Raises:
        RuntimeError: ``tensor`` does not require grad.
    """
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    from .engine import _node_of

    node, nr = _node_of(tensor)
    return GradientEdge(node, nr)


class _EdgeTensor:
    """Stands in for a ``GradientEdge`` where the engine expects a tensor: it has what the
    engine reads (where the gradient goes, and the shape and dtype of that gradient)."""

    _base = None
    _rg = True

    def __init__(self, edge):
        node, nr = edge.node, edge.output_nr
        if type(node) is AccumulateGrad:
            self._grad_fn, self._accum, self._output_nr = None, node, 0
            shape, dtype = node.variable._data.shape, node.variable._data.dtype
        else:
            self._grad_fn, self._accum, self._output_nr = node, None, nr
            shape, dtype = node._out_meta[nr]
        self._data = np.broadcast_to(np.zeros((), dtype), shape)  # no memory: the meta only

    grad_fn = property(lambda self: self._grad_fn)
    shape = property(lambda self: _t.Size(self._data.shape))

    def numel(self):
        return self._data.size


def edges_as_tensors(xs):
    """``xs`` (a tensor, edge or sequence of them) with each ``GradientEdge`` replaced by a
    stand-in the engine accepts; ``xs`` itself when it holds no edge."""
    if isinstance(xs, GradientEdge):
        return (_EdgeTensor(xs),)
    if isinstance(xs, (list, tuple)) and any(isinstance(x, GradientEdge) for x in xs):
        return tuple(_EdgeTensor(x) if isinstance(x, GradientEdge) else x for x in xs)
    return xs


# --- multi-grad hooks ------------------------------------------------------------------------
_entry_codes = {}  # code object -> True for the engine loops, False for the calls into them


def _codes():
    if not _entry_codes:
        from .. import _tensor_methods
        from .. import autograd as ag
        from . import _double_backward, engine

        for fn in (engine.run_backward, _double_backward.run_backward_graph):
            _entry_codes[fn.__code__] = True
        for fn in (ag.backward, ag.grad, ag._backward_graph, _tensor_methods.backward):
            _entry_codes[fn.__code__] = False
    return _entry_codes


def _graph_task():
    """``(task, engine, chain)`` for the backward running on this thread: ``task`` is the
    outermost frame of the call into the engine (``Tensor.backward``, ``autograd.grad`` ...,
    its identity while it runs), ``engine`` the engine loop's frame (None once it returned:
    ``backward(inputs=...)`` accumulates afterwards), ``chain`` the frames in between."""
    codes = _codes()
    f = sys._getframe(2)
    while f is not None and f.f_code not in codes:
        f = f.f_back
    if f is None:
        return None, None, ()
    chain = [f]
    while f.f_back is not None and f.f_back.f_code in codes:
        f = f.f_back
        chain.append(f)
    engine = next((c for c in chain if codes[c.f_code]), None)
    return f, engine, chain


def _will_run_hooks(node, engine, chain):
    """Whether this backward runs the tensor hooks of ``node``'s outputs (torch's
    ``_will_engine_execute_node``, in the terms of ember's engine)."""
    if engine is None:  # backward(inputs=...) after the engine: it accumulates its inputs
        from .engine import _node_of

        for f in chain:
            inputs = f.f_locals.get("inputs")
            if inputs is not None:
                return any(_node_of(x)[0] is node for x in inputs)
        return False
    loc = engine.f_locals
    deps, roots = loc.get("deps") or {}, loc.get("root_nodes") or ()
    if node not in deps and not any(node is r for r in roots):
        return False
    needed = loc.get("needed")
    if needed is not None and not needed.get(node, False):
        return False
    if type(node) is AccumulateGrad:
        return bool(loc.get("accumulate", True))
    captures = loc.get("captures")
    if captures and node in captures:  # a target: its hooks run only if the walk goes on
        return any(needed.get(c, False) for c, _ in node.next_functions if c is not None)
    return True


class _MultiHandle(_RemovableHandle):
    """Removes every hook a multi-grad hook registered."""

    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        """Remove the hooks (a second call does nothing)."""
        for h in self.handles:
            h.remove()


def _task_state(states, tensors_nodes, make):
    """The state of ``states`` for the running backward, made (and stale ones dropped) on
    its first hook. A state holds its task's frame, so that no later frame reuses its id."""
    task, engine, chain = _graph_task()
    if task is None:
        raise AssertionError("expected this hook to be called inside a backward call")
    st = states.get(id(task))
    if st is None:
        alive, f = set(), sys._getframe()
        while f is not None:
            alive.add(id(f))
            f = f.f_back
        for key in [k for k in states if k not in alive]:
            del states[key]  # a backward that ended before all of its hooks ran
        n_calls = sum(_will_run_hooks(node, engine, chain) for node in tensors_nodes)
        st = states[id(task)] = make(task, n_calls)
    return id(task), st


def register_multi_grad_hook(tensors, fn, *, mode: str = "all"):
    """Call ``fn`` once per backward, when the gradients of ``tensors`` are there.

    Args:
        tensors: tensors that require grad.
        fn: with ``mode="all"``, ``fn(grads)`` once every gradient this backward computes
            for ``tensors`` has been computed: a list with one entry per tensor, None for a
            tensor that is not part of this backward (outside the graph, or not needed for
            the ``inputs`` of this ``backward``/``grad`` call). With ``mode="any"``,
            ``fn(grad)`` with the first of them. ``fn`` must not modify its arguments.
        mode: ``"all"`` or ``"any"``.

    Returns:
        A handle whose ``remove()`` takes the hook off.

    Raises:
        ValueError: an unknown mode.

    As ember's ``autograd.grad`` calls no leaf tensor hooks, leaves count as not part of an
    ``autograd.grad`` call (torch raises there).
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    from .engine import _node_of

    states = {}
    if mode == "all":
        nodes = [_node_of(t)[0] for t in tensors]
        n = len(tensors)

        def get_inner_hook(idx):
            def inner_hook(grad):
                key, st = _task_state(states, nodes, lambda task, calls: [task, calls, 0,
                                                                           [None] * n])
                st[3][idx] = grad
                st[2] += 1
                if st[2] == st[1]:
                    del states[key]
                    fn(st[3])

            return inner_hook

        handles = tuple(t.register_hook(get_inner_hook(i)) for i, t in enumerate(tensors))
    else:
        tensors = [t for t in tensors if t.requires_grad]
        nodes = [_node_of(t)[0] for t in tensors]

        @functools.wraps(fn)
        def wrapped_fn(grad):
            key, st = _task_state(states, nodes, lambda task, calls: [task, calls, 0])
            st[2] += 1
            if st[2] >= st[1]:
                states.pop(key, None)
            if st[2] == 1:
                fn(grad)

        handles = tuple(t.register_hook(wrapped_fn) for t in tensors)
    return _MultiHandle(handles)


# --- versions and mutation -------------------------------------------------------------------
def increment_version(tensor) -> None:
    """Count an in-place change of ``tensor`` (or of each tensor in an iterable) that
    autograd could not see, e.g. a write into ``t.numpy()``: a backward that needs the
    old value then raises torch's "modified by an inplace operation" error."""
    for t in (tensor,) if isinstance(tensor, _t.Tensor) else tensor:
        t._bump("increment_version")


_mutation_enabled = [False]


class _AllowMutationOnSavedContext:
    """The state of ``allow_mutation_on_saved_tensors``: ``cloned`` maps each pack handle
    to the copy kept for backward (weakly: an entry goes with the graph that holds its
    handle). Cleared on exit."""

    def __init__(self):
        self.cloned = weakref.WeakKeyDictionary()

    def clear(self):
        self.cloned.clear()


class allow_mutation_on_saved_tensors:  # noqa: N801  (torch's name)
    """Context manager under which changing a saved tensor in place is allowed: backward
    uses the value it had when it was saved. Run forward and backward inside it.

    torch clones a saved tensor only when an in-place op is about to change it (it watches
    every op through a dispatch mode). ember has no such hook on every write (optimizers
    and ``.numpy()`` write arrays directly), so it copies each tensor when it is saved:
    same gradients, no error, but the saved values take twice the memory while the graph
    lives.

    Returns:
        On entering, an ``_AllowMutationOnSavedContext`` (for debugging).

    Raises:
        RuntimeError: when nested.
        AssertionError: at backward, outside the context the graph was recorded in.
    """

    def __enter__(self):
        from ._saved_hooks import saved_tensors_hooks

        if _mutation_enabled[0]:
            raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
        ctx = self.ctx = _AllowMutationOnSavedContext()

        def pack_hook(tensor):
            handle = _Handle()
            ctx.cloned[handle] = tensor.detach().clone()
            return handle

        def unpack_hook(handle):
            if not _mutation_enabled[0] or handle not in ctx.cloned:
                raise AssertionError("Trying to backward outside of the "
                                     "'allow_mutation_on_saved_tensors' context in which the "
                                     "graph was originally recorded.")
            return ctx.cloned[handle]

        self._hooks = saved_tensors_hooks(pack_hook, unpack_hook)
        self._hooks.__enter__()
        _mutation_enabled[0] = True
        return ctx

    def __exit__(self, *args):
        _mutation_enabled[0] = False
        self.ctx.clear()
        self._hooks.__exit__(*args)


class _Handle:
    """What the pack hook of ``allow_mutation_on_saved_tensors`` returns."""


# --- multithreading --------------------------------------------------------------------------
_multithreading = [True]


def is_multithreading_enabled() -> bool:
    """Whether multithreaded backward is on (torch's flag; ember's backward always runs on
    the calling thread)."""
    return _multithreading[0]


class set_multithreading_enabled:  # noqa: N801  (torch's name)
    """Turn torch's multithreaded backward on or off, as a function call or a context
    manager (restoring the previous mode on exit). torch runs backward on device threads
    only for accelerators; ember's CPU backward always runs on the calling thread, so the
    mode is recorded (``is_multithreading_enabled``) and changes nothing else.

    Args:
        mode: True to enable (the default state), False to disable.
    """

    def __init__(self, mode: bool):
        self.prev = _multithreading[0]
        _multithreading[0] = bool(mode)
        self.mode = mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _multithreading[0] = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        """A copy of this context manager."""
        return self.__class__(self.mode)
