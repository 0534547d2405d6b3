"""In-place ops on views against torch: the same code, the same values and gradients, the
same node names on the base (CopySlices) and the view (AsStridedBackward0)."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.helpers import assert_close


def row_mul(T, a, w):
    x = a * 2
    x[0].mul_(3)
    return (x * x).sum(), x


def setitem_on_view(T, a, w):
    x = a * 1
    x[1][1:] = w[:2]
    return (x * x * x).sum(), x


def base_changed_then_old_view(T, a, w):
    x = a * 2
    v = x[:, 1]
    x.mul_(3)
    return (v * v).sum(), x


def transposed(T, a, w):
    x = a * 2
    v = x.t()
    v[0].add_(10)
    v.mul_(v[:, :1] * 0 + 2)
    return (x ** 2).sum(), x


def non_grad_base(T, a, w):
    b = T.zeros(3, 4, dtype=T.float64)
    b[:, 2].add_(w)
    return (b.exp() * b).sum(), b


def expanded_refresh(T, a, w):
    x = a * 1
    e = x[0:1].expand(2, 3)
    x[0].mul_(2)
    return (e * e).sum(), x


def clamp_then_relu_on_columns(T, a, w):
    x = a.tanh()
    y = x * 1
    y[:, ::2].clamp_(min=-0.1)
    y[:, 1:].relu_()
    return (y * a).sum(), y


def setitem_on_base(T, a, w):
    x = a * 1
    x[0] = 2.0
    x[1, 1:] = w[:2]
    x[:, 0] = w[2]
    return (x * x * x).sum(), x


CASES = [setitem_on_base, row_mul, setitem_on_view, base_changed_then_old_view, transposed,
         non_grad_base, expanded_refresh, clamp_then_relu_on_columns]


def _run(T, fn, a_np, w_np):
    a = T.tensor(a_np, requires_grad=True)
    w = T.tensor(w_np, requires_grad=True)
    loss, base = fn(T, a, w)
    loss.backward()
    grads = [None if t.grad is None else t.grad.detach().numpy() for t in (a, w)]
    return loss.item(), base.detach().numpy(), grads, type(base.grad_fn).__name__


@pytest.mark.parametrize("fn", CASES, ids=[f.__name__ for f in CASES])
def test_view_inplace_matches_torch(fn, torch):
    rng = np.random.default_rng(3)
    a_np, w_np = rng.standard_normal((2, 3)), rng.standard_normal(3)
    e_loss, e_base, e_grads, e_name = _run(ember, fn, a_np, w_np)
    t_loss, t_base, t_grads, t_name = _run(torch, fn, a_np, w_np)
    assert e_loss == pytest.approx(t_loss, rel=1e-12)
    assert_close(e_base, t_base, rtol=1e-12, atol=1e-12)
    for eg, tg in zip(e_grads, t_grads):
        assert (eg is None) == (tg is None)
        if eg is not None:
            assert_close(eg, tg, rtol=1e-10, atol=1e-12)
    assert e_name == t_name


def test_view_node_names_match_torch(torch):
    names = []
    for T in (ember, torch):
        x = T.ones(2, 3, requires_grad=True) * 2
        v = x[0]
        v.mul_(3)
        names.append((type(x.grad_fn).__name__, type(v.grad_fn).__name__))
    assert names[0] == names[1] == ("CopySlices", "AsStridedBackward0")


def test_view_of_leaf_error_matches_torch(torch):
    messages = []
    for T in (ember, torch):
        a = T.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            a[0].mul_(2)
        messages.append(str(info.value).splitlines()[0])
    assert messages[0] == messages[1]
