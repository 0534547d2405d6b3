"""``explain(loss)`` and ``loss.backward(explain=True)``: backward's steps, on the real graph.

The steps are the ones the notes list:

1. find the graph: start at ``loss.grad_fn`` and follow ``next_functions``;
2. order it in reverse topological order, counting each node's dependencies (how many
   gradients it waits for);
3. call each node's backward in that order (the chain rule), summing the gradients that
   reach a node from several branches;
4. stop at the leaves, whose ``.grad`` accumulates (hence ``zero_grad``);

and, after each node has run, what was freed. ``Tracer`` receives the engine's events
during a real backward; ``explain`` replays the same events from the recorded shapes
without running anything.
"""
from __future__ import annotations

import sys as _sys
import types as _types

from .. import _tensor as _t
from . import graph as _g
from .function import AccumulateGrad

__all__ = ["explain", "Tracer"]


class _Shape:
    """Stands in for a gradient during a dry run: only its shape and dtype are known."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype


class Tracer:
    """Prints what the engine does, as it does it (``backward(explain=True)``).

    The engine calls ``start(root_nodes, deps, seen)`` once the graph is found,
    ``before(node, grads)`` and ``after(node, results)`` around each backward,
    ``accumulate(node, grad)`` for each leaf, and ``finish()`` at the end (also after an
    error).

    Args:
        print_fn: where lines go (``print`` by default; e.g. ``lines.append``).
        module: an ``nn.Module`` whose parameter names label the leaves.
        names: extra ``{name: tensor}`` labels.
        limit: print at most this many nodes per step (first and last halves);
            ``None`` prints all.
        dry_run: set by ``explain``: gradients are shapes only and nothing is freed.
        frame: the user's frame whose variables name tensors (found by default).
    """

    def __init__(self, print_fn=print, module=None, names=None, limit=100, dry_run=False,
                 frame=None):
        self.print = print_fn
        self.module, self.names_arg = module, names
        self.limit = limit
        self.dry_run = dry_run
        self.frame = frame if frame is not None else _g.user_frame(2)
        self.incoming = {}
        self.last = None
        self.events = 0
        self.elided = False
        self.leaves = []
        self.saved_before = {}
        self.freed_nodes = []
        self.order = []
        self.index = {}

    # --- helpers ---------------------------------------------------------------------------
    def _name(self, node):
        k = f"#{self.index.get(node, '?')} {node.name()}"
        label = (self.names.of_leaf(node) if type(node) is AccumulateGrad
                 else self.names.of_node(node))
        return f"{k} ({label})" if label else k

    def _leaf_name(self, node):
        return self.names.of_leaf(node) or f"leaf #{self.index.get(node, '?')}"

    def _shown(self, node):
        """Whether this node's lines are printed (the middle of a long graph is elided)."""
        if self.limit is None or len(self.order) <= self.limit:
            return True
        i = self.index.get(node, 0)
        half = self.limit // 2
        if i <= half or i > len(self.order) - half:
            return True
        if not self.elided:
            self.elided = True
            self.print(f"  ... {len(self.order) - 2 * half} nodes not shown "
                       "(pass limit=None to see all) ...")
        return False

    def _listing(self, lines):
        n = len(lines)
        if self.limit is not None and n > self.limit:
            half = self.limit // 2
            for line in lines[:half]:
                self.print(line)
            self.print(f"  ... {n - 2 * half} more (pass limit=None to see all) ...")
            lines = lines[n - half:]
        for line in lines:
            self.print(line)

    def _flush_freed(self):
        node = self.last
        self.last = None
        if node is None or self.dry_run:
            return
        info = self.saved_before.get(node)
        if info and getattr(node, "_saved", None) is None and getattr(node, "_released", False):
            self.freed_nodes.append(node)
            if self._shown(node):
                n = len(info)
                self.print(f"      freed {n} saved tensor{'s' if n != 1 else ''} "
                           f"({_g.fmt_bytes(sum(info.values()))})")

    # --- engine events ------------------------------------------------------------------------
    def start(self, root_nodes, deps, seen):
        """The graph was found: print steps 1 and 2."""
        self.roots = list(root_nodes)
        self.deps = dict(deps)
        self.order = _g.schedule(self.roots, self.deps)
        self.index = {n: i + 1 for i, n in enumerate(self.order)}
        self.names = _g._Names.build(None, self.module, self.names_arg, self.frame)
        for node in self.order:
            if type(node) is not AccumulateGrad:
                saved = {id(s.array): s.nbytes for s in _g.saved_tensors(node)}
                if saved:
                    self.saved_before[node] = saved
        p = self.print
        root_desc = ", ".join(self._name(r) for r in self.roots)
        mode = " (dry run: backward is not called)" if self.dry_run else ""
        p(f"backward from {root_desc}{mode}")
        p("Step 1 - find the graph: start at the output's grad_fn and follow next_functions")
        _, found = _g.dependencies(self.roots)
        lines = []
        width = max((len(self._name(n)) for n in found), default=0)
        for node in found:
            if type(node) is AccumulateGrad:
                v = node.variable
                lines.append(f"  {self._name(node):<{width}}  leaf {_g.fmt_shape(v.shape)}: "
                             "its gradient goes to .grad")
                continue
            site = _g.site_str(node._site) if getattr(node, "_site", None) else ""
            nxt = [self._name(c) if c is not None else "None"
                   for c, _ in node.next_functions]
            lines.append(f"  {self._name(node):<{width}}  {site}  -> "
                         + (", ".join(nxt) if nxt else "(nothing)"))
        self._listing(lines)
        n_leaf = sum(1 for n in found if type(n) is AccumulateGrad)
        p(f"  {len(found)} nodes: {len(found) - n_leaf} backward functions, {n_leaf} "
          "AccumulateGrad (one per leaf that requires grad)")
        p("Step 2 - reverse topological order: a node runs once all of its dependencies "
          "(deps: the gradients it waits for) have arrived")
        lines = []
        for node in self.order:
            d = self.deps.get(node, 0)
            note = f"   (used {d} times: its gradients are summed)" if d > 1 else ""
            lines.append(f"  {self._name(node):<{width}}  deps {d}{note}")
        self._listing(lines)
        p("Step 3 - call each backward in that order (the chain rule)")
        self.elided = False

    def before(self, node, grads):
        """A node's backward is about to run with ``grads`` (one per output)."""
        self._flush_freed()
        self.events += 1
        if not self._shown(node):
            return
        site = _g.site_str(node._site) if getattr(node, "_site", None) else ""
        shapes = ", ".join(_g.fmt_shape(g.shape) if g is not None else "None" for g in grads)
        self.print(f"  {self._name(node)}  {site}")
        self.print(f"      grad_output {shapes}{self._sum_note(node)}")

    def _sum_note(self, node):
        came = self.incoming.get(node)
        if came is None and node in self.roots:
            return "  (the starting gradient: ones for a scalar output)"
        if not came or len(came) < 2:
            return ""
        counts = {}
        for src in came:
            counts[src] = counts.get(src, 0) + 1
        parts = [self._name(s) + (f" x{c}" if c > 1 else "") for s, c in counts.items()]
        return f" = sum of {len(came)} gradients (from {', '.join(parts)})"

    def after(self, node, results):
        """A node's backward returned ``results`` (one per input)."""
        shown = self._shown(node)
        parts = []
        for (child, _), r in zip(node.next_functions, results):
            if child is None:
                continue
            if r is not None:
                self.incoming.setdefault(child, []).append(node)
            if shown:
                g = _g.fmt_shape(r.shape) if r is not None else "None"
                parts.append(f"{g} to {self._name(child)}")
        if shown:
            self.print("      -> " + (", ".join(parts) if parts else "no gradient to pass on"))
        self.last = node

    def _freed_text(self, nodes):
        arrays = {}
        for n in nodes:
            arrays.update(self.saved_before[n])
        return (f"{len(nodes)} nodes, {len(arrays)} arrays, "
                f"{_g.fmt_bytes(sum(arrays.values()))}")

    def accumulate(self, node, grad):
        """A leaf's gradient is complete and goes into its ``.grad``."""
        self._flush_freed()
        self.events += 1
        v = node.variable
        had = v.grad is not None
        self.leaves.append((node, had, grad.shape))
        if not self._shown(node):
            return
        name = self._leaf_name(node)
        what = (f"{name}.grad += {_g.fmt_shape(grad.shape)}" if had
                else f"{name}.grad = {_g.fmt_shape(grad.shape)}")
        self.print(f"  {self._name(node)}  {what}{self._sum_note(node)}")

    def finish(self):
        """Print step 4 (the leaves) and what was freed."""
        self._flush_freed()
        p = self.print
        p("Step 4 - stop at the leaves (grad_fn is None): their gradients accumulate in .grad")
        if not self.leaves:
            p("  (no leaf received a gradient)")
        lines = []
        for node, had, shape in self.leaves:
            name = self._leaf_name(node)
            if had:
                lines.append(f"  {name} {_g.fmt_shape(shape)}: .grad "
                             f"{'would be' if self.dry_run else 'was'} ADDED to the gradient it "
                             "already held; gradients add up across backward calls, which is "
                             "why training loops call optimizer.zero_grad() first")
            else:
                lines.append(f"  {name} {_g.fmt_shape(shape)}: .grad "
                             f"{'would be' if self.dry_run else 'was'} set (it was None)")
        self._listing(lines)
        if self.dry_run:
            p(f"Then: after each node has run, backward frees its saved tensors "
              f"({self._freed_text(self.saved_before)}) unless retain_graph=True.")
        elif self.freed_nodes:
            p(f"Freed: the saved tensors of {self._freed_text(self.freed_nodes)}; a second "
              "backward through this graph needs retain_graph=True.")
        elif self.saved_before:
            p("Freed: nothing (retain_graph=True keeps the saved tensors for another backward).")


def explain(tensor, gradient=None, *, module=None, names=None, limit=100, print_fn=print):
    """Print how ``tensor.backward()`` would run, step by step, without running it.

    The four steps of the notes on the real graph: the nodes found from ``grad_fn``
    through ``next_functions``; the reverse topological order with each node's
    dependency count; each backward with the shapes of its incoming and outgoing
    gradients and where branches are summed; the leaves whose ``.grad`` accumulates;
    and what backward frees. ``tensor.backward(explain=True)`` prints the same while
    really running.

    Args:
        tensor: the output (usually the loss).
        gradient: its gradient, needed when it has more than one element.
        module: an ``nn.Module`` whose parameter names label the leaves.
        names: extra ``{name: tensor}`` labels (the caller's variables are used too).
        limit: at most this many nodes per step; ``None`` prints every node.
        print_fn: where lines go.
    """
    frame = _g.user_frame(2)
    if not isinstance(tensor, _t.Tensor):
        raise TypeError(f"explain expects a Tensor, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        print_fn("This tensor does not require grad, so backward has nothing to do (it would "
                 "raise 'element 0 of tensors does not require grad and does not have a "
                 "grad_fn'): it was computed under no_grad, detached, or from tensors with "
                 "requires_grad=False.")
        return
    if gradient is None and tensor.numel() != 1:
        print_fn(f"backward() on a tensor of shape {_g.fmt_shape(tensor.shape)} needs a "
                 "gradient argument ('grad can be implicitly created only for scalar "
                 "outputs'); explaining with gradient=ones_like(tensor).")
    tracer = Tracer(print_fn, module=module, names=names, limit=limit, dry_run=True,
                    frame=frame)
    roots = _g._roots(tensor)
    deps, _ = _g.dependencies(roots)
    tracer.start(roots, deps, None)
    try:
        for node in tracer.order:
            if type(node) is AccumulateGrad:
                shape, dtype = _g.out_meta(node)
                tracer.accumulate(node, _Shape(shape, dtype))
                continue
            metas = getattr(node, "_out_meta", None) or ((tensor.shape, tensor.dtype),)
            grads = [_Shape(s, d) for s, d in metas]
            tracer.before(node, grads)
            results = []
            for child, nr in node.next_functions:
                if child is None:
                    results.append(None)
                else:
                    results.append(_Shape(*_g.out_meta(child, nr)))
            tracer.after(node, results)
    finally:
        tracer.finish()


class _CallableModule(_types.ModuleType):
    """``ember.autograd.explain`` is this module once imported; calling it calls ``explain``."""

    def __call__(self, *args, **kwargs):
        return explain(*args, **kwargs)


# NOTE: importing the submodule rebinds ``ember.autograd.explain`` from the function to the
# module (the import system sets the package attribute after the first load), so the
# module itself is made callable; ``from ember.autograd import explain`` works either way.
_sys.modules[__name__].__class__ = _CallableModule
