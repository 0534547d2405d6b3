"""Pytrees: nested containers flattened to a list of leaves and a ``TreeSpec`` of their shape.

This is torch's Python pytree (``torch.utils._pytree``), which ``ember.utils._pytree`` re-exports
and ``ember.func``'s transforms walk their arguments and results with. A node is an instance of
a registered type, matched exactly (a ``dict`` subclass is a leaf unless registered): tuple,
list, dict, namedtuple (all namedtuple classes, under the one node type ``namedtuple``),
OrderedDict, defaultdict and deque come registered. Everything else is a leaf, ``None``
included: as in torch, ``vmap(f)(x, None)`` needs ``in_dims=(0, None)``.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict, defaultdict, deque, namedtuple
from typing import Any, NamedTuple


class NodeDef(NamedTuple):
    """How one registered node type comes apart and goes back together."""

    type: Any
    flatten_fn: Any
    unflatten_fn: Any
    flatten_with_keys_fn: Any


SUPPORTED_NODES: dict = {}
SUPPORTED_SERIALIZED_TYPES: dict = {}
NO_SERIALIZED_TYPE_NAME_FOUND = "NO_SERIALIZED_TYPE_NAME_FOUND"


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None,
                         to_dumpable_context=None, from_dumpable_context=None,
                         flatten_with_keys_fn=None) -> None:
    """Register a container type as a pytree node, as ``torch.utils._pytree`` does.

    Args:
        cls: the type to register (matched exactly, not its subclasses).
        flatten_fn: ``node -> (children, context)``.
        unflatten_fn: ``(children, context) -> node``.
        serialized_type_name: kept for torch's signature (ember has no ``treespec_dumps``).
        to_dumpable_context: as torch's; must come with ``from_dumpable_context``.
        from_dumpable_context: as torch's; must come with ``to_dumpable_context``.
        flatten_with_keys_fn: ``node -> ([(key, child), ...], context)``, for the key-path
            functions (``tree_flatten_with_path``).

    Raises:
        ValueError: ``cls`` is already registered, or only one of the dumpable-context
            functions is given.
    """
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    _private_register_pytree_node(cls, flatten_fn, unflatten_fn,
                                  serialized_type_name=serialized_type_name,
                                  to_dumpable_context=to_dumpable_context,
                                  from_dumpable_context=from_dumpable_context,
                                  flatten_with_keys_fn=flatten_with_keys_fn)


def _private_register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None,
                                  to_dumpable_context=None, from_dumpable_context=None,
                                  flatten_with_keys_fn=None) -> None:
    if cls in SUPPORTED_NODES:
        warnings.warn(f"{cls} is already registered as pytree node. Overwriting the previous "
                      "registration.", stacklevel=2)
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)
    if (to_dumpable_context is None) ^ (from_dumpable_context is None):
        raise ValueError(f"Both to_dumpable_context and from_dumpable_context for {cls} must "
                         "be None or registered.")
    SUPPORTED_SERIALIZED_TYPES[cls] = (serialized_type_name or NO_SERIALIZED_TYPE_NAME_FOUND,
                                       to_dumpable_context, from_dumpable_context)


# --- namedtuples and structseqs -----------------------------------------------------------------
def is_namedtuple(obj) -> bool:
    """Whether ``obj`` is a namedtuple class or an instance of one."""
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def is_namedtuple_class(cls) -> bool:
    """Whether ``cls`` is a namedtuple class (a tuple subclass with ``_fields``, ``_make``...)."""
    return (isinstance(cls, type) and issubclass(cls, tuple)
            and isinstance(getattr(cls, "_fields", None), tuple)
            and all(type(f) is str for f in cls._fields)
            and callable(getattr(cls, "_make", None))
            and callable(getattr(cls, "_asdict", None)))


def is_namedtuple_instance(obj) -> bool:
    """Whether ``obj`` is an instance of a namedtuple class."""
    return is_namedtuple_class(type(obj))


def is_structseq_class(cls) -> bool:
    """Whether ``cls`` is a C ``PyStructSequence`` type (``os.stat_result``, ``sys.flags``), or
    one of ``ember.return_types`` (Python classes that refuse subclasses as those do)."""
    return (isinstance(cls, type) and cls.__bases__ == (tuple,)
            and all(isinstance(getattr(cls, a, None), int)
                    for a in ("n_fields", "n_sequence_fields", "n_unnamed_fields"))
            and (not cls.__flags__ & (1 << 10)  # Py_TPFLAGS_BASETYPE: cannot be subclassed
                 or cls.__module__ == "ember.return_types"))


def is_structseq(obj) -> bool:
    """Whether ``obj`` is a structseq class or an instance of one."""
    return is_structseq_class(obj if isinstance(obj, type) else type(obj))


def is_structseq_instance(obj) -> bool:
    """Whether ``obj`` is an instance of a structseq class."""
    return is_structseq_class(type(obj))


# --- the built-in node types ---------------------------------------------------------------------
# flatten_with_keys_fn of the built-in nodes; the key classes live in ember.utils._pytree,
# loaded on first use (only the key-path functions need them)
def _key_classes():
    from ember.utils import _pytree

    return _pytree


def _seq_keys(values, context):
    return [(_key_classes().SequenceKey(i), v) for i, v in enumerate(values)], context


def _dict_flatten(d):
    return list(d.values()), list(d.keys())


def _dict_keys(d):
    values, keys = _dict_flatten(d)
    return [(_key_classes().MappingKey(k), v) for k, v in zip(keys, values)], keys


def _namedtuple_keys(d):
    return [(_key_classes().GetAttrKey(f), v) for f, v in zip(type(d)._fields, d)], type(d)


def _defaultdict_keys(d):
    pairs, keys = _dict_keys(d)
    return pairs, [d.default_factory, keys]


_private_register_pytree_node(tuple, lambda d: (list(d), None), lambda v, c: tuple(v),
                              flatten_with_keys_fn=lambda d: _seq_keys(list(d), None))
_private_register_pytree_node(list, lambda d: (d, None), lambda v, c: list(v),
                              flatten_with_keys_fn=lambda d: _seq_keys(d, None))
_private_register_pytree_node(dict, _dict_flatten, lambda v, c: dict(zip(c, v)),
                              flatten_with_keys_fn=_dict_keys)
_private_register_pytree_node(namedtuple, lambda d: (list(d), type(d)), lambda v, c: c(*v),
                              flatten_with_keys_fn=_namedtuple_keys)
_private_register_pytree_node(OrderedDict, _dict_flatten, lambda v, c: OrderedDict(zip(c, v)),
                              flatten_with_keys_fn=_dict_keys)
_private_register_pytree_node(
    defaultdict, lambda d: (list(d.values()), [d.default_factory, list(d.keys())]),
    lambda v, c: defaultdict(c[0], dict(zip(c[1], v))), flatten_with_keys_fn=_defaultdict_keys)
_private_register_pytree_node(deque, lambda d: (list(d), d.maxlen),
                              lambda v, c: deque(v, maxlen=c),
                              flatten_with_keys_fn=lambda d: _seq_keys(list(d), d.maxlen))

STANDARD_DICT_TYPES = frozenset({dict, OrderedDict, defaultdict})
BUILTIN_TYPES = frozenset({tuple, list, dict, namedtuple, OrderedDict, defaultdict, deque})


def _get_node_type(tree):
    # every namedtuple class is the one node type `namedtuple`, as in torch
    return namedtuple if is_namedtuple_class(type(tree)) else type(tree)


def tree_is_leaf(tree, is_leaf=None) -> bool:
    """Whether ``tree`` is a leaf: ``is_leaf(tree)`` says so, or its type is not registered."""
    if is_leaf is not None and is_leaf(tree):
        return True
    return _get_node_type(tree) not in SUPPORTED_NODES


# --- TreeSpec -------------------------------------------------------------------------------------
class TreeSpec:
    """The structure of a pytree without its leaves, as torch's ``TreeSpec``.

    Args:
        type: the node's type (``None`` for a leaf; ``namedtuple`` for every namedtuple).
        context: what the node's ``unflatten_fn`` needs besides the children (dict keys,
            the namedtuple class, a deque's ``maxlen``).
        children_specs: one ``TreeSpec`` per child.

    Equality compares type, context and children, so dicts with their keys in another
    order have different specs (as in torch). The repr is torch's long form,
    ``TreeSpec(tuple, None, [*, *])``; ``treespec_pprint`` gives the short ``(*, *)``.
    """

    __slots__ = ("type", "_context", "_children", "num_nodes", "num_leaves", "num_children")

    def __init__(self, type, context, children_specs) -> None:  # noqa: A002 (torch's name)
        set_ = object.__setattr__
        set_(self, "type", type)
        set_(self, "_context", context)
        set_(self, "_children", children_specs)
        if type is None:
            if context is not None:
                raise AssertionError("leaf node should not have a context")
            if len(children_specs) != 0:
                raise AssertionError("leaf node should not have children")
            nodes, leaves, kids = 1, 1, 0
        else:
            nodes = 1 + sum(c.num_nodes for c in children_specs)
            leaves = sum(c.num_leaves for c in children_specs)
            kids = len(children_specs)
        set_(self, "num_nodes", nodes)
        set_(self, "num_leaves", leaves)
        set_(self, "num_children", kids)

    def __setattr__(self, name, value):
        import dataclasses

        raise dataclasses.FrozenInstanceError(f"cannot assign to field '{name}'")

    def __reduce__(self):  # copy and pickle through the constructor (the slots are frozen)
        return TreeSpec, (self.type, self._context, self._children)

    def __repr__(self, indent: int = 0) -> str:
        out = f"TreeSpec({self.type.__name__}, {self._context}, ["
        if self.num_children > 0:
            indent += 2
            out += self._children[0].__repr__(indent)
            out += "," if self.num_children > 1 else ""
            out += ",".join("\n" + " " * indent + c.__repr__(indent) for c in self._children[1:])
        return out + "])"

    def __eq__(self, other):
        if self is other:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (str(self.type) == str(other.type) and self._context == other._context
                and self._children == other._children)

    def __hash__(self):
        kind, context = self.type, self._context
        if kind is defaultdict:
            context = (context[0], tuple(context[1]))
        elif kind in (dict, OrderedDict):
            context = tuple(context)
        elif kind is not None and kind not in BUILTIN_TYPES:
            context = None  # a user node's context may not hash; equal specs still hash equal
        return hash((kind, context, tuple(self._children)))

    @property
    def context(self):
        """The node's context (dict keys, namedtuple class, deque maxlen; None for a leaf)."""
        return self._context

    @property
    def children_specs(self):
        """The child specs (deprecated in torch: use ``children()`` / ``child(i)``)."""
        warnings.warn("`treespec.children_specs` is deprecated. Use `treespec.child(index)` to "
                      "access a single child, or `treespec.children()` to get all children.",
                      FutureWarning, stacklevel=2)
        return self._children

    def is_leaf(self) -> bool:
        """Whether this spec is a single leaf."""
        return self.num_nodes == 1 and self.num_leaves == 1

    def children(self) -> list:
        """A copy of the list of child specs."""
        return list(self._children)

    def child(self, index: int):
        """The child spec at ``index``."""
        return self._children[index]

    def flatten_up_to(self, tree) -> list:
        """The subtrees of ``tree`` sitting where this spec has leaves.

        Raises:
            ValueError: ``tree`` does not have this spec's structure down to its leaves
                (torch's messages: type, arity, keys or context mismatch).
        """
        out = []
        _flatten_up_to(self, tree, out)
        return out

    def unflatten(self, leaves):
        """The pytree of this structure holding ``leaves`` in order.

        Raises:
            ValueError: the number of leaves is not ``num_leaves``.
        """
        if not isinstance(leaves, (list, tuple)):
            leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but "
                             f"the spec refers to a pytree that holds {self.num_leaves} items "
                             f"({self}).")
        return _unflatten(self, leaves, 0)


def _unflatten(spec, leaves, start):
    if spec.is_leaf():
        return leaves[start]
    kids = []
    for child in spec._children:
        kids.append(_unflatten(child, leaves, start))
        start += child.num_leaves
    return SUPPORTED_NODES[spec.type].unflatten_fn(kids, spec._context)


def _flatten_up_to(spec, node, out):
    if spec.is_leaf():
        out.append(node)
        return
    node_type = _get_node_type(node)
    if spec.type not in BUILTIN_TYPES:
        if node_type != spec.type:  # a user node must match exactly
            raise ValueError(f"Type mismatch; expected {spec.type!r}, but got {node_type!r}.")
        kids, context = SUPPORTED_NODES[node_type].flatten_fn(node)
        if len(kids) != spec.num_children:
            raise ValueError(f"Node arity mismatch; expected {spec.num_children}, but got "
                             f"{len(kids)}.")
        if context != spec._context:
            raise ValueError(f"Node context mismatch for custom node type {spec.type!r}.")
    else:
        both_dicts = spec.type in STANDARD_DICT_TYPES and node_type in STANDARD_DICT_TYPES
        if not both_dicts and node_type != spec.type:
            raise ValueError(f"Node type mismatch; expected {spec.type!r}, but got "
                             f"{node_type!r}.")
        if len(node) != spec.num_children:
            raise ValueError(f"Node arity mismatch; expected {spec.num_children}, but got "
                             f"{len(node)}.")
        if both_dicts:  # the dict kinds stand in for one another; keys match as sets
            keys = spec._context if spec.type is not defaultdict else spec._context[1]
            if set(node) != set(keys):
                missing, extra = set(keys) - set(node), set(node) - set(keys)
                message = f"; missing key(s): {missing}" if missing else ""
                message += f"; extra key(s): {extra}" if extra else ""
                raise ValueError(f"Node keys mismatch{message}.")
            kids = [node[k] for k in keys]
        else:
            kids, context = SUPPORTED_NODES[node_type].flatten_fn(node)
            if node_type is not deque and context != spec._context:
                raise ValueError(f"Node context mismatch for node type {spec.type!r}; expected "
                                 f"{spec._context!r}, but got {context!r}.")
    for kid, kid_spec in zip(kids, spec._children):
        _flatten_up_to(kid_spec, kid, out)


_LEAFSPEC_DEPRECATION = ("`isinstance(treespec, LeafSpec)` is deprecated, use "
                         "`isinstance(treespec, TreeSpec) and treespec.is_leaf()` instead.")


class LeafSpec(TreeSpec):
    """The spec of a single leaf, printed ``*`` (constructing one warns, as torch's does)."""

    __slots__ = ()

    def __init__(self) -> None:
        warnings.warn(_LEAFSPEC_DEPRECATION, FutureWarning, stacklevel=2)
        super().__init__(None, None, [])

    def __repr__(self, indent: int = 0) -> str:
        return "*"

    def __reduce__(self):
        return treespec_leaf, ()


# every leaf shares this one spec, as in torch
_LEAF_SPEC = LeafSpec.__new__(LeafSpec)
TreeSpec.__init__(_LEAF_SPEC, None, None, [])


def treespec_leaf() -> TreeSpec:
    """The spec of a leaf."""
    return _LEAF_SPEC


def treespec_tuple(iterable=(), /) -> TreeSpec:
    """The spec of a tuple whose children have the given specs."""
    children = list(iterable)
    if any(not isinstance(c, TreeSpec) for c in children):
        raise ValueError(f"Expected a tuple of TreeSpec values, got: {children!r}.")
    return TreeSpec(tuple, None, children)


def treespec_dict(mapping=(), /, **kwargs) -> TreeSpec:
    """The spec of a dict whose values have the given specs."""
    d = dict(mapping, **kwargs)
    if any(not isinstance(c, TreeSpec) for c in d.values()):
        raise ValueError(f"Expected a dictionary of TreeSpec values, got: {d!r}.")
    return TreeSpec(dict, list(d.keys()), list(d.values()))


# --- flatten, unflatten, map ---------------------------------------------------------------------
def tree_flatten(tree, is_leaf=None):
    """``(leaves, spec)``: the leaves of ``tree`` left to right, and its structure.

    Args:
        tree: a pytree.
        is_leaf: optional predicate; a subtree it returns True for is kept whole as a leaf.
    """
    leaves = []
    return leaves, _flatten(tree, leaves, is_leaf)


def _flatten(node, leaves, is_leaf):
    if tree_is_leaf(node, is_leaf):
        leaves.append(node)
        return _LEAF_SPEC
    node_type = _get_node_type(node)
    kids, context = SUPPORTED_NODES[node_type].flatten_fn(node)
    return TreeSpec(node_type, context, [_flatten(k, leaves, is_leaf) for k in kids])


def tree_unflatten(leaves, treespec):
    """The pytree with structure ``treespec`` whose leaves are ``leaves`` (in order).

    As in torch, the two arguments may come in either order.

    Raises:
        TypeError: neither argument is a ``TreeSpec``.
        ValueError: the number of leaves does not match the spec.
    """
    if not isinstance(treespec, TreeSpec):
        if not isinstance(leaves, TreeSpec):
            raise TypeError("Expected `treespec` to be an instance of PyTreeSpec but got item "
                            f"of type {type(treespec)}.")
        leaves, treespec = treespec, leaves
    return treespec.unflatten(leaves)


def tree_iter(tree, is_leaf=None):
    """A generator over the leaves of ``tree``, left to right."""
    if tree_is_leaf(tree, is_leaf):
        yield tree
        return
    kids, _ = SUPPORTED_NODES[_get_node_type(tree)].flatten_fn(tree)
    for kid in kids:
        yield from tree_iter(kid, is_leaf)


def tree_leaves(tree, is_leaf=None) -> list:
    """The list of leaves of ``tree``, left to right."""
    return list(tree_iter(tree, is_leaf))


def tree_structure(tree, is_leaf=None) -> TreeSpec:
    """The ``TreeSpec`` of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """``tree`` with ``func`` applied to every leaf.

    With ``rests``, ``func`` takes one argument per tree: the leaf of ``tree`` and the
    subtrees of the others at the same place (their structure must have ``tree``'s as a
    prefix), e.g. ``tree_map(lambda x, y: [x] + y, [5, 6], [[7, 9], [1, 2]])``.

    Raises:
        ValueError: a tree in ``rests`` does not have ``tree``'s structure as a prefix.
    """
    leaves, spec = tree_flatten(tree, is_leaf)
    flat = [leaves] + [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(map(func, *flat))


def tree_map_(func, tree, *rests, is_leaf=None):
    """Call ``func`` on every leaf (and the matching subtrees of ``rests``) for its side
    effects; returns ``tree`` itself."""
    leaves, spec = tree_flatten(tree, is_leaf)
    flat = [leaves] + [spec.flatten_up_to(r) for r in rests]
    deque(map(func, *flat), maxlen=0)
    return tree


class _Asterisk(str):
    __slots__ = ()

    def __repr__(self) -> str:
        return "*"


_ASTERISK = _Asterisk("*")


def treespec_pprint(treespec: TreeSpec) -> str:
    """The short form of a spec: the tree's own repr with ``*`` for each leaf, e.g.
    ``(*, [*, {'a': *}])`` (torch's vjp error messages print specs this way)."""
    return repr(tree_unflatten([_ASTERISK] * treespec.num_leaves, treespec))


def broadcast_prefix(prefix, spec, is_leaf=None):
    """One value of ``prefix`` per leaf of ``spec`` (torch's ``_broadcast_to_and_flatten``):
    ``prefix`` is a tree whose structure is a prefix of ``spec``'s, and each of its leaves
    (e.g. an in_dim or out_dim) applies to every leaf below it. None when it is not a prefix."""
    full = spec.unflatten([0] * spec.num_leaves)
    values, prefix_spec = tree_flatten(prefix, is_leaf)
    try:
        subtrees = prefix_spec.flatten_up_to(full)
    except ValueError:
        return None
    out = []
    for value, sub in zip(values, subtrees):
        out.extend([value] * tree_structure(sub, is_leaf).num_leaves)
    return out


def spec_of(tree) -> TreeSpec:
    """The structure of ``tree`` (for error messages)."""
    return tree_structure(tree)
