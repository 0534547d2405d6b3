"""3-D convolution and pooling against torch: forward values, float64 gradients of input,
weight and bias, node names, modules (init from the same seed, reprs, state dicts) and error
types and messages. Shapes are non-cubic so that a swapped axis shows."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F
from tests.oracle.test_conv_pool_oracle import _pair as _pair_with
from tests.oracle.test_conv_pool_oracle import check as _check_with

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """torch's float64 3-D kernels on tiny inputs are slower with threads than without (and
    far slower on a busy machine); the numbers are the same."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _pair(x, requires_grad=True):
    return _pair_with(torch, x, requires_grad)


def check(fn, shapes, *args, **kwargs):
    """The 2-D file's check (outputs, indices, node name, gradients vs torch), on 3-D ops."""
    return _check_with(torch, fn, shapes, *args, **kwargs)


# ---------------------------------------------------------------- convolutions

CONV_GRID = list(itertools.product([1, 2], [0, 1], [1, 2], [1, 2]))


@pytest.mark.parametrize("stride,padding,dilation,groups", CONV_GRID)
def test_conv3d_matches_torch(stride, padding, dilation, groups):
    check("conv3d", [(2, 4, 6, 5, 7), (4, 4 // groups, 3, 2, 2), (4,)],
          stride=(stride, 1, 2), padding=(padding, 1, 0), dilation=(dilation, 1, dilation),
          groups=groups)


@pytest.mark.parametrize("stride,padding,dilation,groups", CONV_GRID)
def test_conv_transpose3d_matches_torch(stride, padding, dilation, groups):
    check("conv_transpose3d", [(2, 4, 3, 4, 2), (4, 6 // groups, 2, 3, 2), (6,)],
          stride=(stride, 2, 1), padding=(padding, 0, padding),
          output_padding=(stride - 1, 1, 0), groups=groups, dilation=(1, dilation, dilation))


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note about a copy
@pytest.mark.parametrize("padding,dilation", [("same", 1), ("same", 2), ("valid", 1)])
def test_conv3d_string_padding_matches_torch(padding, dilation):
    check("conv3d", [(2, 3, 6, 5, 4), (4, 3, 4, 3, 2), (4,)], padding=padding,
          dilation=dilation)


@pytest.mark.parametrize("fn,shapes,kwargs", [
    ("conv3d", [(4, 5, 6, 3), (6, 2, 3, 2, 2), (6,)], {"groups": 2}),
    ("conv3d", [(3, 5, 6, 4), (2, 3, 2, 3, 3), None], {"stride": 2, "padding": 1}),
    ("conv_transpose3d", [(4, 3, 4, 2), (4, 3, 2, 2, 3), (3,)], {"stride": 2}),
])
def test_conv3d_unbatched_matches_torch(fn, shapes, kwargs):
    check(fn, shapes, **kwargs)


def test_conv3d_float32_keeps_dtype():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 6, 5)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3, 2)).astype(np.float32)
    out = F.conv3d(ember.tensor(x), ember.tensor(w), stride=2, padding=1)
    want = torch.nn.functional.conv3d(torch.tensor(x), torch.tensor(w), stride=2, padding=1)
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
    out = F.conv_transpose3d(ember.tensor(x), ember.tensor(w.transpose(1, 0, 2, 3, 4)),
                             stride=2)
    want = torch.nn.functional.conv_transpose3d(
        torch.tensor(x), torch.tensor(w.transpose(1, 0, 2, 3, 4)), stride=2)
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


CONV_ERRORS = [
    ("conv3d", (2, 3, 5, 5, 5), (4, 2, 3, 3, 3), None, {}),
    ("conv3d", (2, 4, 5, 5), (4, 4, 3, 3, 3), None, {}),
    ("conv3d", (2, 4, 5, 5, 5, 5), (4, 4, 3, 3, 3), None, {}),
    ("conv3d", (2, 4, 5, 5, 5), (4, 4, 3, 3), None, {}),
    ("conv3d", (2, 4, 2, 5, 5), (4, 4, 3, 3, 3), None, {}),
    ("conv3d", (2, 4, 5, 5, 5), (4, 4, 3, 3, 3), None, {"stride": (1, 2)}),
    ("conv3d", (2, 4, 5, 5, 5), (4, 4, 3, 3, 3), None, {"padding": (1, 1)}),
    ("conv3d", (2, 4, 5, 5, 5), (4, 4, 3, 3, 3), None, {"dilation": (1, 1)}),
    ("conv3d", (2, 4, 5, 5, 5), (4, 4, 3, 3, 3), None, {"stride": (1, 2, 1), "padding": "same"}),
    ("conv3d", (2, 4, 5, 5, 5), (4, 4, 3, 3, 3), None, {"padding": "foo"}),
    ("conv3d", (2, 4, 5, 5, 5), (4, 4, 3, 3, 3), None, {"stride": 0}),
    ("conv3d", (2, 4, 5, 5, 5), (4, 4, 3, 3, 3), None, {"padding": -1}),
    ("conv3d", (2, 4, 5, 5, 5), (4, 4, 3, 3, 3), None, {"groups": 0}),
    ("conv3d", (2, 4, 5, 5, 5), (4, 4, 3, 3, 3), (3,), {}),
    ("conv3d", (2, 4, 5, 6, 7), (6, 1, 3, 3, 3), None, {"groups": 4}),
    ("conv_transpose3d", (2, 3, 5, 5, 5), (4, 2, 3, 3, 3), None, {}),
    ("conv_transpose3d", (2, 4, 5, 5, 5), (4, 2, 3, 3, 3), None,
     {"stride": (2, 2, 1), "output_padding": 1}),
    ("conv_transpose3d", (2, 4, 5, 5, 5), (4, 2, 3, 3, 3), None, {"output_padding": (1, 1)}),
    ("conv_transpose3d", (2, 4, 5, 6, 7, 1), (4, 2, 3, 3, 3), None, {}),
    ("conv_transpose3d", (2, 4, 5, 6), (4, 2, 3, 3, 3), None, {}),
]


@pytest.mark.parametrize("fn,xs,ws,bs,kwargs", CONV_ERRORS)
def test_conv3d_errors_match_torch(fn, xs, ws, bs, kwargs):
    args = [np.zeros(xs), np.zeros(ws)] + ([np.zeros(bs)] if bs else [])
    with pytest.raises(Exception) as want:
        getattr(torch.nn.functional, fn)(*[torch.tensor(a) for a in args], **kwargs)
    with pytest.raises(type(want.value)) as got:
        getattr(F, fn)(*[ember.tensor(a) for a in args], **kwargs)
    assert str(got.value) == str(want.value)


# ---------------------------------------------------------------- pooling

POOL_GRID = list(itertools.product([2, 3], [None, 2], [0, 1], [1, 2], [False, True]))


@pytest.mark.parametrize("k,stride,padding,dilation,ceil_mode", POOL_GRID)
def test_max_pool3d_matches_torch(k, stride, padding, dilation, ceil_mode):
    check("max_pool3d", [(2, 3, 7, 6, 8)], (k, 2, 3), stride=stride,
          padding=(padding, 1, 0), dilation=(dilation, 1, dilation), ceil_mode=ceil_mode,
          return_indices=True)
    check("max_pool3d", [(3, 6, 7, 5)], k, stride, padding, dilation, ceil_mode)


@pytest.mark.parametrize("k,stride,padding,ceil_mode", [
    (k, s, p, c) for k, s, p, _, c in POOL_GRID[::2]])
@pytest.mark.parametrize("count_include_pad", [False, True])
def test_avg_pool3d_matches_torch(k, stride, padding, ceil_mode, count_include_pad):
    opts = dict(stride=stride, ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    check("avg_pool3d", [(2, 3, 7, 6, 8)], (k, 3, 2), padding=(padding, 1, 0), **opts)
    check("avg_pool3d", [(3, 6, 7, 5)], k, padding=padding, divisor_override=3, **opts)


def test_max_pool3d_ties_go_to_first_index():
    x = np.random.default_rng(3).integers(0, 3, (2, 3, 5, 6, 7)).astype(np.float64)
    check("max_pool3d", [None], 3, x=x, stride=1, padding=1, return_indices=True)
    check("max_pool3d", [None], 2, x=x[0], stride=1, dilation=2, return_indices=True)
    check("adaptive_max_pool3d", [None], (3, 4, 3), x=x, return_indices=True)


def test_max_pool3d_nan_propagates_as_torch():
    x = np.random.default_rng(4).standard_normal((1, 2, 4, 4, 4))
    x[0, 0, 1, 2, 3] = x[0, 1, 0, 0, 0] = x[0, 1, 1, 1, 1] = np.nan
    e_out, e_idx = F.max_pool3d(ember.tensor(x), 2, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool3d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())


def test_max_pool3d_all_minus_inf_windows_index_first_inside():
    x = np.full((1, 1, 3, 3, 3), -np.inf)
    for fn, args, kwargs in [("max_pool3d", (2,), {"padding": 1}),
                             ("adaptive_max_pool3d", ((2, 3, 2),), {})]:
        e_out, e_idx = getattr(F, fn)(ember.tensor(x), *args, return_indices=True, **kwargs)
        t_out, t_idx = getattr(torch.nn.functional, fn)(torch.tensor(x), *args,
                                                        return_indices=True, **kwargs)
        np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())
        np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())


def test_pool3d_float32_keeps_dtype():
    x = np.random.default_rng(9).standard_normal((2, 3, 7, 6, 8)).astype(np.float32)
    for fn, args in [("max_pool3d", (3, 2, 1)), ("avg_pool3d", (3, 1, 1)),
                     ("adaptive_avg_pool3d", ((3, 4, 5),)), ("adaptive_max_pool3d", (2,))]:
        out = getattr(F, fn)(ember.tensor(x), *args)
        want = getattr(torch.nn.functional, fn)(torch.tensor(x), *args)
        assert out.dtype == ember.float32, fn
        np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=fn)


@pytest.mark.parametrize("out", [1, 2, 3, 5, 9, (1, 1, 1), (None, 2, 1), (4, None, None)])
def test_adaptive_pools3d_match_torch(out):
    check("adaptive_avg_pool3d", [(2, 3, 7, 6, 8)], out)
    check("adaptive_avg_pool3d", [(3, 5, 7, 6)], out)
    check("adaptive_max_pool3d", [(2, 3, 7, 6, 8)], out, return_indices=True)
    check("adaptive_max_pool3d", [(3, 5, 7, 6)], out, return_indices=True)


def test_pool3d_empty_batch_and_zero_output_match_torch():
    x = np.zeros((0, 3, 5, 6, 7))
    for fn, args in [("max_pool3d", (2,)), ("avg_pool3d", (2,)), ("adaptive_avg_pool3d", (2,)),
                     ("adaptive_max_pool3d", (2,))]:
        e_out = getattr(F, fn)(ember.tensor(x), *args)
        assert e_out.shape == tuple(getattr(torch.nn.functional, fn)(torch.tensor(x),
                                                                     *args).shape)
    x = np.ones((2, 3, 5, 6, 7))
    for fn in ("adaptive_avg_pool3d", "adaptive_max_pool3d"):
        e_out = getattr(F, fn)(ember.tensor(x), (2, 0, 3))
        assert e_out.shape == tuple(getattr(torch.nn.functional, fn)(torch.tensor(x),
                                                                     (2, 0, 3)).shape)


@pytest.mark.parametrize("kwargs", [
    {"size": (3, 8, 5)}, {"scale_factor": 2}, {"scale_factor": (0.5, 1.5, 2)},
    {"size": (3, 8, 5), "mode": "nearest-exact"}, {"size": (4, 3, 9), "mode": "area"},
    {"size": (3, 8, 5), "mode": "trilinear"}, {"scale_factor": 1.7, "mode": "trilinear"},
    {"size": (3, 8, 5), "mode": "trilinear", "align_corners": True},
])
def test_interpolate_5d_matches_torch(kwargs):
    check("interpolate", [(2, 3, 5, 4, 6)], **kwargs)


POOL_ERRORS = [
    ("max_pool3d", (5, 6, 7), (2,), {}),
    ("max_pool3d", (2, 3, 5, 6, 7, 1), (2,), {}),
    ("max_pool3d", (2, 3, 5, 6, 7), ((2, 2),), {}),
    ("max_pool3d", (2, 3, 5, 6, 7), (2,), {"stride": (2, 2)}),
    ("max_pool3d", (2, 3, 5, 6, 7), (2,), {"padding": (1, 1)}),
    ("max_pool3d", (2, 3, 5, 6, 7), (2,), {"dilation": (1, 1)}),
    ("max_pool3d", (2, 3, 5, 6, 7), (2,), {"padding": 2}),
    ("max_pool3d", (2, 3, 5, 6, 7), (2,), {"padding": -1}),
    ("max_pool3d", (2, 3, 5, 6, 7), (2,), {"stride": 0}),
    ("max_pool3d", (2, 3, 5, 6, 7), (2,), {"stride": -1}),
    ("max_pool3d", (2, 3, 5, 6, 7), (0,), {}),
    ("max_pool3d", (2, 3, 5, 6, 7), (0,), {"stride": 1}),
    ("max_pool3d", (2, 3, 5, 6, 7), (2,), {"dilation": (1, 0, 1)}),
    ("max_pool3d", (2, 3, 5, 6, 7), ((3, 3, 3),), {"padding": (0, 0, 2), "dilation": 3}),
    ("max_pool3d", (2, 3, 5, 6, 7), (6,), {}),
    ("max_pool3d", (3, 5, 6, 7), ((6, 2, 2),), {"dilation": 2}),
    ("max_pool3d", (2, 0, 5, 6, 7), (2,), {}),
    ("max_pool3d", (3, 0, 6, 7), (2,), {}),
    ("avg_pool3d", (5, 6, 7), (2,), {}),
    ("avg_pool3d", (2, 3, 5, 6, 7), ((2, 2),), {}),
    ("avg_pool3d", (2, 3, 5, 6, 7), (2,), {"stride": (1, 2)}),
    ("avg_pool3d", (2, 3, 5, 6, 7), (2,), {"padding": (1, 1)}),
    ("avg_pool3d", (2, 3, 5, 6, 7), (2,), {"padding": 2}),
    ("avg_pool3d", (2, 3, 5, 6, 7), (2,), {"stride": 0}),
    ("avg_pool3d", (2, 3, 5, 6, 7), (0,), {"stride": 1}),
    ("avg_pool3d", (2, 3, 5, 6, 7), (2,), {"stride": -1}),
    ("avg_pool3d", (2, 3, 5, 6, 7), (6,), {}),
    ("avg_pool3d", (2, 3, 5, 6, 7), ((6, 2, 2),), {"padding": 1}),
    ("avg_pool3d", (2, 3, 5, 6, 7), (2,), {"divisor_override": 0}),
    ("avg_pool3d", (2, 0, 5, 6, 7), (2,), {}),
    ("adaptive_avg_pool3d", (2, 3, 5, 6, 7), ((2, 2),), {}),
    ("adaptive_avg_pool3d", (5, 6, 7), ((2, 2, 2),), {}),
    ("adaptive_avg_pool3d", (5, 6, 7), (2,), {}),
    ("adaptive_avg_pool3d", (2, 3, 5, 6, 7, 8), ((2, 2, 2),), {}),
    ("adaptive_avg_pool3d", (2, 0, 5, 6, 7), (2,), {}),
    ("adaptive_avg_pool3d", (2, 3, 5, 6, 7), ((2, -1, 2),), {}),
    ("adaptive_max_pool3d", (2, 3, 5, 6, 7), ((2, 2),), {}),
    ("adaptive_max_pool3d", (5, 6, 7), (2,), {}),
    ("adaptive_max_pool3d", (5, 6, 7), ((2, 2),), {}),
    ("adaptive_max_pool3d", (3, 0, 6, 7), (2,), {}),
    ("adaptive_max_pool3d", (3, 5, 6, 7), ((2, -1, 2),), {}),
    ("interpolate", (2, 3, 5, 6, 7), (), {"size": (3, 4, 5), "mode": "bilinear"}),
    ("interpolate", (2, 3, 5, 6), (), {"size": (3, 4), "mode": "trilinear"}),
    ("interpolate", (2, 3, 5, 6, 7), (), {"size": (3, 4)}),
]


@pytest.mark.parametrize("fn,xs,args,kwargs", POOL_ERRORS)
def test_pool3d_errors_match_torch(fn, xs, args, kwargs):
    with pytest.raises(Exception) as want:
        getattr(torch.nn.functional, fn)(torch.zeros(xs), *args, **kwargs)
    with pytest.raises(type(want.value)) as got:
        getattr(F, fn)(ember.zeros(xs), *args, **kwargs)
    assert str(got.value) == str(want.value)


# ---------------------------------------------------------------- modules

MODULES = [
    "Conv3d(4, 6, (3, 2, 1), stride=2, padding=1, groups=2, bias=False, padding_mode='reflect')",
    "Conv3d(4, 6, 3, padding='same')", "Conv3d(3, 8, 3, dilation=(2, 1, 1))",
    "ConvTranspose3d(4, 6, 3, output_padding=1, stride=2)", "ConvTranspose3d(4, 6, (1, 2, 3))",
    "MaxPool3d(3)", "MaxPool3d(3, padding=1)", "MaxPool3d((2, 3, 1), stride=1, ceil_mode=True)",
    "AvgPool3d(3)", "AvgPool3d(3, 2, 1, count_include_pad=False)",
    "AvgPool3d((1, 2, 3), divisor_override=2)", "AdaptiveAvgPool3d((3, None, 2))",
    "AdaptiveMaxPool3d(2)", "AdaptiveMaxPool3d((1, 2, 3), return_indices=True)",
    "Upsample(scale_factor=2, mode='trilinear')",
]


@pytest.mark.parametrize("spec", MODULES)
def test_module_repr_matches_torch(spec):
    assert repr(eval("nn." + spec)) == repr(eval("torch.nn." + spec))


@pytest.mark.parametrize("spec,shape", [
    ("Conv3d(4, 6, (3, 2, 2), stride=2, padding=1, groups=2)", (2, 4, 7, 6, 5)),
    ("Conv3d(4, 6, (3, 2, 1), padding=(2, 1, 0), padding_mode='reflect')", (2, 4, 5, 6, 4)),
    ("Conv3d(4, 6, 3, padding='same', padding_mode='replicate', bias=False)", (4, 5, 6, 4)),
    ("Conv3d(4, 6, (2, 3, 2), padding='same', padding_mode='circular', dilation=2)",
     (2, 4, 5, 6, 7)),
    ("ConvTranspose3d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)",
     (2, 4, 3, 4, 2)),
    ("ConvTranspose3d(4, 6, (2, 1, 3), stride=(1, 2, 1), bias=False)", (4, 3, 4, 2)),
])
def test_conv3d_modules_init_from_seed_and_match(spec, shape):
    torch.manual_seed(7)
    t_mod = eval("torch.nn." + spec).double()
    ember.manual_seed(7)
    e_mod = eval("nn." + spec).double()
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    for (name, e), (_, t) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6,
                                   err_msg=name)
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                           for k, v in t_mod.state_dict().items()})
    x = np.random.default_rng(5).standard_normal(shape)
    (ex, tx) = _pair(x)
    e_out, t_out = e_mod(ex), t_mod(tx)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), atol=1e-10)
    e_out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    for (name, e), (_, t) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=1e-10, err_msg=name)


def test_conv_transpose3d_output_size_matches_torch():
    torch.manual_seed(8)
    t_mod = torch.nn.ConvTranspose3d(3, 2, 3, stride=2).double()
    e_mod = nn.ConvTranspose3d(3, 2, 3, stride=2).double()
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                           for k, v in t_mod.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((1, 3, 4, 5, 3))
    e_out = e_mod(ember.tensor(x), output_size=[10, 12, 8])
    t_out = t_mod(torch.tensor(x), output_size=[10, 12, 8])
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), atol=1e-10)
    with pytest.raises(ValueError) as want:
        t_mod(torch.tensor(x), output_size=[12, 12, 8])
    with pytest.raises(ValueError) as got:
        e_mod(ember.tensor(x), output_size=[12, 12, 8])
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("spec", [
    "Conv3d(4, 6, 3, groups=4)", "Conv3d(4, 6, 3, groups=0)",
    "Conv3d(4, 6, 3, stride=2, padding='same')", "Conv3d(4, 6, 3, padding='foo')",
    "ConvTranspose3d(4, 6, 3, padding_mode='reflect')",
])
def test_conv3d_module_errors_match_torch(spec):
    with pytest.raises(Exception) as want:
        eval("torch.nn." + spec)
    with pytest.raises(type(want.value)) as got:
        eval("nn." + spec)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("spec", [
    "MaxPool3d(3, 2, 1)", "MaxPool3d((2, 3, 2), return_indices=True, dilation=(1, 1, 2))",
    "AvgPool3d(3, ceil_mode=True)",
    "AvgPool3d((2, 3, 1), count_include_pad=False, padding=(1, 1, 0))",
    "AdaptiveAvgPool3d(3)", "AdaptiveMaxPool3d((2, 5, None), return_indices=True)",
])
def test_pool3d_modules_match_torch(spec):
    x = np.random.default_rng(7).standard_normal((2, 3, 7, 8, 6))
    e_out = eval("nn." + spec)(ember.tensor(x))
    t_out = eval("torch.nn." + spec)(torch.tensor(x))
    if isinstance(t_out, tuple):
        np.testing.assert_array_equal(e_out[1].numpy(), t_out[1].numpy())
        e_out, t_out = e_out[0], t_out[0]
    np.testing.assert_allclose(e_out.numpy(), t_out.numpy(), atol=1e-10, err_msg=spec)


def test_conv3d_network_trains_like_torch():
    """A small volumetric net, same seed: the same init, losses and gradients for two SGD
    steps (float64)."""
    def build(lib):
        lib.manual_seed(3)
        m = lib.nn
        return m.Sequential(m.Conv3d(2, 4, 3, padding=1), m.ReLU(), m.MaxPool3d(2),
                            m.Conv3d(4, 4, (1, 3, 3), groups=2), m.AvgPool3d((1, 2, 1)),
                            m.ConvTranspose3d(4, 3, 2, stride=2), m.AdaptiveAvgPool3d(1),
                            m.Flatten()).double()

    e_net, t_net = build(ember), build(torch)
    x = np.random.default_rng(8).standard_normal((3, 2, 4, 8, 6))
    for _ in range(2):
        losses = []
        for lib, net in ((ember, e_net), (torch, t_net)):
            loss = (net(lib.tensor(x)) ** 2).mean()
            loss.backward()
            with lib.no_grad():  # plain SGD, by hand (torch.optim's first import is slow)
                for p in net.parameters():
                    p -= 0.1 * p.grad
                    p.grad = None
            losses.append(loss.item())
        np.testing.assert_allclose(losses[0], losses[1], rtol=1e-10)
    for (name, e), (_, t) in zip(e_net.named_parameters(), t_net.named_parameters()):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=1e-10,
                                   err_msg=name)


# ---------------------------------------------------------------- the shared N-d code, in 2-D

def test_shared_pooling_fixes_match_torch_in_2d():
    check("adaptive_avg_pool2d", [(2, 3, 5, 6)], 1)  # torch takes the mean: MeanBackward1
    check("max_pool2d", [(0, 3, 5, 6)], 2, return_indices=True)
    assert F.adaptive_max_pool2d(ember.zeros(2, 3, 5, 6), (2, 0)).shape == (2, 3, 2, 0)
    x = np.full((1, 1, 3, 3), -np.inf)
    e_idx = F.max_pool2d(ember.tensor(x), 2, padding=1, return_indices=True)[1]
    t_idx = torch.nn.functional.max_pool2d(torch.tensor(x), 2, padding=1, return_indices=True)[1]
    np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())
    for fn in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        with pytest.raises(ValueError, match="Input dimension should be at least 3"):
            getattr(F, fn)(ember.zeros(5, 6), (2, 2))


@pytest.mark.parametrize("shape,size", [((1, 3, 4, 5), [12, 12]), ((3, 4, 5), [3, 12, 12]),
                                        ((1, 3, 4, 5), [3, 12, 12])])
def test_conv_transpose2d_output_size_errors_match_torch(shape, size):
    torch.manual_seed(0)
    t_mod = torch.nn.ConvTranspose2d(3, 2, 3, stride=2)
    e_mod = nn.ConvTranspose2d(3, 2, 3, stride=2)
    with pytest.raises(ValueError) as want:
        t_mod(torch.zeros(shape), output_size=size)
    with pytest.raises(ValueError) as got:
        e_mod(ember.zeros(shape), output_size=size)
    assert str(got.value) == str(want.value)
