"""``ember graph``: one training step's autograd graph, and backward's visiting order."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess

from ember.cli._defaults import TRAIN_DEFAULTS
from ember.cli._errors import CLIError, _err, _print
from ember.cli._run_dir import _atomic, _read_text_file
from ember.cli.generate import _load_run_model

# --- graph ------------------------------------------------------------------------------------

def cmd_graph(args) -> int:
    """``ember graph``: one training step's autograd graph as DOT, and backward's order."""
    import ember
    import ember.nn.functional as F
    from ember.models import build_model
    from ember.utils.data import default_collate

    out = args.out
    stem, ext = os.path.splitext(out)
    ext = ext.lower()
    if ext not in (".dot", ".gv", ".svg", ".png"):
        raise CLIError(f"--out {out}: expected a .dot, .svg or .png file name")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise CLIError(f"--out {out}: folder {folder} "
                       f"{'is not a directory' if os.path.exists(folder) else 'does not exist'}")
    dot_path = out if ext in (".dot", ".gv") else stem + ".dot"
    picture = out if ext in (".svg", ".png") else stem + ".svg"
    for path in dict.fromkeys((out, dot_path)):  # every file that will be written
        if os.path.isdir(path):
            raise CLIError(f"--out {out}: {path} is a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CLIError(f"--out {out}: cannot write there ({folder} is not writable)")
    # the picture beside a .dot file is a bonus: skipped if a directory holds its name
    want_picture = ext in (".svg", ".png") or not os.path.isdir(picture)
    from ember.text import Vocab, builtin_corpus

    if args.run is not None:
        cfg, vocab, model = _load_run_model(args.run, "--run")
        what = f"the model of {args.run}"
        text = None
        path = cfg["data"].get("text") if isinstance(cfg.get("data"), dict) else None
        with contextlib.suppress(OSError, CLIError):
            text = _read_text_file(path)[:20_000] if path else builtin_corpus(
                max_chars=20_000).text
    else:
        text = builtin_corpus(max_chars=20_000).text
        vocab = Vocab.from_text(text, tokenizer="char")
        ember.manual_seed(args.seed)
        model = build_model(TRAIN_DEFAULTS["model"], vocab_size=len(vocab))
        what = "a fresh model with the default sizes"
    size = model.context_size
    ids, source = None, "random token ids"
    if text is not None:
        with contextlib.suppress(KeyError):
            ids = vocab.encode(text)
            source = "the training text"
    if ids is None or len(ids) < args.batch_size * (size + 1):
        gen = ember.Generator().manual_seed(args.seed)
        ids = ember.randint(0, len(vocab), (args.batch_size * (size + 1),), generator=gen)
        source = "random token ids"
    dataset = model.make_dataset(ids[: args.batch_size * (size + 1)], stride=size + 1)
    x, y = default_collate([dataset[i] for i in range(args.batch_size)])
    model.train()
    ember.manual_seed(args.seed)
    logits = model(x)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    names = {id(p): n for n, p in model.named_parameters()}
    variables = {"x": x, "y": y, "logits": logits, "loss": loss}
    dot = _render_dot(loss, model, names, variables)
    svg = _builtin_svg(loss, model, variables) if shutil.which("dot") is None else None
    order = _backward_order(loss, model)
    with _atomic(dot_path, "w") as f:
        f.write(dot)
    written = [dot_path]
    exe = shutil.which("dot")
    if not want_picture:
        pass
    elif exe is not None:
        try:
            res = subprocess.run([exe, f"-T{os.path.splitext(picture)[1][1:]}", dot_path],
                                 capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise CLIError(f"Graphviz `dot` failed: {e}", code=1) from None
        if res.returncode != 0:
            raise CLIError(f"Graphviz `dot` failed: "
                           f"{res.stderr.decode(errors='replace').strip()}", code=1)
        with _atomic(picture, "wb") as f:
            f.write(res.stdout)
        written.append(picture)
    elif svg is not None and picture.lower().endswith(".svg"):
        with _atomic(picture, "w") as f:
            f.write(svg)
        written.append(picture + " (drawn by ember: Graphviz is not installed)")
    elif ext == ".png":
        _err(f"ember: note: Graphviz's `dot` is not installed, so only {dot_path} was written "
             f"(render it with `dot -Tpng {dot_path} -o {out}` where Graphviz is installed)")
    _print(f"one training step of {what} on {args.batch_size} windows of {source}: "
           f"loss {loss.item():.4f}")
    _print(f"graph: {len(order)} nodes, written to {', '.join(written)}")
    _print("backward visits the nodes in this order (reverse topological; a node runs once "
           "all the gradient flowing into it has arrived):")
    width = len(str(len(order)))
    for k, label in enumerate(order, 1):
        _print(f"  {k:>{width}}. {label}")
    return 0


def _builtin_svg(loss, model, variables) -> str | None:
    """ember's own SVG drawing (no Graphviz needed), when ember.autograd.graph has one."""
    to_svg = getattr(_graph_module(), "to_svg", None)
    if to_svg is None:
        return None
    try:
        text = to_svg(loss, module=model, names=variables, engine="builtin")
    except Exception:  # optional picture
        return None
    return text if isinstance(text, str) and "<svg" in text else None


def _graph_nodes(loss):
    """Every node reachable from ``loss.grad_fn``, in discovery order (iterative walk)."""
    root = loss.grad_fn
    seen, order, stack = {id(root)}, [root], [root]
    while stack:
        node = stack.pop()
        for child, _ in getattr(node, "next_functions", ()):
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                order.append(child)
                stack.append(child)
    return order


def _node_label(node, names) -> str:
    var = getattr(node, "variable", None)
    if var is not None:
        name = names.get(id(var), "leaf")
        return f"AccumulateGrad: {name} {tuple(var.shape)}"
    return node.name() if hasattr(node, "name") else type(node).__name__


def _graph_module():
    try:
        from ember.autograd import graph
    except ImportError:
        return None
    return graph


def _render_dot(loss, model, names: dict, variables: dict) -> str:
    """DOT of the graph behind ``loss``: ember.autograd.graph's when it is there, else ours."""
    graph = _graph_module()
    render = getattr(graph, "render", None)
    if render is not None:
        try:
            text = render(loss, format="dot", module=model, names=variables)
        except Exception:  # an optional view: fall back to the plain drawing below
            text = None
        if isinstance(text, str) and "digraph" in text:
            return text
    lines = ["digraph autograd {", '  rankdir="BT";',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, '
             'fillcolor="#f2f2f2"];',
             f'  loss [label="loss {tuple(loss.shape)}", fillcolor="#b6e3a8"];']
    nodes = _graph_nodes(loss)
    ids = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    for node in nodes:
        label = _node_label(node, names).replace('"', r"\"")
        color = ', fillcolor="#a8c8e8"' if getattr(node, "variable", None) is not None else ""
        lines.append(f'  {ids[id(node)]} [label="{label}"{color}];')
    lines.append(f"  {ids[id(loss.grad_fn)]} -> loss;")
    for node in nodes:
        for child, _ in getattr(node, "next_functions", ()):
            if child is not None:
                lines.append(f"  {ids[id(child)]} -> {ids[id(node)]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _backward_order(loss, model) -> list[str]:
    """Run ``loss.backward()`` and record the order in which its nodes run (hooks only)."""
    names = {id(p): n for n, p in model.named_parameters()}
    order: list[str] = []
    handles = []
    for node in _graph_nodes(loss):
        if getattr(node, "variable", None) is not None:
            var = node.variable
            label = _node_label(node, names)
            handles.append(var.register_hook(lambda g, label=label: order.append(label)))
        else:
            label = _node_label(node, names)
            handles.append(node.register_prehook(lambda g, label=label: order.append(label)))
    try:
        loss.backward()
    finally:
        for h in handles:
            h.remove()
    return order
