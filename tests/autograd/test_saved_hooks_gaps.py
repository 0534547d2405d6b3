"""autograd.graph's extras without torch: second derivatives through ops recorded under
saved-tensor hooks (finite differences), what the graph statistics count for such nodes,
``GradientEdge``s as ``backward`` inputs and outputs, and the graph task the engines publish
for ``register_multi_grad_hook``."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import ember
from ember.autograd import engine
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from ember.autograd.graph import (
    get_gradient_edge,
    register_multi_grad_hook,
    save_on_cpu,
    saved_tensors_hooks,
    stats,
)
from tests.helpers import assert_close

_RNG = np.random.default_rng(3)


def _t(*shape, positive=False):
    a = _RNG.standard_normal(shape)
    return ember.tensor(np.abs(a) + 0.5 if positive else a, requires_grad=True)


def _clone_hooks():
    return saved_tensors_hooks(lambda t: t.clone(), lambda t: t)


def _numpy_hooks():
    return saved_tensors_hooks(lambda t: t.detach().numpy().copy(), ember.from_numpy)


def _hooked(f, hooks):
    def run(*xs):
        with hooks():
            return f(*xs)
    return run


# --- create_graph=True through hooked nodes ---------------------------------------------------
_CASES = {
    "mul, broadcast": (lambda x, y: (x * y).exp(), [(2, 3), (3,)]),
    "div": (lambda x, y: x / y, [(2, 3), ("pos", 2, 1)]),
    "matmul": (lambda x, w: (x @ w).tanh(), [(2, 3), (3, 4)]),
    "saved output": (lambda x: x.sigmoid() * x.exp(), [(3, 2)]),
    "pow and log": (lambda x, y: x.pow(y).log(), [("pos", 2, 3), (3,)]),
    "log_softmax": (lambda x: ember.log_softmax(x, dim=1) * x, [(2, 4)]),
    "0-d": (lambda x, y: (x.exp() * x).sin() * y, [(), (3,)]),
    "mse": (lambda x, y: ember.nn.functional.mse_loss(x * y, y), [(2, 3), (2, 3)]),
}


def _inputs(shapes):
    return [_t(*s[1:], positive=True) if s and s[0] == "pos" else _t(*s) for s in shapes]


@pytest.mark.parametrize("name", list(_CASES))
@pytest.mark.parametrize("hooks", [_clone_hooks, _numpy_hooks, save_on_cpu])
def test_second_derivatives_through_hooked_ops(name, hooks):
    f, shapes = _CASES[name]
    xs = _inputs(shapes)
    assert gradgradcheck(_hooked(f, hooks), xs)


@pytest.mark.parametrize("name", list(_CASES))
def test_hooked_second_derivatives_equal_the_plain_ones(name):
    f, shapes = _CASES[name]
    xs = _inputs(shapes)

    def second(hooks):
        with hooks():
            y = f(*xs).sum()
        gs = ember.autograd.grad(y, xs, create_graph=True)
        return [g.detach().numpy() for g in gs] + [
            g.numpy() for g in ember.autograd.grad(sum((g * g).sum() for g in gs), xs)]

    class _none:
        def __enter__(self):
            pass

        def __exit__(self, *a):
            pass

    for m, p in zip(second(_clone_hooks), second(_none)):
        assert_close(m, p, rtol=0, atol=0)


def test_multi_output_op_under_hooks_differentiates_twice():
    # eigh saves both of its outputs; its formula reads them from ctx.saved_tensors
    def f(x):
        w, v = ember.linalg.eigh(x + x.mT)
        return w.sum() + (v[..., 0] ** 2 * w[..., :1]).sum()

    x = _t(3, 3)
    assert gradcheck(_hooked(f, _clone_hooks), [x])
    assert gradgradcheck(_hooked(f, _clone_hooks), [x])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_under_hooks_accumulates_a_differentiable_grad():
    a = _t(2, 3)
    with save_on_cpu():
        y = (a.exp() * a).sum()
    y.backward(create_graph=True)
    g = a.grad
    a.grad = None
    g.sum().backward()  # d/da of (a + 1) e^a, summed: (a + 2) e^a
    x = a.detach().numpy()
    assert_close(g.detach().numpy(), (x + 1) * np.exp(x), rtol=1e-12, atol=0)
    assert_close(a.grad.numpy(), (x + 2) * np.exp(x), rtol=1e-12, atol=0)


def test_unpack_runs_when_the_formula_reads_the_value():
    unpacked = []
    a, b = _t(2, 3), _t(3)
    with saved_tensors_hooks(lambda t: t.clone(), lambda t: unpacked.append(1) or t):
        y = (a * b).exp().sum()  # mul saves a and b, exp its result
    assert not unpacked
    gs = ember.autograd.grad(y, [a, b], create_graph=True)
    assert len(unpacked) == 3
    ember.autograd.grad(gs[0].sum(), [a, b])
    assert len(unpacked) > 3  # the first graph's nodes run again, and unpack again


# --- saving under hooks: pack at once, the node packed once its op is recorded ---------------
def test_pack_runs_when_the_op_saves():
    packed = []
    a = _t(3)
    with saved_tensors_hooks(lambda t: packed.append(tuple(t.shape)) or t.clone(),
                             lambda t: t):
        y = a.exp()
        assert packed == [(3,)]
        assert y.grad_fn._saved_result.grad_fn is y.grad_fn  # the saved output, on the node
        y.grad_fn._saved_result  # noqa: B018  (reads again)
    assert packed == [(3,)]


def test_node_keeps_only_what_pack_returned():
    a = _t(50)
    with saved_tensors_hooks(lambda t: "kept elsewhere", lambda s: ember.zeros(50)):
        h = a * 2.0
        y = h.exp()  # saves its output: the graph must not hold it
    ref, node = weakref.ref(y._data), y.grad_fn
    del y
    gc.collect()
    assert ref() is None and node.saved_tensors[0].shape == (50,)


def test_in_place_change_of_a_hooked_value_is_not_checked():
    a = _t(3)
    with saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        b = a * 1
        y = b.exp()  # saves its output
        y.add_(1)  # before the next save: the node still holds the array for now
    y.sum().backward()  # a hooked value has no version check (torch's rule)
    assert_close(a.grad.numpy(), np.exp(a.detach().numpy()), rtol=1e-12, atol=0)


def test_saved_self_of_a_hooked_leaf_is_on_its_edge():
    a, b = _t(3), _t(3)
    with saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        m = a * b
    s = m.grad_fn._saved_self
    assert s is not a and s.requires_grad and s.grad_fn is None
    (s * 3).sum().backward()
    assert_close(a.grad.numpy(), np.full(3, 3.0), rtol=0, atol=0)


# --- graph statistics ---------------------------------------------------------------------
def _graph(hooks=None):
    a, w = ember.ones(40, 10, requires_grad=True), ember.ones(10, 5, requires_grad=True)
    if hooks is None:
        return ((a @ w).tanh() * 2).sum()
    with hooks:
        return ((a @ w).tanh() * 2).sum()


def test_stats_count_what_hooks_kept():
    plain = stats(_graph())
    assert plain.saved_tensors == 3 and plain.saved_bytes == 4 * (400 + 50 + 200)
    on_cpu = stats(_graph(save_on_cpu()))  # keeps the tensors themselves, in a tuple
    assert (on_cpu.saved_tensors, on_cpu.saved_bytes) == (3, plain.saved_bytes)
    cloned = stats(_graph(saved_tensors_hooks(lambda t: t.clone(), lambda t: t)))
    assert (cloned.saved_tensors, cloned.saved_bytes) == (3, plain.saved_bytes)
    half = stats(_graph(saved_tensors_hooks(lambda t: {"a": t.numpy().astype(np.float16)},
                                            lambda d: ember.tensor(d["a"]))))
    assert (half.saved_tensors, half.saved_bytes) == (3, plain.saved_bytes // 2)
    away = stats(_graph(saved_tensors_hooks(lambda t: "a file name", lambda s: None)))
    assert (away.saved_tensors, away.saved_bytes) == (0, 0)
    assert away.ops == plain.ops


def test_stats_see_the_last_op_saved_under_hooks():
    a = ember.ones(10, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.numpy()[:5].copy(), lambda a: None):
        y = a.exp()
        st = stats(y)
    assert (st.saved_tensors, st.saved_bytes) == (1, 20)


# --- GradientEdges in backward ----------------------------------------------------------------
def test_backward_inputs_take_gradient_edges():
    a, b = _t(2, 3), _t(3)
    c = a * b
    out = (c * 2).sum()
    out.backward(inputs=[get_gradient_edge(a)], retain_graph=True)
    assert_close(a.grad.numpy(), 2 * np.broadcast_to(b.detach().numpy(), (2, 3)), rtol=0, atol=0)
    assert b.grad is None
    a.grad = None
    out.backward(inputs=get_gradient_edge(c), retain_graph=True)  # a non-leaf: nothing kept
    assert a.grad is None and b.grad is None and not c.retains_grad
    out.backward(inputs={"b": b}, retain_graph=True)
    assert_close(b.grad.numpy(), 2 * a.detach().numpy().sum(0), rtol=1e-12, atol=0)
    with pytest.raises(RuntimeError, match="cannot be empty"):
        out.backward(inputs=[])


def test_backward_from_a_gradient_edge():
    a, b = _t(2, 3), _t(3)
    c = a * b
    ones = ember.ones(2, 3, dtype=ember.float64)
    ember.autograd.backward(get_gradient_edge(c), grad_tensors=ones)
    assert_close(b.grad.numpy(), a.detach().numpy().sum(0), rtol=1e-12, atol=0)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        ember.autograd.backward(get_gradient_edge(c * 1))


def test_backward_inputs_non_leaf_retains_its_hooked_gradient():
    a = _t(3)
    c = a * 2
    c.register_hook(lambda g: g * 10)
    (c * 3).sum().backward(inputs=[c])
    assert c.retains_grad and a.grad is None
    assert_close(c.grad.numpy(), np.full(3, 30.0), rtol=0, atol=0)


def test_grad_materialize_refuses_an_unreached_edge():
    a, d = _t(3), _t(3)
    with pytest.raises(RuntimeError, match="materialize_grads cannot be used"):
        ember.autograd.grad((a * 2).sum(), [get_gradient_edge(d)], materialize_grads=True)


# --- the published graph task and multi-grad hooks ---------------------------------------------
def test_engines_publish_the_running_task_and_restore_the_outer_one():
    a = _t(3)
    inner = (a * 3).sum()
    seen = []

    def hook(g):
        seen.append(engine.current_task[0])
        inner.backward(retain_graph=True)
        seen.append(engine.current_task[0])

    b = a * 2
    b.register_hook(hook)
    y = (b * a).sum()
    assert engine.current_task[0] is None
    y.backward(retain_graph=True)
    assert engine.current_task[0] is None
    outer = seen[0]
    assert isinstance(outer, engine.GraphTask) and seen[1] is outer
    assert b.grad_fn in outer.nodes and outer.needed is None
    ember.autograd.grad(y, a, create_graph=True)  # the create_graph engine publishes too
    assert len(seen) == 4 and seen[2] is not outer and engine.current_task[0] is None


def test_multi_grad_hook_all_waits_only_for_what_this_backward_reaches():
    a, b = _t(2, 3), _t(2, 3)
    c, d = a * b, a + b
    e = _t(3)
    got = []
    register_multi_grad_hook((a, c, d, e), lambda gs: got.append([g is not None for g in gs]))
    c.sum().backward(retain_graph=True)  # reaches a and c
    (c.sum() + d.sum()).backward(inputs=[b], retain_graph=True)  # c, d lead to b; a is not needed
    ember.autograd.grad(d.sum(), d)  # only d
    assert got == [[True, True, False, False], [False, True, True, False],
                   [False, False, True, False]]


def test_multi_grad_hook_any_fires_once_per_backward_with_the_first_gradient():
    a, b = _t(2, 3), _t(2, 3)
    c = a * b
    got = []
    register_multi_grad_hook((a, b, c), lambda g: got.append(g.numpy().copy()), mode="any")
    (c * 5).sum().backward(retain_graph=True)
    (c * 7).sum().backward()
    assert len(got) == 2  # c's gradient comes first: 5 then 7
    assert_close(got[0], np.full((2, 3), 5.0), rtol=0, atol=0)
    assert_close(got[1], np.full((2, 3), 7.0), rtol=0, atol=0)


def test_multi_grad_hook_refuses_leaves_under_autograd_grad():
    a, b = _t(3), _t(3)
    c = a * b
    register_multi_grad_hook((a, c), lambda gs: None)
    with pytest.raises(RuntimeError, match="A leaf node was passed to _will_engine_execute_node"):
        ember.autograd.grad(c.sum(), a)


def test_multi_grad_hook_needs_tensors_that_require_grad():
    with pytest.raises(AssertionError, match="Expected gradient function to be set"):
        register_multi_grad_hook((_t(3), ember.ones(3)), lambda gs: None)
    a = _t(3)
    got = []
    register_multi_grad_hook((ember.ones(3), a), got.append, mode="any")
    (a * 2).sum().backward()
    assert len(got) == 1


def test_multi_grad_hook_outside_a_backward_says_so():
    a = _t(3)
    register_multi_grad_hook((a,), lambda gs: None)
    hook = a._hooks[-1]
    with pytest.raises(AssertionError, match="inside a backward call"):
        hook(ember.ones(3))
