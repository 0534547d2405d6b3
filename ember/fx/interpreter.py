"""``Interpreter`` runs a graph node by node; ``Transformer`` re-records it into a new one.

Both dispatch each node to the method named after its op (``placeholder``, ``get_attr``,
``call_function``, ``call_method``, ``call_module``, ``output``), so a subclass changes how
one kind of node runs by overriding one method -- e.g. swap ``ember.relu`` for
``ember.nn.functional.gelu`` in ``call_function``.
"""
from __future__ import annotations

import inspect
from typing import Any

import ember

from ._patching import _Patcher, patch_ember_api, patched_form
from ._symbolic_trace import Tracer
from .graph import Graph
from .graph_module import GraphModule
from .node import Node, map_aggregate, map_arg
from .proxy import Proxy

__all__ = ["Interpreter", "Transformer"]


class Interpreter:
    """Executes a graph one node at a time, keeping values in ``self.env``.

    Args:
        module: the module to run (its ``graph``, and where attributes are fetched from).
        garbage_collect_values: drop each value after its last use; turn off to inspect all
            intermediate values in ``env`` afterwards.
        graph: run this graph instead of ``module.graph``.
    """

    def __init__(self, module: ember.nn.Module, garbage_collect_values: bool = True,
                 graph: Graph | None = None) -> None:
        self.module = module
        self.submodules = dict(self.module.named_modules())
        self.graph = graph if graph is not None else self.module.graph
        self.env: dict[Node, Any] = {}
        self.name = "Interpreter"
        self.garbage_collect_values = garbage_collect_values
        self.extra_traceback = True
        if self.garbage_collect_values:
            # walking backwards, the first use seen of a value is its last one
            node_to_last_use: dict[Node, Node] = {}
            self.user_to_last_uses: dict[Node, list[Node]] = {}
            for node in reversed(self.graph.nodes):
                for n in node._input_nodes:
                    if n not in node_to_last_use:
                        node_to_last_use[n] = node
                        self.user_to_last_uses.setdefault(node, []).append(n)

    def run(self, *args: Any, initial_env: dict[Node, Any] | None = None,
            enable_io_processing: bool = True) -> Any:
        """Run the graph on ``args`` (in placeholder order) and return its output.

        Args:
            initial_env: values for some nodes up front; those nodes are not run.
            enable_io_processing: pass inputs and output through the graph's codegen.
        """
        self.env = initial_env if initial_env is not None else {}
        if enable_io_processing:
            args = self.graph.process_inputs(*args)
        self.args_iter = iter(args)
        for node in self.graph.nodes:
            if node in self.env:
                continue
            try:
                self.env[node] = self.run_node(node)
            except Exception as e:
                if self.extra_traceback:
                    msg = f"While executing {node.format_node()}"
                    msg = f"{e.args[0]}\n\n{msg}" if e.args else str(msg)
                    msg += f"\nOriginal traceback:\n{node.stack_trace}"
                    e.args = (msg,) + e.args[1:]
                    if isinstance(e, KeyError):
                        raise RuntimeError(*e.args) from e
                raise
            if self.garbage_collect_values:
                for to_delete in self.user_to_last_uses.get(node, []):
                    del self.env[to_delete]
            if node.op == "output":
                output_val = self.env[node]
                return (self.graph.process_outputs(output_val) if enable_io_processing
                        else output_val)
        return None

    def run_node(self, n: Node) -> Any:
        """Fetch ``n``'s argument values and call the method named after ``n.op``."""
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        return getattr(self, n.op)(n.target, args, kwargs)

    # --- one method per op kind -----------------------------------------------------
    def placeholder(self, target: str, args: tuple, kwargs: dict) -> Any:
        """The next input passed to ``run`` (all remaining ones for ``*args``), or the
        parameter's default."""
        if target.startswith("*"):
            return list(self.args_iter)
        try:
            return next(self.args_iter)
        except StopIteration as si:
            if len(args) > 0:
                return args[0]
            raise RuntimeError(f"Expected positional argument for parameter {target}, but one "
                               "was not passed in!") from si

    def get_attr(self, target: str, args: tuple, kwargs: dict) -> Any:
        """The attribute ``target`` of the module hierarchy."""
        return self.fetch_attr(target)

    def call_function(self, target, args: tuple, kwargs: dict) -> Any:
        """``target(*args, **kwargs)``."""
        if isinstance(target, str):
            raise AssertionError("target should not be a string for call_function")
        return target(*args, **kwargs)

    def call_method(self, target: str, args: tuple, kwargs: dict) -> Any:
        """``args[0].<target>(*args[1:], **kwargs)``."""
        self_obj, *args_tail = args
        return getattr(self_obj, target)(*args_tail, **kwargs)

    def call_module(self, target: str, args: tuple, kwargs: dict) -> Any:
        """Call the submodule ``target`` on ``args``."""
        return self.fetch_attr(target)(*args, **kwargs)

    def output(self, target: str, args: tuple, kwargs: dict) -> Any:
        """The value the graph returns."""
        return args[0]

    # --- helpers -----------------------------------------------------------------------
    def fetch_attr(self, target: str) -> Any:
        """Follow the dotted ``target`` from ``self.module``.

        Raises:
            RuntimeError: naming the first part of the path that does not exist.
        """
        atoms = target.split(".")
        attr_itr = self.module
        for i, atom in enumerate(atoms):
            if not hasattr(attr_itr, atom):
                raise RuntimeError(
                    f"Node referenced nonexistent target {'.'.join(atoms[:i + 1])}")
            attr_itr = getattr(attr_itr, atom)
        return attr_itr

    def fetch_args_kwargs_from_env(self, n: Node) -> tuple[tuple, dict]:
        """``n.args`` and ``n.kwargs`` with each node replaced by its computed value."""
        return self.map_nodes_to_values(n.args, n), self.map_nodes_to_values(n.kwargs, n)

    def map_nodes_to_values(self, args, n: Node):
        """``args`` with every node replaced by its value in ``env``."""
        def load_arg(n_arg: Node) -> Any:
            if n_arg not in self.env:
                raise RuntimeError(f"Node {n} referenced nonexistent value {n_arg}! Run "
                                   "Graph.lint() to diagnose such issues")
            return self.env[n_arg]

        return map_arg(args, load_arg)


class _TransformerTracer(Tracer):
    """Records into a given graph; every module call stays a ``call_module`` node."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph
        self.tensor_attrs: dict = {}

    def is_leaf_module(self, _m, _name: str) -> bool:
        return True


class Transformer(Interpreter):
    """Runs a GraphModule on Proxies to build a new one: ``transform()`` returns it.

    Nothing is computed: each node's method returns a Proxy, so an override may return
    any traced expression instead, e.g.::

        class ReluToGelu(Transformer):
            def call_function(self, target, args, kwargs):
                if target is ember.relu:
                    return ember.nn.functional.gelu(*args, **kwargs)
                return super().call_function(target, args, kwargs)

    Ember functions called on Proxies inside the overrides are recorded (they are patched
    for the duration of ``transform``).
    """

    def __init__(self, module: GraphModule) -> None:
        super().__init__(module)
        self.new_graph = Graph()
        self.new_graph.set_codegen(module.graph._codegen)
        self.tracer = _TransformerTracer(self.new_graph)
        self.tracer.root = module

    def run_node(self, n: Node) -> Any:
        """As ``Interpreter.run_node``, but an ember function target is handed over as the
        namespace currently holds it, so ``target is ember.relu`` holds in overrides."""
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        target = n.target
        if n.op == "call_function":
            target = patched_form(target)
        return getattr(self, n.op)(target, args, kwargs)

    def placeholder(self, target: str, args: tuple, kwargs: dict) -> Proxy:
        """A new placeholder in the output graph."""
        default_value = next(iter(args)) if args else inspect.Signature.empty
        return Proxy(self.new_graph.placeholder(target, default_value=default_value), self.tracer)

    def get_attr(self, target: str, args: tuple, kwargs: dict) -> Proxy:
        """A new ``get_attr`` node in the output graph."""
        return self.tracer.create_proxy("get_attr", target, args, kwargs)

    def call_module(self, target: str, args: tuple, kwargs: dict) -> Any:
        """A new ``call_module`` node in the output graph."""
        submod = self.fetch_attr(target)
        return self.tracer.call_module(submod, submod.forward, args, kwargs)

    def call_function(self, target, args: tuple, kwargs: dict) -> Any:
        """A new ``call_function`` node in the output graph."""
        return self.tracer.create_proxy("call_function", target, args, kwargs)

    def transform(self) -> GraphModule:
        """Run the transformation and return the new ``GraphModule``."""
        with _Patcher() as patcher:
            patch_ember_api(patcher)
            result = super().run(enable_io_processing=False)
        if result is not None:
            def strip_proxy(a):
                return a.node if isinstance(a, Proxy) else a

            new_output_node = self.new_graph.output(map_aggregate(result, strip_proxy))
            old_output_node = list(self.graph.nodes)[-1]
            new_output_node.meta.update(old_output_node.meta)
        return GraphModule(self.module, self.new_graph)
