"""ember.fx without torch: building and editing graphs, generated code, Interpreter and
Transformer, pattern rewriting."""
from __future__ import annotations

import copy
import operator
import sys
import types

import numpy as np
import pytest

import ember
import ember.fx as fx
import ember.nn as nn
import ember.nn.functional as F
from ember.fx.immutable_collections import immutable_list
from tests.helpers import assert_close


class Net(nn.Module):
    """linear -> relu -> (+1) -> relu -> sum: two relus to rewrite, a parameter to fetch."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x):
        h = ember.relu(self.linear(x))
        return ember.relu(h + 1).sum(-1) + self.linear.bias.sum()


def _x(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _small_graph():
    g = fx.Graph()
    x = g.placeholder("x")
    s = g.call_method("sum", (x,), {"dim": 1})
    r = g.call_function(ember.relu, (s,))
    a = g.call_function(operator.add, (r, s))
    g.output(a)
    return g, (x, s, r, a)


# --- graphs and nodes ------------------------------------------------------------------
def test_graph_str_and_node_links():
    g, (x, s, r, a) = _small_graph()
    assert [n.name for n in g.nodes] == ["x", "sum_1", "relu", "add", "output"]
    assert str(g) == (
        "graph():\n"
        "    %x : [num_users=1] = placeholder[target=x]\n"
        "    %sum_1 : [num_users=2] = call_method[target=sum](args = (%x,), kwargs = {dim: 1})\n"
        "    %relu : [num_users=1] = call_function[target=ember.relu](args = (%sum_1,), "
        "kwargs = {})\n"
        "    %add : [num_users=1] = call_function[target=operator.add](args = (%relu, %sum_1), "
        "kwargs = {})\n"
        "    return add")
    assert list(s.users) == [r, a] and a.all_input_nodes == [r, s]
    assert x.next is s and a.prev is r and g.output_node().prev is a
    assert [n.name for n in reversed(g.nodes)] == ["output", "add", "relu", "sum_1", "x"]
    assert len(g.nodes) == 5


def test_names_avoid_builtins_and_clashes():
    g = fx.Graph()
    x = g.placeholder("input")  # a builtin: the node is renamed, the parameter is not
    n1 = g.call_function(operator.add, (x, 1))
    n2 = g.call_function(operator.add, (n1, 1))
    n3 = g.call_method("__mul__", (n2, 2))
    n4 = g.get_attr("linear.weight")
    n5 = g.call_module("layers.0", (n3,))
    g.output((n4, n5))
    assert [n.name for n in g.nodes][:6] == ["input_1", "add", "add_1", "mul", "linear_weight",
                                           "layers_0"]
    assert "def forward(self, input):\n    input_1 = input\n" in g.python_code("self").src
    assert 'getattr(self.layers, "0")(mul)' in g.python_code("self").src


def test_python_code_frees_values_after_last_use_and_runs():
    g, _ = _small_graph()
    src = g.python_code("self").src
    assert src == ("\n\n\ndef forward(self, x):\n"
                   "    sum_1 = x.sum(dim = 1);  x = None\n"
                   "    relu = ember.relu(sum_1)\n"
                   "    add = relu + sum_1;  relu = sum_1 = None\n"
                   "    return add\n    ")
    gm = fx.GraphModule(nn.Module(), g)
    x = _x(2, 3)
    assert_close(gm(x), ember.relu(x.sum(dim=1)) + x.sum(dim=1))


def test_args_are_immutable_and_reassignment_updates_users():
    g, (x, s, r, a) = _small_graph()
    c = g.call_function(ember.cat, ([x, x],), {"dim": 0})
    assert isinstance(c.args[0], immutable_list)
    with pytest.raises(TypeError, match="does not support mutation"):
        c.args[0].append(x)
    with pytest.raises(TypeError, match="does not support mutation"):
        c.kwargs["dim"] = 1
    a.args = (r, r)
    assert a not in s.users and list(r.users) == [a]
    a.update_arg(1, x)
    assert a.args == (r, x) and a in x.users
    a.update_kwarg("alpha", s)
    assert a.kwargs == {"alpha": s} and a in s.users


def test_node_constructor_validates_op_and_target():
    g = fx.Graph()
    with pytest.raises(ValueError, match="target add has type str but a Callable is expected"):
        g.create_node("call_function", "add")
    with pytest.raises(ValueError, match="but a str is expected"):
        g.create_node("call_method", operator.add)
    with pytest.raises(AssertionError, match="op 'weird' is not in _legal_ops"):
        g.create_node("weird", "x")


def test_insert_node_and_replace_uses():
    gm = fx.symbolic_trace(Net())
    g = gm.graph
    first_relu = next(n for n in g.nodes if n.target is ember.relu)
    with g.inserting_after(first_relu):
        neg = g.call_function(ember.neg, (first_relu,))
    # every later use of relu now reads neg -- except neg itself
    changed = first_relu.replace_all_uses_with(neg, delete_user_cb=lambda u: u is not neg)
    assert [u.name for u in changed] == ["add"]
    assert neg.args == (first_relu,) and list(first_relu.users) == [neg]
    g.lint()
    gm.recompile()
    assert "neg = ember.neg(relu);  relu = None" in gm.code
    x = _x(2, 4)
    lin = gm.linear
    want = ember.relu(-ember.relu(lin(x)) + 1).sum(-1) + lin.bias.sum()
    assert_close(gm(x), want)


def test_inserting_before_and_prepend_move_nodes():
    g, (x, s, r, a) = _small_graph()
    with g.inserting_before(r):
        k = g.call_function(operator.mul, (s, 3))
    assert k.next is r and k.prev is s
    with g.inserting_before():  # the very start
        first = g.placeholder("y")
    assert next(iter(g.nodes)) is first
    a.append(k)  # move k after add
    assert [n.name for n in g.nodes] == ["y", "x", "sum_1", "relu", "add", "mul", "output"]
    r.replace_input_with(s, k)  # relu now reads mul, defined after it
    with pytest.raises(RuntimeError, match="Argument 'mul' of Node 'relu' was used before it "
                                           "has been defined"):
        g.lint()


def test_erase_node_refuses_while_used():
    g, (x, s, r, a) = _small_graph()
    with pytest.raises(RuntimeError, match=r"Tried to erase Node sum_1 but it still had 2 "
                                           r"users in the graph: \{relu: None, add: None\}!"):
        g.erase_node(s)
    a.replace_all_uses_with(r)
    g.erase_node(a)
    assert [n.name for n in g.nodes] == ["x", "sum_1", "relu", "output"]
    assert list(s.users) == [r]  # add no longer counts as a user
    with pytest.warns(UserWarning, match="already erased"):
        g.erase_node(a)


def test_eliminate_dead_code_keeps_impure_nodes():
    g = fx.Graph()
    x = g.placeholder("x")
    dead = g.call_function(operator.mul, (x, 2))
    g.call_function(ember.exp, (dead,))  # dead too, and its use of `dead` goes with it
    g.call_function(ember.rand_like, (x,))  # random: changes the RNG state, so it stays
    g.call_function(operator.setitem, (x, 0, 1.0))  # side effect
    g.output(g.call_function(ember.neg, (x,)))
    assert g.eliminate_dead_code() is True
    assert [n.name for n in g.nodes] == ["x", "rand_like", "setitem", "neg", "output"]
    assert g.eliminate_dead_code() is False
    assert g.eliminate_dead_code(is_impure_node=lambda n: n.op in ("placeholder", "output"))
    assert [n.name for n in g.nodes] == ["x", "neg", "output"]


def test_lint_rejects_foreign_nodes_duplicate_names_and_bad_targets():
    g1, (x1, *_) = _small_graph()
    g2 = fx.Graph()
    g2.placeholder("a")
    g2.call_function(ember.neg, (x1,))
    with pytest.raises(RuntimeError, match="Argument 'x' of Node 'neg' does not belong to "
                                           "this Graph"):
        g2.lint()
    g3, (_, s, r, _) = _small_graph()
    r.name = "sum_1"
    with pytest.raises(RuntimeError, match="Node redefined name sum_1!"):
        g3.lint()
    gm = fx.symbolic_trace(Net())
    with gm.graph.inserting_before(gm.graph.output_node()):
        with pytest.warns(UserWarning, match="get_attr Node with no underlying reference"):
            gm.graph.get_attr("linear.nonexistent")
    with pytest.raises(RuntimeError, match="references nonexistent attribute nonexistent of "
                                           "linear"):
        gm.graph.lint()


def test_node_copy_graph_copy_and_deepcopy():
    g, _ = _small_graph()
    g2 = copy.deepcopy(g)
    assert str(g2) == str(g)
    assert all(a is not b and a.graph is g and b.graph is g2 for a, b in zip(g.nodes, g2.nodes))
    g3 = fx.Graph()
    val_map = {}
    out = g3.graph_copy(g, val_map)
    g3.output(out)
    g3.lint()
    assert out is val_map[g.output_node().args[0]]
    x = _x(2, 3)
    assert_close(fx.GraphModule({}, g3)(x), fx.GraphModule({}, g)(x))


def test_print_tabular_needs_tabulate(monkeypatch, capsys):
    g, _ = _small_graph()
    monkeypatch.setitem(sys.modules, "tabulate", None)  # as if not installed
    with pytest.raises(ImportError):
        g.print_tabular()
    assert "`print_tabular` relies on the library `tabulate`" in capsys.readouterr().out
    seen = {}

    def fake_tabulate(rows, headers):
        seen["rows"], seen["headers"] = rows, headers
        return "TABLE"

    monkeypatch.setitem(sys.modules, "tabulate", types.SimpleNamespace(tabulate=fake_tabulate))
    g.print_tabular()
    assert capsys.readouterr().out == "TABLE\n"
    assert seen["headers"] == ["opcode", "name", "target", "args", "kwargs"]
    assert [row[:3] for row in seen["rows"]] == [
        ["placeholder", "x", "x"], ["call_method", "sum_1", "sum"],
        ["call_function", "relu", ember.relu], ["call_function", "add", operator.add],
        ["output", "output", "output"]]


# --- GraphModule ----------------------------------------------------------------------
def test_graph_module_copies_only_what_the_graph_uses():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(3, 3)
            self.unused = nn.Linear(3, 3)
            self.register_buffer("shift", ember.ones(3))

        def forward(self, x):
            return self.used(x) + self.shift

    m = Two()
    gm = fx.symbolic_trace(m)
    assert list(gm.state_dict()) == ["shift", "used.weight", "used.bias"]
    assert gm.used is m.used and not hasattr(gm, "unused")
    assert type(gm).__name__ == "Two" and isinstance(gm, fx.GraphModule)
    assert str(gm).startswith("Two(\n  (used): Linear(") and gm.code in str(gm)
    readable = gm.print_readable(print_output=False)
    assert readable.startswith("class Two(ember.nn.Module):\n    def forward(self, x):\n"
                               "        # No stacktrace found for following nodes\n")


def test_graph_setter_recompiles_and_instances_keep_their_own_forward():
    gm1 = fx.symbolic_trace(lambda x: x + 1)
    gm2 = fx.symbolic_trace(lambda x: x * 3)
    g = fx.Graph()
    x = g.placeholder("x")
    g.output(g.call_function(ember.neg, (x,)))
    gm1.graph = g
    assert g.owning_module is gm1 and "ember.neg(x)" in gm1.code
    t = _x(3)
    assert_close(gm1(t), -t)
    assert_close(gm2(t), t * 3)


def test_graph_module_from_dict_and_submodule_editing():
    g = fx.Graph()
    x = g.placeholder("x")
    w = g.get_attr("block.weight")
    h = g.call_module("block.act", (g.call_function(operator.mul, (x, w)),))
    g.output(h)
    weight = nn.Parameter(_x(3))
    gm = fx.GraphModule({"block.weight": weight, "block.act": nn.Tanh()}, g)
    t = _x(3, seed=1)
    assert_close(gm(t), ember.tanh(t * weight))
    assert gm.add_submodule("extra.deep", nn.ReLU()) and isinstance(gm.extra.deep, nn.ReLU)
    gm.delete_all_unused_submodules()
    assert not hasattr(gm, "extra") and isinstance(gm.block.act, nn.Tanh)
    with pytest.raises(RuntimeError, match="referenced target block.weight but that target was "
                                           "not provided"):
        fx.GraphModule({"block.act": nn.Tanh()}, g)


def test_deepcopy_graph_module_is_independent():
    gm = fx.symbolic_trace(Net())
    gm2 = copy.deepcopy(gm)
    assert gm2.code == gm.code and type(gm2) is not type(gm)
    x = _x(2, 4)
    assert_close(gm2(x), gm(x))
    with ember.no_grad():
        gm2.linear.weight.add_(1.0)
    assert not np.allclose(gm2(x).detach().numpy(), gm(x).detach().numpy())


# --- Interpreter and Transformer ----------------------------------------------------
def test_interpreter_runs_like_the_module_and_can_keep_values():
    m = Net()
    gm = fx.symbolic_trace(m)
    x = _x(5, 4)
    assert_close(fx.Interpreter(gm).run(x), m(x))
    interp = fx.Interpreter(gm, garbage_collect_values=False)
    interp.run(x)
    values = {n.name: v for n, v in interp.env.items()}
    assert_close(values["linear"], m.linear(x))
    assert set(values) == {n.name for n in gm.graph.nodes}
    assert interp.fetch_attr("linear.bias") is m.linear.bias
    with pytest.raises(RuntimeError, match="Node referenced nonexistent target linear.nope"):
        interp.fetch_attr("linear.nope")


def test_interpreter_override_and_error_context():
    class NegToSigmoid(fx.Interpreter):
        def call_function(self, target, args, kwargs):
            if target is ember.relu:
                return ember.sigmoid(*args)
            return super().call_function(target, args, kwargs)

    m = Net()
    x = _x(2, 4)
    got = NegToSigmoid(fx.symbolic_trace(m)).run(x)
    want = ember.sigmoid(ember.sigmoid(m.linear(x)) + 1).sum(-1) + m.linear.bias.sum()
    assert_close(got, want)
    with pytest.raises(RuntimeError, match=r"(?s)mat1 and mat2 .*While executing %linear : "
                                           r"\[num_users=1\] = call_module\[target=linear\]"):
        fx.Interpreter(fx.symbolic_trace(m)).run(_x(2, 5))
    with pytest.raises(RuntimeError, match="Expected positional argument for parameter x"):
        fx.Interpreter(fx.symbolic_trace(m)).run()


def test_transformer_rewrites_relu_to_gelu():
    class ReluToGelu(fx.Transformer):
        def call_function(self, target, args, kwargs):
            if target is ember.relu:
                return F.gelu(*args, **kwargs)
            return super().call_function(target, args, kwargs)

    m = Net()
    gm = fx.symbolic_trace(m)
    new = ReluToGelu(gm).transform()
    assert isinstance(new, fx.GraphModule)
    targets = [n.target for n in new.graph.nodes if n.op == "call_function"]
    assert targets.count(F.gelu) == 2 and ember.relu not in targets
    assert ember.relu in [n.target for n in gm.graph.nodes]  # the original is untouched
    x = _x(3, 4)
    assert_close(new(x), F.gelu(F.gelu(m.linear(x)) + 1).sum(-1) + m.linear.bias.sum())
    assert ember.nn.functional.gelu is F.gelu and not hasattr(F.gelu, "_fx_orig")


def test_replace_pattern_swaps_every_match():
    def pattern(x):
        return ember.relu(x)

    def replacement(x):
        return ember.tanh(x) * 2

    m = Net()
    gm = fx.symbolic_trace(m)
    matches = fx.replace_pattern(gm, pattern, replacement)
    assert len(matches) == 2 and all(mt.anchor.target is ember.relu for mt in matches)
    gm.graph.lint()
    assert "relu" not in gm.code and gm.code.count("ember.tanh(") == 2
    x = _x(3, 4)
    assert_close(gm(x), (ember.tanh(ember.tanh(m.linear(x)) * 2 + 1) * 2).sum(-1)
                 + m.linear.bias.sum())


def test_replace_pattern_needs_contained_multi_node_match():
    def f(x, y):
        s, p = x + y, x * y
        return ember.relu(s).sum(), ember.relu(p) + p

    def pattern(a, b):
        return ember.relu(a + b)

    def replacement(a, b):
        return ember.sigmoid(a - b)

    gm = fx.symbolic_trace(f)
    assert len(fx.replace_pattern(gm, pattern, replacement)) == 1
    x, y = _x(3), _x(3, seed=1)
    s0, s1 = gm(x, y)
    assert_close(s0, ember.sigmoid(x - y).sum())
    assert_close(s1, ember.relu(x * y) + x * y)
    # a product that escapes the pattern (used by the add) is not matched
    assert fx.replace_pattern(gm, lambda a, b: ember.relu(a * b), lambda a, b: a) == []
