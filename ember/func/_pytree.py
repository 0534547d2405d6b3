"""Pytrees for ``ember.func``: nested tuples, lists, dicts and namedtuples, flattened to leaves.

torch.func walks its arguments and results with ``torch.utils._pytree``; this is the small part
of it the transforms need. Anything that is not a tuple, list or dict is a leaf, ``None``
included: as in torch, ``vmap(f)(x, None)`` needs ``in_dims=(0, None)``.
"""
from __future__ import annotations

from collections import OrderedDict


class TreeSpec:
    """The shape of a pytree without its leaves: ``kind`` is None for a leaf, else one of
    ``"tuple"``, ``"list"``, ``"dict"``, ``"namedtuple"``; ``context`` holds the
    dict keys (or the namedtuple class); ``children`` the child specs."""

    __slots__ = ("kind", "context", "children", "num_leaves")

    def __init__(self, kind=None, context=None, children=()):
        self.kind = kind
        self.context = context
        self.children = tuple(children)
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in self.children)

    def is_leaf(self) -> bool:
        """True for the spec of a single leaf."""
        return self.kind is None

    def __eq__(self, other):
        if not isinstance(other, TreeSpec) or self.kind != other.kind:
            return False
        if self.kind == "dict":
            if set(self.context) != set(other.context):
                return False
            theirs = dict(zip(other.context, other.children))
            return all(c == theirs[k] for k, c in zip(self.context, self.children))
        return self.context == other.context and self.children == other.children

    def __hash__(self):
        return hash((self.kind, len(self.children)))

    def __repr__(self):
        # torch's short form, as its vjp error messages print it: *, (*, *), [*], {'a': *}
        if self.kind is None:
            return "*"
        inner = [repr(c) for c in self.children]
        if self.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.context, inner)) + "}"
        if self.kind == "list":
            return "[" + ", ".join(inner) + "]"
        if self.kind == "namedtuple":
            return f"{self.context.__name__}(" + ", ".join(inner) + ")"
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"


_LEAF = TreeSpec()


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _children(tree):
    """(kind, context, children) of a container node; None for a leaf."""
    if _is_namedtuple(tree):
        return "namedtuple", type(tree), tuple(tree)
    if isinstance(tree, tuple):
        return "tuple", None, tree
    if isinstance(tree, list):
        return "list", None, tree
    if isinstance(tree, dict):
        keys = list(tree)
        return "dict", (type(tree), keys), [tree[k] for k in keys]
    return None


def tree_flatten(tree):
    """``(leaves, spec)``: the leaves of ``tree`` left to right, and its structure."""
    leaves = []
    spec = _flatten(tree, leaves)
    return leaves, spec


def _flatten(tree, leaves):
    node = _children(tree)
    if node is None:
        leaves.append(tree)
        return _LEAF
    kind, context, kids = node
    specs = [_flatten(k, leaves) for k in kids]
    if kind == "dict":
        return _DictSpec(context[0], context[1], specs)
    return TreeSpec(kind, context, specs)


class _DictSpec(TreeSpec):
    """A dict node: remembers the dict type (dict or OrderedDict) to rebuild it."""

    __slots__ = ("dict_type",)

    def __init__(self, dict_type, keys, children):
        super().__init__("dict", list(keys), children)
        self.dict_type = dict_type


def tree_unflatten(leaves, spec):
    """The pytree with structure ``spec`` whose leaves are ``leaves`` (in order)."""
    it = iter(leaves)
    out = _build(spec, it)
    return out


def _build(spec, it):
    if spec.kind is None:
        return next(it)
    kids = [_build(c, it) for c in spec.children]
    if spec.kind == "tuple":
        return tuple(kids)
    if spec.kind == "list":
        return kids
    if spec.kind == "namedtuple":
        return spec.context(*kids)
    cls = getattr(spec, "dict_type", dict)
    pairs = zip(spec.context, kids)
    return OrderedDict(pairs) if issubclass(cls, OrderedDict) else dict(pairs)


def tree_map(fn, tree):
    """``tree`` with ``fn`` applied to every leaf."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_prefix(prefix, spec, is_leaf=lambda x: not isinstance(x, (tuple, list, dict))):
    """One value of ``prefix`` per leaf of ``spec``: ``prefix`` is a tree whose structure is a
    prefix of ``spec``'s, and each of its leaves (an int or None: an in_dim or out_dim) applies
    to every leaf below it. None when the structures do not match."""
    out = []
    return out if _broadcast(prefix, spec, out, is_leaf) else None


def _broadcast(prefix, spec, out, is_leaf):
    if is_leaf(prefix):
        out.extend([prefix] * spec.num_leaves)
        return True
    node = _children(prefix)
    if node is None or spec.kind is None:
        return False
    kind, context, kids = node
    if kind != spec.kind and not {kind, spec.kind} <= {"tuple", "namedtuple"}:
        return False
    if len(kids) != len(spec.children):
        return False
    if kind == "dict":
        if set(context[1]) != set(spec.context):
            return False
        kids = [prefix[k] for k in spec.context]
    return all(_broadcast(p, c, out, is_leaf) for p, c in zip(kids, spec.children))


def spec_of(tree) -> TreeSpec:
    """The structure of ``tree`` (for error messages)."""
    return tree_flatten(tree)[1]
