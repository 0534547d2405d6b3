"""The text, Mermaid and DOT views of the graph, and the per-node description they share
(:class:`_View`). Part of :mod:`ember.autograd.graph`, which re-exports what is public."""
from __future__ import annotations

from ._graph_core import (
    _dtype_name,
    _Names,
    _roots,
    dependencies,
    fmt_shape,
    out_meta,
    saved_tensors,
    schedule,
    site_str,
    source_line,
    stats,
)
from .function import AccumulateGrad


# --- one description per node, used by every view --------------------------------------------
class _View:
    """The graph in run order with everything the views print about each node."""

    def __init__(self, t, module=None, names=None, frame=None):
        self.roots = _roots(t)
        self.deps, _ = dependencies(self.roots)
        self.order = schedule(self.roots, self.deps)
        self.index = {n: i + 1 for i, n in enumerate(self.order)}
        self.names = _Names.build(t, module, names, frame)
        self.root_set = set(self.roots)
        self._saved = {}

    def label(self, node):
        """The name of what the node stands for: a leaf's or a variable's name."""
        if type(node) is AccumulateGrad:
            return self.names.of_leaf(node)
        return self.names.of_node(node)

    def shape_text(self, node):
        n = getattr(node, "_n_outputs", 1)
        parts = []
        for nr in range(1 if type(node) is AccumulateGrad else n):
            shape, dtype = out_meta(node, nr)
            if shape is not None:
                parts.append(f"{fmt_shape(shape)} {_dtype_name(dtype)}")
        return ", ".join(parts)

    def saved(self, node):
        if type(node) is AccumulateGrad:
            return []
        got = self._saved.get(node)
        if got is None:
            got = self._saved[node] = saved_tensors(node, self.names)
        return got

    def freed(self, node):
        return (type(node) is not AccumulateGrad and getattr(node, "_saved", None) is None
                and bool(getattr(node, "_released", False)))

    def leaf_text(self, node):
        v = node.variable
        kind = "parameter" if type(v).__name__ == "Parameter" else "leaf"
        g = "None" if v.grad is None else fmt_shape(v.grad.shape)
        return f"{kind}, .grad: {g}"

    def edges(self, node):
        for i, (child, nr) in enumerate(node.next_functions):
            if child is not None:
                yield i, child, nr


def _node_line(view, node):
    i = view.index[node]
    name = view.label(node)
    head = f"#{i} {node.name()}"
    if name:
        head += f" ({name})"
    parts = [head, view.shape_text(node)]
    if type(node) is AccumulateGrad:
        parts.append(view.leaf_text(node))
    else:
        parts.append(f"deps {view.deps.get(node, 0)}")
        site = getattr(node, "_site", None)
        if site:
            parts.append(site_str(site))
    return "  ".join(p for p in parts if p)


def _render_text(view, source=False):
    lines = []
    if not view.order:
        return ("no graph: the tensor does not require grad (made under no_grad, detached, or "
                "from tensors with requires_grad=False)\n")
    st = stats(view.roots)
    lines.append(f"graph: {st}; nodes in the order backward runs them")
    for node in view.order:
        lines.append(_node_line(view, node))
        if source and getattr(node, "_site", None):
            text = source_line(node._site)
            if text:
                lines.append(f"    | {text}")
        if view.freed(node):
            lines.append("    released by an earlier backward (saved tensors freed)")
        else:
            for s in view.saved(node):
                lines.append(f"    saved {s.describe()}")
        edges = [f"(#{view.index[c]} {c.name()}, {nr})" if c is not None else "(None, 0)"
                 for c, nr in node.next_functions]
        if edges:
            lines.append("    next_functions: " + ", ".join(edges))
    return "\n".join(lines) + "\n"


def _label_lines(view, node, with_saved=True):
    lines = [node.name()]
    name = view.label(node)
    shape = view.shape_text(node)
    if name or shape:
        lines.append(" ".join(p for p in (name, shape) if p))
    if type(node) is AccumulateGrad:
        lines.append(view.leaf_text(node))
    else:
        site = getattr(node, "_site", None)
        if site:
            lines.append(site_str(site))
        if with_saved:
            if view.freed(node):
                lines.append("saved: freed")
            else:
                for s in view.saved(node):
                    lines.append("saved " + s.describe())
    return lines


def _kind(view, node):
    if type(node) is AccumulateGrad:
        return "leaf"
    if node in view.root_set:
        return "root"
    return "freed" if view.freed(node) else "op"


_COLORS = {"root": "#d9f99d", "leaf": "#bfdbfe", "op": "#ffffff", "freed": "#e5e7eb"}


def _mermaid_escape(s):
    return (s.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
            .replace(">", "#gt;"))


def _render_mermaid(view):
    out = ["flowchart TD"]
    if not view.order:
        out.append('  empty["no graph: the tensor does not require grad"]')
        return "\n".join(out) + "\n"
    for node in view.order:
        i = view.index[node]
        label = "<br/>".join(_mermaid_escape(x) for x in _label_lines(view, node))
        kind = _kind(view, node)
        if kind == "leaf":
            out.append(f'  n{i}(["{label}"]):::{kind}')
        else:
            out.append(f'  n{i}["{label}"]:::{kind}')
    for node in view.order:
        i = view.index[node]
        for k, child, nr in view.edges(node):
            shape, _ = out_meta(child, nr)
            lab = fmt_shape(shape) if shape is not None else str(k)
            out.append(f'  n{i} -->|"{_mermaid_escape(lab)}"| n{view.index[child]}')
    for kind, color in _COLORS.items():
        out.append(f"  classDef {kind} fill:{color},stroke:#333")
    return "\n".join(out) + "\n"


def _dot_escape(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


def _render_dot(view):
    out = ["digraph ember_graph {",
           "  rankdir=TB;",
           '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", '
           'fontname="monospace", fontsize=10];',
           '  edge [fontname="monospace", fontsize=9];']
    if not view.order:
        out.append('  empty [label="no graph: the tensor does not require grad"];')
    for node in view.order:
        i = view.index[node]
        label = "\\n".join(_dot_escape(x) for x in _label_lines(view, node, with_saved=False))
        kind = _kind(view, node)
        shape = ', shape=ellipse' if kind == "leaf" else ""
        out.append(f'  n{i} [label="{label}", fillcolor="{_COLORS[kind]}"{shape}];')
        if kind not in ("leaf", "freed"):
            for j, s in enumerate(view.saved(node)):
                out.append(f'  s{i}_{j} [label="{_dot_escape("saved " + s.describe())}", '
                           'shape=note, fillcolor="#fed7aa"];')
                out.append(f"  s{i}_{j} -> n{i} [style=dashed, arrowhead=none];")
    for node in view.order:
        i = view.index[node]
        for _, child, nr in view.edges(node):
            shape, _ = out_meta(child, nr)
            lab = f' [label="{fmt_shape(shape)}"]' if shape is not None else ""
            out.append(f"  n{i} -> n{view.index[child]}{lab};")
    out.append("}")
    return "\n".join(out) + "\n"
