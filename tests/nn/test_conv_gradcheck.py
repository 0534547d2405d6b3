"""Finite-difference checks (float64) of the convolution, pooling and upsampling backwards."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.nn import functional as F


def _inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [ember.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("kwargs", [
    {}, {"stride": 2, "padding": 1}, {"dilation": 2, "padding": (0, 1)}, {"groups": 2},
    {"padding": "same"},
])
def test_conv2d_gradcheck(kwargs):
    x, w, b = _inputs((2, 4, 5, 4), (2, 4 // kwargs.get("groups", 1), 3, 2), (2,))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), (x, w, b))


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1, "dilation": 2}])
def test_conv1d_gradcheck(kwargs):
    x, w, b = _inputs((2, 2, 7), (3, 2, 3), (3,))
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, **kwargs), (x, w, b))


@pytest.mark.parametrize("kwargs", [
    {}, {"stride": 2, "padding": 1, "output_padding": 1}, {"groups": 2, "dilation": 2},
])
def test_conv_transpose2d_gradcheck(kwargs):
    x, w, b = _inputs((1, 2, 3, 4), (2, 2, 2, 3), (2 * kwargs.get("groups", 1),))
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs), (x, w, b))


def test_conv_transpose1d_unbatched_gradcheck():
    x, w = _inputs((2, 4), (2, 3, 3))
    assert gradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=2), (x, w))


@pytest.mark.parametrize("fn,args,kwargs", [
    (F.max_pool2d, (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    (F.max_pool1d, (2,), {"dilation": 2}),
    (F.avg_pool2d, (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    (F.avg_pool1d, (2,), {"ceil_mode": True}),
    (F.adaptive_avg_pool2d, ((3, 2),), {}),
    (F.adaptive_max_pool2d, ((2, 3),), {}),
    (F.adaptive_avg_pool1d, (3,), {}),
    (F.interpolate, (), {"scale_factor": 2}),
    (F.interpolate, (), {"size": 4, "mode": "bilinear"}),
    (F.interpolate, (), {"size": 7, "mode": "linear", "align_corners": True}),
])
def test_pooling_gradcheck(fn, args, kwargs):
    linear = kwargs.get("mode") == "linear"
    one_d = fn in (F.max_pool1d, F.avg_pool1d, F.adaptive_avg_pool1d) or linear
    (x,) = _inputs((2, 2, 5) if one_d else (2, 2, 5, 5))
    assert gradcheck(lambda x: fn(x, *args, **kwargs), (x,))


def test_max_pool_gradient_goes_to_first_maximum():
    x = ember.tensor([[[1.0, 3.0, 3.0, 2.0]]], requires_grad=True)
    F.max_pool1d(x, 2, stride=1).sum().backward()
    assert x.grad.tolist() == [[[0.0, 2.0, 1.0, 0.0]]]
