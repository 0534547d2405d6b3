"""ember.fx: torch.fx's core -- a model as a graph of ops, and as generated Python code.

``symbolic_trace(model)`` runs ``forward`` on ``Proxy`` objects that record every
operation into a ``Graph`` of ``Node`` s, then wraps the graph in a ``GraphModule`` whose
``forward`` is Python generated from it (``gm.code``). Graphs can be edited node by node
(``inserting_after``, ``replace_all_uses_with``, ``erase_node``, ``eliminate_dead_code``),
rewritten by pattern (``replace_pattern``), executed node by node (``Interpreter``) or
re-recorded with changes (``Transformer``).

Where it differs from torch.fx: ember has no ``__torch_function__``, so calls of ember
functions on Proxies are recorded by patching ember's function namespaces for the
duration of ``Tracer.trace`` and ``Transformer.transform`` only; building a graph by hand
outside those, use ``graph.call_function(ember.relu, ...)`` (Proxy operators and methods
work anywhere). No pytree inputs in ``concrete_args``, no shape propagation, no pickling
of GraphModules.
"""
from ._symbolic_trace import PH, Tracer, symbolic_trace, wrap  # noqa: F401
from .graph import CodeGen, Graph  # noqa: F401
from .graph_module import GraphModule  # noqa: F401
from .interpreter import Interpreter, Transformer  # noqa: F401
from .node import Node, has_side_effect, map_aggregate, map_arg  # noqa: F401
from .proxy import Proxy  # noqa: F401
from .subgraph_rewriter import replace_pattern  # noqa: F401

__all__ = ["symbolic_trace", "Tracer", "wrap", "PH", "Graph", "CodeGen", "GraphModule",
           "Interpreter", "Transformer", "Node", "map_arg", "map_aggregate", "has_side_effect",
           "Proxy", "replace_pattern"]
