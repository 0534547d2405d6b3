"""Inspect the recorded graph: walk it, draw it, measure what it holds for backward.

The graph is the one ``backward`` will use: from a tensor's ``grad_fn`` through
``next_functions`` down to the ``AccumulateGrad`` nodes of the leaves. Everything here
only reads it (nothing runs backward, nothing is freed) and every walk is iterative, so a
10,000-op graph is as easy to draw as a ten-op one.

- ``walk(t)``: the nodes in the order ``backward`` will run them.
- ``render(t, format="text" | "mermaid" | "dot" | "html", module=None)``: a view that
  needs nothing installed; ``to_svg``/``to_png`` use Graphviz's ``dot`` when present.
- ``stats(t)``: nodes, saved tensors and the bytes they hold (what ``no_grad`` saves).
- ``warn_on_retained_graphs(True)``: warn when graphs stay alive across optimizer steps
  (the ``total_loss += loss`` mistake); ``warn_on_float64(True)``: warn when a float64
  value turns a float32 computation into float64.
"""
from __future__ import annotations

import gc
import heapq
import html
import linecache
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from .. import _tensor as _t
from .function import _OWN_OUTPUT, AccumulateGrad, Node, _seq

__all__ = ["walk", "render", "to_svg", "to_png", "stats", "GraphStats", "saved_tensors",
           "SavedTensor", "warn_on_retained_graphs", "check_retained_graphs",
           "RetainedGraphWarning", "warn_on_float64", "Float64Warning"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# --- small helpers shared with explain, check_function and the error messages -------------
def site_str(site) -> str:
    """``(file, line)`` as ``path:line`` (relative to the working directory when inside it)."""
    if not site:
        return "?"
    file, line = site[0], site[1]
    if file and not file.startswith("<"):
        try:
            rel = os.path.relpath(file)
            if not rel.startswith(".."):
                file = rel
        except ValueError:  # another drive on Windows
            pass
    return f"{file}:{line}"


def source_line(site) -> str:
    """The stripped source text at ``(file, line)``, or ``""`` when it cannot be read."""
    if not site:
        return ""
    return linecache.getline(site[0], site[1]).strip()


def where(site) -> str:
    """``path:line  source`` for messages; ``"(site not recorded)"`` when unknown."""
    if not site:
        return "(site not recorded: ember.autograd.record_creation_site.enabled is False)"
    text = source_line(site)
    return f"{site_str(site)}  {text}" if text else site_str(site)


def user_frame(skip=1):
    """The innermost frame outside the ember package, starting ``skip`` frames up."""
    f = sys._getframe(skip)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_DIR):
        f = f.f_back
    return f


def user_site(skip=1):
    """``(file, line)`` of the innermost caller outside the ember package."""
    f = user_frame(skip + 1)
    return (f.f_code.co_filename, f.f_lineno) if f is not None else None


def fmt_shape(shape) -> str:
    """``[4, 3]`` (a scalar is ``[]``)."""
    return "[" + ", ".join(str(s) for s in shape) + "]"


def fmt_bytes(n) -> str:
    """Bytes in B, KiB, MiB or GiB."""
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


_DTYPE_NAMES = {}


def _dtype_name(dtype) -> str:
    """``dtype.name``, cached (NumPy computes it anew on every access)."""
    if dtype is None:
        return "?"
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = np.dtype(dtype).name
    return name


def _seq_of(node):
    return getattr(node, "_seq_nr", 0)


def _roots(t):
    """Root nodes (deduplicated, in order) of a tensor, a node, or a sequence of them."""
    items = t if isinstance(t, (list, tuple)) else (t,)
    roots = []
    for item in items:
        if isinstance(item, Node):
            node = item
        elif isinstance(item, _t.Tensor):
            if item.grad_fn is not None:
                node = item.grad_fn
            elif item.requires_grad:
                # NOTE: not stored on the tensor: inspecting must not change the graph
                node = item._accum or AccumulateGrad(item)
            else:
                continue
        else:
            raise TypeError(f"expected a Tensor or a graph node, got {type(item).__name__}")
        if node not in roots:
            roots.append(node)
    return roots


def dependencies(roots):
    """Every node reachable from ``roots`` and how many edges lead into each (iterative)."""
    deps = {}
    seen = set(roots)
    order = list(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                order.append(child)
                stack.append(child)
    return deps, order


def schedule(roots, deps):
    """The nodes in the order the engine runs them (its heap, replayed without running)."""
    left = dict(deps)
    ready = [(-_seq_of(n), i, n) for i, n in enumerate(roots) if left.get(n, 0) == 0]
    heapq.heapify(ready)
    counter = len(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)[2]
        order.append(node)
        for child, _ in node.next_functions:
            if child is None:
                continue
            left[child] -= 1
            if left[child] == 0:
                counter += 1
                heapq.heappush(ready, (-_seq_of(child), counter, child))
    return order


def walk(t) -> list:
    """The graph's nodes in the order ``t.backward()`` would run them.

    Args:
        t: a tensor (or a node, or a sequence of them, for several outputs).

    Returns:
        A list of nodes: the root's ``grad_fn`` first, each node after every node that
        sends it gradient, ``AccumulateGrad`` nodes (one per leaf) included. Empty when
        ``t`` does not require grad.
    """
    roots = _roots(t)
    deps, _ = dependencies(roots)
    return schedule(roots, deps)


def out_meta(node, nr=0):
    """``(shape, dtype)`` of output ``nr`` of ``node`` (a leaf's shape for AccumulateGrad)."""
    if type(node) is AccumulateGrad:
        d = node.variable._data
        return d.shape, d.dtype
    meta = getattr(node, "_out_meta", None)
    if meta and nr < len(meta):
        return meta[nr]
    return None, None


# --- naming: parameters of a module, variables of the caller ----------------------------
def _names_from(module=None, names=None, frame=None):
    """``id(tensor) -> name`` from a module's parameters, a dict, or a frame's variables."""
    out = {}
    if frame is not None:
        for k, v in list(frame.f_locals.items()):
            if isinstance(v, _t.Tensor) and not k.startswith("_"):
                out.setdefault(id(v), k)
    if names:
        for k, v in names.items():
            if isinstance(v, _t.Tensor):
                out[id(v)] = k
    if module is not None:
        named = getattr(module, "named_parameters", None)
        if named is None:
            raise TypeError(f"module must have named_parameters() (got {type(module).__name__})")
        for k, p in named():
            out[id(p)] = k
    return out


class _Names:
    """Names for leaves (by tensor) and for op nodes (the variable holding their output)."""

    def __init__(self):
        self.leaf = {}  # id(tensor) -> name
        self.node = {}  # (id(node), output_nr) -> name
        self.array = {}  # id(array) -> name of the tensor holding it

    @classmethod
    def build(cls, t, module=None, names=None, frame=None):
        self = cls()
        self.leaf = _names_from(module, names, frame)
        objs = []
        if frame is not None:
            objs = [(k, v) for k, v in list(frame.f_locals.items())
                    if isinstance(v, _t.Tensor) and not k.startswith("_")]
        if names:
            objs += [(k, v) for k, v in names.items() if isinstance(v, _t.Tensor)]
        for k, v in objs:
            if v.grad_fn is not None:
                self.node[(id(v.grad_fn), v.output_nr)] = k
            self.array.setdefault(id(v._data), k)
        return self

    def of_leaf(self, node):
        """The leaf's name for an AccumulateGrad node, or ``None``."""
        return self.leaf.get(id(node.variable))

    def of_node(self, node):
        """Name of the variable holding one of the node's outputs, or ``None``."""
        for nr in range(getattr(node, "_n_outputs", 1)):
            name = self.node.get((id(node), nr))
            if name is not None:
                return name
        return None


# --- saved tensors ------------------------------------------------------------------------
@dataclass
class SavedTensor:
    """One value a node keeps for its backward.

    Attributes:
        shape, dtype, nbytes: of the saved array.
        version: the tensor's version when it was saved (``None`` if not tracked).
        current_version: its version now; different means it was changed in place and
            backward will raise.
        source: where it comes from (``"input 0"``, ``"output 0"``, ``"ctx.attr"`` ...).
        array: the array itself (kept out of the repr).
    """

    shape: tuple
    dtype: str
    nbytes: int
    version: int | None
    current_version: int | None
    source: str
    array: object = None

    def __repr__(self):
        return f"SavedTensor({self.describe()})"

    def describe(self) -> str:
        """``[4, 3] float32 v0 (input 0)``, with a warning when modified in place."""
        v = ""
        if self.version is not None:
            v = f" v{self.version}"
            if self.current_version is not None and self.current_version != self.version:
                v += f" (now v{self.current_version}: modified in place!)"
        return f"{fmt_shape(self.shape)} {self.dtype}{v} ({self.source})"


_INTERNAL_ATTRS = frozenset((
    "next_functions", "needs_input_grad", "_saved", "_saved_versions", "_user_versions",
    "_dirty", "_non_diff", "_materialize", "_arg_is_tensor", "_in_meta", "_seq_nr", "_site",
    "_n_outputs", "_out_meta", "_tensor_hooks", "_post_hooks", "_pre_hooks", "_metadata",
    "_released", "set_materialize_grads", "mark_non_differentiable", "mark_dirty", "variable",
    "_non_differentiable"))


def _contains_array(value, depth=0):
    if isinstance(value, (np.ndarray, _t.Tensor)):
        return True
    if depth < 2 and isinstance(value, (list, tuple)):
        return any(_contains_array(v, depth + 1) for v in value)
    if depth < 2 and isinstance(value, dict):
        return any(_contains_array(v, depth + 1) for v in value.values())
    return False


def ctx_attributes_with_tensors(node) -> dict:
    """Attributes a Function's forward put on ``ctx`` that hold arrays or Tensors."""
    d = getattr(node, "__dict__", {})
    return {k: v for k, v in d.items() if k not in _INTERNAL_ATTRS and _contains_array(v)}


def _flat_arrays(value):
    if isinstance(value, _t.Tensor):
        yield value._data, value._vc
    elif isinstance(value, np.ndarray):
        yield value, None
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _flat_arrays(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flat_arrays(v)


def _version_records(node):
    """``id(array) -> (vc, version_at_save, fn, output_nr, requires_grad)``.

    Reads the core's ``_saved_versions`` records, laid out as
    ``(arr_id, vc, version, shape, dtype, fn, output_nr, rg)``.
    """
    out = {}
    for rec in getattr(node, "_saved_versions", None) or ():
        try:
            arr_id, vc, version, _shape, _dtype, fn, output_nr, rg = rec
        except (TypeError, ValueError):
            continue
        if fn is _OWN_OUTPUT:
            fn = node
        out.setdefault(arr_id, (vc, version, fn, output_nr, rg))
    return out


def saved_tensors(node, names=None) -> list:
    """What ``node`` keeps for its backward: saved values and arrays held on ``ctx``.

    Args:
        node: a ``grad_fn``.
        names: optional ``_Names`` (from ``render``) to name leaves.

    Returns:
        A list of ``SavedTensor`` (empty once backward has freed the node).
    """
    out = []
    saved = getattr(node, "_saved", None)
    if saved:
        records = _version_records(node)
        user_versions = getattr(node, "_user_versions", None) or ()
        leaf_arrays = {}
        for i, (child, _) in enumerate(node.next_functions):
            if type(child) is AccumulateGrad:
                leaf_arrays[id(child.variable._data)] = (i, child)
        for i, value in enumerate(saved):
            if isinstance(value, _t.Tensor):
                arr = value._data
                version = user_versions[i] if i < len(user_versions) else None
                current = value._vc[0]
                src = _source_of_tensor(node, value, names)
            elif isinstance(value, np.ndarray):
                arr = value
                rec = records.get(id(arr))
                version = current = None
                if rec is not None:
                    vc, version, fn, output_nr, rg = rec
                    current = vc[0]
                    if fn is node:
                        src = f"its output {output_nr}"
                    elif fn is not None:
                        src = f"output {output_nr} of {fn.name()}"
                    elif id(arr) in leaf_arrays:
                        i_in, acc = leaf_arrays[id(arr)]
                        nm = names.of_leaf(acc) if names is not None else None
                        src = f"leaf {nm}" if nm else f"leaf (input {i_in})"
                    else:
                        nm = names.array.get(id(arr)) if names is not None else None
                        src = f"input {nm}" if nm else "input"
                        src += "" if rg else " (requires_grad=False)"
                elif id(arr) in leaf_arrays:
                    i_in, acc = leaf_arrays[id(arr)]
                    nm = names.of_leaf(acc) if names is not None else None
                    src = f"leaf {nm}" if nm else f"leaf (input {i_in})"
                else:
                    src = "intermediate"
            else:
                continue
            out.append(SavedTensor(tuple(arr.shape), _dtype_name(arr.dtype), arr.nbytes,
                                   version, current, src, arr))
    for k, v in ctx_attributes_with_tensors(node).items():
        for arr, vc in _flat_arrays(v):
            out.append(SavedTensor(tuple(arr.shape), _dtype_name(arr.dtype), arr.nbytes, None,
                                   vc[0] if vc else None, f"ctx.{k}", arr))
    return out


def _source_of_tensor(node, t, names):
    if t.grad_fn is node:
        return f"its output {t.output_nr}"
    if t.grad_fn is not None:
        return f"output {t.output_nr} of {t.grad_fn.name()}"
    if names is not None and id(t) in names.leaf:
        return f"leaf {names.leaf[id(t)]}"
    return "leaf" if t.requires_grad else "input, requires_grad=False"


def _base_of(arr):
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


# --- stats ----------------------------------------------------------------------------------
@dataclass
class GraphStats:
    """What a graph holds, from ``stats(t)``.

    Attributes:
        nodes: all nodes, ``AccumulateGrad`` included.
        ops: backward functions (nodes that are not ``AccumulateGrad``).
        leaves: ``AccumulateGrad`` nodes (leaf tensors that will get a ``.grad``).
        saved_tensors: values kept for backward (distinct arrays).
        saved_bytes: bytes of the memory they keep alive (a saved view counts its whole
            buffer, shared buffers count once).
        freed_nodes: nodes a backward already ran through (their saved tensors are freed).
    """

    nodes: int = 0
    ops: int = 0
    leaves: int = 0
    saved_tensors: int = 0
    saved_bytes: int = 0
    freed_nodes: int = 0

    def __str__(self):
        s = (f"{_plural(self.nodes, 'node')} ({_plural(self.ops, 'op')}, "
             f"{_plural(self.leaves, 'leaf', 'leaves')}), "
             f"{_plural(self.saved_tensors, 'saved tensor')}, {fmt_bytes(self.saved_bytes)}")
        if self.freed_nodes:
            s += f", {_plural(self.freed_nodes, 'node')} already run (and freed) by backward"
        return s


def _plural(n, word, many=None):
    return f"{n} {word if n == 1 else (many or word + 's')}"


def stats(t) -> GraphStats:
    """Count the graph behind ``t``: nodes, saved tensors, and the bytes held for backward.

    A tensor computed under ``no_grad`` has no graph: every count is zero, which is
    what ``no_grad`` saves.

    Args:
        t: a tensor (or node, or a sequence of them).

    Returns:
        A ``GraphStats``; ``str()`` of it reads
        ``"8 nodes (6 ops, 2 leaves), 5 saved tensors, 160 B"``.
    """
    roots = _roots(t)
    _, nodes = dependencies(roots)
    st = GraphStats(nodes=len(nodes))
    seen_arrays = set()
    buffers = {}
    for node in nodes:
        if type(node) is AccumulateGrad:
            st.leaves += 1
            continue
        st.ops += 1
        if getattr(node, "_saved", None) is None and getattr(node, "_released", False):
            st.freed_nodes += 1
        for s in saved_tensors(node):
            if id(s.array) in seen_arrays:
                continue
            seen_arrays.add(id(s.array))
            st.saved_tensors += 1
            base = _base_of(s.array)
            buffers[id(base)] = base.nbytes
    st.saved_bytes = sum(buffers.values())
    return st


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


# --- a layered layout drawn as SVG, so HTML and SVG need nothing installed ----------------
_CHAR_W, _LINE_H, _PAD, _GAP_X, _GAP_Y = 7, 14, 8, 24, 36


def _layout(view):
    """Layer = longest path from a root (edges always point down); order by parents' x."""
    layer = {}
    for node in view.order:  # run order is a topological order: parents come first
        layer.setdefault(node, 0)
        for _, child, _ in view.edges(node):
            if layer.get(child, -1) < layer[node] + 1:
                layer[child] = layer[node] + 1
    layers = {}
    for node in view.order:
        layers.setdefault(layer[node], []).append(node)
    boxes = {}
    for node in view.order:
        lines = _label_lines(view, node)
        w = max(len(x) for x in lines) * _CHAR_W + 2 * _PAD
        h = len(lines) * _LINE_H + 2 * _PAD
        boxes[node] = [0.0, 0.0, w, h, lines]
    parents = {}
    for node in view.order:
        for _, child, _ in view.edges(node):
            parents.setdefault(child, []).append(node)
    y = 10.0
    width = 0.0
    for k in sorted(layers):
        row = layers[k]
        if k:
            def centre(n):
                ps = parents.get(n, ())
                return sum(boxes[p][0] + boxes[p][2] / 2 for p in ps) / len(ps) if ps else 0.0
            row.sort(key=centre)
        x = 10.0
        h = 0.0
        for node in row:
            b = boxes[node]
            if k:
                x = max(x, (sum(boxes[p][0] + boxes[p][2] / 2 for p in parents.get(node, ()))
                            / max(len(parents.get(node, ())), 1)) - b[2] / 2)
            b[0], b[1] = x, y
            x += b[2] + _GAP_X
            h = max(h, b[3])
        width = max(width, x)
        y += h + _GAP_Y
    return boxes, width + 10, y


def _render_svg(view):
    if not view.order:
        return ('<svg xmlns="http://www.w3.org/2000/svg" width="420" height="40"><text x="10" '
                'y="24" font-family="monospace" font-size="12">no graph: the tensor does not '
                'require grad</text></svg>\n')
    boxes, width, height = _layout(view)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
           'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
           '</defs>']
    for node in view.order:
        px, py, pw, ph, _ = boxes[node]
        for _, child, nr in view.edges(node):
            cx, cy, cw, _, _ = boxes[child]
            x1, y1, x2, y2 = px + pw / 2, py + ph, cx + cw / 2, cy
            mid = (y1 + y2) / 2
            shape, _ = out_meta(child, nr)
            tip = html.escape(fmt_shape(shape)) if shape is not None else ""
            out.append(f'<path d="M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} '
                       f'{x2:.0f},{y2:.0f}" fill="none" stroke="#555" '
                       f'marker-end="url(#arrow)"><title>{tip}</title></path>')
    for node in view.order:
        x, y, w, h, lines = boxes[node]
        kind = _kind(view, node)
        rx = h / 2 if kind == "leaf" else 6
        out.append(f'<g><title>#{view.index[node]} {html.escape(node.name())}</title>'
                   f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="{rx:.0f}" '
                   f'fill="{_COLORS[kind]}" stroke="#333"/>')
        for j, line in enumerate(lines):
            weight = ' font-weight="bold"' if j == 0 else ""
            out.append(f'<text x="{x + _PAD:.0f}" y="{y + _PAD + (j + 0.8) * _LINE_H:.0f}"'
                       f'{weight}>{html.escape(line)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _render_html(view):
    text = _render_text(view, source=True)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ember graph</title>\n"
            "<style>body{font-family:sans-serif;margin:1em}pre{background:#f6f6f6;padding:1em;"
            "overflow:auto}.legend span{display:inline-block;padding:2px 8px;margin-right:6px;"
            "border:1px solid #333;font-family:monospace}</style></head><body>\n"
            "<h1>ember autograd graph</h1>\n<p class=\"legend\">"
            f"<span style=\"background:{_COLORS['root']}\">root</span>"
            f"<span style=\"background:{_COLORS['op']}\">backward function</span>"
            f"<span style=\"background:{_COLORS['leaf']}\">AccumulateGrad (leaf)</span>"
            f"<span style=\"background:{_COLORS['freed']}\">freed by backward</span></p>\n"
            "<p>Arrows point the way gradients flow: from the output down "
            "<code>next_functions</code> to the leaves.</p>\n"
            f"{_render_svg(view)}<details><summary>as text</summary><pre>"
            f"{html.escape(text)}</pre></details>\n</body></html>\n")


_FORMATS = {"text": _render_text, "mermaid": _render_mermaid, "dot": _render_dot,
            "html": _render_html, "svg": _render_svg}


def render(t, format: str = "text", module=None, names: dict | None = None) -> str:
    """Draw the graph behind ``t`` as text, Mermaid, Graphviz DOT, or a standalone HTML page.

    Every node appears once, numbered in the order backward runs it, with its output
    shape, the file and line that created it, the tensors it saved (shape, dtype and
    version) and its ``next_functions``; leaves appear as their ``AccumulateGrad`` nodes.
    Nothing needs to be installed: the HTML page carries its own SVG drawing.

    Args:
        t: a tensor (or node, or sequence of them).
        format: ``"text"``, ``"mermaid"``, ``"dot"``, ``"html"`` or ``"svg"``.
        module: an ``nn.Module`` (anything with ``named_parameters()``) to name parameters.
        names: extra ``{name: tensor}``; by default the caller's variables name leaves
            and intermediate results.

    Returns:
        The rendering as a string.
    """
    if format not in _FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {sorted(_FORMATS)}")
    view = _View(t, module=module, names=names, frame=user_frame(2))
    return _FORMATS[format](view).rstrip("\n")


def _dot_binary():
    return shutil.which("dot")


def to_svg(t, path=None, module=None, names=None, engine: str = "auto"):
    """An SVG picture of the graph: Graphviz ``dot`` when installed, else ember's own layout.

    Args:
        t: the tensor.
        path: write the SVG there (and return the path); ``None`` returns the SVG text.
        module, names: as for ``render``.
        engine: ``"auto"``, ``"dot"`` (require Graphviz) or ``"builtin"``.
    """
    if engine not in ("auto", "dot", "builtin"):
        raise ValueError(f"engine must be 'auto', 'dot' or 'builtin', got {engine!r}")
    view = _View(t, module=module, names=names, frame=user_frame(2))
    dot = _dot_binary() if engine != "builtin" else None
    if engine == "dot" and dot is None:
        raise RuntimeError(_NO_DOT)
    svg = _run_dot(dot, _render_dot(view), "svg").decode() if dot else _render_svg(view)
    if path is None:
        return svg
    with open(path, "w", encoding="utf-8") as f:
        f.write(svg)
    return path


_NO_DOT = ("Graphviz's `dot` program was not found on PATH. Install Graphviz (apt install "
           "graphviz, brew install graphviz, conda install graphviz), or use what needs "
           "nothing installed: render(t, format='html'), to_svg(t, engine='builtin'), "
           "render(t, format='mermaid').")


def to_png(t, path=None, module=None, names=None) -> bytes | str:
    """A PNG picture of the graph, drawn by Graphviz's ``dot`` (which must be installed).

    Args:
        t: the tensor.
        path: write the PNG there (and return the path); ``None`` returns the bytes.
        module, names: as for ``render``.

    Raises:
        RuntimeError: ``dot`` is not installed (the message names the alternatives).
    """
    dot = _dot_binary()
    if dot is None:
        raise RuntimeError(_NO_DOT)
    view = _View(t, module=module, names=names, frame=user_frame(2))
    png = _run_dot(dot, _render_dot(view), "png")
    if path is None:
        return png
    with open(path, "wb") as f:
        f.write(png)
    return path


def _run_dot(dot, source, fmt):
    proc = subprocess.run([dot, f"-T{fmt}"], input=source.encode(), capture_output=True,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"dot -T{fmt} failed (exit {proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


# --- graphs kept alive across optimizer steps ----------------------------------------------
class RetainedGraphWarning(UserWarning):
    """A graph from an earlier optimizer step is still alive (e.g. ``total += loss``)."""


class _Retained:
    enabled = False
    mark = None
    step = 0
    warned = set()


_retained = _Retained()


def warn_on_retained_graphs(enabled: bool = True) -> None:
    """Warn when graphs from earlier optimizer steps are still alive after a step.

    The classic leak is ``total_loss += loss`` (instead of ``loss.item()``): every step's
    graph hangs off ``total_loss`` and memory grows step after step. When enabled, each
    ``optimizer.step()`` calls ``check_retained_graphs()``, which looks for graph nodes
    created before the previous step that are still alive and warns once per place, naming
    the line that holds them. Off by default: each check scans the live objects.
    """
    _retained.enabled = bool(enabled)
    _retained.mark = None
    _retained.step = 0
    _retained.warned = set()
    handle = getattr(_retained, "hook_handle", None)
    if handle is not None:
        handle.remove()
        _retained.hook_handle = None
    if enabled:
        # a global optimizer post-step hook: optim itself never imports autograd
        from ..optim.optimizer import register_optimizer_step_post_hook

        _retained.hook_handle = register_optimizer_step_post_hook(
            lambda opt, args, kwargs: _after_optimizer_step(opt))


def _after_optimizer_step(optimizer=None):
    """Called by ``Optimizer.step``; does nothing unless ``warn_on_retained_graphs(True)``."""
    if _retained.enabled:
        params = None
        if optimizer is not None:
            params = [p for group in optimizer.param_groups for p in group["params"]]
        check_retained_graphs(params=params)


def _live_nodes():
    # NOTE: type(o), not isinstance(o, ...): isinstance may read o.__class__, which some
    # lazy module proxies (e.g. torch's deprecated aliases) turn into warnings
    return [o for o in gc.get_objects() if Node in type(o).__mro__
            and type(o) is not AccumulateGrad and hasattr(o, "_seq_nr")]


def _reaching(live, params):
    """The live nodes from which a gradient can flow to one of ``params``."""
    targets = [p._accum for p in params if getattr(p, "_accum", None) is not None]
    parents = {}
    for n in live:
        for child, _ in n.next_functions:
            if child is not None:
                parents.setdefault(child, []).append(n)
    found = set()
    stack = list(targets)
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def check_retained_graphs(warn: bool = True, params=None) -> list:
    """Find graphs that outlived the previous call (normally: the previous optimizer step).

    Call it once per training step (optimizers do when ``warn_on_retained_graphs(True)``).
    Nodes recorded before the previous call and still alive are retained graphs; the report
    names the newest node holding each of them and the line that created it.

    Args:
        warn: issue a ``RetainedGraphWarning`` (once per holding line).
        params: only look at graphs that lead to these tensors (an optimizer's
            parameters); ``None`` looks at every graph.

    Returns:
        ``[(holder_node, retained_node_count)]``; empty when nothing was retained.
    """
    prev = _retained.mark
    _retained.mark = next(_seq)
    _retained.step += 1
    if prev is None:
        return []
    if not any(n._seq_nr < prev for n in _live_nodes()):
        return []
    gc.collect()  # unreachable cycles are not leaks; let them go before looking again
    live = _live_nodes()
    if params is not None:
        live = list(_reaching(live, params))
    old = {n for n in live if n._seq_nr < prev}
    if not old:
        return []
    referenced = set()
    for n in live:
        for child, _ in n.next_functions:
            if child is not None:
                referenced.add(child)
    holders = []
    for top in sorted((n for n in live if n not in referenced), key=lambda n: -n._seq_nr):
        _, reach = dependencies([top])
        count = sum(1 for n in reach if n in old)
        if count:
            holders.append((top, count))
    if warn:
        for top, count in holders:
            key = getattr(top, "_site", None) or id(top)
            if key in _retained.warned:
                continue
            _retained.warned.add(key)
            _warn_retained(top, count)
    return holders


def _warn_retained(top, count):
    site = getattr(top, "_site", None)
    text = source_line(site)
    msg = (f"{count} graph nodes recorded before the previous optimizer step are still alive, "
           f"held by {top.name()} created at {where(site)}. A tensor that carries a graph is "
           "being kept across steps, so every step's graph stays in memory. ")
    if "+=" in text or "append" in text:
        msg += ("Keep the number, not the tensor: total_loss += loss.item() (or "
                "loss.detach()); ")
    else:
        msg += "Keep loss.item() or tensor.detach() instead of the tensor; "
    msg += "use no_grad() for evaluation."
    if site:
        warnings.warn_explicit(msg, RetainedGraphWarning, site[0], site[1])
    else:
        warnings.warn(msg, RetainedGraphWarning, stacklevel=3)


# --- float64 sneaking into a float32 computation -------------------------------------------
class Float64Warning(UserWarning):
    """A float64 operand turned a float32 computation into float64."""


class _Float64:
    enabled = False
    warned = set()


_float64 = _Float64()


def warn_on_float64(enabled: bool = True) -> None:
    """Warn (once per line) when a float64 value turns a float32 computation into float64.

    A NumPy float64 array (``np.random.randn`` and most NumPy results are float64) or a
    float64 tensor mixed into a float32 model silently promotes everything after it to
    float64: twice the memory, slower matmuls. Off by default.
    """
    _float64.enabled = bool(enabled)
    _float64.warned = set()
    try:
        from ..ops import _shape_utils
    except ImportError:  # pragma: no cover
        return
    if hasattr(_shape_utils, "float64_hook"):
        _shape_utils.float64_hook = _float64_check if enabled else None


def _float64_check(x, y):
    """Hook for the ops: called with two operands whose result dtype is float64."""
    if not _float64.enabled:
        return
    dts = [a._data.dtype if isinstance(a, _t.Tensor) else np.asarray(a).dtype for a in (x, y)]
    if not any(d == np.float32 for d in dts) or not any(d == np.float64 for d in dts):
        return
    site = user_site(2)
    if site in _float64.warned:
        return
    _float64.warned.add(site)
    desc = []
    for a, d in zip((x, y), dts):
        shape = a.shape if isinstance(a, _t.Tensor) else np.shape(a)
        desc.append(f"{d.name} {fmt_shape(shape)}")
    msg = (f"a float64 value entered a float32 computation at {where(site)}: the operands are "
           f"{desc[0]} and {desc[1]}, so the result (and everything computed from it) is "
           "float64, which doubles memory and slows training. Convert it once where it comes "
           "from: ember.as_tensor(array, dtype=ember.float32), array.astype(np.float32), or "
           "tensor.float().")
    if site:
        warnings.warn_explicit(msg, Float64Warning, site[0], site[1])
    else:
        warnings.warn(msg, Float64Warning, stacklevel=3)
