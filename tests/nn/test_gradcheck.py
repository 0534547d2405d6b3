"""Finite-difference gradient checks (float64) for every fused nn op and option."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.nn import functional as F


def leaf(shape, seed, low=-2.0, high=2.0):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.uniform(low, high, shape), dtype=ember.float64, requires_grad=True)


def const(shape, seed, low=-2.0, high=2.0):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.uniform(low, high, shape), dtype=ember.float64)


def targets(shape, classes, seed):
    return ember.tensor(np.random.default_rng(seed).integers(0, classes, shape))


# --- linear --------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape", [(3, 4), (2, 3, 4), (4,)])
def test_linear(x_shape):
    x, w, b = leaf(x_shape, 0), leaf((5, 4), 1), leaf((5,), 2)
    assert gradcheck(F.linear, (x, w, b))
    assert gradcheck(lambda x, w: F.linear(x, w), (x, w))


# --- batch norm ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm_training(shape):
    x, w, b = leaf(shape, 0), leaf((3,), 1), leaf((3,), 2)
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True), (x, w, b))


def test_batch_norm_training_without_affine_or_running_stats():
    x = leaf((5, 4), 3)
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x,))


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4)])
def test_batch_norm_eval(shape):
    x, w, b = leaf(shape, 0), leaf((3,), 1), leaf((3,), 2)
    rm = const((3,), 4)
    rv = const((3,), 5, 0.5, 2.0)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), (x, w, b))


# --- layer norm ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape, norm", [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((6,), (6,))])
def test_layer_norm(shape, norm):
    x, w, b = leaf(shape, 0), leaf(norm, 1), leaf(norm, 2)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, norm, w, b), (x, w, b))
    assert gradcheck(lambda x, w: F.layer_norm(x, norm, w), (x, w))
    assert gradcheck(lambda x: F.layer_norm(x, norm), (x,))


# --- embedding -----------------------------------------------------------------------------
def test_embedding_with_repeats():
    # (the padding row's gradient is zero on purpose, so it is tested in test_layers.py)
    w = leaf((6, 3), 0)
    ids = ember.tensor([[0, 2, 2], [5, 0, 2]])
    assert gradcheck(lambda w: F.embedding(ids, w), (w,))
    assert gradcheck(lambda w: F.embedding(ids, w, padding_idx=4), (w,))


# --- dropout (fixed mask: reseeded before each evaluation) ---------------------------------
def test_dropout_fixed_mask():
    x = leaf((4, 5), 0)

    def fn(x):
        ember.manual_seed(7)
        return F.dropout(x, 0.4, training=True)

    assert gradcheck(fn, (x,))
    assert gradcheck(lambda x: F.dropout(x, 0.0, training=True) * 1.0, (x,))


# --- cross entropy -------------------------------------------------------------------------
CE_CASES = {
    "plain": dict(),
    "sum": dict(reduction="sum"),
    "none": dict(reduction="none"),
    "weight": dict(weight=ember.tensor([0.5, 2.0, 1.0, 0.3], dtype=ember.float64)),
    "ignore": dict(ignore_index=1),
    "smoothing": dict(label_smoothing=0.2),
    "all_options": dict(weight=ember.tensor([0.5, 2.0, 1.0, 0.3], dtype=ember.float64),
                        ignore_index=3, label_smoothing=0.1),
    "all_options_none": dict(weight=ember.tensor([0.5, 2.0, 1.0, 0.3], dtype=ember.float64),
                             ignore_index=3, label_smoothing=0.1, reduction="none"),
}


@pytest.mark.parametrize("name", list(CE_CASES))
def test_cross_entropy_2d(name):
    x = leaf((5, 4), 0)
    t = ember.tensor([0, 1, 3, 1, 2])
    assert gradcheck(lambda x: F.cross_entropy(x, t, **CE_CASES[name]), (x,))


@pytest.mark.parametrize("name", ["plain", "none", "all_options"])
def test_cross_entropy_nd(name):
    x = leaf((2, 4, 3), 0)
    t = targets((2, 3), 4, 1)
    assert gradcheck(lambda x: F.cross_entropy(x, t, **CE_CASES[name]), (x,))


def test_cross_entropy_unbatched():
    x = leaf((4,), 0)
    assert gradcheck(lambda x: F.cross_entropy(x, ember.tensor(2)), (x,))


@pytest.mark.parametrize("opts", [dict(), dict(label_smoothing=0.3, reduction="sum"),
                                  dict(weight=ember.tensor([1.0, 2.0, 0.5],
                                                           dtype=ember.float64))])
def test_cross_entropy_probability_targets(opts):
    x = leaf((4, 3), 0)
    p = leaf((4, 3), 1, 0.1, 1.0)
    assert gradcheck(lambda x, p: F.cross_entropy(x, p, **opts), (x, p))


# --- nll and the composed losses -----------------------------------------------------------
@pytest.mark.parametrize("opts", [dict(), dict(reduction="none"), dict(ignore_index=0),
                                  dict(weight=ember.tensor([1.0, 2.0, 0.5],
                                                           dtype=ember.float64))])
def test_nll_loss(opts):
    x = leaf((5, 3), 0)
    t = ember.tensor([0, 2, 1, 0, 2])
    assert gradcheck(lambda x: F.nll_loss(x, t, **opts), (x,))


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss,
                                F.binary_cross_entropy_with_logits])
def test_pointwise_losses(fn):
    x = leaf((3, 4), 0)
    y = leaf((3, 4), 1, 0.05, 0.95)
    assert gradcheck(fn, (x, y))


def test_binary_cross_entropy():
    x = leaf((3, 4), 0, 0.05, 0.95)
    y = const((3, 4), 1, 0.0, 1.0)
    assert gradcheck(lambda x: F.binary_cross_entropy(x, y), (x,))


@pytest.mark.parametrize("fn", [lambda x: F.leaky_relu(x, 0.1), F.elu, F.logsigmoid,
                                lambda x: F.hardtanh(x, -1.5, 1.5), F.gelu, F.silu, F.mish,
                                lambda x: F.glu(x, -1)])
def test_activations(fn):
    x = leaf((3, 4), 0)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("mode, pad", [("constant", (1, 2)), ("constant", (-1, 1, 2, 0)),
                                       ("reflect", (2, 1)), ("replicate", (1, 2, 2, 1)),
                                       ("circular", (1, 1))])
def test_pad(mode, pad):
    x = leaf((2, 3, 4), 0)
    assert gradcheck(lambda x: F.pad(x, pad, mode=mode), (x,))


def test_scaled_dot_product_attention():
    q, k, v = leaf((2, 3, 4), 0), leaf((2, 5, 4), 1), leaf((2, 5, 2), 2)
    assert gradcheck(F.scaled_dot_product_attention, (q, k, v))
    q2 = leaf((2, 4, 4), 3)
    k2 = leaf((2, 4, 4), 4)
    v2 = leaf((2, 4, 2), 5)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                     (q2, k2, v2))


def test_scaled_dot_product_attention_full_shape_float_mask():
    # the mask's gradient once aliased the scores' and was scaled with the query's
    q, k, v, m = leaf((3, 4), 6), leaf((3, 4), 7), leaf((3, 3), 8), leaf((3, 3), 9)
    assert gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                     (q, k, v, m))


def test_scaled_dot_product_attention_causal_on_top_of_a_mask():
    q, k, v = leaf((1, 2, 3, 4), 10), leaf((1, 2, 5, 4), 11), leaf((1, 2, 5, 4), 12)
    mask = ember.tensor(np.random.default_rng(0).random((3, 5)) < 0.6)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, is_causal=True), (q, k, v))


def test_pdist_of_one_row_has_a_zero_gradient():
    x = leaf((1, 3), 13)
    F.pdist(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((1, 3)))
