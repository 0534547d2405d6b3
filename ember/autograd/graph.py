"""Inspect the recorded graph: walk it, draw it, measure what it holds for backward.

The graph is the one ``backward`` will use: from a tensor's ``grad_fn`` through
``next_functions`` down to the ``AccumulateGrad`` nodes of the leaves. Everything here
only reads it (nothing runs backward, nothing is freed) and every walk is iterative, so a
10,000-op graph is as easy to draw as a ten-op one.

- ``walk(t)``: the nodes in the order ``backward`` will run them.
- ``render(t, format="text" | "mermaid" | "dot" | "html", module=None)``: a view that
  needs nothing installed; ``to_svg``/``to_png`` use Graphviz's ``dot`` when present.
- ``stats(t)``: nodes, saved tensors and the bytes they hold (what ``no_grad`` saves).
- torch's own ``torch.autograd.graph`` API: ``saved_tensors_hooks``, ``save_on_cpu``,
  ``disable_saved_tensors_hooks`` (``_saved_hooks``), ``get_gradient_edge``,
  ``register_multi_grad_hook``, ``increment_version``, ``allow_mutation_on_saved_tensors``
  (``_graph_extras``).
- ``warn_on_retained_graphs(True)``: warn when graphs stay alive across optimizer steps
  (the ``total_loss += loss`` mistake); ``warn_on_float64(True)``: warn when a float64
  value turns a float32 computation into float64.
"""
from __future__ import annotations

import shutil
import subprocess

# Re-exported: everything graph.py defined before the split (explain, check_function and
# _errors use the helpers as ``graph.where`` and the like).
from ._graph_core import (  # noqa: F401
    _DTYPE_NAMES,
    _INTERNAL_ATTRS,
    _PACKAGE_DIR,
    GraphStats,
    SavedTensor,
    _base_of,
    _contains_array,
    _dtype_name,
    _flat_arrays,
    _Names,
    _names_from,
    _plural,
    _roots,
    _seq_of,
    _source_of_tensor,
    ctx_attributes_with_tensors,
    dependencies,
    fmt_bytes,
    fmt_shape,
    out_meta,
    saved_tensors,
    schedule,
    site_str,
    source_line,
    stats,
    user_frame,
    user_site,
    walk,
    where,
)
from ._graph_extras import (  # noqa: F401  (torch.autograd.graph's API)
    GradientEdge,
    allow_mutation_on_saved_tensors,
    get_gradient_edge,
    increment_version,
    register_multi_grad_hook,
)
from ._graph_render import _render_dot, _render_mermaid, _render_text, _View
from ._graph_svg import _render_html, _render_svg
from ._graph_warnings import (  # noqa: F401
    Float64Warning,
    RetainedGraphWarning,
    _after_optimizer_step,
    _float64,
    _float64_check,
    _retained,
    check_retained_graphs,
    warn_on_float64,
    warn_on_retained_graphs,
)
from ._saved_hooks import (  # noqa: F401
    disable_saved_tensors_hooks,
    save_on_cpu,
    saved_tensors_hooks,
)
from .function import Node  # noqa: F401  (torch.autograd.graph.Node: the grad_fn base)

__all__ = ["walk", "render", "to_svg", "to_png", "stats", "GraphStats", "saved_tensors",
           "SavedTensor", "warn_on_retained_graphs", "check_retained_graphs",
           "RetainedGraphWarning", "warn_on_float64", "Float64Warning",
           # torch.autograd.graph's own API
           "Node", "GradientEdge", "get_gradient_edge", "saved_tensors_hooks", "save_on_cpu",
           "disable_saved_tensors_hooks", "register_multi_grad_hook", "increment_version",
           "allow_mutation_on_saved_tensors"]


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
