"""interpolate(..., antialias=True) against torch: values and input gradients (float32 and
float64, bilinear and bicubic, size or scale_factor, align_corners), node names, torch's
quirks (an axis that keeps its size, an output of width 1), uint8, forward-mode tangents,
double backward and the errors for dtypes torch's kernel does not take."""
from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as efw
from ember.nn import functional as F
from tests.oracle._interpolate_compare import assert_higher_order_grads_match

torch = pytest.importorskip("torch")
# torch's forward AD scripts a helper on first use, and torch.jit.script warns it is deprecated
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

MODES = ("bilinear", "bicubic")
SHAPES = [(2, 3, 8, 8), (1, 2, 7, 13), (1, 1, 1, 9), (2, 1, 17, 5), (1, 1, 1, 1)]
SPECS = [
    {"scale_factor": 0.3}, {"scale_factor": 0.5}, {"scale_factor": 0.77},
    {"scale_factor": 1.5}, {"scale_factor": 2}, {"scale_factor": (0.4, 2.5)},
    {"size": (1, 1)}, {"size": (3, 5)}, {"size": (1, 7)}, {"size": (9, 2)},
    {"size": (40, 31)}, {"scale_factor": 0.77, "recompute_scale_factor": True},
]
# float32 results are compared relative to the largest value (torch sums in float32 too)
TOL = {"float32": 1e-5, "float64": 1e-12}


def _run(lib, x, g, **kwargs):
    """Output and input gradient of lib's interpolate for the upstream gradient ``g``."""
    xt = lib.tensor(x, requires_grad=True)
    out = lib.nn.functional.interpolate(xt, antialias=True, **kwargs)
    out.backward(lib.tensor(g))
    return out, xt.grad.numpy()


def _check(x, **kwargs):
    try:
        shape = tuple(torch.nn.functional.interpolate(torch.tensor(x), antialias=True,
                                                      **kwargs).shape)
    except RuntimeError as err:  # an empty output (a 1-pixel axis times a scale below 1)
        with pytest.raises(RuntimeError, match=re.escape(str(err))):
            F.interpolate(ember.tensor(x), antialias=True, **kwargs)
        return
    g = np.random.default_rng(1).standard_normal(shape).astype(x.dtype)
    t_out, t_grad = _run(torch, x, g, **kwargs)
    e_out, e_grad = _run(ember, x, g, **kwargs)
    assert e_out.shape == shape and e_out.dtype == getattr(ember, x.dtype.name)
    assert type(e_out.grad_fn).__name__ == type(t_out.grad_fn).__name__
    tol = TOL[x.dtype.name]
    t_out = t_out.detach().numpy()
    np.testing.assert_allclose(e_out.detach().numpy(), t_out,
                               atol=tol * max(1.0, np.abs(t_out).max()), rtol=0)
    np.testing.assert_allclose(e_grad, t_grad, atol=tol * max(1.0, np.abs(t_grad).max()),
                               rtol=0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_values_and_gradients_match_torch(mode, dtype, spec):
    rng = np.random.default_rng(0)
    for shape, align in itertools.product(SHAPES, (False, True)):
        x = rng.standard_normal(shape).astype(dtype)
        _check(x, mode=mode, align_corners=align, **spec)


@pytest.mark.parametrize("mode", MODES)
def test_node_names_match_torch(mode):
    x = np.ones((1, 1, 4, 4), np.float32)
    names = [type(lib.nn.functional.interpolate(lib.tensor(x, requires_grad=True),
                                                scale_factor=0.5, mode=mode,
                                                antialias=True).grad_fn).__name__
             for lib in (torch, ember)]
    assert names[0] == names[1] == f"Upsample{mode.capitalize()}2DAaBackward0"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("spec", [{"scale_factor": 1.1}, {"scale_factor": (1.1, 0.5)},
                                  {"scale_factor": (0.5, 1.05)}], ids=str)
def test_axis_keeping_its_size_matches_torch(mode, spec):
    # torch copies such an axis forward but still filters it for 1 / scale_factor backward
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 7))
    _check(x, mode=mode, **spec)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", [(3, 1), (13, 1), (7, 1), (1, 1)])
@pytest.mark.parametrize("width", [1, 9])
def test_output_of_width_one_matches_torch(mode, size, width):
    # torch's H pass gives every row row 0's weights when the output has width 1
    x = np.random.default_rng(0).standard_normal((2, 3, 7, width))
    for align in (False, True):
        _check(x, mode=mode, size=size, align_corners=align)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("channels", [1, 3, 5])
@pytest.mark.parametrize("spec", [{"scale_factor": 0.3}, {"size": (9, 5)}, {"size": (31, 40)},
                                  {"size": (13, 1)}, {"size": (1, 13)}], ids=str)
def test_uint8_matches_torch(mode, channels, spec):
    x = np.random.default_rng(0).integers(0, 256, (2, channels, 17, 23)).astype(np.uint8)
    for align in (False, True):
        kwargs = dict(mode=mode, antialias=True, align_corners=align, **spec)
        t = torch.nn.functional.interpolate(torch.tensor(x), **kwargs).numpy()
        e = F.interpolate(ember.tensor(x), **kwargs)
        assert e.dtype == ember.uint8
        np.testing.assert_array_equal(e.numpy(), t)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("spec", [{"scale_factor": 0.5}, {"scale_factor": 1.1},
                                  {"size": (3, 1)}, {"size": (9, 4)}], ids=str)
def test_forward_mode_tangent_matches_torch(mode, spec):
    import torch.autograd.forward_ad as tfw

    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((1, 2, 5, 7)), rng.standard_normal((1, 2, 5, 7))
    tangents = []
    for lib, fw in ((ember, efw), (torch, tfw)):
        with fw.dual_level():
            dual = fw.make_dual(lib.tensor(x), lib.tensor(t))
            out = lib.nn.functional.interpolate(dual, mode=mode, antialias=True, **spec)
            tangents.append(fw.unpack_dual(out).tangent.numpy())
    np.testing.assert_allclose(tangents[0], tangents[1], atol=1e-12)


@pytest.mark.parametrize("spec", [{"scale_factor": 0.6}, {"scale_factor": 1.1},
                                  {"size": (3, 1)}], ids=str)
def test_double_and_triple_backward_match_torch(spec):
    rng = np.random.default_rng(0)
    x, u0 = rng.standard_normal((1, 2, 5, 7)), rng.standard_normal((1, 2, 5, 7))
    assert_higher_order_grads_match(torch, ember, x, u0, mode="bilinear", antialias=True,
                                    **spec)


@pytest.mark.parametrize("dtype", ["float16", "int64", "int32", "bool"])
def test_unsupported_dtype_error_matches_torch(dtype):
    x = np.ones((1, 1, 4, 4), dtype)
    with pytest.raises(NotImplementedError) as t_err:
        torch.nn.functional.interpolate(torch.tensor(x), scale_factor=0.5, mode="bilinear",
                                        antialias=True)
    with pytest.raises(NotImplementedError) as e_err:
        F.interpolate(ember.tensor(x), scale_factor=0.5, mode="bilinear", antialias=True)
    assert str(e_err.value) == str(t_err.value)


@pytest.mark.parametrize("kwargs", [
    {"mode": "nearest", "shape": (1, 1, 4, 4)}, {"mode": "bilinear", "shape": (1, 4, 4)},
    {"mode": "trilinear", "shape": (1, 1, 4, 4, 4)}, {"mode": "bicubic", "shape": (0, 1, 4, 4)},
    {"mode": "bicubic", "shape": (1, 0, 4, 4)}, {"mode": "bilinear", "shape": (1, 1, 4, 4),
                                                  "scale_factor": 0.1},
], ids=str)
def test_bad_input_matches_torch(kwargs):
    kwargs = dict(kwargs)
    x = np.ones(kwargs.pop("shape"), np.float32)
    kwargs.setdefault("scale_factor", 0.5)
    outcomes = []
    for lib in (torch, ember):
        try:
            out = lib.nn.functional.interpolate(lib.tensor(x), antialias=True, **kwargs)
            outcomes.append(tuple(out.shape))
        except (ValueError, RuntimeError, NotImplementedError) as err:
            outcomes.append((type(err), str(err)))
    assert outcomes[0] == outcomes[1]
