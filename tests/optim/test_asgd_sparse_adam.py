"""ASGD and SparseAdam against float64 NumPy transcriptions of torch's algorithms (no torch
needed), their state layout, and their errors; tests/oracle/test_lbfgs_oracle.py compares
both with torch itself."""

import copy

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter
from tests.helpers import assert_close

SHAPES = ((3, 4), (5,), ())
STEPS = 12


def grad_fn(x, k):
    """A smooth, step-dependent gradient field (float64 in, float64 out)."""
    return 1.5 * (x - 0.3) + 0.5 * np.sin(3.0 * x + k)


def starts(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


# --------------------------------------------------------------------------- ASGD
def ref_asgd(x, steps, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
             maximize=False):
    eta, mu, ax = lr, 1.0, np.zeros_like(x)
    for k in range(steps):
        step = k + 1
        g = grad_fn(x, k)
        g = -g if maximize else g
        g = g + weight_decay * x
        x = x * (1 - lambd * eta) - eta * g
        ax = x.copy() if mu == 1 else ax + mu * (x - ax)
        eta = lr / (1 + lambd * lr * step) ** alpha
        mu = 1 / max(1, step - t0)
    return x, ax, eta, mu


ASGD_CASES = [
    {},
    {"lr": 0.05, "t0": 4},
    {"lr": 0.05, "t0": 2, "lambd": 0.05, "alpha": 0.5},
    {"lr": 0.02, "t0": 0, "weight_decay": 0.1, "maximize": True},
]


@pytest.mark.parametrize("kwargs", ASGD_CASES, ids=str)
def test_asgd_matches_the_reference(kwargs):
    # under a float64 default the scalar state (eta, mu) is float64 too, so the reference
    # holds to rounding
    ember.set_default_dtype(ember.float64)
    params = [Parameter(ember.tensor(x.copy())) for x in starts()]
    opt = optim.ASGD(params, **kwargs)
    for k in range(STEPS):
        for p in params:
            p.grad = ember.tensor(grad_fn(p.detach().numpy(), k))
        opt.step()
    for p, x0 in zip(params, starts()):
        x, ax, eta, mu = ref_asgd(x0, STEPS, **kwargs)
        state = opt.state[p]
        assert_close(p, x, rtol=1e-12, atol=1e-14)
        assert_close(state["ax"], ax, rtol=1e-12, atol=1e-14)
        assert float(state["eta"]) == pytest.approx(eta, rel=1e-15)
        assert float(state["mu"]) == pytest.approx(mu, rel=1e-15)
        assert float(state["step"]) == STEPS


def test_asgd_ax_averages_the_iterates_after_t0():
    # with t0 = 0, mu is 1 for the first two steps, then 1/2, 1/3, ...: ax is the mean of
    # the iterates from the second step on
    ember.set_default_dtype(ember.float64)
    p = Parameter(ember.tensor([1.0, -2.0]))
    opt = optim.ASGD([p], lr=0.1, t0=0)
    iterates = []
    for k in range(6):
        p.grad = ember.tensor(grad_fn(p.detach().numpy(), k))
        opt.step()
        iterates.append(p.detach().numpy().copy())
    assert_close(opt.state[p]["ax"], np.mean(iterates[1:], axis=0), rtol=1e-12, atol=1e-15)


def test_asgd_state_layout_and_dtypes():
    p = Parameter(ember.zeros(2, 3))
    q = Parameter(ember.zeros(4))
    opt = optim.ASGD([p, q], lr=0.05)
    p.grad = ember.ones(2, 3)
    opt.step()
    state = opt.state[p]
    assert list(state) == ["step", "eta", "mu", "ax"]
    for key in ("step", "eta", "mu"):
        assert state[key].ndim == 0 and state[key].dtype == ember.float32
    assert state["ax"].shape == (2, 3)
    assert float(state["eta"]) == pytest.approx(0.05 / (1 + 1e-4 * 0.05) ** 0.75, rel=1e-7)
    assert q not in opt.state  # no gradient, no state
    assert opt.state_dict()["param_groups"][0] == {
        "lr": 0.05, "lambd": 1e-4, "alpha": 0.75, "t0": 1e6, "weight_decay": 0,
        "foreach": None, "maximize": False, "differentiable": False, "capturable": False,
        "params": [0, 1],
    }


def test_asgd_state_dict_round_trip_continues_identically():
    def build(values):
        params = [Parameter(ember.tensor(v.copy())) for v in values]
        return params, optim.ASGD(params, lr=0.05, t0=2)

    params, opt = build([x.astype(np.float32) for x in starts()])
    for k in range(3):
        for p in params:
            p.grad = ember.tensor(grad_fn(p.detach().numpy(), k).astype(np.float32))
        opt.step()
    params2, opt2 = build([p.detach().numpy() for p in params])
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    for k in range(3, 6):
        for p, p2 in zip(params, params2):
            p.grad = ember.tensor(grad_fn(p.detach().numpy(), k).astype(np.float32))
            p2.grad = ember.tensor(grad_fn(p2.detach().numpy(), k).astype(np.float32))
        opt.step()
        opt2.step()
    for p, p2 in zip(params, params2):
        np.testing.assert_array_equal(p.detach().numpy(), p2.detach().numpy())
        np.testing.assert_array_equal(opt.state[p]["ax"].numpy(), opt2.state[p2]["ax"].numpy())


def test_asgd_errors():
    p = Parameter(ember.zeros(2))
    with pytest.raises(ValueError, match="^Invalid learning rate: -0.1$"):
        optim.ASGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="^Invalid weight_decay value: -1$"):
        optim.ASGD([p], weight_decay=-1)
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.ASGD([p], differentiable=True)


# --------------------------------------------------------------------------- SparseAdam
def ref_sparse_adam(x, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
    """Adam restricted to the rows (along dim 0) where the gradient has a nonzero entry (the
    rows the tests put in the sparse gradient)."""
    b1, b2 = betas
    x = x.reshape(-1, *x.shape[1:]) if x.ndim else x.reshape(1)
    m, v = np.zeros_like(x), np.zeros_like(x)
    for step, g in enumerate(grads, 1):
        g = g.reshape(x.shape)
        g = -g if maximize else g
        rows = np.flatnonzero(g.reshape(len(g), -1).any(axis=1))
        if rows.size == 0:
            continue
        m[rows] += (1 - b1) * (g[rows] - m[rows])
        v[rows] += (1 - b2) * (g[rows] ** 2 - v[rows])
        step_size = lr * np.sqrt(1 - b2**step) / (1 - b1**step)
        x[rows] -= step_size * m[rows] / (np.sqrt(v[rows]) + eps)
    return x, m, v


SPARSE_ADAM_CASES = [
    {},
    {"lr": 0.05},
    {"lr": 0.05, "betas": (0.5, 0.8), "eps": 1e-3},
    {"lr": 0.02, "maximize": True},
]


@pytest.mark.parametrize("kwargs", SPARSE_ADAM_CASES, ids=str)
def test_sparse_adam_matches_the_reference(kwargs):
    rng = np.random.default_rng(1)
    params = [Parameter(ember.tensor(x.copy())) for x in starts()]
    opt = optim.SparseAdam(params, **kwargs)
    history = [[] for _ in params]
    for k in range(STEPS):
        for i, p in enumerate(params):
            g = grad_fn(p.detach().numpy(), k)
            if g.ndim:
                g[rng.random(g.shape[0]) < 0.5] = 0.0  # rows this step does not touch
                p.grad = ember.tensor(g).to_sparse(1)  # the rows with a nonzero entry
            elif k % 3 == 0:
                g = np.zeros_like(g)  # no entry at all
                p.grad = ember.sparse_coo_tensor(np.zeros((0, 0), np.int64), np.zeros(0), (),
                                                 check_invariants=False)
            else:
                p.grad = ember.tensor(g).to_sparse()
            history[i].append(g)
        opt.step()
    for p, x0, grads in zip(params, starts(), history):
        x, m, v = ref_sparse_adam(x0.copy(), grads, **kwargs)
        state = opt.state[p]
        assert_close(p.detach().numpy().reshape(x.shape), x, rtol=1e-12, atol=1e-14)
        assert_close(state["exp_avg"].numpy().reshape(m.shape), m, rtol=1e-12, atol=1e-14)
        assert_close(state["exp_avg_sq"].numpy().reshape(v.shape), v, rtol=1e-12, atol=1e-14)
        assert state["step"] == STEPS


def test_sparse_adam_leaves_untouched_rows_alone():
    weight = Parameter(ember.tensor(np.arange(12.0).reshape(4, 3)))
    opt = optim.SparseAdam([weight], lr=0.1)
    grad = np.zeros((4, 3))
    grad[1] = [1.0, 0.0, -2.0]  # row 1 is touched, including its zero entry
    weight.grad = ember.tensor(grad).to_sparse(1)
    opt.step()
    after = weight.detach().numpy()
    np.testing.assert_array_equal(after[[0, 2, 3]], np.arange(12.0).reshape(4, 3)[[0, 2, 3]])
    # the first Adam step moves each touched entry by lr * g / (|g| + eps'): -0.1, 0, +0.1
    np.testing.assert_allclose(after[1], [3 - 0.1, 4.0, 5 + 0.1], rtol=1e-6)
    exp_avg = opt.state[weight]["exp_avg"].numpy()
    np.testing.assert_allclose(exp_avg, 0.1 * grad)
    weight.grad = ember.zeros(4, 3, dtype=ember.float64).to_sparse(1)  # no entry: counted
    opt.step()
    np.testing.assert_array_equal(weight.detach().numpy(), after)
    assert opt.state[weight]["step"] == 2
    assert list(opt.state[weight]) == ["step", "exp_avg", "exp_avg_sq"]


def test_sparse_adam_errors():
    p = Parameter(ember.zeros(2))
    with pytest.raises(ValueError, match="^Invalid learning rate: 0.0$"):
        optim.SparseAdam([p], lr=0.0)
    with pytest.raises(ValueError, match="^Invalid epsilon value: 0.0$"):
        optim.SparseAdam([p], eps=0.0)
    with pytest.raises(ValueError, match=r"^Invalid beta parameter at index 0: 1.0$"):
        optim.SparseAdam([p], betas=(1.0, 0.999))
    with pytest.raises(ValueError, match=r"^Invalid beta parameter at index 1: -0.1$"):
        optim.SparseAdam([p], betas=(0.9, -0.1))
    with pytest.raises(ValueError, match="^Tensor lr must be 1-element$"):
        optim.SparseAdam([p], lr=ember.tensor([0.1, 0.2]))


def test_sparse_adam_refuses_dense_gradients_and_sparse_params():
    p = Parameter(ember.zeros(2))
    opt = optim.SparseAdam([p])
    p.grad = ember.ones(2)
    with pytest.raises(RuntimeError, match="^SparseAdam does not support dense gradients, "
                                           "please consider Adam instead$"):
        opt.step()
    assert opt.state[p] == {}  # refused before any change
    sparse = ember.ones(2).to_sparse()
    with pytest.raises(ValueError, match=r"^Sparse params at indices \[\[0, 0\]\]: SparseAdam "
                                         "requires dense parameter tensors$"):
        optim.SparseAdam([sparse])
