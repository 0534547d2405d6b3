"""Higher-order gradients against torch: second-order products of many ops (broadcast shapes,
non-square matrices), Hessians and Hessian-vector products, a WGAN-GP gradient penalty, a
MAML inner step, a physics-informed loss, ``.grad`` with a ``grad_fn``, and the error for an
op ember cannot differentiate twice."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402

RNG = np.random.default_rng(0)


def _arr(*shape, low=None):
    a = RNG.standard_normal(shape)
    return np.abs(a) + low if low is not None else a


def _np(t):
    return None if t is None else t.detach().numpy()


def _second_order(T, fn, arrays, dtype):
    """First derivatives of <fn(xs), v> and the derivatives of <those, w>: both orders."""
    rng = np.random.default_rng(1)
    xs = [T.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    out = fn(T, *xs)
    v = T.tensor(rng.standard_normal(tuple(out.shape)), dtype=dtype)
    first = T.autograd.grad(out, xs, v, create_graph=True, allow_unused=True)
    s = sum((g * T.tensor(rng.standard_normal(tuple(g.shape)), dtype=dtype)).sum()
            for g in first if g is not None)
    second = T.autograd.grad(s, xs, allow_unused=True) if s.requires_grad else [None] * len(xs)
    return [_np(g) for g in first], [_np(g) for g in second]


def F(T):
    return T.nn.functional


CASES = {
    "arithmetic broadcast": (lambda T, a, b: (a * b - a / (b * b + 1)) ** 2 + a.sub(b, alpha=2),
                             [(3, 1, 4), (2, 4)]),
    "pow": (lambda T, a, b: a ** b + a ** 2.5 + 1.5 ** b, [(2, 3, 0.5), (3,)]),
    "unary": (lambda T, a: a.exp().log1p() * a.sqrt() + a.rsqrt() * a.abs() + a.sin() * a.cos()
              + a.log() * a.tanh() + a.sigmoid() ** 2, [(2, 3, 0.2)]),
    "activations": (lambda T, a: F(T).relu(a) * a + F(T).leaky_relu(a, 0.1) ** 2
                    + F(T).gelu(a) * a + F(T).gelu(a, approximate="tanh") + F(T).silu(a) ** 2
                    + F(T).softplus(a, beta=2.0) * a + F(T).elu(a) * a, [(3, 4)]),
    "clamp where maximum": (lambda T, a, b: T.clamp(a, -0.5, 0.5) * b + T.where(a > b, a * a, b)
                            + T.maximum(a, b) ** 2, [(3, 4), (4,)]),
    "matmul shapes": (lambda T, a, b, c, d: (a @ b).tanh().sum(-1) * (c @ d).sum()
                      + (b.transpose(-1, -2) @ a.transpose(-1, -2)).sum(), [
                          (2, 3, 4), (4, 5), (5,), (5, 3)]),
    "mm bmm addmm": (lambda T, a, b, c: T.mm(a, b).sin() + T.addmm(c, a, b, beta=0.5, alpha=2)
                     ** 2 + T.bmm(a.unsqueeze(0), b.unsqueeze(0)).squeeze(0), [
                         (3, 4), (4, 2), (1, 2)]),
    "linear": (lambda T, x, w, b: F(T).linear(x, w, b).tanh() * F(T).linear(x, w).sum(),
               [(2, 3, 4), (5, 4), (5,)]),
    "reductions": (lambda T, a: a.sum(1, keepdim=True) * a.mean((0, 1)) + a.var(1).sum()
                   + a.std() * a + a.max() * a.min(dim=1).values.sum() + a.amax(2).sum(),
                   [(2, 3, 4)]),
    "shape ops": (lambda T, a: (T.cat([a, a * 2], 1).reshape(2, 3, 4).permute(2, 0, 1)[1:]
                                .transpose(0, 2).unsqueeze(1).expand(3, 2, 2, 3).squeeze()
                                ** 2).sum((0, 1)).sum() * a
                  + T.stack([a, a.flip(0)], 0).sum(0).repeat(1, 2)[:, 3:9] ** 2, [(2, 6)]),
    "indexing": (lambda T, a: (a[:, 1:] ** 2 * a[0][1:]).sum() * a + a[T.tensor([1, 1, 0])].sum()
                 + a.gather(1, T.tensor([[2, 0], [1, 1]])).sum() * a
                 + a.index_select(0, T.tensor([1, 1])).sum(0), [(2, 3)]),
    "softmax family": (lambda T, a: F(T).softmax(a, -1) * a + F(T).log_softmax(a, 0) ** 2
                       + a.logsumexp(1, keepdim=True), [(3, 4)]),
    "norm": (lambda T, a: a.norm() * a + a.norm(dim=1, keepdim=True) * a + a.norm(p=3) * a,
             [(3, 4)]),
    "mse cross_entropy": (lambda T, a, b: F(T).mse_loss(a, b) + F(T).cross_entropy(
        a, T.tensor([0, 3, 1]), label_smoothing=0.1) * F(T).mse_loss(a, b, reduction="sum"),
        [(3, 4), (3, 4)]),
    "cross_entropy 3-D weighted": (lambda T, a: F(T).cross_entropy(
        a, T.tensor([[0, 2], [1, -100]]), weight=T.tensor([1.0, 2.0, 0.5], dtype=a.dtype),
        reduction="none") ** 2, [(2, 3, 2)]),
    "layer_norm": (lambda T, x, w, b: F(T).layer_norm(x, (4,), w, b).tanh(),
                   [(2, 3, 4), (4,), (4,)]),
    "batch_norm": (lambda T, x, w, b: F(T).batch_norm(x, None, None, w, b, training=True)
                   .sin(), [(4, 3, 2), (3,), (3,)]),
    "embedding": (lambda T, w: F(T).embedding(T.tensor([[0, 2], [2, 3]]), w) ** 2, [(4, 3)]),
    "conv2d": (lambda T, x, w, b: F(T).conv2d(x, w, b, stride=2, padding=1, groups=2).tanh(),
               [(2, 4, 5, 5), (6, 2, 3, 3), (6,)]),
    "conv_transpose2d": (lambda T, x, w: F(T).conv_transpose2d(x, w, stride=2, padding=1) ** 2,
                         [(2, 3, 3, 3), (3, 2, 3, 3)]),
    "pooling and padding": (lambda T, x: (F(T).max_pool2d(F(T).pad(x, (1, 1, 0, 2)), 2) ** 2)
                            .sum() + F(T).avg_pool2d(x, 2, padding=1).sum() * x
                            + F(T).adaptive_avg_pool2d(x, 2).sum() * x, [(1, 2, 4, 4)]),
    "attention": (lambda T, q, k, v: F(T).scaled_dot_product_attention(q, k, v, is_causal=True)
                  .tanh(), [(2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 5)]),
    "bce with logits": (lambda T, a, b: F(T).binary_cross_entropy_with_logits(
        a, b.sigmoid(), pos_weight=T.tensor([1.0, 2.0, 0.5], dtype=a.dtype)), [(2, 3), (2, 3)]),
}


def _inputs(shapes):
    return [_arr(*s[:-1], low=s[-1]) if isinstance(s[-1], float) else _arr(*s) for s in shapes]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_second_order_products_match_torch(name, dtype):
    fn, shapes = CASES[name]
    arrays = _inputs(shapes)
    e_first, e_second = _second_order(ember, fn, arrays, getattr(ember, dtype))
    t_first, t_second = _second_order(torch, fn, arrays, getattr(torch, dtype))
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == "float64" else dict(rtol=2e-3, atol=2e-4)
    for e, t in zip(e_first + e_second, t_first + t_second):
        if t is None:
            assert e is None or np.allclose(e, 0)
        else:
            np.testing.assert_allclose(e, t, **tol)


def test_hessian_hvp_vhp_match_torch():
    def f(T):
        return lambda a, b: ((a @ b).tanh() ** 2).sum() + (a.sin() * a).sum() * b.sum()

    a, b = _arr(2, 3), _arr(3, 2)
    he = ember.autograd.functional.hessian(f(ember), (ember.tensor(a), ember.tensor(b)))
    ht = torch.autograd.functional.hessian(f(torch), (torch.tensor(a), torch.tensor(b)))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(_np(he[i][j]), _np(ht[i][j]), rtol=1e-10, atol=1e-12)
    va, vb = _arr(2, 3), _arr(3, 2)
    for name in ("hvp", "vhp"):
        oe, pe = getattr(ember.autograd.functional, name)(
            f(ember), (ember.tensor(a), ember.tensor(b)), (ember.tensor(va), ember.tensor(vb)))
        ot, pt = getattr(torch.autograd.functional, name)(
            f(torch), (torch.tensor(a), torch.tensor(b)), (torch.tensor(va), torch.tensor(vb)))
        np.testing.assert_allclose(_np(oe), _np(ot), rtol=1e-12)
        for x, y in zip(pe, pt):
            np.testing.assert_allclose(_np(x), _np(y), rtol=1e-10, atol=1e-12)
    x = _arr(4)

    def g(t):
        return (t.exp() * t).sum() + t.norm()

    np.testing.assert_allclose(_np(ember.autograd.functional.hessian(g, ember.tensor(x))),
                               _np(torch.autograd.functional.hessian(g, torch.tensor(x))),
                               rtol=1e-10)


def _conv_wgan_gp(T):
    """A DCGAN-style critic: strided convolutions, leaky ReLU, a linear head."""
    rng = np.random.default_rng(7)

    def param(*shape):
        return T.tensor(rng.standard_normal(shape) * 0.3, requires_grad=True)

    w1, b1, w2, b2, w3 = param(4, 1, 3, 3), param(4), param(8, 4, 3, 3), param(8), param(1, 32)
    fn = T.nn.functional

    def critic(x):
        h = fn.leaky_relu(fn.conv2d(x, w1, b1, stride=2, padding=1), 0.2)
        h = fn.leaky_relu(fn.conv2d(h, w2, b2, stride=2, padding=1), 0.2)
        return fn.linear(h.flatten(1), w3)

    real, fake = (T.tensor(rng.standard_normal((3, 1, 8, 8))) for _ in range(2))
    mix = (0.3 * real + 0.7 * fake).requires_grad_(True)
    (grad,) = T.autograd.grad(critic(mix).sum(), mix, create_graph=True)
    penalty = ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    (critic(fake).mean() - critic(real).mean() + 10 * penalty).backward()
    return [_np(p.grad) for p in (w1, b1, w2, b2, w3)]


def test_wgan_gp_with_a_convolutional_critic_matches_torch():
    for e, t in zip(_conv_wgan_gp(ember), _conv_wgan_gp(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-12)


def _mlp_params(T, sizes, dtype):
    rng = np.random.default_rng(3)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append(T.tensor(rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), dtype=dtype,
                               requires_grad=True))
        params.append(T.tensor(rng.standard_normal(n_out) * 0.1, dtype=dtype,
                               requires_grad=True))
    return params


def _mlp(T, params, x, act):
    for i in range(0, len(params), 2):
        x = T.nn.functional.linear(x, params[i], params[i + 1])
        if i + 2 < len(params):
            x = act(x)
    return x


def _wgan_gp(T, dtype):
    params = _mlp_params(T, [4, 16, 16, 1], dtype)
    rng = np.random.default_rng(4)
    real = T.tensor(rng.standard_normal((8, 4)), dtype=dtype)
    fake = T.tensor(rng.standard_normal((8, 4)), dtype=dtype)
    alpha = T.tensor(rng.uniform(size=(8, 1)), dtype=dtype)
    mix = (alpha * real + (1 - alpha) * fake).requires_grad_(True)

    def critic(x):
        return _mlp(T, params, x, lambda h: T.nn.functional.leaky_relu(h, 0.2))

    (grad,) = T.autograd.grad(critic(mix).sum(), mix, create_graph=True)
    penalty = ((grad.norm(2, dim=1) - 1) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
    loss.backward()
    return [_np(loss)] + [_np(p.grad) for p in params]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_wgan_gp_gradient_penalty_matches_torch(dtype):
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    for e, t in zip(_wgan_gp(ember, getattr(ember, dtype)), _wgan_gp(torch, getattr(torch, dtype))):
        np.testing.assert_allclose(e, t, **tol)


def _maml(T, classify):
    params = _mlp_params(T, [3, 8, 3 if classify else 1], T.float64)
    rng = np.random.default_rng(5)
    xs, xq = (T.tensor(rng.standard_normal((6, 3))) for _ in range(2))
    if classify:
        ys, yq = T.tensor([0, 1, 2, 0, 1, 2]), T.tensor([2, 1, 0, 0, 1, 1])
        act, loss_fn = T.relu, T.nn.functional.cross_entropy
    else:
        ys, yq = (T.tensor(rng.standard_normal((6, 1))) for _ in range(2))
        act, loss_fn = T.tanh, T.nn.functional.mse_loss
    fast = params
    for _ in range(2):  # two inner steps, each differentiable
        inner = loss_fn(_mlp(T, fast, xs, act), ys)
        grads = T.autograd.grad(inner, fast, create_graph=True)
        fast = [p - 0.1 * g for p, g in zip(fast, grads)]
    outer = loss_fn(_mlp(T, fast, xq, act), yq)
    outer.backward()
    return [_np(outer)] + [_np(p.grad) for p in params]


@pytest.mark.parametrize("classify", [False, True])
def test_maml_inner_steps_match_torch(classify):
    for e, t in zip(_maml(ember, classify), _maml(torch, classify)):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-12)


def _physics_informed(T):
    """Burgers' residual u_t + u u_x - nu u_xx at collocation points, u an MLP of (x, t)."""
    params = _mlp_params(T, [2, 12, 12, 1], T.float64)
    rng = np.random.default_rng(6)
    xt = T.tensor(rng.uniform(-1, 1, (10, 2)), requires_grad=True)
    u = _mlp(T, params, xt, T.tanh)
    (du,) = T.autograd.grad(u.sum(), xt, create_graph=True)
    u_x, u_t = du[:, 0], du[:, 1]
    (ddu,) = T.autograd.grad(u_x.sum(), xt, create_graph=True)
    residual = u_t + u.squeeze(1) * u_x - 0.01 * ddu[:, 0]
    loss = (residual ** 2).mean()
    loss.backward()
    return [_np(loss), _np(xt.grad)] + [_np(p.grad) for p in params]


def test_physics_informed_loss_matches_torch():
    for e, t in zip(_physics_informed(ember), _physics_informed(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-12)


def test_leaf_grad_has_a_grad_fn_as_in_torch():
    names = {}
    for T in (ember, torch):
        x = T.tensor([1.0, -2.0, 3.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x ** 3).sum().backward(create_graph=True)
            first = type(x.grad.grad_fn).__name__
            (x.sin()).sum().backward(create_graph=True)
        (h,) = T.autograd.grad(x.grad.sum(), x)
        names[T.__name__] = (first, type(x.grad.grad_fn).__name__, _np(x.grad), _np(h))
    e, t = names["ember"], names["torch"]
    assert e[:2] == t[:2] == ("CopyBackwards", "AddBackward0")
    np.testing.assert_allclose(e[2], t[2], rtol=1e-6)
    np.testing.assert_allclose(e[3], t[3], rtol=1e-6)


def test_linear_first_derivative_has_no_graph_as_in_torch():
    for T in (ember, torch):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        (g,) = T.autograd.grad((3 * x).sum(), x, create_graph=True)
        assert g.grad_fn is None and not g.requires_grad


def test_unsupported_op_raises_where_torch_differentiates(monkeypatch):
    from ember.ops.pointwise_math import Exp2

    monkeypatch.setattr(Exp2, "backward_graph", None)  # as an op without a formula
    a = _arr(4, low=0.5)
    results = {}
    for T in (ember, torch):
        x = T.tensor(a, requires_grad=True)
        (g,) = T.autograd.grad(x.exp2().sum(), x, create_graph=True)
        results[T.__name__] = _np(g)
        if T is torch:
            g.sum().backward()
        else:
            with pytest.raises(NotImplementedError, match="Exp2Backward0"):
                g.sum().backward()
    np.testing.assert_allclose(results["ember"], results["torch"], rtol=1e-12)
