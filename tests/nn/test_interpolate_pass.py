"""The fast resize passes of ``_interpolate_pass`` without torch: the forward equals the
reference evaluations of ``_interpolate_taps`` bit for bit (regular runs read as strided
views, the rest gathered, in blocks of rows), the transposed pass is the transpose of the
taps' matrix, and the cached plans are shared read-only."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.nn import functional as F
from ember.nn.functional._interpolate import _axis_plans
from ember.nn.functional._interpolate_antialias import aa_pass, aa_taps
from ember.nn.functional._interpolate_pass import (
    CornerSum,
    apply_passes,
    nearest_pass,
    tap_pass,
    transposed,
)
from ember.nn.functional._interpolate_taps import (
    cubic_taps,
    linear_taps,
    nearest_index,
    resample,
    resample_channels_last,
    taps_matrix,
)

# the reference evaluations warn on nan * 0 (the passes do not)
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

# (rule, n, o, scale_factor): periodic taps (2x, 0.5x, 3x), aperiodic ones (1.7x, 0.77x),
# a kept size and a 30x stretch (each input read by many outputs)
AXES = [(linear_taps, 13, 26, 2.0), (cubic_taps, 40, 80, 2.0), (linear_taps, 40, 20, 0.5),
        (cubic_taps, 9, 27, 3.0), (linear_taps, 20, 34, 1.7), (cubic_taps, 31, 23, 0.77),
        (linear_taps, 11, 11, 1.0), (linear_taps, 3, 90, 30.0)]


def _same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))  # bits, signed zeros


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lead", [1, 300])  # 300 rows: several blocks
@pytest.mark.parametrize("axis_case", AXES, ids=lambda c: f"{c[0].__name__}-{c[1]}-{c[2]}")
def test_pass_equals_the_reference_sum_bit_for_bit(dtype, lead, axis_case):
    rule, n, o, s = axis_case
    rng = np.random.default_rng(0)
    for align in (False, True):
        index, weight = rule(n, o, s, align, dtype)
        x = rng.standard_normal((lead, 2, n)).astype(dtype)
        x[0, 0, :3] = [np.nan, np.inf, -0.0]
        p = tap_pass(n, index, weight, dtype)
        _same(p(x, 2), resample(x, [(index, weight)]))
        # the same taps along an axis with trailing elements
        xt = np.ascontiguousarray(np.swapaxes(x, 1, 2))
        _same(p(xt, 1), np.swapaxes(resample(x, [(index, weight)]), 1, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_axes_equal_the_reference_bit_for_bit(dtype):
    x = np.random.default_rng(1).standard_normal((3, 4, 37, 50)).astype(dtype)
    for rule, size in ((linear_taps, (74, 100)), (cubic_taps, (61, 23))):
        taps = [rule(n, o, None, False, dtype) for n, o in zip(x.shape[2:], size)]
        passes = [tap_pass(n, i, w, dtype) for n, (i, w) in zip(x.shape[2:], taps)]
        _same(apply_passes(x, passes), resample(x, taps))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [3, 8, 11])
@pytest.mark.parametrize("size", [(13, 4), (12, 14), (30, 3)])
def test_corner_sum_equals_the_channels_last_reference(dtype, channels, size):
    x = np.random.default_rng(2).standard_normal((2, channels, 6, 7)).astype(dtype)
    x[0, 0, 0, :3] = [np.nan, np.inf, -0.0]
    taps = [linear_taps(n, o, None, False, dtype) for n, o in zip((6, 7), size)]
    vector = channels - channels % (32 // x.itemsize)
    _same(CornerSum((6, 7), taps, dtype)(x, vector), resample_channels_last(x, taps))


def test_corner_sum_in_three_dimensions():
    x = np.random.default_rng(3).standard_normal((1, 9, 4, 5, 6)).astype(np.float32)
    taps = [linear_taps(n, o, None, True, np.float32) for n, o in zip((4, 5, 6), (8, 3, 12))]
    _same(CornerSum((4, 5, 6), taps, np.float32)(x, 8), resample_channels_last(x, taps))


def test_nearest_pass_copies_any_dtype():
    index = nearest_index(10, 23, None, False, np.float32, False)
    x = np.arange(2 * 10, dtype=np.uint8).reshape(2, 10)
    np.testing.assert_array_equal(nearest_pass(10, index, np.float32)(x, 1), x[:, index])


@pytest.mark.parametrize("axis_case", AXES, ids=lambda c: f"{c[0].__name__}-{c[1]}-{c[2]}")
def test_transposed_pass_is_the_transposed_matrix(axis_case):
    rule, n, o, s = axis_case
    index, weight = rule(n, o, s, False, np.float64)
    g = np.random.default_rng(3).standard_normal((300, o))
    got = transposed(n, index, weight, np.float64)(g, 1)
    np.testing.assert_allclose(got, g @ taps_matrix(n, index, weight), rtol=1e-12, atol=1e-12)


def test_inputs_no_output_reads_get_a_zero_gradient():
    index = nearest_index(20, 6, None, False, np.float64, True)  # reads 6 of 20 inputs
    g = np.random.default_rng(4).standard_normal((3, 6))
    got = transposed(20, index[:, None], np.ones((6, 1)), np.float64)(g, 1)
    want = np.zeros((3, 20))
    want[:, index] = g
    np.testing.assert_array_equal(got, want)


def test_antialias_taps_past_the_count_do_not_carry_a_gradient():
    index, weight, count = aa_taps(12, 5, 12 / 5, "bicubic", np.float64)
    g = np.ones((1, 5))
    g[0, 2] = np.inf
    got = transposed(12, index, weight, np.float64, count)(g, 1)
    reached = np.zeros(12, bool)
    reached[index[2, :count[2]]] = True
    np.testing.assert_array_equal(~np.isfinite(got[0]), reached)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_antialias_pass_matches_its_matrix(mode):
    n, o = 50, 17
    index, weight, count = aa_taps(n, o, n / o, mode, np.float64)
    x = np.random.default_rng(5).standard_normal((4, n))
    got = aa_pass(n, index, weight, count, np.float64)(x, 1)
    np.testing.assert_allclose(got, x @ taps_matrix(n, index, weight).T, rtol=1e-12,
                               atol=1e-12)


def test_cached_plans_are_shared_and_read_only():
    args = ("bilinear", (5, 7), (10, 14), (2.0, 2.0), False, "float32", False, False)
    first, again = _axis_plans(*args), _axis_plans(*args)
    assert first is again
    with pytest.raises(ValueError):
        first[1][0][0, 0] = 5.0


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_repeated_calls_give_the_same_values_and_gradients(mode):
    x = ember.randn(2, 3, 9, 10, requires_grad=True)
    grads, outs = [], []
    for _ in range(2):
        x.grad = None
        out = F.interpolate(x, scale_factor=2.5, mode=mode)
        out.backward(ember.ones(*out.shape))
        outs.append(out.detach().numpy())
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(grads[0], grads[1])
    # every output's gradient of ones spreads its weights, which sum to 1: the total is kept
    np.testing.assert_allclose(grads[0].sum(), np.prod(outs[0].shape), rtol=1e-5)
