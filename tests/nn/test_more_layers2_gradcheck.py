"""Finite-difference checks (float64, no torch) of the unpooling, fractional and
power-average pooling, local response norm, channel shuffle, CTC loss and adaptive softmax
layers, and the lazy modules' materialisation.

Max-type layers draw distinct values (no ties within a window) so that their argmax does
not move under the finite-difference steps. ``CrossMapLRN2d`` is left to the oracle tests:
its backward is torch's, which is not the derivative of its forward.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck


def leaf(shape, seed, low=-2.0, high=2.0):
    x = np.random.default_rng(seed).uniform(low, high, shape)
    return ember.tensor(x, requires_grad=True)


def distinct(shape, seed, low=None):
    """Values spaced 0.1 apart in a random order (from ``low``, else centred on 0): max
    pooling never meets a tie."""
    n = int(np.prod(shape))
    low = -n * 0.05 if low is None else low
    x = np.random.default_rng(seed).permutation(n).reshape(shape) * 0.1 + low
    return ember.tensor(x.astype(np.float64), requires_grad=True)


# ---------------------------------------------------------------- unpooling

UNPOOLS = [
    ("1d", F.max_pool1d, F.max_unpool1d, (2, 3, 8), {}),
    ("1d_unbatched_stride", F.max_pool1d, F.max_unpool1d, (3, 9), {"stride": 3}),
    ("2d", F.max_pool2d, F.max_unpool2d, (2, 2, 4, 6), {}),
    ("2d_output_size", F.max_pool2d, F.max_unpool2d, (1, 2, 5, 5), {"output_size": (5, 5)}),
    ("3d", F.max_pool3d, F.max_unpool3d, (1, 2, 4, 4, 4), {}),
    ("3d_unbatched", F.max_pool3d, F.max_unpool3d, (2, 4, 2, 4), {}),
]


@pytest.mark.parametrize("name,pool,unpool,shape,kw", UNPOOLS, ids=[u[0] for u in UNPOOLS])
def test_max_unpool_gradcheck(name, pool, unpool, shape, kw):
    # windows that do not overlap: repeated indices would keep only the last write
    x = distinct(shape, 1)
    stride = kw.get("stride")
    _, indices = pool(x, 2, stride, return_indices=True)
    y = leaf(tuple(indices.shape), 2)
    assert gradcheck(lambda t: unpool(t, indices, 2, stride, output_size=kw.get("output_size")),
                     (y,))


def test_max_unpool_inverts_max_pool_on_the_maxima():
    x = distinct((2, 3, 4, 4), 3, low=1.0)  # positive: the zeros never win the max
    out, indices = F.max_pool2d(x, 2, return_indices=True)
    back = F.max_unpool2d(out, indices, 2).detach().numpy()
    xv = x.detach().numpy()
    assert np.array_equal(back[back != 0], xv[back != 0])
    assert (back != 0).sum() == out.numel()
    assert F.max_pool2d(ember.tensor(back), 2).tolist() == out.tolist()


def test_max_unpool_last_write_wins_on_repeated_indices():
    out = F.max_unpool1d(ember.tensor([[[1.0, 2.0]]]), ember.tensor([[[0, 0]]]), 2)
    assert out.tolist() == [[[2.0, 0.0, 0.0, 0.0]]]


# ---------------------------------------------------------------- fractional max pooling

def test_fractional_max_pool2d_gradcheck():
    x = distinct((2, 3, 7, 6), 4)
    samples = ember.tensor(np.random.default_rng(5).uniform(0, 1, (2, 3, 2)))
    assert gradcheck(lambda t: F.fractional_max_pool2d(t, 2, output_size=(3, 4),
                                                       _random_samples=samples), (x,))


def test_fractional_max_pool3d_gradcheck():
    x = distinct((1, 2, 5, 6, 4), 6)
    samples = ember.tensor(np.random.default_rng(7).uniform(0, 1, (1, 2, 3)))
    assert gradcheck(lambda t: F.fractional_max_pool3d(t, (2, 2, 1), output_ratio=0.5,
                                                       _random_samples=samples), (x,))


def test_fractional_windows_cover_the_input_edges():
    x = ember.arange(49.0).reshape(1, 1, 7, 7)
    out, idx = F.fractional_max_pool2d(x, 2, output_size=4, return_indices=True,
                                       _random_samples=ember.tensor([[[0.3, 0.8]]]))
    assert out.shape == (1, 1, 4, 4) and idx.max().item() == 48  # the last window ends there
    assert np.array_equal(out.numpy().ravel(), idx.numpy().ravel().astype(np.float32))


# ---------------------------------------------------------------- lp pooling, LRN, shuffle

LP_POOLS = [
    ("lp1d_p2", lambda t: F.lp_pool1d(t, 2, 3), (2, 3, 7)),
    ("lp1d_p1.5_stride_ceil", lambda t: F.lp_pool1d(t, 1.5, 2, 3, ceil_mode=True), (3, 8)),
    ("lp2d_p3", lambda t: F.lp_pool2d(t, 3, (2, 3)), (2, 2, 4, 6)),
    ("lp2d_inf", lambda t: F.lp_pool2d(t, float("inf"), 2), (1, 2, 4, 4)),
    ("lp3d_p2", lambda t: F.lp_pool3d(t, 2, 2, stride=1), (1, 2, 3, 3, 3)),
    ("lppool2d_module", nn.LPPool2d(2.5, 2, stride=(1, 2)), (2, 4, 4)),
]


@pytest.mark.parametrize("name,fn,shape", LP_POOLS, ids=[c[0] for c in LP_POOLS])
def test_lp_pool_gradcheck(name, fn, shape):
    # positive inputs: x ** p of a negative x has a kink (or no real root) for odd p
    x = distinct(shape, 8, low=0.5) if "inf" in name else leaf(shape, 8, 0.5, 2.0)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("shape,size", [((2, 5, 4), 3), ((2, 4, 3, 3), 2), ((1, 6, 2, 2, 2), 5),
                                        ((3, 1, 2), 4)])
def test_local_response_norm_gradcheck(shape, size):
    assert gradcheck(lambda t: F.local_response_norm(t, size, alpha=0.5, beta=0.8, k=1.5),
                     (leaf(shape, 9),))


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((1, 4, 2, 2), 2), ((2, 6, 1, 2, 2), 6)])
def test_channel_shuffle_gradcheck_and_order(shape, groups):
    x = leaf(shape, 10)
    assert gradcheck(lambda t: F.channel_shuffle(t, groups), (x,))
    c = shape[1]
    order = np.arange(c).reshape(groups, c // groups).T.ravel()
    assert np.array_equal(F.channel_shuffle(x, groups).detach().numpy(),
                          x.detach().numpy()[:, order])


# ---------------------------------------------------------------- CTC loss

T, N, C = 6, 3, 5
TARGETS = np.array([[1, 1, 3], [2, 4, 0], [3, 0, 0]])  # a repeat, then shorter targets
INPUT_LENGTHS, TARGET_LENGTHS = np.array([6, 5, 4]), np.array([3, 2, 1])


def _ctc(t, reduction="mean", zero_infinity=False, il=INPUT_LENGTHS, tl=TARGET_LENGTHS,
         targets=TARGETS, blank=0):
    return F.ctc_loss(t.log_softmax(-1), ember.tensor(targets), ember.tensor(il),
                      ember.tensor(tl), blank=blank, reduction=reduction,
                      zero_infinity=zero_infinity)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_loss_gradcheck(reduction):
    assert gradcheck(lambda t: _ctc(t, reduction), (leaf((T, N, C), 11),))


def test_ctc_loss_gradcheck_concatenated_targets_and_other_blank():
    flat = np.array([1, 1, 3, 2, 4, 3])  # the same targets laid end to end, blank 0 ...
    assert gradcheck(lambda t: _ctc(t, "sum", targets=flat), (leaf((T, N, C), 12),))
    # ... and with blank 4 (label 4 becomes 0)
    assert gradcheck(lambda t: _ctc(t, "mean", targets=np.where(TARGETS == 4, 0, TARGETS),
                                    blank=4), (leaf((T, N, C), 13),))


def test_ctc_loss_gradcheck_unbatched():
    x = leaf((T, C), 14)
    assert gradcheck(lambda t: F.ctc_loss(t.log_softmax(-1), ember.tensor([2, 2]),
                                          ember.tensor(5), ember.tensor(2), reduction="none"),
                     (x,))


def test_ctc_loss_zero_infinity_zeroes_the_impossible_sample():
    il = np.array([6, 1, 4])  # sample 1 cannot emit 2 labels in 1 step
    x = leaf((T, N, C), 15)
    loss = _ctc(x, "none", il=il)
    assert np.isinf(loss[1].item())
    loss = _ctc(x, "none", zero_infinity=True, il=il)
    assert loss[1].item() == 0.0
    loss.sum().backward()
    assert np.all(x.grad.numpy()[:, 1] == 0) and np.all(np.isfinite(x.grad.numpy()))
    assert gradcheck(lambda t: _ctc(t, "mean", zero_infinity=True, il=il), (leaf((T, N, C), 16),))


def test_ctc_loss_matches_brute_force_enumeration():
    """-log of the sum over every path of length 3 that collapses to the target."""
    import itertools

    lp = np.log(np.random.default_rng(17).dirichlet(np.ones(3), size=3))
    total = 0.0
    for path in itertools.product(range(3), repeat=3):
        collapsed = [k for i, k in enumerate(path) if k != 0 and (i == 0 or path[i - 1] != k)]
        if collapsed == [1, 2]:
            total += np.exp(sum(lp[t, k] for t, k in enumerate(path)))
    loss = F.ctc_loss(ember.tensor(lp), ember.tensor([1, 2]), ember.tensor(3), ember.tensor(2),
                      reduction="none")
    assert np.isclose(loss.item(), -np.log(total))


def test_ctc_raw_gradient_is_the_derivative_plus_exp_log_probs():
    """torch's gradient with respect to log_probs adds exp(lp) (per step inside each input)
    to the true derivative; ember gives the same."""
    lp = leaf((T, N, C), 18)
    loss = F.ctc_loss(lp, ember.tensor(TARGETS), ember.tensor(INPUT_LENGTHS),
                      ember.tensor(TARGET_LENGTHS), reduction="sum")
    loss.backward()
    x, eps = lp.detach().numpy(), 1e-6
    fd = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        for sign in (1, -1):
            y = x.copy()
            y[i] += sign * eps
            fd[i] += sign * F.ctc_loss(ember.tensor(y), ember.tensor(TARGETS),
                                       ember.tensor(INPUT_LENGTHS), ember.tensor(TARGET_LENGTHS),
                                       reduction="sum").item() / (2 * eps)
    inside = np.arange(T)[:, None, None] < INPUT_LENGTHS[None, :, None]
    assert np.allclose(lp.grad.numpy(), fd + np.exp(x) * inside, atol=1e-5)


# ---------------------------------------------------------------- adaptive softmax

def test_adaptive_log_softmax_gradcheck_and_log_prob():
    ember.manual_seed(0)
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], div_value=2.0, head_bias=True).double()
    target = ember.tensor([0, 4, 9, 2, 7])
    x = leaf((5, 8), 19)
    assert gradcheck(lambda t: m(t, target).loss, (x,))
    assert gradcheck(lambda t: m.log_prob(t), (leaf((2, 8), 20),))
    out = m(x, target).output.detach().numpy()
    full = m.log_prob(x).detach().numpy()
    assert np.allclose(np.exp(full).sum(1), 1.0)
    assert np.allclose(out, full[np.arange(5), target.numpy()])
    assert np.array_equal(m.predict(x).numpy(), full.argmax(1))


# ---------------------------------------------------------------- lazy modules

def test_lazy_linear_materialises_on_first_call():
    m = nn.LazyLinear(4, dtype=ember.float64)
    assert m.has_uninitialized_params()
    assert isinstance(m.weight, nn.UninitializedParameter)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        _ = m.weight.shape
    x = leaf((2, 3), 21)
    m(x)
    assert type(m) is nn.Linear and m.in_features == 3 and m.weight.shape == (4, 3)
    assert not m._forward_pre_hooks and type(m.weight) is nn.Parameter
    assert m.weight.dtype == ember.float64
    assert gradcheck(m, (x,))


def test_lazy_modules_load_a_state_dict():
    ember.manual_seed(1)
    src = nn.Conv2d(3, 4, 3)
    m = nn.LazyConv2d(4, 3)
    m.load_state_dict(src.state_dict())
    assert not m.has_uninitialized_params() and m.weight.shape == (4, 3, 3, 3)
    x = leaf((1, 3, 5, 5), 22).float()
    assert np.allclose(m(x).detach().numpy(), src(x).detach().numpy())
    bn = nn.LazyBatchNorm1d()
    assert [k for k in bn.state_dict()] == ["weight", "bias", "running_mean", "running_var",
                                            "num_batches_tracked"]
    bn(ember.randn(4, 3))
    assert type(bn) is nn.BatchNorm1d and bn.num_features == 3
    assert int(bn.num_batches_tracked) == 1
