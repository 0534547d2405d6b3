"""``replace_pattern``: find every copy of a small graph in a bigger one and swap it out.

The pattern and the replacement are functions (or GraphModules) traced into graphs. A
match pairs each pattern node with a graph node of the same op and target whose
arguments match in turn, starting from the pattern's returned nodes and walking back to
its placeholders, which match anything. Values computed inside a match must not be used
outside it; matches do not overlap.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, NamedTuple

import ember

from ._symbolic_trace import symbolic_trace
from .graph import Graph
from .graph_module import GraphModule
from .node import Node

__all__ = ["Match", "replace_pattern"]


class Match(NamedTuple):
    """Where a pattern matched: its returned node in the graph, and pattern -> graph nodes."""

    anchor: Node
    nodes_map: dict[Node, Node]


def _as_graph(fn_or_gm) -> Graph:
    if isinstance(fn_or_gm, GraphModule):
        return fn_or_gm.graph
    if isinstance(fn_or_gm, Graph):
        return fn_or_gm
    return symbolic_trace(fn_or_gm).graph


def _returning_nodes(graph: Graph) -> list[Node]:
    out = graph.output_node().args[0]
    return list(out) if isinstance(out, (tuple, list)) else [out]


class _Matcher:
    """Backtracking search for non-overlapping copies of ``pattern`` in ``graph``."""

    def __init__(self, pattern: Graph) -> None:
        self.placeholders = [n for n in pattern.nodes if n.op == "placeholder"]
        self.anchors = _returning_nodes(pattern)
        self.body = [n for n in pattern.nodes if n.op not in ("placeholder", "output")]

    def _match_arg(self, pa, ga, nodes_map: dict[Node, Node]) -> bool:
        if isinstance(pa, Node):
            return isinstance(ga, Node) and self._match_node(pa, ga, nodes_map)
        if isinstance(pa, (list, tuple)):
            return (isinstance(ga, (list, tuple)) and len(pa) == len(ga)
                    and all(self._match_arg(p, g, nodes_map) for p, g in zip(pa, ga)))
        if isinstance(pa, dict):
            return (isinstance(ga, dict) and pa.keys() == ga.keys()
                    and all(self._match_arg(pa[k], ga[k], nodes_map) for k in pa))
        return type(pa) is type(ga) and pa == ga

    def _match_node(self, pn: Node, gn: Node, nodes_map: dict[Node, Node]) -> bool:
        if pn in nodes_map:
            return nodes_map[pn] is gn
        if any(g is gn for g in nodes_map.values()):
            return False  # two pattern nodes cannot share a graph node
        if pn.op == "placeholder":
            nodes_map[pn] = gn
            return True
        if pn.op != gn.op or pn.target != gn.target:
            return False
        nodes_map[pn] = gn
        return (self._match_arg(pn.args, gn.args, nodes_map)
                and self._match_arg(pn.kwargs, gn.kwargs, nodes_map))

    def _contained(self, nodes_map: dict[Node, Node]) -> bool:
        """Whether no value computed inside the match (but not returned) escapes it."""
        inside = {nodes_map[pn] for pn in self.body}
        returned = {nodes_map[pn] for pn in self.anchors}
        return all(user in inside for pn in self.body if nodes_map[pn] not in returned
                   for user in nodes_map[pn].users)

    def _search(self, i: int, candidates: list[Node], nodes_map: dict[Node, Node]):
        if i == len(self.anchors):
            return nodes_map if self._contained(nodes_map) else None
        for gn in candidates:
            trial = dict(nodes_map)
            if self._match_node(self.anchors[i], gn, trial):
                found = self._search(i + 1, candidates, trial)
                if found is not None:
                    return found
        return None

    def match(self, graph: Graph) -> list[dict[Node, Node]]:
        """Every non-overlapping match, in graph order of the first anchor."""
        candidates = [n for n in graph.nodes if n.op not in ("placeholder", "output")]
        taken: set[Node] = set()
        matches = []
        for gn in candidates:
            nodes_map: dict[Node, Node] = {}
            if not self._match_node(self.anchors[0], gn, nodes_map):
                continue
            found = self._search(1, candidates, nodes_map)
            if found is None:
                continue
            used = {found[pn] for pn in self.body}
            if used & taken:
                continue
            taken |= used
            matches.append(found)
        return matches


def _replace_attributes(gm: GraphModule, replacement: ember.nn.Module) -> None:
    """Copy into ``gm`` the submodules / attributes the inserted nodes refer to."""
    gm.delete_all_unused_submodules()

    def try_get_attr(mod, target: str) -> Any | None:
        module_path, _, attr_name = target.rpartition(".")
        try:
            sub = mod.get_submodule(module_path)
        except AttributeError:
            return None
        return getattr(sub, attr_name, None)

    for node in gm.graph.nodes:
        if node.op in ("call_module", "get_attr") and try_get_attr(gm, node.target) is None:
            replacement_attr = try_get_attr(replacement, node.target)
            if replacement_attr is None:
                raise RuntimeError(f'Attempted to create a "{node.op}" node during subgraph '
                                   f"rewriting with target {node.target}, but the referenced "
                                   "attribute does not exist in the replacement GraphModule")
            new_attr = copy.deepcopy(replacement_attr)
            if isinstance(replacement_attr, ember.nn.Module):
                gm.add_submodule(node.target, new_attr)
            else:
                setattr(gm, node.target, new_attr)
    gm.graph.lint()


def replace_pattern(gm: GraphModule, pattern: Callable | GraphModule,
                    replacement: Callable | GraphModule) -> list[Match]:
    """Replace every non-overlapping occurrence of ``pattern`` in ``gm`` by ``replacement``.

    Args:
        gm: the GraphModule to rewrite (in place; recompiled afterwards).
        pattern: a function or GraphModule: the subgraph to look for. Its parameters
            match any value; its return value is what the replacement stands in for.
        replacement: a function or GraphModule with the same parameters, computing the new
            value(s).

    Returns:
        One ``Match`` per replaced occurrence (empty when there is none).

    Example::

        def pattern(x):
            return ember.relu(x)

        def replacement(x):
            return ember.nn.functional.gelu(x)

        ember.fx.replace_pattern(gm, pattern, replacement)
    """
    pattern_graph = _as_graph(pattern)
    replacement_graph = _as_graph(replacement)
    graph = gm.graph
    matcher = _Matcher(pattern_graph)
    replacement_placeholders = [n for n in replacement_graph.nodes if n.op == "placeholder"]
    if len(matcher.placeholders) != len(replacement_placeholders):
        raise AssertionError(f"Placeholder count mismatch: {len(matcher.placeholders)} vs "
                             f"{len(replacement_placeholders)}")
    changed: dict[Node, Node] = {}  # returned nodes already replaced by an earlier match
    results = []
    for nodes_map in matcher.match(graph):
        val_map: dict[Node, Node] = {}
        for rn, pn in zip(replacement_placeholders, matcher.placeholders):
            gn = nodes_map[pn]
            val_map[rn] = changed.get(gn, gn)
        returning = [nodes_map[pn] for pn in matcher.anchors]
        users = {u for n in returning for u in n.users}
        insert_point = next((n for n in graph.nodes if n in users), None)
        if insert_point is None:
            last = max(returning, key=lambda n: list(graph.nodes).index(n))
            insert_point = last.next
        with graph.inserting_before(insert_point):
            copied = graph.graph_copy(replacement_graph, val_map)
        copied = copied if isinstance(copied, (tuple, list)) else (copied,)
        if len(returning) != len(copied):
            raise AssertionError(
                f"Returning nodes count mismatch: {len(returning)} vs {len(copied)}")
        for gn, new in zip(returning, copied):
            gn.replace_all_uses_with(new)
            changed[gn] = new
        for pn in reversed(matcher.body):
            graph.erase_node(nodes_map[pn])
        results.append(Match(anchor=returning[0], nodes_map=nodes_map))
    gm.recompile()
    if isinstance(replacement, ember.nn.Module):
        _replace_attributes(gm, replacement)
    return results
