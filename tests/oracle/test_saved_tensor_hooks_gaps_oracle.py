"""torch.autograd.graph's extras against torch, where ember used to fall short:
``create_graph=True`` through ops recorded under saved-tensor hooks, ``GradientEdge``s (and
dicts) as ``backward``/``grad`` inputs and outputs, tensor hooks on gradients that
``autograd.grad`` and ``backward(inputs=...)`` capture, and ``register_multi_grad_hook``'s
call pattern (modes "all" and "any", tensors the backward does not reach, nested backwards).

Each scenario runs once with ``T = torch`` and once with ``T = ember`` and returns a log;
the logs must be equal. Errors are logged by type and the first line of the message
(ember's messages add an explanation below torch's line)."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

_RNG = np.random.default_rng(11)
A, B, W = _RNG.standard_normal((2, 3)), _RNG.standard_normal(3), _RNG.standard_normal((3, 4))


def _arr(t):
    return None if t is None else t.detach().numpy().copy()


def _err(e):
    return (type(e).__name__, str(e).splitlines()[0].replace("ember.Size", "torch.Size"))


def _try(log, tag, fn):
    """Run ``fn``; log its (array) result or its error under ``tag``."""
    try:
        res = fn()
    except Exception as e:  # noqa: BLE001  (the error is what is compared)
        log.append((tag, _err(e)))
        return
    if isinstance(res, dict):
        res = {k: _arr(v) for k, v in res.items()}
    elif isinstance(res, tuple):
        res = tuple(_arr(v) for v in res)
    elif res is not None:
        res = type(res).__name__
    log.append((tag, "ok", res))


def _logs_equal(mine, theirs):
    assert len(mine) == len(theirs), (mine, theirs)
    for m, t in zip(mine, theirs):
        assert type(m) is type(t) and len(m) == len(t), (m, t)
        for a, b in zip(m, t):
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                assert_close(a, b, rtol=1e-10, atol=1e-12)
            elif isinstance(a, (tuple, list)) and any(isinstance(x, np.ndarray) for x in a):
                _logs_equal([tuple(a)], [tuple(b)])
            elif isinstance(a, dict):
                assert list(a) == list(b)
                _logs_equal([tuple(a.values())], [tuple(b.values())])
            else:
                assert a == b, (m, t)


def _recorder(log):
    def rec(tag):
        def fn(g):
            if isinstance(g, (list, tuple)):
                log.append((tag, [x is not None for x in g]))
            else:
                log.append((tag, tuple(g.shape)))
        return fn
    return rec


def _abcd(T):
    a = T.tensor(A, requires_grad=True)
    b = T.tensor(B, requires_grad=True)
    return a, b, a * b, a * b


# --- create_graph=True through saved-tensor hooks --------------------------------------------
def _composite(T, a, b, w):
    h = (a * b).exp() / (1.5 + b)
    h = T.tanh(h @ w) + h.sum(1, keepdim=True).sigmoid()
    return (h * h.sin()).sum() + T.log_softmax(h, dim=1).sum()


def _second_order(T, hooks):
    a, b, w = (T.tensor(x, requires_grad=True) for x in (A, B, W))
    with hooks(T):
        y = _composite(T, a, b, w)
    ga, gb = T.autograd.grad(y, [a, b], create_graph=True)
    out = T.autograd.grad((ga ** 2).sum() + (gb * ga.sum(0)).sum(), [a, b, w])
    return [_arr(x) for x in (ga, gb, *out)]


def _clone_hooks(T):
    return T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t)


def _numpy_hooks(T):
    return T.autograd.graph.saved_tensors_hooks(lambda t: t.detach().numpy().copy(),
                                                lambda a: T.from_numpy(a))


@pytest.mark.parametrize("hooks", [_clone_hooks, _numpy_hooks,
                                   lambda T: T.autograd.graph.save_on_cpu()])
def test_second_derivatives_through_hooked_ops_match_torch(torch, hooks):
    mine, theirs = _second_order(ember, hooks), _second_order(torch, hooks)
    for m, t in zip(mine, theirs):
        assert_close(m, t, rtol=1e-9, atol=1e-11)


def _backward_create_graph(T):
    a, b = T.tensor(A, requires_grad=True), T.tensor(B, requires_grad=True)
    x0 = T.tensor(0.7, dtype=T.float64, requires_grad=True)  # 0-d: NumPy scalars inside
    with T.autograd.graph.save_on_cpu():
        y = ((a * b).exp() * a).sum() + ((x0.exp() * x0).sin() * b).sum()
    y.backward(create_graph=True)
    ga, gb, g0 = a.grad, b.grad, x0.grad
    a.grad = b.grad = x0.grad = None
    (ga.sum() * gb.sum() + g0 * g0).backward()
    return [_arr(t) for t in (ga, gb, g0, a.grad, b.grad, x0.grad)]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_under_save_on_cpu_matches_torch(torch):
    for m, t in zip(_backward_create_graph(ember), _backward_create_graph(torch)):
        assert_close(m, t, rtol=1e-9, atol=1e-11)


def _unpack_counts(T, f, shapes):
    calls = {"pack": 0, "unpack": 0}

    def pack(t):
        calls["pack"] += 1
        return t.clone()

    def unpack(t):
        calls["unpack"] += 1
        return t

    xs = [T.tensor(_RNG.standard_normal(s), requires_grad=True) for s in shapes]
    with T.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = f(T, *xs)
    counts = [dict(calls)]
    gs = T.autograd.grad(y, xs, create_graph=True)
    counts.append(dict(calls))
    T.autograd.grad(sum(g.sum() for g in gs), xs)
    counts.append(dict(calls))
    return counts


@pytest.mark.parametrize("f, shapes", [
    (lambda T, a, b: (a * b).exp().sum(), [(2, 3), (3,)]),
    (lambda T, a, b: (a / b).tanh().sum(), [(2, 3), (3,)]),
    (lambda T, a, b: (a @ b).sigmoid().sum(), [(2, 3), (3, 4)]),
    (lambda T, a: a.sin().cos().sum(), [(2, 3)]),
])
def test_formulas_unpack_saved_values_as_torch_does(torch, f, shapes):
    assert _unpack_counts(ember, f, shapes) == _unpack_counts(torch, f, shapes)


def _saved_attributes(T):
    a, b = T.tensor(A, requires_grad=True), T.tensor(B, requires_grad=True)
    out = []
    with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        e, m = a.exp(), (a * b).exp() * b
        for s in (e.grad_fn._saved_result, m.grad_fn._saved_self, m.grad_fn._saved_other):
            fn = s.grad_fn
            out.append((None if fn is None else fn.name(), s.requires_grad, s is a or s is e))
    return out


def test_saved_attributes_under_hooks_are_on_the_graph_as_in_torch(torch):
    assert _saved_attributes(ember) == _saved_attributes(torch)


# --- GradientEdges and dicts as inputs and outputs -------------------------------------------
def _edges(T):
    ge = T.autograd.graph.get_gradient_edge
    a, b = T.tensor(A, requires_grad=True), T.tensor(B, requires_grad=True)
    c = a * b
    out = (c * c.exp()).sum()
    d = T.rand(3, requires_grad=True)
    ones = T.ones(2, 3, dtype=T.float64)
    log = []

    def accumulated(tag, fn):
        _try(log, tag, fn)
        log.append((tag, "grads", _arr(a.grad), _arr(b.grad)))
        a.grad = b.grad = None

    accumulated("leaf edge", lambda: out.backward(inputs=[ge(a)], retain_graph=True))
    accumulated("non-leaf edge", lambda: out.backward(inputs=[ge(c)], retain_graph=True))
    accumulated("mixed", lambda: out.backward(inputs=[ge(c), b], retain_graph=True))
    accumulated("one edge", lambda: T.autograd.backward(out, inputs=ge(a), retain_graph=True))
    accumulated("edge output", lambda: T.autograd.backward(ge(c), grad_tensors=ones,
                                                           retain_graph=True))
    accumulated("edge output, no grad", lambda: T.autograd.backward(ge(c), retain_graph=True))
    accumulated("scalar edge output", lambda: T.autograd.backward(ge(out), retain_graph=True))
    accumulated("edge and tensor", lambda: T.autograd.backward(
        [ge(c), out], grad_tensors=[ones, None], retain_graph=True))
    accumulated("dict", lambda: out.backward(inputs={"a": a}, retain_graph=True))
    accumulated("empty", lambda: out.backward(inputs=[], retain_graph=True))
    accumulated("OrderedDict", lambda: out.backward(inputs=OrderedDict(a=a), retain_graph=True))
    accumulated("create_graph", lambda: out.backward(inputs=[ge(a), ge(b)], create_graph=True))
    grad = T.autograd.grad
    _try(log, "grad empty", lambda: grad(out, [], retain_graph=True))
    _try(log, "grad dict", lambda: grad(out, {"b": b, "a": a}, retain_graph=True))
    _try(log, "grad OrderedDict", lambda: grad(out, OrderedDict(a=a), retain_graph=True))
    _try(log, "materialize edge", lambda: grad(out, [ge(d)], retain_graph=True,
                                               materialize_grads=True))
    _try(log, "materialize", lambda: grad(out, [d, a], retain_graph=True, materialize_grads=True))
    _try(log, "unused edge", lambda: grad(out, [ge(d)], retain_graph=True, allow_unused=True))
    _try(log, "unused edge raises", lambda: grad(out, [ge(d)], retain_graph=True))
    _try(log, "edges", lambda: grad(out, [ge(c), ge(a)], retain_graph=True))
    _try(log, "edge output", lambda: grad([ge(c), out], [ge(a)], grad_outputs=[ones, None],
                                          retain_graph=True))
    _try(log, "edge output, wrong shape", lambda: grad(ge(c), a, grad_outputs=T.ones(
        3, dtype=T.float64), retain_graph=True))
    _try(log, "edge output, create_graph", lambda: grad(ge(c), a, grad_outputs=ones,
                                                        create_graph=True))
    _try(log, "edge output, no grad", lambda: grad(ge(c), a, create_graph=True))
    return log


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_gradient_edges_and_dicts_as_torch_takes_them(torch):
    _logs_equal(_edges(ember), _edges(torch))


# --- tensor hooks on captured gradients --------------------------------------------------------
def _captured(T):
    a = T.ones(3, dtype=T.float64, requires_grad=True)
    c = a * 1
    a.register_hook(lambda g: g * 2)
    c.register_hook(lambda g: g * 10)
    out = (c * 3).sum()
    log = []
    _try(log, "grad a", lambda: T.autograd.grad(out, a, retain_graph=True))
    _try(log, "grad c", lambda: T.autograd.grad(out, c, retain_graph=True))
    _try(log, "grad c, a", lambda: T.autograd.grad(out, [c, a], retain_graph=True))
    out.backward(inputs=[c], retain_graph=True)
    log.append(("backward c", _arr(c.grad), c.retains_grad, _arr(a.grad)))
    out.backward(inputs=[a], retain_graph=True)
    log.append(("backward a", _arr(c.grad), _arr(a.grad)))
    out.backward()
    log.append(("backward", _arr(c.grad), _arr(a.grad)))  # c now retains its gradient
    return log


def test_hooks_on_captured_gradients_run_as_in_torch(torch):
    _logs_equal(_captured(ember), _captured(torch))


# --- register_multi_grad_hook ----------------------------------------------------------------
def _multi_grad_simple(T):
    log = []
    rec = _recorder(log)
    rmgh = T.autograd.graph.register_multi_grad_hook
    ge = T.autograd.graph.get_gradient_edge
    a, b, c, d = _abcd(T)
    rmgh((a, b, c, d), rec("all"))
    rmgh((a, b, c, d), rec("any"), mode="any")
    e = T.rand(3, requires_grad=True)
    f = e.exp()
    rmgh((e, f), rec("unreached"))
    rmgh((e, f), rec("unreached any"), mode="any")
    cs = c.sum()
    for tag, fn in [
        ("backward", lambda: cs.backward(retain_graph=True)),
        ("both", lambda: (c.sum() + d.sum()).backward(retain_graph=True)),
        ("inputs a", lambda: cs.backward(inputs=(a,), retain_graph=True)),
        ("inputs c", lambda: (c.sum() + d.sum()).backward(inputs=[c], retain_graph=True)),
        ("inputs b", lambda: cs.backward(inputs=[b], retain_graph=True)),
        ("grad leaf", lambda: T.autograd.grad(cs, a, retain_graph=True)),
        ("grad c", lambda: T.autograd.grad(cs, c, retain_graph=True)),
        ("grad edge c", lambda: T.autograd.grad(cs, ge(c), retain_graph=True)),
        ("grad c, b", lambda: T.autograd.grad((c * 2).sum(), [c, b], retain_graph=True)),
        ("with f", lambda: (f.sum() + cs).backward(retain_graph=True)),
        ("with f, inputs a", lambda: (f.sum() + cs).backward(inputs=[a], retain_graph=True)),
        ("grad f", lambda: T.autograd.grad(f.sum() + cs, [f], retain_graph=True)),
        ("grad edge f", lambda: T.autograd.grad((f * 2).sum(), ge(f), retain_graph=True)),
        ("inputs edge e", lambda: (f * 2).sum().backward(inputs=[ge(e)], retain_graph=True)),
        ("create_graph grad", lambda: T.autograd.grad((c ** 2).sum(), [a], create_graph=True)),
        ("create_graph", lambda: (c ** 2).sum().backward(create_graph=True)),
        ("create_graph inputs", lambda: (c ** 2).sum().backward(inputs=[a], create_graph=True)),
    ]:
        _try(log, tag, fn)
    h = rmgh((a, b), rec("removed"))
    h.remove()
    h.remove()
    cs.backward(retain_graph=True)
    n = T.rand(2, 3)
    _try(log, "no grad, all", lambda: rmgh((a, n), rec("no grad all")))
    _try(log, "no grad, any", lambda: rmgh((a, n), rec("no grad any"), mode="any"))
    cs.backward(retain_graph=True)
    return log


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_multi_grad_hook_modes_match_torch(torch):
    _logs_equal(_multi_grad_simple(ember), _multi_grad_simple(torch))


def _multi_grad_nested(T):
    log = []
    rec = _recorder(log)
    rmgh = T.autograd.graph.register_multi_grad_hook
    # a backward of an unrelated graph inside a tensor hook
    a, b, c, d = _abcd(T)
    y = T.rand(3, requires_grad=True) * 3
    ys = y.sum()
    c.register_hook(lambda g: log.append("c hook") or ys.backward(retain_graph=True))
    h1, h2 = rmgh((a, c, y), rec("all")), rmgh((a, c, y), rec("any"), mode="any")
    _try(log, "unrelated", lambda: c.sum().backward(retain_graph=True))
    h1.remove()
    h2.remove()
    # a backward through the same graph inside a tensor hook
    a, b, c, d = _abcd(T)
    cs = c.sum()
    d.register_hook(lambda g: log.append("d hook") or cs.backward(retain_graph=True))
    rmgh((a, b, c), rec("same all"))
    rmgh((a, b, c), rec("same any"), mode="any")
    _try(log, "same graph", lambda: d.sum().backward(retain_graph=True))
    _try(log, "same graph, both", lambda: (d.sum() + c.sum()).backward(retain_graph=True))
    # a backward inside the multi-grad hook itself
    a, b, c, d = _abcd(T)
    cs, depth = c.sum(), []

    def fn(grads):
        log.append(("fn", [g is not None for g in grads]))
        if not depth:
            depth.append(1)
            cs.backward(retain_graph=True)

    rmgh((a, c), fn)
    _try(log, "inside fn", lambda: (c.sum() + d.sum()).backward(retain_graph=True))
    # autograd.grad inside a tensor hook, with a leaf among the tensors
    a, b, c, d = _abcd(T)
    ds = d.sum()
    c.register_hook(lambda g: log.append("c hook 2") or T.autograd.grad(ds, b,
                                                                         retain_graph=True))
    rmgh((b, d), rec("grad all"))
    rmgh((b, d), rec("grad any"), mode="any")
    _try(log, "grad inside", lambda: c.sum().backward(retain_graph=True))
    _try(log, "grad inside, both", lambda: (c.sum() + d.sum()).backward(retain_graph=True))
    return log


def test_multi_grad_hook_with_nested_backwards_matches_torch(torch):
    _logs_equal(_multi_grad_nested(ember), _multi_grad_nested(torch))
