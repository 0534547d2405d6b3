"""Learning-rate schedulers: values from their definitions, state dicts, warnings, errors.
(tests/oracle/test_optim_oracle.py checks every sequence against torch.)"""

import copy
import math
import warnings

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter
from ember.optim import lr_scheduler as sched


def make_opt(lr=0.1, cls=optim.SGD, **kwargs):
    p = Parameter(ember.zeros(2))
    return cls([p], lr=lr, **kwargs)


def run(scheduler, opt, n):
    lrs = []
    for _ in range(n):
        lrs.append(scheduler.get_last_lr()[0])
        opt.step()
        scheduler.step()
    return lrs


def test_step_lr_values():
    opt = make_opt()
    s = sched.StepLR(opt, step_size=3, gamma=0.5)
    lrs = run(s, opt, 7)
    np.testing.assert_allclose(lrs, [0.1] * 3 + [0.05] * 3 + [0.025])


def test_multistep_lr_repeated_milestone_compounds():
    opt = make_opt()
    s = sched.MultiStepLR(opt, milestones=[2, 4, 4], gamma=0.1)
    np.testing.assert_allclose(run(s, opt, 6), [0.1, 0.1, 0.01, 0.01, 1e-4, 1e-4])


def test_cosine_annealing_reaches_eta_min_at_t_max():
    opt = make_opt()
    s = sched.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    lrs = run(s, opt, 11)
    assert lrs[0] == 0.1
    assert math.isclose(lrs[10], 0.001, rel_tol=1e-9)
    expected = [0.001 + 0.099 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(11)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_linear_lr_ramps_then_holds():
    opt = make_opt()
    s = sched.LinearLR(opt, start_factor=0.25, total_iters=3)
    np.testing.assert_allclose(run(s, opt, 5), [0.025, 0.05, 0.075, 0.1, 0.1], rtol=1e-12)


def test_lambda_lr_and_initial_lr():
    opt = make_opt()
    s = sched.LambdaLR(opt, lambda e: 1.0 / (e + 1))
    assert opt.param_groups[0]["initial_lr"] == 0.1
    np.testing.assert_allclose(run(s, opt, 3), [0.1, 0.05, 0.1 / 3])


def test_exponential_lr():
    opt = make_opt()
    s = sched.ExponentialLR(opt, gamma=0.5)
    np.testing.assert_allclose(run(s, opt, 4), [0.1, 0.05, 0.025, 0.0125])


def test_one_cycle_lr_peaks_and_cycles_momentum():
    opt = make_opt(momentum=0.9)
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3)
    lrs, moms = [], []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        s.step()
    assert lrs[0] == pytest.approx(1.0 / 25)
    assert max(lrs) == pytest.approx(1.0)
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert moms[0] == pytest.approx(0.95) and min(moms) == pytest.approx(0.85)


def test_one_cycle_lr_stepping_past_total_raises():
    opt = make_opt(momentum=0.9)
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    opt.step()
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s.step()


def test_sequential_lr_switches_at_milestone():
    opt = make_opt()
    warm = sched.LinearLR(opt, start_factor=0.5, total_iters=2)
    decay = sched.ExponentialLR(opt, gamma=0.5)
    s = sched.SequentialLR(opt, [warm, decay], milestones=[3])
    np.testing.assert_allclose(run(s, opt, 6), [0.05, 0.075, 0.1, 0.1, 0.05, 0.025])


def test_reduce_on_plateau_waits_for_patience():
    opt = make_opt()
    s = sched.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    lrs = []
    for metric in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8]:
        s.step(metric)
        lrs.append(s.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05])


def test_reduce_on_plateau_accepts_a_tensor_metric_and_min_lr():
    opt = make_opt()
    s = sched.ReduceLROnPlateau(opt, patience=0, factor=0.1, min_lr=0.05)
    s.step(ember.tensor(1.0))
    s.step(ember.tensor(2.0))
    assert s.get_last_lr() == [0.05]


@pytest.mark.parametrize(
    "factory",
    [
        lambda o: sched.StepLR(o, 2, 0.5),
        lambda o: sched.MultiStepLR(o, [2, 5], 0.5),
        lambda o: sched.CosineAnnealingLR(o, 6, 0.01),
        lambda o: sched.LinearLR(o, 0.2, 0.9, 4),
        lambda o: sched.OneCycleLR(o, 1.0, total_steps=20),
        lambda o: sched.SequentialLR(
            o, [sched.ConstantLR(o, 0.5, 3), sched.ExponentialLR(o, 0.9)], [4]),
    ],
)
def test_state_dict_round_trip_resumes_the_sequence(factory):
    opt_a = make_opt(momentum=0.9)
    s_a = factory(opt_a)
    run(s_a, opt_a, 5)
    saved = copy.deepcopy(s_a.state_dict())
    saved_opt = copy.deepcopy(opt_a.state_dict())
    assert "optimizer" not in saved
    rest_a = run(s_a, opt_a, 8)

    opt_b = make_opt(momentum=0.9)
    s_b = factory(opt_b)
    opt_b.load_state_dict(saved_opt)
    s_b.load_state_dict(saved)
    rest_b = run(s_b, opt_b, 8)
    assert rest_a == rest_b


def test_scheduler_before_optimizer_step_warns():
    opt = make_opt()
    s = sched.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()


def test_optimizer_then_scheduler_does_not_warn():
    opt = make_opt()
    s = sched.StepLR(opt, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        s.step()


def test_get_lr_outside_step_warns():
    opt = make_opt()
    s = sched.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def test_not_an_optimizer_raises_type_error():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        sched.StepLR([], 2)


def test_resuming_without_initial_lr_raises_key_error():
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(make_opt(), 2, last_epoch=3)


@pytest.mark.parametrize(
    "factory, message",
    [
        (lambda o: sched.LinearLR(o, start_factor=0), "Starting multiplicative factor"),
        (lambda o: sched.LinearLR(o, end_factor=2), "Ending multiplicative factor"),
        (lambda o: sched.ConstantLR(o, factor=2), "Constant multiplicative factor"),
        (lambda o: sched.ReduceLROnPlateau(o, factor=1.0), "Factor should be < 1.0"),
        (lambda o: sched.ReduceLROnPlateau(o, mode="up"), "mode up is unknown"),
        (lambda o: sched.ReduceLROnPlateau(o, threshold_mode="x"), "threshold mode x is unknown"),
        (lambda o: sched.OneCycleLR(o, 1.0), "You must define either total_steps"),
        (lambda o: sched.OneCycleLR(o, 1.0, total_steps=0), "Expected positive integer"),
        (lambda o: sched.OneCycleLR(o, 1.0, total_steps=5, pct_start=2.0), "pct_start"),
        (lambda o: sched.OneCycleLR(o, 1.0, total_steps=5, anneal_strategy="x"),
         "anneal_strategy"),
        (lambda o: sched.SequentialLR(o, [sched.StepLR(o, 2)], [1]), "one more than"),
        (lambda o: sched.LambdaLR(o, [lambda e: 1, lambda e: 1]), "Expected 1 lr_lambdas"),
    ],
)
def test_bad_arguments_raise_value_error(factory, message):
    with pytest.raises(ValueError, match=message):
        factory(make_opt(momentum=0.9))


def test_one_cycle_needs_momentum():
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        sched.OneCycleLR(_no_momentum_opt(), 1.0, total_steps=5)


def _no_momentum_opt():
    p = Parameter(ember.zeros(2))
    return optim.Optimizer([p], {"lr": 0.1})


def test_tensor_lr_is_updated_in_place():
    lr = ember.tensor(0.1)
    opt = make_opt(lr=lr)
    s = sched.ExponentialLR(opt, gamma=0.5)
    opt.step()
    s.step()
    assert opt.param_groups[0]["lr"] is lr
    assert lr.item() == pytest.approx(0.05)
