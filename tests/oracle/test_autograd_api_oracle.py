"""``autograd.grad`` options against torch: batched grad_outputs (``is_grads_batched``) and
``materialize_grads``, on a graph with broadcasting and an unused input."""
from __future__ import annotations

import numpy as np

import ember
from tests.helpers import assert_close

_RNG = np.random.default_rng(3)
X, W, V = _RNG.standard_normal(4), _RNG.standard_normal((4, 3)), _RNG.standard_normal((2, 3))
BATCH = _RNG.standard_normal((5, 3))  # five grad_outputs for the (3,) output


def _grads(T, **options):
    x, w = T.tensor(X, requires_grad=True), T.tensor(W, requires_grad=True)
    unused = T.tensor([1.0], dtype=T.float64, requires_grad=True)
    y = (x @ w).tanh() * T.tensor(V[0]) + (w * w).sum(0)     # shape (3,)
    return T.autograd.grad(y, (x, w, unused), T.tensor(BATCH), allow_unused=True, **options)


def test_batched_grad_outputs_match_torch(torch):
    mine, theirs = _grads(ember, is_grads_batched=True), _grads(torch, is_grads_batched=True)
    for m, t in zip(mine[:2], theirs[:2]):
        assert tuple(m.shape) == tuple(t.shape)
        assert_close(m.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)
    assert mine[2] is None and theirs[2] is None


def test_materialized_batched_grads_match_torch(torch):
    mine = _grads(ember, is_grads_batched=True, materialize_grads=True)
    theirs = _grads(torch, is_grads_batched=True, materialize_grads=True)
    for m, t in zip(mine, theirs):
        assert tuple(m.shape) == tuple(t.shape)
        assert_close(m.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)
