"""Optimizer options against torch, beyond test_optim_oracle.py: Adagrad, Adamax, NAdam and
RAdam over 20-step trajectories, implementation flags and Tensor learning rates, groups added
after steps, state dicts in torch's layout both ways, hooks, error messages, and schedulers
driven through Tensor learning rates and the new optimizers' betas."""

import copy
import inspect
import warnings

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

SHAPES = ((3, 4), (5,), (2, 1, 3), ())
STEPS = 20


def make_pair(torch, seed=0, shapes=SHAPES):
    return twin_params(torch, shapes, seed)


def run_pair(torch, name, kwargs, skip=None, groups=None, seed=0):
    ep, tp = make_pair(torch, seed)
    eopt, topt = twin_optimizers(torch, name, ep, tp, kwargs, groups)
    for k in range(STEPS):
        set_grads(torch, ep, tp, k, skip)
        eopt.step()
        topt.step()
        assert_params_close(ep, tp, k)
    assert_state_close(eopt, topt)
    return eopt, topt


NEW_CASES = [
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("Adagrad", {"lr": ("tensor", 0.1), "foreach": True}),
    ("Adagrad", {"lr": 0.1, "fused": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.05, "betas": (0.5, 0.8), "eps": 1e-3}),
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": ("tensor", 0.05), "foreach": False}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
    ("NAdam", {"lr": ("tensor", 0.05), "betas": (0.5, 0.8), "eps": 1e-3}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9)}),  # rho_t > 5 from step 6: both branches
    ("RAdam", {"lr": 0.05, "betas": (0.5, 0.8), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
    ("RAdam", {"lr": ("tensor", 0.05), "foreach": True}),
]


def _id(case):
    name, kw = case
    return name + "-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")


@pytest.mark.parametrize("case", NEW_CASES, ids=[_id(c) for c in NEW_CASES])
def test_new_optimizer_trajectory_matches_torch(torch, case):
    run_pair(torch, *case)


@pytest.mark.parametrize("name", ["Adagrad", "Adamax", "NAdam", "RAdam"])
def test_new_optimizer_missing_grads_and_groups_match_torch(torch, name):
    def skip(i, k):
        return (i + k) % 3 == 0 or (i == 3 and k < 5)
    run_pair(torch, name, {"lr": 0.03}, skip=skip, seed=1)
    run_pair(torch, name, {"lr": 0.03}, groups={"lr": 0.01, "weight_decay": 0.05}, seed=2)


FLAG_CASES = [
    ("SGD", {"lr": ("tensor", 0.05), "momentum": 0.9, "foreach": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "fused": True}),
    ("Adam", {"lr": ("tensor", 0.01), "amsgrad": True}),
    ("Adam", {"lr": 0.01, "fused": True, "amsgrad": True, "weight_decay": 0.1,
              "maximize": True}),
    ("Adam", {"lr": 0.01, "foreach": True, "decoupled_weight_decay": True,
              "weight_decay": 0.1}),
    ("AdamW", {"lr": ("tensor", 0.01), "fused": True}),
    ("RMSprop", {"lr": ("tensor", 0.01), "foreach": True, "centered": True, "momentum": 0.5}),
]


@pytest.mark.parametrize("case", FLAG_CASES, ids=[_id(c) for c in FLAG_CASES])
def test_implementation_flags_and_tensor_lr_match_torch(torch, case):
    run_pair(torch, *case)


def test_tensor_betas_become_0d_and_match_torch(torch):
    ep, tp = make_pair(torch)
    eopt = optim.Adam(ep, lr=0.01, betas=(ember.tensor([0.8]), ember.tensor(0.9)))
    topt = torch.optim.Adam(tp, lr=0.01, betas=(torch.tensor([0.8]), torch.tensor(0.9)))
    assert [tuple(b.shape) for b in eopt.defaults["betas"]] == [
        tuple(b.shape) for b in topt.defaults["betas"]] == [(), ()]
    for k in range(STEPS):
        set_grads(torch, ep, tp, k)
        eopt.step()
        topt.step()
    assert_params_close(ep, tp, STEPS)


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad", "NAdam", "RAdam", "Adamax"])
def test_add_param_group_after_steps_and_zero_grad_keep_matching_torch(torch, name):
    ep, tp = make_pair(torch, seed=5)
    kw = {"lr": 0.02, "momentum": 0.9} if name == "SGD" else {"lr": 0.02}
    eopt = getattr(optim, name)(ep[:2], **kw)
    topt = getattr(torch.optim, name)(tp[:2], **kw)
    for k in range(STEPS):
        if k == 6:
            eopt.add_param_group({"params": ep[2:], "lr": 0.05, "weight_decay": 0.1})
            topt.add_param_group({"params": tp[2:], "lr": 0.05, "weight_decay": 0.1})
        n = 2 if k < 6 else 4
        set_grads(torch, ep[:n], tp[:n], k)
        if k % 5 == 4:  # zero grads (not None): decay and momentum still act
            eopt.zero_grad(set_to_none=False)
            topt.zero_grad(set_to_none=False)
        eopt.step()
        topt.step()
        assert_params_close(ep, tp, k)
    assert_state_close(eopt, topt)


def test_adagrad_state_exists_before_the_first_step(torch):
    ep, tp = make_pair(torch)
    eopt = optim.Adagrad(ep, initial_accumulator_value=0.25)
    topt = torch.optim.Adagrad(tp, initial_accumulator_value=0.25)
    assert_state_close(eopt, topt)


def _to_torch_sd(torch, sd):
    out = copy.deepcopy({"param_groups": sd["param_groups"], "state": {}})
    for idx, st in sd["state"].items():
        out["state"][idx] = {k: torch.from_numpy(v.numpy().copy()) for k, v in st.items()}
    return out


@pytest.mark.parametrize("name, kwargs", [
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adamax", {"lr": 0.05}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.01}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9)}),
])
def test_new_optimizer_state_dicts_cross_load_with_torch(torch, name, kwargs):
    ep, tp = make_pair(torch, seed=4)
    eopt = getattr(optim, name)(ep, **kwargs)
    topt = getattr(torch.optim, name)(tp, **kwargs)
    for k in range(5):
        set_grads(torch, ep, tp, k)
        eopt.step()
        topt.step()
    # a torch state dict (torch Tensors, step as a tensor) loads into ember unchanged ...
    ep2, _ = make_pair(torch, seed=4)
    for a, b in zip(ep2, tp):
        a.data.copy_(ember.tensor(b.detach().numpy().copy()))
    eopt2 = getattr(optim, name)(ep2, lr=1.0)
    eopt2.load_state_dict(topt.state_dict())
    # ... and ember's, converted to torch Tensors, into torch
    _, tp2 = make_pair(torch, seed=4)
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
    assert_params_close(ep2, tp, 15)
    assert_params_close(ep, tp2, 15)
    assert_state_close(eopt2, topt)


@pytest.mark.parametrize("name", ["Adagrad", "Adamax", "NAdam", "RAdam"])
def test_new_optimizer_signature_matches_torch(torch, name):
    esig = inspect.signature(getattr(optim, name).__init__).parameters
    tsig = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert list(esig) == list(tsig)
    for key, tparam in tsig.items():
        assert (esig[key].kind, esig[key].default) == (tparam.kind, tparam.default), key


def test_step_hooks_see_the_optimizer_in_args_like_torch(torch):
    def trace(lib, o):
        log = []
        p = lib.nn.Parameter(lib.zeros(3))
        opt = o.SGD([p], lr=0.1)
        opt.register_step_pre_hook(
            lambda op, a, k: log.append(("pre", a[0] is op, len(a), sorted(k))))
        opt.register_step_post_hook(lambda op, a, k: log.append(("post", a[0] is op, len(a))))
        opt.register_state_dict_pre_hook(lambda op: log.append("sd_pre"))
        opt.register_state_dict_post_hook(lambda op, sd: log.append("sd_post"))
        opt.register_load_state_dict_pre_hook(lambda op, sd: log.append("load_pre"))
        opt.register_load_state_dict_post_hook(lambda op: log.append("load_post"))
        p.grad = lib.ones(3)
        opt.step()
        opt.step(closure=None)
        # a pre-hook may replace (args, kwargs): here it drops the closure
        handle = opt.register_step_pre_hook(lambda op, a, k: (a, {}))
        opt.step(closure=lambda: 1 / 0)
        handle.remove()
        opt.load_state_dict(opt.state_dict())
        return log, p.tolist()

    assert trace(ember, optim) == trace(torch, torch.optim)


BAD = [
    ("Adam", {"lr": ("tensor", 0.1), "foreach": True}, ValueError),
    ("AdamW", {"lr": ("tensor", 0.1), "foreach": True}, ValueError),
    ("Adam", {"lr": ("tensor", 0.1), "foreach": True, "fused": True}, ValueError),
    ("Adam", {"lr": 0.1, "fused": True, "differentiable": True}, RuntimeError),
    ("SGD", {"lr": 0.1, "fused": True, "differentiable": True}, RuntimeError),
    ("SGD", {"lr": None}, TypeError),
    ("Adagrad", {"lr": -1}, ValueError),
    ("Adagrad", {"lr_decay": -1}, ValueError),
    ("Adagrad", {"weight_decay": -1}, ValueError),
    ("Adagrad", {"initial_accumulator_value": -1}, ValueError),
    ("Adagrad", {"eps": -1}, ValueError),
    ("Adagrad", {"fused": True, "foreach": True}, RuntimeError),
    ("Adamax", {"lr": -1}, ValueError),
    ("Adamax", {"betas": (1.0, 0.9)}, ValueError),
    ("Adamax", {"eps": -1}, ValueError),
    ("NAdam", {"momentum_decay": -1}, ValueError),
    ("NAdam", {"betas": (0.9, 1.0)}, ValueError),
    ("NAdam", {"weight_decay": -1}, ValueError),
    ("RAdam", {"betas": (-0.1, 0.9)}, ValueError),
    ("RAdam", {"eps": -1}, ValueError),
    ("RAdam", {"lr": ("tensor", -0.5)}, ValueError),
]


@pytest.mark.parametrize("name, kwargs, exc", BAD, ids=[f"{n}-{k}" for n, k, _ in BAD])
def test_bad_hyper_parameters_raise_torch_errors(torch, name, kwargs, exc):
    ep, tp = make_pair(torch)
    with pytest.raises(exc) as terr:
        getattr(torch.optim, name)(tp, **lr_for(torch, kwargs))
    with pytest.raises(exc) as eerr:
        getattr(optim, name)(ep, **lr_for(ember, kwargs))
    assert str(eerr.value) == str(terr.value)


def test_tensor_betas_errors_match_torch(torch):
    for make, exc in [
        (lambda lib: (lib.tensor([0.9, 0.8]), lib.tensor(0.9)), RuntimeError),
        (lambda lib: (lib.tensor(0.9), lib.tensor(0.99)), ValueError),  # with foreach=True
        (lambda lib: (0.9, lib.tensor(0.99)), ValueError),
    ]:
        kw = {"foreach": True} if exc is ValueError else {}
        ep, tp = make_pair(torch)
        with pytest.raises(exc) as terr:
            torch.optim.Adam(tp, betas=make(torch), **kw)
        with pytest.raises(exc) as eerr:
            optim.Adam(ep, betas=make(ember), **kw)
        assert str(eerr.value) == str(terr.value)


# --------------------------------------------------------------------------- schedulers
SCHEDULERS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=30, three_phase=True),
    "OneCycleLR_linear": lambda m, o: m.OneCycleLR(
        o, max_lr=0.1, total_steps=30, anneal_strategy="linear", base_momentum=0.8,
        max_momentum=0.9),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                        mode="triangular2"),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, 3, T_mult=2),
    "ReduceLROnPlateau": lambda m, o: m.ReduceLROnPlateau(o, patience=1, min_lr=[0.002]),
}


def _trace(lib, name, sched, tensor_lr, steps=30):
    p = lib.nn.Parameter(lib.zeros(3))
    lr = lib.tensor(0.01) if tensor_lr else 0.01
    opt = getattr(lib.optim, name)([p], lr=lr)
    s = SCHEDULERS[sched](lib.optim.lr_scheduler, opt)
    out = []
    for _ in range(steps):
        opt.step()
        if sched == "ReduceLROnPlateau":
            s.step(1.0)  # never improves: the lr falls to min_lr
        else:
            s.step()
        group = opt.param_groups[0]
        out.append((type(group["lr"]).__name__, round(float(group["lr"]), 9),
                    round(float(s.get_last_lr()[0]), 9),
                    [round(float(b), 9) for b in group.get("betas", ())]))
    return out


@pytest.mark.parametrize("sched", list(SCHEDULERS))
@pytest.mark.parametrize("name, tensor_lr", [("NAdam", False), ("RAdam", True),
                                             ("Adamax", False), ("Adam", True)])
def test_scheduler_sequences_with_betas_and_tensor_lr_match_torch(torch, sched, name,
                                                                  tensor_lr):
    assert _trace(ember, name, sched, tensor_lr) == _trace(torch, name, sched, tensor_lr)


def test_scheduler_warnings_match_torch(torch):
    def record(lib):
        p = lib.nn.Parameter(lib.zeros(3))
        opt = lib.optim.Adagrad([p], lr=0.1)
        s = lib.optim.lr_scheduler.StepLR(opt, step_size=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s.step()  # before optimizer.step()
            opt.step()
            s.step(4)  # the deprecated epoch argument
            s.get_lr()  # outside step()
        return [(w.category, str(w.message)) for w in caught], s.get_last_lr(), s.state_dict()

    assert record(ember) == record(torch)
