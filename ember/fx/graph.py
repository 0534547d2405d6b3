"""``Graph``: the list of Nodes that makes up one traced function.

A graph is a doubly linked list of ``Node`` s behind a sentinel root. New nodes go to the
insert point (the end, unless ``inserting_before`` / ``inserting_after`` say otherwise).
``print(graph)`` shows the IR; ``graph.python_code("self")`` turns it back into Python.
"""
from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from ._codegen import CodeGen, PythonCode
from ._namespace import _is_magic, _Namespace, _snake_case
from .node import Node, _legal_ops, map_arg

__all__ = ["Graph", "PythonCode", "CodeGen"]


def _attr_exists(mod, qualified_name: str) -> bool:
    """Whether ``mod`` has a submodule, parameter or buffer at ``qualified_name``."""
    import ember

    module_path, _, name = qualified_name.rpartition(".")
    try:
        submod = mod.get_submodule(module_path)
    except AttributeError:
        return False
    res = getattr(submod, name, None)
    return (isinstance(res, (ember.nn.Module, ember.nn.Parameter))
            or name in getattr(submod, "_buffers", {}))


class _InsertPoint:
    """Context manager that restores the graph's insert point on exit."""

    def __init__(self, graph: Graph, new_insert: Callable[[Node], None]) -> None:
        self.graph = graph
        self.orig_insert, graph._insert = graph._insert, new_insert

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        self.graph._insert = self.orig_insert


class _node_list:
    """A live view of a graph's nodes: ``len``, iteration and ``reversed``.

    Erasing or inserting nodes while iterating is safe.
    """

    def __init__(self, graph: Graph, direction: str = "_next") -> None:
        if direction not in ("_next", "_prev"):
            raise AssertionError(f"direction must be '_next' or '_prev', got {direction}")
        self.graph = graph
        self.direction = direction

    def __len__(self) -> int:
        return self.graph._len

    def __iter__(self):
        root = self.graph._root
        direction = self.direction
        cur = getattr(root, direction)
        while cur is not root:
            if not cur._erased:
                yield cur
            cur = getattr(cur, direction)

    def __reversed__(self):
        return iter(_node_list(self.graph, "_next" if self.direction == "_prev" else "_prev"))


class Graph:
    """The intermediate representation of torch.fx: a list of ``Node`` s.

    Example::

        g = ember.fx.Graph()
        x = g.placeholder("x")
        r = g.call_function(ember.relu, (x,))
        g.output(r)
        print(g)   # graph():  %x : ... = placeholder[target=x] ...
    """

    def __init__(self, owning_module=None, tracer_cls=None, tracer_extras=None) -> None:
        """An empty graph, optionally owned by a ``GraphModule``."""
        self._root = Node(self, "", "root", "", (), {})
        self._insert = self._root.prepend
        self._len = 0
        self._graph_namespace = _Namespace()
        self._owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._tracer_extras = tracer_extras
        self._codegen = CodeGen()
        self._co_fields: dict[str, Any] = {}

    @property
    def owning_module(self):
        """The ``GraphModule`` this graph belongs to, or None."""
        return self._owning_module

    @owning_module.setter
    def owning_module(self, mod) -> None:
        self._owning_module = mod

    @property
    def nodes(self) -> _node_list:
        """The nodes in order (a live, doubly linked view; ``reversed`` works)."""
        return _node_list(self)

    def output_node(self) -> Node:
        """The graph's ``output`` node (its last node)."""
        output_node = next(iter(reversed(self.nodes)))
        if output_node.op != "output":
            raise AssertionError(f"Expected output node, got op={output_node.op}")
        return output_node

    def find_nodes(self, *, op: str, target=None, sort: bool = True) -> list[Node]:
        """The nodes with this ``op`` (and ``target``, when given), in graph order."""
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    # --- building --------------------------------------------------------------------
    def create_node(self, op: str, target, args: tuple | None = None,
                    kwargs: dict | None = None, name: str | None = None,
                    type_expr: Any | None = None) -> Node:
        """Create a ``Node`` and insert it at the current insert point.

        Args:
            op: ``call_function``, ``call_method``, ``get_attr``, ``call_module``,
                ``placeholder`` or ``output``.
            target: what the node calls or fetches (see ``Node``).
            args: positional arguments, a tuple.
            kwargs: keyword arguments, a dict.
            name: base for the node's name (default: derived from ``target``).
            type_expr: optional type annotation for the result.

        Returns:
            The new node.
        """
        if not args:
            args = ()
        elif not isinstance(args, tuple):
            raise AssertionError(f"args must be a tuple, got {type(args)}")
        if not kwargs:
            kwargs = {}
        elif not isinstance(kwargs, dict):
            raise AssertionError(f"kwargs must be a dict, got {type(kwargs)}")
        candidate = name if name is not None else self._target_to_str(target)
        name = self._graph_namespace.create_name(candidate, None)
        n = Node(self, name, op, target, args, kwargs, type_expr)
        self._graph_namespace.associate_name_with_obj(name, n)
        self._insert(n)
        self._len += 1
        return n

    def placeholder(self, name: str, type_expr: Any | None = None,
                    default_value: Any = inspect.Signature.empty) -> Node:
        """Insert a ``placeholder`` (a function input called ``name``).

        ``default_value`` is the parameter's default; ``inspect.Signature.empty`` means none.
        """
        args = () if default_value is inspect.Signature.empty else (default_value,)
        return self.create_node("placeholder", name, args=args, type_expr=type_expr)

    def get_attr(self, qualified_name: str, type_expr: Any | None = None) -> Node:
        """Insert a ``get_attr`` node fetching ``qualified_name`` (``"linear.weight"``).

        Warns when the owning GraphModule has no such parameter, buffer or submodule.
        """
        if self.owning_module is not None and not _attr_exists(self.owning_module,
                                                               qualified_name):
            warnings.warn("Attempted to insert a get_attr Node with no underlying reference in "
                          "the owning GraphModule! Call GraphModule.add_submodule to add the "
                          "necessary submodule, GraphModule.add_parameter to add the necessary "
                          "Parameter, or nn.Module.register_buffer to add the necessary buffer",
                          stacklevel=2)
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name: str, args: tuple | None = None,
                    kwargs: dict | None = None, type_expr: Any | None = None) -> Node:
        """Insert a ``call_module`` node calling submodule ``module_name`` (args without self).

        Warns when the owning GraphModule has no such submodule.
        """
        if self.owning_module is not None:
            try:
                self.owning_module.get_submodule(module_name)
            except AttributeError:
                warnings.warn("Attempted to insert a call_module Node with no underlying "
                              "reference in the owning GraphModule! Call "
                              "GraphModule.add_submodule to add the necessary submodule",
                              stacklevel=2)
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name: str, args: tuple | None = None,
                    kwargs: dict | None = None, type_expr: Any | None = None) -> Node:
        """Insert a ``call_method`` node: ``args[0].<method_name>(*args[1:], **kwargs)``."""
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function: Callable, args: tuple | None = None,
                      kwargs: dict | None = None, type_expr: Any | None = None,
                      name: str | None = None) -> Node:
        """Insert a ``call_function`` node calling ``the_function(*args, **kwargs)``."""
        return self.create_node("call_function", the_function, args, kwargs, name=name,
                                type_expr=type_expr)

    def output(self, result, type_expr: Any | None = None) -> Node:
        """Insert the ``output`` node: the graph returns ``result``."""
        return self.create_node(op="output", target="output", args=(result,),
                                type_expr=type_expr)

    def node_copy(self, node: Node, arg_transform: Callable[[Node], Any] = lambda x: x) -> Node:
        """Copy ``node`` (possibly of another graph) into this one.

        ``arg_transform`` maps each node in its arguments to this graph's equivalent.
        """
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        result_node = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        result_node.meta = copy.copy(node.meta)
        return result_node

    def graph_copy(self, g: Graph, val_map: dict[Node, Node],
                   return_output_node: bool = False):
        """Copy every node of ``g`` except its output into this graph.

        ``val_map`` is filled with ``g``'s nodes -> their copies (entries already there are
        used instead of copying). Returns the copied output value, or None if ``g`` has none.
        """
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                rv = map_arg(node.args[0], lambda n: val_map[n])
                return rv if not return_output_node else (rv, node)
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo=None) -> Graph:
        memo = memo if memo else {}
        g = Graph(tracer_cls=self._tracer_cls)
        output_vals = g.graph_copy(self, val_map=memo, return_output_node=True)
        g._codegen = copy.deepcopy(self._codegen)
        if output_vals is not None:
            output_val, old_output_node = output_vals
            new_output_node = g.output(output_val, type_expr=old_output_node.type)
            new_output_node.meta = copy.copy(old_output_node.meta)
        return g

    # --- editing ---------------------------------------------------------------------
    def erase_node(self, to_erase: Node) -> None:
        """Remove ``to_erase`` from the graph; it must have no users left.

        Raises:
            RuntimeError: when it still has users, or belongs to another graph.
        """
        if len(to_erase.users) > 0:
            raise RuntimeError(
                f"Tried to erase Node {to_erase} but it still had {len(to_erase.users)} "
                f"users in the graph: {to_erase.users}!")
        if to_erase.graph is not self:
            raise RuntimeError(f"Attempting to remove {to_erase} from wrong graph!")
        if to_erase._erased:
            warnings.warn(f"erase_node({to_erase}) on an already erased node", stacklevel=2)
            return
        to_erase._remove_from_list()
        to_erase._erased = True  # iterators may still hold it
        self._len -= 1
        # drop this node from its inputs' users
        to_erase._update_args_kwargs(map_arg(to_erase._args, lambda n: None),
                                     map_arg(to_erase._kwargs, lambda n: None))

    def inserting_before(self, n: Node | None = None) -> _InsertPoint:
        """Insert new nodes before ``n`` (the start of the graph when None).

        Use in a ``with`` statement to restore the previous insert point afterwards.
        """
        if n is None:
            return self.inserting_after(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert before is not in graph.")
        return _InsertPoint(self, n.prepend)

    def inserting_after(self, n: Node | None = None) -> _InsertPoint:
        """Insert new nodes after ``n`` (the end of the graph when None).

        Use in a ``with`` statement to restore the previous insert point afterwards.
        """
        if n is None:
            return self.inserting_before(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert after is not in graph.")
        return _InsertPoint(self, n.append)

    def eliminate_dead_code(self, is_impure_node: Callable[[Node], bool] | None = None) -> bool:
        """Erase nodes whose results are unused and that have no side effects.

        Args:
            is_impure_node: decides impurity instead of ``Node.is_impure``.

        Returns:
            Whether the graph changed.
        """
        self.lint()  # DCE needs topological order

        def has_side_effect(node: Node) -> bool:
            if is_impure_node is not None:
                return is_impure_node(node)
            return node.is_impure()

        changed = False
        # backwards, so erasing a node frees its inputs for erasure in the same pass
        for node in reversed(self.nodes):
            if not has_side_effect(node) and len(node.users) == 0:
                self.erase_node(node)
                changed = True
        return changed

    def lint(self) -> None:
        """Check that the graph is well formed.

        Nodes belong to this graph, have legal opcodes and unique names, and appear after
        the nodes they use; with an owning module, ``get_attr`` / ``call_module`` targets
        exist in it.

        Raises:
            RuntimeError: naming the first problem found.
        """
        seen_names: set[str] = set()
        seen_values: set[Node] = set()
        for node in self.nodes:
            if node.op not in _legal_ops:
                raise RuntimeError(f"Node {node} had unknown opcode {node.op}!")
            if node.graph is not self:
                raise RuntimeError(f"Node '{node}' does not belong to this Graph!")
            for arg in node._input_nodes:
                if arg.graph is not self:
                    raise RuntimeError(
                        f"Argument '{arg}' of Node '{node}' does not belong to this Graph, but "
                        "was used as an argument! If you are copying nodes from another graph, "
                        "make sure to use ``arg_transform`` on node_copy() to remap "
                        f"values\n{self}")
                if arg not in seen_values:
                    raise RuntimeError(
                        f"Argument '{arg}' of Node '{node}' was used before it has been "
                        "defined! Please check that Nodes in the graph are topologically "
                        f"ordered\n{self}")
            seen_values.add(node)
            if node.name in seen_names:
                raise RuntimeError(f"Node redefined name {node.name}!")
            seen_names.add(node.name)
        if self.owning_module:
            self._lint_targets()

    def _lint_targets(self) -> None:
        import ember

        for node in self.nodes:
            if node.op == "call_function":
                if not callable(node.target):
                    raise ValueError(f"Node {node} target {node.target} has type "
                                     f"{ember.typename(node.target)} but a Callable is expected")
            elif not isinstance(node.target, str):
                raise ValueError(f"Node {node} target {node.target} has type "
                                 f"{ember.typename(node.target)} but a str is expected")
            if node.op in ("get_attr", "call_module"):
                atoms = node.target.split(".")
                m_itr = self.owning_module
                for i, atom in enumerate(atoms):
                    new_m_itr = getattr(m_itr, atom, None)
                    seen_qualname = ".".join(atoms[:i])
                    if new_m_itr is None:
                        raise RuntimeError(f"Node {node} target {node.target} references "
                                           f"nonexistent attribute {atom} of {seen_qualname}")
                    if node.op == "call_module" and not isinstance(new_m_itr, ember.nn.Module):
                        raise RuntimeError(f"Node {node} target {node.target} {atom} of "
                                           f"{seen_qualname} does not reference an nn.Module")
                    m_itr = new_m_itr

    # --- printing and code -------------------------------------------------------------
    def _target_to_str(self, target) -> str:
        if callable(target):
            op = target.__name__
        else:
            if not isinstance(target, str):
                raise AssertionError(f"Expected target to be str, got {type(target)}")
            op = target
            if _is_magic(op):
                op = op[2:-2]
        return _snake_case(op)

    def set_codegen(self, codegen: CodeGen) -> None:
        """Use ``codegen`` to generate this graph's code."""
        self._codegen = codegen

    def process_inputs(self, *args: Any) -> Any:
        """The codegen's mapping of call inputs to placeholder values."""
        return self._codegen.process_inputs(*args)

    def process_outputs(self, out: Any) -> Any:
        """The codegen's mapping of the output value to what callers get."""
        return self._codegen.process_outputs(out)

    def python_code(self, root_module: str, *, verbose: bool = False) -> PythonCode:
        """This graph as Python source for a ``forward`` function.

        Args:
            root_module: the name attributes and submodules are fetched from (``"self"``).
            verbose: add a comment with each node's stack trace, if any was recorded.

        Returns:
            A ``PythonCode``: ``src`` (the source) and ``globals`` (what it refers to).
        """
        # names in the code come from a fresh namespace shared with the globals, so a node
        # can never shadow a function the code calls
        namespace = _Namespace()
        with self._override_node_repr(lambda n: namespace.create_name(n.name, n)):
            return self._codegen._gen_python_code(self.nodes, root_module, namespace,
                                                  verbose=verbose)

    @contextmanager
    def _override_node_repr(self, repr_fn):
        nodes = list(self.nodes)
        saved = [n._repr_fn for n in nodes]
        for n in nodes:
            n._repr_fn = repr_fn
        try:
            yield
        finally:
            for n, fn in zip(nodes, saved):
                n._repr_fn = fn

    def __str__(self) -> str:
        placeholder_names: list[str] = []
        maybe_return_typename = [""]
        node_strs = [node.format_node(placeholder_names) for node in self.nodes]
        s = f"graph({', '.join(placeholder_names)}){maybe_return_typename[0]}:"
        for node_str in node_strs:
            if node_str:
                s += "\n    " + node_str
        return s

    def print_tabular(self) -> None:
        """Print the nodes as a table (opcode, name, target, args, kwargs).

        Needs the ``tabulate`` package, as torch's does.

        Raises:
            ImportError: when ``tabulate`` is not installed (after printing how to get it).
        """
        try:
            from tabulate import tabulate
        except ImportError:
            print("`print_tabular` relies on the library `tabulate`, which could not be found "
                  "on this machine. Run `pip install tabulate` to install the library.")
            raise
        node_specs = [[n.op, n.name, n.target, n.args, n.kwargs] for n in self.nodes]
        print(tabulate(node_specs, headers=["opcode", "name", "target", "args", "kwargs"]))
