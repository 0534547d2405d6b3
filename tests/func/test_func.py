"""ember.func without torch: grad against finite differences, vmap against a Python loop,
per-sample gradients, nesting, functional_call, stack_module_state, and torch's errors."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.func import (
    functional_call,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    stack_module_state,
    vjp,
    vmap,
)
from tests.helpers import assert_close

D = ember.float64


def _rand(*shape, seed=0, dtype=D):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.standard_normal(shape), dtype=dtype)


def _fd_grad(f, x, eps=1e-6):
    """Central finite differences of the scalar ``f`` at ``x`` (float64)."""
    base = x.numpy().copy()
    out = np.zeros_like(base)
    for i in np.ndindex(base.shape):
        hi, lo = base.copy(), base.copy()
        hi[i] += eps
        lo[i] -= eps
        out[i] = (f(ember.tensor(hi)).item() - f(ember.tensor(lo)).item()) / (2 * eps)
    return out


def _f(x):
    return (x.sin() * x.exp()).sum() + (x ** 3).mean()


# --- grad ----------------------------------------------------------------------------------------

def test_grad_matches_finite_differences():
    x = _rand(3, 4)
    assert_close(grad(_f)(x), _fd_grad(_f, x), rtol=1e-6, atol=1e-7)


def test_grad_argnums_tuple_and_pytree_argument():
    x, w = _rand(3, seed=1), {"a": _rand(3, seed=2), "b": _rand(seed=3)}

    def f(x, w):
        return (x * w["a"]).sum() * w["b"]

    gx, gw = grad(f, argnums=(0, 1))(x, w)
    assert_close(gx, w["a"] * w["b"])
    assert set(gw) == {"a", "b"}
    assert_close(gw["a"], x * w["b"])
    assert_close(gw["b"], (x * w["a"]).sum())


def test_grad_and_value_with_aux_returns_detached_value():
    x = _rand(4)
    g, (value, aux) = grad_and_value(lambda x: ((x ** 2).sum(), x * 2), has_aux=True)(x)
    assert_close(g, 2 * x)
    assert_close(value, (x ** 2).sum())
    assert not value.requires_grad and not aux.requires_grad
    g2, aux2 = grad(lambda x: ((x ** 2).sum(), {"k": 1}), has_aux=True)(x)
    assert aux2 == {"k": 1}


def test_grad_of_unused_input_is_zero():
    x, y = _rand(2, 3), _rand(2, 3, seed=1)
    g = grad(lambda a, b: b.sum(), argnums=0)(x, y)
    assert_close(g, ember.zeros(2, 3, dtype=D))


def test_grad_leaves_inputs_untouched():
    x = _rand(3)
    grad(lambda a: (a ** 2).sum())(x)
    assert not x.requires_grad and x.grad is None


@pytest.mark.parametrize("fn, args, argnums, message", [
    (lambda a: a, (ember.ones(2),), 0, "Expected f(*args) to return a scalar Tensor, got "
                                          "tensor with 1 dims"),
    (lambda a: 3.0, (ember.ones(2),), 0, "Expected f(*args) to return a Tensor"),
    (lambda a: a.sum(), (ember.ones(2),), 1, "Got argnum=1, but only 1 positional inputs"),
    (lambda a: a.sum(), (ember.ones(2),), (), "argnums must be non-empty"),
    (lambda a, b: a.sum(), (ember.ones(2), ember.ones(2)), (0, 0), "argnums elements must be "
                                                                     "unique, got (0, 0)"),
    (lambda a: a.sum(), (ember.ones(2),), 0.0, "argnums must be int or Tuple[int, ...]"),
    (lambda a: a.sum(), (ember.ones(2, dtype=ember.int64),), 0,
     "only Tensors of floating point dtype can require gradients"),
])
def test_grad_errors(fn, args, argnums, message):
    with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("*", r"\*").replace("[", r"\[").replace("]", r"\]")
                       .replace(".", r"\.")):
        grad(fn, argnums=argnums)(*args)


def test_grad_rejects_non_tensor_argument_and_bad_aux():
    with pytest.raises(ValueError, match="Thing passed to transform API must be Tensor"):
        grad(lambda a: ember.tensor(1.0))(3.0)
    with pytest.raises(RuntimeError, match=r"should be a tuple: \(output, aux\)"):
        grad(lambda a: a.sum(), has_aux=True)(ember.ones(2))


# --- vjp, jacobians ----------------------------------------------------------------------------

def test_vjp_matches_the_jacobian_and_can_be_called_twice():
    x = _rand(3)
    out, fn = vjp(lambda a: a.sin() * 2, x)
    assert_close(out, x.sin() * 2)
    v = _rand(3, seed=5)
    (g1,), (g2,) = fn(v), fn(v)
    assert_close(g1, v * 2 * x.cos())
    assert_close(g2, g1)


def test_vjp_errors():
    out, fn = vjp(lambda a: (a * 2, a), ember.ones(3))
    with pytest.raises(RuntimeError, match="Expected pytree structure of cotangents"):
        fn(ember.ones(3))
    out, fn = vjp(lambda a: a * 2, ember.ones(3, 2))
    with pytest.raises(RuntimeError, match="Mismatch in shape: grad_output\\[0\\]"):
        fn(ember.ones(2))
    with pytest.raises(RuntimeError, match="expected f\\(\\*primals\\) to return only tensors"):
        vjp(lambda a: 3, ember.ones(2))


@pytest.mark.parametrize("transform", [jacrev, jacfwd])
def test_jacobian_matches_finite_differences(transform):
    x = _rand(4, seed=2)

    def f(x):
        return ember.stack([x[0] * x[1], x.sin().sum(), (x ** 2)[2:].sum()])

    jac = transform(f)(x)
    assert jac.shape == (3, 4)
    for i in range(3):
        assert_close(jac[i], _fd_grad(lambda y, i=i: f(y)[i], x), rtol=1e-6, atol=1e-7)


def test_jacrev_structures_follow_outputs_and_argnums():
    x, y = _rand(3), _rand(2, seed=1)
    (jxx, jxy), (jsx, jsy) = jacrev(lambda a, b: (a * b.sum(), a.sum()), argnums=(0, 1))(x, y)
    assert jxx.shape == (3, 3) and jxy.shape == (3, 2) and jsx.shape == (3,) and jsy.shape == (2,)
    assert_close(jxx, ember.eye(3, dtype=D) * y.sum())
    assert_close(jsy, ember.zeros(2, dtype=D))
    jd = jacrev(lambda d: d["a"] * 2)({"a": x})
    assert_close(jd["a"], 2 * ember.eye(3, dtype=D))


def test_jvp_is_jacobian_times_tangent():
    x, t = _rand(3), _rand(3, seed=9)
    out, tangent_out = jvp(lambda a: a ** 2 + a.sum(), (x,), (t,))
    assert_close(out, x ** 2 + x.sum())
    assert_close(tangent_out, 2 * x * t + t.sum())


def test_jacfwd_random_op_raises_in_error_mode():
    with pytest.raises(RuntimeError, match="randomness error mode"):
        jacfwd(lambda a: a + ember.randn(3))(ember.ones(3))


def test_hessian_and_nested_grad():
    x = _rand(3, seed=4)
    h = hessian(lambda a: (a ** 3).sum() + a[0] * a[1])(x)
    expected = np.diag(6 * x.numpy())
    expected[0, 1] = expected[1, 0] = 1
    assert_close(h, expected)
    assert_close(grad(grad(lambda a: a.sin()))(ember.tensor(0.3, dtype=D)), -np.sin(0.3))
    assert_close(jacrev(grad(lambda a: (a ** 3).sum()))(x), np.diag(6 * x.numpy()))


# --- vmap ----------------------------------------------------------------------------------------

def test_vmap_matches_a_python_loop():
    x, y = _rand(5, 3), _rand(3, 5, seed=1)

    def f(a, b):
        return (a * b).sin().sum(), a * 2

    s, d = vmap(f, in_dims=(0, 1))(x, y)
    for i in range(5):
        rs, rd = f(x[i], y[:, i])
        assert_close(s[i], rs)
        assert_close(d[i], rd)


def test_vmap_in_dims_none_pytrees_and_kwargs():
    x, b = _rand(4, 2), _rand(2, seed=3)
    out = vmap(lambda d, scale=1.0: (d["x"] + d["b"]) * scale,
               in_dims=({"x": 0, "b": None},))({"x": x, "b": b}, scale=2.0)
    assert_close(out, (x + b) * 2.0)
    out = vmap(lambda a, n: a * n, in_dims=(0, None))(x, 3)
    assert_close(out, x * 3)
    out = vmap(lambda a, nothing: a.sum(), in_dims=(0, None))(x, None)
    assert_close(out, x.sum(1))
    with pytest.raises(ValueError, match="input is of type <class 'NoneType'>"):
        vmap(lambda a, nothing: a)(x, None)


def test_vmap_out_dims_and_negative_in_dims():
    x = _rand(2, 3)
    assert vmap(lambda a: a * 2, in_dims=-1)(x).shape == (3, 2)
    a, s = vmap(lambda r: (r, r.sum()), out_dims=(1, 0))(x)
    assert_close(a, x.T)
    assert_close(s, x.sum(1))
    const = vmap(lambda r: ember.ones(2, dtype=D), out_dims=None)(x)
    assert_close(const, ember.ones(2, dtype=D))
    assert vmap(lambda r: ember.ones(2))(x).shape == (2, 2)  # an unbatched output is expanded
    assert vmap(lambda r: [r, {"k": r}])(x)[1]["k"].shape == (2, 3)


def test_nested_vmap_is_an_outer_product():
    a, b = _rand(3), _rand(4, seed=1)
    out = vmap(vmap(lambda x, y: x * y, in_dims=(None, 0)), in_dims=(0, None))(a, b)
    assert_close(out, a[:, None] * b[None, :])


def test_vmap_of_empty_batch_keeps_shapes():
    out = vmap(lambda r: r.sum() * 2)(ember.zeros(0, 3))
    assert out.shape == (0,)
    assert vmap(lambda r: r * 2, out_dims=1)(ember.zeros(0, 3)).shape == (3, 0)


def test_vmap_gradient_flows_to_the_batched_input():
    x = _rand(4, 3).requires_grad_()
    vmap(lambda r: (r ** 2).sum())(x).sum().backward()
    assert_close(x.grad, 2 * x.detach())


def test_vmap_randomness_modes():
    x = ember.zeros(3, 4)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda r: r + ember.rand(4))(x)
    same = vmap(lambda r: r + ember.rand(4), randomness="same")(x)
    assert_close(same[0], same[1]) and assert_close(same[1], same[2])
    ember.manual_seed(1)
    different = vmap(lambda r: r + ember.rand(4), randomness="different")(x)
    assert not np.allclose(different[0].numpy(), different[1].numpy())
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(lambda r: r, randomness="bad")


@pytest.mark.parametrize("call, message", [
    (lambda: vmap(ember.add)(ember.ones(3, 2), ember.ones(4, 2)),
     r"got sizes \[3, 4\] for the mapped dimension"),
    (lambda: vmap(ember.add, in_dims=(None, None))(ember.ones(3), ember.ones(3)),
     "Expected at least one Tensor to vmap over"),
    (lambda: vmap(lambda a, b: a, in_dims=(0, 0))(ember.ones(3), 3),
     "We cannot vmap over non-Tensor arguments"),
    (lambda: vmap(lambda a: a, in_dims=2)(ember.ones(3, 2)),
     "expected in_dim to satisfy -2 <= in_dim < 2"),
    (lambda: vmap(lambda a, b: a, in_dims=(0,))(ember.ones(3), ember.ones(3)),
     "in_dims is not compatible with the structure of `inputs`"),
    (lambda: vmap(lambda a: a, in_dims=[0])(ember.ones(3)),
     "expected `in_dims` to be int or a \\(potentially nested\\) tuple"),
    (lambda: vmap(lambda a: 3)(ember.ones(3)), "must only return Tensors, got type"),
    (lambda: vmap(lambda a: a, out_dims=None)(ember.arange(3.0)),
     "can not return a BatchedTensor when out_dim is None"),
    (lambda: vmap(lambda a: (a, a), out_dims=(0,))(ember.ones(3)),
     "out_dims is not compatible with the structure of `outputs`"),
    (lambda: vmap(lambda: 1)(), "got no inputs"),
    (lambda: vmap(lambda a: a, chunk_size=0), "chunk_size should be None or greater than 0"),
])
def test_vmap_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- functional_call, per-sample gradients, ensembles -------------------------------------------

def _model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()


def test_per_sample_gradients_match_a_loop_of_backward_calls():
    model = _model()
    params = {k: v.detach() for k, v in model.named_parameters()}
    xs, ys = _rand(6, 3, seed=7), ember.tensor([0, 1, 1, 0, 1, 0])

    def loss_of(params, x, y):
        out = functional_call(model, params, (x.unsqueeze(0),))
        return F.cross_entropy(out, y.unsqueeze(0))

    per_sample = vmap(grad(loss_of), in_dims=(None, 0, 0))(params, xs, ys)
    for i in range(6):
        model.zero_grad()
        F.cross_entropy(model(xs[i:i + 1]), ys[i:i + 1]).backward()
        for name, p in model.named_parameters():
            assert_close(per_sample[name][i], p.grad, msg=f"{name}[{i}]")


def test_functional_call_restores_the_module_even_after_an_error():
    model = _model()
    w = model[0].weight
    zero = {"0.weight": ember.zeros(5, 3, dtype=D), "0.bias": ember.zeros(5, dtype=D)}
    out = functional_call(model, zero, _rand(2, 3))
    assert_close(out, model[2](ember.zeros(2, 5, dtype=D)))
    assert model[0].weight is w
    with pytest.raises(RuntimeError):
        functional_call(model, zero, (ember.ones(2, 4, dtype=D),))
    assert model[0].weight is w


def test_functional_call_tied_weights_and_strict():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False)
            self.b = nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    m = Tied()
    eye = ember.eye(2)
    x = ember.ones(1, 2)
    assert_close(functional_call(m, {"a.weight": eye * 2}, x), x * 4)
    assert_close(functional_call(m, {"a.weight": eye * 2}, x, tie_weights=False),
                 x @ (eye * 2).T @ m.a.weight.detach().T)
    with pytest.raises(ValueError, match="which are tied"):
        functional_call(m, {"a.weight": eye, "b.weight": eye * 2}, x)
    with pytest.raises(RuntimeError, match="Unexpected key\\(s\\): 'c'"):
        functional_call(m, {"a.weight": eye, "c": eye}, x, strict=True)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(m, ({"a.weight": eye}, {"a.weight": eye}), x)


def test_stack_module_state_ensembles_with_vmap():
    ember.manual_seed(0)
    models = [nn.Linear(3, 2) for _ in range(4)]
    params, buffers = stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["weight"].requires_grad
    assert params["weight"].is_leaf
    x = ember.randn(5, 3)
    out = vmap(lambda p, b, d: functional_call(models[0], (p, b), (d,)),
               in_dims=(0, 0, None))(params, buffers, x)
    for i, m in enumerate(models):
        assert_close(out[i], m(x))
    with pytest.raises(RuntimeError, match="Expected at least one model"):
        stack_module_state([])
    models[1].eval()
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        stack_module_state(models)
