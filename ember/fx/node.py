"""``Node``: one operation of a ``Graph``, and ``map_arg`` / ``map_aggregate`` over arguments.

Nodes form a doubly linked list (``prev`` / ``next``) closed by the graph's sentinel root,
and a use-def web: ``args`` / ``kwargs`` name the nodes a node reads (``all_input_nodes``),
and each of those lists it among its ``users``. Assigning ``args`` or ``kwargs`` keeps both
sides in step, which is why they are stored as immutable containers.
"""
from __future__ import annotations

import builtins
import inspect
import operator
from collections.abc import Callable
from typing import Any

import ember

from ._qualname import ember_qualified_name, is_from_ember, unpatched
from .immutable_collections import immutable_dict, immutable_list

__all__ = ["Node", "map_arg", "map_aggregate", "has_side_effect"]

_legal_ops = dict.fromkeys(
    ["placeholder", "call_method", "call_module", "call_function", "get_attr", "output", "root"])

# functions that dead-code elimination keeps even when their result is unused
_side_effectful_functions: set = {operator.setitem}

# random ops change the RNG state, so they are impure too (torch._library.utils._RANDOM_FUNCTIONS)
_RANDOM_FUNCTION_NAMES = ("rand", "randn", "randint", "randperm", "rand_like", "randn_like",
                          "randint_like", "normal", "poisson", "bernoulli", "multinomial")


def has_side_effect(fn: Callable) -> Callable:
    """Register ``fn`` as side-effectful so ``Graph.eliminate_dead_code`` keeps its calls.

    Usable as a decorator; returns ``fn``.
    """
    _side_effectful_functions.add(fn)
    return fn


def _random_functions() -> set:
    return {unpatched(getattr(ember, name)) for name in _RANDOM_FUNCTION_NAMES
            if hasattr(ember, name)}


def _type_repr(obj: object) -> str:
    """A short repr of ``obj``: types by module and qualified name, functions by name."""
    if isinstance(obj, type):
        if obj.__module__ == "builtins":
            return obj.__qualname__
        return f"{obj.__module__}.{obj.__qualname__}"
    if obj is ...:
        return "..."
    if inspect.isfunction(obj):
        return obj.__name__
    return repr(obj)


def _get_qualified_name(func: Callable) -> str:
    """The dotted name generated code uses for ``func`` (``"ember.cat"``, ``"getattr"``)."""
    if getattr(builtins, func.__name__, None) is func:
        return func.__name__
    if is_from_ember(func):
        return ember_qualified_name(func)
    name = func.__name__
    if name == "<lambda>":
        try:
            name = inspect.getsource(func).split("=")[0].strip()
        except Exception as e:
            raise RuntimeError("Unable to represent lambda") from e
    module = getattr(func, "__module__", None)
    if module is None:
        raise RuntimeError(f"cannot find module for {func}")
    return f"{module}.{name}"


def _format_arg(arg: object, max_list_len: float = float("inf")) -> str:
    """How ``Graph.__str__`` shows an argument: nodes as ``%name``, containers recursively."""
    if isinstance(arg, (list, tuple)):
        items = ", ".join(_format_arg(a) for i, a in enumerate(arg) if i < max_list_len)
        more = "" if len(arg) < max_list_len + 1 else f", ...[total_len={len(arg)}]"
        if isinstance(arg, list):
            return f"[{items}{more}]"
        return f"({items}{',' if len(arg) == 1 else ''}{more})"
    if isinstance(arg, dict):
        items = ", ".join(f"{k}: {_format_arg(v)}" for k, v in arg.items())
        return f"{{{items}}}"
    if isinstance(arg, Node):
        return "%" + str(arg)
    return str(arg)


class Node:
    """One operation of a ``Graph``; its ``op`` says which kind:

    - ``placeholder``: a function input; ``target`` is the parameter's name, ``args`` is
      empty or holds its default value.
    - ``get_attr``: fetches a parameter, buffer or submodule; ``target`` is its qualified
      name (``"linear.weight"``).
    - ``call_function``: calls ``target`` (a Python callable) on ``args`` / ``kwargs``.
    - ``call_module``: calls the submodule named ``target``; ``args`` exclude ``self``.
    - ``call_method``: calls method ``target`` (a string) on ``args[0]``.
    - ``output``: the ``return`` statement; ``args[0]`` is the returned value.

    ``name`` is the variable the result gets in generated code, unique within the graph.
    Build nodes through ``Graph`` (``graph.call_function(...)``) rather than directly.
    """

    def __init__(self, graph, name: str, op: str, target, args: tuple, kwargs: dict,
                 return_type: Any | None = None) -> None:
        """Create a node of ``graph`` (not yet linked into its node list)."""
        if op == "call_function":
            if not callable(target):
                raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has "
                                 f"type {ember.typename(target)} but a Callable is expected")
        else:
            if op not in _legal_ops:
                raise AssertionError(f"op '{op}' is not in _legal_ops")
            if not isinstance(target, str):
                raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has "
                                 f"type {ember.typename(target)} but a str is expected")
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self.type = return_type
        self._input_nodes: dict[Node, None] = {}
        self.users: dict[Node, None] = {}
        self._prev = self._next = self
        self._erased = False
        self._repr_fn: Callable[[Node], str] | None = None
        self.meta: dict[str, Any] = {}
        self._update_args_kwargs(args, kwargs)

    # --- place in the node list ---------------------------------------------------------
    @property
    def next(self) -> Node:
        """The next ``Node`` in the graph's list (the sentinel root after the last one)."""
        return self._next

    @property
    def prev(self) -> Node:
        """The previous ``Node`` in the graph's list."""
        return self._prev

    def prepend(self, x: Node) -> None:
        """Move ``x`` (a node of the same graph) to just before this node."""
        if self.graph is not x.graph:
            raise AssertionError("Attempting to move a Node into a different Graph")
        if self is x:
            return  # a no-op, silently, as in torch
        x._remove_from_list()
        p = self._prev
        p._next, x._prev = x, p
        x._next, self._prev = self, x

    def append(self, x: Node) -> None:
        """Move ``x`` to just after this node; same as ``self.next.prepend(x)``."""
        self._next.prepend(x)

    def _remove_from_list(self) -> None:
        p, n = self._prev, self._next
        p._next, n._prev = n, p

    # --- arguments and the use-def web ------------------------------------------------
    @property
    def args(self) -> tuple:
        """The positional arguments; assigning them updates ``users`` of the nodes involved."""
        return self._args

    @args.setter
    def args(self, a: tuple) -> None:
        self._update_args_kwargs(a, self._kwargs)

    @property
    def kwargs(self) -> dict:
        """The keyword arguments; assigning them updates ``users`` of the nodes involved."""
        return self._kwargs

    @kwargs.setter
    def kwargs(self, k: dict) -> None:
        self._update_args_kwargs(self._args, k)

    @property
    def all_input_nodes(self) -> list[Node]:
        """The nodes appearing in ``args`` and ``kwargs``, in that order, each once."""
        return list(self._input_nodes)

    def _update_args_kwargs(self, new_args, new_kwargs) -> None:
        for old_use in self._input_nodes:
            old_use.users.pop(self)
        self._input_nodes = {}

        def record(n):
            if isinstance(n, Node):
                self._input_nodes.setdefault(n)
                n.users.setdefault(self)
            return n

        self._args = map_aggregate(new_args, record)
        self._kwargs = map_aggregate(new_kwargs, record)

    def update_arg(self, idx: int, arg) -> None:
        """Set ``args[idx]`` to ``arg``."""
        args = list(self.args)
        args[idx] = arg
        self.args = tuple(args)

    def insert_arg(self, idx: int, arg) -> None:
        """Insert ``arg`` before position ``idx`` of ``args``."""
        if not 0 <= idx <= len(self.args):
            raise AssertionError(
                f"insert_args index must be between 0 and len(self.args), got {idx}")
        self.args = self.args[:idx] + (arg,) + self.args[idx:]

    def update_kwarg(self, key: str, arg) -> None:
        """Set ``kwargs[key]`` to ``arg``."""
        self.kwargs = {**self.kwargs, key: arg}

    def replace_all_uses_with(self, replace_with: Node,
                              delete_user_cb: Callable[[Node], bool] | None = None, *,
                              propagate_meta: bool = False) -> list[Node]:
        """Make every user of this node read ``replace_with`` instead.

        Args:
            replace_with: the node to use in its place.
            delete_user_cb: called per user; a user is rewritten only when it returns True.
            propagate_meta: copy this node's ``meta`` onto ``replace_with`` (which must have
                none yet).

        Returns:
            The users that were rewritten.
        """
        if propagate_meta:
            if len(replace_with.meta) != 0:
                raise AssertionError(
                    "Called node.replace_all_uses_with(replace_with, propagate_meta=True), "
                    "but replace_with already has .meta keys")
            replace_with.meta.update(self.meta)
        result = []
        for use_node in list(self.users):
            if delete_user_cb is not None and not delete_user_cb(use_node):
                continue
            result.append(use_node)
            use_node.replace_input_with(self, replace_with)
        return result

    def replace_input_with(self, old_input: Node, new_input: Node) -> None:
        """Replace every occurrence of ``old_input`` in this node's arguments by ``new_input``."""
        def swap(n):
            return new_input if n is old_input else n

        self._update_args_kwargs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    def _rename(self, candidate: str) -> None:
        if candidate == self.name:
            return
        name = self.graph._graph_namespace.create_name(candidate, None)
        self.name = name
        self.graph._graph_namespace._rename_object(self, name)

    # --- properties used by passes -----------------------------------------------------
    @property
    def stack_trace(self) -> str | None:
        """The Python stack trace recorded while tracing, if any (``meta["stack_trace"]``)."""
        return self.meta.get("stack_trace", None)

    @stack_trace.setter
    def stack_trace(self, trace: str | None) -> None:
        self.meta["stack_trace"] = trace

    def is_impure(self, impure_random: bool = True) -> bool:
        """Whether this node has effects beyond its result (so DCE must keep it).

        Placeholders and outputs are; so are calls of side-effectful functions
        (``has_side_effect``), random functions, and submodules with ``_is_impure`` set.
        """
        if self.op in {"placeholder", "output"}:
            return True
        if self.op == "call_module":
            if self.graph.owning_module is None:
                raise AssertionError("self.graph.owning_module not set for purity check")
            target_mod = self.graph.owning_module.get_submodule(self.target)
            return getattr(target_mod, "_is_impure", False)
        if self.op == "call_function":
            if self.target in _side_effectful_functions:
                return True
            return self.target in _random_functions()
        return False

    # --- printing -------------------------------------------------------------------
    def __repr__(self) -> str:
        if self._repr_fn:
            return self._repr_fn(self)
        return self.name

    @staticmethod
    def _pretty_print_target(target: object) -> str:
        """A target as ``format_node`` shows it: ``operator.add``, ``builtins.getattr``,
        ``ember.cat``."""
        if isinstance(target, str):
            return target
        if hasattr(target, "__module__"):
            name = getattr(target, "__name__", None)
            if name is None:
                return _get_qualified_name(target)
            if target.__module__ == "builtins":
                return f"builtins.{name}"
            if target.__module__ == "_operator":
                return f"operator.{name}"
        return _get_qualified_name(target)

    def format_node(self, placeholder_names: list[str] | None = None,
                    maybe_return_typename: list[str] | None = None) -> str | None:
        """A readable one-line description of this node, as in ``print(graph)``.

        ``placeholder_names`` and ``maybe_return_typename`` are for ``Graph.__str__``: a
        non-empty ``placeholder_names`` collects placeholder names instead (returning None).
        """
        if self.op == "placeholder":
            arg_str = self.target
            arg_str += arg_str + f": {_type_repr(self.type)}" if self.type else ""
            if placeholder_names:
                placeholder_names.append(arg_str)
                return None
            typename = f"{_type_repr(self.type)} " if self.type else ""
            default_val = "(default=" + str(self.args[0]) + ")" if self.args else ""
            return (f"%{self.name} : {typename}[num_users={len(self.users)}] = "
                    f"{self.op}[target={self.target}]{default_val}")
        if self.op == "get_attr":
            typename = f"{_type_repr(self.type)} " if self.type is not None else ""
            return (f"%{self.name} : {typename}[num_users={len(self.users)}] = "
                    f"{self.op}[target={self._pretty_print_target(self.target)}]")
        if self.op == "output":
            if self.type and maybe_return_typename:
                maybe_return_typename[0] = f" -> {_type_repr(self.type)}"
            return f"return {self.args[0]}"
        typename = f"{_type_repr(self.type)} " if self.type is not None else ""
        return (f"%{self.name} : {typename}[num_users={len(self.users)}] = "
                f"{self.op}[target={self._pretty_print_target(self.target)}]("
                f"args = {_format_arg(self.args)}, kwargs = {_format_arg(self.kwargs)})")


def map_aggregate(a, fn: Callable):
    """Apply ``fn`` to every leaf of ``a`` (through tuples, lists, dicts and slices).

    Lists and dicts come back as ``immutable_list`` / ``immutable_dict``; named tuples keep
    their type.
    """
    if isinstance(a, tuple):
        t = tuple(map_aggregate(elem, fn) for elem in a)
        return type(a)(*t) if hasattr(a, "_fields") else t
    if isinstance(a, list):
        return immutable_list(map_aggregate(elem, fn) for elem in a)
    if isinstance(a, dict):
        return immutable_dict((k, map_aggregate(v, fn)) for k, v in a.items())
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn),
                     map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a, fn: Callable[[Node], Any]):
    """Apply ``fn`` to every ``Node`` inside ``a``, keeping the structure around them."""
    if not callable(fn):
        raise AssertionError("torch.fx.map_arg(a, fn): fn must be a callable")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)
