"""interpolate(..., antialias=True) without torch: finite-difference gradients (float64),
first and second order, the filter's weights (normalised, hand-computed for a halving),
constants kept, forward-mode tangents, uint8 and the node names."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as fw
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F
from ember.nn.functional._interpolate_antialias import aa_weights

MODES = ("bilinear", "bicubic")


def _input(shape, seed=0, dtype="float64", requires_grad=True):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.tensor(x, requires_grad=requires_grad)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("spec", [
    {"scale_factor": 0.5}, {"scale_factor": 0.3}, {"scale_factor": 1.5}, {"size": (2, 7)},
    {"size": (1, 1)}, {"size": (4, 3)}, {"scale_factor": 0.77, "recompute_scale_factor": True},
], ids=str)
def test_backward_matches_finite_differences(mode, align_corners, spec):
    x = _input((1, 2, 6, 5))
    assert gradcheck(lambda t: F.interpolate(t, mode=mode, align_corners=align_corners,
                                             antialias=True, **spec), (x,))


@pytest.mark.parametrize("mode", MODES)
def test_double_backward_matches_finite_differences(mode):
    x = _input((1, 1, 5, 6))
    assert gradgradcheck(lambda t: F.interpolate(t, size=(3, 4), mode=mode, antialias=True),
                         (x,))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n, o", [(10, 3), (7, 7), (5, 12), (1, 4), (9, 1), (13, 10)])
def test_weights_sum_to_one(mode, n, o):
    for scale in (n / o, (n - 1) / (o - 1) if o > 1 else 0.0):
        m = aa_weights(n, o, scale, mode)
        assert m.shape == (o, n)
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-12)
        if mode == "bilinear":
            assert (m >= 0).all()


@pytest.mark.parametrize("mode", MODES)
def test_weights_at_scale_one_are_the_identity(mode):
    np.testing.assert_array_equal(aa_weights(6, 6, 1.0, mode), np.eye(6))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scale", [2.0, 3.5, 0.4])
def test_filter_is_stretched_only_when_shrinking(mode, scale):
    taps = {"bilinear": 2, "bicubic": 4}[mode]
    n = 40
    m = aa_weights(n, int(n / scale), scale, mode)
    widest = int(np.ceil(taps / 2 * max(scale, 1.0))) * 2 + 1
    assert max(np.count_nonzero(row) for row in m) <= widest


def test_halving_with_the_triangle_averages_four_pixels():
    # the triangle stretched to width 4 around 2i + 1: taps 1/8, 3/8, 3/8, 1/8, cut at the
    # borders (the first output keeps 3/4, 3/4, 1/4 of its taps, renormalised)
    m = aa_weights(8, 4, 2.0, "bilinear")
    np.testing.assert_allclose(m[1, 1:5], [1 / 8, 3 / 8, 3 / 8, 1 / 8])
    np.testing.assert_allclose(m[0, :3], np.array([3, 3, 1]) / 7)
    np.testing.assert_allclose(m[3, 5:], np.array([1, 3, 3]) / 7)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", [{"scale_factor": 0.3}, {"size": (3, 11)},
                                  {"scale_factor": 2.5}], ids=str)
def test_constant_image_stays_constant(mode, dtype, spec):
    x = ember.full((2, 3, 9, 7), 1.75, dtype=getattr(ember, dtype))
    for align_corners in (False, True):
        out = F.interpolate(x, mode=mode, align_corners=align_corners, antialias=True, **spec)
        assert out.dtype == x.dtype
        np.testing.assert_allclose(out.numpy(), 1.75, rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_uint8_constant_image_stays_constant(mode):
    x = ember.full((1, 3, 12, 10), 200, dtype=ember.uint8)
    out = F.interpolate(x, size=(5, 7), mode=mode, antialias=True)
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(out.numpy(), 200)


@pytest.mark.parametrize("mode", MODES)
def test_same_size_is_a_copy(mode):
    x = _input((1, 2, 5, 6), requires_grad=False)
    out = F.interpolate(x, size=(5, 6), mode=mode, antialias=True)
    np.testing.assert_array_equal(out.numpy(), x.numpy())


@pytest.mark.parametrize("mode", MODES)
def test_float32_matches_float64(mode):
    x = _input((2, 2, 11, 9), requires_grad=False)
    out64 = F.interpolate(x, scale_factor=0.6, mode=mode, antialias=True).numpy()
    out32 = F.interpolate(x.float(), scale_factor=0.6, mode=mode, antialias=True).numpy()
    np.testing.assert_allclose(out32, out64, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_node_name(mode):
    out = F.interpolate(_input((1, 1, 4, 4)), scale_factor=0.5, mode=mode, antialias=True)
    assert type(out.grad_fn).__name__ == f"Upsample{mode.capitalize()}2DAaBackward0"


@pytest.mark.parametrize("mode", MODES)
def test_forward_mode_tangent_is_the_resized_tangent(mode):
    x, t = _input((1, 2, 7, 5), requires_grad=False), _input((1, 2, 7, 5), seed=1,
                                                             requires_grad=False)
    with fw.dual_level():
        out = F.interpolate(fw.make_dual(x, t), size=(3, 4), mode=mode, antialias=True)
        tangent = fw.unpack_dual(out).tangent
    expected = F.interpolate(t, size=(3, 4), mode=mode, antialias=True)
    np.testing.assert_allclose(tangent.numpy(), expected.numpy(), atol=1e-12)


def test_half_precision_is_not_supported():
    with pytest.raises(NotImplementedError, match="compute_index_ranges_weights"):
        F.interpolate(ember.ones(1, 1, 4, 4, dtype=ember.float16), scale_factor=0.5,
                      mode="bilinear", antialias=True)


def test_other_modes_reject_antialias():
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        F.interpolate(ember.ones(1, 1, 4, 4), scale_factor=0.5, mode="nearest",
                      antialias=True)
