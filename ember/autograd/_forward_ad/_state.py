"""Where tangents live while a dual level is open.

A tangent is the tensor attribute ``_fw_grad`` (a class default of None exists only while a
level is open). Every tensor given one is remembered, weakly, so that leaving the level can
take all tangents away again.

``off`` counts the tangent computations in progress: while it is above 0 the wrappers pass
every call straight through, so the ops a formula runs on primal values and tangents compute
values only (one level, as torch: tangents never have tangents of their own).
"""
from __future__ import annotations

import weakref

off = 0
_duals = {}  # id(tensor) -> weakref to it: every tensor holding a tangent
_nodes = []  # weakrefs to the graph nodes that keep tangents (see _apply.note_saved)


def tangent(t):
    """``t``'s tangent, or None (also for anything that is not a tensor)."""
    return getattr(t, "_fw_grad", None)


def set_tangent(t, tan) -> None:
    """Give ``t`` the tangent ``tan`` (None: take it away)."""
    if tan is None:
        t.__dict__.pop("_fw_grad", None)
        return
    t._fw_grad = tan
    key = id(t)
    if key not in _duals or _duals[key]() is not t:
        _duals[key] = weakref.ref(t, lambda ref, key=key: _forget(key, ref))


def _forget(key, ref):
    if _duals.get(key) is ref:
        del _duals[key]


def note_node(node) -> None:
    """Remember a node that keeps tangents, so that leaving the level takes them away."""
    _nodes.append(weakref.ref(node))


def drop_all() -> None:
    """Take every tangent away (leaving the level), from tensors and from graph nodes."""
    refs = list(_duals.values())
    _duals.clear()
    for ref in refs:
        t = ref()
        if t is not None:
            t.__dict__.pop("_fw_grad", None)
    nodes = list(_nodes)
    _nodes.clear()
    for ref in nodes:
        node = ref()
        if node is not None:
            node.__dict__.pop("_fw_saved", None)
            node.__dict__.pop("_fw_inputs", None)


class passthrough:  # noqa: N801
    """Context manager: the ops run inside compute values only (see the module's notes)."""

    def __enter__(self):
        global off
        off += 1

    def __exit__(self, *exc):
        global off
        off -= 1
        return False
