"""ember against torch where torch's CPU kernels accumulate in a wider type than the data:
float32 scans in float64, float16 reductions, norms, normalisations, pooling, products and
losses in float32 (values and gradients), and the float16 overflows torch keeps (a
logsumexp or a label-smoothing sum past 65504 is inf). Skipped without torch."""
from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

H = np.float16
_RNG = np.random.default_rng(7)
ROWS = _RNG.standard_normal((37, 513)).astype(H)
NEAR_ONE = (_RNG.standard_normal((3, 20000)) * 0.01 + 1).astype(H)
LARGE = (_RNG.standard_normal((4, 3000)) * 30).astype(H)
SMALL_VAR = (_RNG.standard_normal((6, 4096)) * 0.01 + 5).astype(H)
IMAGES = _RNG.standard_normal((4, 6, 33, 35)).astype(H)
IMAGES_SMALL_VAR = (_RNG.standard_normal((4, 6, 33, 35)) * 0.01 + 3).astype(H)
BATCH = (_RNG.standard_normal((20000, 8)) * 0.5 + 1).astype(H)
WEIGHT = (_RNG.standard_normal((4, 8)) * 0.3).astype(H)
BIAS = _RNG.standard_normal(4).astype(H)
LOGITS = (_RNG.standard_normal((37, 513)) * 3).astype(H)
TARGETS = _RNG.integers(0, 513, 37)
LONG32 = _RNG.standard_normal((2, 1_000_000)).astype(np.float32)
NEAR_ONE32 = (_RNG.standard_normal((2, 1_000_000)) * 1e-4 + 1).astype(np.float32)


def F(lib):
    return lib.nn.functional


# name: (f(lib, *tensors), inputs, indices of the inputs that get gradients)
HALF = {
    "cumsum_near_one": (lambda m, x: x.cumsum(1), [NEAR_ONE], [0]),
    "cumsum_rows": (lambda m, x: x.cumsum(1), [ROWS], [0]),
    "cumprod": (lambda m, x: x[:, :40].cumprod(1), [NEAR_ONE], [0]),
    "logcumsumexp": (lambda m, x: x.logcumsumexp(1), [NEAR_ONE], [0]),
    "logcumsumexp_small_var": (lambda m, x: x.logcumsumexp(1), [SMALL_VAR], [0]),
    "cumulative_trapezoid": (lambda m, x: m.cumulative_trapezoid(x, dim=1), [NEAR_ONE], [0]),
    "norm": (lambda m, x: x.norm(dim=1), [LARGE], [0]),
    "norm_3": (lambda m, x: x.norm(p=3, dim=1), [SMALL_VAR], [0]),
    "vector_norm": (lambda m, x: m.linalg.vector_norm(x, dim=1), [SMALL_VAR], [0]),
    "norm_all": (lambda m, x: x.norm(), [LARGE], [0]),
    "dist": (lambda m, x: m.dist(x[0], x[1]), [LARGE], [0]),
    "pairwise_distance": (lambda m, x: F(m).pairwise_distance(x[:-1], x[1:]), [LARGE], [0]),
    "normalize": (lambda m, x: F(m).normalize(x, dim=1), [LARGE], [0]),
    "cosine_similarity": (lambda m, x: F(m).cosine_similarity(x[0], x[1], 0), [LARGE], []),
    "cosine_similarity_rows": (lambda m, x: F(m).cosine_similarity(x[:-1], x[1:], 1), [ROWS],
                               [0]),
    "layer_norm_small_var": (lambda m, x: F(m).layer_norm(x, x.shape[1:]), [SMALL_VAR], [0]),
    "layer_norm_affine": (lambda m, x, w, b: F(m).layer_norm(x, x.shape[1:], w, b),
                          [NEAR_ONE, NEAR_ONE[0] * H(1.5), NEAR_ONE[1] - H(1)], [0, 2]),
    "group_norm_small_var": (lambda m, x, w, b: F(m).group_norm(x, 3, w, b),
                             [IMAGES_SMALL_VAR, np.full(6, 1.5, H), np.full(6, 0.1, H)], [0, 2]),
    "batch_norm": (lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True),
                   [IMAGES, np.full(6, 1.5, H), np.full(6, 0.1, H)], [0, 1, 2]),
    "batch_norm_small_var": (lambda m, x: F(m).batch_norm(x, None, None, training=True),
                             [IMAGES_SMALL_VAR], []),
    "instance_norm_small_var": (lambda m, x: F(m).instance_norm(x), [IMAGES_SMALL_VAR], []),
    "softmax_dim0": (lambda m, x: x.softmax(0), [NEAR_ONE.T.copy()], [0]),
    "log_softmax_dim1": (lambda m, x: x.log_softmax(1), [IMAGES], [0]),
    "logsumexp_overflow": (lambda m, x: x.logsumexp(0), [np.ones(70000, H)], [0]),
    "nanmean_overflow": (lambda m, x: x.nanmean(), [np.ones(70000, H)], [0]),
    "nansum_dim0": (lambda m, x: x.nansum(0), [BATCH], [0]),
    "div_by_large_number": (lambda m, x: x / 70000, [BATCH], [0]),
    "div_by_int_tensor": (lambda m, x: x / m.tensor(70000), [BATCH], [0]),
    "mul_by_inexact_number": (lambda m, x: x * 0.1 * m.tensor(1 / 3, dtype=m.float64), [BATCH],
                              [0]),
    "avg_pool2d": (lambda m, x: F(m).avg_pool2d(x, 3), [IMAGES], [0]),
    "adaptive_avg_pool2d": (lambda m, x: F(m).adaptive_avg_pool2d(x, (4, 5)), [IMAGES], [0]),
    "interpolate_bilinear": (lambda m, x: F(m).interpolate(x, scale_factor=2, mode="bilinear"),
                             [IMAGES], [0]),
    "linear": (lambda m, x, w, b: F(m).linear(x, w, b), [BATCH, WEIGHT, BIAS], [0, 1, 2]),
    "addmm": (lambda m, c, x, w: m.addmm(c, x, w.T), [BIAS, BATCH, WEIGHT], [0, 1, 2]),
    "baddbmm": (lambda m, c, x, w: m.baddbmm(c[None], x[None], w.T[None]),
                [BIAS, BATCH, WEIGHT], [0, 1, 2]),
    "einsum": (lambda m, x, y: m.einsum("ni,nj->ij", x, y), [BATCH, BATCH[::-1].copy()], [0, 1]),
    "conv2d": (lambda m, x, w, b: F(m).conv2d(x, w, b),
               [IMAGES, (WEIGHT.reshape(4, 2, 2, 2)[:, :1].repeat(6, 1) * H(0.5)), BIAS],
               [0, 1, 2]),
    "scatter_add": (lambda m, x: m.zeros(7, 8, dtype=x.dtype).scatter_add(
        0, (m.arange(20000) % 7)[:, None].expand(20000, 8), x), [BATCH], [0]),
    "scatter_reduce_mean": (lambda m, x: m.zeros(7, 8, dtype=x.dtype).scatter_reduce(
        0, (m.arange(20000) % 7)[:, None].repeat(1, 8), x, "mean"), [BATCH], []),
    "index_add_rows": (lambda m, x: m.zeros(7, 8, dtype=x.dtype).index_add(
        0, m.arange(20000) % 7, x), [BATCH], [0]),
    "index_add_vector": (lambda m, x: m.zeros(7, dtype=x.dtype).index_add(  # float16 sums
        0, m.arange(20000) % 7, x[:, 0].contiguous()), [BATCH], []),
    "renorm": (lambda m, x: x.renorm(2, 1, 5.0), [BATCH], [0]),
    "scaled_dot_product_attention": (lambda m, q: F(m).scaled_dot_product_attention(
        q, q * 0.5, q, is_causal=True), [ROWS.reshape(1, 3, -1, 19)[:, :, :, :16].copy()], [0]),
    "embedding_bag_mean": (lambda m, w: F(m).embedding_bag(
        m.arange(30000) % 10, w, m.tensor([0, 10000, 20000]), mode="mean"), [ROWS[:10]], []),
    "cross_entropy": (lambda m, x: F(m).cross_entropy(x, m.tensor(TARGETS)), [LOGITS], [0]),
    "cross_entropy_label_smoothing": (lambda m, x: F(m).cross_entropy(
        x, m.tensor(TARGETS), label_smoothing=0.1), [LOGITS], []),
    "cross_entropy_label_smoothing_few_rows": (lambda m, x: F(m).cross_entropy(
        x[:4], m.tensor(TARGETS[:4]), label_smoothing=0.1), [LOGITS], [0]),
}

# mean losses over more than 65504 elements: gradients near float16's subnormals, where
# torch's own rounding steps (2**-24) are the tolerance
SUBNORMAL_GRADS = {
    "mse_loss": (lambda m, x, y: F(m).mse_loss(x, y), [BATCH, BATCH[::-1].copy()], [0]),
    "binary_cross_entropy": (lambda m, x, y: F(m).binary_cross_entropy(x.sigmoid(), y),
                             [BATCH, (BATCH > 1).astype(H)], [0]),
}

FLOAT32 = {
    "cumsum": (lambda m, x: x.cumsum(1), [LONG32], [0]),
    "cumprod": (lambda m, x: x[:, :3000].cumprod(1), [NEAR_ONE32], [0]),
    "logcumsumexp": (lambda m, x: x.logcumsumexp(1), [LONG32], [0]),
    "logcumsumexp_near_one": (lambda m, x: x.logcumsumexp(1), [NEAR_ONE32], [0]),
    "cumulative_trapezoid": (lambda m, x: m.cumulative_trapezoid(x, dim=1), [LONG32], [0]),
}


def _run(lib, fn, arrays, grads, wide=False):
    """The output and the gradients (of the output weighted by fixed values); ``wide``:
    every input in float64 (the reference)."""
    tensors = [lib.tensor(a.astype(np.float64) if wide else a) for a in arrays]
    for i in grads:
        tensors[i].requires_grad_(True)
    out = fn(lib, *tensors)
    results = [out.detach().numpy()]
    if grads:
        weight = np.random.default_rng(5).uniform(0.5, 1.5, tuple(out.shape))
        weight = weight.astype(arrays[0].dtype).astype(results[0].dtype)
        out.backward(lib.tensor(weight))
        results += [tensors[i].grad.numpy() for i in grads]
    return results


def _compare(name, fn, arrays, grads, rtol, grad_rtol, atol=0.0):
    """ember against torch; where torch's own result is far from the float64 one (a
    gradient of cancelling terms), ember may differ from torch but must be no further from
    float64 than torch is."""
    ours, theirs = _run(ember, fn, arrays, grads), _run(torch, fn, arrays, grads)
    reference = _run(torch, fn, arrays, grads, wide=True)
    for k, (e, t, r) in enumerate(zip(ours, theirs, reference)):
        what = f"{name} {'output' if k == 0 else f'gradient {k}'}"
        tol = rtol if k == 0 else grad_rtol
        try:
            _assert_close(e, t, tol, what, atol)
        except AssertionError:
            if not np.isfinite(t.astype(np.float64)).all():
                raise
            r = r.astype(np.float64)
            theirs_off = _worst(t.astype(np.float64), r)
            assert _worst(e.astype(np.float64), r) <= 2 * theirs_off + tol, what
    return ours


def _worst(a, ref):
    scale = np.maximum(np.abs(ref), 1e-2 * np.abs(ref).max())
    return (np.abs(a - ref) / np.maximum(scale, 1e-30)).max()


def _assert_close(e, t, rtol, what, atol=0.0):
    assert e.dtype == t.dtype and e.shape == t.shape, what
    e64, t64 = e.astype(np.float64), t.astype(np.float64)
    assert (np.isfinite(e64) == np.isfinite(t64)).all(), f"{what}: inf/nan where torch differs"
    assert (e64[~np.isfinite(e64)] == t64[~np.isfinite(t64)]).all() or \
        np.isnan(t64[~np.isfinite(t64)]).any(), what
    finite = np.isfinite(t64)
    if finite.any():
        scale = np.maximum(np.abs(t64[finite]), 1e-2 * np.abs(t64[finite]).max())
        off = np.maximum(np.abs(e64[finite] - t64[finite]) - atol, 0)
        worst = (off / np.maximum(scale, 1e-30)).max()
        assert worst <= rtol, f"{what}: relative difference {worst:.2e}"


@pytest.mark.parametrize("name", sorted(HALF))
def test_float16_matches_torch(name):
    fn, arrays, grads = HALF[name]
    _compare(name, fn, arrays, grads, 4e-3, 2e-2)


@pytest.mark.parametrize("name", sorted(SUBNORMAL_GRADS))
def test_float16_mean_loss_gradients_match_torch(name):
    fn, arrays, grads = SUBNORMAL_GRADS[name]
    ours = _compare(name, fn, arrays, grads, 4e-3, 4e-3, atol=3 * 2.0 ** -24)
    assert np.abs(ours[1]).max() > 0, f"{name}: the gradient vanished"


@pytest.mark.parametrize("name", sorted(FLOAT32))
def test_long_float32_scans_match_torch(name):
    fn, arrays, grads = FLOAT32[name]
    _compare(name, fn, arrays, grads, 1e-6, 1e-6)


def test_float16_in_place_multiply_and_divide_read_the_number_in_float32():
    results = []
    for lib in (ember, torch):
        x = lib.tensor(BATCH[:4])
        x.mul_(0.1)
        x.div_(70000)
        results.append(x.numpy())
    np.testing.assert_array_equal(*results)


def test_float16_batch_norm_running_statistics_match_torch():
    stats = {}
    for lib in (ember, torch):
        mean, var = lib.full((6,), 2.9, dtype=lib.float16), lib.full((6,), 0.5, dtype=lib.float16)
        x = lib.tensor(IMAGES_SMALL_VAR)
        F(lib).batch_norm(x, mean, var, training=True, momentum=0.3)
        evaluated = F(lib).batch_norm(x, mean, var, training=False)
        stats[lib.__name__] = (mean.numpy(), var.numpy(), evaluated.numpy())
    for e, t in zip(stats["ember"], stats["torch"]):
        _assert_close(e, t, 4e-3, "batch norm statistics")
