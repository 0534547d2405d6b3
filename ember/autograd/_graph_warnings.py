"""Opt-in warnings: graphs kept alive across optimizer steps, and float64 values
sneaking into a float32 computation. Part of :mod:`ember.autograd.graph`, which re-exports
the public names."""
from __future__ import annotations

import gc
import warnings

import numpy as np

from .. import _tensor as _t
from ._graph_core import dependencies, fmt_shape, source_line, user_site, where
from .function import AccumulateGrad, Node, _seq


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
