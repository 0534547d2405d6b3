"""interpolate against torch, bit for bit: every mode's values for float32 and float64 (the
scale ``1 / scale_factor`` rounded once, torch's fused multiply-adds and summation orders,
its channels-last kernel on small outputs, its quirks for axes that keep or double their
size), the gradients of torch's backward kernels, the double-backward node names, uint8
bilinear / bicubic without antialias (torch's fixed-point kernel), float16, lanczos, and
the errors (dtypes, lanczos' arguments, torch's failing check on 3 channels to 1 x 1)."""
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

FACTORS = [0.3, 0.7, 1.1, 1.3, 1 / 3, 1.7, 2.1, 2.5, 3.7]
# (mode, input shapes): odd sizes, sizes kept or doubled by a factor, 8 and 11 channels
# (torch's channels-last kernel adds the first 8 float32 channels in another order)
MODES = {
    "nearest": [(2, 3, 5), (1, 2, 5, 7), (1, 2, 3, 5, 4)],
    "nearest-exact": [(2, 3, 5), (1, 2, 5, 7), (1, 2, 3, 5, 4)],
    "linear": [(2, 3, 7), (1, 2, 13)],
    "bilinear": [(1, 3, 5, 7), (1, 11, 6, 5), (1, 2, 50, 70)],
    "bicubic": [(1, 3, 5, 7), (1, 2, 13, 9)],
    "trilinear": [(1, 2, 3, 5, 4), (1, 1, 7, 2, 5)],
}
ALIGNED = ("linear", "bilinear", "bicubic", "trilinear")


def _kwargs(mode, align_corners, **spec):
    return dict(spec, mode=mode, **({"align_corners": align_corners} if mode in ALIGNED else {}))


def _run(lib, x, kwargs):
    """Output, input gradient for a fixed upstream gradient (requiring grad itself), and
    the node names of both."""
    xt = lib.tensor(x, requires_grad=x.dtype.kind == "f")
    out = lib.nn.functional.interpolate(xt, **kwargs)
    if not xt.requires_grad:
        return out.numpy(), None, None
    g = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(x.dtype),
                   requires_grad=True)
    gx, = lib.autograd.grad(out, xt, g, create_graph=True)
    names = (type(out.grad_fn).__name__, type(gx.grad_fn).__name__)
    return out.detach().numpy(), gx.detach().numpy(), names


def _assert_same(ours, theirs):
    """Bit for bit, but float64 (whose fused multiply-adds ember rounds twice, for speed):
    within 1e-14 of the largest value."""
    if ours.dtype == np.float64:
        np.testing.assert_allclose(ours, theirs, rtol=0,
                                   atol=1e-14 * max(1.0, np.abs(theirs).max()))
    else:
        np.testing.assert_array_equal(ours, theirs)


def _check(x, **kwargs):
    try:
        t_out, t_grad, t_names = _run(torch, x, kwargs)
    except (RuntimeError, ValueError, NotImplementedError) as err:
        if "INTERNAL ASSERT" in str(err) and x.shape[1] == 3:
            # torch's own bug (3 uint8 channels to 1 x 1): ember gives what torch's kernel
            # gives each channel when a fourth channel lets it run
            padded = np.concatenate([x, x[:, :1]], axis=1)
            np.testing.assert_array_equal(_run(ember, x, kwargs)[0],
                                          _run(torch, padded, kwargs)[0][:, :3])
            return
        with pytest.raises(type(err), match=re.escape(str(err))):
            _run(ember, x, kwargs)
        return
    e_out, e_grad, e_names = _run(ember, x, kwargs)
    assert e_out.dtype == t_out.dtype
    _assert_same(e_out, t_out)
    if t_grad is not None:
        assert e_names == t_names
        tol = 1e-5 if x.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(e_grad, t_grad, atol=tol * max(1.0, np.abs(t_grad).max()))


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("recompute", [None, True])
def test_scale_factors_match_torch_bit_for_bit(mode, dtype, recompute):
    rng = np.random.default_rng(0)
    for shape, factor in itertools.product(MODES[mode], FACTORS):
        x = rng.standard_normal(shape).astype(dtype)
        for align in (False, True) if mode in ALIGNED else (False,):
            _check(x, **_kwargs(mode, align, scale_factor=factor,
                                recompute_scale_factor=recompute))


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sizes_match_torch_bit_for_bit(mode, dtype):
    rng = np.random.default_rng(1)
    for shape, size in itertools.product(MODES[mode], (1, 2, 6, 11, 20, 70)):
        x = rng.standard_normal(shape).astype(dtype)
        for align in (False, True) if mode in ALIGNED else (False,):
            _check(x, **_kwargs(mode, align, size=size))


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
@pytest.mark.parametrize("spec", [{"scale_factor": (0.7, 2.5)}, {"scale_factor": (1.1, 2.1)},
                                  {"size": (4, 1)}, {"size": (1, 9)}, {"size": (3, 130)}],
                         ids=str)
def test_mixed_axes_match_torch_bit_for_bit(mode, spec):
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 7))
    for dtype, align in itertools.product(("float32", "float64"), (False, True)):
        _check(x.astype(dtype), **_kwargs(mode, align, **spec))


@pytest.mark.parametrize("mode, fmt", [("nearest", "channels_last"), ("bilinear", "channels_last"),
                                       ("nearest", "channels_last_3d"),
                                       ("trilinear", "channels_last_3d")])
def test_channels_last_input_matches_torch(mode, fmt):
    # torch takes its channels-last kernel for such input of more than 3 channels
    shape = (2, 5, 6, 7) if fmt == "channels_last" else (1, 5, 3, 4, 5)
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    for factor in (0.7, 2.5, 30.0):
        kwargs = _kwargs(mode, False, scale_factor=factor)
        t = torch.nn.functional.interpolate(
            torch.tensor(x).contiguous(memory_format=getattr(torch, fmt)), **kwargs)
        e = F.interpolate(ember.tensor(x).contiguous(memory_format=getattr(ember, fmt)),
                          **kwargs)
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("mode", ["nearest", "linear", "bicubic", "trilinear", "nearest-exact"])
def test_float16_matches_torch(mode):
    shape = {"linear": (1, 2, 7), "bicubic": (1, 2, 5, 6), "trilinear": (1, 2, 3, 4, 5)}.get(
        mode, (1, 2, 5, 6))
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float16)
    for factor in (0.7, 1.3, 2.5):
        kwargs = _kwargs(mode, False, scale_factor=factor)
        t = torch.nn.functional.interpolate(torch.tensor(x), **kwargs).numpy()
        np.testing.assert_array_equal(F.interpolate(ember.tensor(x), **kwargs).numpy(), t)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("channels", [1, 3, 4, 5])
@pytest.mark.parametrize("spec", [{"scale_factor": 0.3}, {"scale_factor": 1.7},
                                  {"scale_factor": (2.5, 1.0)}, {"size": (9, 5)},
                                  {"size": (31, 40)}, {"size": (13, 1)}, {"size": (1, 13)},
                                  {"size": (1, 1)}], ids=str)
def test_uint8_without_antialias_matches_torch_bit_for_bit(mode, channels, spec):
    # 5 channels take torch's generic kernel, fewer its vectorised one; 3 channels resized
    # to 1 x 1 fail torch's internal check (ember computes them)
    x = np.random.default_rng(5).integers(0, 256, (2, channels, 17, 23)).astype(np.uint8)
    for align in (False, True):
        _check(x, **_kwargs(mode, align, **spec))


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_uint8_nearest_matches_torch(mode):
    rng = np.random.default_rng(6)
    for shape, factor in itertools.product(MODES[mode], FACTORS):
        _check(rng.integers(0, 256, shape).astype(np.uint8), mode=mode, scale_factor=factor)


@pytest.mark.parametrize("mode, shape", [("linear", (1, 1, 4)), ("trilinear", (1, 1, 2, 2, 2)),
                                         ("area", (2, 3, 5)), ("area", (2, 3, 1, 4)),
                                         ("area", (2, 3, 5, 4))])
def test_uint8_errors_match_torch(mode, shape):
    _check(np.zeros(shape, np.uint8), mode=mode, scale_factor=0.3)


@pytest.mark.parametrize("mode, shape", [("bilinear", (1, 1, 4, 4)), ("nearest", (1, 1, 4, 4)),
                                         ("nearest-exact", (1, 5, 4, 4, 4)),
                                         ("trilinear", (1, 5, 4, 4, 4))])
@pytest.mark.parametrize("size", [8, 100])
@pytest.mark.parametrize("channels_last", [False, True])
def test_dtype_errors_name_the_kernel_torch_takes(mode, shape, size, channels_last):
    errors = []
    for lib in (torch, ember):
        x = lib.zeros(shape, dtype=lib.int64)
        if channels_last:
            x = x.contiguous(memory_format=lib.channels_last if len(shape) == 4
                             else lib.channels_last_3d)
        with pytest.raises(NotImplementedError) as err:
            lib.nn.functional.interpolate(x, size=size, mode=mode)
        errors.append(str(err.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("mode, shape", [("nearest", (1, 2, 5)), ("linear", (1, 2, 5)),
                                         ("bilinear", (1, 2, 5, 6)), ("bicubic", (1, 2, 5, 6)),
                                         ("trilinear", (1, 2, 3, 4, 5)),
                                         ("nearest-exact", (1, 2, 5, 6, 3))])
@pytest.mark.parametrize("factor", [0.6, 1.1, 2.1])
def test_double_and_triple_backward_match_torch(mode, shape, factor):
    rng = np.random.default_rng(7)
    x, u0 = rng.standard_normal(shape), rng.standard_normal(shape)
    assert_higher_order_grads_match(torch, ember, x, u0, mode=mode, scale_factor=factor)


@pytest.mark.parametrize("mode, shape", [("nearest", (1, 2, 5)), ("bilinear", (1, 2, 5, 6)),
                                         ("bicubic", (1, 2, 5, 6)),
                                         ("trilinear", (1, 2, 3, 4, 5))])
def test_forward_mode_tangent_matches_torch(mode, shape):
    import torch.autograd.forward_ad as tfw

    rng = np.random.default_rng(8)
    x, t = rng.standard_normal(shape), rng.standard_normal(shape)
    for factor in (0.6, 1.1, 2.1):
        tangents = []
        for lib, fw in ((ember, efw), (torch, tfw)):
            with fw.dual_level():
                dual = fw.make_dual(lib.tensor(x), lib.tensor(t))
                out = lib.nn.functional.interpolate(dual, mode=mode, scale_factor=factor)
                tangents.append(fw.unpack_dual(out).tangent.numpy())
        _assert_same(*tangents)


# ---------------------------------------------------------------- antialias and lanczos

AA_SHAPES = [(2, 3, 8, 8), (1, 2, 7, 13), (1, 1, 1, 9), (2, 1, 17, 5), (1, 1, 40, 30)]
AA_SPECS = [{"scale_factor": 0.3}, {"scale_factor": 0.77}, {"scale_factor": 1.7},
            {"scale_factor": (0.4, 2.5)}, {"scale_factor": 0.13}, {"size": (3, 5)},
            {"size": (1, 7)}, {"size": (9, 1)}, {"size": (40, 31)},
            {"scale_factor": 0.77, "recompute_scale_factor": True}]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", AA_SPECS, ids=str)
def test_antialias_matches_torch_bit_for_bit(mode, dtype, spec):
    rng = np.random.default_rng(9)
    for shape in AA_SHAPES:
        x = rng.standard_normal(shape).astype(dtype)
        for align in (False, True) if mode != "lanczos" else (False,):
            _check(x, mode=mode, antialias=True, align_corners=align, **spec)


@pytest.mark.parametrize("channels", [1, 3, 4, 5])
@pytest.mark.parametrize("spec", [{"scale_factor": 0.3}, {"size": (9, 5)}, {"size": (31, 40)},
                                  {"size": (13, 1)}, {"size": (1, 13)}, {"size": (1, 1)}],
                         ids=str)
def test_lanczos_uint8_matches_torch(channels, spec):
    x = np.random.default_rng(10).integers(0, 256, (2, channels, 17, 23)).astype(np.uint8)
    _check(x, mode="lanczos", antialias=True, **spec)


def test_lanczos_forward_mode_and_double_backward_match_torch():
    import torch.autograd.forward_ad as tfw

    rng = np.random.default_rng(11)
    x, t0 = rng.standard_normal((1, 2, 7, 9)), rng.standard_normal((1, 2, 7, 9))
    results = []
    for lib, fw in ((torch, tfw), (ember, efw)):
        with fw.dual_level():
            out = lib.nn.functional.interpolate(fw.make_dual(lib.tensor(x), lib.tensor(t0)),
                                                size=(4, 13), mode="lanczos", antialias=True)
            tangent = fw.unpack_dual(out).tangent.numpy()
        xt = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.interpolate(xt, size=(4, 13), mode="lanczos", antialias=True)
        g = lib.tensor(np.ones(tuple(out.shape)), requires_grad=True)
        gx, = lib.autograd.grad(out, xt, g, create_graph=True)
        gg, = lib.autograd.grad((gx * lib.tensor(t0)).sum(), g)
        results.append((tangent, gx.detach().numpy(), gg.numpy(), type(gx.grad_fn).__name__))
    for t, e in zip(results[0][:3], results[1][:3]):
        np.testing.assert_allclose(e, t, atol=1e-12)
    assert results[0][3] == results[1][3] == "UpsampleLanczos2DAaBackwardBackward0"


@pytest.mark.parametrize("kwargs", [
    {"antialias": False}, {"antialias": False, "align_corners": True},
    {"antialias": True, "align_corners": True}, {"antialias": True, "shape": (1, 1, 4)},
    {"antialias": False, "shape": (1, 1, 4, 4, 4)},
    {"antialias": True, "shape": (1, 1, 4, 4), "dtype": "float16"},
], ids=str)
def test_lanczos_errors_match_torch(kwargs):
    kwargs = dict(kwargs)
    x = np.zeros(kwargs.pop("shape", (1, 1, 4, 4)), kwargs.pop("dtype", "float32"))
    _check(x, mode="lanczos", scale_factor=0.5, **kwargs)


@pytest.mark.parametrize("mode, shape, spec", [
    ("bilinear", (3, 5, 64, 90), {"scale_factor": 2.0}),
    ("bilinear", (3, 5, 64, 90), {"scale_factor": 0.5, "align_corners": True}),
    ("bicubic", (2, 3, 40, 130), {"scale_factor": 3.0}),
    ("bicubic", (2, 3, 40, 130), {"size": (67, 77)}),
    ("nearest", (3, 5, 64, 90), {"scale_factor": 2.0}),
    ("nearest-exact", (3, 5, 64, 90), {"scale_factor": 0.6}),
    ("trilinear", (2, 3, 12, 30, 40), {"scale_factor": 2.0}),
    ("linear", (4, 64, 500), {"scale_factor": 1.7}),
    ("bilinear", (3, 5, 64, 90), {"scale_factor": 0.5, "antialias": True}),
    ("bicubic", (3, 5, 64, 90), {"size": (30, 41), "antialias": True}),
], ids=str)
def test_larger_inputs_match_torch_bit_for_bit(mode, shape, spec):
    # enough rows and columns that the passes work in several blocks and strided runs
    x = np.random.default_rng(12).standard_normal(shape).astype(np.float32)
    x.flat[[5, 77, 1000]] = [np.nan, np.inf, -0.0]
    kwargs = dict(spec, mode=mode)
    if mode in ALIGNED:
        kwargs.setdefault("align_corners", False)
    _check(x, **kwargs)


@pytest.mark.parametrize("mode, spec", [
    ("nearest", {"scale_factor": 0.5}), ("bilinear", {"scale_factor": 2.0}),
    ("bicubic", {"scale_factor": 2.0}), ("bilinear", {"size": (7, 9), "align_corners": True}),
    ("bilinear", {"scale_factor": 0.5, "antialias": True}),
    ("bicubic", {"scale_factor": 0.3, "antialias": True}),
    ("lanczos", {"size": (5, 11), "antialias": True}),
], ids=str)
def test_non_finite_gradient_reaches_the_inputs_torch_reaches(mode, spec):
    # torch's backward kernels multiply each output's gradient by that output's taps only
    x = np.random.default_rng(13).standard_normal((1, 2, 9, 12)).astype(np.float32)
    grads = []
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.interpolate(xt, mode=mode, **spec)
        g = np.ones(tuple(out.shape), np.float32)
        g[0, 0, 1, 2] = np.inf
        out.backward(lib.tensor(g))
        grads.append(xt.grad.numpy())
    np.testing.assert_array_equal(np.isnan(grads[1]), np.isnan(grads[0]))
    np.testing.assert_array_equal(np.isinf(grads[1]), np.isinf(grads[0]))
    assert np.isinf(grads[0]).any()


@pytest.mark.parametrize("mode, shape, spec", [
    ("bilinear", (0, 3, 5, 6), {}), ("bilinear", (0, 3, 50, 60), {}),
    ("nearest", (0, 3, 50, 60), {}), ("bicubic", (0, 3, 5, 6), {}),
    ("trilinear", (0, 2, 3, 4, 5), {}),
    ("bilinear", (0, 3, 9, 8), {"antialias": True}),
], ids=str)
def test_empty_batch_matches_torch(mode, shape, spec):
    # (the 5 x 6 bilinear input takes torch's channels-last kernel)
    kwargs = dict(spec, mode=mode, scale_factor=0.5 if spec else 2.0)
    results = [_run(lib, np.zeros(shape, np.float32), kwargs) for lib in (torch, ember)]
    for t, e in zip(results[0][:2], results[1][:2]):
        assert e.shape == t.shape and e.dtype == t.dtype
    assert results[0][2] == results[1][2]
