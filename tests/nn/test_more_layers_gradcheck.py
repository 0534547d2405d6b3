"""Finite-difference checks (float64, no torch) of the added activations, losses, distances
and padding layers; samples keep away from each function's break points."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck


def leaf(shape, seed, low=-2.0, high=2.0, kinks=()):
    x = np.random.default_rng(seed).uniform(low, high, shape)
    for k in kinks:
        x = np.where(np.abs(x - k) < 0.05, x + 0.1, x)
    return ember.tensor(x, requires_grad=True)


def const(a):
    return ember.tensor(np.asarray(a))


ACTIVATIONS = [
    ("selu", lambda x: F.selu(x), (0,)),
    ("celu", lambda x: F.celu(x, 0.6), (0,)),
    ("hardswish", F.hardswish, (-3, 3)),
    ("hardsigmoid", F.hardsigmoid, (-3, 3)),
    ("softsign", F.softsign, ()),
    ("tanhshrink", F.tanhshrink, ()),
    ("softshrink", lambda x: F.softshrink(x, 0.7), (-0.7, 0.7)),
    ("hardshrink", lambda x: F.hardshrink(x, 0.4), (-0.4, 0.4)),
    ("threshold", lambda x: F.threshold(x, 0.2, -1.0), (0.2,)),
    ("rrelu_eval", lambda x: F.rrelu(x, 0.1, 0.4), (0,)),
    ("selu_", lambda x: F.selu_(x * 1.0), (0,)),
    ("celu_", lambda x: F.celu_(x * 1.0, 2.0), (0,)),
    ("threshold_", lambda x: F.threshold_(x * 1.0, 0.5, 3.0), (0.5,)),
    ("leaky_relu_", lambda x: F.leaky_relu_(x * 1.0, 0.3), (0,)),
    ("hardtanh_", lambda x: F.hardtanh_(x * 1.0, -0.5, 1.0), (-0.5, 1.0)),
    ("elu_", lambda x: F.elu_(x * 1.0, 0.8), (0,)),
]


@pytest.mark.parametrize("name,fn,kinks", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_gradcheck(name, fn, kinks):
    assert gradcheck(fn, (leaf((3, 4), 1, -4.0, 4.0, kinks),))


def test_prelu_gradcheck_input_and_weight():
    x = leaf((2, 3, 4), 2, kinks=(0,))
    w = leaf((3,), 3, 0.1, 0.5)
    assert gradcheck(F.prelu, (x, w))
    assert gradcheck(F.prelu, (leaf((5,), 4, kinks=(0,)), leaf((1,), 5, 0.1, 0.5)))


def test_rrelu_training_gradient_is_its_noise():
    x = leaf((6, 5), 6, kinks=(0,))
    out = F.rrelu(x, 0.2, 0.3, training=True)
    out.backward(ember.ones_like(out))
    xv = x.detach().numpy()
    assert np.allclose(x.grad.numpy(), out.detach().numpy() / xv)


def test_feature_dropout_gradient_is_its_mask():
    x = leaf((3, 4, 5), 7, 0.5, 1.5)
    out = F.dropout1d(x, 0.5)
    out.sum().backward()
    assert np.allclose(x.grad.numpy(), out.detach().numpy() / x.detach().numpy())


def _signs(shape, seed):
    return const(np.where(np.random.default_rng(seed).uniform(-1, 1, shape) > 0, 1.0, -1.0))


LOSSES = [  # each takes the tensors, then the reduction
    ("margin_ranking", lambda a, b, r: F.margin_ranking_loss(a, b, _signs(6, 9), margin=0.1,
                                                             reduction=r), [(6,), (6,)]),
    ("hinge_embedding", lambda a, r: F.hinge_embedding_loss(a, _signs((4, 3), 9), margin=3.0,
                                                            reduction=r), [(4, 3)]),
    ("cosine_embedding", lambda a, b, r: F.cosine_embedding_loss(
        a, b, _signs(4, 9), margin=-1.5, reduction=r), [(4, 3), (4, 3)]),
    ("soft_margin", lambda a, r: F.soft_margin_loss(a, _signs((4, 3), 9), reduction=r),
     [(4, 3)]),
    ("multilabel_soft_margin", lambda a, w, r: F.multilabel_soft_margin_loss(
        a, const((np.arange(12).reshape(4, 3) % 2) * 1.0), weight=w, reduction=r),
     [(4, 3), (3,)]),
    ("multi_margin_p1", lambda a, r: F.multi_margin_loss(
        a, const(np.array([0, 2, 1, 1])), margin=5.0, reduction=r), [(4, 3)]),
    ("multi_margin_p2", lambda a, r: F.multi_margin_loss(
        a, const(np.array([0, 2, 1, 1])), p=2, margin=5.0, reduction=r), [(4, 3)]),
    ("multilabel_margin", lambda a, r: F.multilabel_margin_loss(
        a * 0.1, const(np.array([[0, 2, -1], [1, -1, 0], [2, 1, 0], [-1, 0, 0]])),
        reduction=r), [(4, 3)]),
    ("poisson_nll_full", lambda a, t, r: F.poisson_nll_loss(a, t * 2, full=True, reduction=r),
     [(4, 3), (4, 3)]),
    ("poisson_nll_linear", lambda a, r: F.poisson_nll_loss(
        a * a + 0.5, const(np.full((4, 3), 2.0)), log_input=False, reduction=r), [(4, 3)]),
    ("gaussian_nll", lambda a, t, v, r: F.gaussian_nll_loss(a, t, v * v + 0.5, full=True,
                                                            reduction=r),
     [(4, 3), (4, 3), (4, 1)]),
    ("triplet_margin", lambda a, p, n, r: F.triplet_margin_loss(a, p, n, margin=10.0, swap=True,
                                                                reduction=r),
     [(4, 3), (4, 3), (4, 3)]),
    ("triplet_with_distance", lambda a, p, n, r: F.triplet_margin_with_distance_loss(
        a, p, n, margin=10.0, reduction=r), [(4, 3), (4, 3), (4, 3)]),
]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name,fn,shapes", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_gradcheck(name, fn, shapes, reduction):
    # positive targets for the Poisson loss
    inputs = tuple(leaf(s, 10 + i, 0.5 if "poisson" in name and i else -2.0)
                   for i, s in enumerate(shapes))
    assert gradcheck(lambda *ts: fn(*ts, reduction), inputs)


DISTANCES = [
    ("pairwise_distance_p3", lambda a, b: F.pairwise_distance(a, b, 3.0), [(4, 3), (3,)]),
    ("pairwise_distance_keepdim", lambda a, b: F.pairwise_distance(a, b, keepdim=True),
     [(4, 3), (4, 3)]),
    ("pdist", lambda a: F.pdist(a, 1.5), [(4, 3)]),
    ("pdist_p2", F.pdist, [(5, 2)]),
    ("cosine_similarity_module", lambda a, b: ember.nn.CosineSimilarity()(a, b),
     [(4, 3), (4, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", DISTANCES, ids=[c[0] for c in DISTANCES])
def test_distance_gradcheck(name, fn, shapes):
    assert gradcheck(fn, tuple(leaf(s, 20 + i) for i, s in enumerate(shapes)))


PADS = [("ZeroPad2d", (1, 0, 2, 1), (2, 3, 4)), ("ConstantPad1d", (1, -1), (3, 5)),
        ("ReflectionPad1d", 2, (2, 3, 5)), ("ReflectionPad3d", 1, (1, 2, 3, 3, 3)),
        ("ReplicationPad2d", (0, 2, 1, 1), (2, 2, 3)), ("CircularPad2d", (1, 0, 2, 1), (2, 3, 4))]


@pytest.mark.parametrize("name,padding,shape", PADS, ids=[p[0] for p in PADS])
def test_padding_gradcheck(name, padding, shape):
    value = (0.5,) if name.startswith("Constant") else ()
    layer = getattr(ember.nn, name)(padding, *value)
    assert gradcheck(layer, (leaf(shape, 11),))
