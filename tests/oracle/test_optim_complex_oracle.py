"""Optimizers on complex parameters against torch: 15-step trajectories from identical
weights and gradients over a mix of real and complex parameters, for each optimizer and its
main options with ``foreach`` on, off and unset, in single and double precision; the state
(complex tensors where torch keeps them) and state dicts both ways, resumed mid-trajectory;
L-BFGS on a complex loss; and torch's refusals (Adafactor, Muon, SparseAdam)."""

import copy

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter
from tests.oracle._optim_compare import assert_params_close, assert_state_close, grad_fn

torch = pytest.importorskip("torch")

REAL_SHAPES = ((3, 4), (5,), ())
COMPLEX_SHAPES = ((4,), (2, 3), ())
STEPS = 15
DTYPES = {"single": (np.float32, np.complex64), "double": (np.float64, np.complex128)}

CASES = [
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "maximize": True, "weight_decay": 0.1,
              "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True, "betas": (0.8, 0.9)}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.2}),
    ("RMSprop", {"lr": 0.005}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "maximize": True, "centered": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.5}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.01}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "momentum_decay": 0.01}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Rprop", {"lr": 0.01}),
    ("Rprop", {"lr": 0.01, "etas": (0.3, 1.5), "step_sizes": (1e-4, 1), "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.01, "t0": 3, "lambd": 1e-3}),
]


def case_id(case):
    """A readable test id: the optimizer's name and its options."""
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def starts(dtypes, seed=0):
    """Starting values: real and complex parameters, interleaved."""
    rng = np.random.default_rng(seed)
    real, cplx = dtypes
    out = []
    for rs, cs in zip(REAL_SHAPES, COMPLEX_SHAPES):
        out.append(rng.standard_normal(rs).astype(real))
        out.append((rng.standard_normal(cs) + 1j * rng.standard_normal(cs)).astype(cplx))
    return out


def ember_params(values):
    """ember Parameters holding copies of ``values``."""
    return [Parameter(ember.tensor(np.array(x, copy=True))) for x in values]


def torch_params(values):
    """torch Parameters holding copies of ``values``."""
    return [torch.nn.Parameter(torch.tensor(np.array(x, copy=True))) for x in values]


def gradient(x, k):
    """Step ``k``'s gradient at ``x``: real and imaginary parts from independent fields."""
    if np.iscomplexobj(x):
        return np.asarray(grad_fn(x.real, k) + 1j * grad_fn(x.imag, k + 1), dtype=x.dtype)
    return grad_fn(x, k)


def step_all(k, *sides):
    """Give each ``(lib, params, optimizer)`` side step ``k``'s gradients, then step it."""
    for lib, params, opt in sides:
        for p in params:
            g = gradient(p.detach().numpy(), k)
            p.grad = ember.tensor(g) if lib is ember else torch.from_numpy(g)
        opt.step()


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("foreach", [None, True, False])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trajectory_matches_torch(case, foreach, dtype):
    name, kwargs = case
    values = starts(DTYPES[dtype])
    ep, tp = ember_params(values), torch_params(values)
    kwargs = {**kwargs, "foreach": foreach}
    eopt = getattr(optim, name)(ep, **kwargs)
    topt = getattr(torch.optim, name)(tp, **kwargs)
    atol = 2e-6 if dtype == "single" else 1e-12
    for k in range(STEPS):
        step_all(k, (ember, ep, eopt), (torch, tp, topt))
        assert_params_close(ep, tp, k, atol=atol)
    assert_state_close(eopt, topt)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_is_complex_like_torch(case):
    name, kwargs = case
    values = starts(DTYPES["single"])
    ep, tp = ember_params(values), torch_params(values)
    eopt = getattr(optim, name)(ep, **kwargs)
    topt = getattr(torch.optim, name)(tp, **kwargs)
    step_all(0, (ember, ep, eopt), (torch, tp, topt))
    for i, p in enumerate(ep):
        tstate = topt.state[tp[i]]
        assert list(eopt.state[p]) == list(tstate), i
        for key, value in eopt.state[p].items():
            assert value.dtype.name == str(tstate[key].dtype).split(".")[-1], (i, key)
            assert tuple(value.shape) == tuple(tstate[key].shape), (i, key)
        complex_keys = [key for key, value in eopt.state[p].items() if value.is_complex()]
        assert bool(complex_keys) == p.is_complex(), i


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_dicts_resume_the_trajectory_both_ways(case):
    name, kwargs = case
    values = starts(DTYPES["double"])
    ep, tp = ember_params(values), torch_params(values)
    eopt = getattr(optim, name)(ep, **kwargs)
    topt = getattr(torch.optim, name)(tp, **kwargs)
    half = STEPS // 2
    for k in range(half):
        step_all(k, (ember, ep, eopt), (torch, tp, topt))

    # each library resumes from ember's state dict and from torch's (a loaded state dict
    # casts state to a real parameter's dtype, so the resumed pairs are compared)
    now = [p.detach().numpy() for p in ep]
    resumed = {}
    for source, saved in (("ember", eopt.state_dict()), ("torch", topt.state_dict())):
        eparams, tparams = ember_params(now), torch_params(now)
        eres = getattr(optim, name)(eparams, **kwargs)
        eres.load_state_dict(copy.deepcopy(saved) if source == "ember" else saved)
        tres = getattr(torch.optim, name)(tparams, **kwargs)
        tres.load_state_dict(_to_torch(saved) if source == "ember" else copy.deepcopy(saved))
        assert_state_close(eres, tres)
        resumed[source] = (eparams, eres, tparams, tres)

    sides = [(ember, ep, eopt), (torch, tp, topt)]
    for eparams, eres, tparams, tres in resumed.values():
        sides += [(ember, eparams, eres), (torch, tparams, tres)]
    for k in range(half, STEPS):
        step_all(k, *sides)
    for eparams, eres, tparams, tres in resumed.values():
        assert_params_close(eparams, tparams, STEPS - 1, atol=1e-12)
        assert_params_close(eparams, tp, STEPS - 1, atol=1e-12)
        assert_state_close(eres, tres)


def _to_torch(value):
    """An ember state dict with torch tensors in place of ember's."""
    if isinstance(value, ember.Tensor):
        return torch.from_numpy(value.detach().numpy().copy())
    if isinstance(value, dict):
        return {k: _to_torch(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_torch(v) for v in value]
    return value


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_on_complex_parameters_matches_torch(line_search_fn):
    values = starts(DTYPES["double"])
    targets = starts(DTYPES["double"], seed=1)
    results = []
    for lib, params in ((ember, ember_params(values)), (torch, torch_params(values))):
        opt = lib.optim.LBFGS(params, lr=0.5, max_iter=5, history_size=4,
                              line_search_fn=line_search_fn)

        def closure(lib=lib, params=params, opt=opt):
            opt.zero_grad()
            loss = 0
            for i, (p, t) in enumerate(zip(params, targets)):
                d = (p - lib.tensor(t)).abs()
                loss = loss + (i + 1) * (d**2).sum() + (d**3).sum()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(3)]
        state = opt.state[params[0]]
        flat = {key: state[key].detach().numpy() for key in ("d", "prev_flat_grad")}
        results.append((losses, [p.detach().numpy() for p in params], flat))
    (elosses, eparams, eflat), (tlosses, tparams, tflat) = results
    np.testing.assert_allclose(elosses, tlosses, rtol=1e-9)
    for a, b in zip(eparams, tparams):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    for key in eflat:
        assert eflat[key].dtype == tflat[key].dtype and eflat[key].shape == tflat[key].shape
        np.testing.assert_allclose(eflat[key], tflat[key], rtol=1e-7, atol=1e-10)


def _outcome(lib, name, values, kwargs):
    """The exception (type and message) ``name`` raises on these parameters, or None."""
    params = [lib.nn.Parameter(lib.tensor(np.array(x, copy=True))) for x in values]
    try:
        opt = getattr(lib.optim, name)(params, **kwargs)
        for p in params:
            p.grad = lib.ones_like(p)
        opt.step()
    except Exception as exc:  # noqa: BLE001 - compared with torch's, whatever it is
        return type(exc).__name__, str(exc)
    return None


@pytest.mark.parametrize("name,kwargs,values", [
    ("Adafactor", {}, [np.ones((2, 3)), np.ones((3,), np.complex128)]),
    ("Muon", {}, [np.ones((2, 3), np.complex128)]),
    ("SparseAdam", {}, [np.ones((2, 3)), np.ones((3,), np.complex128)]),
], ids=["Adafactor", "Muon", "SparseAdam"])
def test_refusals_of_complex_parameters_match_torch(name, kwargs, values):
    expected = _outcome(torch, name, values, kwargs)
    assert expected is not None
    assert _outcome(ember, name, values, kwargs) == expected
