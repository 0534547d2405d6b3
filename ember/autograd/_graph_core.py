"""The graph helpers every view shares: walking it in backward's order, naming its
tensors, its saved tensors, and their totals (stats). Part of :mod:`ember.autograd.graph`,
which re-exports all of it; :mod:`._graph_render`, :mod:`._graph_svg` and
:mod:`._graph_warnings` build on it."""
from __future__ import annotations

import heapq
import linecache
import os
import sys
from dataclasses import dataclass

import numpy as np

from .. import _tensor as _t
from .function import AccumulateGrad, Node, version_records

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
    """Every node reachable from ``roots`` (in the order found) and how many edges lead into
    each: the engine's own walk."""
    from .engine import _discover

    deps, seen = _discover(roots)
    return deps, list(seen)


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
        records = version_records(node)
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
        saved_tensors: values kept for backward (distinct arrays). For a node recorded under
            ``saved_tensors_hooks``, the arrays and Tensors that what ``pack_hook`` returned
            holds (found in tuples, lists and dicts too); a file name or a handle holds none.
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
    from .function import _hook_stack

    if _hook_stack:  # the last op's values saved under hooks: packed first
        from ._saved_hooks import flush

        flush()
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
        for arr in _held_arrays(node):
            if id(arr) in seen_arrays:
                continue
            seen_arrays.add(id(arr))
            st.saved_tensors += 1
            base = _base_of(arr)
            buffers[id(base)] = base.nbytes
    st.saved_bytes = sum(buffers.values())
    return st


def _held_arrays(node):
    """The arrays ``node`` holds for its backward: its saved tensors (what ``pack_hook``
    returned, when they went through hooks) and the arrays on ``ctx``."""
    arrays = [s.array for s in saved_tensors(node)]
    saved = getattr(node, "_saved", None)
    if saved is not None and type(saved) is not tuple:  # packed by saved_tensors_hooks
        for entry in saved.entries:
            if len(entry) > 1:
                arrays.extend(a for a, _vc in _flat_arrays(entry[0]))
    return arrays
