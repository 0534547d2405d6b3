"""ember.fx against torch.fx: the same models traced by both give the same nodes (op, name,
target's name, argument structure), the same generated code once ``torch.`` reads
``ember.``, and GraphModules that compute the same outputs and gradients.

One documented difference is normalized: ember has no top-level ``_assert``, so the guard
of a ``concrete_args`` value is ``ember.fx._symbolic_trace._assert`` where torch records
``torch._assert``.
"""
from __future__ import annotations

import re
import sys
import types

import numpy as np
import pytest

import ember
import ember.fx
from tests.helpers import assert_close


def _build(T):
    """Model factories written once for either framework ``T`` (torch or ember)."""
    nn, F = T.nn, T.nn.functional

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 4)
            self.out = nn.Linear(4, 2)

        def forward(self, x):
            relu = T.relu(self.linear(x))
            return self.out(x + relu)

    class Funcs(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(4, 6)

        def forward(self, x):
            h = F.relu(self.proj(x), inplace=False)
            both = T.cat([h, x * 2], dim=1)
            return T.flatten(both.unsqueeze(1), 1), T.tanh(both).sum(dim=-1)

    class Methods(nn.Module):
        def forward(self, x):
            y = x.view(x.shape[0], -1)
            z = (-y) ** 2 + (2 - y) / 2
            return z.sum(dim=1), z.transpose(0, 1)[:, :2], y.mean(-1, keepdim=True) * y.size(1)

    class Inner(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", T.linspace(-0.5, 0.5, 4))
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            return self.lin((x - self.mean) * 2) + self.mean

    class Nested(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Inner()
            self.head = nn.Linear(4, 1)

        def forward(self, x):
            return self.head(self.inner(x) + self.inner(x).sigmoid()).squeeze(-1)

    class Flagged(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 3)

        def forward(self, x, flag=True, extra=None):
            y = self.lin(x)
            if flag:
                y = T.relu(y)
            return y if extra is None else y + extra

    class Buffered(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", T.tensor([0.5, 2.0, -1.0, 3.0]))
            self.gain = nn.Parameter(T.tensor([1.5, -0.5, 0.25, 2.0]))
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            shifted = self.scale * x + self.scale.add(x)
            return self.lin(shifted) * self.gain + self.lin.weight.sum()

    def pair(x, y):
        return T.cat([x, y], dim=0).relu() * 2

    return {
        "mlp": (lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)),
                [(5, 4)], None),
        "residual": (Residual, [(5, 4)], None),
        "funcs": (Funcs, [(3, 4)], None),
        "methods": (Methods, [(3, 2, 3)], None),
        "nested": (Nested, [(6, 4)], None),
        "concrete": (Flagged, [(2, 4)], {"flag": True, "extra": None}),
        "buffer": (Buffered, [(3, 4)], None),
        "function": (lambda: pair, [(2, 3), (1, 3)], None),
    }


CASES = list(_build(ember))


def _twins(torch, name):
    make_t, shapes, concrete = _build(torch)[name]
    make_e = _build(ember)[name][0]
    torch.manual_seed(0)
    mt, me = make_t(), make_e()
    if isinstance(mt, torch.nn.Module):
        me.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                            for k, v in mt.state_dict().items()})
    return mt, me, shapes, concrete


def _norm(a):
    """A framework-neutral form of a node argument: nodes by name, containers tagged."""
    if hasattr(a, "op") and hasattr(a, "graph") and hasattr(a, "users"):
        return ("%", a.name)
    if isinstance(a, (list, tuple)):
        return (type(a).__name__ if type(a) in (list, tuple) else "list" if isinstance(a, list)
                else "tuple", tuple(_norm(x) for x in a))
    if isinstance(a, dict):
        return ("dict", tuple((k, _norm(v)) for k, v in a.items()))
    if isinstance(a, slice):
        return ("slice", _norm(a.start), _norm(a.stop), _norm(a.step))
    return repr(a)


def _nodes(gm):
    return [(n.op, n.name, n.target if isinstance(n.target, str) else n.target.__name__,
             _norm(n.args), _norm(n.kwargs)) for n in gm.graph.nodes]


def _as_ember_text(torch_text: str) -> str:
    return torch_text.replace("torch.", "ember.")


def _ember_text(text: str) -> str:
    # ember's concrete_args guard lives in ember.fx (ember has no top-level _assert)
    return re.sub(r"ember\.fx\._symbolic_trace\._assert\b", "ember._assert", text)


@pytest.mark.parametrize("name", CASES)
def test_trace_matches_torch(torch, name):
    mt, me, _, concrete = _twins(torch, name)
    gt = torch.fx.symbolic_trace(mt, concrete_args=concrete)
    ge = ember.fx.symbolic_trace(me, concrete_args=concrete)
    assert _nodes(ge) == _nodes(gt)
    assert _ember_text(ge.code) == _as_ember_text(gt.code)
    assert _ember_text(str(ge.graph)) == _as_ember_text(str(gt.graph))
    assert (_ember_text(ge.print_readable(print_output=False))
            == _as_ember_text(gt.print_readable(print_output=False)))
    assert type(ge).__name__ == type(gt).__name__
    assert list(ge.state_dict()) == list(gt.state_dict())


@pytest.mark.parametrize("name", CASES)
def test_traced_outputs_and_gradients_match_torch(torch, name):
    mt, me, shapes, concrete = _twins(torch, name)
    gt = torch.fx.symbolic_trace(mt, concrete_args=concrete)
    ge = ember.fx.symbolic_trace(me, concrete_args=concrete)
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    xt = [torch.tensor(a, requires_grad=True) for a in arrays]
    xe = [ember.tensor(a, requires_grad=True) for a in arrays]
    out_t, out_e = gt(*xt), ge(*xe)
    out_t = out_t if isinstance(out_t, tuple) else (out_t,)
    out_e = out_e if isinstance(out_e, tuple) else (out_e,)
    assert len(out_e) == len(out_t)
    loss_t = loss_e = 0
    for i, (ot, oe) in enumerate(zip(out_t, out_e)):
        assert_close(oe, ot, rtol=1e-5, atol=1e-5, msg=f"output {i}")
        w = rng.standard_normal(tuple(ot.shape)).astype(np.float32)
        loss_t = loss_t + (ot * torch.tensor(w)).sum()
        loss_e = loss_e + (oe * ember.tensor(w)).sum()
    loss_t.backward()
    loss_e.backward()
    for i, (a, b) in enumerate(zip(xe, xt)):
        assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-5, msg=f"input {i}")
    params_t = dict(gt.named_parameters())
    for k, p in ge.named_parameters():
        assert_close(p.grad, params_t[k].grad, rtol=1e-5, atol=1e-5, msg=k)
    assert sorted(k for k, _ in ge.named_parameters()) == sorted(params_t)


def test_varargs_and_placeholders_match_torch(torch):
    def build(T):
        def f(x, *args, scale=2, **kw):
            return T.relu(x) * scale + args[0] + kw["z"]

        def g(input, b=3):
            return input.sum(-1) * b

        return f, g

    (ft, gt), (fe, ge) = build(torch), build(ember)
    for t, e, concrete in ((ft, fe, None), (gt, ge, None), (gt, ge, {"b": torch.fx.PH})):
        want = torch.fx.symbolic_trace(t, concrete_args=concrete)
        if concrete is not None:
            concrete = {"b": ember.fx.PH}
        got = ember.fx.symbolic_trace(e, concrete_args=concrete)
        assert _nodes(got) == _nodes(want)
        assert got.code == _as_ember_text(want.code)


def test_graph_editing_matches_torch(torch):
    def edit(T, fx):
        gm = fx.symbolic_trace(_build(T)["residual"][0]())
        g = gm.graph
        relu = next(n for n in g.nodes if n.op == "call_function")
        with g.inserting_after(relu):
            neg = g.call_function(T.neg, (relu,))
        with g.inserting_after(neg):
            extra = g.call_method("sum", (neg,), {"dim": -1})  # dead: no users
        relu.replace_all_uses_with(neg, delete_user_cb=lambda u: u is not neg)
        changed = g.eliminate_dead_code()
        gm.recompile()
        return changed, gm.code, str(g), extra.name

    assert edit(ember, ember.fx) == tuple(
        _as_ember_text(v) if isinstance(v, str) else v for v in edit(torch, torch.fx))


def test_erase_and_lint_messages_match_torch(torch):
    def errors(T, fx):
        gm = fx.symbolic_trace(_build(T)["residual"][0]())
        g = gm.graph
        linear = next(n for n in g.nodes if n.op == "call_module")
        relu = linear.next
        msgs = []
        try:
            g.erase_node(linear)
        except RuntimeError as e:
            msgs.append(str(e))
        g.output_node().append(relu)  # relu after the output: its user comes first
        try:
            g.lint()
        except RuntimeError as e:
            msgs.append(str(e))
        return msgs

    got, want = errors(ember, ember.fx), errors(torch, torch.fx)
    assert len(got) == 2 and [_ember_text(m) for m in got] == [_as_ember_text(m) for m in want]


def test_print_tabular_rows_match_torch(torch, monkeypatch, capsys):
    def cell(c):
        return c.__name__ if callable(c) and not isinstance(c, str) else str(c)

    def fake_tabulate(rows, headers):
        return "\n".join(" | ".join(cell(c) for c in row) for row in [headers, *rows])

    monkeypatch.setitem(sys.modules, "tabulate", types.SimpleNamespace(tabulate=fake_tabulate))
    torch.fx.symbolic_trace(_build(torch)["buffer"][0]()).graph.print_tabular()
    want = capsys.readouterr().out
    ember.fx.symbolic_trace(_build(ember)["buffer"][0]()).graph.print_tabular()
    assert capsys.readouterr().out == want
    assert want.startswith("opcode | name | target | args | kwargs\nplaceholder | x | x | () |")
