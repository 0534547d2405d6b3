"""``autograd.functional``, anomaly mode and ``utils.checkpoint`` without torch: Jacobians
against finite differences, the NaN error's two layers, and checkpointing's promise (the
same gradients, fewer bytes held for backward)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.autograd import functional as F
from ember.autograd import graph
from ember.utils.checkpoint import checkpoint, checkpoint_sequential


def _numeric_jacobian(f, x, eps=1e-6):
    base = x.numpy().copy()
    cols = []
    for i in range(base.size):
        step = np.zeros_like(base)
        step.flat[i] = eps
        hi = f(ember.tensor(base + step)).numpy()
        lo = f(ember.tensor(base - step)).numpy()
        cols.append(((hi - lo) / (2 * eps)).reshape(-1))
    return np.stack(cols, axis=-1).reshape(f(x).shape + x.shape)


def test_jacobian_matches_finite_differences():
    x = ember.tensor(np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5]]))

    def f(a):
        return (a @ a.t()).tanh()[:, :1] * a.sum(0)

    np.testing.assert_allclose(F.jacobian(f, x).numpy(), _numeric_jacobian(f, x), rtol=1e-6,
                               atol=1e-8)
    assert x.grad is None and not x.requires_grad


def test_vjp_and_jvp_are_products_with_the_jacobian():
    x = ember.tensor(np.array([0.5, -1.0, 2.0]))
    v = ember.tensor(np.array([1.0, 2.0, -1.0]))

    def f(a):
        return a.sin() * a.cumsum(0)

    jac = F.jacobian(f, x).numpy()
    out, back = F.vjp(f, x, v)
    np.testing.assert_allclose(back.numpy(), v.numpy() @ jac, rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), f(x).numpy())
    _, forward = F.jvp(f, x, v)
    np.testing.assert_allclose(forward.numpy(), jac @ v.numpy(), rtol=1e-12)


def test_hessian_of_a_cubic():
    h = F.hessian(lambda a: (a ** 3).sum(), ember.tensor([1.0, 2.0]))
    assert h.tolist() == [[6.0, 0.0], [0.0, 12.0]]


def test_anomaly_mode_names_the_node_and_its_line():
    x = ember.tensor([0.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autograd.detect_anomaly():
            assert ember.is_anomaly_enabled()
            y = x.sqrt() * 0  # the line the error must name
            with pytest.raises(RuntimeError) as info:
                y.sum().backward()
    assert not ember.is_anomaly_enabled()
    first, _, where, _ = str(info.value).splitlines()
    assert first == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert "test_functional_and_checkpoint.py" in where and "x.sqrt() * 0" in where
    # off again: the same backward gives NaN gradients silently, as torch does
    (x.sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


def _model():
    ember.manual_seed(0)
    return ember.nn.Sequential(ember.nn.Linear(6, 16), ember.nn.Tanh(), ember.nn.Dropout(0.3),
                               ember.nn.Linear(16, 16), ember.nn.Tanh(), ember.nn.Linear(16, 2))


@pytest.mark.parametrize("reentrant", [False, True])
def test_checkpoint_gives_the_same_gradients_and_holds_less(reentrant):
    x = ember.randn(8, 6)
    plain, ckpt = _model(), _model()
    ember.manual_seed(1)
    out_plain = plain(x)
    ember.manual_seed(1)  # the recomputation must draw the same dropout mask
    out_ckpt = ckpt[5](checkpoint(ckpt[:5], x, use_reentrant=reentrant))
    assert graph.stats(out_ckpt).saved_bytes < graph.stats(out_plain).saved_bytes
    (out_plain ** 2).sum().backward()
    (out_ckpt ** 2).sum().backward()
    np.testing.assert_allclose(out_ckpt.detach().numpy(), out_plain.detach().numpy())
    for a, b in zip(plain.parameters(), ckpt.parameters()):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_checkpoint_sequential_reaches_every_parameter():
    model = _model().eval()
    out = checkpoint_sequential(model, 3, ember.randn(4, 6), use_reentrant=False)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
