"""Accumulation precision without torch: float32 scans in float64, float16 sums, norms,
normalisations, products and mean losses in float32, each checked against a float64
computation of the same values."""
from __future__ import annotations

import numpy as np

import ember

H = np.float16
_RNG = np.random.default_rng(11)


def _rel(a, ref):
    """The largest difference from ``ref``, relative to ``ref``'s largest magnitude."""
    ref = np.asarray(ref, np.float64)
    return float(np.abs(np.asarray(a, np.float64) - ref).max() / np.abs(ref).max())


def _grad(fn, a, weight=None):
    x = ember.tensor(a, requires_grad=True)
    out = fn(x)
    out.backward(None if weight is None else ember.tensor(weight))
    return out.detach().numpy(), x.grad.numpy()


def test_float32_cumsum_of_a_million_values_is_float64_accurate():
    a = _RNG.standard_normal(1_000_000).astype(np.float32)
    out, grad = _grad(lambda x: x.cumsum(0), a, np.ones(a.size, np.float32))
    ref = np.cumsum(a.astype(np.float64))
    assert np.abs(out - ref).max() <= 1e-6 * np.abs(ref).max()
    assert np.abs(grad - np.arange(a.size, 0, -1)).max() <= 1e-6 * a.size  # reversed scan


def test_float32_logcumsumexp_and_cumprod_are_float64_accurate():
    a = _RNG.standard_normal(1_000_000).astype(np.float32)
    ref = np.logaddexp.accumulate(a.astype(np.float64))
    assert _rel(ember.tensor(a).logcumsumexp(0).numpy(), ref) <= 1e-6
    b = (_RNG.standard_normal(3000) * 1e-4 + 1).astype(np.float32)
    assert _rel(ember.tensor(b).cumprod(0).numpy(), np.cumprod(b.astype(np.float64))) <= 1e-6


def test_float16_cumsum_of_twenty_thousand_ones_reaches_twenty_thousand():
    a = (_RNG.standard_normal(20000) * 0.01 + 1).astype(H)
    out = ember.tensor(a).cumsum(0).numpy()
    assert out.dtype == H
    assert abs(float(out[-1]) - float(a.astype(np.float64).sum())) <= 16  # one float16 step
    assert _rel(ember.tensor(a).logcumsumexp(0).numpy(),
                np.logaddexp.accumulate(a.astype(np.float64))) <= 1e-3


def test_float16_layer_norm_of_a_small_variance_input():
    a = (_RNG.standard_normal((4, 4096)) * 0.01 + 5).astype(H)
    out = ember.nn.functional.layer_norm(ember.tensor(a), (4096,)).numpy()
    f = a.astype(np.float64)
    ref = (f - f.mean(1, keepdims=True)) / np.sqrt(f.var(1, keepdims=True) + 1e-5)
    assert out.dtype == H and np.abs(out).max() > 1
    assert np.abs(out - ref).max() <= 4e-3 * np.abs(ref).max()


def test_float16_norms_of_large_values_are_finite():
    a = (_RNG.standard_normal((2, 3000)) * 30).astype(H)
    ref = np.linalg.norm(a.astype(np.float64), axis=1)
    x = ember.tensor(a)
    assert _rel(x.norm(dim=1).numpy(), ref) <= 1e-3
    assert _rel(ember.linalg.vector_norm(x, 3, dim=1).numpy(),
                np.sum(np.abs(a.astype(np.float64)) ** 3, 1) ** (1 / 3)) <= 1e-3
    assert _rel(ember.dist(x[0], x[1]).numpy(),
                np.linalg.norm(a[0].astype(np.float64) - a[1])) <= 1e-3
    assert np.isfinite(ember.nn.functional.normalize(x, dim=1).numpy()).all()


def test_float16_overflows_where_torch_overflows():
    ones = ember.ones(70000, dtype=ember.float16)
    assert ones.logsumexp(0).item() == float("inf")  # the sum of exps is rounded to float16
    assert ones.nanmean().item() == float("inf")      # so is the nansum
    assert ones.mean().item() == 1.0                   # mean is summed in float32
    assert (ones / 70000).numpy()[0] == H(1 / 70000)    # 70000 is read in float32
    assert (ones * 3 * 3e-8).numpy()[0] == H(9e-8)      # so is 3e-8 (no float16 number)


def test_float16_sums_over_many_rows_in_gradients():
    x = (_RNG.standard_normal((20000, 8)) * 0.5 + 1).astype(H)
    w = (_RNG.standard_normal((4, 8)) * 0.3).astype(H)
    t = [ember.tensor(v, requires_grad=True) for v in (x, w, np.zeros(4, H))]
    ember.nn.functional.linear(*t).sum().backward()
    assert abs(float(t[2].grad.numpy()[0]) - 20000) <= 16       # the bias: 20000 ones
    ref = np.ones((20000, 4)).T @ x.astype(np.float64)
    assert _rel(t[1].grad.numpy(), ref) <= 2e-3
    y = ember.tensor(x, requires_grad=True)
    ember.einsum("ni,nj->ij", y, y).backward(ember.ones(8, 8, dtype=ember.float16))
    assert _rel(y.grad.numpy(), 2 * x.astype(np.float64).sum(1, keepdims=True).repeat(8, 1)) \
        <= 2e-3


def test_float16_mean_loss_over_more_than_65504_elements_has_a_gradient():
    x = (_RNG.standard_normal((20000, 8)) + 1).astype(H)
    y = x[::-1].copy()
    _, grad = _grad(lambda v: ember.nn.functional.mse_loss(v, ember.tensor(y)), x)
    ref = 2 * (x.astype(np.float64) - y) / x.size
    assert np.abs(grad - ref).max() <= 2.0 ** -23 + 1e-3 * np.abs(ref).max()


def test_float16_softmax_gradient_along_a_long_dim():
    a = (_RNG.standard_normal(20000) * 0.01).astype(H)
    w = _RNG.uniform(0.5, 1.5, a.size).astype(H)
    _, grad = _grad(lambda v: v.softmax(0), a, w)
    p = np.exp(a.astype(np.float64)) / np.exp(a.astype(np.float64)).sum()
    ref = p * (w - (w * p).sum())
    assert np.abs(grad - ref).max() <= 1e-3 * np.abs(ref).max() + 2.0 ** -24


def test_float16_batch_and_group_norm_match_float64():
    a = _RNG.standard_normal((8, 6, 20, 20)).astype(H)
    f = a.astype(np.float64)
    ref = (f - f.mean((0, 2, 3), keepdims=True)) / np.sqrt(f.var((0, 2, 3), keepdims=True) + 1e-5)
    out = ember.nn.functional.batch_norm(ember.tensor(a), None, None, training=True).numpy()
    assert _rel(out, ref) <= 2e-3
    g = f.reshape(8, 3, -1)
    ref = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + 1e-5))
    out = ember.nn.functional.group_norm(ember.tensor(a), 3).numpy()
    assert _rel(out, ref.reshape(a.shape)) <= 2e-3


def test_float16_pooling_and_products_round_once():
    a = _RNG.standard_normal((2, 3, 30, 30)).astype(H)
    f = a.astype(np.float64)
    pooled = ember.nn.functional.avg_pool2d(ember.tensor(a), 5).numpy()
    assert _rel(pooled, f.reshape(2, 3, 6, 5, 6, 5).mean((3, 5))) <= 1e-3
    m = _RNG.standard_normal((64, 4000)).astype(H)
    c = _RNG.standard_normal((64, 64)).astype(H)
    out = ember.addmm(ember.tensor(c), ember.tensor(m), ember.tensor(m.T.copy())).numpy()
    ref = c.astype(np.float64) + m.astype(np.float64) @ m.T.astype(np.float64)
    assert _rel(out, ref) <= 1e-3
    bags = ember.nn.functional.embedding_bag(
        ember.arange(30000) % 10, ember.tensor(m[:10]), ember.tensor([0, 15000]), mode="mean")
    assert _rel(bags.numpy(), m[:10].astype(np.float64).mean(0, keepdims=True).repeat(2, 0)) \
        <= 1e-3
