"""torch.autograd.graph's API: saved-tensor hooks, multi-grad hooks, gradient edges,
version bumps, mutation of saved tensors, and grad_fn's ``_saved_*`` attributes."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import graph
from ember.autograd.graph import (
    GradientEdge,
    allow_mutation_on_saved_tensors,
    disable_saved_tensors_hooks,
    get_gradient_edge,
    increment_version,
    register_multi_grad_hook,
    save_on_cpu,
    saved_tensors_hooks,
)
from tests.helpers import assert_close


def _counting_hooks():
    """Hooks that record each call, and keep the value as it is."""
    calls = []

    def pack(t):
        calls.append(("pack", tuple(t.shape)))
        return t

    def unpack(t):
        calls.append(("unpack", tuple(t.shape)))
        return t

    return calls, pack, unpack


def _mlp_step(model, x, y):
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    return loss.item(), [p.grad.numpy().copy() for p in model.parameters()]


def _model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))


# --- saved_tensors_hooks ---------------------------------------------------------------------
def test_pack_and_unpack_run_once_per_saved_value():
    a = ember.randn(3, 4, requires_grad=True)
    b = ember.randn(3, 4, requires_grad=True)
    calls, pack, unpack = _counting_hooks()
    with saved_tensors_hooks(pack, unpack):
        y = (a * b).exp()        # Mul saves a and b, Exp its result
        loss = y.sum()           # Sum saves nothing
    assert calls == [("pack", (3, 4))] * 3
    loss.backward()
    assert calls[3:] == [("unpack", (3, 4))] * 3


def test_hooks_do_not_change_gradients():
    a = ember.randn(3, 4, requires_grad=True)
    w = ember.randn(4, 2, requires_grad=True)
    ((a @ w).tanh() * a.sum(1, keepdim=True)).sum().backward()
    want = a.grad.numpy().copy(), w.grad.numpy().copy()
    a.grad = w.grad = None
    calls, pack, unpack = _counting_hooks()
    with saved_tensors_hooks(pack, unpack):
        ((a @ w).tanh() * a.sum(1, keepdim=True)).sum().backward()
    assert calls
    assert_close(a.grad.numpy(), want[0], rtol=0, atol=0)
    assert_close(w.grad.numpy(), want[1], rtol=0, atol=0)


def test_offloading_to_numpy_gives_identical_gradients_for_an_mlp():
    x, y = ember.randn(16, 4), ember.randn(16, 2)
    model = _model()
    ember.manual_seed(1)
    want = _mlp_step(model, x, y)
    model.zero_grad(set_to_none=True)
    stored = []

    def offload(t):  # a NumPy copy: the graph no longer holds ember's array
        stored.append(t.numpy().copy())
        return len(stored) - 1

    def reload(i):
        return ember.from_numpy(stored[i])

    ember.manual_seed(1)  # the same dropout mask
    with saved_tensors_hooks(offload, reload):
        got = _mlp_step(model, x, y)
    assert got[0] == want[0]
    for g, w in zip(got[1], want[1]):
        assert_close(g, w, rtol=0, atol=0)
    assert len(stored) > 0


def test_measuring_saved_bytes():
    """The classic use: how much does this forward keep for backward?"""
    nbytes = []

    def pack(t):
        nbytes.append(t.numel() * t.element_size())
        return t

    x = ember.randn(32, 16)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 1))
    with saved_tensors_hooks(pack, lambda t: t):
        loss = model(x).square().mean()
    # the first Linear saves x (2,048 B: x needs no gradient, so W.T is not kept), ReLU its
    # result (8,192 B), the second Linear its input and W.T (8,192 + 256 B), square
    # (PowBackward0) its input (128 B), as torch
    assert nbytes == [2048, 8192, 8192, 256, 128]
    loss.backward()


def test_innermost_hooks_win():
    log = []
    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: log.append("outer") or t, lambda t: log.append("uo") or t):
        with saved_tensors_hooks(lambda t: log.append("inner") or t,
                                 lambda t: log.append("ui") or t):
            y = a * a
        z = y.exp()
    (z.sum()).backward()
    assert log == ["inner", "inner", "outer", "uo", "ui", "ui"]


def test_no_pack_under_no_grad_or_without_grad():
    a = ember.randn(3, requires_grad=True)

    def boom(t):
        raise AssertionError("packed")

    with saved_tensors_hooks(boom, boom):
        with ember.no_grad():
            a.exp()
        ember.randn(3).exp()


def test_hooks_run_with_grad_mode_off():
    modes = []
    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: modes.append(ember.is_grad_enabled()) or t,
                             lambda t: modes.append(ember.is_grad_enabled()) or t):
        y = a.exp()
    y.sum().backward()
    assert modes == [False, False]


def test_unpack_must_return_a_tensor():
    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: 5):
        y = a.exp()
    with pytest.raises(TypeError, match="Output of saved tensor unpack_hook expected to be a "
                                        "Tensor but got result of type int"):
        y.sum().backward()


def test_unpack_of_another_shape_raises():
    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: ember.zeros(2)):
        y = a.exp()
    with pytest.raises(RuntimeError, match=r"shape \[2\] for a value saved with shape \[3\]"):
        y.sum().backward()


def test_unpack_of_another_dtype_is_cast_back():
    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: t.double()):
        y = a.exp()
    y.sum().backward()
    assert a.grad.dtype == ember.float32
    assert_close(a.grad.numpy(), np.exp(a.detach().numpy()), rtol=1e-6, atol=0)


def test_pack_hook_may_not_modify_its_input():
    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.add_(1), lambda t: t):
        with pytest.raises(RuntimeError, match="A saved tensor pack hook is modifying its input "
                                               "in place"):
            a.clone() * a.clone()


def test_an_error_in_pack_propagates():
    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: 1 / 0, lambda t: t):
        with pytest.raises(ZeroDivisionError):
            a.exp()


def test_disable_saved_tensors_hooks():
    with disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        with disable_saved_tensors_hooks("no hooks here"):
            with pytest.raises(RuntimeError, match="no hooks here"):
                a * a
        a * a  # enabled again on exit
    with saved_tensors_hooks(lambda t: t, lambda t: t):  # and no leftovers
        pass


def test_save_on_cpu_keeps_the_tensor_and_the_gradient():
    a = ember.randn(4, 3, requires_grad=True)
    for pin in (False, True):
        a.grad = None
        with save_on_cpu(pin_memory=pin):
            y = (a * a).sum()
        y.backward()
        assert_close(a.grad.numpy(), 2 * a.detach().numpy(), rtol=1e-6, atol=0)


def test_custom_function_saves_through_the_hooks():
    log = []

    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, None)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, none = ctx.saved_tensors
            assert none is None
            x2, _ = ctx.saved_tensors  # each read unpacks again, as in torch
            return 2 * g * x2

    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: log.append(("p", t is a)) or t.detach().numpy().copy(),
                             lambda p: log.append("u") or ember.from_numpy(p)):
        y = Square.apply(a)
    y.sum().backward()
    assert log == [("p", True), "u", "u"]
    assert_close(a.grad.numpy(), 2 * a.detach().numpy(), rtol=1e-6, atol=0)


def test_checkpoint_under_offloading_hooks_still_reaches_the_leaves():
    """A Tensor brought back by unpack_hook leads to the saved one's grad_fn or leaf, as
    torch re-attaches it: checkpoint differentiates through its saved inputs that way."""
    from ember.utils.checkpoint import checkpoint

    lin = nn.Linear(3, 3)
    x = ember.randn(4, 3, requires_grad=True)
    checkpoint(lambda t: lin(t).tanh(), x * 2, use_reentrant=False).sum().backward()
    want = x.grad.numpy().copy(), lin.weight.grad.numpy().copy()
    x.grad = lin.weight.grad = None
    with saved_tensors_hooks(lambda t: t.detach().numpy().copy(), ember.from_numpy):
        out = checkpoint(lambda t: lin(t).tanh(), x * 2, use_reentrant=False).sum()
    out.backward()
    assert_close(x.grad.numpy(), want[0], rtol=0, atol=0)
    assert_close(lin.weight.grad.numpy(), want[1], rtol=0, atol=0)


def test_no_version_check_for_values_through_hooks():
    """torch checks no versions for hooked values: the hooks decide what backward sees."""
    a = ember.randn(3, requires_grad=True)
    b = a.clone()
    copies = []
    with saved_tensors_hooks(lambda t: copies.append(t.numpy().copy()) or len(copies) - 1,
                             lambda i: ember.from_numpy(copies[i])):
        y = b * b
    b.mul_(2)  # without hooks: "modified by an inplace operation" at backward
    y.sum().backward()
    assert_close(a.grad.numpy(), 2 * a.detach().numpy(), rtol=1e-6, atol=0)


def test_graph_is_freed_after_backward():
    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        y = a.exp()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
        y.sum().backward()


def test_create_graph_through_hooked_nodes():
    a = ember.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        y = a.exp().sum()
    (g,) = ember.autograd.grad(y, a, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), a)  # d2/da2 exp(a) = exp(a)
    assert_close(gg.numpy(), np.exp(a.detach().numpy()), rtol=1e-6, atol=0)


# --- allow_mutation_on_saved_tensors ---------------------------------------------------------
def test_allow_mutation_on_saved_tensors():
    a = ember.ones(2, 3, requires_grad=True)
    with allow_mutation_on_saved_tensors() as ctx:
        b = a.clone()
        out = (b ** 2).sum()
        b.sin_()
        assert len(ctx.cloned) == 2  # b for PowBackward0 (no result: as torch), b for sin_
        out.backward()
        assert len(ctx.cloned) == 1  # backward freed its graph: sin_'s copy is left
    assert_close(a.grad.numpy(), np.full((2, 3), 2.0), rtol=0, atol=0)
    assert not ctx.cloned  # cleared on exit


def test_allow_mutation_errors():
    a = ember.ones(2, requires_grad=True)
    with allow_mutation_on_saved_tensors():
        with pytest.raises(RuntimeError, match="cannot be nested"):
            with allow_mutation_on_saved_tensors():
                pass
        out = (a * a).sum()
    with pytest.raises(AssertionError, match="Trying to backward outside of the "
                                             "'allow_mutation_on_saved_tensors' context"):
        out.backward()


# --- increment_version -----------------------------------------------------------------------
def test_increment_version_triggers_the_inplace_error():
    x = ember.randn(3, requires_grad=True).clone()
    y = x * x
    increment_version(x)
    assert x._version == 1
    increment_version([x, x])
    assert x._version == 3
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# --- multi-grad hooks ------------------------------------------------------------------------
def _abcd():
    a = ember.rand(2, 3, requires_grad=True)
    b = ember.rand(2, 3, requires_grad=True)
    return a, b, a * b, a * b


def test_multi_grad_hook_all():
    a, b, c, d = _abcd()
    seen = []
    handle = register_multi_grad_hook((a, b, c, d), lambda gs: seen.append(
        [g is not None for g in gs]))
    c.sum().backward(retain_graph=True)
    c.sum().backward(inputs=(a,), retain_graph=True)
    (c.sum() + d.sum()).backward(retain_graph=True)
    assert seen == [[True, True, True, False], [True, False, True, False], [True] * 4]
    handle.remove()
    c.sum().backward(retain_graph=True)
    assert len(seen) == 3


def test_multi_grad_hook_all_gets_the_gradients():
    a, b, c, _ = _abcd()
    got = []
    register_multi_grad_hook((a, c), got.append)
    (c * 3).sum().backward()
    ga, gc = got[0]
    assert_close(gc.numpy(), np.full((2, 3), 3.0), rtol=0, atol=0)
    assert_close(ga.numpy(), 3 * b.detach().numpy(), rtol=1e-6, atol=0)


def test_multi_grad_hook_any_runs_once_per_backward():
    a, b, c, d = _abcd()
    got = []
    register_multi_grad_hook((a, b, c, d), lambda g: got.append(tuple(g.shape)), mode="any")
    (c.sum() + d.sum()).backward(retain_graph=True)
    assert got == [(2, 3)]
    c.sum().backward()
    assert len(got) == 2


def test_multi_grad_hook_with_autograd_grad():
    a, b, c, d = _abcd()
    seen = []
    register_multi_grad_hook((c, d), lambda gs: seen.append([g is not None for g in gs]))
    ember.autograd.grad(c.sum(), a)
    assert seen == [[True, False]]


def test_multi_grad_hook_bad_mode():
    a = ember.randn(2, requires_grad=True)
    with pytest.raises(ValueError, match="Expects mode to be one of"):
        register_multi_grad_hook((a,), print, mode="some")


# --- gradient edges --------------------------------------------------------------------------
def test_gradient_edges():
    a, b, c, _ = _abcd()
    edge = get_gradient_edge(a)
    assert isinstance(edge, GradientEdge) and edge.node.name() == "AccumulateGrad"
    assert edge.output_nr == 0
    assert get_gradient_edge(c) == (c.grad_fn, 0, None)
    (ga,) = ember.autograd.grad(c.sum(), edge, retain_graph=True)
    assert_close(ga.numpy(), b.detach().numpy(), rtol=0, atol=0)
    gc, gb = ember.autograd.grad((c * 2).sum(), [get_gradient_edge(c), b], retain_graph=True)
    assert_close(gc.numpy(), np.full((2, 3), 2.0), rtol=0, atol=0)
    assert_close(gb.numpy(), 2 * a.detach().numpy(), rtol=1e-6, atol=0)
    # an edge as the output: grad_outputs flows in there
    (ga,) = ember.autograd.grad(get_gradient_edge(c), a, grad_outputs=ember.ones(2, 3))
    assert_close(ga.numpy(), b.detach().numpy(), rtol=0, atol=0)
    with pytest.raises(RuntimeError, match="not possible to get the gradient edge"):
        get_gradient_edge(ember.ones(2))


def test_set_multithreading_enabled():
    autograd = ember.autograd
    assert autograd.is_multithreading_enabled()
    with autograd.set_multithreading_enabled(False):
        assert not autograd.is_multithreading_enabled()
    assert autograd.is_multithreading_enabled()
    autograd.set_multithreading_enabled(False)
    assert not autograd.is_multithreading_enabled()
    autograd.set_multithreading_enabled(True)


# --- grad_fn._saved_* ------------------------------------------------------------------------
def test_saved_attributes():
    a = ember.randn(3, requires_grad=True)
    b = ember.randn(3, requires_grad=True)
    c = a * b
    assert c.grad_fn._saved_self is a and c.grad_fn._saved_other is b
    assert (a * ember.ones(3)).grad_fn._saved_self is None  # only other's gradient needs self
    e = a.exp()
    assert_close(e.grad_fn._saved_result.detach().numpy(), e.detach().numpy(), rtol=0, atol=0)
    assert e.grad_fn._saved_result.grad_fn is e.grad_fn
    lin = nn.Linear(3, 2)
    out = lin(ember.randn(4, 3))
    fn = out.grad_fn
    assert fn.name() == "AddmmBackward0"
    assert tuple(fn._saved_mat1.shape) == (4, 3)
    assert fn._saved_mat2 is None  # the input needs no gradient
    assert (fn._saved_alpha, fn._saved_beta) == (1, 1)
    with pytest.raises(AttributeError, match="_saved_self"):
        _ = fn._saved_self
    assert not hasattr(fn.next_functions[1][0], "_saved_result")  # AccumulateGrad


def test_a_custom_function_may_set_its_own_saved_attribute():
    class Twice(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx._saved_self = "mine"
            return x * 2

        @staticmethod
        def backward(ctx, g):
            assert ctx._saved_self == "mine"
            return g * 2

    a = ember.randn(3, requires_grad=True)
    Twice.apply(a).sum().backward()
    assert_close(a.grad.numpy(), np.full(3, 2.0), rtol=0, atol=0)


def test_saved_attributes_after_backward_raise():
    a = ember.randn(3, requires_grad=True)
    y = a.exp()
    raw = y.grad_fn._raw_saved_result
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
        _ = y.grad_fn._saved_result
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
        raw.unpack()


def test_saved_attributes_unpack_through_hooks():
    a = ember.randn(3, requires_grad=True)
    calls, pack, unpack = _counting_hooks()
    with saved_tensors_hooks(pack, unpack):
        y = a.exp()
    _ = y.grad_fn._saved_result
    assert calls == [("pack", (3,)), ("unpack", (3,))]


def test_raw_saved_register_hooks():
    a = ember.randn(3, requires_grad=True)
    y = a.exp()
    log = []
    raw = y.grad_fn._raw_saved_result
    raw.register_hooks(lambda t: log.append("p") or t.numpy().copy(),
                       lambda p: log.append("u") or ember.from_numpy(p))
    assert log == ["p"]
    with pytest.raises(RuntimeError, match="only one pair of hooks is allowed"):
        raw.register_hooks(lambda t: t, lambda t: t)
    with pytest.raises(TypeError):
        y.grad_fn._raw_saved_result.register_hooks(1, 2)
    y.sum().backward()
    assert log == ["p", "u"]
    assert_close(a.grad.numpy(), np.exp(a.detach().numpy()), rtol=1e-6, atol=0)


def test_raw_saved_register_hooks_on_a_transposed_value():
    lin = nn.Linear(3, 2)
    x = ember.randn(4, 3, requires_grad=True)
    out = lin(x)
    shapes = []
    out.grad_fn._raw_saved_mat2.register_hooks(lambda t: shapes.append(tuple(t.shape)) or t,
                                               lambda t: t)
    assert shapes == [(3, 2)]  # torch's mat2 is W.T
    out.sum().backward()
    assert_close(x.grad.numpy(), np.broadcast_to(lin.weight.detach().numpy().sum(0), (4, 3)),
                 rtol=1e-6, atol=1e-6)


def test_graph_module_exports():
    for name in ("saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
                 "register_multi_grad_hook", "GradientEdge", "get_gradient_edge",
                 "increment_version", "allow_mutation_on_saved_tensors", "Node"):
        assert name in graph.__all__ and hasattr(graph, name)
