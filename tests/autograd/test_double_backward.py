"""Higher-order gradients without torch: every op's Tensor-level backward formula is checked
by ``gradgradcheck`` (finite differences of the first derivatives ember computes), and the
engine's create_graph behaviour (``.grad`` with a graph, delayed errors, hooks, retain) is
checked directly."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import functional as AF
from ember.autograd import gradgradcheck
from ember.autograd.function import Op

D = ember.float64


def _a(t):
    return t.detach().numpy()


def _t(*shape, low=None, seed=0):
    rng = np.random.default_rng(seed + sum(shape))
    a = rng.standard_normal(shape)
    if low is not None:  # away from a kink or a pole
        a = np.abs(a) + low
    return ember.tensor(a, dtype=D, requires_grad=True)


def _ids():
    return ember.tensor([0, 2, 1, 2])


# name -> (function, inputs)
CASES = {
    "add broadcast alpha": (lambda a, b: ember.add(a, b, alpha=2) * a, (_t(2, 3), _t(3))),
    "sub broadcast": (lambda a, b: (a - b) ** 2, (_t(2, 1), _t(3))),
    "mul broadcast": (lambda a, b: a * b * a, (_t(2, 3), _t(2, 1))),
    "div": (lambda a, b: a / b, (_t(2, 3), _t(3, low=0.5))),
    "neg and scalar ops": (lambda a: -(3 * a - 1) / 2 + a * a, (_t(2, 3),)),
    "pow scalar": (lambda a: a ** 3 + a ** -1.5, (_t(2, 3, low=0.5),)),
    "pow tensor": (lambda a, b: a ** b, (_t(2, 3, low=0.5), _t(3))),
    "rpow and reciprocal": (lambda a: 2 ** a + a.reciprocal(), (_t(2, 3, low=0.5),)),
    "exp log": (lambda a: a.exp() * a.log(), (_t(2, 3, low=0.5),)),
    "log1p log2 expm1": (lambda a: a.log1p() * a.log2() + a.expm1(), (_t(2, 3, low=0.5),)),
    "sqrt rsqrt": (lambda a: a.sqrt() * a + a.rsqrt(), (_t(2, 3, low=0.5),)),
    "abs": (lambda a: a.abs() * a, (_t(2, 3, low=0.1),)),
    "sin cos tan": (lambda a: a.sin() * a.cos() + (a * 0.3).tan(), (_t(2, 3),)),
    "tanh sigmoid": (lambda a: a.tanh() * a.sigmoid(), (_t(2, 3),)),
    "relu leaky_relu": (lambda a: F.relu(a) * a + F.leaky_relu(a, 0.2) ** 2, (_t(2, 3),)),
    "gelu": (lambda a: F.gelu(a) + F.gelu(a, approximate="tanh") ** 2, (_t(2, 3),)),
    "silu softplus": (lambda a: F.silu(a) + F.softplus(a, beta=2.0), (_t(2, 3),)),
    "elu": (lambda a: F.elu(a, alpha=0.7) ** 2, (_t(2, 3),)),
    "logsigmoid hardtanh": (lambda a: F.logsigmoid(a) + F.hardtanh(a * 0.3) * a,
                            (_t(2, 3),)),
    "erf": (lambda a: ember.erf(a) * a, (_t(2, 3),)),
    "clamp numbers": (lambda a: a.clamp(-0.5, 0.5) * a, (_t(2, 3),)),
    "clamp tensors": (lambda a, lo: ember.clamp(a, min=lo) ** 2, (_t(2, 3), _t(3))),
    "where": (lambda a, b: ember.where(a > 0, a * b, b * b), (_t(2, 3), _t(3))),
    "maximum minimum": (lambda a, b: ember.maximum(a, b) * ember.minimum(a, b),
                        (_t(2, 3), _t(3))),
    "mm non-square": (lambda a, b: (a @ b).tanh(), (_t(2, 3), _t(3, 4))),
    "matmul 1-D": (lambda a, b, c: (a @ b) * c.sum() + (b @ c)[:2] * a[0],
                   (_t(3), _t(3, 2), _t(2))),
    "matmul dot": (lambda a, b: (a @ b) * a, (_t(3), _t(3))),
    "matmul broadcast": (lambda a, b: (a @ b).sin(), (_t(2, 2, 3), _t(3, 2))),
    "bmm": (lambda a, b: ember.bmm(a, b) ** 2, (_t(2, 2, 3), _t(2, 3, 2))),
    "linear 3-D": (lambda x, w, b: F.linear(x, w, b).tanh(), (_t(2, 2, 3), _t(2, 3), _t(2))),
    "addmm": (lambda c, a, b: ember.addmm(c, a, b, beta=0.5, alpha=2) ** 2,
              (_t(2, 1), _t(2, 3), _t(3, 2))),
    "sum mean dims": (lambda a: a.sum(1, keepdim=True) * a.mean(0) + a.sum() * a,
                      (_t(2, 3),)),
    "var std": (lambda a: a.var(1) * a.std(0).sum() + a.var(), (_t(3, 4),)),
    "max min": (lambda a: a.max() * a + a.min(1).values.sum() * a + a.amax(0).sum() * a,
                (_t(2, 3),)),
    "shape ops": (lambda a: (a.reshape(3, 2).t().unsqueeze(0).expand(2, 2, 3).permute(2, 0, 1)
                             .squeeze().transpose(0, 1)) ** 2, (_t(2, 3),)),
    "indexing": (lambda a: a[1:, ::2].sum() * a[0, 1] + a[ember.tensor([1, 0, 1])].sum(0) ** 2
                 + a[None, :, 1].sum() * a[a > 0].sum(), (_t(2, 3),)),
    "cat stack split": (lambda a, b: ember.stack([ember.cat([a, b], 0)] * 2).split(1, 1)[0]
                        ** 2, (_t(2, 3), _t(1, 3))),
    "flip repeat tril": (lambda a: a.flip(1).repeat(2, 1).tril() ** 2, (_t(3, 3),)),
    "gather index_select masked_fill": (
        lambda a: a.gather(1, ember.tensor([[0, 2], [1, 1]])) ** 2
        + a.index_select(1, ember.tensor([2, 2])).sum() * a[:, :2]
        + a.masked_fill(a > 0.5, 0.5)[:, :2] ** 2, (_t(2, 3),)),
    "softmax log_softmax logsumexp": (
        lambda a: F.softmax(a, 1) * a + F.log_softmax(a, 0) ** 2 + a.logsumexp(1, True),
        (_t(2, 3),)),
    "norm": (lambda a: a.norm() * a + a.norm(dim=1).sum() * a + a.norm(p=3) * a
             + a.norm(p=1) * a, (_t(2, 3, low=0.1),)),
    "cumsum einsum": (lambda a, b: a.cumsum(1) ** 2 + ember.einsum("ij,kj->ik", a, b).sum(),
                      (_t(2, 3), _t(2, 3))),
    "mse smooth_l1 huber": (
        lambda a, b: F.mse_loss(a, b) + F.smooth_l1_loss(a * 3, b, reduction="sum")
        + F.huber_loss(a, b * 2, reduction="none").sum() ** 2, (_t(2, 3), _t(2, 3))),
    "binary cross entropy": (
        lambda a, b, y: F.binary_cross_entropy(a.sigmoid(), b.sigmoid()) * 3
        + F.binary_cross_entropy_with_logits(a, y, pos_weight=ember.tensor([1.0, 2.0, 0.5],
                                                                           dtype=D)) ** 2
        + F.binary_cross_entropy_with_logits(a * 2, b.sigmoid(), reduction="sum"),
        (_t(2, 3), _t(2, 3, seed=1), _t(2, 3, seed=2).sigmoid().detach())),
    "cross_entropy": (lambda a: F.cross_entropy(a, ember.tensor([0, 2, 1])) ** 2,
                      (_t(3, 4),)),
    "cross_entropy weighted smoothed ignored": (
        lambda a: F.cross_entropy(a, ember.tensor([0, 2, -100]), weight=ember.tensor(
            [1.0, 2.0, 0.5, 1.0], dtype=D), label_smoothing=0.1), (_t(3, 4),)),
    "cross_entropy 3-D none": (
        lambda a: F.cross_entropy(a, ember.tensor([[0, 2], [1, 1]]), reduction="none") ** 2,
        (_t(2, 3, 2),)),
    "nll_loss": (lambda a: F.nll_loss(F.log_softmax(a, 1), ember.tensor([0, 2])) ** 2,
                 (_t(2, 3),)),
    "embedding": (lambda w: F.embedding(_ids(), w, padding_idx=1) ** 2, (_t(3, 2),)),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (3,), w, b) ** 2,
                   (_t(2, 3), _t(3), _t(3))),
    "batch_norm training": (
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) ** 2,
        (_t(4, 2), _t(2), _t(2))),
    "batch_norm 3-D": (lambda x, w: F.batch_norm(x, None, None, w, training=True).sin(),
                       (_t(3, 2, 2), _t(2))),
    "batch_norm eval": (
        lambda x, w, b: F.batch_norm(x, ember.zeros(2, dtype=D), ember.ones(2, dtype=D) * 2,
                                     w, b, training=False) ** 2, (_t(3, 2), _t(2), _t(2))),
    "dropout": (lambda a: _seeded_dropout(a) ** 2, (_t(2, 3),)),
    "conv2d groups stride dilation": (
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                                 groups=2).tanh(), (_t(1, 4, 4, 4), _t(4, 2, 2, 2), _t(4))),
    "conv1d uncovered elements": (lambda x, w: F.conv1d(x, w, stride=3) ** 2,
                                  (_t(2, 2, 7), _t(3, 2, 3))),
    "conv_transpose1d": (lambda x, w: F.conv_transpose1d(x, w, stride=2, padding=1,
                                                         output_padding=1).sin(),
                         (_t(2, 2, 4), _t(2, 3, 3))),
    "pooling": (lambda x: (F.max_pool2d(x, 2, stride=2, padding=1) ** 2).sum()
                + (F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                count_include_pad=False) ** 2).sum()
                + (F.adaptive_avg_pool2d(x, 2) ** 3).sum(), (_t(1, 2, 4, 4),)),
    "pad": (lambda x: (F.pad(x, (1, 2, -1, 1), value=0.5) ** 2).sum()
            + (F.pad(x, (2, 1, 1, 2), mode="reflect") ** 3).sum()
            + (F.pad(x, (1, 1, 1, 1), mode="circular") ** 3).sum(), (_t(1, 2, 3, 3),)),
    "attention causal": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)
                         ** 2, (_t(2, 3, 4), _t(2, 3, 4, seed=1), _t(2, 3, 2))),
    "attention masked rows": (
        lambda q, k, v: F.scaled_dot_product_attention(
            q, k, v, attn_mask=ember.tensor([[True, False, True], [False] * 3])).sin(),
        (_t(1, 2, 3), _t(1, 3, 3, seed=1), _t(1, 3, 2))),
}


def _seeded_dropout(a):
    ember.manual_seed(0)  # the same mask on every call
    return F.dropout(a, 0.5)


@pytest.mark.parametrize("name", list(CASES))
def test_gradgradcheck(name):
    fn, inputs = CASES[name]
    assert gradgradcheck(fn, inputs)


def test_a_users_function_is_differentiable_twice():
    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    assert gradgradcheck(Cube.apply, (_t(2, 3),))


def test_once_differentiable_raises_on_the_second_backward():
    class Twice(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @ember.autograd.function.once_differentiable
        def backward(ctx, grad):
            return grad * 2

    x = _t(3)
    (g,) = ember.autograd.grad((Twice.apply(x) ** 2).sum(), x, create_graph=True)
    np.testing.assert_allclose(_a(g), 8 * _a(x))
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_grad_of_a_first_derivative_matches_the_closed_form():
    x = _t(4)
    (g,) = ember.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.grad_fn is not None
    (h,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(_a(h), 6 * _a(x))


def test_leaf_grad_keeps_a_graph_and_accumulates_out_of_place():
    x = _t(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (x ** 2).sum().backward(create_graph=True)
    assert x.grad.grad_fn.name() == "CopyBackwards"
    first = x.grad
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad is not first and x.grad.grad_fn.name() == "AddBackward0"
    np.testing.assert_allclose(_a(x.grad), 2 * _a(x) + 3 * _a(x) ** 2)
    (h,) = ember.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(_a(h), 2 + 6 * _a(x))


def test_linear_gradients_need_no_graph():
    x = _t(3)
    (g,) = ember.autograd.grad((x * 2).sum(), x, create_graph=True)
    assert g.grad_fn is None and not g.requires_grad


def test_create_graph_retains_the_graph_by_default():
    x = _t(3)
    y = (x.exp() * x).sum()
    ember.autograd.grad(y, x, create_graph=True)
    (g,) = ember.autograd.grad(y, x)  # the graph is still there
    np.testing.assert_allclose(_a(g), np.exp(_a(x)) * (1 + _a(x)))


class _Exp2(Op):
    """z = 2 ** x, with a NumPy backward and no Tensor-level formula"""

    @staticmethod
    def forward(ctx, x):
        out = np.exp2(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * np.log(2)


def test_an_op_without_a_formula_raises_on_the_second_backward_only():
    x = _t(4, low=0.5)
    (g,) = ember.autograd.grad(_Exp2.apply(x).sum(), x, create_graph=True)
    a = _a(x)
    expected = np.exp2(a) * np.log(2)
    np.testing.assert_allclose(_a(g), expected)  # the first derivative is right
    with pytest.raises(NotImplementedError, match="Exp2Backward"):
        g.sum().backward()


def test_gradients_with_respect_to_grad_outputs():
    x, v = _t(3), _t(3)
    (g,) = ember.autograd.grad(x.sin(), x, grad_outputs=v, create_graph=True)
    gx, gv = ember.autograd.grad(g.sum(), (x, v))
    np.testing.assert_allclose(_a(gx), -np.sin(_a(x)) * _a(v))
    np.testing.assert_allclose(_a(gv), np.cos(_a(x)))


def test_hooks_see_tensors_with_a_graph():
    x = _t(3)
    seen = []
    y = x * x
    y.register_hook(lambda g: seen.append(g) or g * 2)
    (g,) = ember.autograd.grad(y.sum() * y.sum(), x, create_graph=True)
    assert isinstance(seen[0], ember.Tensor) and seen[0].requires_grad
    s = _a(x)
    np.testing.assert_allclose(_a(g), 2 * 2 * (s * s).sum() * 2 * s)


def _numeric_hessian(f, x, eps=1e-5):
    base = _a(x)
    h = np.zeros((base.size, base.size))
    for i in range(base.size):
        cols = []
        for sign in (1, -1):
            a = base.copy()
            a.flat[i] += sign * eps
            t = ember.tensor(a, requires_grad=True)
            (g,) = ember.autograd.grad(f(t), t)
            cols.append(_a(g).reshape(-1))
        h[:, i] = (cols[0] - cols[1]) / (2 * eps)
    return h.reshape(base.shape + base.shape)


def test_hessian_hvp_vhp_match_finite_differences():
    def f(a):
        return (a.tanh() @ a.t()).sin().sum() + (a ** 3).sum()

    x = _t(2, 3)
    h = AF.hessian(f, x)
    np.testing.assert_allclose(_a(h), _numeric_hessian(f, x), rtol=1e-5, atol=1e-7)
    v = _t(2, 3, seed=7).detach()
    flat = _a(h).reshape(6, 6) @ _a(v).reshape(-1)
    out, hv = AF.hvp(f, x, v)
    np.testing.assert_allclose(_a(hv).reshape(-1), flat, rtol=1e-10)
    np.testing.assert_allclose(_a(out), _a(f(x)))
    _, vh = AF.vhp(f, x, v)
    np.testing.assert_allclose(_a(vh).reshape(-1), flat, rtol=1e-10)
    assert not hv.requires_grad


def test_hessian_of_two_inputs_has_the_cross_terms():
    x, y = _t(2), _t(3)
    (hxx, hxy), (hyx, hyy) = AF.hessian(lambda a, b: (a.sum() * b.exp()).sum() * a[0], (x, y))
    np.testing.assert_allclose(_a(hxy), _a(hyx).T)
    assert hxx.shape == (2, 2) and hyy.shape == (3, 3)


def test_jacobian_with_create_graph_can_be_differentiated():
    x = _t(3)
    jac = AF.jacobian(lambda a: a ** 3, x, create_graph=True)
    assert jac.requires_grad
    (g,) = ember.autograd.grad(jac.sum(), x)
    np.testing.assert_allclose(_a(g), 6 * _a(x))


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x.detach() ** 2  # right values, but no second derivative

    assert not gradgradcheck(Wrong.apply, (_t(3),), raise_exception=False)
