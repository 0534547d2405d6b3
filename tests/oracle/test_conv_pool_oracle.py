"""Convolution, pooling and upsampling against torch: forward values, float64 gradients of
input, weight and bias, node names, module reprs and state dicts, and error messages."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F


def _pair(torch, x, requires_grad=True):
    return (ember.tensor(x, requires_grad=requires_grad),
            torch.tensor(x, requires_grad=requires_grad))


def check(torch, fn, shapes, *args, atol=1e-10, x=None, **kwargs):
    """Run F.<fn> and torch's on the same float64 inputs; compare the output (and indices),
    the node name and every input's gradient for a random upstream gradient."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) if s is not None else None for s in shapes]
    if x is not None:
        arrays[0] = x
    pairs = [_pair(torch, a) if a is not None else (None, None) for a in arrays]
    e_out = getattr(F, fn)(*[p[0] for p in pairs], *args, **kwargs)
    t_out = getattr(torch.nn.functional, fn)(*[p[1] for p in pairs], *args, **kwargs)
    if isinstance(t_out, tuple):
        np.testing.assert_array_equal(e_out[1].numpy(), t_out[1].numpy())
        assert e_out[1].dtype == ember.int64
        e_out, t_out = e_out[0], t_out[0]
    assert e_out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), atol=atol)
    assert type(e_out.grad_fn).__name__ == type(t_out.grad_fn).__name__
    g = rng.standard_normal(tuple(t_out.shape))
    e_out.backward(ember.tensor(g))
    t_out.backward(torch.tensor(g))
    for i, (e, t) in enumerate(pairs):
        if e is not None:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=atol,
                                       err_msg=f"gradient of input {i}")


# ---------------------------------------------------------------- convolutions

CONV_GRID = list(itertools.product([1, 3], [0, 2], [1, 2], [1, 2]))


@pytest.mark.parametrize("stride,padding,dilation,groups", CONV_GRID)
def test_conv2d_matches_torch(torch, stride, padding, dilation, groups):
    check(torch, "conv2d", [(2, 4, 7, 9), (6, 4 // groups, 3, 2), (6,)], stride=(stride, 1),
          padding=(padding, 1), dilation=(1, dilation), groups=groups)


@pytest.mark.parametrize("stride,padding,dilation,groups", CONV_GRID)
def test_conv1d_matches_torch(torch, stride, padding, dilation, groups):
    bias = (6,) if groups == 1 else None
    check(torch, "conv1d", [(2, 4, 11), (6, 4 // groups, 3), bias], stride=stride,
          padding=padding, dilation=dilation, groups=groups)


@pytest.mark.parametrize("stride,padding,dilation,groups", CONV_GRID)
def test_conv_transpose2d_matches_torch(torch, stride, padding, dilation, groups):
    check(torch, "conv_transpose2d", [(2, 4, 5, 6), (4, 6 // groups, 3, 2), (6,)],
          stride=(stride, 2), padding=(padding, 0), output_padding=(stride - 1, 1),
          groups=groups, dilation=(1, dilation))


@pytest.mark.parametrize("stride,padding,dilation,groups", CONV_GRID[::3])
def test_conv_transpose1d_matches_torch(torch, stride, padding, dilation, groups):
    check(torch, "conv_transpose1d", [(2, 4, 5), (4, 3, 3), None], stride=stride,
          padding=padding, dilation=dilation, groups=groups)


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note about a copy
@pytest.mark.parametrize("padding,dilation", [("same", 1), ("same", 2), ("valid", 1)])
def test_conv_string_padding_matches_torch(torch, padding, dilation):
    check(torch, "conv2d", [(2, 4, 8, 5), (6, 4, 4, 3), (6,)], padding=padding,
          dilation=dilation)
    check(torch, "conv1d", [(2, 4, 9), (6, 4, 4), None], padding=padding, dilation=dilation)


@pytest.mark.parametrize("fn,shapes", [
    ("conv1d", [(4, 11), (6, 4, 3), (6,)]),
    ("conv2d", [(4, 7, 6), (6, 2, 3, 3), (6,)]),
    ("conv_transpose2d", [(4, 5, 6), (4, 3, 2, 2), (3,)]),
])
def test_conv_unbatched_matches_torch(torch, fn, shapes):
    groups = 2 if fn == "conv2d" else 1
    check(torch, fn, shapes, groups=groups)


def test_conv_float32_keeps_dtype(torch):
    x = np.random.default_rng(1).standard_normal((2, 3, 9, 8)).astype(np.float32)
    w = np.random.default_rng(2).standard_normal((5, 3, 3, 3)).astype(np.float32)
    out = F.conv2d(ember.tensor(x), ember.tensor(w), stride=2, padding=1)
    want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1)
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


CONV_ERRORS = [
    ("conv2d", (2, 3, 5, 5), (4, 2, 3, 3), None, {}),
    ("conv2d", (2, 4, 5, 5), (4, 2, 3, 3), None, {"groups": 3}),
    ("conv2d", (2, 4, 5, 5), (6, 2, 3, 3), None, {"groups": 4}),
    ("conv2d", (2, 4, 2, 2), (4, 4, 3, 3), None, {}),
    ("conv2d", (2, 4, 5, 5), (4, 4, 3, 3), (3,), {}),
    ("conv2d", (2, 4, 5), (4, 4, 3, 3), None, {}),
    ("conv1d", (2, 4, 5, 5), (4, 4, 3), None, {}),
    ("conv2d", (2, 4, 5, 5), (4, 4, 3, 3), None, {"stride": 2, "padding": "same"}),
    ("conv2d", (2, 4, 5, 5), (4, 4, 3, 3), None, {"padding": "foo"}),
    ("conv2d", (2, 4, 5, 5), (4, 4, 3, 3), None, {"stride": 0}),
    ("conv2d", (2, 4, 5, 5), (4, 4, 3, 3), None, {"padding": -1}),
    ("conv2d", (2, 4, 5, 5), (4, 4, 3, 3), None, {"groups": 0}),
    ("conv2d", (2, 4, 5, 5), (4, 4, 3), None, {}),
    ("conv1d", (2, 4, 5), (4, 4), None, {}),
    ("conv_transpose2d", (2, 3, 5, 5), (4, 2, 3, 3), None, {}),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 2, 3, 3), None, {"stride": 2, "output_padding": 2}),
]


@pytest.mark.parametrize("fn,xs,ws,bs,kwargs", CONV_ERRORS)
def test_conv_errors_match_torch(torch, fn, xs, ws, bs, kwargs):
    args = [np.zeros(xs), np.zeros(ws)] + ([np.zeros(bs)] if bs else [])
    with pytest.raises(Exception) as want:
        getattr(torch.nn.functional, fn)(*[torch.tensor(a) for a in args], **kwargs)
    with pytest.raises(type(want.value)) as got:
        getattr(F, fn)(*[ember.tensor(a) for a in args], **kwargs)
    assert str(got.value) == str(want.value)


# ---------------------------------------------------------------- pooling

POOL_GRID = list(itertools.product([2, 3], [None, 2], [0, 1], [1, 2], [False, True]))


@pytest.mark.parametrize("k,stride,padding,dilation,ceil_mode", POOL_GRID)
def test_max_pool_matches_torch(torch, k, stride, padding, dilation, ceil_mode):
    opts = dict(stride=stride, dilation=dilation, ceil_mode=ceil_mode, return_indices=True)
    check(torch, "max_pool2d", [(2, 3, 7, 8)], (k, 2), padding=(padding, 1), **opts)
    check(torch, "max_pool1d", [(2, 3, 9)], k, padding=padding, **opts)
    check(torch, "max_pool2d", [(3, 7, 8)], k, stride, padding, dilation, ceil_mode)


@pytest.mark.parametrize("k,stride,padding,ceil_mode", [
    (k, s, p, c) for k, s, p, _, c in POOL_GRID[::2]])
@pytest.mark.parametrize("count_include_pad", [False, True])
def test_avg_pool_matches_torch(torch, k, stride, padding, ceil_mode, count_include_pad):
    opts = dict(stride=stride, ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    check(torch, "avg_pool2d", [(2, 3, 7, 8)], (k, 3), padding=(padding, 1), **opts)
    check(torch, "avg_pool1d", [(3, 9)], k, padding=padding, **opts)
    check(torch, "avg_pool2d", [(3, 7, 8)], k, padding=padding, divisor_override=3, **opts)


def test_max_pool_ties_go_to_first_index(torch):
    x = np.random.default_rng(3).integers(0, 3, (2, 3, 6, 7)).astype(np.float64)
    check(torch, "max_pool2d", [None], 3, x=x, stride=1, padding=1, return_indices=True)
    check(torch, "max_pool1d", [None], 2, x=x[0], stride=1, return_indices=True)
    check(torch, "adaptive_max_pool2d", [None], (4, 3), x=x, return_indices=True)


def test_max_pool_nan_propagates_as_torch(torch):
    x = np.array([[[np.nan, 1.0, np.nan, 2.0, 0.5, 3.0]]])
    e_out, e_idx = F.max_pool1d(ember.tensor(x), 3, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool1d(torch.tensor(x), 3, return_indices=True)
    np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())


@pytest.mark.parametrize("out", [1, 2, 3, 5, 9])
def test_adaptive_pools_match_torch(torch, out):
    check(torch, "adaptive_avg_pool2d", [(2, 3, 7, 8)], (out, 3))
    check(torch, "adaptive_avg_pool1d", [(2, 3, 7)], out)
    check(torch, "adaptive_max_pool2d", [(2, 3, 7, 8)], (3, out), return_indices=True)
    check(torch, "adaptive_max_pool1d", [(3, 7)], out, return_indices=True)


def test_adaptive_avg_pool_none_keeps_size(torch):
    check(torch, "adaptive_avg_pool2d", [(3, 7, 8)], (None, 2))


@pytest.mark.parametrize("size", [1, 3, 8, 13])
def test_interpolate_size_matches_torch(torch, size):
    check(torch, "interpolate", [(2, 3, 5)], size=size)
    check(torch, "interpolate", [(2, 3, 5, 4)], size=(size, 3))
    check(torch, "interpolate", [(2, 3, 5, 4)], size=(size, 7), mode="nearest-exact")
    for align in (False, True):
        check(torch, "interpolate", [(2, 3, 5)], size=size, mode="linear", align_corners=align)
        check(torch, "interpolate", [(2, 3, 5, 4)], size=(size, 7), mode="bilinear",
              align_corners=align)


@pytest.mark.parametrize("scale", [0.5, 0.7, 2, 2.3])
def test_interpolate_scale_factor_matches_torch(torch, scale):
    check(torch, "interpolate", [(2, 3, 5)], scale_factor=scale)
    check(torch, "interpolate", [(2, 3, 5, 4)], scale_factor=(scale, 2))
    check(torch, "interpolate", [(2, 3, 5, 4)], scale_factor=scale, mode="bilinear")
    check(torch, "interpolate", [(2, 3, 5, 4)], scale_factor=scale, mode="bilinear",
          recompute_scale_factor=True)


def test_interpolate_float32_matches_torch(torch):
    x = np.random.default_rng(4).standard_normal((2, 3, 9, 9)).astype(np.float32)
    for size, mode in itertools.product([4, 7, 13, 30], ["nearest", "bilinear"]):
        out = F.interpolate(ember.tensor(x), size=size, mode=mode)
        want = torch.nn.functional.interpolate(torch.tensor(x), size=size, mode=mode)
        assert out.dtype == ember.float32
        np.testing.assert_allclose(out.numpy(), want.numpy(), atol=1e-5)


POOL_ERRORS = [
    ("max_pool2d", (2, 4, 5, 5), (3,), {"padding": 2}),
    ("max_pool2d", (2, 4, 2, 2), (3,), {}),
    ("max_pool2d", (2, 4, 5), (3,), {"stride": 0}),
    ("max_pool2d", (2, 4, 5, 5), (2,), {"stride": (1, 2, 3)}),
    ("max_pool1d", (4, 5, 5, 5), (3,), {}),
    ("max_pool1d", (2, 4, 2), (3,), {}),
    ("max_pool1d", (2, 4, 5), (3,), {"padding": 2}),
    ("max_pool2d", (5,), (3,), {}),
    ("avg_pool2d", (2, 4, 2, 2), (3,), {}),
    ("avg_pool2d", (2, 4, 5, 5), (3,), {"padding": 2}),
    ("avg_pool1d", (2, 4, 5, 5), (3,), {}),
    ("avg_pool1d", (2, 4, 2), (3,), {}),
    ("adaptive_avg_pool2d", (2, 4, 5, 5), ((2, 2, 2),), {}),
    ("adaptive_avg_pool2d", (5, 5), (2,), {}),
    ("adaptive_max_pool2d", (5, 5), (2,), {}),
    ("adaptive_avg_pool1d", (2, 4, 5, 5), (3,), {}),
    ("adaptive_avg_pool1d", (2, 4, 5), ((3, 2),), {}),
    ("interpolate", (2, 4, 5), (), {"size": 3, "scale_factor": 2}),
    ("interpolate", (2, 4, 5), (), {"size": 3, "mode": "bilinear"}),
    ("interpolate", (2, 4, 5), (), {"size": 3, "align_corners": True}),
    ("interpolate", (2, 4, 5), (), {}),
    ("interpolate", (2, 4, 5), (), {"size": (3, 3)}),
    ("interpolate", (2, 4, 5), (), {"size": 3, "mode": "foo"}),
]


@pytest.mark.parametrize("fn,xs,args,kwargs", POOL_ERRORS)
def test_pool_errors_match_torch(torch, fn, xs, args, kwargs):
    with pytest.raises(Exception) as want:
        getattr(torch.nn.functional, fn)(torch.zeros(xs), *args, **kwargs)
    with pytest.raises(type(want.value)) as got:
        getattr(F, fn)(ember.zeros(xs), *args, **kwargs)
    assert str(got.value) == str(want.value)


# ---------------------------------------------------------------- modules

MODULES = [
    "Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, bias=False, padding_mode='reflect')",
    "Conv1d(4, 6, 3, padding='same')", "Conv2d(3, 8, 3, dilation=2)",
    "ConvTranspose2d(4, 6, 3, output_padding=1, stride=2)", "ConvTranspose1d(4, 6, 3)",
    "MaxPool1d(3)", "MaxPool2d(3, padding=1)", "MaxPool2d((2, 3), stride=1, ceil_mode=True)",
    "AvgPool1d(3)", "AvgPool2d(3)", "AvgPool2d(3, 2, 1, count_include_pad=False)",
    "AdaptiveAvgPool1d(3)", "AdaptiveAvgPool2d((3, None))", "AdaptiveMaxPool2d(2)",
    "AdaptiveMaxPool1d(2, return_indices=True)", "Upsample(scale_factor=2)",
    "Upsample(size=(3, 4), mode='bilinear')", "UpsamplingBilinear2d(scale_factor=2)",
    "UpsamplingNearest2d(size=3)",
]


@pytest.mark.parametrize("spec", MODULES)
def test_module_repr_matches_torch(torch, spec):
    assert repr(eval("nn." + spec)) == repr(eval("torch.nn." + spec))


@pytest.mark.parametrize("spec,shape", [
    ("Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2)", (2, 4, 7, 6)),
    ("Conv2d(4, 6, (3, 2), padding=(2, 1), padding_mode='reflect')", (2, 4, 7, 6)),
    ("Conv2d(4, 6, 3, padding='same', padding_mode='replicate', bias=False)", (4, 7, 6)),
    ("Conv1d(4, 6, 4, padding='same', padding_mode='circular', dilation=2)", (2, 4, 9)),
    ("Conv1d(4, 6, 3, stride=2, padding=1)", (2, 4, 9)),
    ("ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)", (2, 4, 5, 6)),
    ("ConvTranspose1d(4, 6, 3, stride=2, bias=False)", (2, 4, 5)),
])
def test_conv_modules_load_torch_state_and_match(torch, spec, shape):
    t_mod = eval("torch.nn." + spec).double()
    e_mod = eval("nn." + spec).double()
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    for (name, e), (_, t) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        assert e.shape == tuple(t.shape), name
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                           for k, v in t_mod.state_dict().items()})
    x = np.random.default_rng(5).standard_normal(shape)
    (ex, tx) = _pair(torch, x)
    e_out, t_out = e_mod(ex), t_mod(tx)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), atol=1e-10)
    e_out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    for (name, e), (_, t) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=1e-10, err_msg=name)


def test_conv_transpose_output_size_matches_torch(torch):
    t_mod = torch.nn.ConvTranspose2d(3, 2, 3, stride=2).double()
    e_mod = nn.ConvTranspose2d(3, 2, 3, stride=2).double()
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                           for k, v in t_mod.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((1, 3, 4, 5))
    e_out = e_mod(ember.tensor(x), output_size=[10, 12])
    t_out = t_mod(torch.tensor(x), output_size=[10, 12])
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), atol=1e-10)


def test_conv_init_bounds_are_torchs():
    m = nn.Conv2d(4, 6, (3, 2), groups=2)
    fan_in = 2 * 3 * 2
    assert float(m.weight.abs().max()) <= 1 / fan_in ** 0.5
    assert float(m.bias.abs().max()) <= 1 / fan_in ** 0.5
    assert float(m.weight.abs().max()) > 0.5 / fan_in ** 0.5


@pytest.mark.parametrize("spec", [
    "Conv2d(4, 6, 3, groups=4)", "Conv2d(4, 6, 3, groups=0)", "Conv2d(4, 6, 3, groups=3)",
    "Conv2d(4, 6, 3, stride=2, padding='same')", "Conv2d(4, 6, 3, padding='foo')",
    "ConvTranspose2d(4, 6, 3, padding_mode='reflect')",
])
def test_conv_module_errors_match_torch(torch, spec):
    with pytest.raises(Exception) as want:
        eval("torch.nn." + spec)
    with pytest.raises(type(want.value)) as got:
        eval("nn." + spec)
    assert str(got.value) == str(want.value)


def test_pool_modules_match_functional(torch):
    x = np.random.default_rng(7).standard_normal((2, 3, 7, 8))
    for spec in ["MaxPool2d(3, 2, 1)", "AvgPool2d(3, ceil_mode=True)", "AdaptiveAvgPool2d(3)",
                 "AdaptiveMaxPool2d((2, 5))", "Upsample(scale_factor=2, mode='bilinear')",
                 "UpsamplingBilinear2d(size=(4, 9))"]:
        e_out = eval("nn." + spec)(ember.tensor(x))
        t_out = eval("torch.nn." + spec)(torch.tensor(x))
        np.testing.assert_allclose(e_out.numpy(), t_out.numpy(), atol=1e-10, err_msg=spec)
