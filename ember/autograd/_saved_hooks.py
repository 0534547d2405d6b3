"""Saved-tensor hooks: decide how what forward saves for backward is stored.

Inside ``with saved_tensors_hooks(pack_hook, unpack_hook):`` every value an op saves for
backward goes through ``pack_hook(tensor)`` at once, and the node keeps whatever it returns
(a NumPy copy, a file name, a compressed blob ...). When backward (or ``grad_fn._saved_self``)
reads the value, ``unpack_hook(packed)`` must give a Tensor back. Hooks nest; the innermost
pair wins. ``save_on_cpu`` and ``allow_mutation_on_saved_tensors`` are such pairs.

How it fits ember, where built-in ops save NumPy arrays rather than Tensors:

- ``Node.save_for_backward`` checks one module-level list (``function._hook_stack``); only
  when it is not empty does it call ``pack`` here, which wraps each saved array in a Tensor
  (sharing its memory, ``requires_grad=False``) for ``pack_hook``. A user
  ``autograd.Function``'s saved Tensors go to ``pack_hook`` as they are.
- Which values are packed: every array (and Tensor) an op saves; ``None``, numbers and
  anything else an op keeps on ``ctx`` as an attribute are not, as in torch, where only
  saved tensors are packed. ember's ops sometimes save other arrays than torch's do: a
  dropout mask (torch saves one too), MSE's difference ``x - y`` (torch saves ``self`` and
  ``target`` only), ``Linear``'s ``W`` where torch's ``AddmmBackward0`` saves ``W.T``, and
  ``Linear`` saves ``x`` and ``W`` even when only one of them is needed. These are packed
  as well: the hooks see everything ember keeps for backward.
- The node then holds a ``_Packed``: indexing or unpacking it (``x, y = ctx.saved_tensors``)
  calls ``unpack_hook`` once per value read, and turns the Tensor back into an array of the
  saved shape and dtype. It is *falsy*, so that the bookkeeping for plain saved values
  (version records for the in-place check) skips it: as in torch, a value that went
  through hooks has no version check at backward.
- A user Function's saved Tensor that required grad comes back on the same edge of the
  graph (its ``grad_fn``, or its leaf's ``AccumulateGrad``) when ``unpack_hook`` returns a
  new Tensor, as torch re-attaches it: ``utils.checkpoint`` differentiates through its
  saved inputs that way.
- A built-in op saves bare arrays, which do not say whose they are. ``pack_hook`` runs at
  once, but the node keeps the arrays themselves until its op has finished recording
  (``_pending``): ``_record`` then notes, as for any node, which saved array is which input
  or output, and ``flush`` swaps the arrays for the ``_Packed`` with those positions
  (``slots``). That happens at the next save under hooks, on leaving the hooks' context, at
  the start of a backward, and before a ``grad_fn._saved_*`` read, so nothing sees the
  difference. With the positions, ``create_graph=True`` and ``grad_fn._saved_*`` put each
  unpacked value back on the graph as torch does (a saved input on that input's edge, a
  saved output on the node), and second derivatives flow through hooked nodes.
- Hooks run with grad mode off, as torch runs them. The stack is process-wide (torch's is
  per thread).
"""
from __future__ import annotations

import numpy as np

from .. import _tensor as _t
from . import grad_mode
from .function import _hook_stack

_disabled = [None]  # the error message while disable_saved_tensors_hooks is in force

_PACK_INPLACE = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to "
    "pack hook cannot be modified by in-place operations as this can lead to unexpected "
    "side-effects. Please open an issue if you need to perform in-place operations on the "
    "input to a pack hook.")


class _Packed:
    """What a node saved, as ``pack_hook`` returned it; reads call ``unpack_hook``.

    ``entries[i]`` is ``(packed, unpack_hook, shape, dtype, as_array, edge)`` for a packed
    value and ``(value,)`` for one kept as it is (None, a number). ``edge``: where the
    gradient of a saved Tensor that required grad went (``(grad_fn or AccumulateGrad,
    output_nr)``), so that the Tensor ``unpack_hook`` gives back leads there too.
    ``slots[i]``, when known: which input (``i >= 0``) or output (``~j``) the ``i``-th saved
    array was, or None for another array (see ``flush``).
    """

    __slots__ = ("entries", "slots")

    def __init__(self, entries, slots=None):
        self.entries = entries
        self.slots = slots

    def __bool__(self):
        # NOTE: falsy on purpose, see the module docstring
        return False

    def __len__(self):
        return len(self.entries)

    def __iter__(self):
        for e in self.entries:
            yield e[0] if len(e) == 1 else _unpack(e)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self.entries))))
        e = self.entries[i]
        return e[0] if len(e) == 1 else _unpack(e)

    def __repr__(self):
        return f"<saved values packed by saved_tensors_hooks: {len(self.entries)}>"


# node -> its _Packed, for built-in ops' nodes whose recording may not have finished yet
_pending = {}


def pack(values, node=None):
    """``values`` as ``save_for_backward`` got them, packed by the innermost hooks.

    Returns what the node keeps for now: the ``_Packed``, or, for a built-in op's ``node``
    that saved arrays, ``values`` themselves until ``flush`` (see the module docstring).
    """
    if _disabled[0] is not None:
        raise RuntimeError(_disabled[0])
    if _pending:
        flush()
    pack_hook, unpack_hook = _hook_stack[-1]
    packed = _Packed([pack_one(v, pack_hook, unpack_hook) for v in values])
    if node is None or not _is_op_node(node) or not any(
            isinstance(v, (np.ndarray, np.generic)) for v in values):
        return packed
    _pending[node] = packed
    return values


def _is_op_node(node):
    from .function import Op

    fn = node._fn
    return isinstance(fn, type) and issubclass(fn, Op)


def flush():
    """Give each pending node its ``_Packed``, with the positions of its saved arrays among
    its inputs and outputs, from the records its op's ``_record`` made (which also serve
    the in-place check: dropped, as torch checks no versions of values that hooks packed)."""
    while _pending:
        node, packed = _pending.popitem()
        raw = node._saved
        if type(raw) is not tuple:  # saved again meanwhile, or already freed
            continue
        packed.slots = slots_of(node, raw)
        node._saved = packed
        node._saved_versions = None


def slots_of(node, raw):
    """For each value of ``raw`` (what ``node`` saved, as saved): its input or output slot."""
    slots = {arr_id: slot for arr_id, _vc, _version, slot in node._saved_versions or ()
             if arr_id}
    return tuple(slots.get(id(v)) if type(v) is np.ndarray else None for v in raw)


def pack_one(value, pack_hook, unpack_hook):
    """One saved value as a ``_Packed`` entry."""
    edge = None
    if isinstance(value, _t.Tensor):
        t, as_array = value, False
        if t._rg:
            from .engine import _node_of

            edge = _node_of(t)
    elif isinstance(value, (np.ndarray, np.generic)):
        t, as_array = _t._wrap(np.asarray(value)), True
    else:
        return (value,)
    version = t._vc[0]
    with grad_mode.no_grad():
        packed = pack_hook(t)
    if t._vc[0] != version:
        raise RuntimeError(_PACK_INPLACE)
    return (packed, unpack_hook, t._data.shape, t._data.dtype, as_array, edge)


def _unpack(entry):
    packed, unpack_hook, shape, dtype, as_array, edge = entry
    with grad_mode.no_grad():
        t = unpack_hook(packed)
    if not isinstance(t, _t.Tensor):
        raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got "
                        f"result of type {type(t).__name__}")
    if not as_array:
        if edge is not None and not (t._rg and (t._grad_fn or t._accum) is edge[0]):
            # a new Tensor (a copy brought back): on the saved one's edge, as torch
            # re-attaches it, so that a gradient through it still reaches the original
            from ._double_backward import _on_edge

            t = _on_edge(t._data, edge)
        return t
    a = t._data
    if a.shape != shape:
        # torch lets the op's backward fail on it; ember's NumPy backward could broadcast
        # it silently, so say what went wrong here
        raise RuntimeError(f"unpack_hook returned a tensor of shape {list(a.shape)} for a "
                           f"value saved with shape {list(shape)}; it must give back a tensor "
                           f"of the saved shape")
    return a if a.dtype == dtype else a.astype(dtype)


def is_packed(saved) -> bool:
    """Whether a node's ``_saved`` went through saved-tensor hooks."""
    return type(saved) is _Packed


class saved_tensors_hooks:  # noqa: N801  (torch's name)
    """Context manager: a pair of hooks for the tensors saved for backward.

    ``pack_hook(tensor)`` runs when an op saves a tensor, with that tensor; the graph keeps
    what it returns. ``unpack_hook(packed)`` runs each time backward (or
    ``grad_fn._saved_*``) needs the value back, and must return a Tensor with the saved
    value. Nested contexts: the innermost pair wins.

    Args:
        pack_hook: ``Tensor -> Any``; must not modify its input in place.
        unpack_hook: ``Any -> Tensor``.

    Raises:
        RuntimeError: on entering, when ``disable_saved_tensors_hooks`` is in force (with
            its message).

    Differences from torch: built-in ops save NumPy arrays, handed to ``pack_hook`` as
    Tensors sharing their memory (``requires_grad=False``, no ``grad_fn``); an
    ``unpack_hook`` result of another shape raises at once (torch leaves it to the op).
    The hooks are process-wide, not per thread.
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _disabled[0] is not None:
            raise RuntimeError(_disabled[0])
        _hook_stack.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *args):
        if _pending:
            flush()
        _hook_stack.pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801  (torch's name)
    """Keep saved tensors in CPU memory, moved back to their device for backward.

    On ember's CPU tensors nothing moves: the tensor itself is kept, as torch keeps a CPU
    tensor (``tensor.cpu()`` is the tensor). With ``pin_memory=True`` torch copies into
    pinned memory; ember makes the copy (there is no pinned memory to use).

    Args:
        pin_memory: copy each saved tensor (torch: into pinned memory).
        device_type: accepted for torch's signature.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        def pack_to_cpu(tensor):
            if not pin_memory:
                return tensor.device, tensor.cpu()
            return tensor.device, tensor.detach().clone()

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack_to_cpu, unpack_from_cpu)


class disable_saved_tensors_hooks:  # noqa: N801  (torch's name)
    """Context manager under which saved-tensor hooks raise ``RuntimeError(error_message)``:
    entering ``saved_tensors_hooks``, or saving a tensor while hooks from outside are in
    force. For features that cannot work with them.

    Args:
        error_message: the message of the RuntimeError.
    """

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        self._prev = _disabled[0]
        _disabled[0] = self.error_message

    def __exit__(self, *args):
        _disabled[0] = self._prev


def on_graph(node, i):
    """The ``i``-th value ``node`` saved, through ``unpack_hook``, as a Tensor on the graph
    (torch's ``SavedVariable.unpack``): a saved input on that input's edge, a saved output
    on ``node``; any other array a constant. None and numbers stay as they are."""
    from ._double_backward import _on_edge

    packed = node._saved
    e = packed.entries[i]
    if len(e) == 1:
        return e[0]
    v = _unpack(e)
    if type(v) is not np.ndarray:
        return v  # a user Function's Tensor: already on its edge
    slot = packed.slots[i] if packed.slots is not None else None
    if slot is None:
        return _t._wrap(v)
    if slot >= 0:
        return _on_edge(v, node.next_functions[slot])
    return _on_edge(v, (node, ~slot))


def packed_double_backward(node):
    """``saved_tensors(node)`` for ``create_graph=True`` through a node whose saved values
    went through hooks: each unpacked once, on the graph."""
    return tuple(on_graph(node, i) for i in range(len(node._saved.entries)))
