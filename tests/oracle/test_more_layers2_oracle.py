"""Unpooling, fractional and power-average pooling, local response norms, channel shuffle,
CTC loss, adaptive softmax and the deprecated aliases against torch: forward values and
dtypes, gradients, node names, module reprs and state, initialisation after the same seed,
and torch's errors (type and message). The lazy modules: ``test_lazy_modules_oracle.py``.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

torch = pytest.importorskip("torch")


def arr(shape, seed=0, low=-2.0, high=2.0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def both(lib, fn, arrays, grads, *, seed=5):
    """``fn(lib, *tensors)`` on fresh leaves (``grads[i]``: leaf ``i`` requires grad);
    backward a random upstream gradient of the first output; outputs and gradients."""
    ts = [lib.tensor(a, requires_grad=bool(g)) for a, g in zip(arrays, grads)]
    out = fn(lib, *ts)
    first = out[0] if isinstance(out, tuple) else out
    if first.requires_grad:
        up = np.random.default_rng(seed).uniform(0.5, 1.5, tuple(first.shape))
        first.backward(lib.tensor(up.astype(arrays[0].dtype)))
    return out, [t.grad for t in ts]


def check(fn, arrays, grads=None, *, node=True, **tol):
    """Outputs (each of a tuple), dtypes, node names and gradients agree with torch."""
    grads = [1] + [0] * (len(arrays) - 1) if grads is None else grads
    e_out, e_grads = both(ember, fn, arrays, grads)
    t_out, t_grads = both(torch, fn, arrays, grads)
    e_outs = e_out if isinstance(e_out, tuple) else (e_out,)
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    for e, t in zip(e_outs, t_outs):
        assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        assert_close(e.detach(), t.detach(), **tol)
        if node:
            assert name(e.grad_fn) == name(t.grad_fn)
    for i, (g_e, g_t) in enumerate(zip(e_grads, t_grads)):
        if grads[i]:
            assert_close(g_e, g_t, msg=f"gradient of argument {i}", **tol)
    return e_out, t_out


def name(node):
    return None if node is None else type(node).__name__


def same_error(fn):
    """``fn(lib)`` raises the same exception type and message with ember and torch."""
    caught = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            fn(lib)
        caught.append(info)
    e, t = caught
    assert type(e.value).__name__ == type(t.value).__name__, (e.value, t.value)
    msg = re.sub(r"\btorch\.", "ember.", str(t.value).split("\n")[0])
    assert str(e.value).split("\n")[0] == msg


def F(lib):
    return lib.nn.functional


def seed_both(seed):
    ember.manual_seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------- unpooling

@pytest.fixture
def one_thread():
    """torch's unpooling keeps the last write (and reports the last bad index) only when
    it runs on one thread; on several the winner varies from call to call."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


UNPOOL = [  # nd, input shape, kwargs of the pool and the unpool
    (1, (2, 3, 8), {"kernel_size": 2}),
    (1, (3, 9), {"kernel_size": 2, "stride": 3}),
    (2, (2, 3, 6, 4), {"kernel_size": 2}),
    (2, (3, 7, 6), {"kernel_size": (3, 2), "stride": (2, 2), "padding": 1}),
    (3, (2, 2, 4, 4, 6), {"kernel_size": 2}),
    (3, (2, 4, 4, 5), {"kernel_size": (2, 2, 3), "stride": 2, "padding": (1, 0, 1)}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd,shape,kw", UNPOOL)
def test_max_unpool_matches_torch(nd, shape, kw, dtype):
    def fn(lib, x, y):
        pool = getattr(F(lib), f"max_pool{nd}d")
        _, indices = pool(x, return_indices=True, **kw)
        return getattr(F(lib), f"max_unpool{nd}d")(y, indices, **kw)

    x = arr(shape, 1, dtype=dtype)
    pool = getattr(torch.nn.functional, f"max_pool{nd}d")
    y = arr(tuple(pool(torch.tensor(x), **kw).shape), 2, dtype=dtype)
    check(fn, [x, y], [0, 1])


@pytest.mark.parametrize("output_size", [(5, 5), [1, 2, 5, 4], (4, 5)])
def test_max_unpool_output_size_and_module(output_size):
    x, y = arr((1, 2, 5, 5), 3), arr((1, 2, 2, 2), 4)

    def fn(lib, x, y):
        _, indices = F(lib).max_pool2d(x, 2, return_indices=True)
        return lib.nn.MaxUnpool2d(2)(y, indices, output_size=output_size)

    check(fn, [x, y], [0, 1])


@pytest.mark.parametrize("nd,args,kw", [(1, (2,), {}), (2, (2, 1), {}), (3, ((2, 1, 2),),
                                                                        {"padding": 1}),
                                        (2, ((3, 2),), {"stride": [1, 2]})])
def test_max_unpool_module_reprs(nd, args, kw):
    e = getattr(ember.nn, f"MaxUnpool{nd}d")(*args, **kw)
    t = getattr(torch.nn, f"MaxUnpool{nd}d")(*args, **kw)
    assert repr(e) == repr(t)


def _pooled(lib, shape=(2, 3, 4, 4)):
    x = lib.tensor(arr(shape, 5, dtype=np.float32))
    nd = len(shape) - 2
    return getattr(F(lib), f"max_pool{nd}d")(x, 2, return_indices=True)


UNPOOL_ERRORS = [
    lambda lib, o, i: F(lib).max_unpool2d(o, i.float(), 2),
    lambda lib, o, i: F(lib).max_unpool2d(o, i[..., :1], 2),
    lambda lib, o, i: F(lib).max_unpool2d(o, i + 100, 2),
    lambda lib, o, i: F(lib).max_unpool2d(o, i - 100, 2),
    lambda lib, o, i: F(lib).max_unpool2d(o[0, 0], i[0, 0], 2),
    lambda lib, o, i: F(lib).max_unpool2d(o, i, 2, output_size=(6, 6)),
    lambda lib, o, i: F(lib).max_unpool2d(o, i, 2, output_size=(5,)),
    lambda lib, o, i: F(lib).max_unpool2d(o, i, 2, stride=0),
    lambda lib, o, i: F(lib).max_unpool2d(o.long(), i, 2),
    lambda lib, o, i: F(lib).max_unpool2d(o[:, :0], i[:, :0], 2),
    lambda lib, o, i: F(lib).max_unpool1d(o[0], i[0], 2),
    lambda lib, o, i: F(lib).max_unpool1d(o[0, 0], i[0, 0] + 50, 2),
    lambda lib, o, i: F(lib).max_unpool2d(o, i, 1, output_size=(-2, 1)),
]


@pytest.mark.parametrize("k", range(len(UNPOOL_ERRORS)))
def test_max_unpool_errors_match_torch(k, one_thread):
    same_error(lambda lib: UNPOOL_ERRORS[k](lib, *_pooled(lib)))


UNPOOL3D_ERRORS = [
    lambda lib, o, i: F(lib).max_unpool3d(o[0, 0], i[0, 0], 2),
    lambda lib, o, i: F(lib).max_unpool3d(o, i + 1000, 2),
    lambda lib, o, i: F(lib).max_unpool3d(o, i.int(), 2),
    lambda lib, o, i: F(lib).max_unpool3d(o, i[..., :1], 2),
    lambda lib, o, i: F(lib).max_unpool3d(o, i, 2, stride=0),
    lambda lib, o, i: F(lib).max_unpool3d(o[:, :0], i[:, :0], 2),
    lambda lib, o, i: F(lib).max_unpool3d(o.long(), i, 2),
]


@pytest.mark.parametrize("k", range(len(UNPOOL3D_ERRORS)))
def test_max_unpool3d_errors_match_torch(k, one_thread):
    same_error(lambda lib: UNPOOL3D_ERRORS[k](lib, *_pooled(lib, (2, 3, 4, 4, 4))))


def test_max_unpool_of_empty_batch_and_repeated_indices(one_thread):
    for lib in (ember, torch):
        out = F(lib).max_unpool2d(lib.zeros(0, 3, 2, 2), lib.zeros(0, 3, 2, 2, dtype=lib.long), 2)
        assert tuple(out.shape) == (0, 3, 4, 4)
    e = F(ember).max_unpool1d(ember.tensor([[[1.0, 2.0]]]), ember.tensor([[[0, 0]]]), 2)
    t = F(torch).max_unpool1d(torch.tensor([[[1.0, 2.0]]]), torch.tensor([[[0, 0]]]), 2)
    assert e.tolist() == t.tolist()


@pytest.mark.parametrize("fname,shape,args", [
    ("max_pool1d_with_indices", (2, 3, 7), (3, 2, 1)),
    ("max_pool2d_with_indices", (2, 3, 5, 6), (2,)),
    ("max_pool3d_with_indices", (1, 2, 4, 4, 5), (2, 1)),
    ("adaptive_max_pool1d_with_indices", (2, 3, 7), (3,)),
    ("adaptive_max_pool2d_with_indices", (3, 5, 6), ((2, 4),)),
    ("adaptive_max_pool3d_with_indices", (1, 2, 4, 4, 5), (2,)),
])
def test_with_indices_functions_match_torch(fname, shape, args):
    out, _ = check(lambda lib, x: getattr(F(lib), fname)(x, *args), [arr(shape, 6)])
    assert isinstance(out, tuple) and len(out) == 2 and out[1].dtype == ember.int64


# ---------------------------------------------------------------- fractional max pooling

FRACTIONAL = [
    (2, (2, 3, 7, 6), 2, {"output_size": 3}),
    (2, (2, 3, 9, 8), (3, 2), {"output_size": (4, 5)}),
    (2, (3, 9, 8), 2, {"output_ratio": (0.5, 0.7)}),
    (3, (2, 2, 7, 6, 5), 2, {"output_size": 3}),
    (3, (2, 6, 8, 7), (3, 2, 2), {"output_ratio": 0.5}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd,shape,k,kw", FRACTIONAL)
def test_fractional_max_pool_matches_torch(nd, shape, k, kw, dtype):
    n = shape[0] if len(shape) == nd + 2 else 1
    samples = arr((n, shape[-nd - 1], nd), 7, 0.0, 1.0, dtype)

    def fn(lib, x, s):
        return getattr(F(lib), f"fractional_max_pool{nd}d")(
            x, k, return_indices=True, _random_samples=s, **kw)

    check(fn, [arr(shape, 8, dtype=dtype), samples], [1, 0])


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_draws_torchs_samples(nd):
    shape = (2, 3, 8, 7, 6)[:nd + 2]
    x = arr(shape, 9, dtype=np.float32)
    seed_both(3)
    e = getattr(ember.nn, f"FractionalMaxPool{nd}d")(2, output_size=3)(ember.tensor(x))
    t = getattr(torch.nn, f"FractionalMaxPool{nd}d")(2, output_size=3)(torch.tensor(x))
    assert np.array_equal(e.numpy(), t.numpy())
    assert np.array_equal(ember.rand(3).numpy(), torch.rand(3).numpy())  # same stream after


def test_fractional_max_pool_module_state():
    s = arr((1, 2, 2), 10, 0.0, 1.0, np.float32)
    e = ember.nn.FractionalMaxPool2d(2, output_ratio=0.5, return_indices=True,
                                     _random_samples=ember.tensor(s))
    t = torch.nn.FractionalMaxPool2d(2, output_ratio=0.5, return_indices=True,
                                     _random_samples=torch.tensor(s))
    assert repr(e) == repr(t) == "FractionalMaxPool2d()"
    assert list(e.state_dict()) == list(t.state_dict()) == ["_random_samples"]
    assert (e.kernel_size, e.output_size, e.output_ratio) == (t.kernel_size, t.output_size,
                                                              t.output_ratio)
    x = arr((1, 2, 6, 6), 11, dtype=np.float32)
    for a, b in zip(e(ember.tensor(x)), t(torch.tensor(x))):
        assert np.array_equal(a.numpy(), b.numpy())
    assert list(ember.nn.FractionalMaxPool3d(2, output_size=2).state_dict()) == []


def _frac(lib, nd, *args, **kw):
    shape = (2, 3, 7, 6, 5)[:nd + 2]
    x = lib.tensor(arr(shape, 12, dtype=np.float32))
    s = kw.pop("s", None)
    s = lib.tensor(arr((2, 3, nd), 13, 0, 1, np.float32)) if s is None else s(lib)
    return getattr(F(lib), f"fractional_max_pool{nd}d")(x, *args, _random_samples=s, **kw)


FRACTIONAL_ERRORS = [
    lambda lib: _frac(lib, 2, 2),
    lambda lib: _frac(lib, 2, 2, output_size=6),
    lambda lib: _frac(lib, 2, 2, output_size=(7, 3)),
    lambda lib: _frac(lib, 2, 2, output_size=3, s=lambda lib: lib.rand(1, 3, 2)),
    lambda lib: _frac(lib, 2, 2, output_size=3, s=lambda lib: lib.rand(2, 3, 1)),
    lambda lib: _frac(lib, 2, 2, output_size=3, s=lambda lib: lib.rand(2, 3, 2).double()),
    lambda lib: _frac(lib, 2, (2, 2, 2), output_size=3),
    lambda lib: _frac(lib, 2, 2, output_size=(3, 3, 3)),
    lambda lib: _frac(lib, 2, 2, output_ratio=(0.5, 0.5, 0.5)),
    lambda lib: _frac(lib, 2, 2, output_ratio=0.5),
    lambda lib: F(lib).fractional_max_pool2d(lib.zeros(7, 6), 2, 3,
                                             _random_samples=lib.rand(1, 1, 2)),
    lambda lib: _frac(lib, 3, 2, output_size=5),
    lambda lib: _frac(lib, 3, 2, output_size=(3, 3)),
    lambda lib: _frac(lib, 3, 2, output_size=3, s=lambda lib: lib.rand(2, 3, 2)),
    lambda lib: _frac(lib, 3, 2),
    lambda lib: lib.nn.FractionalMaxPool2d(2),
    lambda lib: lib.nn.FractionalMaxPool2d(2, 3, 0.5),
    lambda lib: lib.nn.FractionalMaxPool2d(2, output_ratio=1.5),
    lambda lib: lib.nn.FractionalMaxPool3d(0, output_ratio=0.5),
]


@pytest.mark.parametrize("k", range(len(FRACTIONAL_ERRORS)))
def test_fractional_max_pool_errors_match_torch(k):
    same_error(FRACTIONAL_ERRORS[k])


# ---------------------------------------------------------------- LP pooling

LP = [
    ("lp_pool1d", (2, 3, 8), (2, 3), {}),
    ("lp_pool1d", (3, 9), (1.5, 3, 2), {"ceil_mode": True}),
    ("lp_pool2d", (2, 3, 6, 5), (2, 2), {}),
    ("lp_pool2d", (3, 7, 6), (3, (3, 2), (2, 1)), {}),
    ("lp_pool2d", (2, 2, 5, 5), (float("inf"), 2), {}),
    ("lp_pool3d", (1, 2, 4, 5, 4), (2, 2), {"stride": 1}),
    ("lp_pool3d", (2, 5, 4, 5), (1.0, (2, 1, 2)), {"ceil_mode": True}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fname,shape,args,kw", LP)
def test_lp_pool_matches_torch(fname, shape, args, kw, dtype):
    x = arr(shape, 14, 0.2, 2.0, dtype)
    check(lambda lib, t: getattr(F(lib), fname)(t, *args, **kw), [x], rtol=2e-5, atol=2e-5)


def test_lp_pool_modules_match_torch():
    x = arr((2, 3, 6, 6, 6), 15, 0.2, 2.0)
    for nd, args in [(1, (2, 3)), (2, (1.5, 2, 1, True)), (3, (2, (2, 3, 2)))]:
        shape = x.shape[:2 + nd]
        e = getattr(ember.nn, f"LPPool{nd}d")(*args)
        t = getattr(torch.nn, f"LPPool{nd}d")(*args)
        assert repr(e) == repr(t)
        check(lambda lib, v, m=(e, t): (m[0] if lib is ember else m[1])(v),
              [x.reshape(-1)[:int(np.prod(shape))].reshape(shape)])


# ---------------------------------------------------------------- LRN, channel shuffle

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,args", [((2, 5, 4), (3,)), ((2, 6, 3, 3), (2, 0.5, 0.8, 1.5)),
                                        ((1, 4, 2, 3, 2), (5, 1e-2)), ((3, 2, 4), (4, 0.3, 1.2))])
def test_local_response_norm_matches_torch(shape, args, dtype):
    check(lambda lib, t: F(lib).local_response_norm(t, *args), [arr(shape, 16, dtype=dtype)])
    check(lambda lib, t: lib.nn.LocalResponseNorm(*args)(t), [arr(shape, 17, dtype=dtype)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size,c", [(3, 6), (5, 7), (2, 5), (4, 3), (5, 2)])
def test_cross_map_lrn2d_matches_torch_quirks_included(size, c, dtype):
    x = arr((2, c, 3, 2), 18, dtype=dtype)
    args = (size, 0.5, 0.75, 1.5)
    check(lambda lib, t: lib.nn.CrossMapLRN2d(*args)(t), [x], rtol=1e-5, atol=1e-6)


def test_norm_reprs_and_errors_match_torch():
    for cls, args in [("LocalResponseNorm", (3,)), ("CrossMapLRN2d", (3,)),
                      ("LocalResponseNorm", (2, 0.1, 0.5, 2)), ("ChannelShuffle", (2,))]:
        assert repr(getattr(ember.nn, cls)(*args)) == repr(getattr(torch.nn, cls)(*args))
    same_error(lambda lib: F(lib).local_response_norm(lib.zeros(2, 3), 3))
    same_error(lambda lib: lib.nn.CrossMapLRN2d(3)(lib.zeros(2, 3, 4)))
    for lib in (ember, torch):
        assert F(lib).local_response_norm(lib.zeros(0, 3, 2), 3).shape == (0, 3, 2)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((2, 4, 3, 2), 2), ((1, 6, 2, 1, 2), 6),
                                          ((3, 4, 0, 2), 2)])
def test_channel_shuffle_matches_torch(shape, groups):
    check(lambda lib, t: F(lib).channel_shuffle(t, groups), [arr(shape, 19)])
    check(lambda lib, t: lib.nn.ChannelShuffle(groups)(t), [arr(shape, 20)])


@pytest.mark.parametrize("shape,groups", [((2, 4, 6, 6), 3), ((2, 4, 6, 6), 0),
                                          ((2, 4, 6, 6), -2), ((6, 6), 2), ((6,), 2)])
def test_channel_shuffle_errors_match_torch(shape, groups):
    same_error(lambda lib: F(lib).channel_shuffle(lib.zeros(shape), groups))


def test_channel_shuffle_of_integers_matches_torch():
    e = F(ember).channel_shuffle(ember.arange(24).reshape(2, 4, 3), 2)
    t = F(torch).channel_shuffle(torch.arange(24).reshape(2, 4, 3), 2)
    assert e.tolist() == t.tolist() and e.dtype == ember.int64


# ---------------------------------------------------------------- CTC loss

T, N, C = 7, 3, 5
TARGETS = np.array([[1, 1, 3], [2, 4, 0], [3, 0, 0]])
IL, TL = np.array([7, 5, 4]), np.array([3, 2, 1])


def _ctc(lib, x, targets=TARGETS, il=IL, tl=TL, softmax=True, **kw):
    lp = x.log_softmax(-1) if softmax else x
    return F(lib).ctc_loss(lp, lib.tensor(targets), lib.tensor(il), lib.tensor(tl), **kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("softmax", [True, False])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_matches_torch(reduction, zero_infinity, softmax, dtype):
    x = arr((T, N, C), 21, dtype=dtype)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {}
    check(lambda lib, t: _ctc(lib, t, softmax=softmax, reduction=reduction,
                              zero_infinity=zero_infinity), [x], **tol)


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("il,tl", [([1, 5, 0], [3, 2, 0]), ([0, 0, 7], [0, 1, 0]),
                                   ([7, 7, 7], [0, 0, 0])])
def test_ctc_loss_infinite_and_empty_cases_match_torch(il, tl, reduction, zero_infinity):
    check(lambda lib, t: _ctc(lib, t, il=np.array(il), tl=np.array(tl), reduction=reduction,
                              zero_infinity=zero_infinity), [arr((T, N, C), 22)])


def test_ctc_loss_target_layouts_blank_and_lengths_match_torch():
    x = arr((T, N, C), 23)
    flat = np.array([1, 1, 3, 2, 4, 3])
    check(lambda lib, t: _ctc(lib, t, targets=flat, reduction="none"), [x])
    check(lambda lib, t: _ctc(lib, t, targets=flat.astype(np.float32)), [x])
    blank4 = np.where(TARGETS == 4, 0, TARGETS)
    check(lambda lib, t: _ctc(lib, t, targets=blank4, blank=4), [x])
    check(lambda lib, t: F(lib).ctc_loss(t.log_softmax(-1), lib.tensor(TARGETS), [7, 5, 4],
                                         (3, 2, 1)), [x])
    check(lambda lib, t: F(lib).ctc_loss(t.log_softmax(-1), lib.tensor(TARGETS).int(),
                                         lib.tensor(IL).int(), lib.tensor(TL).int()), [x])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_loss_unbatched_and_module_match_torch(reduction):
    x = arr((T, C), 24)
    check(lambda lib, t: F(lib).ctc_loss(t.log_softmax(-1), lib.tensor([2, 2, 3]),
                                         lib.tensor(6), lib.tensor(3), reduction=reduction),
          [x])
    e, t = ember.nn.CTCLoss(blank=1, reduction=reduction, zero_infinity=True), \
        torch.nn.CTCLoss(blank=1, reduction=reduction, zero_infinity=True)
    assert repr(e) == repr(t) == "CTCLoss()"
    assert (e.blank, e.reduction, e.zero_infinity) == (t.blank, t.reduction, t.zero_infinity)
    targets = np.where(TARGETS == 1, 2, TARGETS)
    check(lambda lib, v: (e if lib is ember else t)(v.log_softmax(2), lib.tensor(targets),
                                                    lib.tensor(IL), lib.tensor(TL)),
          [arr((T, N, C), 25)])


CTC_ERRORS = [
    {"blank": 5}, {"blank": -1}, {"il": IL + 1}, {"tl": TL + 1}, {"il": IL[:2]}, {"tl": TL[:2]},
    {"targets": TARGETS[:2]}, {"targets": TARGETS.ravel()}, {"targets": TARGETS.ravel()[:4]},
    {"il": IL.astype(np.float32)}, {"tl": TL.astype(np.float64)}, {"reduction": "bad"},
    {"il": np.array([-1, 5, 4])}, {"tl": np.array([-1, 2, 1])}, {"softmax": False, "x": "long"},
    {"x": "2d"},
]


@pytest.mark.parametrize("k", range(len(CTC_ERRORS)))
def test_ctc_loss_errors_match_torch(k):
    kw = dict(CTC_ERRORS[k])
    which = kw.pop("x", None)

    def fn(lib):
        x = lib.tensor(arr((T, N, C), 26))
        if which == "long":
            x = x.long()
        elif which == "2d":
            x = x[0]
        return _ctc(lib, x, **kw)

    same_error(fn)


# ---------------------------------------------------------------- adaptive softmax

def _asm(lib, **kw):
    seed_both(0)
    m = lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 7, 10], div_value=2.0, **kw)
    return m.double()


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_matches_torch(head_bias):
    e, t = _asm(ember, head_bias=head_bias), _asm(torch, head_bias=head_bias)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for (k, a), (_, b) in zip(e.state_dict().items(), t.state_dict().items()):
        assert_close(a, b, msg=k)
    x = arr((6, 8), 29)
    target = np.array([0, 4, 11, 2, 8, 7])

    def fn(lib, v):
        m = e if lib is ember else t
        out = m(v, lib.tensor(target))
        return out.output, out.loss

    check(fn, [x])
    out = e(ember.tensor(x), ember.tensor(target))
    assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
    check(lambda lib, v: (e if lib is ember else t).log_prob(v), [x])
    for rows in (x, x[:1], arr((4, 8), 30, -5, 5)):
        assert e.predict(ember.tensor(rows)).tolist() == t.predict(torch.tensor(rows)).tolist()
    check(lambda lib, v: (e if lib is ember else t)(v, lib.tensor(5)).output, [arr(8, 31)])
    check(lambda lib, v: (e if lib is ember else t)(v, lib.tensor([9])).loss, [arr((1, 8), 32)])
    for (_, a), (_, b) in zip(e.named_parameters(), t.named_parameters()):
        assert (a.grad is None) == (b.grad is None)


ASM_ERRORS = [
    lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, []),
    lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3]),
    lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [0, 3]),
    lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 10]),
    lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 3]),
    lambda lib: _asm(lib)(lib.zeros(3, 8, dtype=lib.float64), lib.tensor([0, 1])),
    lambda lib: _asm(lib)(lib.zeros(3, 8, dtype=lib.float64), lib.tensor([[0, 1, 2]])),
    lambda lib: _asm(lib)(lib.zeros(3, 8, dtype=lib.float64), lib.tensor(1)),
    lambda lib: _asm(lib)(lib.zeros(2, 8, dtype=lib.float64), lib.tensor([0, 12])),
]


@pytest.mark.parametrize("k", range(len(ASM_ERRORS)))
def test_adaptive_log_softmax_errors_match_torch(k):
    same_error(ASM_ERRORS[k])


# ---------------------------------------------------------------- deprecated aliases

def test_nll_loss2d_and_container_match_torch():
    x, target = arr((2, 3, 4, 4), 33), np.random.default_rng(34).integers(0, 3, (2, 4, 4))
    for lib in (ember, torch):
        with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
            lib.nn.NLLLoss2d()
        with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
            c = lib.nn.Container(a=lib.nn.ReLU(), b=lib.nn.Linear(2, 3))
        assert [n for n, _ in c.named_children()] == ["a", "b"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert repr(ember.nn.NLLLoss2d(ignore_index=1)) == repr(torch.nn.NLLLoss2d()) \
            == "NLLLoss2d()"
        assert isinstance(ember.nn.NLLLoss2d(), ember.nn.NLLLoss)
        # NOTE: ember names the 4-D nll node NllLossBackward0 (torch: NllLoss2DBackward0)
        check(lambda lib, v: lib.nn.NLLLoss2d(reduction="sum")(v.log_softmax(1),
                                                               lib.tensor(target)), [x],
              node=False)
