"""optim.swa_utils: AveragedModel (SWA and EMA averages, buffers, n_averaged), the averaging
functions, SWALR's lr sequence and errors, update_bn. (tests/oracle/test_swa_prune_oracle.py
checks them against torch.)"""

import copy
import math
import pickle

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.optim import swa_utils
from ember.optim.swa_utils import (
    SWALR,
    AveragedModel,
    get_ema_avg_fn,
    get_ema_multi_avg_fn,
    get_swa_avg_fn,
    get_swa_multi_avg_fn,
    update_bn,
)
from tests.helpers import assert_close


def net():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def snapshots(model, n, seed=1):
    """``n`` successive random perturbations of ``model``'s parameters, applied in place;
    yields after each, with a copy of the parameters' arrays."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        with ember.no_grad():
            for p in model.parameters():
                p.add_(ember.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
        yield [p.detach().numpy().copy() for p in model.parameters()]


def test_swa_utils_is_an_optim_attribute():
    assert optim.swa_utils is swa_utils
    assert "swa_utils" in optim.__all__
    for name in swa_utils.__all__:
        assert getattr(swa_utils, name).__doc__


def test_averaged_model_deep_copies_and_registers_n_averaged():
    model = net()
    avg = AveragedModel(model)
    assert avg.module is not model
    for p, q in zip(avg.parameters(), model.parameters()):
        assert p is not q
        assert_close(p, q)
    assert avg.n_averaged.dtype == ember.int64 and int(avg.n_averaged) == 0
    assert list(avg.state_dict())[0] == "n_averaged"
    assert "module.0.weight" in avg.state_dict()


def test_deepcopy_of_a_module_makes_independent_parameters():
    model = net()
    twin = copy.deepcopy(model)
    with ember.no_grad():
        twin[0].weight.add_(1.0)
    assert not np.allclose(twin[0].weight.detach().numpy(), model[0].weight.detach().numpy())
    assert isinstance(twin[0].weight, nn.Parameter) and twin[0].weight.requires_grad


def test_averaged_model_default_is_the_running_mean():
    model = net()
    avg = AveragedModel(model)
    history = []
    for snap in snapshots(model, 4):
        history.append(snap)
        avg.update_parameters(model)
    assert int(avg.n_averaged) == 4
    for i, p in enumerate(avg.parameters()):
        assert_close(p, np.mean([h[i] for h in history], axis=0), atol=1e-5)


def test_averaged_model_forward_delegates_to_the_copy():
    model = net().eval()
    avg = AveragedModel(model)
    x = ember.randn(5, 3)
    assert_close(avg(x), avg.module(x))
    assert_close(avg(x), model(x))


@pytest.mark.parametrize("kind", ["avg_fn", "multi_avg_fn"])
def test_averaged_model_ema(kind):
    decay = 0.9
    model = net()
    fn = get_ema_avg_fn(decay) if kind == "avg_fn" else get_ema_multi_avg_fn(decay)
    avg = AveragedModel(model, **{kind: fn})
    expected = None
    for snap in snapshots(model, 3):
        expected = snap if expected is None else [decay * e + (1 - decay) * s
                                                  for e, s in zip(expected, snap)]
        avg.update_parameters(model)
    for p, e in zip(avg.parameters(), expected):
        assert_close(p, e, atol=1e-5)


def test_swa_multi_avg_fn_matches_the_default():
    model = net()
    a, b = AveragedModel(model), AveragedModel(model, multi_avg_fn=get_swa_multi_avg_fn())
    for _ in snapshots(model, 3):
        a.update_parameters(model)
        b.update_parameters(model)
    for p, q in zip(a.parameters(), b.parameters()):
        assert_close(p, q, atol=1e-6)


def test_swa_avg_fn_and_ema_avg_fn_values():
    x, y = ember.tensor([1.0, 2.0]), ember.tensor([3.0, 6.0])
    assert_close(get_swa_avg_fn()(x, y, ember.tensor(1)), [2.0, 4.0])
    assert_close(get_swa_avg_fn()(x, y, 3), [1.5, 3.0])
    assert_close(get_ema_avg_fn(0.75)(x, y, 5), [1.5, 3.0])
    a, b = [ember.tensor([1.0, 2.0])], [ember.tensor([3.0, 6.0])]
    get_swa_multi_avg_fn()(a, b, 1)
    assert_close(a[0], [2.0, 4.0])
    get_ema_multi_avg_fn(0.5)(a, b, 1)
    assert_close(a[0], [2.5, 5.0])


@pytest.mark.parametrize("decay", [-0.1, 1.5])
def test_ema_decay_out_of_range_raises(decay):
    with pytest.raises(ValueError, match="Invalid decay value"):
        get_ema_avg_fn(decay)
    with pytest.raises(ValueError, match="Invalid decay value"):
        get_ema_multi_avg_fn(decay)


def test_averaged_model_rejects_both_functions():
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        AveragedModel(net(), avg_fn=get_swa_avg_fn(), multi_avg_fn=get_swa_multi_avg_fn())


def test_buffers_are_copied_without_use_buffers():
    model = net()
    avg = AveragedModel(model)
    model(ember.randn(8, 3))
    avg.update_parameters(model)
    model(ember.randn(8, 3) + 1)
    avg.update_parameters(model)
    for b, mb in zip(avg.module.buffers(), model.buffers()):
        assert_close(b, mb)


def test_use_buffers_averages_the_buffers():
    model = net()
    avg = AveragedModel(model, use_buffers=True)
    means = []
    for shift in (0.0, 2.0):
        model(ember.randn(8, 3) + shift)
        means.append(model[1].running_mean.numpy().copy())
        avg.update_parameters(model)
    assert_close(avg.module[1].running_mean, np.mean(means, axis=0), atol=1e-6)
    # the integer counter is averaged too (2 batches then 1 -> (1 + 2) / 2, truncated)
    assert int(avg.module[1].num_batches_tracked) == 1


def test_update_parameters_does_not_touch_the_model_or_autograd():
    model = net()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    avg = AveragedModel(model)
    avg.update_parameters(model)
    avg.update_parameters(model)
    for p, b in zip(model.parameters(), before):
        assert_close(p, b)
    for p in avg.parameters():
        assert p.grad_fn is None and p.requires_grad


def test_averaged_model_state_dict_round_trip_and_pickle():
    model = net()
    avg = AveragedModel(model)
    for _ in snapshots(model, 2):
        avg.update_parameters(model)
    other = AveragedModel(net())
    other.load_state_dict(avg.state_dict())
    assert int(other.n_averaged) == 2
    for p, q in zip(other.parameters(), avg.parameters()):
        assert_close(p, q)
    clone = pickle.loads(pickle.dumps(avg))
    assert int(clone.n_averaged) == 2


def make_opt(lrs=(1.0,)):
    groups = [{"params": [nn.Parameter(ember.zeros(2))], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0])


def run(scheduler, opt, n):
    out = []
    for _ in range(n):
        opt.step()
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return out


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr_anneals_to_swa_lr_then_holds(strategy):
    opt = make_opt()
    s = SWALR(opt, swa_lr=0.1, anneal_epochs=4, anneal_strategy=strategy)
    assert s.get_last_lr() == [1.0]
    lrs = [lr[0] for lr in run(s, opt, 7)]
    anneal = ((lambda t: (1 - math.cos(math.pi * t)) / 2) if strategy == "cos"
              else (lambda t: t))
    expected = [0.1 * anneal(t / 4) + 1.0 * (1 - anneal(t / 4)) for t in range(1, 5)]
    np.testing.assert_allclose(lrs[:4], expected, rtol=1e-12)
    np.testing.assert_allclose(lrs[4:], [0.1] * 3, rtol=1e-12)
    assert opt.param_groups[0]["swa_lr"] == 0.1


def test_swalr_zero_anneal_epochs_jumps_at_once():
    opt = make_opt()
    s = SWALR(opt, swa_lr=0.05, anneal_epochs=0)
    assert s.get_last_lr() == [0.05]
    assert [lr[0] for lr in run(s, opt, 2)] == [0.05, 0.05]


def test_swalr_one_swa_lr_per_group():
    opt = make_opt((1.0, 0.5))
    s = SWALR(opt, swa_lr=[0.1, 0.2], anneal_epochs=2, anneal_strategy="linear")
    assert [g["swa_lr"] for g in opt.param_groups] == [0.1, 0.2]
    out = run(s, opt, 3)
    np.testing.assert_allclose(out[0], [0.55, 0.35])
    np.testing.assert_allclose(out[-1], [0.1, 0.2])


def test_swalr_errors():
    opt = make_opt((1.0, 0.5))
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        SWALR(opt, swa_lr=0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        SWALR(opt, swa_lr=0.1, anneal_epochs=2.0)
    with pytest.raises(ValueError, match="swa_lr must have the same length"):
        SWALR(opt, swa_lr=[0.1])


def test_swalr_state_dict_skips_anneal_func_and_restores_it():
    opt = make_opt()
    s = SWALR(opt, swa_lr=0.1, anneal_epochs=5, anneal_strategy="linear")
    run(s, opt, 2)
    state = s.state_dict()
    assert "anneal_func" not in state and "optimizer" not in state
    opt2 = make_opt()
    s2 = SWALR(opt2, swa_lr=0.1, anneal_epochs=5)
    s2.load_state_dict(state)
    assert s2.anneal_func is SWALR._linear_anneal and s2._step_count == s._step_count


def test_swalr_is_an_lr_scheduler_and_get_lr_warns_outside_step():
    opt = make_opt()
    s = SWALR(opt, swa_lr=0.1)
    assert isinstance(s, optim.lr_scheduler.LRScheduler)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


class Loader:
    def __init__(self, batches, wrap=False):
        self.batches, self.wrap = batches, wrap

    def __iter__(self):
        for b in self.batches:
            yield (b, ember.zeros(len(b))) if self.wrap else b


@pytest.mark.parametrize("wrap", [False, True])
def test_update_bn_recomputes_statistics_as_a_cumulative_average(wrap):
    model = net().eval()
    model[1].momentum = 0.3
    rng = np.random.default_rng(0)
    batches = [ember.tensor(rng.standard_normal((6, 3)).astype(np.float32) + i)
               for i in range(3)]
    update_bn(Loader(batches, wrap), model)
    assert not model.training and model[1].momentum == 0.3
    with ember.no_grad():
        feats = [model[0](b).numpy() for b in batches]
    assert_close(model[1].running_mean, np.mean([f.mean(0) for f in feats], axis=0), atol=1e-5)
    assert_close(model[1].running_var,
                 np.mean([f.var(0, ddof=1) for f in feats], axis=0), atol=1e-5)
    assert int(model[1].num_batches_tracked) == 3


def test_update_bn_keeps_training_mode_and_skips_models_without_batchnorm():
    model = net().train()
    update_bn(Loader([ember.randn(4, 3)]), model)
    assert model.training
    plain = nn.Linear(3, 2)
    update_bn(Loader([object()]), plain)  # never iterated: no BatchNorm, nothing to do


def test_update_bn_builds_no_graph():
    model = AveragedModel(net())
    update_bn(Loader([ember.randn(4, 3)]), model)
    assert all(p.grad is None for p in model.parameters())
