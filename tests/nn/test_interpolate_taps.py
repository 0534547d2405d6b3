"""The interpolation rules of ``_interpolate_taps`` without torch: the fused multiply-add,
the source positions and taps of each mode, the evaluation orders (which must agree with
the taps' matrices to rounding), and uint8 bilinear / bicubic without antialias."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import ember
from ember.nn import functional as F
from ember.nn.functional._interpolate_taps import (
    cubic_taps,
    fma,
    linear_taps,
    nearest_index,
    pixel_scale,
    resample,
    resample_channels_last,
    taps_matrix,
)


def _exact_fma(a, b, c):
    return float(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c)))


def test_fma_float64_is_a_plain_multiply_add():
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal(200), rng.standard_normal(200), rng.standard_normal(200)
    np.testing.assert_array_equal(fma(a, b, c), a * b + c)


def test_fma_float32_rounds_once():
    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal(5000).astype(np.float32) for _ in range(3))
    got = fma(a, b, c)
    assert got.dtype == np.float32
    want = [np.float32(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)))
            for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(got, want)


def test_fma_passes_infinities_and_nans_on():
    inf = np.inf
    got = fma(np.array([inf, 1.0, np.nan, 2.0]), np.array([2.0, 1.0, 1.0, 3.0]),
              np.array([1.0, -inf, 0.0, 1.0]))
    np.testing.assert_array_equal(got, [inf, -inf, np.nan, 7.0])


def test_scale_is_one_over_the_factor_rounded_once():
    # 1 / 1.7 rounded once to float32, not float32(1) / float32(1.7) (one step apart)
    assert pixel_scale(10, 17, 1.7, False, np.float32) == np.float32(1 / 1.7)
    assert pixel_scale(10, 17, 1.7, False, np.float32) != np.float32(1) / np.float32(1.7)
    assert pixel_scale(10, 37, None, False, np.float32) == np.float32(10) / np.float32(37)
    assert pixel_scale(10, 37, 3.7, True, np.float64) == 9 / 36
    assert pixel_scale(10, 1, 3.7, True, np.float64) == 0


def test_nearest_legacy_rule_copies_and_halves():
    # the channels-last kernel (and every backward) ignores the factor for these sizes
    np.testing.assert_array_equal(nearest_index(5, 5, 1.1, False, np.float32, True),
                                  np.arange(5))
    np.testing.assert_array_equal(nearest_index(5, 10, 2.1, False, np.float32, True),
                                  np.arange(10) // 2)
    np.testing.assert_array_equal(nearest_index(5, 5, 1.1, False, np.float32, False),
                                  [0, 0, 1, 2, 3])
    np.testing.assert_array_equal(nearest_index(5, 10, 2.1, False, np.float32, False),
                                  [0, 0, 0, 1, 1, 2, 2, 3, 3, 4])


def test_nearest_exact_rounds_the_pixel_centres():
    np.testing.assert_array_equal(nearest_index(4, 8, None, True, np.float32, False),
                                  [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(nearest_index(9, 3, None, True, np.float64, True), [1, 4, 7])


@pytest.mark.parametrize("n, o, s, align", [(7, 12, None, False), (7, 12, 1.7, False),
                                            (9, 4, 0.45, True), (1, 5, None, False),
                                            (6, 1, None, True)])
@pytest.mark.parametrize("rule", [linear_taps, cubic_taps])
def test_taps_sum_to_one(n, o, s, align, rule):
    index, weight = rule(n, o, s, align, np.float64)
    assert index.min() >= 0 and index.max() <= n - 1
    np.testing.assert_allclose(weight.sum(axis=1), 1.0, atol=1e-12)


def test_linear_copies_an_axis_that_keeps_its_size():
    index, weight = linear_taps(5, 5, 1.1, False, np.float32)
    np.testing.assert_array_equal(taps_matrix(5, index, weight), np.eye(5))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 3, 8, 11])
def test_evaluation_orders_agree_with_the_matrices(dtype, channels):
    x = np.random.default_rng(2).standard_normal((2, channels, 6, 7)).astype(dtype)
    taps = [linear_taps(6, 11, None, False, dtype), linear_taps(7, 4, None, True, dtype)]
    want = np.einsum("ah,bw,nchw->ncab", *[taps_matrix(n, *t) for n, t in zip((6, 7), taps)],
                     x.astype(np.float64))
    tol = 1e-6 if dtype == np.float32 else 1e-14
    for run in (resample, resample_channels_last):
        got = run(x, taps)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, atol=tol)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("channels", [1, 3, 5])
def test_uint8_constant_image_stays_constant(mode, channels):
    x = ember.full((2, channels, 9, 7), 200, dtype=ember.uint8)
    for align_corners in (False, True):
        out = F.interpolate(x, size=(4, 13), mode=mode, align_corners=align_corners)
        assert out.dtype == ember.uint8
        np.testing.assert_array_equal(out.numpy(), 200)


@pytest.mark.parametrize("mode, spec", [
    ("bilinear", {"size": (4, 13)}), ("bilinear", {"scale_factor": 2.5}),
    ("bilinear", {"scale_factor": 0.7}), ("bicubic", {"size": (9, 13)}),
    ("bicubic", {"size": (4, 7)}), ("bicubic", {"scale_factor": (2.5, 1.0)}),
], ids=str)
def test_uint8_is_the_float_result_rounded(mode, spec):
    # the fixed-point weights are off by at most 2**-15 per tap, the result by one step
    # (bicubic along one axis only: its overshoot is clamped between the two passes)
    x = np.random.default_rng(3).integers(0, 256, (1, 2, 9, 7)).astype(np.uint8)
    out = F.interpolate(ember.tensor(x), mode=mode, **spec).numpy()
    ref = F.interpolate(ember.tensor(x.astype(np.float64)), mode=mode, **spec).numpy()
    assert np.abs(out - np.clip(np.round(ref), 0, 255)).max() <= 1


def test_linear_and_trilinear_reject_uint8():
    with pytest.raises(NotImplementedError, match="compute_indices_weights_linear"):
        F.interpolate(ember.zeros(1, 1, 4, dtype=ember.uint8), scale_factor=2, mode="linear")
    with pytest.raises(NotImplementedError, match="compute_indices_weights_linear"):
        F.interpolate(ember.zeros(1, 1, 2, 2, 2, dtype=ember.uint8), scale_factor=2,
                      mode="trilinear")
