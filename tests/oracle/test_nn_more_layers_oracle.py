"""The added activations, dropouts, losses, distances and padding layers against torch:
forward values and dtypes, float64 gradients of every tensor argument (inputs and
parameters), every reduction, module reprs, and torch's errors and warnings.

Random layers (rrelu, the channel-wise and alpha dropouts) draw from ember's own generator,
so they are checked by their structure (channel masks, the alpha affine map, eval identity)
and by their gradient against the same mask, not draw for draw.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

REDUCTIONS = ["none", "mean", "sum"]


def arr(shape, seed=0, low=-2.0, high=2.0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def both(lib, fn, arrays, grads, kwargs=None, *, seed=5):
    """``fn(lib, *tensors, **kwargs)`` on fresh leaves (``grads[i]``: leaf ``i`` requires
    grad), backward a random upstream gradient; return the output and the gradients."""
    ts = [lib.tensor(a, requires_grad=bool(g)) for a, g in zip(arrays, grads)]
    out = fn(lib, *ts, **(kwargs or {}))
    if out.requires_grad:
        up = np.random.default_rng(seed).uniform(0.5, 1.5, tuple(out.shape))
        out.backward(lib.tensor(up.astype(arrays[0].dtype)))
    return out, [t.grad for t in ts]


def check(torch, fn, arrays, grads, kwargs=None, **tol):
    e_out, e_grads = both(ember, fn, arrays, grads, kwargs)
    t_out, t_grads = both(torch, fn, arrays, grads, kwargs)
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert str(e_out.dtype).split(".")[1] == str(t_out.dtype).split(".")[1]
    assert_close(e_out, t_out.detach(), **tol)
    for i, (g_e, g_t) in enumerate(zip(e_grads, t_grads)):
        if grads[i]:
            assert_close(g_e, g_t, msg=f"gradient of argument {i}", **tol)


def F(lib):
    return lib.nn.functional


# ---------------------------------------------------------------- activations

# domains keep away from each function's break points (0, +-3, +-lambd, the threshold)
def _away(shape, seed, kinks):
    x = arr(shape, seed, -4.0, 4.0)
    for k in kinks:
        x = np.where(np.abs(x - k) < 0.05, x + 0.1, x)
    return x


ACTIVATIONS = [
    ("selu", {}, (0,)), ("celu", {"alpha": 0.7}, (0,)), ("hardswish", {}, (-3, 3)),
    ("hardsigmoid", {}, (-3, 3)), ("softsign", {}, ()), ("tanhshrink", {}, ()),
    ("softshrink", {"lambd": 0.6}, (-0.6, 0.6)), ("hardshrink", {"lambd": 0.4}, (-0.4, 0.4)),
    ("threshold", {"threshold": 0.3, "value": -2.0}, (0.3,)),
    ("rrelu", {"lower": 0.1, "upper": 0.3}, (0,)), ("elu", {"alpha": 0.5}, (0,)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw,kinks", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_matches_torch(torch, name, kw, kinks, dtype):
    x = _away((3, 5), 1, kinks).astype(dtype)
    check(torch, lambda lib, t: getattr(F(lib), name)(t, **kw), [x], [1])


@pytest.mark.parametrize("name,kw", [("selu_", {}), ("celu_", {"alpha": 2.0}),
                                     ("elu_", {}), ("leaky_relu_", {"negative_slope": 0.2}),
                                     ("hardtanh_", {"min_val": -0.5}), ("rrelu_", {}),
                                     ("threshold_", {"threshold": 0.1, "value": 3.0})])
def test_inplace_variants_change_input_and_backprop(torch, name, kw):
    x = _away((4, 3), 2, (0, 0.1, -0.5, 1))

    def fn(lib, t):
        y = t * 1.0
        out = getattr(F(lib), name)(y, **kw)
        assert out is y
        return y

    check(torch, fn, [x], [1])


@pytest.mark.parametrize("name", ["selu", "celu", "hardswish", "hardsigmoid", "threshold"])
def test_inplace_flag_of_functional(torch, name):
    x = _away((2, 3), 3, (0, -3, 3, 0.5))
    kw = {"threshold": 0.5, "value": 0.0} if name == "threshold" else {}

    def fn(lib, t):
        y = t + 0.0
        assert getattr(F(lib), name)(y, inplace=True, **kw) is y
        return y

    check(torch, fn, [x], [1])


def test_activation_integer_inputs(torch):
    for lib in (ember, torch):
        i = lib.arange(-3, 3)
        for name, kernel in [("selu", "elu_cpu"), ("celu", "elu_cpu"),
                             ("hardswish", "hardswish_cpu"),
                             ("hardsigmoid", "hardsigmoid_cpu"),
                             ("softshrink", "softshrink_check"),
                             ("hardshrink", "hardshrink_cpu"), ("rrelu", "leaky_relu_cpu")]:
            with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented'):
                getattr(F(lib), name)(i)
    e = F(ember).threshold(ember.arange(-3, 3), 0.5, 2.5)
    t = F(torch).threshold(torch.arange(-3, 3), 0.5, 2.5)
    assert e.tolist() == t.tolist() and str(e.dtype) == "ember.int64"
    for name in ("softsign", "tanhshrink"):
        assert_close(getattr(F(ember), name)(ember.arange(-3, 3)),
                     getattr(F(torch), name)(torch.arange(-3, 3)))


@pytest.mark.parametrize("call,exc,msg", [
    (lambda F, x: F.softshrink(x, -1.0), RuntimeError, r"lambda must be in range \[0, "
     r"3.40282e\+38\] for input dtype Float, but found -1"),
    (lambda F, x: F.celu(x, 0.0), RuntimeError, "ZeroDivisionError: alpha cannot be 0"),
    (lambda F, x: F.rrelu(x, 0.5, 0.1), RuntimeError, "Lower bound should be less than"),
    (lambda F, x: F.dropout(x, 1.5), ValueError, "dropout probability has to be"),
    (lambda F, x: F.alpha_dropout(x, -0.1), ValueError, "dropout probability has to be"),
    (lambda F, x: F.dropout1d(x[None, None], 0.5), RuntimeError,
     "dropout1d: Expected 2D or 3D input, but received a 4D input"),
    (lambda F, x: F.feature_alpha_dropout(x[0], 0.5, True), RuntimeError,
     "Feature dropout requires at least 2 dimensions in the input"),
])
def test_activation_errors_match_torch(torch, call, exc, msg):
    for lib in (ember, torch):
        with pytest.raises(exc, match=msg):
            call(F(lib), lib.ones(2, 3))


# ---------------------------------------------------------------- prelu

@pytest.mark.parametrize("x_shape,w_shape", [((2, 3, 4), (3,)), ((2, 3), (1,)), ((5,), (1,)),
                                             ((2, 4, 2, 2), ()), ((), (1,)), ((3, 2), (2,))])
def test_prelu_matches_torch_with_weight_gradient(torch, x_shape, w_shape):
    x = _away(x_shape, 4, (0,))
    w = arr(w_shape, 5, 0.05, 0.5)
    check(torch, lambda lib, a, b: F(lib).prelu(a, b), [x, w], [1, 1])


@pytest.mark.parametrize("x_shape,w,msg", [
    ((2, 4), np.ones(3), "Mismatch of parameter numbers and input channel size. Found "
     "parameter numbers = 3 and channel size = 4."),
    ((4,), np.ones(4), "Found parameter numbers = 4 and channel size = 1"),
    ((2, 4), np.ones((1, 4)), "Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2"),
    ((2, 4), np.ones(1, np.float32), "prelu: Type promoting not supported. Got Double and Float"),
])
def test_prelu_errors_match_torch(torch, x_shape, w, msg):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match=msg):
            F(lib).prelu(lib.ones(*x_shape, dtype=lib.float64), lib.tensor(w))


def test_prelu_module_trains_its_weight(torch):
    x = _away((2, 3, 4), 6, (0,)).astype(np.float32)
    outs = []
    for lib in (ember, torch):
        m = lib.nn.PReLU(3, init=0.1)
        assert [n for n, _ in m.named_parameters()] == ["weight"]
        out = m(lib.tensor(x))
        out.sum().backward()
        outs.append((out, m.weight.grad, repr(m)))
    assert_close(outs[0][0], outs[1][0].detach())
    assert_close(outs[0][1], outs[1][1])
    assert outs[0][2] == outs[1][2] == "PReLU(num_parameters=3)"


# ---------------------------------------------------------------- random layers

def test_rrelu_training_slopes_lie_in_range_and_eval_uses_mean(torch):
    x = ember.tensor(_away((50, 40), 7, (0,)), requires_grad=True)
    out = F(ember).rrelu(x, 0.1, 0.3, training=True)
    out.sum().backward()
    neg = x.detach().numpy() < 0
    slopes = out.detach().numpy()[neg] / x.detach().numpy()[neg]
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and np.ptp(slopes) > 0.1
    assert_close(x.grad.numpy()[neg], slopes)
    assert (x.grad.numpy()[~neg] == 1).all()
    e = F(ember).rrelu(ember.tensor(x.detach().numpy()), 0.1, 0.3)
    t = F(torch).rrelu(torch.tensor(x.detach().numpy()), 0.1, 0.3)
    assert_close(e, t)


@pytest.mark.parametrize("name,shape,channel_shape", [
    ("dropout1d", (4, 6, 20), (4, 6, 1)), ("dropout1d", (6, 20), (6, 1)),
    ("dropout2d", (4, 6, 5, 5), (4, 6, 1, 1)), ("dropout3d", (3, 5, 2, 3, 4), (3, 5, 1, 1, 1)),
    ("dropout3d", (5, 2, 3, 4), (5, 1, 1, 1)),
])
def test_channel_dropout_zeroes_whole_channels(name, shape, channel_shape):
    x = ember.tensor(arr(shape, 8, 0.5, 1.5), requires_grad=True)
    out = getattr(F(ember), name)(x, 0.4)
    out.sum().backward()
    ratio = out.detach().numpy() / x.detach().numpy()
    first = ratio.reshape(channel_shape + (-1,))[..., :1]  # one value per channel
    assert np.allclose(ratio, np.broadcast_to(first.reshape(channel_shape), shape))
    assert set(np.round(np.unique(first), 6)) <= {0.0, round(1 / 0.6, 6)}
    assert_close(x.grad, ratio)


@pytest.mark.parametrize("name", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout_is_selu_affine_map(torch, name):
    p, alpha = 0.3, 1.7580993408473766
    a = 1 / np.sqrt((alpha**2 * p + 1) * (1 - p))
    x = ember.tensor(arr((6, 5, 4), 9), requires_grad=True)
    out = getattr(F(ember), name)(x, p, training=True)
    out.sum().backward()
    g, xv, ov = x.grad.numpy(), x.detach().numpy(), out.detach().numpy()
    kept = np.isclose(g, a)
    assert (kept | np.isclose(g, 0)).all() and kept.any() and not kept.all()
    assert_close(ov[kept], xv[kept] * a + alpha * a * p)
    assert_close(ov[~kept], np.full((~kept).sum(), alpha * a * (p - 1)))
    if name == "feature_alpha_dropout":
        assert (kept == kept[:, :, :1]).all()
    for lib in (ember, torch):  # eval, p == 0: the input itself; p == 1: zeros
        y = lib.ones(2, 3)
        assert getattr(F(lib), name)(y, 0.5) is y
        assert getattr(F(lib), name)(y, 1.0, True).abs().sum().item() == 0


def test_dropout2d_and_3d_warn_like_torch(torch):
    for lib in (ember, torch):
        for name, shape, n in [("dropout2d", (2, 3), 1), ("dropout2d", (2, 3, 4), 1),
                               ("dropout3d", (2, 3, 4), 1), ("dropout2d", (2, 3, 4, 5), 0)]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = getattr(F(lib), name)(lib.ones(*shape), 0.5, training=False)
            assert tuple(out.shape) == shape
            assert len(caught) == n, (lib.__name__, name, shape)
            if n:
                assert str(caught[0].message).startswith(f"{name}: Received a ")


# ---------------------------------------------------------------- losses

def _signs(shape, seed):
    return np.where(arr(shape, seed) > 0, 1.0, -1.0)


LOSSES = [
    ("margin_ranking_loss", lambda: [arr(6, 1), arr(6, 2), _signs(6, 3)], [1, 1, 0],
     {"margin": 0.2}),
    ("hinge_embedding_loss", lambda: [arr((4, 3), 1), _signs((4, 3), 2)], [1, 0],
     {"margin": 0.5}),
    ("cosine_embedding_loss", lambda: [arr((5, 4), 1), arr((5, 4), 2), _signs(5, 3)],
     [1, 1, 0], {"margin": -0.3}),
    ("cosine_embedding_loss", lambda: [arr(4, 1), arr(4, 2), np.array(-1.0)], [1, 1, 0], {}),
    ("soft_margin_loss", lambda: [arr((4, 3), 1), _signs((4, 3), 2)], [1, 0], {}),
    ("multilabel_soft_margin_loss", lambda: [arr((4, 3), 1), (arr((4, 3), 2) > 0) * 1.0],
     [1, 1], {}),
    ("multi_margin_loss", lambda: [arr((5, 4), 1), np.array([0, 3, 1, 1, 2])], [1, 0], {}),
    ("multi_margin_loss", lambda: [arr((5, 4), 1), np.array([0, 3, 1, 1, 2])], [1, 0],
     {"p": 2, "margin": 0.7}),
    ("multi_margin_loss", lambda: [arr(4, 1), np.array([2])], [1, 0], {}),
    ("multi_margin_loss", lambda: [arr(4, 1), np.array(2)], [1, 0], {}),
    ("multilabel_margin_loss",
     lambda: [arr((4, 3), 1), np.array([[0, 2, -1], [1, -1, 0], [2, 1, 0], [-1, 0, 0]])],
     [1, 0], {}),
    ("multilabel_margin_loss", lambda: [arr(4, 1), np.array([3, 0, -1, 1])], [1, 0], {}),
    ("poisson_nll_loss", lambda: [arr((4, 3), 1), arr((4, 3), 2, 0.0, 4.0)], [1, 1],
     {"full": True}),
    ("poisson_nll_loss", lambda: [arr((4, 3), 1, 0.1, 3.0), arr((4, 3), 2, 0.0, 4.0)], [1, 1],
     {"log_input": False}),
    ("gaussian_nll_loss", lambda: [arr((4, 3), 1), arr((4, 3), 2), arr((4, 3), 3, 0.1, 2)],
     [1, 1, 1], {"full": True}),
    ("gaussian_nll_loss", lambda: [arr((4, 3), 1), arr((4, 3), 2), arr(4, 3, 0.1, 2)],
     [1, 1, 1], {}),
    ("gaussian_nll_loss", lambda: [arr((4, 3), 1), arr((4, 3), 2), arr((4, 1), 3, 0.1, 2)],
     [1, 1, 1], {}),
    ("triplet_margin_loss", lambda: [arr((5, 3), 1), arr((5, 3), 2), arr((5, 3), 3)],
     [1, 1, 1], {"swap": True}),
    ("triplet_margin_loss", lambda: [arr((5, 3), 1), arr((5, 3), 2), arr((5, 3), 3)],
     [1, 1, 1], {"p": 1, "margin": 2.0}),
    ("triplet_margin_with_distance_loss",
     lambda: [arr((5, 3), 1), arr((5, 3), 2), arr((5, 3), 3)], [1, 1, 1], {"swap": True}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,make,grads,kw", LOSSES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LOSSES)])
def test_loss_matches_torch_for_every_reduction(torch, name, make, grads, kw, reduction):
    check(torch, lambda lib, *ts: getattr(F(lib), name)(*ts, reduction=reduction, **kw),
          make(), grads)


@pytest.mark.parametrize("name", ["margin_ranking_loss", "soft_margin_loss",
                                  "multilabel_margin_loss", "poisson_nll_loss"])
def test_loss_float32_dtype_and_legacy_flags(torch, name):
    make = next(m for n, m, _, _ in LOSSES if n == name)
    arrays = [a.astype(np.float32) if a.dtype == np.float64 else a for a in make()]
    for kw in ({}, {"size_average": False}, {"reduce": False}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(torch, lambda lib, *ts, kw=kw: getattr(F(lib), name)(*ts, **kw), arrays,
                  [1] + [0] * (len(arrays) - 1))


def test_weighted_margin_losses_match_torch(torch):
    w = arr(4, 7, 0.5, 2.0)
    x, t = arr((5, 4), 1), np.array([0, 3, 1, 1, 2])
    check(torch, lambda lib, a, b: F(lib).multi_margin_loss(a, b, weight=lib.tensor(w)),
          [x, t], [1, 0])
    y = (arr((5, 4), 2) > 0) * 1.0
    check(torch, lambda lib, a, b, c: F(lib).multilabel_soft_margin_loss(a, b, weight=c),
          [x, y, w], [1, 0, 1])


@pytest.mark.parametrize("args,kw", [((3.0, 1.5), {}), ((3.0, 1.5), {"keepdim": True}),
                                     ((1.0,), {})])
def test_distances_match_torch(torch, args, kw):
    x1, x2 = arr((4, 5), 1), arr((4, 5), 2)
    check(torch, lambda lib, a, b: F(lib).pairwise_distance(a, b, *args, **kw), [x1, x2],
          [1, 1])
    check(torch, lambda lib, a, b: F(lib).pairwise_distance(a, b), [x1, x2[0]], [1, 1])
    check(torch, lambda lib, a: F(lib).pdist(a, args[0]), [x1], [1])
    check(torch, lambda lib, a, b: lib.nn.CosineSimilarity(0)(a, b), [x1, x2], [1, 1])


LOSS_ERRORS = [
    (lambda F, t: F.margin_ranking_loss(t(4, 3), t(4), t(4)), RuntimeError,
     r"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
     r"input1: torch.Size\(\[4, 3\]\), input2: torch.Size\(\[4\]\)"),
    (lambda F, t: F.margin_ranking_loss(t(4), t(3), t(4)), RuntimeError,
     r"The size of tensor a \(4\) must match the size of tensor b \(3\)"),
    (lambda F, t: F.cosine_embedding_loss(t(4, 3), t(4, 3), t(4, 3)), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    (lambda F, t: F.cosine_embedding_loss(t(3), t(3), t(4)), RuntimeError,
     r"1D target tensor expects 2D input tensors, but found inputs with sizes \[3\] and \[3\]."),
    (lambda F, t: F.multi_margin_loss(t(4, 3), t(4), p=3), ValueError,
     "only p == 1 and p == 2 supported"),
    (lambda F, t: F.multi_margin_loss(t(4, 3), t(3).long()), RuntimeError,
     r"Expected target size \[4\], but got \[3\]. Input has shape \[4, 3\]."),
    (lambda F, t: F.multi_margin_loss(t(4, 3), t(4)), RuntimeError,
     "expected scalar type Long but found Float"),
    (lambda F, t: F.multi_margin_loss(t(4, 3), t(4).long() * 3), RuntimeError,
     "target out of range"),
    (lambda F, t: F.multi_margin_loss(t(4, 3), t(4).long(), weight=t(2)), RuntimeError,
     r"inconsistent weight size, expected 3 but got \[2\]"),
    (lambda F, t: F.multi_margin_loss(t(2, 3, 4), t(2).long()), RuntimeError,
     r"Expected non-empty vector or matrix with optional 0-dim batch size, but got: \[2, 3, 4\]"),
    (lambda F, t: F.multilabel_margin_loss(t(4, 3), t(4, 2).long()), RuntimeError,
     r"inconsistent target size: \[4, 2\] for input of size: \[4, 3\]"),
    (lambda F, t: F.multilabel_margin_loss(t(4, 3), t(4, 3).long() * 3), RuntimeError,
     "argument #2 'target' is out of range"),
    (lambda F, t: F.poisson_nll_loss(t(4), t(4), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    (lambda F, t: F.hinge_embedding_loss(t(4), t(4), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    (lambda F, t: F.multilabel_soft_margin_loss(t(4, 2), t(4, 2), reduction="avg"),
     ValueError, "avg is not valid"),
    (lambda F, t: F.gaussian_nll_loss(t(4, 3), t(4, 3), t(2)), ValueError,
     "var is of incorrect size"),
    (lambda F, t: F.gaussian_nll_loss(t(4, 3), t(4, 3), -t(4, 3)), ValueError,
     "var has negative entry/entries"),
    (lambda F, t: F.gaussian_nll_loss(t(4, 3), t(4, 3), t(4, 3), reduction="avg"),
     ValueError, "avg is not valid"),
    (lambda F, t: F.triplet_margin_loss(t(4, 3), t(3), t(4, 3)), RuntimeError,
     "anchor 2D, positive 1D, and negative 2D inputs"),
    (lambda F, t: F.triplet_margin_loss(t(4, 3), t(4, 3), t(4, 3), margin=0), ValueError,
     "margin must be greater than 0, got 0"),
    (lambda F, t: F.triplet_margin_with_distance_loss(t(3), t(3), t(3), margin=-1),
     ValueError, "margin must be greater than 0, got -1"),
    (lambda F, t: F.pdist(t(2, 3, 4)), RuntimeError, "pdist only supports 2D tensors, got: 3D"),
    (lambda F, t: F.pdist(t(2, 3), -1), RuntimeError,
     "pdist only supports non-negative p values"),
]


@pytest.mark.parametrize("call,exc,msg", LOSS_ERRORS)
def test_loss_errors_match_torch(torch, call, exc, msg):
    for lib in (ember, torch):
        with pytest.raises(exc, match=msg):
            call(F(lib), lib.ones)


def test_multi_margin_weight_requiring_grad_is_refused(torch):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument "
                                               "'weight'"):
            F(lib).multi_margin_loss(lib.ones(2, 3), lib.zeros(2).long(),
                                     weight=lib.ones(3, requires_grad=True))


# ---------------------------------------------------------------- modules

def _modules(nn):
    return [
        nn.SELU(), nn.SELU(True), nn.CELU(0.5, True), nn.Hardswish(True), nn.Hardsigmoid(),
        nn.Softsign(), nn.Tanhshrink(), nn.Softshrink(0.3), nn.Hardshrink(), nn.Threshold(0.1, 20),
        nn.Threshold(0.1, 2.0, inplace=True), nn.PReLU(), nn.PReLU(4, 0.5), nn.RReLU(),
        nn.RReLU(0.2, 0.4, True), nn.Softmax2d(), nn.AlphaDropout(0.2), nn.FeatureAlphaDropout(),
        nn.Dropout1d(), nn.Dropout2d(0.3, True), nn.Dropout3d(),
        nn.MarginRankingLoss(0.5), nn.HingeEmbeddingLoss(), nn.CosineEmbeddingLoss(),
        nn.SoftMarginLoss(reduction="sum"), nn.MultiLabelSoftMarginLoss(),
        nn.MultiMarginLoss(2, 0.5), nn.MultiLabelMarginLoss(), nn.PoissonNLLLoss(False, True),
        nn.GaussianNLLLoss(full=True), nn.TripletMarginLoss(2.0, swap=True),
        nn.TripletMarginWithDistanceLoss(), nn.PairwiseDistance(1.0, keepdim=True),
        nn.CosineSimilarity(0, 1e-6),
        nn.ZeroPad1d(2), nn.ZeroPad2d((1, 0, 2, 1)), nn.ZeroPad3d(1), nn.ConstantPad1d(1, 2.5),
        nn.ConstantPad2d((1, 2, 0, 1), -1.0), nn.ConstantPad3d(2, 0.0), nn.ReflectionPad1d(2),
        nn.ReflectionPad2d((1, 0, 1, 2)), nn.ReflectionPad3d(1), nn.ReplicationPad1d((0, 3)),
        nn.ReplicationPad2d(1), nn.ReplicationPad3d((1, 0, 0, 1, 1, 0)), nn.CircularPad1d(1),
        nn.CircularPad2d([1, 0, 2, 1]), nn.CircularPad3d(1),
    ]


def test_module_reprs_match_torch(torch):
    for e, t in zip(_modules(ember.nn), _modules(torch.nn)):
        assert repr(e) == repr(t)


def test_module_constructor_errors_match_torch(torch):
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            lib.nn.Dropout2d(1.5)
        with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
            lib.nn.MultiMarginLoss(p=3)
        with pytest.raises(ValueError, match="MultiMarginLoss: expected weight to be None or "
                                             "1D tensor, got 2D instead"):
            lib.nn.MultiMarginLoss(weight=lib.ones(2, 2))
        with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater "
                                             "than 0, got 0 instead"):
            lib.nn.TripletMarginLoss(margin=0)
        with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
            lib.nn.Softmax2d()(lib.ones(2, 3))
        with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
            lib.nn.CircularPad2d(1)(lib.ones(2, 3))


PADS = [("ZeroPad1d", 2, (2, 3, 5)), ("ZeroPad2d", (1, 0, 2, 1), (2, 3, 4)),
        ("ZeroPad3d", 1, (1, 2, 3, 3, 3)), ("ConstantPad1d", (1, -1), (3, 5)),
        ("ConstantPad2d", 1, (2, 2, 3, 3)), ("ConstantPad3d", (1, 0, 0, 1, 1, 0), (2, 3, 2, 3)),
        ("ReflectionPad1d", 2, (2, 3, 5)), ("ReflectionPad2d", (1, 0, 2, 1), (2, 3, 4)),
        ("ReflectionPad3d", 1, (1, 2, 3, 3, 3)), ("ReplicationPad1d", (0, 3), (3, 5)),
        ("ReplicationPad2d", 1, (2, 2, 3, 3)), ("ReplicationPad3d", (1, 0, 0, 1, 1, 0),
                                                (2, 3, 2, 3)),
        ("CircularPad1d", 2, (2, 3, 5)), ("CircularPad2d", (1, 0, 2, 1), (2, 3, 4)),
        ("CircularPad3d", 1, (1, 2, 3, 3, 3))]


@pytest.mark.parametrize("name,padding,shape", PADS, ids=[p[0] for p in PADS])
def test_padding_layers_match_torch(torch, name, padding, shape):
    value = (1.5,) if name.startswith("Constant") else ()
    check(torch, lambda lib, a: getattr(lib.nn, name)(padding, *value)(a), [arr(shape, 3)], [1])


def test_modules_forward_match_torch(torch):
    x = _away((2, 3, 4, 4), 4, (0, -3, 3, 0.5, -0.5, 0.1))
    for make in (lambda nn: nn.Softmax2d(), lambda nn: nn.CELU(0.5), lambda nn: nn.Hardswish(),
                 lambda nn: nn.Softshrink(), lambda nn: nn.Threshold(0.1, 20),
                 lambda nn: nn.RReLU().eval(), lambda nn: nn.Dropout2d().eval()):
        check(torch, lambda lib, a, make=make: make(lib.nn)(a), [x], [1])
    a, b, c = arr((5, 3), 1), arr((5, 3), 2), arr((5, 3), 3)
    dist = lambda lib, u, v: lib.nn.PairwiseDistance(1.0)(u, v)  # noqa: E731
    check(torch, lambda lib, *ts: lib.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda u, v: dist(lib, u, v), margin=0.5)(*ts), [a, b, c], [1, 1, 1])
    check(torch, lambda lib, *ts: lib.nn.GaussianNLLLoss(reduction="sum")(*ts),
          [a, b, np.abs(c) + 0.1], [1, 1, 1])
    check(torch, lambda lib, *ts: lib.nn.MultiMarginLoss(2, weight=lib.tensor(arr(3, 4, 1, 2)))(
        *ts), [a, np.array([0, 2, 1, 1, 0])], [1, 0])
