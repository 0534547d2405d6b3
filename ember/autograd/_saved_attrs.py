"""torch's ``grad_fn._saved_<name>`` and ``grad_fn._raw_saved_<name>`` for common ops.

torch generates one attribute per value a backward formula saves: ``MulBackward0`` has
``_saved_self`` and ``_saved_other``, ``ExpBackward0`` has ``_saved_result``. ember's ops
save a tuple (``ctx.save_for_backward``), so a table here names its positions with torch's
names, per node name (and per op where two ops show as one node: ``F.linear`` shows as
``AddmmBackward0`` but saves ``W``, whose transpose is torch's ``mat2``).

``_saved_<name>`` gives a Tensor (on the graph as torch's: a saved leaf is the leaf itself, a
saved intermediate has its producer as ``grad_fn``), a number for a saved scalar, or None
where torch saves the value only for a gradient that is not needed (``MulBackward0``'s
``_saved_self`` when ``other`` needs no gradient). After backward freed the graph it raises
torch's "Trying to backward through the graph a second time" error; under saved-tensor
hooks it calls ``unpack_hook`` and puts the Tensor it gives back on the graph, as torch
does. ``_raw_saved_<name>`` gives a ``SavedTensor`` handle, whose
``register_hooks(pack_hook, unpack_hook)`` packs that one value now.

The properties live on ``Node`` (so that node classes made later, by ``show_as``, have them);
a node whose name is not in the table raises AttributeError, as a torch node without that
attribute does.
"""
from __future__ import annotations

import numpy as np

from .. import _tensor as _t
from .function import Node

# node name -> one entry per value ember's op saves, in order: (torch name, the input whose
# gradient alone needs it in torch, or None) or None (a value torch does not save)
_TENSORS = {
    "MulBackward0": (("self", 1), ("other", 0)),
    "DivBackward0": (("self", 1), ("other", None)),
    "ExpBackward0": (("result", None),),
    "TanhBackward0": (("result", None),),
    "SigmoidBackward0": (("result", None),),
    "ReluBackward0": (("result", None),),
    "SqrtBackward0": (("result", None),),
    "LogBackward0": (("self", None),),
    "SinBackward0": (("self", None),),
    "CosBackward0": (("self", None),),
    "AbsBackward0": (("self", None),),
    "PowBackward0": (("self", None), ("exponent", None, "number"), None),
    "PowBackward1": (("self", None), ("exponent", None), ("result", None)),
    "MmBackward0": (("self", 1), ("mat2", 0)),
    "BmmBackward0": (("self", 1), ("mat2", 0)),
    "MvBackward0": (("self", 1), ("vec", 0)),
    "DotBackward0": (("self", 1), ("tensor", 0)),
    "AddmmBackward0": (("mat1", 2), ("mat2", 1)),
    "SoftmaxBackward0": (("result", None),),
    "LogSoftmaxBackward0": (("result", None),),
    "MseLossBackward0": (("self", None), ("target", None), None),
}
# (op class, node name) -> entries, where the op's tuple differs from the node's usual one.
# A third item in an entry: "T", torch saves the transpose of what ember saved; "number", a
# number in torch too (no ``_raw_saved_*``)
_BY_OP = {
    ("Linear", "AddmmBackward0"): (("mat1", 1), ("mat2", 0, "T")),
}
_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}  # torch's Reduction enum
# node name -> {torch name: value from the node}, for saved non-tensor arguments (not
# softmax's ``dim``: torch gives the argument as passed, -1 as 2**64 - 1, ember keeps only the
# normalised axis)
_SCALARS = {
    "AddmmBackward0": {"alpha": lambda n: getattr(n, "alpha", 1),
                       "beta": lambda n: getattr(n, "beta", 1)},
    "MseLossBackward0": {"reduction": lambda n: _REDUCTIONS[n.reduction]},
}


def _entries(node):
    """``{torch name: (position, input, transform)}`` for ``node``, or None."""
    name = type(node).__name__
    op = getattr(type(node)._fn, "__name__", None)
    spec = _BY_OP.get((op, name)) or _TENSORS.get(name)
    if spec is None:
        return None
    return {e[0]: (i, e[1], e[2] if len(e) > 2 else None)
            for i, e in enumerate(spec) if e is not None}


def _no_attribute(node, attr):
    return AttributeError(f"'{type(node).__name__}' object has no attribute '{attr}'")


def _value(node, i, transform):
    """The value at position ``i`` of what ``node`` saved, as torch's ``_saved_*`` gives it."""
    _flush()
    saved = node.saved_tensors  # raises torch's error once backward freed them
    if type(saved) is tuple:
        from ._double_backward import saved_tensors

        v = saved_tensors(node)[i]  # Tensors on the graph, as torch's SavedVariable.unpack
    else:  # packed by hooks: unpack_hook runs, its Tensor goes back on the graph
        from ._saved_hooks import on_graph

        v = on_graph(node, i)
    if isinstance(v, np.generic):
        v = v.item()
    if transform == "T" and isinstance(v, _t.Tensor):
        v = v.t()
    return v


class SavedTensor:
    """torch's ``torch._C._autograd.SavedTensor``: one value a node saved, from
    ``grad_fn._raw_saved_<name>``."""

    def __init__(self, node, index, transform):
        self._node, self._index, self._transform = node, index, transform

    def unpack(self):
        """The saved value (through ``unpack_hook`` when hooks packed it)."""
        return _value(self._node, self._index, self._transform)

    def register_hooks(self, pack_hook, unpack_hook):
        """Pack this value now with ``pack_hook``; reading it calls ``unpack_hook``.

        Raises:
            TypeError: a hook is not callable.
            RuntimeError: the value already has hooks (only one pair at a time), or was freed.
        """
        from ._saved_hooks import _Packed, pack_one, slots_of

        _flush()
        if not (callable(pack_hook) and callable(unpack_hook)):
            raise TypeError("register_hooks(): incompatible function arguments: pack_hook and "
                            "unpack_hook must be callables")
        node = self._node
        saved = node.saved_tensors  # raises torch's error once backward freed them
        entries = list(saved.entries) if type(saved) is not tuple else [(v,) for v in saved]
        entry = entries[self._index]
        if len(entry) != 1:
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have "
                               "already been set. Hint: only one pair of hooks is allowed at "
                               "a time.")
        value = entry[0]
        if not isinstance(value, (np.ndarray, np.generic, _t.Tensor)):
            raise RuntimeError("register_hooks: this saved value is not a tensor")
        if self._transform == "T":  # torch saved the transpose: pack that, give back its .T
            entry = pack_one(np.asarray(value).T, pack_hook, lambda p: unpack_hook(p).t())
            entry = entry[:2] + (np.shape(value),) + entry[3:]
        else:
            entry = pack_one(value, pack_hook, unpack_hook)
        entries[self._index] = entry
        if type(saved) is not tuple:
            slots = saved.slots
        else:
            slots = slots_of(node, saved)
            if node._saved_versions:
                # no in-place check for a value that went through hooks (torch's rule)
                node._saved_versions = [r for r in node._saved_versions if r[0] != id(value)]
        node._saved = _Packed(entries, slots)


def _flush():
    """Values saved under hooks by the last op, packed now (``_saved_hooks.flush``)."""
    from .function import _hook_stack

    if _hook_stack:
        from ._saved_hooks import flush

        flush()


def _own(name, get):
    """A property named ``name`` from ``get``; a value set on the node itself (a user
    Function's ``ctx._saved_x = ...``) is kept there and read back instead."""
    def getter(node):
        own = node.__dict__
        return own[name] if name in own else get(node)

    def setter(node, value):
        node.__dict__[name] = value

    return property(getter, setter, doc=f"torch's ``{name}``")


def _tensor_property(attr):
    def get(node):
        entries = _entries(node)
        if entries is None or attr not in entries:
            raise _no_attribute(node, f"_saved_{attr}")
        i, needed_by, transform = entries[attr]
        if needed_by is not None and not node.needs_input_grad[needed_by]:
            return None  # torch saves it only for that input's gradient
        return _value(node, i, transform)

    def get_raw(node):
        entries = _entries(node)
        if entries is None or attr not in entries:
            raise _no_attribute(node, f"_raw_saved_{attr}")
        i, _, transform = entries[attr]
        if transform == "number":
            raise _no_attribute(node, f"_raw_saved_{attr}")
        return SavedTensor(node, i, transform)

    return _own(f"_saved_{attr}", get), _own(f"_raw_saved_{attr}", get_raw)


def _scalar_property(attr):
    def get(node):
        fn = _SCALARS.get(type(node).__name__, {}).get(attr)
        if fn is None:
            raise _no_attribute(node, f"_saved_{attr}")
        return fn(node)

    return _own(f"_saved_{attr}", get)


def _install():
    tensor_names = {e[0] for spec in list(_TENSORS.values()) + list(_BY_OP.values())
                    for e in spec if e is not None}
    scalar_names = {k for d in _SCALARS.values() for k in d}
    for attr in sorted(tensor_names):
        saved, raw = _tensor_property(attr)
        setattr(Node, f"_saved_{attr}", saved)
        setattr(Node, f"_raw_saved_{attr}", raw)
    for attr in sorted(scalar_names - tensor_names):
        setattr(Node, f"_saved_{attr}", _scalar_property(attr))


_install()
