"""Rprop, Adafactor and Muon against torch: 20-step trajectories for every option that
changes the math, missing gradients and parameter groups, state dicts in torch's layout
both ways (resumed mid-trajectory), constructor and step errors, signatures, and StepLR.

Muon's Newton–Schulz iteration runs in bfloat16 in torch and in emulated bfloat16 in ember;
the float32 sums before each rounding run in a different order, so an element within float32
rounding of a bfloat16 rounding boundary (about 1 in 10^4) can round the other way, and the
iteration spreads such a flip over its row. One step from zero checks the emulation bit for
bit on most elements; Muon trajectories are compared step by step from torch's state (each
step within two bfloat16 roundings of the update), and free-running ones within 5% of a step.
"""

import copy
import inspect

import numpy as np
import pytest

import ember
from ember import optim
from tests.oracle._optim_compare import (
    assert_params_close,
    assert_state_close,
    lr_for,
    set_grads,
    twin_optimizers,
    twin_params,
)

SHAPES = ((3, 4), (5,), (2, 1, 3), (), (4, 2))
MATRICES = ((3, 4), (5, 2), (4, 4), (1, 6), (7, 3))  # Muon takes 2-D parameters only
STEPS = 20


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """torch's bfloat16 matmuls on tiny matrices spend most of their time waking threads."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def shapes_for(name):
    return MATRICES if name == "Muon" else SHAPES


def make_pair(torch, name, seed=0, dtype=np.float32):
    return twin_params(torch, shapes_for(name), seed, dtype)


def muon_atol(lr, free_running=False):
    """Two bfloat16 roundings (2 ** -8 each) of a unit entry of the orthogonalised update
    (5% of it when the trajectories run apart), times lr and the largest ``adjust_lr_fn``
    ratio of MATRICES (sqrt(7 / 3))."""
    return 2e-6 + (0.05 if free_running else 2 * 2.0**-8) * 1.53 * lr


def resync_muon(torch, eopt, topt, ep, tp):
    """Copy torch's parameters and momentum buffers into ember's."""
    for a, b in zip(ep, tp):
        a.data.copy_(ember.tensor(b.detach().numpy().copy()))
        if b in topt.state:
            buf = topt.state[b]["momentum_buffer"].numpy().copy()
            eopt.state[a]["momentum_buffer"].copy_(ember.tensor(buf))


def run_pair(torch, name, kwargs, skip=None, groups=None, seed=0, dtype=np.float32,
             free_running=False):
    atol = 2e-6
    if name == "Muon":
        lrs = [kwargs.get("lr", 1e-3), (groups or {}).get("lr", 0.0)]
        lr = max(lr[1] if isinstance(lr, tuple) else lr for lr in lrs)
        atol = muon_atol(lr, free_running)
    ep, tp = make_pair(torch, name, seed, dtype)
    eopt, topt = twin_optimizers(torch, name, ep, tp, kwargs, groups)
    for k in range(STEPS):
        set_grads(torch, ep, tp, k, skip)
        eopt.step()
        topt.step()
        assert_params_close(ep, tp, k, atol)
        if name == "Muon" and not free_running:
            resync_muon(torch, eopt, topt, ep, tp)
    assert_state_close(eopt, topt, max(4 * atol, 1e-5))
    return eopt, topt


CASES = [
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),  # both clamps
    ("Rprop", {"lr": 0.02, "etas": (0.7, 1.1), "maximize": True}),
    ("Rprop", {"lr": ("tensor", 0.03), "foreach": True}),
    ("Adafactor", {}),
    ("Adafactor", {"lr": 0.5, "weight_decay": 0.1}),  # rho_t = 1 / sqrt(t) from step 5
    ("Adafactor", {"lr": 0.05, "beta2_decay": -0.5, "d": 2.0}),
    ("Adafactor", {"lr": 0.05, "beta2_decay": 0.0}),  # the variance is the last g * g
    ("Adafactor", {"lr": 0.05, "eps": (1e-1, 0.5), "maximize": True}),  # both eps bite
    ("Adafactor", {"lr": ("tensor", 0.05), "foreach": True, "weight_decay": 0.2}),
    ("Muon", {}),
    ("Muon", {"lr": 0.02, "nesterov": False, "weight_decay": 0.0}),
    ("Muon", {"lr": 0.02, "momentum": 0.0}),
    ("Muon", {"lr": 0.05, "momentum": 0.3, "adjust_lr_fn": "match_rms_adamw"}),
    ("Muon", {"lr": 0.02, "adjust_lr_fn": "original", "weight_decay": 0.5}),
    ("Muon", {"lr": 0.02, "ns_coefficients": (2.0, -1.5, 0.5), "ns_steps": 3}),
    ("Muon", {"lr": 0.02, "ns_steps": 0, "eps": 1e-3}),  # just the normalised momentum
    ("Muon", {"lr": ("tensor", 0.02)}),
]


def _id(case):
    name, kw = case
    return name + "-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_trajectory_matches_torch(torch, case):
    run_pair(torch, *case)


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.05, "nesterov": False, "weight_decay": 0.5,
                                         "adjust_lr_fn": "match_rms_adamw"}])
def test_muon_free_running_trajectory_stays_close_to_torch(torch, kwargs):
    run_pair(torch, "Muon", kwargs, free_running=True)


@pytest.mark.parametrize("name, kwargs", [
    ("Rprop", {"lr": 0.05}),
    ("Adafactor", {"lr": 0.05, "weight_decay": 0.1}),  # eps1 = float64's machine epsilon
    ("Muon", {"lr": 0.02}),
])
def test_float64_trajectory_matches_torch(torch, name, kwargs):
    run_pair(torch, name, kwargs, dtype=np.float64)


@pytest.mark.parametrize("name", ["Rprop", "Adafactor", "Muon"])
def test_missing_grads_and_groups_match_torch(torch, name):
    def skip(i, k):
        return (i + k) % 3 == 0 or (i == 3 and k < 5)
    run_pair(torch, name, {"lr": 0.03}, skip=skip, seed=1)
    groups = {
        "Rprop": {"lr": 0.01, "etas": (0.4, 1.3), "maximize": True},
        "Adafactor": {"lr": 0.2, "weight_decay": 0.05, "beta2_decay": -0.6, "d": 1.5},
        "Muon": {"lr": 0.05, "nesterov": False, "adjust_lr_fn": "match_rms_adamw"},
    }[name]
    run_pair(torch, name, {"lr": 0.03}, groups=groups, seed=2)


def _to_torch_sd(torch, sd):
    out = copy.deepcopy({"param_groups": sd["param_groups"], "state": {}})
    for idx, st in sd["state"].items():
        out["state"][idx] = {k: torch.from_numpy(v.numpy().copy()) for k, v in st.items()}
    return out


@pytest.mark.parametrize("name, kwargs", [
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5)}),
    ("Adafactor", {"lr": 0.1, "weight_decay": 0.1}),
    ("Muon", {"lr": 0.02, "momentum": 0.9}),
])
def test_state_dicts_cross_load_with_torch_and_resume(torch, name, kwargs):
    ep, tp = make_pair(torch, name, seed=4)
    eopt = getattr(optim, name)(ep, **kwargs)
    topt = getattr(torch.optim, name)(tp, **kwargs)
    for k in range(5):
        set_grads(torch, ep, tp, k)
        eopt.step()
        topt.step()
    # a torch state dict (torch Tensors) loads into ember unchanged ...
    ep2, _ = make_pair(torch, name, seed=4)
    for a, b in zip(ep2, tp):
        a.data.copy_(ember.tensor(b.detach().numpy().copy()))
    eopt2 = getattr(optim, name)(ep2, lr=1.0)
    eopt2.load_state_dict(topt.state_dict())
    # ... and ember's, converted to torch Tensors, into torch
    _, tp2 = make_pair(torch, name, seed=4)
    with torch.no_grad():
        for a, b in zip(tp2, ep):
            a.copy_(torch.from_numpy(b.detach().numpy().copy()))
    topt2 = getattr(torch.optim, name)(tp2, lr=1.0)
    topt2.load_state_dict(_to_torch_sd(torch, eopt.state_dict()))
    for k in range(5, 15):
        set_grads(torch, ep2, tp, k)
        set_grads(torch, ep, tp2, k)
        for opt in (eopt2, topt, eopt, topt2):
            opt.step()
    atol = muon_atol(kwargs["lr"], free_running=True) if name == "Muon" else 2e-6
    assert_params_close(ep2, tp, 15, atol)
    assert_params_close(ep, tp2, 15, atol)
    assert_state_close(eopt2, topt, max(4 * atol, 1e-5))
    assert_state_close(eopt, topt2, max(4 * atol, 1e-5))


def test_adafactor_rejects_misshapen_factors_on_load(torch):
    ep, tp = make_pair(torch, "Adafactor")
    topt = torch.optim.Adafactor(tp)
    set_grads(torch, ep, tp, 0)
    topt.step()
    sd = topt.state_dict()
    sd["state"][0]["row_var"] = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="'row_var' of shape \\(3, 4\\) for parameter 0"):
        optim.Adafactor(ep).load_state_dict(sd)


@pytest.mark.parametrize("name", ["Rprop", "Adafactor", "Muon"])
def test_signature_matches_torch(torch, name):
    esig = inspect.signature(getattr(optim, name).__init__).parameters
    tsig = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert list(esig) == list(tsig)
    for key, tparam in tsig.items():
        assert (esig[key].kind, esig[key].default) == (tparam.kind, tparam.default), key


BAD = [
    ("Rprop", {"lr": -1}, ValueError),
    ("Rprop", {"lr": ("tensor", -0.5)}, ValueError),
    ("Rprop", {"etas": (1.0, 1.2)}, ValueError),
    ("Rprop", {"etas": (0.0, 1.2)}, ValueError),
    ("Rprop", {"etas": (0.5, 1.0)}, ValueError),
    ("Rprop", {"foreach": True, "capturable": True, "maximize": True, "lr": None}, TypeError),
    ("Adafactor", {"lr": -0.1}, ValueError),
    ("Adafactor", {"lr": ("tensor", -0.5)}, ValueError),
    ("Adafactor", {"beta2_decay": 0.1}, ValueError),
    ("Adafactor", {"eps": (-1e-3, 1e-3)}, ValueError),
    ("Adafactor", {"eps": (None, -1.0)}, ValueError),
    ("Adafactor", {"d": 0.5}, ValueError),
    ("Adafactor", {"weight_decay": -0.1}, ValueError),
    ("Adafactor", {"capturable": True}, TypeError),
    ("Muon", {"lr": -1}, ValueError),
    ("Muon", {"lr": ("tensor", -0.5)}, ValueError),
    ("Muon", {"momentum": -0.1}, ValueError),
    ("Muon", {"weight_decay": -0.1}, ValueError),
    ("Muon", {"adjust_lr_fn": "spectral"}, ValueError),
    ("Muon", {"foreach": True}, TypeError),
]


@pytest.mark.parametrize("name, kwargs, exc", BAD, ids=[f"{n}-{k}" for n, k, _ in BAD])
def test_bad_hyper_parameters_raise_torch_errors(torch, name, kwargs, exc):
    ep, tp = make_pair(torch, name)
    with pytest.raises(exc) as terr:
        getattr(torch.optim, name)(tp, **lr_for(torch, kwargs))
    with pytest.raises(exc) as eerr:
        getattr(optim, name)(ep, **lr_for(ember, kwargs))
    if exc is ValueError:
        assert str(eerr.value) == str(terr.value)


@pytest.mark.parametrize("name", ["Rprop", "Adafactor", "Muon"])
def test_multi_element_tensor_lr_raises_torch_error(torch, name):
    ep, tp = make_pair(torch, name)
    with pytest.raises(ValueError) as terr:
        getattr(torch.optim, name)(tp, lr=torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError) as eerr:
        getattr(optim, name)(ep, lr=ember.tensor([0.1, 0.2]))
    assert str(eerr.value) == str(terr.value) == "Tensor lr must be 1-element"


def _muon_error(lib, make):
    """The (type, message) that ``make(lib)`` raises, torch's sizes spelled as ember's."""
    with pytest.raises(Exception) as err:
        make(lib)
    return err.type.__name__, str(err.value).replace("torch.Size", "ember.Size")


@pytest.mark.parametrize("make", [
    lambda lib: lib.optim.Muon([lib.nn.Parameter(lib.zeros(3, 4)),
                                lib.nn.Parameter(lib.zeros(2, 1, 3))]),
    lambda lib: lib.optim.Muon([lib.nn.Parameter(lib.zeros(()))]),
], ids=["3d", "0d"])
def test_muon_refuses_non_matrix_parameters_like_torch(torch, make):
    assert _muon_error(ember, make) == _muon_error(torch, make)


def _muon_step_error(lib, kwargs, vector_group=False):
    w = lib.nn.Parameter(lib.ones(3, 2))
    opt = lib.optim.Muon([w], lr=0.1, **kwargs)
    w.grad = lib.ones(3, 2)
    if vector_group:  # add_param_group is not checked: the step refuses the gradient
        b = lib.nn.Parameter(lib.ones(3))
        b.grad = lib.ones(3)
        opt.add_param_group({"params": [b]})
    with pytest.raises(ValueError) as err:
        opt.step()
    buf = opt.state[w]["momentum_buffer"]  # updated before the checks, as in torch
    return str(err.value), buf.detach().numpy().tolist(), w.detach().numpy().tolist()


@pytest.mark.parametrize("kwargs, vector_group", [
    ({"ns_steps": 100}, False),
    ({"ns_coefficients": (1.0, 2.0)}, False),
    ({}, True),
])
def test_muon_step_errors_match_torch(torch, kwargs, vector_group):
    assert _muon_step_error(ember, kwargs, vector_group) == _muon_step_error(
        torch, kwargs, vector_group)


@pytest.mark.parametrize("name", ["Rprop", "Adafactor", "Muon"])
def test_step_lr_schedule_drives_the_same_trajectory(torch, name):
    ep, tp = make_pair(torch, name, seed=6)
    eopt = getattr(optim, name)(ep, lr=0.1)
    topt = getattr(torch.optim, name)(tp, lr=0.1)
    esched = optim.lr_scheduler.StepLR(eopt, step_size=4, gamma=0.5)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=4, gamma=0.5)
    atol = muon_atol(0.1, free_running=True) if name == "Muon" else 2e-6
    for k in range(STEPS):
        set_grads(torch, ep, tp, k)
        eopt.step()
        topt.step()
        esched.step()
        tsched.step()
        assert esched.get_last_lr() == tsched.get_last_lr()
        assert_params_close(ep, tp, k, atol)
    assert_state_close(eopt, topt, max(4 * atol, 1e-5))


@pytest.mark.parametrize("name", ["Rprop", "Adafactor", "Muon"])
def test_closure_loss_and_trajectory_match_torch(torch, name):
    def build(lib):
        rng = np.random.default_rng(7)
        w = lib.nn.Parameter(lib.tensor(rng.standard_normal((4, 3)).astype(np.float32)))
        x = lib.tensor(rng.standard_normal((6, 4)).astype(np.float32))
        y = lib.tensor(rng.standard_normal((6, 3)).astype(np.float32))
        opt = getattr(lib.optim, name)([w], lr=0.05)

        def closure():
            opt.zero_grad()
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            return loss
        losses = [float(opt.step(closure).detach()) for _ in range(10)]
        return losses, w.detach().numpy()

    elosses, ew = build(ember)
    tlosses, tw = build(torch)
    atol = muon_atol(0.05, free_running=True) if name == "Muon" else 2e-6
    np.testing.assert_allclose(elosses, tlosses, rtol=1e-5, atol=10 * atol)
    np.testing.assert_allclose(ew, tw, rtol=2e-5, atol=atol)


def test_muon_newton_schulz_matches_torch_bit_for_bit_on_most_elements(torch):
    # from zero, with lr=1 and no decay, a wide or square matrix steps to -NS(M) exactly
    rng = np.random.default_rng(8)
    same = total = 0
    for trial in range(40):
        nesterov = trial % 4 < 2
        rows, cols = [(3, 4), (4, 4), (1, 6), (5, 9), (2, 2), (6, 16)][trial % 6]
        if trial % 2:
            rows, cols = cols, rows  # tall: torch iterates on the transpose
        g = (rng.standard_normal((rows, cols)) * 10.0 ** rng.uniform(-3, 3)).astype(np.float32)
        news = []
        for lib in (ember, torch):
            w = lib.nn.Parameter(lib.zeros(rows, cols))
            opt = lib.optim.Muon([w], lr=1.0, weight_decay=0.0, nesterov=nesterov)
            w.grad = lib.tensor(g.copy())
            opt.step()
            news.append(w.detach().numpy())
        e, t = news
        ratio = max(1.0, rows / cols) ** 0.5
        # every element within one bfloat16 rounding of a unit entry
        np.testing.assert_allclose(e, t, rtol=0, atol=ratio * 2.0**-8)
        same += int((e == t).sum())
        total += e.size
    assert same >= 0.995 * total, (same, total)
