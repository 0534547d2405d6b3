"""interpolate(..., mode="lanczos", antialias=True) without torch: the Lanczos-3 filter,
its weights (normalised, stretched only when shrinking), constants kept, finite-difference
gradients (first and second order), forward-mode tangents, node names and errors; and the
float32 sine the filter takes (glibc's sinf, ported)."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as fw
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F
from ember.nn.functional._interpolate_antialias import _lanczos, _sinf, aa_weights

SPECS = [{"scale_factor": 0.5}, {"scale_factor": 0.3}, {"scale_factor": 1.7}, {"size": (2, 7)},
         {"size": (1, 1)}, {"size": (4, 3)}, {"scale_factor": (0.4, 2.5)},
         {"scale_factor": 0.77, "recompute_scale_factor": True}]


def _input(shape, seed=0, dtype="float64", requires_grad=True):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.tensor(x, requires_grad=requires_grad)


def _lanczos3(x):
    x = np.abs(np.asarray(x, np.float64))
    return np.where(x < 3, np.sinc(x) * np.sinc(x / 3), 0.0)


def test_filter_is_lanczos_3():
    x = np.linspace(-4, 4, 801)
    np.testing.assert_allclose(_lanczos(x), _lanczos3(x), atol=1e-15)
    # sin(k pi) is not quite 0 in floating point, as in torch
    np.testing.assert_allclose(_lanczos(np.arange(-3.0, 4.0)), [0, 0, 0, 1, 0, 0, 0],
                               atol=1e-16)
    assert _lanczos(np.float64(0)) == 1 and (_lanczos(np.array([3.0, 3.5, -4.0])) == 0).all()


def test_float32_filter_is_the_float64_one_rounded_closely():
    x = np.linspace(0, 3.5, 3001).astype(np.float32)
    np.testing.assert_allclose(_lanczos(x), _lanczos3(x), atol=3e-7)
    assert _lanczos(x).dtype == np.float32


def test_sinf_is_within_one_float32_step_of_sin():
    y = np.random.default_rng(0).uniform(0, 3 * np.pi, 100_000).astype(np.float32)
    y = np.concatenate([y, np.float32([0, 1e-6, 0.7853981, 0.7853982, np.pi, 2 * np.pi])])
    exact = np.sin(y.astype(np.float64))
    got = _sinf(y).astype(np.float64)
    assert _sinf(y).dtype == np.float32
    assert (np.abs(got - exact) <= np.spacing(np.abs(exact).astype(np.float32))).all()


@pytest.mark.parametrize("n, o", [(10, 3), (7, 7), (5, 12), (1, 4), (9, 1), (13, 10), (40, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_sum_to_one(n, o, dtype):
    m = aa_weights(n, o, n / o, "lanczos", dtype)
    assert m.shape == (o, n) and m.dtype == dtype
    np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-6 if dtype == np.float32 else 1e-12)


def test_weights_at_scale_one_are_the_identity():
    np.testing.assert_allclose(aa_weights(6, 6, 1.0, "lanczos"), np.eye(6), atol=1e-16)


def test_an_axis_that_keeps_its_size_is_copied():
    x = _input((1, 2, 5, 6), requires_grad=False)
    out = F.interpolate(x, size=(5, 6), mode="lanczos", antialias=True)
    np.testing.assert_array_equal(out.numpy(), x.numpy())


@pytest.mark.parametrize("scale", [2.0, 3.5, 0.4])
def test_filter_is_stretched_only_when_shrinking(scale):
    n = 60
    m = aa_weights(n, int(n / scale), scale, "lanczos")
    widest = int(np.ceil(3 * max(scale, 1.0))) * 2 + 1
    assert max(np.count_nonzero(row) for row in m) <= widest
    assert max(np.count_nonzero(row) for row in m) > widest - 3


def test_enlarging_interior_weights_are_the_plain_filter():
    # doubling: output 2i + 1 sits at input i + 0.25, away from the borders the six taps
    # are the filter at the distances to it, normalised
    m = aa_weights(20, 40, 0.5, "lanczos")
    taps = _lanczos3(np.arange(7, 13) - 9.25)
    np.testing.assert_allclose(m[19, 7:13], taps / taps.sum(), atol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_constant_image_stays_constant(dtype, spec):
    x = ember.full((2, 3, 9, 7), 1.75, dtype=getattr(ember, dtype))
    out = F.interpolate(x, mode="lanczos", antialias=True, **spec)
    assert out.dtype == x.dtype
    np.testing.assert_allclose(out.numpy(), 1.75, rtol=1e-6)


@pytest.mark.parametrize("spec", [{"size": (5, 7)}, {"size": (30, 3)}, {"scale_factor": 2.5}],
                         ids=str)
@pytest.mark.parametrize("channels", [1, 3, 5])
def test_uint8_constant_image_stays_constant(spec, channels):
    x = ember.full((1, channels, 12, 10), 200, dtype=ember.uint8)
    out = F.interpolate(x, mode="lanczos", antialias=True, **spec)
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(out.numpy(), 200)


def test_uint8_saturates_the_overshoot():
    x = np.zeros((1, 1, 1, 12), np.uint8)
    x[..., 6:] = 255
    out = F.interpolate(ember.tensor(x), size=(1, 29), mode="lanczos", antialias=True).numpy()
    assert out.min() == 0 and out.max() == 255
    ref = F.interpolate(ember.tensor(x.astype(np.float64)), size=(1, 29), mode="lanczos",
                        antialias=True).numpy()
    assert ref.min() < 0 and ref.max() > 255  # the float result overshoots both ends


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_backward_matches_finite_differences(spec):
    x = _input((1, 2, 6, 5))
    assert gradcheck(lambda t: F.interpolate(t, mode="lanczos", antialias=True, **spec), (x,))


@pytest.mark.parametrize("spec", [{"size": (3, 4)}, {"scale_factor": 1.6}], ids=str)
def test_double_backward_matches_finite_differences(spec):
    x = _input((1, 1, 5, 6))
    assert gradgradcheck(lambda t: F.interpolate(t, mode="lanczos", antialias=True, **spec),
                         (x,))


def test_node_names():
    x = _input((1, 1, 5, 6))
    out = F.interpolate(x, scale_factor=0.5, mode="lanczos", antialias=True)
    assert type(out.grad_fn).__name__ == "UpsampleLanczos2DAaBackward0"
    g = ember.ones(out.shape, dtype=ember.float64, requires_grad=True)
    gx, = ember.autograd.grad(out, x, g, create_graph=True)
    assert type(gx.grad_fn).__name__ == "UpsampleLanczos2DAaBackwardBackward0"


def test_forward_mode_tangent_is_the_resized_tangent():
    x, t = _input((1, 2, 7, 5), requires_grad=False), _input((1, 2, 7, 5), seed=1,
                                                             requires_grad=False)
    with fw.dual_level():
        out = F.interpolate(fw.make_dual(x, t), size=(3, 9), mode="lanczos", antialias=True)
        tangent = fw.unpack_dual(out).tangent
    expected = F.interpolate(t, size=(3, 9), mode="lanczos", antialias=True)
    np.testing.assert_allclose(tangent.numpy(), expected.numpy(), atol=1e-12)


def test_lanczos_requires_antialias():
    with pytest.raises(ValueError, match="^Lanczos mode requires antialias=True$"):
        F.interpolate(ember.ones(1, 1, 4, 4), scale_factor=0.5, mode="lanczos")
    with pytest.raises(ValueError, match="^Lanczos mode requires antialias=True$"):
        ember.nn.Upsample(scale_factor=0.5, mode="lanczos")(ember.ones(1, 1, 4, 4))


def test_lanczos_rejects_align_corners():
    for antialias in (False, True):
        with pytest.raises(ValueError, match="^Lanczos mode does not support align_corners"):
            F.interpolate(ember.ones(1, 1, 4, 4), scale_factor=0.5, mode="lanczos",
                          align_corners=True, antialias=antialias)


@pytest.mark.parametrize("shape", [(1, 1, 4), (1, 1, 4, 4, 4)])
def test_lanczos_needs_4d_input(shape):
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        F.interpolate(ember.ones(*shape), scale_factor=0.5, mode="lanczos", antialias=True)
    with pytest.raises(NotImplementedError, match="got lanczos"):
        F.interpolate(ember.ones(*shape), scale_factor=0.5, mode="lanczos")


def test_half_precision_is_not_supported():
    with pytest.raises(NotImplementedError, match="compute_index_ranges_weights"):
        F.interpolate(ember.ones(1, 1, 4, 4, dtype=ember.float16), scale_factor=0.5,
                      mode="lanczos", antialias=True)
