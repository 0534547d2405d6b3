"""Finite-difference checks (float64) of the 3-D convolution and pooling backwards, and the
shapes and conventions torch documents (no torch needed)."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck
from ember.nn import functional as F


def _inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [ember.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("kwargs", [
    {}, {"stride": 2, "padding": 1}, {"stride": (1, 2, 1), "padding": (1, 0, 1)},
    {"dilation": (2, 1, 2), "padding": (0, 1, 1)}, {"groups": 2}, {"padding": "same"},
    {"padding": "same", "dilation": 2}, {"padding": "valid"},
])
def test_conv3d_gradcheck(kwargs):
    groups = kwargs.get("groups", 1)
    x, w, b = _inputs((1, 4, 4, 3, 4), (2, 4 // groups, 2, 3, 2), (2,))
    assert gradcheck(lambda x, w, b: F.conv3d(x, w, b, **kwargs), (x, w, b))


def test_conv3d_unbatched_gradcheck():
    x, w = _inputs((2, 4, 3, 5), (3, 2, 2, 2, 3))
    assert gradcheck(lambda x, w: F.conv3d(x, w, stride=(1, 1, 2)), (x, w))


@pytest.mark.parametrize("kwargs", [
    {}, {"stride": 2, "padding": 1, "output_padding": 1},
    {"stride": (2, 1, 3), "output_padding": (1, 0, 2)}, {"groups": 2, "dilation": (1, 2, 1)},
])
def test_conv_transpose3d_gradcheck(kwargs):
    groups = kwargs.get("groups", 1)
    x, w, b = _inputs((1, 2, 3, 2, 3), (2, 2, 2, 3, 2), (2 * groups,))
    assert gradcheck(lambda x, w, b: F.conv_transpose3d(x, w, b, **kwargs), (x, w, b))


def test_conv_transpose3d_unbatched_gradcheck():
    x, w = _inputs((2, 2, 3, 2), (2, 3, 2, 2, 2))
    assert gradcheck(lambda x, w: F.conv_transpose3d(x, w, stride=2), (x, w))


@pytest.mark.parametrize("fn,args,kwargs", [
    (F.max_pool3d, (2,), {}),
    (F.max_pool3d, (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    (F.max_pool3d, ((2, 3, 2),), {"stride": 1, "dilation": (2, 1, 1)}),  # overlapping windows
    (F.avg_pool3d, (2,), {"ceil_mode": True}),
    (F.avg_pool3d, ((3, 2, 3),), {"stride": 2, "padding": 1, "count_include_pad": False}),
    (F.avg_pool3d, (2,), {"stride": 2, "padding": 1, "divisor_override": 3}),
    (F.adaptive_avg_pool3d, ((3, 2, 4),), {}),
    (F.adaptive_avg_pool3d, (1,), {}),
    (F.adaptive_max_pool3d, ((2, 3, 4),), {}),
    (F.interpolate, (), {"scale_factor": (1.5, 0.5, 1)}),
    (F.interpolate, (), {"size": (3, 6, 4), "mode": "trilinear"}),
    (F.interpolate, (), {"size": (7, 3, 5), "mode": "trilinear", "align_corners": True}),
])
def test_pool3d_gradcheck(fn, args, kwargs):
    (x,) = _inputs((1, 2, 5, 4, 5))
    assert gradcheck(lambda x: fn(x, *args, **kwargs), (x,))


def test_pool3d_unbatched_gradcheck():
    (x,) = _inputs((2, 3, 4, 3))
    assert gradcheck(lambda x: F.max_pool3d(x, 2, stride=1, padding=1), (x,))
    assert gradcheck(lambda x: F.avg_pool3d(x, (2, 3, 1), count_include_pad=False,
                                            padding=(1, 1, 0)), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool3d(x, (3, 2, 2)), (x,))


def test_max_pool3d_duplicate_indices_accumulate():
    """Overlapping windows that pick the same maximum add their gradients into it; a tie goes
    to the first position of the window (torch's CPU kernel)."""
    x = ember.zeros(1, 1, 3, 3, 3, requires_grad=True)
    with ember.no_grad():
        x[0, 0, 1, 1, 1] = 5.0
    out, idx = F.max_pool3d(x, 2, stride=1, return_indices=True)
    assert (idx.numpy() == 13).all()  # every window holds the centre
    out.sum().backward()
    want = np.zeros((1, 1, 3, 3, 3))
    want[0, 0, 1, 1, 1] = 8.0
    np.testing.assert_array_equal(x.grad.numpy(), want)
    y = ember.ones(1, 1, 2, 2, 2, requires_grad=True)
    out, idx = F.max_pool3d(y, 2, return_indices=True)
    assert idx.item() == 0
    out.sum().backward()
    assert y.grad.numpy().ravel().tolist() == [1.0] + [0.0] * 7


def test_adaptive_max_pool3d_duplicate_indices_gradcheck():
    """Adaptive windows overlap when the output is larger than the input."""
    (x,) = _inputs((1, 2, 2, 3, 2))
    out, idx = F.adaptive_max_pool3d(x, (3, 4, 3), return_indices=True)
    assert len(np.unique(idx.numpy())) < idx.numel()
    assert gradcheck(lambda x: F.adaptive_max_pool3d(x, (3, 4, 3)), (x,))


def test_max_pool3d_indices_are_flat_in_dhw():
    x = ember.arange(2 * 4 * 6 * 4, dtype=ember.float64).reshape(1, 2, 4, 6, 4)
    out, idx = F.max_pool3d(x, (2, 3, 2), return_indices=True)
    # the last element of each window is its maximum; its index counts within one channel
    np.testing.assert_array_equal(idx.numpy(), out.numpy().astype(np.int64) % (4 * 6 * 4))


@pytest.mark.parametrize("kwargs,size", [
    ({}, (3, 3, 3)), ({"stride": 2, "padding": 1}, (3, 3, 3)),
    ({"stride": (1, 2, 3), "dilation": (1, 1, 2)}, (3, 2, 1)),
])
def test_conv3d_module_shapes_and_unbatched(kwargs, size):
    m = nn.Conv3d(4, 6, (3, 4, 2), **kwargs).double()
    assert m.weight.shape == (6, 4, 3, 4, 2)
    (x,) = _inputs((2, 4, 5, 6, 4))
    out = m(x)
    assert out.shape == (2, 6) + size
    np.testing.assert_allclose(m(x[1]).detach().numpy(), out[1].detach().numpy(), atol=1e-12)


def test_conv_transpose3d_inverts_conv3d_shape():
    conv = nn.Conv3d(3, 5, 3, stride=2, padding=1)
    up = nn.ConvTranspose3d(5, 3, 3, stride=2, padding=1, output_padding=1)
    x = ember.randn(2, 3, 8, 6, 4)
    assert up(conv(x)).shape == x.shape
    assert up.weight.shape == (5, 3, 3, 3, 3)


def test_conv3d_matches_its_definition():
    """One output element by the definition: a sum over channels and the kernel box."""
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((1, 2, 5, 6, 4)), rng.standard_normal((3, 2, 2, 3, 2)), \
        rng.standard_normal(3)
    out = F.conv3d(ember.tensor(x), ember.tensor(w), ember.tensor(b), stride=(2, 1, 1),
                   dilation=(1, 1, 2)).numpy()
    o, d, h, wi = 2, 1, 3, 1
    box = x[0, :, 2 * d:2 * d + 2, h:h + 3, wi:wi + 3:2]
    np.testing.assert_allclose(out[0, o, d, h, wi], (box * w[o]).sum() + b[o])


def test_pool3d_modules_forward():
    x = ember.randn(2, 3, 6, 5, 4)
    assert nn.MaxPool3d(2)(x).shape == (2, 3, 3, 2, 2)
    out, idx = nn.MaxPool3d(2, return_indices=True, ceil_mode=True)(x)
    assert out.shape == idx.shape == (2, 3, 3, 3, 2)
    assert nn.AvgPool3d((2, 1, 2), padding=(1, 0, 0))(x).shape == (2, 3, 4, 5, 2)
    assert nn.AdaptiveAvgPool3d((None, 2, 1))(x).shape == (2, 3, 6, 2, 1)
    assert nn.AdaptiveMaxPool3d(3)(x[0]).shape == (3, 3, 3, 3)
    np.testing.assert_allclose(nn.AdaptiveAvgPool3d(1)(x).numpy(),
                               x.numpy().mean((2, 3, 4), keepdims=True), rtol=1e-6)


def test_pool3d_rejects_bad_rank():
    with pytest.raises(RuntimeError, match="4D or 5D"):
        F.max_pool3d(ember.zeros(3, 4, 4), 2)
    with pytest.raises(RuntimeError, match="4D or 5D"):
        F.avg_pool3d(ember.zeros(3, 4, 4), 2)
    with pytest.raises(RuntimeError, match="Expected 4D"):
        F.conv3d(ember.zeros(3, 4, 4), ember.zeros(2, 3, 1, 1, 1))
