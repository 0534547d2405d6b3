"""The rest of ``torch.autograd.graph``: gradient edges, multi-grad hooks, version bumps,
mutation of saved tensors, and the multithreading switch.

- ``get_gradient_edge(t)``: the ``(node, output_nr)`` where ``t``'s gradient is computed;
  ``autograd.grad`` and ``autograd.backward`` take such edges as outputs and inputs (as
  ``backward``'s input, a leaf's edge accumulates into the leaf, a non-leaf's keeps nothing).
- ``register_multi_grad_hook(tensors, fn, mode="all" | "any")``: ``fn`` once all (or the
  first) of the gradients that this backward will compute for ``tensors`` have arrived.
- ``increment_version(t)``: tell autograd that ``t`` was changed in place behind its back.
- ``allow_mutation_on_saved_tensors()``: in-place changes of saved tensors do not spoil the
  backward.
- ``set_multithreading_enabled(mode)``: torch's switch; ember's backward is always on the
  calling thread, so it only records the mode.

A multi-grad hook must know which backward is running and which nodes it will run. torch
asks its engine's graph task; ember's engines publish theirs as ``engine.current_task[0]``
(the nodes found, and with ``inputs`` which of them lead to one), set once per backward, so
that the engines' per-node loops carry nothing for this feature.
"""
from __future__ import annotations

import functools
import weakref
from collections.abc import Mapping
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


def inputs_tuple(inputs, caller):
    """The ``inputs`` of ``backward``/``grad`` (``caller``) as a tuple, as torch reads them: a
    tensor or ``GradientEdge``, a sequence of them, or a dict (its values); None stays None.

    Raises:
        TypeError: a Mapping that is not a dict.
        RuntimeError: no inputs at all.
    """
    if inputs is None:
        return None
    if isinstance(inputs, (_t.Tensor, GradientEdge)):
        out = (inputs,)
    elif type(inputs) is dict:
        out = tuple(inputs.values())
    elif isinstance(inputs, Mapping):
        raise TypeError(f"`inputs` argument to `{caller}()` must be a dict, not "
                        f"{type(inputs).__name__}. Other Mapping types are not supported.")
    else:
        out = tuple(inputs)
    if not out:
        raise RuntimeError(f"`inputs` argument to `{caller}()` cannot be empty.")
    return edges_as_tensors(out)


def materialize(res, inputs, create_graph):
    """``autograd.grad(materialize_grads=True)``: zeros for the inputs nothing reached."""
    if any(r is None and type(x) is _EdgeTensor for r, x in zip(res, inputs)):
        raise RuntimeError("materialize_grads cannot be used when the given input is a "
                           "GradientEdge")
    from .._creation import zeros_like

    return tuple(r if r is not None else zeros_like(x, requires_grad=create_graph)
                 for r, x in zip(res, inputs))


# --- multi-grad hooks ------------------------------------------------------------------------
def _running_task():
    from .engine import current_task

    task = current_task[0]
    if task is None:
        raise AssertionError("expected this hook to be called inside a backward call")
    return task


def _will_engine_execute_node(task, node):
    """Whether the running backward runs ``node`` (torch's ``_will_engine_execute_node``)."""
    if node not in task.nodes:
        return False
    if task.needed is None:
        return True
    if not task.needed.get(node, False):
        return False
    if task.captures and node in task.captures and not node.next_functions:
        raise RuntimeError("A leaf node was passed to _will_engine_execute_node but we are "
                           "currently running autograd.grad(). This is currently not "
                           "supported.")
    return True


def _grad_fn_or_grad_acc(t):
    if isinstance(t, GradientEdge):
        return t.node
    if not t.requires_grad:
        raise AssertionError("Expected gradient function to be set")
    from .engine import _node_of

    return _node_of(t)[0]


class _MultiHandle(_RemovableHandle):
    """Removes every hook a multi-grad hook registered."""

    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        """Remove the hooks (a second call does nothing)."""
        for h in self.handles:
            h.remove()


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
        AssertionError: with ``mode="all"``, a tensor that does not require grad.
        RuntimeError: with ``mode="all"``, from the backward, when it is an ``autograd.grad``
            call with a leaf among ``tensors`` and its inputs (torch cannot tell either).

    As in torch, the number of gradients ``mode="all"`` waits for is counted at the first of
    them in each backward, and kept in one place for all backwards: a backward run inside
    one of the hooks, reaching the same tensors, recounts it for the outer one.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    # per running backward, dropped with it (torch keeps them by graph task id)
    if mode == "all":
        count, buffer = weakref.WeakKeyDictionary(), weakref.WeakKeyDictionary()
        nb_calls = [None]
        nodes = [_grad_fn_or_grad_acc(t) for t in tensors]
        n = len(tensors)

        def get_inner_hook(idx):
            def inner_hook(grad):
                task = _running_task()
                curr = count.get(task, 0)
                buf = buffer.setdefault(task, [None] * n)
                count[task] = curr + 1
                if curr == 0:
                    nb_calls[0] = sum(_will_engine_execute_node(task, node) for node in nodes)
                buf[idx] = grad
                if curr == nb_calls[0] - 1:
                    fn(buf)
                    del count[task], buffer[task]

            return inner_hook

        handles = tuple(t.register_hook(get_inner_hook(i)) for i, t in enumerate(tensors))
    else:
        ran = weakref.WeakKeyDictionary()

        @functools.wraps(fn)
        def wrapped_fn(grad):
            task = _running_task()
            if ran.get(task):
                return
            ran[task] = True
            fn(grad)

        handles = tuple(t.register_hook(wrapped_fn) for t in tensors if t.requires_grad)
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
