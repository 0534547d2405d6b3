"""The autograd API around backward, against torch: ``autograd.grad``'s batched
grad_outputs and ``materialize_grads``, ``autograd.functional`` (jacobian, vjp, jvp), anomaly
mode's NaN error, and ``utils.checkpoint``."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

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


# --- torch.autograd.functional ------------------------------------------------------------
def _functional_results(T):
    F = T.autograd.functional
    x = T.tensor(X)
    m = T.tensor(W)
    return {
        "jacobian": F.jacobian(lambda a: (a ** 2).cumsum(0)[:3], x),
        "jacobian_matrix": F.jacobian(lambda w: (w.t() @ w).sum(1), m),
        "jacobian_two_in_two_out": F.jacobian(lambda a, w: (a @ w, (a * a).sum()), (x, m)),
        "vjp": F.vjp(lambda a, w: (a @ w).tanh(), (x, m), T.tensor(BATCH[0])),
        "vjp_scalar_output": F.vjp(lambda a: (a * a).sum(), x),
        "jvp": F.jvp(lambda a: (a @ m).sin(), x, T.tensor(X[::-1].copy())),
        "jacobian_constant": F.jacobian(lambda a: T.ones(2, dtype=T.float64), x),
    }


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [_flat(v) for v in value]
    return value.detach().numpy()


def test_functional_derivatives_match_torch(torch):
    mine, theirs = _functional_results(ember), _functional_results(torch)
    for name in mine:
        a, b = _flat(mine[name]), _flat(theirs[name])
        np.testing.assert_allclose(np.concatenate([np.ravel(v) for v in _leaves(a)]),
                                   np.concatenate([np.ravel(v) for v in _leaves(b)]),
                                   rtol=1e-12, atol=1e-12, err_msg=name)
        assert [v.shape for v in _leaves(a)] == [v.shape for v in _leaves(b)], name


def _leaves(nested):
    if isinstance(nested, list):
        return [leaf for item in nested for leaf in _leaves(item)]
    return [nested]


def test_strict_mode_error_matches_torch(torch):
    for T in (ember, torch):
        with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not "
                                               "require gradients"):
            T.autograd.functional.jacobian(lambda a, T=T: T.ones(2), T.tensor(X), strict=True)


# --- anomaly mode -----------------------------------------------------------------------------
def _nan_error(T, fn):
    x = T.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with T.autograd.detect_anomaly():
            with pytest.raises(RuntimeError) as info:
                fn(x).sum().backward()
    return str(info.value).splitlines()[0]


@pytest.mark.parametrize("fn", [lambda x: x.sqrt() * 0, lambda x: (x - x) / (x - x)],
                         ids=["sqrt_at_zero", "zero_over_zero"])
def test_anomaly_mode_names_the_node_as_torch(fn, torch):
    assert _nan_error(ember, fn) == _nan_error(torch, fn)


# --- checkpointing ----------------------------------------------------------------------------
def _checkpointed_grads(T, reentrant):
    from importlib import import_module

    checkpoint = import_module(T.__name__ + ".utils.checkpoint").checkpoint
    T.manual_seed(0)
    lin1 = T.nn.Linear(4, 6).double()
    lin2 = T.nn.Linear(6, 3).double()
    lin1.weight.data = T.tensor(np.linspace(-1, 1, 24).reshape(6, 4))
    lin2.weight.data = T.tensor(np.linspace(1, -1, 18).reshape(3, 6))
    lin1.bias.data, lin2.bias.data = T.tensor(np.linspace(-0.5, 0.5, 6)), T.tensor(X[:3].copy())
    x = T.tensor(BATCH[:4, :3].T.copy() @ np.ones((4, 4)) * 0.1, requires_grad=True)
    h = checkpoint(lambda a: lin1(a).tanh() * 2, x, use_reentrant=reentrant)
    (lin2(h) ** 2).sum().backward()
    return [t.grad.numpy() for t in (x, lin1.weight, lin1.bias, lin2.weight)]


@pytest.mark.parametrize("reentrant", [False, True])
def test_checkpoint_gradients_match_torch(reentrant, torch):
    for a, b in zip(_checkpointed_grads(ember, reentrant), _checkpointed_grads(torch, reentrant)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
