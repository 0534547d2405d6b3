"""optim.swa_utils and nn.utils.prune against torch: AveragedModel averages (SWA, EMA, with
buffers) over several updates from identical weights, SWALR's lr sequences, update_bn's
statistics, and pruning masks (l1, ln, global, random after the same seed, iterative),
outputs, gradients and state-dict keys."""

import math
import warnings

import numpy as np
import pytest

import ember
from ember import nn as enn
from ember.nn.utils import prune as eprune
from ember.nn.utils import stateless as estateless
from ember.optim import swa_utils as eswa
from tests.helpers import assert_close

torch = pytest.importorskip("torch")
tprune = pytest.importorskip("torch.nn.utils.prune")
tnn = torch.nn
tswa = torch.optim.swa_utils


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """torch's batch_norm on tiny inputs is far slower with threads on a busy machine; the
    numbers are the same."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def sync(emod, tmod):
    """Give the ember module the torch module's exact state."""
    emod.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                          for k, v in tmod.state_dict().items()})
    return emod


def pair(factory, seed=0):
    torch.manual_seed(seed)
    tmod = factory(tnn)
    return sync(factory(enn), tmod), tmod


def bn_net(nn):
    return nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 3))


def rand(*shape, seed=0, low=None):
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.integers(low, -low + 1, shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def step_both(emod, tmod, seed):
    """Move both models the same way: one forward in train mode (buffers) and the same
    random change of every parameter."""
    x = rand(8, 5, seed=seed)
    emod(ember.tensor(x))
    tmod(torch.tensor(x))
    rng = np.random.default_rng(100 + seed)
    with ember.no_grad(), torch.no_grad():
        for pe, pt in zip(emod.parameters(), tmod.parameters()):
            delta = rng.standard_normal(tuple(pt.shape)).astype(np.float32)
            pe.add_(ember.tensor(delta))
            pt.add_(torch.tensor(delta))


def compare_state(emod, tmod, **tol):
    es, ts = emod.state_dict(), tmod.state_dict()
    assert list(es) == list(ts)
    for k in ts:
        assert_close(es[k], ts[k], msg=k, **tol)


@pytest.mark.parametrize("kind", ["swa", "swa_multi", "swa_fn", "ema_multi", "ema_fn"])
@pytest.mark.parametrize("use_buffers", [False, True])
def test_averaged_model_matches_torch(kind, use_buffers):
    emod, tmod = pair(bn_net)
    fns = {"swa": lambda m: {}, "swa_multi": lambda m: {"multi_avg_fn": m.get_swa_multi_avg_fn()},
           "swa_fn": lambda m: {"avg_fn": m.get_swa_avg_fn()},
           "ema_multi": lambda m: {"multi_avg_fn": m.get_ema_multi_avg_fn(0.8)},
           "ema_fn": lambda m: {"avg_fn": m.get_ema_avg_fn(0.8)}}
    if kind == "swa_multi" and use_buffers:
        # torch's addcdiv rejects the integer num_batches_tracked buffer: both raise
        eavg = eswa.AveragedModel(emod, use_buffers=True, **fns[kind](eswa))
        tavg = tswa.AveragedModel(tmod, use_buffers=True, **fns[kind](tswa))
        step_both(emod, tmod, 0)
        eavg.update_parameters(emod)
        tavg.update_parameters(tmod)
        step_both(emod, tmod, 1)
        with pytest.raises(RuntimeError) as t_err:
            tavg.update_parameters(tmod)
        with pytest.raises(RuntimeError) as e_err:
            eavg.update_parameters(emod)
        assert str(e_err.value).split(" ")[:3] == str(t_err.value).split(" ")[:3]
        return
    eavg = eswa.AveragedModel(emod, use_buffers=use_buffers, **fns[kind](eswa))
    tavg = tswa.AveragedModel(tmod, use_buffers=use_buffers, **fns[kind](tswa))
    for seed in range(4):
        step_both(emod, tmod, seed)
        eavg.update_parameters(emod)
        tavg.update_parameters(tmod)
        compare_state(eavg, tavg, atol=1e-5)
    x = rand(4, 5, seed=9)
    eavg.eval()
    tavg.eval()
    assert_close(eavg(ember.tensor(x)), tavg(torch.tensor(x)).detach(), atol=1e-5)


def lr_sequence(lib, swa_kwargs, lrs=(1.0,), n=8, before=0, poke=None):
    params = [{"params": [lib.nn.Parameter(lib.zeros(2))], "lr": lr} for lr in lrs]
    opt = lib.optim.SGD(params, lr=lrs[0])
    out = []
    if before:
        first = lib.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        for _ in range(before):
            opt.step()
            first.step()
    sched = lib.optim.swa_utils.SWALR(opt, **swa_kwargs)
    out.append(sched.get_last_lr())
    for i in range(n):
        opt.step()
        if poke is not None and i == poke:
            for g in opt.param_groups:
                g["lr"] *= 3.0
        sched.step()
        out.append(sched.get_last_lr())
    return out, [g["swa_lr"] for g in opt.param_groups]


@pytest.mark.parametrize("swa_kwargs,extra", [
    ({"swa_lr": 0.05}, {}),
    ({"swa_lr": 0.05, "anneal_epochs": 3, "anneal_strategy": "linear"}, {}),
    ({"swa_lr": 0.2, "anneal_epochs": 0}, {}),
    ({"swa_lr": 0.2, "anneal_epochs": 1, "anneal_strategy": "cos"}, {}),
    ({"swa_lr": [0.1, 0.01], "anneal_epochs": 4}, {"lrs": (1.0, 0.3)}),
    ({"swa_lr": 0.1, "anneal_epochs": 5}, {"before": 3}),
    ({"swa_lr": 0.1, "anneal_epochs": 6, "anneal_strategy": "linear"}, {"poke": 2}),
])
def test_swalr_lr_sequence_matches_torch(swa_kwargs, extra):
    assert lr_sequence(ember, swa_kwargs, **extra) == lr_sequence(torch, swa_kwargs, **extra)


def test_swalr_errors_match_torch():
    for kwargs in ({"swa_lr": 0.1, "anneal_strategy": "step"},
                   {"swa_lr": 0.1, "anneal_epochs": -2}, {"swa_lr": [0.1, 0.2]}):
        msgs = []
        for lib in (ember, torch):
            opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=1.0)
            with pytest.raises(ValueError) as info:
                lib.optim.swa_utils.SWALR(opt, **kwargs)
            msgs.append(str(info.value))
        assert msgs[0] == msgs[1]


def test_update_bn_matches_torch():
    emod, tmod = pair(bn_net)
    eavg, tavg = eswa.AveragedModel(emod), tswa.AveragedModel(tmod)
    for seed in range(2):
        step_both(emod, tmod, seed)
        eavg.update_parameters(emod)
        tavg.update_parameters(tmod)
    batches = [rand(7, 5, seed=20 + i) * (i + 1) for i in range(4)]
    eavg.eval()
    tavg.eval()
    eswa.update_bn([(ember.tensor(b), 0) for b in batches], eavg)
    tswa.update_bn([(torch.tensor(b), 0) for b in batches], tavg)
    assert not eavg.training
    compare_state(eavg, tavg, atol=1e-5)
    assert eavg.module[1].momentum == tavg.module[1].momentum == 0.1


def prune_pair(factory, seed=0):
    return pair(factory, seed)


def compare_pruned(emod, tmod, x, name="weight"):
    """Masks, state-dict keys, outputs and gradients of the original parameters."""
    assert list(emod.state_dict()) == list(tmod.state_dict())
    assert_close(getattr(emod, name + "_mask"), getattr(tmod, name + "_mask"), msg="mask")
    ye, yt = emod(ember.tensor(x)), tmod(torch.tensor(x))
    assert_close(ye, yt.detach(), atol=1e-5)
    (ye ** 2).sum().backward()
    (yt ** 2).sum().backward()
    for (n, pe), (_, pt) in zip(emod.named_parameters(), tmod.named_parameters()):
        assert_close(pe.grad, pt.grad, msg=n, atol=1e-4)


def linear(nn):
    return nn.Linear(6, 5)


def conv(nn):
    return nn.Conv2d(3, 6, 3)


@pytest.mark.parametrize("amount", [0, 3, 0.3, 0.5, 1.0, 30])
@pytest.mark.parametrize("ties", [False, True])
def test_l1_unstructured_matches_torch(amount, ties):
    emod, tmod = prune_pair(linear)
    if ties:  # small integers: lots of equal magnitudes, decided by torch.topk's algorithm
        with torch.no_grad():
            tmod.weight.copy_(torch.tensor(rand(5, 6, seed=3, low=-2)))
        sync(emod, tmod)
    eprune.l1_unstructured(emod, "weight", amount=amount)
    tprune.l1_unstructured(tmod, "weight", amount=amount)
    compare_pruned(emod, tmod, rand(4, 6, seed=1))


@pytest.mark.parametrize("n", [1, 2, float("inf"), float("-inf"), 3])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ln_structured_matches_torch(n, dim):
    emod, tmod = prune_pair(conv)
    eprune.ln_structured(emod, "weight", amount=0.5, n=n, dim=dim)
    tprune.ln_structured(tmod, "weight", amount=0.5, n=n, dim=dim)
    compare_pruned(emod, tmod, rand(2, 3, 5, 5, seed=2))


@pytest.mark.parametrize("dim", [0, 1])
def test_ln_structured_fro_matches_torch(dim):
    # "fro" over one remaining dim (a 2-D weight); torch rejects it over three
    emod, tmod = prune_pair(linear)
    eprune.ln_structured(emod, "weight", amount=2, n="fro", dim=dim)
    tprune.ln_structured(tmod, "weight", amount=2, n="fro", dim=dim)
    compare_pruned(emod, tmod, rand(4, 6, seed=2))


def test_ln_structured_ties_match_torch():
    emod, tmod = prune_pair(linear)
    w = np.repeat(rand(5, 1, seed=4, low=-1), 6, axis=1)  # rows with equal norms
    with torch.no_grad():
        tmod.weight.copy_(torch.tensor(w))
    sync(emod, tmod)
    eprune.ln_structured(emod, "weight", amount=2, n=1, dim=0)
    tprune.ln_structured(tmod, "weight", amount=2, n=1, dim=0)
    compare_pruned(emod, tmod, rand(3, 6, seed=5))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_methods_match_torch_after_the_same_seed(seed):
    emod, tmod = prune_pair(conv)
    for lib, prune_mod, mod in ((ember, eprune, emod), (torch, tprune, tmod)):
        lib.manual_seed(seed)
        prune_mod.random_unstructured(mod, "weight", amount=0.4)
        prune_mod.random_structured(mod, "weight", amount=2, dim=0)
        prune_mod.random_unstructured(mod, "bias", amount=2)
    compare_pruned(emod, tmod, rand(2, 3, 5, 5, seed=6))
    assert_close(emod.bias_mask, tmod.bias_mask)


def test_iterative_mixed_pruning_matches_torch():
    emod, tmod = prune_pair(conv)
    for lib, prune_mod, mod in ((ember, eprune, emod), (torch, tprune, tmod)):
        lib.manual_seed(3)
        prune_mod.l1_unstructured(mod, "weight", amount=0.2)
        prune_mod.ln_structured(mod, "weight", amount=1, n=2, dim=1)
        prune_mod.random_unstructured(mod, "weight", amount=10)
        prune_mod.l1_unstructured(mod, "weight", amount=0.1,
                                  importance_scores=lib.ones(6, 3, 3, 3))
    hooks = [list(m._forward_pre_hooks.values())[0] for m in (emod, tmod)]
    assert [type(h).__name__ for h in hooks[0]] == [type(h).__name__ for h in hooks[1]]
    compare_pruned(emod, tmod, rand(2, 3, 5, 5, seed=7))


def test_global_unstructured_matches_torch():
    def net(nn):
        return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))

    emod, tmod = pair(net)
    for prune_mod, mod in ((eprune, emod), (tprune, tmod)):
        prune_mod.l1_unstructured(mod[2], "weight", amount=5)
        params = [(mod[0], "weight"), (mod[2], "weight"), (mod[2], "bias")]
        prune_mod.global_unstructured(params, pruning_method=prune_mod.L1Unstructured,
                                      amount=0.4)
    x = rand(3, 6, seed=8)
    assert list(emod.state_dict()) == list(tmod.state_dict())
    for k, v in tmod.state_dict().items():
        assert_close(emod.state_dict()[k], v, msg=k)
    ye, yt = emod(ember.tensor(x)), tmod(torch.tensor(x))
    assert_close(ye, yt.detach(), atol=1e-5)
    ye.sum().backward()
    yt.sum().backward()
    assert_close(emod[0].weight_orig.grad, tmod[0].weight_orig.grad, atol=1e-5)


def test_remove_matches_torch():
    emod, tmod = prune_pair(linear)
    for prune_mod, mod in ((eprune, emod), (tprune, tmod)):
        prune_mod.l1_unstructured(mod, "weight", amount=0.5)
        prune_mod.remove(mod, "weight")
        assert not prune_mod.is_pruned(mod)
    assert list(emod.state_dict()) == list(tmod.state_dict())
    assert_close(emod.weight, tmod.weight.detach())


def test_prune_errors_match_torch():
    cases = [
        lambda p, m: p.l1_unstructured(m, "weight", amount=31),
        lambda p, m: p.l1_unstructured(m, "weight", amount=-2),
        lambda p, m: p.l1_unstructured(m, "weight", amount=1.2),
        lambda p, m: p.ln_structured(m, "bias", amount=1, n=2, dim=0),
        lambda p, m: p.random_structured(m, "weight", amount=1, dim=3),
        lambda p, m: p.remove(m, "weight"),
    ]
    emod, tmod = prune_pair(linear)
    for case in cases:
        errors = []
        for prune_mod, mod in ((eprune, emod), (tprune, tmod)):
            with pytest.raises(Exception) as info:
                case(prune_mod, mod)
            errors.append((type(info.value), str(info.value).replace("torch.Size", "Size")
                           .replace("ember.Size", "Size")))
        assert errors[0][0] is errors[1][0]
        if "Linear" not in errors[1][1]:
            assert errors[0][1] == errors[1][1]


def test_stateless_functional_call_matches_torch():
    emod, tmod = pair(linear)
    w = rand(5, 6, seed=11)
    x = rand(2, 6, seed=12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ye = estateless.functional_call(emod, {"weight": ember.tensor(w)}, (ember.tensor(x),))
    assert any(issubclass(c.category, FutureWarning) for c in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = torch.nn.utils.stateless.functional_call(tmod, {"weight": torch.tensor(w)},
                                                      (torch.tensor(x),))
    assert_close(ye, yt.detach(), atol=1e-5)
    assert_close(emod.weight, tmod.weight.detach())


def test_swa_schedule_end_to_end_matches_torch():
    """A short SWA run: SGD, CosineAnnealingLR, then SWALR and averaging, then update_bn."""
    emod, tmod = pair(bn_net)
    runs = []
    for lib, mod in ((ember, emod), (torch, tmod)):
        opt = lib.optim.SGD(mod.parameters(), lr=0.1, momentum=0.9)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
        swa_model = lib.optim.swa_utils.AveragedModel(mod)
        swa_sched = lib.optim.swa_utils.SWALR(opt, swa_lr=0.02, anneal_epochs=2)
        for epoch in range(6):
            x, y = rand(8, 5, seed=epoch), rand(8, 3, seed=50 + epoch)
            opt.zero_grad()
            ((mod(lib.tensor(x)) - lib.tensor(y)) ** 2).mean().backward()
            opt.step()
            if epoch >= 3:
                swa_model.update_parameters(mod)
                swa_sched.step()
            else:
                sched.step()
        lib.optim.swa_utils.update_bn([lib.tensor(rand(8, 5, seed=s)) for s in range(3)],
                                      swa_model)
        runs.append((swa_model, opt.param_groups[0]["lr"]))
    assert math.isclose(runs[0][1], runs[1][1], rel_tol=1e-12)
    compare_state(runs[0][0], runs[1][0], atol=1e-5)
