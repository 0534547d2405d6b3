"""torch.autograd.graph's API against torch: what saved-tensor hooks see for a small MLP,
multi-grad hooks' call pattern, gradient edges, and grad_fn's ``_saved_*`` values.

Where ember's ops save other values than torch's (so the hooks see other tensors), the
tests say so: ``mse_loss`` also saves ``x - y``."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(5)
X, Y = _RNG.standard_normal((6, 4)), _RNG.standard_normal((6, 2))
W1, B1 = _RNG.standard_normal((8, 4)), _RNG.standard_normal(8)
W2, B2 = _RNG.standard_normal((2, 8)), _RNG.standard_normal(2)


def _mlp_packs(T, x_requires_grad):
    """Packed shapes per stage of Linear -> ReLU -> Linear -> MSE, unpack count, grads."""
    F = T.nn.functional
    x = T.tensor(X, requires_grad=x_requires_grad)
    params = [T.tensor(a, requires_grad=True) for a in (W1, B1, W2, B2)]
    w1, b1, w2, b2 = params
    packed, unpacked = [], [0]

    def pack(t):
        packed[-1].append(tuple(t.shape))
        return t.detach().numpy().copy()  # offloaded: the graph keeps a NumPy copy

    def unpack(a):
        unpacked[0] += 1
        return T.from_numpy(a)

    with T.autograd.graph.saved_tensors_hooks(pack, unpack):
        h = x
        for stage in (lambda h: F.linear(h, w1, b1), F.relu, lambda h: F.linear(h, w2, b2),
                      lambda h: F.mse_loss(h, T.tensor(Y))):
            packed.append([])
            h = stage(h)
    h.backward()
    grads = [p.grad.numpy() for p in params] + ([x.grad.numpy()] if x_requires_grad else [])
    return packed, unpacked[0], grads


@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_mlp_packs_what_torch_packs(x_requires_grad):
    mine, n_mine, g_mine = _mlp_packs(ember, x_requires_grad)
    theirs, n_theirs, g_theirs = _mlp_packs(torch, x_requires_grad)
    lin1, relu, lin2, mse = mine
    t_lin1, t_relu, t_lin2, t_mse = theirs
    # ReLU saves its result in both
    assert relu == t_relu == [(6, 8)]
    # Linear (AddmmBackward0): mat1 = x when W needs a gradient, mat2 = W.T when x does
    assert lin2 == t_lin2 == [(6, 8), (8, 2)]
    assert lin1 == t_lin1 == ([(6, 4), (4, 8)] if x_requires_grad else [(6, 4)])
    # MSE: torch saves self and target; ember also the difference self - target
    assert mse[:2] == t_mse == [(6, 2), (6, 2)] and mse[2] == (6, 2)
    # every packed value is unpacked once by backward
    assert n_mine == sum(map(len, mine)) and n_theirs == sum(map(len, theirs))
    for m, t in zip(g_mine, g_theirs):
        assert_close(m, t, rtol=1e-10, atol=1e-12)


def test_pack_unpack_order_matches_torch_for_a_chain():
    """Ops that save what torch saves (mul, exp, tanh, sigmoid, sin): the same calls."""
    def run(T):
        a = T.tensor(X[0], requires_grad=True)
        b = T.tensor(X[1], requires_grad=True)
        log = []
        with T.autograd.graph.saved_tensors_hooks(
                lambda t: log.append(("pack", tuple(t.shape))) or t,
                lambda t: log.append(("unpack", tuple(t.shape))) or t):
            y = ((a * b).exp().tanh().sigmoid().sin() * 2).sum()
        y.backward()
        return log, a.grad.numpy()

    (mine, ga), (theirs, gt) = run(ember), run(torch)
    assert mine == theirs
    assert_close(ga, gt, rtol=1e-10, atol=1e-12)


def test_multi_grad_hook_call_pattern_matches_torch():
    def run(T):
        a = T.tensor(X[:2, :3], requires_grad=True)
        b = T.tensor(X[2:4, :3], requires_grad=True)
        c, d = a * b, a * b
        seen = []
        h = T.autograd.graph.register_multi_grad_hook(
            (a, b, c, d), lambda gs: seen.append([g is not None for g in gs]))
        c.sum().backward(retain_graph=True)
        c.sum().backward(inputs=(a,), retain_graph=True)
        (c.sum() + d.sum()).backward(retain_graph=True)
        h.remove()
        T.autograd.graph.register_multi_grad_hook(
            (a, b, c, d), lambda g: seen.append(tuple(g.shape)), mode="any")
        (c.sum() + d.sum()).backward(retain_graph=True)
        d.sum().backward()
        return seen

    assert run(ember) == run(torch)


def test_gradient_edges_match_torch():
    def run(T):
        a = T.tensor(X[:2, :3], requires_grad=True)
        b = T.tensor(X[2:4, :3], requires_grad=True)
        c = (a * b).tanh()
        e = T.autograd.graph.get_gradient_edge
        loss = (c * c).sum()
        got = T.autograd.grad(loss, [e(a), e(c), b], retain_graph=True)
        got += T.autograd.grad(e(c), a, grad_outputs=T.ones(2, 3))
        return [g.numpy() for g in got], type(e(a).node).__name__, type(e(c).node).__name__

    mine, theirs = run(ember), run(torch)
    assert mine[1:] == theirs[1:]
    for m, t in zip(mine[0], theirs[0]):
        assert_close(m, t, rtol=1e-10, atol=1e-12)


def _cases(T):
    a = T.tensor(X[0, :3], requires_grad=True)
    b = T.tensor(np.abs(X[1, :3]) + 0.5, requires_grad=True)
    c = T.tensor(X[2, :3])
    m = T.tensor(X[:2, :3], requires_grad=True)
    w = T.tensor(W1[:2, :3], requires_grad=True)
    bias = T.tensor(B1[:2], requires_grad=True)
    x2 = T.tensor(X[2:4, :3])
    F = T.nn.functional
    return {
        "mul": a * b, "mul_const": a * c, "div": a / b, "div_const": c / b,
        "exp": a.exp(), "tanh": a.tanh(), "sigmoid": a.sigmoid(), "relu": a.relu(),
        "sqrt": b.sqrt(), "log": b.log(), "sin": a.sin(), "cos": a.cos(), "abs": a.abs(),
        "pow_scalar": a ** 3, "pow_tensor": b ** a, "mm": m @ w.t().detach(),
        "mm_both": m @ w.t(), "linear": F.linear(m, w, bias),
        "linear_x_const": F.linear(x2, w, bias), "linear_no_bias": F.linear(m, w),
        "addmm": T.addmm(bias, m, w.t().detach() * 2, beta=0.5, alpha=2.0),
        "softmax": m.softmax(1), "softmax_neg": m.softmax(-1), "log_softmax": m.log_softmax(0),
        "mse": F.mse_loss(a, b), "mse_sum": F.mse_loss(a, c, reduction="sum"),
    }


def _value(v):
    if v is None or isinstance(v, (int, float, bool)):
        return v
    return v.detach().numpy()


def test_saved_attributes_match_torch():
    mine, theirs = _cases(ember), _cases(torch)
    covered = 0
    for name, t_out in theirs.items():
        fn, t_fn = mine[name].grad_fn, t_out.grad_fn
        assert fn.name() == t_fn.name(), name
        for attr in dir(t_fn):
            if not attr.startswith("_saved_") or not hasattr(fn, attr):
                continue
            covered += 1
            got, want = _value(getattr(fn, attr)), _value(getattr(t_fn, attr))
            if isinstance(want, np.ndarray):
                assert isinstance(got, np.ndarray), (name, attr, got)
                assert_close(got, want, rtol=1e-12, atol=0)
            else:
                assert got == want, (name, attr, got, want)
            raw = f"_raw{attr}"
            assert hasattr(fn, raw) == hasattr(t_fn, raw), (name, raw)
    assert covered >= 40


def test_saved_leaf_is_the_leaf_as_in_torch():
    for T in (ember, torch):
        a = T.tensor(X[0], requires_grad=True)
        b = T.tensor(X[1], requires_grad=True)
        fn = (a * b).grad_fn
        assert fn._saved_self is a and fn._saved_other is b
        e = a.exp()
        assert type(e.grad_fn._saved_result.grad_fn).__name__ == "ExpBackward0"


def test_saved_attributes_after_backward_raise_as_in_torch():
    for T in (ember, torch):
        a = T.tensor(X[0], requires_grad=True)
        y = a.exp()
        y.sum().backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second "
                                               "time"):
            _ = y.grad_fn._saved_result


def test_errors_match_torch():
    for T in (ember, torch):
        g = T.autograd.graph
        a = T.tensor(X[0], requires_grad=True)
        with g.saved_tensors_hooks(lambda t: t, lambda t: 5):
            y = a.exp()
        with pytest.raises(TypeError, match="Output of saved tensor unpack_hook expected to be "
                                            "a Tensor but got result of type int"):
            y.sum().backward()
        with g.saved_tensors_hooks(lambda t: t.add_(1), lambda t: t):
            with pytest.raises(RuntimeError, match="A saved tensor pack hook is modifying its "
                                                   "input in place"):
                a.clone() * a.clone()
        with g.disable_saved_tensors_hooks("off here"):
            with pytest.raises(RuntimeError, match="off here"):
                with g.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        with pytest.raises(RuntimeError, match="not possible to get the gradient edge"):
            g.get_gradient_edge(T.ones(2))
        with pytest.raises(ValueError, match="Expects mode to be one of"):
            g.register_multi_grad_hook((a,), print, mode="x")
        x = T.tensor(X[0], requires_grad=True).clone()
        y = x * x
        g.increment_version(x)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_allow_mutation_on_saved_tensors_matches_torch():
    def run(T):
        a = T.tensor(X[:2, :3], requires_grad=True)
        with T.autograd.graph.allow_mutation_on_saved_tensors():
            b = a.clone()
            out = (b ** 2).sum()
            b.sin_()
            out.backward()
        return a.grad.numpy(), b.detach().numpy()

    for m, t in zip(run(ember), run(torch)):
        assert_close(m, t, rtol=1e-12, atol=1e-12)
