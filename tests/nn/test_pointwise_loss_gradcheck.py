"""Finite-difference checks (float64) of the fused pointwise losses: MseLoss, SmoothL1Loss,
HuberLoss, BinaryCrossEntropy and BinaryCrossEntropyWithLogits, each with respect to both
``input`` and ``target``, for every reduction and option. No torch needed.

The data keep ``|input - target|`` well away from the kinks at 0 and at beta / delta.
"""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.nn import functional as F

REDUCTIONS = ["none", "mean", "sum"]


def leaf(a):
    return ember.tensor(np.asarray(a, np.float64), requires_grad=True)


def pair(shape, seed, kink=None, target_shape=None):
    """(input, target) leaves whose differences stay at least 0.01 (ten thousand finite-
    difference steps) from 0 and from +-``kink``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, shape)
    if target_shape is None:
        # differences drawn between the kinks: |d| in [0.25 k, 0.75 k] or [1.25 k, 2.5 k]
        k = 1.0 if kink is None else kink
        mag = np.where(rng.random(shape) < 0.5, rng.uniform(0.25 * k, 0.75 * k, shape),
                       rng.uniform(1.25 * k, 2.5 * k, shape))
        y = x - mag * rng.choice([-1.0, 1.0], shape)
    else:
        y = rng.uniform(-3, 3, target_shape)
    d = np.abs(x - y)
    assert d.min() > 0.01
    if kink is not None:
        assert np.abs(d - kink).min() > 0.01
    return leaf(x), leaf(y)


def node_name(fn, x, y):
    return type(fn(x, y).grad_fn).__name__


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss(reduction):
    x, y = pair((3, 4), 0)
    fn = lambda x, y: F.mse_loss(x, y, reduction=reduction)  # noqa: E731
    assert node_name(fn, x, y) == "MseLossBackward0"
    assert gradcheck(fn, (x, y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [1.0, 0.3, 2.0])
def test_smooth_l1_loss(beta, reduction):
    x, y = pair((3, 4), 1, kink=beta)
    fn = lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta)  # noqa: E731
    assert node_name(fn, x, y) == "SmoothL1LossBackward0"
    assert gradcheck(fn, (x, y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.4, 2.5])
def test_huber_loss(delta, reduction):
    x, y = pair((3, 4), 2, kink=delta)
    fn = lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=delta)  # noqa: E731
    assert node_name(fn, x, y) == "HuberLossBackward0"
    assert gradcheck(fn, (x, y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss_weighted(reduction):
    x, y = pair((3, 4), 3, kink=0.8)
    w = ember.tensor(np.random.default_rng(4).uniform(0.2, 2.0, (3, 4)))
    assert gradcheck(lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=0.8,
                                               weight=w), (x, y))


@pytest.mark.parametrize("fn, kink", [(F.mse_loss, None),
                                      (lambda x, y: F.smooth_l1_loss(x, y, beta=0.7), 0.7),
                                      (lambda x, y: F.huber_loss(x, y, delta=0.7), 0.7)])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 1)), ((1, 4), (3, 4)), ((2, 1, 4), (3, 1))])
def test_broadcast_operands(fn, kink, shapes):
    x, y = pair(shapes[0], 5, kink=kink, target_shape=shapes[1])
    with pytest.warns(UserWarning, match="Using a target size"):
        assert gradcheck(fn, (x, y))


def test_zero_dim():
    x, y = leaf(0.3), leaf(-0.9)
    for fn in (F.mse_loss, F.smooth_l1_loss, F.huber_loss, F.binary_cross_entropy_with_logits):
        assert gradcheck(fn, (x, y))
    assert gradcheck(F.binary_cross_entropy, (leaf(0.3), leaf(0.8)))


def probabilities(shape, seed):
    rng = np.random.default_rng(seed)
    return leaf(rng.uniform(0.05, 0.95, shape)), leaf(rng.uniform(0.0, 1.0, shape))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("w_shape", [None, (3, 4), (4,), (3, 1)])
def test_binary_cross_entropy(w_shape, reduction):
    x, y = probabilities((3, 4), 6)
    w = None
    if w_shape is not None:
        w = ember.tensor(np.random.default_rng(7).uniform(0.2, 2.0, w_shape))
    fn = lambda x, y: F.binary_cross_entropy(x, y, weight=w, reduction=reduction)  # noqa: E731
    assert node_name(fn, x, y) == "BinaryCrossEntropyBackward0"
    assert gradcheck(fn, (x, y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pw_shape", [None, (4,), (3, 4), ()])
@pytest.mark.parametrize("w_shape", [None, (4,), (3, 4)])
def test_binary_cross_entropy_with_logits(w_shape, pw_shape, reduction):
    rng = np.random.default_rng(8)
    x, y = leaf(rng.uniform(-4, 4, (3, 4))), leaf(rng.uniform(0, 1, (3, 4)))
    w = None if w_shape is None else ember.tensor(rng.uniform(0.2, 2.0, w_shape))
    pw = None if pw_shape is None else ember.tensor(rng.uniform(0.3, 3.0, pw_shape))

    def fn(x, y):
        return F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw,
                                                  reduction=reduction)

    assert node_name(fn, x, y) == "BinaryCrossEntropyWithLogitsBackward0"
    assert gradcheck(fn, (x, y))


def test_binary_cross_entropy_with_large_logits():
    """The stable form keeps gradients exact where sigmoid saturates."""
    x = leaf([-40.0, -15.0, 15.0, 40.0, 0.2])
    y = leaf([0.2, 0.9, 0.1, 0.7, 0.5])
    pw = ember.tensor([2.0], dtype=ember.float64)
    assert gradcheck(lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw),
                     (x, y))


@pytest.mark.parametrize("fn", [F.mse_loss, F.smooth_l1_loss, F.huber_loss,
                                F.binary_cross_entropy_with_logits])
def test_input_only_and_target_only(fn):
    x, y = pair((2, 3), 9, kink=1.0)
    y_data = np.clip(y.detach().numpy(), 0, 1) if fn is F.binary_cross_entropy_with_logits \
        else y.detach().numpy()
    assert gradcheck(lambda x: fn(x, ember.tensor(y_data)), (x,))
    assert gradcheck(lambda y: fn(ember.tensor(x.detach().numpy()), y), (leaf(y_data),))
