"""Optimizers on complex parameters without torch: a complex parameter steps exactly as its
real view (a real parameter of shape ``(*shape, 2)``) does, its state stays complex and is
that view's state, state dicts round-trip, and the optimizers that refuse complex parameters
say so. tests/oracle/test_optim_complex_oracle.py compares with torch itself."""

import copy

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter

STEPS = 12
SHAPE = (2, 3)

CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.01, "t0": 3, "lambd": 1e-3}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "maximize": True, "weight_decay": 0.1,
              "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01, "amsgrad": True}),
    ("RMSprop", {"lr": 0.005}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.9, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.5}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Rprop", {"lr": 0.01, "etas": (0.3, 1.5), "step_sizes": (1e-4, 1)}),
]


def case_id(case):
    """A readable test id: the optimizer's name and its options."""
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def grad_fn(x, k):
    """A smooth, step-dependent gradient field, applied to each part of a complex ``x``."""
    if np.iscomplexobj(x):
        return grad_fn(x.real, k) + 1j * grad_fn(x.imag, k)
    return 1.5 * (x - 0.3) + 0.5 * np.sin(3.0 * x + k)


def as_real(x):
    """``view_as_real`` in NumPy: real and imaginary parts stacked on a new last axis."""
    return np.stack([x.real, x.imag], axis=-1)


def start(dtype=np.complex128, seed=0):
    """Random complex starting values of shape ``SHAPE``."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(SHAPE) + 1j * rng.standard_normal(SHAPE)).astype(dtype)


def run(name, kwargs, params, steps, opt=None, first=0):
    """``steps`` steps of ``optim.<name>`` over ``params`` with :func:`grad_fn`'s gradients."""
    if opt is None:
        opt = getattr(optim, name)(params, **kwargs)
    for k in range(first, first + steps):
        for p in params:
            x = p.detach().numpy()
            p.grad = ember.tensor(grad_fn(x, k).astype(x.dtype))
        opt.step()
    return opt


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_complex_step_equals_the_real_view_step(case):
    name, kwargs = case
    x = start()
    cplx = Parameter(ember.tensor(x))
    pair = Parameter(ember.tensor(as_real(x)))
    copt = run(name, kwargs, [cplx], STEPS)
    ropt = run(name, kwargs, [pair], STEPS)
    np.testing.assert_allclose(as_real(cplx.detach().numpy()), pair.detach().numpy(),
                               rtol=1e-12, atol=1e-14)
    cstate, rstate = copt.state[cplx], ropt.state[pair]
    assert list(cstate) == list(rstate)
    for key, value in cstate.items():
        expected = rstate[key].numpy()
        if value.shape == cplx.shape:  # a per-element state tensor: complex, the pair's
            assert value.dtype == ember.complex128, key
            np.testing.assert_allclose(as_real(value.numpy()), expected, rtol=1e-12,
                                       atol=1e-14, err_msg=key)
        else:
            np.testing.assert_allclose(value.numpy(), expected, rtol=1e-12, err_msg=key)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_mixed_real_and_complex_group_steps_each_alone(case):
    name, kwargs = case
    rng = np.random.default_rng(1)
    real = rng.standard_normal((4,))
    together = [Parameter(ember.tensor(real)), Parameter(ember.tensor(start()))]
    run(name, kwargs, together, STEPS)
    alone = [Parameter(ember.tensor(real)), Parameter(ember.tensor(start()))]
    for p in alone:
        run(name, kwargs, [p], STEPS)
    for a, b in zip(together, alone):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_foreach_settings_agree_on_complex_parameters(case):
    name, kwargs = case
    results = []
    for foreach in (None, True, False):
        p = Parameter(ember.tensor(start()))
        run(name, {**kwargs, "foreach": foreach}, [p], STEPS)
        results.append(p.detach().numpy())
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_complex64_state_stays_complex64_through_a_state_dict(case):
    name, kwargs = case
    p = Parameter(ember.tensor(start(np.complex64)))
    opt = run(name, kwargs, [p], STEPS // 2)
    saved = copy.deepcopy(opt.state_dict())
    q = Parameter(ember.tensor(p.detach().numpy()))
    resumed = getattr(optim, name)([q], **kwargs)
    resumed.load_state_dict(saved)
    for key, value in resumed.state[q].items():
        assert value.dtype == opt.state[p][key].dtype, key
        assert value.shape == opt.state[p][key].shape, key
    run(name, kwargs, [p], STEPS // 2, opt, first=STEPS // 2)
    run(name, kwargs, [q], STEPS // 2, resumed, first=STEPS // 2)
    assert q.dtype == ember.complex64
    np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())


def test_adam_second_moment_is_per_real_and_imaginary_part():
    g = np.array([1 + 2j, -3 + 0.5j])
    p = Parameter(ember.tensor(np.zeros(2, np.complex128)))
    p.grad = ember.tensor(g)
    opt = optim.Adam([p], betas=(0.9, 0.99))
    opt.step()
    sq = opt.state[p]["exp_avg_sq"]
    assert sq.dtype == ember.complex128
    np.testing.assert_allclose(sq.numpy(), 0.01 * (g.real**2 + 1j * g.imag**2))
    # the first bias-corrected step is -lr * sign(g) per part (up to eps)
    np.testing.assert_allclose(p.detach().numpy(), -1e-3 * (np.sign(g.real) +
                                                            1j * np.sign(g.imag)), rtol=1e-6)


def test_adagrad_and_rprop_start_both_parts_of_complex_state():
    p = Parameter(ember.tensor(start()))
    adagrad = optim.Adagrad([p], initial_accumulator_value=0.25)
    np.testing.assert_array_equal(adagrad.state[p]["sum"].numpy(), np.full(SHAPE, 0.25 + 0.25j))
    rprop = run("Rprop", {"lr": 0.02}, [p], 1)
    # a first step leaves step_size where it started (no previous gradient's sign)
    np.testing.assert_array_equal(rprop.state[p]["step_size"].numpy(),
                                  np.full(SHAPE, 0.02 + 0.02j))


@pytest.mark.parametrize("name,kwargs", [("Adam", {"lr": 0.01}), ("RMSprop", {"lr": 0.01}),
                                         ("Rprop", {})])
def test_non_contiguous_complex_parameter_steps_like_a_contiguous_one(name, kwargs):
    x = start()
    strided = Parameter(ember.from_numpy(np.ascontiguousarray(x.T).T))
    assert not strided.detach().numpy().flags.c_contiguous
    dense = Parameter(ember.tensor(x))
    run(name, kwargs, [strided], STEPS)
    run(name, kwargs, [dense], STEPS)
    np.testing.assert_allclose(strided.detach().numpy(), dense.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_steps_a_complex_parameter_as_its_real_view(line_search_fn):
    x = start()
    target = start(seed=1)
    cplx = Parameter(ember.tensor(x))
    pair = Parameter(ember.tensor(as_real(x)))

    def loss_complex():
        d = (cplx - ember.tensor(target)).abs()
        return (d**2).sum() + (d**3).sum()

    def loss_pair():
        d2 = ((pair - ember.tensor(as_real(target))) ** 2).sum(-1)
        return d2.sum() + (d2**1.5).sum()

    for p, loss_fn in ((cplx, loss_complex), (pair, loss_pair)):
        opt = optim.LBFGS([p], lr=0.5, max_iter=5, history_size=4,
                          line_search_fn=line_search_fn)

        def closure(opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        d = opt.state[p]["d"]
        assert d.dtype == ember.float64 and d.shape == (2 * np.prod(SHAPE),)
    np.testing.assert_allclose(as_real(cplx.detach().numpy()), pair.detach().numpy(),
                               rtol=1e-9, atol=1e-12)


def test_adafactor_and_muon_refuse_complex_parameters():
    for name, values in (("Adafactor", np.ones(3, np.complex128)),
                         ("Muon", np.ones((2, 3), np.complex128))):
        p = Parameter(ember.tensor(values))
        opt = getattr(optim, name)([p])
        p.grad = ember.ones_like(p)
        with pytest.raises(RuntimeError, match=f"{name} does not support complex parameters"):
            opt.step()


def test_sparse_adam_refuses_complex_parameters_at_construction():
    params = [Parameter(ember.tensor(np.ones(3))),
              Parameter(ember.tensor(np.ones(3, np.complex64)))]
    with pytest.raises(ValueError, match=r"Complex params at indices \[\[0, 1\]\]: SparseAdam "
                                         "does not support complex parameters"):
        optim.SparseAdam(params)
