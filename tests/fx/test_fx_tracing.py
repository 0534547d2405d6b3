"""ember.fx tracing without torch: what gets recorded, what raises, what is restored, and
that traced modules compute (and differentiate) like the originals."""
from __future__ import annotations

import math
import operator

import numpy as np
import pytest

import ember
import ember.fx as fx
import ember.nn as nn
import ember.nn.functional as F
from ember import tanh  # a from-import: the tracer must catch this global too
from ember.autograd import gradcheck
from ember.fx.proxy import TraceError
from tests.helpers import assert_close


def clamp_to_unit(x):
    """A leaf: recorded as one call, never traced through (it has control flow)."""
    return x if float(x.abs().max()) <= 1 else x / x.abs().max()


fx.wrap("clamp_to_unit")


def _x(*shape, seed=0, dtype=np.float32):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def _calls(gm):
    return [(n.op, n.name, n.target) for n in gm.graph.nodes]


def _snapshot():
    spaces = [ember, F, ember.special, ember.linalg]
    return ([dict(vars(ns)) for ns in spaces], dict(vars(ember.Tensor)),
            dict(vars(nn.Module)))


def _assert_restored(before):
    after = _snapshot()
    for b, a in zip(before[0] + list(before[1:]), after[0] + list(after[1:])):
        changed = [k for k in b.keys() | a.keys() if b.get(k) is not a.get(k)]
        assert changed == [], f"not restored: {changed[:5]}"


# --- what is recorded -----------------------------------------------------------------
def test_ember_functions_record_call_function_with_the_original_target():
    def f(x, y):
        h = F.relu(ember.cat([x, y], dim=1))
        return ember.flatten(ember.relu(h), 1), tanh(h), ember.linalg.norm(h, dim=-1)

    gm = fx.symbolic_trace(f)
    calls = [(n.name, n.target, n.args, n.kwargs) for n in gm.graph.nodes
             if n.op == "call_function"]
    x, y = gm.graph.nodes.__iter__().__next__(), list(gm.graph.nodes)[1]
    assert calls[0] == ("cat", ember.cat, ([x, y],), {"dim": 1})
    assert [c[:2] for c in calls[1:]] == [("relu", F.relu), ("relu_1", ember.relu),
                                           ("flatten", ember.flatten), ("tanh", ember.tanh),
                                           ("norm", ember.linalg.norm)]
    assert calls[1][1] is not ember.relu  # F.relu and ember.relu stay distinct
    assert ("relu = ember.nn.functional.relu(cat);  cat = None" in gm.code
            and "relu_1 = ember.relu(relu)" in gm.code
            and "norm = ember.linalg.norm(relu, dim = -1)" in gm.code)
    a, b = _x(2, 3), _x(2, 2, seed=1)
    h = ember.relu(ember.cat([a, b], dim=1))
    for got, want in zip(gm(a, b), (h, ember.tanh(h), ember.linalg.norm(h, dim=-1))):
        assert_close(got, want)


def test_operators_methods_and_attributes():
    def f(x):
        return (-x, abs(x), 2 - x, x ** 2, x @ x.t(), x[:, 1:], x.view(-1), x.sum(dim=1),
                x.shape, x.size(0), x < 0, ~(x > 0))

    gm = fx.symbolic_trace(f)
    kinds = [(op, str(target) if op == "call_method" else getattr(target, "__name__", target))
             for op, _, target in _calls(gm)[1:-1]]
    assert kinds == [("call_function", "neg"), ("call_function", "abs"),
                     ("call_function", "sub"), ("call_function", "pow"),
                     ("call_method", "t"), ("call_function", "matmul"),
                     ("call_function", "getitem"), ("call_method", "view"),
                     ("call_method", "sum"), ("call_method", "size"), ("call_function", "lt"),
                     ("call_function", "gt"), ("call_function", "invert"),
                     # an attribute becomes a node only once used: here, by the output
                     ("call_function", "getattr")]
    sub = next(n for n in gm.graph.nodes if n.target is operator.sub)
    assert sub.args[0] == 2  # reflected: 2 - x keeps its operand order
    assert "getitem = x[(slice(None, None, None), slice(1, None, None))]" in gm.code
    x = _x(3, 3)
    got = gm(x)
    assert got[8] == x.shape and got[9] == 3
    assert_close(got[2], 2 - x)
    assert_close(got[4], x @ x.t())


def test_tensor_operand_on_the_left_records_its_method():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", ember.full((3,), 2.0))

        def forward(self, x):
            return self.scale * x, self.scale.add(x), ember.add(self.scale, x)

    gm = fx.symbolic_trace(Scaled())
    assert [(op, name, getattr(t, "__name__", t)) for op, name, t in _calls(gm)] == [
        ("placeholder", "x", "x"), ("get_attr", "scale", "scale"),
        ("call_method", "mul", "mul"), ("get_attr", "scale_1", "scale"),
        ("call_method", "add", "add"), ("get_attr", "scale_2", "scale"),
        ("call_function", "add_1", "add"), ("output", "output", "output")]
    x = _x(3)
    times, plus, plus_fn = gm(x)
    assert_close(times, 2 * x)
    assert_close(plus, 2 + x)
    assert_close(plus_fn, 2 + x)


def test_parameters_are_fetched_once_and_constants_are_stored():
    free = ember.arange(3.0)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)
            self.offset = ember.ones(3)  # a plain tensor attribute, not a buffer

        def forward(self, x):
            w = self.lin.weight
            return x @ w.t() + self.lin.weight.sum() + self.offset + free

    gm = fx.symbolic_trace(M())
    attrs = [(n.name, n.target) for n in gm.graph.nodes if n.op == "get_attr"]
    assert attrs == [("lin_weight", "lin.weight"), ("offset", "offset"),
                     ("_tensor_constant0", "_tensor_constant0")]
    assert gm._tensor_constant0 is free and "_tensor_constant0" in gm.state_dict()
    m = M()
    x = _x(2, 3)
    gm = fx.symbolic_trace(m)
    assert_close(gm(x), m(x))


def test_param_shapes_constant_answers_shape_queries():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 5)

        def forward(self, x):
            return x.new_zeros(self.lin.weight.shape[0]) + self.lin.weight.size(1)

    graph = fx.Tracer(param_shapes_constant=True).trace(M())
    calls = [n for n in graph.nodes if n.op not in ("placeholder", "output")]
    assert [(n.op, n.target, n.args[1:]) for n in calls] == [
        ("get_attr", "lin.weight", ()), ("call_method", "new_zeros", (5,)),
        ("call_function", operator.add, (3,))]
    default = fx.Tracer().trace(M())
    assert any(n.target is getattr for n in default.nodes)  # shape recorded by default


def test_leaf_modules_and_custom_tracer():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return ember.relu(self.lin(x))

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.seq = nn.Sequential(nn.Linear(3, 3), nn.Tanh())

        def forward(self, x):
            return self.seq(self.block(x))

    gm = fx.symbolic_trace(Outer())
    assert [n.target for n in gm.graph.nodes if n.op == "call_module"] == [
        "block.lin", "seq.0", "seq.1"]
    relu = next(n for n in gm.graph.nodes if n.target is ember.relu)
    assert list(relu.meta["nn_module_stack"]) == ["block"]

    class BlockLeaves(fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return isinstance(m, Block) or super().is_leaf_module(m, qualname)

    graph = BlockLeaves().trace(Outer())
    assert [n.target for n in graph.nodes if n.op == "call_module"] == ["block", "seq.0", "seq.1"]


def test_wrapped_and_autowrapped_functions_stay_calls():
    def f(x):
        return clamp_to_unit(x) * math.sqrt(x.size(0))

    gm = fx.symbolic_trace(f)
    wrapped = [n for n in gm.graph.nodes if n.op == "call_function" and n.meta.get("is_wrapped")]
    assert [n.target for n in wrapped] == [clamp_to_unit, math.sqrt]
    assert gm.code.lstrip().startswith("ember.fx._symbolic_trace.wrap(")
    assert 'wrap("math_sqrt")' in gm.code
    x = _x(4) * 10
    assert_close(gm(x), x / x.abs().max() * 2)
    with pytest.raises(NotImplementedError, match="wrap must be called at the top level"):
        fx.wrap("clamp_to_unit")


def test_varargs_kwargs_and_defaults_become_placeholders():
    def f(x, *args, scale=2, **kw):
        return x * scale + args[0] + kw["z"]

    gm = fx.symbolic_trace(f)
    assert [n.target for n in gm.graph.nodes if n.op == "placeholder"] == [
        "x", "scale", "*args", "**kw"]
    assert "def forward(self, x, scale = 2, *args, **kw):" in gm.code
    one = ember.ones(2)
    # as in torch, keyword-only ``scale`` now comes before ``*args``
    assert_close(gm(one, 2, one, z=one), one * 4)
    assert_close(gm(one, 3, one, z=one), one * 5)


# --- what raises, and what is restored ----------------------------------------------
def test_control_flow_on_a_proxy_raises_trace_error():
    def branch(x):
        if x.sum() > 0:
            return x
        return -x

    def loop(x):
        return [v for v in x]

    with pytest.raises(TraceError, match="symbolically traced variables cannot be used as "
                                         "inputs to control flow"):
        fx.symbolic_trace(branch)
    with pytest.raises(TraceError, match="Proxy object cannot be iterated"):
        fx.symbolic_trace(loop)
    with pytest.raises(RuntimeError, match="'len' is not supported in symbolic tracing"):
        fx.symbolic_trace(lambda x: len(x))
    assert issubclass(TraceError, ValueError)

    def unpack(x):
        a, b = x
        return a - b

    gm = fx.symbolic_trace(unpack)
    assert [n.args[1] for n in gm.graph.nodes if n.target is operator.getitem] == [0, 1]


def test_patches_are_restored_after_a_failing_and_a_passing_trace():
    before = _snapshot()
    orig_relu, orig_add = ember.relu, ember.Tensor.__add__

    def boom(x):
        assert ember.relu is not orig_relu  # patched while tracing
        assert fx._symbolic_trace.is_fx_tracing()
        assert isinstance(ember.relu(x) + ember.ones(1), fx.Proxy)
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        fx.symbolic_trace(boom)
    _assert_restored(before)
    assert ember.relu is orig_relu and ember.Tensor.__add__ is orig_add
    assert not fx._symbolic_trace.is_fx_tracing()
    with pytest.raises(TraceError):
        fx.symbolic_trace(lambda x: x if x else x)
    fx.symbolic_trace(lambda x: tanh(F.relu(x)))
    _assert_restored(before)
    assert tanh is ember.tanh  # this module's from-import was swapped back too


def test_concrete_args_specialize_and_guard():
    def f(x, flag, n=None):
        if flag:
            x = x * 2
        return x if n is None else x + n

    gm = fx.symbolic_trace(f, concrete_args={"flag": True, "n": None})
    assert [n.name for n in gm.graph.nodes if n.op == "placeholder"] == ["x", "flag_1", "n_1"]
    assert "def forward(self, x, flag_1, n_1 = None):" in gm.code
    x = _x(3)
    assert_close(gm(x, True), x * 2)
    with pytest.raises(AssertionError, match="flag has been specialized to have value True but "
                                             "got another value"):
        gm(x, False)
    with pytest.raises(AssertionError, match="n has been specialized to have value None"):
        gm(x, True, x)
    gm.graph.eliminate_dead_code()
    assert any(n.name == "_assert" for n in gm.graph.nodes)  # the guard is side-effectful
    kept = fx.symbolic_trace(f, concrete_args={"flag": False, "n": fx.PH})
    assert_close(kept(x, False, x), x + x)


def test_recorded_stack_traces_show_in_print_readable():
    def f(x):
        return ember.sigmoid(x) * 2

    tracer = fx.Tracer()
    tracer.record_stack_traces = True
    graph = tracer.trace(f)
    sigmoid = next(n for n in graph.nodes if n.op == "call_function")
    assert __file__ in sigmoid.stack_trace and "ember/fx" not in sigmoid.stack_trace
    text = fx.GraphModule(tracer.root, graph).print_readable(print_output=False)
    assert f"# File: {__file__}:" in text and "in f, code: return ember.sigmoid(x) * 2" in text
    assert "No stacktrace" not in text


def test_proxy_around_a_bare_node_appends_to_its_graph():
    g = fx.Graph()
    x = fx.Proxy(g.placeholder("x"))
    y = (x * 2 + 1).relu()
    g.output(y.node)
    assert [n.name for n in g.nodes] == ["x", "mul", "add", "relu", "output"]
    t = _x(4)
    assert_close(fx.GraphModule(nn.Module(), g)(t), ember.relu(t * 2 + 1))


# --- traced modules compute like the originals ----------------------------------------
class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Linear(5, 8)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 3)
        self.register_buffer("bias", ember.linspace(-1.0, 1.0, 3))

    def forward(self, x):
        h = self.norm(self.emb(x))
        h = h + F.gelu(h) * ember.sigmoid(h)
        return ember.log_softmax(self.head(h) + self.bias, dim=-1)


def test_gradients_through_traced_module_equal_the_originals():
    m = _Model()
    gm = fx.symbolic_trace(m)
    x1 = ember.tensor(_x(4, 5).numpy(), requires_grad=True)
    x2 = ember.tensor(_x(4, 5).numpy(), requires_grad=True)
    w = _x(4, 3, seed=2)
    (m(x1) * w).sum().backward()
    grads = {k: p.grad.numpy().copy() for k, p in m.named_parameters()}
    m.zero_grad()
    (gm(x2) * w).sum().backward()
    assert_close(x2.grad, x1.grad)
    for k, p in gm.named_parameters():
        assert_close(p.grad, grads[k], msg=k)
    assert sorted(grads) == sorted(k for k, _ in gm.named_parameters())


def test_retracing_a_graph_module_reproduces_it():
    gm = fx.symbolic_trace(_Model())
    again = fx.symbolic_trace(gm)
    assert again.code == gm.code and type(again).__name__ == "_Model"
    x = _x(2, 5)
    assert_close(again(x), gm(x))


def test_traced_module_passes_gradcheck():
    gm = fx.symbolic_trace(_Model()).double()
    x = ember.tensor(np.random.default_rng(3).standard_normal((2, 5)), requires_grad=True)
    assert gradcheck(gm, (x,))
