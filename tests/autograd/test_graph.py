"""ember.autograd.graph: walk order, the four views, stats, to_svg/to_png, the two warnings."""
import gc
import os
import stat
import sys
import warnings

import numpy as np
import pytest

import ember
from ember.autograd import graph
from ember.autograd.function import AccumulateGrad


def _small():
    x = ember.randn(4, 3, requires_grad=True)
    w = ember.randn(3, 2, requires_grad=True)
    y = (x @ w).tanh()
    loss = (y * y).sum() + y.mean()
    return x, w, y, loss


class _Module:
    """Duck-typed module: all render needs is named_parameters()."""

    def __init__(self, **params):
        self._params = params

    def named_parameters(self):
        return iter(self._params.items())


def _chain(n):
    x = ember.ones(3, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    return x, y.sum()


def test_walk_matches_the_order_backward_runs():
    x, w, y, loss = _small()
    order = graph.walk(loss)
    seen = []
    for node in order:
        if type(node) is not AccumulateGrad:
            node.register_prehook(lambda grads, node=node: seen.append(node))
    loss.backward()
    assert [n for n in order if type(n) is not AccumulateGrad] == seen
    assert order[0] is loss.grad_fn
    assert {id(n.variable) for n in order if type(n) is AccumulateGrad} == {id(x), id(w)}


def test_walk_puts_every_node_after_the_nodes_that_feed_it():
    _, _, _, loss = _small()
    order = graph.walk(loss)
    pos = {n: i for i, n in enumerate(order)}
    for n in order:
        for child, _ in n.next_functions:
            if child is not None:
                assert pos[child] > pos[n]


def test_walk_of_tensor_without_graph_is_empty():
    with ember.no_grad():
        y = ember.randn(3, requires_grad=True) * 2
    assert graph.walk(y) == []
    assert graph.stats(y) == graph.GraphStats()


def test_text_view_lists_nodes_sites_saved_tensors_and_names():
    x, w, y, loss = _small()
    text = graph.render(loss)
    assert "#1 AddBackward0 (loss)" in text
    assert "TanhBackward0 (y)" in text
    assert "AccumulateGrad (x)  [4, 3] float32" in text
    assert "saved [4, 3] float32 v0 (leaf x)" in text
    assert "saved [4, 2] float32 v0 (its output 0)" in text
    assert "test_graph.py:" in text
    assert "next_functions:" in text


def test_text_view_flags_a_saved_tensor_modified_in_place():
    x = ember.randn(3, requires_grad=True)
    y = x * 2
    z = y * y
    with ember.no_grad():
        y.add_(1)
    text = graph.render(z)
    assert "v0 (now v1: modified in place!)" in text


def test_parameter_names_come_from_the_module():
    w = ember.randn(3, 2, requires_grad=True)
    b = ember.zeros(2, requires_grad=True)
    out = (ember.randn(5, 3) @ w + b).sum()
    text = graph.render(out, module=_Module(**{"fc.weight": w, "fc.bias": b}))
    assert "AccumulateGrad (fc.weight)" in text
    assert "AccumulateGrad (fc.bias)" in text
    with pytest.raises(TypeError, match="named_parameters"):
        graph.render(out, module=object())


def test_mermaid_view_has_every_node_and_edge():
    _, _, _, loss = _small()
    text = graph.render(loss, format="mermaid")
    assert text.startswith("flowchart TD")
    n = len(graph.walk(loss))
    for i in range(1, n + 1):
        assert f"  n{i}" in text
    assert text.count("-->") == sum(
        1 for node in graph.walk(loss) for c, _ in node.next_functions if c is not None)
    assert ":::leaf" in text and ":::root" in text


def test_dot_view_is_well_formed():
    _, _, _, loss = _small()
    text = graph.render(loss, format="dot")
    assert text.startswith("digraph ember_graph {") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    assert 'label="AddBackward0\\nloss [] float32' in text
    assert "shape=note" in text  # saved tensors


def test_html_view_is_standalone():
    _, _, _, loss = _small()
    page = graph.render(loss, format="html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and "</svg>" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "AccumulateGrad" in page


def test_unknown_format_raises():
    _, _, _, loss = _small()
    with pytest.raises(ValueError, match="unknown format"):
        graph.render(loss, format="png")


def test_freed_nodes_show_as_freed():
    _, _, _, loss = _small()
    loss.backward()
    assert "released by an earlier backward (saved tensors freed)" in graph.render(loss)
    st = graph.stats(loss)
    assert (st.freed_nodes, st.saved_tensors, st.saved_bytes) == (6, 0, 0)


def test_stats_counts_nodes_and_distinct_saved_bytes():
    x, w, y, loss = _small()
    st = graph.stats(loss)
    assert (st.nodes, st.ops, st.leaves) == (8, 6, 2)
    # x (4x3), w (3x2), y (4x2, saved by tanh and twice by mul): float32
    assert st.saved_tensors == 3
    assert st.saved_bytes == (12 + 6 + 8) * 4
    assert str(st) == "8 nodes (6 ops, 2 leaves), 3 saved tensors, 104 B"


def test_no_grad_saves_the_graph_memory():
    w = ember.randn(256, 256, requires_grad=True)
    x = ember.randn(64, 256)
    with_graph = graph.stats((x @ w).relu().sum())
    with ember.no_grad():
        without = graph.stats((x @ w).relu().sum())
    assert with_graph.saved_bytes > 64 * 256 * 4
    assert without.saved_bytes == 0 and without.nodes == 0


def test_ten_thousand_node_graph_renders_without_recursion():
    x, loss = _chain(10_000)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # any recursion over the graph would fail
    try:
        for fmt in ("text", "dot", "html"):  # mermaid walks the graph as dot does
            out = graph.render(loss, format=fmt)
            assert "AccumulateGrad" in out
        st = graph.stats(loss)
        order = graph.walk(loss)
    finally:
        sys.setrecursionlimit(limit)
    assert st.nodes == 10_002 and len(order) == 10_002


def test_to_svg_builtin_needs_nothing_installed(tmp_path):
    _, _, _, loss = _small()
    svg = graph.to_svg(loss, engine="builtin")
    assert svg.startswith("<svg") and svg.count("<rect") == 8
    path = graph.to_svg(loss, tmp_path / "g.svg", engine="builtin")
    assert os.path.getsize(path) > 0


def _fake_dot(tmp_path, monkeypatch):
    script = tmp_path / "dot"
    script.write_text("#!/bin/sh\ncat > \"$(dirname \"$0\")/got.dot\"\necho \"OUT $1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    return tmp_path / "got.dot"


@pytest.mark.skipif(sys.platform == "win32", reason="shell script stands in for dot")
def test_to_png_and_to_svg_pipe_dot_source_through_graphviz(tmp_path, monkeypatch):
    got = _fake_dot(tmp_path, monkeypatch)
    _, _, _, loss = _small()
    assert graph.to_png(loss) == b"OUT -Tpng\n"
    assert got.read_text().startswith("digraph ember_graph {")
    assert graph.to_svg(loss) == "OUT -Tsvg\n"


def test_to_png_without_dot_says_what_to_install(monkeypatch):
    monkeypatch.setattr(graph, "_dot_binary", lambda: None)
    _, _, _, loss = _small()
    with pytest.raises(RuntimeError, match="Graphviz's `dot` program was not found"):
        graph.to_png(loss)
    assert graph.to_svg(loss).startswith("<svg")  # auto falls back to the builtin layout


def test_retained_graph_warning_names_the_line_that_holds_it():
    w = ember.randn(3, requires_grad=True)
    graph.warn_on_retained_graphs(True)
    try:
        total_loss = ember.zeros(())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                loss = (w * ember.randn(3)).sum()
                loss.backward()
                total_loss += loss  # the mistake: keeps every step's graph alive
                line = sys._getframe().f_lineno - 1
                graph._after_optimizer_step()
        found = [c for c in caught if issubclass(c.category, graph.RetainedGraphWarning)]
        assert len(found) == 1  # once per line
        assert found[0].lineno == line and found[0].filename == __file__
        assert "total_loss += loss.item()" in str(found[0].message)
    finally:
        graph.warn_on_retained_graphs(False)


def test_no_retained_graph_warning_for_a_correct_loop():
    w = ember.randn(3, requires_grad=True)
    graph.warn_on_retained_graphs(True)
    try:
        total_loss = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("error", graph.RetainedGraphWarning)
            for _ in range(3):
                loss = (w * ember.randn(3)).sum()
                loss.backward()
                total_loss += loss.item()
                assert graph.check_retained_graphs() == []
    finally:
        graph.warn_on_retained_graphs(False)


def test_retained_check_is_off_by_default():
    assert graph._retained.enabled is False
    graph._after_optimizer_step()  # no scan, no error


def test_optimizer_step_runs_the_retained_graph_check():
    """warn_on_retained_graphs(True) installs a global optimizer post-step hook."""
    optim = pytest.importorskip("ember.optim")
    w = ember.nn.Parameter(ember.randn(3))
    opt = optim.SGD([w], lr=0.1)
    unrelated = (ember.randn(2, requires_grad=True) * 3).sum()  # alive, but not w's graph
    graph.warn_on_retained_graphs(True)
    try:
        total = ember.zeros(())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                opt.zero_grad()
                loss = (w * 2).sum()
                loss.backward()
                opt.step()
                total += loss
                line = sys._getframe().f_lineno - 1
    finally:
        graph.warn_on_retained_graphs(False)
    found = [c for c in caught if issubclass(c.category, graph.RetainedGraphWarning)]
    assert len(found) == 1 and found[0].lineno == line
    del total, unrelated
    gc.collect()


def test_float64_check_warns_once_per_line():
    graph.warn_on_float64(True)
    try:
        x = ember.ones(3)
        y = ember.tensor(np.ones(3))  # float64
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(2):
                graph._float64_check(x, y)
                line = sys._getframe().f_lineno - 1
        assert len(caught) == 1 and caught[0].category is graph.Float64Warning
        assert caught[0].lineno == line
        assert "float32 [3] and float64 [3]" in str(caught[0].message)
    finally:
        graph.warn_on_float64(False)


def test_float64_check_ignores_float64_only_and_is_off_by_default():
    x = ember.ones(3, dtype=ember.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph._float64_check(x, x)
        graph._float64_check(ember.ones(3), x)  # off by default


def test_float64_warning_from_the_ops_when_the_hook_is_installed():
    from ember.ops import _shape_utils

    if not hasattr(_shape_utils, "float64_hook"):
        pytest.skip("ember/ops/_shape_utils.py has no float64_hook yet")
    graph.warn_on_float64(True)
    try:
        with pytest.warns(graph.Float64Warning, match="float64 value entered a float32"):
            ember.ones(3) * ember.tensor(np.ones(3))
    finally:
        graph.warn_on_float64(False)
