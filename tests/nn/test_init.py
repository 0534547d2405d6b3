"""nn.init: statistical checks of each scheme (moments and ranges) and ember's seeded streams."""

import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import init

SHAPE = (400, 250)  # fan_in 250, fan_out 400, 100,000 draws


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)


def sample(fn, *args, **kwargs):
    return fn(ember.empty(*SHAPE), *args, **kwargs).numpy()


def test_uniform_and_normal_moments():
    u = sample(init.uniform_, -1.0, 3.0)
    assert u.min() >= -1 and u.max() <= 3
    assert u.mean() == pytest.approx(1.0, abs=0.02)
    assert u.std() == pytest.approx(4 / math.sqrt(12), rel=0.01)
    n = sample(init.normal_, 2.0, 0.5)
    assert n.mean() == pytest.approx(2.0, abs=0.01) and n.std() == pytest.approx(0.5, rel=0.01)


def test_trunc_normal_stays_inside():
    t = sample(init.trunc_normal_, 0.0, 1.0, -0.5, 1.0)
    assert t.min() >= -0.5 and t.max() <= 1.0
    assert (t < 0).mean() == pytest.approx(0.1915 / (0.1915 + 0.3413), abs=0.01)


def test_xavier_and_kaiming_scales():
    std_x = math.sqrt(2 / (250 + 400))
    assert sample(init.xavier_normal_).std() == pytest.approx(std_x, rel=0.02)
    xu = sample(init.xavier_uniform_)
    assert xu.max() <= math.sqrt(3) * std_x and xu.std() == pytest.approx(std_x, rel=0.02)
    kn = sample(init.kaiming_normal_, nonlinearity="relu")
    assert kn.std() == pytest.approx(math.sqrt(2 / 250), rel=0.02)
    kno = sample(init.kaiming_normal_, mode="fan_out", nonlinearity="relu")
    assert kno.std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    ku = sample(init.kaiming_uniform_, a=math.sqrt(5))
    assert np.abs(ku).max() <= 1 / math.sqrt(250) and np.abs(ku).max() > 0.99 / math.sqrt(250)


def test_constant_zeros_ones_eye_dirac():
    assert (sample(init.constant_, 0.25) == 0.25).all()
    assert not sample(init.zeros_).any() and (sample(init.ones_) == 1).all()
    np.testing.assert_array_equal(init.eye_(ember.empty(2, 3)).numpy(), np.eye(2, 3))
    d = init.dirac_(ember.empty(2, 2, 3)).numpy()
    assert d[0, 0, 1] == 1 and d[1, 1, 1] == 1 and d.sum() == 2


def test_calculate_gain_and_errors():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(ember.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(2, 2), mode="fan_avg")


def test_init_runs_under_no_grad_on_parameters():
    p = nn.Parameter(ember.empty(3, 4))
    init.kaiming_uniform_(p)
    assert p.requires_grad and p.grad_fn is None and p._version > 0


def test_streams_follow_ember_seed():
    ember.manual_seed(42)
    a = nn.Linear(5, 3).weight.detach().numpy().copy()
    ember.manual_seed(42)
    b = nn.Linear(5, 3).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)
    g = ember.Generator().manual_seed(1)
    x = init.normal_(ember.empty(3), generator=g).numpy().copy()
    g.manual_seed(1)
    np.testing.assert_array_equal(init.normal_(ember.empty(3), generator=g).numpy(), x)


def test_zero_element_tensor_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(ember.empty(0, 3))
