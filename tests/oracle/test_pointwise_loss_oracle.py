"""The pointwise losses against torch: value, input and target gradients and the output's
node name, for every reduction, with weight / pos_weight / beta / delta, broadcast shapes and a
target that requires grad; plus dtypes, edge values and torch's errors.

mse, smooth_l1, huber and both binary cross entropies are one fused node each
(``MseLossBackward0`` ...); l1 and the weighted mse / l1 / huber are compositions in torch
too, and their node names are checked all the same.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

REDUCTIONS = ["none", "mean", "sum"]


def uniform(shape, seed, low=-2.0, high=2.0, dtype=np.float32):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def run(lib, fn, x, y, kwargs=None, *, target_grad=True, seed=7):
    """Forward ``fn`` on fresh leaves, backward a random upstream gradient; return the output,
    both gradients and the output's node name."""
    X = lib.tensor(x, requires_grad=True)
    Y = lib.tensor(y, requires_grad=target_grad)
    kw = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v)
          for k, v in (kwargs or {}).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the broadcast-size warning (checked separately)
        out = getattr(lib.nn.functional, fn)(X, Y, **kw)
    g = np.random.default_rng(seed).uniform(0.5, 1.5, tuple(out.shape)).astype(x.dtype)
    out.backward(lib.tensor(g))
    return out, X.grad, Y.grad, type(out.grad_fn).__name__


def check_against_torch(torch, fn, x, y, kwargs=None, *, target_grad=True, rtol=None,
                        atol=None):
    e_out, e_gx, e_gy, e_name = run(ember, fn, x, y, kwargs, target_grad=target_grad)
    t_out, t_gx, t_gy, t_name = run(torch, fn, x, y, kwargs, target_grad=target_grad)
    assert e_name == t_name
    assert str(e_out.dtype).split(".")[1] == str(t_out.dtype).split(".")[1]
    assert_close(e_out, t_out, rtol=rtol, atol=atol, msg=f"{fn} value")
    assert_close(e_gx, t_gx, rtol=rtol, atol=atol, msg=f"{fn} input grad")
    if target_grad:
        assert_close(e_gy, t_gy, rtol=rtol, atol=atol, msg=f"{fn} target grad")
    else:
        assert e_gy is None and t_gy is None
    return e_name


# (function, options): random data land on the kinks (x - y = 0, |x - y| = beta / delta)
# with probability zero
CASES = [
    ("mse_loss", {}),
    ("l1_loss", {}),
    ("smooth_l1_loss", {}),
    ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 2.5}),
    ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {}),
    ("huber_loss", {"delta": 0.7}),
    ("huber_loss", {"delta": 3.0}),
    ("binary_cross_entropy", {}),
    ("binary_cross_entropy_with_logits", {}),
]
FUSED = {"mse_loss": "MseLossBackward0", "smooth_l1_loss": "SmoothL1LossBackward0",
         "huber_loss": "HuberLossBackward0", "binary_cross_entropy": "BinaryCrossEntropyBackward0",
         "binary_cross_entropy_with_logits": "BinaryCrossEntropyWithLogitsBackward0"}


def data(fn, shape=(4, 5), target_shape=None, dtype=np.float32):
    target_shape = shape if target_shape is None else target_shape
    if fn == "binary_cross_entropy":
        return uniform(shape, 1, 0.02, 0.98, dtype), uniform(target_shape, 2, 0, 1, dtype)
    if fn == "binary_cross_entropy_with_logits":
        return uniform(shape, 1, -4, 4, dtype), uniform(target_shape, 2, 0, 1, dtype)
    return uniform(shape, 1, -3, 3, dtype), uniform(target_shape, 2, -3, 3, dtype)


@pytest.mark.parametrize("target_grad", [True, False], ids=["target_grad", "const_target"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn, opts", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_matches_torch(torch, fn, opts, reduction, target_grad):
    x, y = data(fn)
    name = check_against_torch(torch, fn, x, y, dict(opts, reduction=reduction),
                               target_grad=target_grad)
    if fn in FUSED and opts.get("beta", 1.0) != 0.0:
        assert name == FUSED[fn]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", [((4, 5), (4, 1)), ((1, 5), (4, 5)), ((4, 5), (5,)),
                                    ((3, 1, 5), (4, 1)), ((4, 5), ())],
                         ids=["target_col", "input_row", "target_vec", "both", "target_0d"])
@pytest.mark.parametrize("fn, opts", [("mse_loss", {}), ("l1_loss", {}),
                                      ("smooth_l1_loss", {"beta": 0.8}),
                                      ("huber_loss", {"delta": 1.2})])
def test_broadcast_shapes_match_torch(torch, fn, opts, shapes, reduction):
    x, _ = data(fn, shapes[0])
    _, y = data(fn, shapes[1])
    check_against_torch(torch, fn, x, y, dict(opts, reduction=reduction))


@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_broadcast_warns_like_torch(torch, fn):
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[4, 1\]\)\) "
                                             r"that is different to the input size"):
            getattr(lib.nn.functional, fn)(lib.ones(4, 3), lib.zeros(4, 1))


def test_broadcast_graph_matches_torch(torch):
    """torch expands the smaller operand first: its gradient flows through ExpandBackward0."""
    names = []
    for lib in (torch, ember):
        x = lib.ones(4, 3, requires_grad=True)
        y = lib.zeros(4, 1, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = lib.nn.functional.mse_loss(x, y)
        names.append([type(f).__name__ for f, _ in out.grad_fn.next_functions])
    assert names[0] == names[1] == ["AccumulateGrad", "ExpandBackward0"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "huber_loss"])
def test_weight_matches_torch(torch, fn, reduction):
    x, y = data(fn)
    w = uniform((4, 5), 3, 0.1, 2.0)
    check_against_torch(torch, fn, x, y, {"weight": w, "reduction": reduction})


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("w_shape", [None, (4, 5), (5,), (4, 1), ()])
def test_bce_weight_matches_torch(torch, w_shape, reduction):
    x, y = data("binary_cross_entropy")
    kw = {"reduction": reduction}
    if w_shape is not None:
        kw["weight"] = uniform(w_shape, 3, 0.1, 2.0)
    name = check_against_torch(torch, "binary_cross_entropy", x, y, kw)
    assert name == "BinaryCrossEntropyBackward0"


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("w_shape", [None, (4, 5), (5,)])
@pytest.mark.parametrize("pw_shape", [None, (5,), (4, 5), (4, 1), ()])
def test_bce_with_logits_weights_match_torch(torch, pw_shape, w_shape, reduction):
    x, y = data("binary_cross_entropy_with_logits")
    kw = {"reduction": reduction}
    if w_shape is not None:
        kw["weight"] = uniform(w_shape, 3, 0.1, 2.0)
    if pw_shape is not None:
        kw["pos_weight"] = uniform(pw_shape, 4, 0.3, 3.0)
    name = check_against_torch(torch, "binary_cross_entropy_with_logits", x, y, kw)
    assert name == "BinaryCrossEntropyWithLogitsBackward0"


@pytest.mark.parametrize("fn", ["mse_loss", "smooth_l1_loss", "huber_loss",
                                "binary_cross_entropy", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("shape", [(), (7,), (2, 3, 4)], ids=["0d", "1d", "3d"])
def test_shapes_match_torch(torch, fn, shape):
    x, y = data(fn, shape)
    for reduction in REDUCTIONS:
        assert check_against_torch(torch, fn, x, y, {"reduction": reduction}) == FUSED[fn]


@pytest.mark.parametrize("fn", ["mse_loss", "smooth_l1_loss", "huber_loss",
                                "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_float64_matches_torch(torch, fn):
    x, y = data(fn, dtype=np.float64)
    for reduction in REDUCTIONS:
        check_against_torch(torch, fn, x, y, {"reduction": reduction})


@pytest.mark.parametrize("fn", ["mse_loss", "smooth_l1_loss", "huber_loss",
                                "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"),
                                    ("float32", "int64")])
def test_mixed_dtypes_match_torch(torch, fn, dtypes):
    """Result dtype as torch's: promoted (mse, smooth_l1), input's (huber), target's
    (bce with logits); each gradient in its own operand's dtype.

    torch's huber backward refuses operands of two dtypes ("Found dtype Double but expected
    Float"); ember differentiates, and is checked against torch's float64 gradients there.
    """
    x, y = data(fn)
    xd, yd = dtypes
    if yd == "int64":
        if fn == "binary_cross_entropy_with_logits":
            return  # torch's error, checked below
        y = np.round(y)
    y_grad = yd != "int64"
    torch_upcasts = fn == "huber_loss"
    for reduction in REDUCTIONS:
        outs = []
        for lib in (ember, torch):
            X = lib.tensor(x.astype(xd), requires_grad=True)
            Y = lib.tensor(y.astype(yd), requires_grad=y_grad)
            out = getattr(lib.nn.functional, fn)(X, Y, reduction=reduction)
            if lib is torch and torch_upcasts:
                X = lib.tensor(x.astype(xd), dtype=torch.float64, requires_grad=True)
                Y = lib.tensor(y.astype(yd), dtype=torch.float64, requires_grad=y_grad)
                getattr(lib.nn.functional, fn)(X, Y, reduction=reduction).sum().backward()
            else:
                out.sum().backward()
            outs.append((out, X.grad, Y.grad))
        (eo, egx, egy), (to, tgx, tgy) = outs
        assert str(eo.dtype)[6:] == str(to.dtype)[6:]
        assert egx.dtype == getattr(ember, xd)
        assert_close(eo, to)
        assert_close(egx, tgx, atol=1e-5, rtol=1e-5)
        if y_grad:
            assert egy.dtype == getattr(ember, yd)
            assert_close(egy, tgy, atol=1e-5, rtol=1e-5)


def test_float16_matches_torch(torch):
    for fn in ["mse_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy"]:
        x, y = data(fn, (64,), dtype=np.float16)
        for reduction in REDUCTIONS:
            e = getattr(ember.nn.functional, fn)(ember.tensor(x), ember.tensor(y),
                                                 reduction=reduction)
            t = getattr(torch.nn.functional, fn)(torch.tensor(x), torch.tensor(y),
                                                 reduction=reduction)
            assert e.dtype == ember.float16
            assert_close(e, t, rtol=2e-3, atol=1e-3)


def test_bce_extremes_match_torch(torch):
    """log clamped at -100 at x = 0 and 1; the input gradient's denominator floored at 1e-12;
    the target gradient -logit(x) infinite at the ends."""
    x = np.array([0.0, 1.0, 0.3, 1e-8, 1 - 1e-7, 0.0, 1.0], np.float32)
    y = np.array([1.0, 0.0, 0.3, 0.0, 1.0, 0.0, 1.0], np.float32)
    for reduction in REDUCTIONS:
        check_against_torch(torch, "binary_cross_entropy", x, y, {"reduction": reduction})


def test_bce_with_logits_extremes_match_torch(torch):
    x = np.array([-100.0, 100.0, -30.0, 30.0, 0.0, -1e-3, 88.0, -88.0, 1e-6], np.float32)
    y = np.array([1.0, 0.0, 0.3, 0.7, 0.5, 1.0, 0.0, 1.0, 0.0], np.float32)
    for kw in ({}, {"pos_weight": np.float32([2.5])}, {"weight": uniform((9,), 3, 0.1, 2)}):
        for reduction in REDUCTIONS:
            check_against_torch(torch, "binary_cross_entropy_with_logits", x, y,
                                dict(kw, reduction=reduction))


@pytest.mark.parametrize("fn", ["mse_loss", "smooth_l1_loss", "huber_loss",
                                "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_empty_matches_torch(torch, fn):
    for reduction in REDUCTIONS:
        e = getattr(ember.nn.functional, fn)(ember.zeros(0), ember.zeros(0), reduction=reduction)
        t = getattr(torch.nn.functional, fn)(torch.zeros(0), torch.zeros(0), reduction=reduction)
        assert_close(e, t)  # 'mean' of nothing is nan in both


@pytest.mark.parametrize("legacy", [dict(size_average=False), dict(reduce=False),
                                    dict(size_average=True, reduce=True)])
@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "smooth_l1_loss",
                                "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_legacy_reduction_args_match_torch(torch, fn, legacy):
    x, y = data(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_against_torch(torch, fn, x, y, legacy)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        getattr(ember.nn.functional, fn)(ember.tensor(x), ember.tensor(y), **legacy)


def test_no_grad_forward_matches(torch):
    for fn, _ in CASES:
        x, y = data(fn)
        with ember.no_grad():
            out = getattr(ember.nn.functional, fn)(ember.tensor(x, requires_grad=True),
                                                   ember.tensor(y))
        assert out.grad_fn is None
        assert_close(out, getattr(torch.nn.functional, fn)(torch.tensor(x), torch.tensor(y)))


def test_inplace_change_before_backward_raises_like_torch(torch):
    for lib in (torch, ember):
        for fn in ["mse_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
                   "binary_cross_entropy_with_logits"]:
            x = lib.full((3,), 0.5, requires_grad=True) * 1
            out = getattr(lib.nn.functional, fn)(x, lib.full((3,), 0.25))
            x.mul_(0.5)
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                out.backward()


ERRORS = [
    ("mse_int", lambda L, T: L.mse_loss(T.ones(3, dtype=T.long), T.ones(3, dtype=T.long))),
    ("mse_bool", lambda L, T: L.mse_loss(T.ones(3) > 0, T.ones(3) > 0)),
    ("mse_bad_broadcast", lambda L, T: L.mse_loss(T.ones(4, 2), T.ones(4, 3))),
    ("mse_reduction", lambda L, T: L.mse_loss(T.ones(3), T.ones(3), reduction="foo")),
    ("mse_weight_size", lambda L, T: L.mse_loss(T.ones(2, 3), T.ones(2, 3), weight=T.ones(3))),
    ("mse_weight_reduction", lambda L, T: L.mse_loss(T.ones(3), T.ones(3), weight=T.ones(3),
                                                     reduction="foo")),
    ("l1_int", lambda L, T: L.l1_loss(T.ones(3, dtype=T.long), T.ones(3, dtype=T.long))),
    ("smooth_l1_int", lambda L, T: L.smooth_l1_loss(T.ones(3, dtype=T.int32),
                                                    T.ones(3, dtype=T.long))),
    ("smooth_l1_beta", lambda L, T: L.smooth_l1_loss(T.ones(3), T.ones(3), beta=-1.0)),
    ("smooth_l1_reduction", lambda L, T: L.smooth_l1_loss(T.ones(3), T.ones(3),
                                                          reduction="foo")),
    ("huber_int", lambda L, T: L.huber_loss(T.ones(3, dtype=T.long), T.ones(3, dtype=T.long))),
    ("huber_int_input", lambda L, T: L.huber_loss(T.ones(3, dtype=T.long), T.ones(3))),
    ("huber_delta", lambda L, T: L.huber_loss(T.ones(3), T.ones(3), delta=0.0)),
    ("huber_delta_weight", lambda L, T: L.huber_loss(T.ones(3), T.ones(3), delta=-1.0,
                                                     weight=T.ones(3))),
    ("huber_weight_size", lambda L, T: L.huber_loss(T.ones(2, 3), T.ones(2, 3),
                                                    weight=T.ones(3))),
    ("huber_weight_reduction", lambda L, T: L.huber_loss(T.ones(3), T.ones(3), weight=T.ones(3),
                                                         reduction="foo")),
    ("huber_reduction", lambda L, T: L.huber_loss(T.ones(3), T.ones(3), reduction="foo")),
    ("bce_size", lambda L, T: L.binary_cross_entropy(T.ones(4, 3) / 2, T.ones(4, 1))),
    ("bce_dtype", lambda L, T: L.binary_cross_entropy(T.ones(3) / 2, T.ones(3).double())),
    ("bce_target_dtype", lambda L, T: L.binary_cross_entropy(T.ones(3) / 2,
                                                             T.ones(3, dtype=T.long))),
    ("bce_int", lambda L, T: L.binary_cross_entropy(T.ones(3, dtype=T.long),
                                                    T.ones(3, dtype=T.long))),
    ("bce_input_range", lambda L, T: L.binary_cross_entropy(T.tensor([0.5, 1.5]), T.ones(2))),
    ("bce_input_nan", lambda L, T: L.binary_cross_entropy(T.tensor([0.5, float("nan")]),
                                                          T.ones(2))),
    ("bce_target_range", lambda L, T: L.binary_cross_entropy(T.ones(2) / 2,
                                                             T.tensor([0.0, -1.0]))),
    ("bce_weight_shape", lambda L, T: L.binary_cross_entropy(T.ones(4, 3) / 2, T.ones(4, 3),
                                                             weight=T.ones(2))),
    ("bce_weight_grows", lambda L, T: L.binary_cross_entropy(T.ones(4, 3) / 2, T.ones(4, 3),
                                                             weight=T.ones(2, 4, 3))),
    ("bce_weight_grad", lambda L, T: L.binary_cross_entropy(
        T.ones(3) / 2, T.ones(3), weight=T.ones(3, requires_grad=True))),
    ("bce_reduction", lambda L, T: L.binary_cross_entropy(T.ones(3) / 2, T.ones(3),
                                                          reduction="foo")),
    ("bcel_size", lambda L, T: L.binary_cross_entropy_with_logits(T.ones(4, 3), T.ones(4, 1))),
    ("bcel_int_input", lambda L, T: L.binary_cross_entropy_with_logits(
        T.ones(3, dtype=T.long), T.ones(3))),
    ("bcel_int_target", lambda L, T: L.binary_cross_entropy_with_logits(
        T.ones(3), T.ones(3, dtype=T.long))),
    ("bcel_bool_target", lambda L, T: L.binary_cross_entropy_with_logits(
        T.ones(3), T.ones(3) > 0)),
    ("bcel_weight_shape", lambda L, T: L.binary_cross_entropy_with_logits(
        T.ones(4, 3), T.ones(4, 3), weight=T.ones(2))),
    ("bcel_weight_grows", lambda L, T: L.binary_cross_entropy_with_logits(
        T.ones(4, 3), T.ones(4, 3), weight=T.ones(2, 4, 3))),
    ("bcel_pos_weight_shape", lambda L, T: L.binary_cross_entropy_with_logits(
        T.ones(4, 3), T.ones(4, 3), pos_weight=T.ones(2))),
    ("bcel_pos_weight_grows", lambda L, T: L.binary_cross_entropy_with_logits(
        T.ones(4, 3), T.ones(4, 3), pos_weight=T.ones(2, 4, 3))),
    ("bcel_weight_grad", lambda L, T: L.binary_cross_entropy_with_logits(
        T.ones(3), T.ones(3), weight=T.ones(3, requires_grad=True))),
    ("bcel_pos_weight_grad", lambda L, T: L.binary_cross_entropy_with_logits(
        T.ones(3), T.ones(3), pos_weight=T.ones(3, requires_grad=True))),
]


@pytest.mark.parametrize("name, call", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_have_torch_type_and_message(torch, name, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the broadcast-size warning
        with pytest.raises(Exception) as tinfo:
            call(torch.nn.functional, torch)
        with pytest.raises(Exception) as einfo:
            call(ember.nn.functional, ember)
    assert type(einfo.value) is type(tinfo.value), (einfo.value, tinfo.value)
    assert str(einfo.value).split("\n")[0] == str(tinfo.value).split("\n")[0]


def test_weight_requiring_grad_is_fine_without_grad_mode(torch):
    w = np.float32([0.5, 2.0, 1.0])
    for lib in (torch, ember):
        F = lib.nn.functional
        with lib.no_grad():
            out = F.binary_cross_entropy(lib.ones(3) / 2, lib.ones(3),
                                         weight=lib.tensor(w, requires_grad=True))
        assert_close(out, np.log(2) * w.mean())
