"""Keyword arguments and option values of ``ember.nn.functional`` and the ``nn`` layers
against torch: each option that ember once ignored or mishandled (padding modes with
negative pads, cosine_similarity's eps, kl_div's targets, soft-target cross entropy's
weight gradient, the norms' shape and dtype rules, ...). Each case ``fn(T, F)`` runs with
ember and with torch (``F`` is the functional module); values, dtypes, shapes, gradients
and errors (type and message) must agree. New differentiable paths also pass gradcheck."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.nn import functional as EF


def _r(T, *shape, dtype=None, seed=0, scale=1.0):
    a = np.random.RandomState(seed).randn(*shape) * scale
    return T.tensor(a, dtype=dtype if dtype is not None else T.float64)


def _ids(T, *ids):
    return T.tensor(list(ids))


def _pad(mode, shape, pad):
    return lambda T, F: F.pad(T.arange(float(np.prod(shape))).reshape(shape), pad, mode=mode)


def _kl(log_target, target, reduction="none"):
    return lambda T, F: F.kl_div(_r(T, 3), T.tensor(target), reduction=reduction,
                                 log_target=log_target)


def _on_ints(name):
    return lambda T, F: getattr(F, name)(T.arange(-3, 3))


CASES = {
    # pad: the modes other than constant take no value and only torch's 1/2/3-d layouts
    "pad_reflect_value": lambda T, F: F.pad(_r(T, 2, 3, 4), (1, 1), mode="reflect", value=2.5),
    "pad_circular_value": lambda T, F: F.pad(_r(T, 2, 3, 4), (1, 1), mode="circular",
                                             value=1),
    "pad_replicate_value_zero": lambda T, F: F.pad(_r(T, 2, 3), (1, 1), mode="replicate",
                                                   value=0.0),
    "pad_unknown_mode": lambda T, F: F.pad(_r(T, 2, 3), (1, 1), mode="wrap"),
    "pad_reflect_1d_input": _pad("reflect", (5,), (1, 1)),
    "pad_reflect_6_on_3d": _pad("reflect", (2, 3, 4), (1, 1, 1, 1, 1, 1)),
    "pad_replicate_2_on_4d": _pad("replicate", (1, 2, 3, 4), (1, 1)),
    "pad_circular_4_on_2d": _pad("circular", (3, 4), (1, 1, 1, 1)),
    "pad_reflect_empty_dim": _pad("reflect", (2, 3, 0), (1, 1)),
    "pad_replicate_empty_channels": _pad("replicate", (2, 0, 3, 4), (1, 1, 1, 1)),
    "pad_reflect_empty_batch": _pad("reflect", (0, 3, 4), (1, 1)),
    "pad_circular_empty_dim": _pad("circular", (3, 0), (1, 1)),
    "pad_circular_wraps_twice": _pad("circular", (2, 3, 4), (5, 1)),
    "pad_circular_negative_left": _pad("circular", (2, 3, 4), (-1, 1)),
    "pad_circular_negative_right": _pad("circular", (1, 4), (2, -1)),
    "pad_circular_crop_both": _pad("circular", (1, 4), (-1, -1)),
    "pad_circular_crop_2d": _pad("circular", (2, 3, 4), (-1, 2, 2, -1)),
    "pad_circular_crop_to_empty": _pad("circular", (1, 4), (-3, -1)),
    "pad_circular_negative_size": _pad("circular", (1, 4), (-5, -1)),
    "pad_reflect_negative": _pad("reflect", (1, 4), (-2, 1)),
    "pad_replicate_negative": _pad("replicate", (1, 4), (2, -1)),
    "pad_reflect_too_small_1d": _pad("reflect", (1, 4), (-3, -1)),
    "pad_reflect_too_small_2d": _pad("reflect", (2, 3, 4), (-4, 0, -3, 0)),
    "pad_replicate_too_small_2d": _pad("replicate", (2, 3, 4), (-4, 0, 0, -4)),
    "pad_reflect_too_small_3d": _pad("reflect", (1, 2, 3, 4), (-4, 0, -3, 0, -2, 0)),
    "pad_reflect_h_too_big": _pad("reflect", (2, 3, 4), (2, 2, 3, 3)),
    "pad_reflect_w_checked_first": _pad("reflect", (1, 2, 3, 4), (4, 0, 3, 0, 0, 0)),
    "pad_reflect_d_too_big": _pad("reflect", (2, 2, 3, 4), (1, 1, 1, 1, 2, 2)),
    "pad_reflect_bool": lambda T, F: F.pad(T.ones(2, 3, dtype=T.bool), (1, 1), mode="reflect"),
    "pad_float_amount": lambda T, F: F.pad(_r(T, 2, 3), (1.5, 1)),
    "pad_constant_negative_size": lambda T, F: F.pad(_r(T, 2, 4), (-3, -2)),
    # embedding / linear / bilinear / one_hot
    "embedding_weight_1d": lambda T, F: F.embedding(_ids(T, 1, 2), _r(T, 10)),
    "linear_0d_input": lambda T, F: F.linear(T.tensor(1.0), _r(T, 4, 3)),
    "linear_3d_weight": lambda T, F: F.linear(_r(T, 2, 3), _r(T, 4, 3, 1)),
    "bilinear_dims_differ": lambda T, F: F.bilinear(_r(T, 2, 3), _r(T, 5), _r(T, 4, 3, 5)),
    "bilinear_batch_differs": lambda T, F: F.bilinear(_r(T, 2, 3), _r(T, 3, 5),
                                                      _r(T, 4, 3, 5)),
    "bilinear_input1_size": lambda T, F: F.bilinear(_r(T, 2, 4), _r(T, 2, 5), _r(T, 4, 3, 5)),
    "bilinear_input2_size": lambda T, F: F.bilinear(_r(T, 2, 3), _r(T, 2, 4), _r(T, 4, 3, 5)),
    "bilinear_bias_size": lambda T, F: F.bilinear(_r(T, 2, 3), _r(T, 2, 5), _r(T, 4, 3, 5),
                                                  _r(T, 3)),
    "bilinear_dtypes": lambda T, F: F.bilinear(_r(T, 2, 3), _r(T, 2, 5, dtype=T.float32),
                                               _r(T, 4, 3, 5, dtype=T.float32),
                                               _r(T, 4, dtype=T.float32)),
    "one_hot_empty_infers_nothing": lambda T, F: F.one_hot(T.zeros(0, dtype=T.int64)),
    "one_hot_empty_with_classes": lambda T, F: F.one_hot(T.zeros(0, dtype=T.int64), 3),
    # activations without integer kernels; glu of a scalar
    **{f"{name}_int": _on_ints(name)
       for name in ("leaky_relu", "elu", "gelu", "silu", "mish", "softplus", "logsigmoid")},
    "glu_scalar": lambda T, F: F.glu(T.tensor(1.0)),
    "hardtanh_min_above_max": lambda T, F: F.hardtanh(_r(T, 3), 1.0, -1.0),
    "hardtanh_min_equals_max": lambda T, F: F.hardtanh(_r(T, 3), 0.5, 0.5),
    # dropout of integers
    "dropout_int": lambda T, F: F.dropout(T.arange(3), 0.5),
    "dropout_bool_in_place": lambda T, F: F.dropout(T.ones(3, dtype=T.bool), 0.5, inplace=True),
    "dropout_int_p1": lambda T, F: F.dropout(T.arange(3), 1.0),
    # layer / rms norm: shapes and dtypes
    "layer_norm_weight_shape": lambda T, F: F.layer_norm(_r(T, 4, 3, 5), (5,), _r(T, 4)),
    "layer_norm_bias_shape": lambda T, F: F.layer_norm(_r(T, 4, 3, 5), (5,), None, _r(T, 4)),
    "layer_norm_half_float_params": lambda T, F: F.layer_norm(
        _r(T, 4, 3, dtype=T.float16), (3,), _r(T, 3, dtype=T.float32, seed=1),
        _r(T, 3, dtype=T.float32, seed=2)),
    "layer_norm_double_float_weight": lambda T, F: F.layer_norm(
        _r(T, 4, 3), (3,), _r(T, 3, dtype=T.float32)),
    "layer_norm_float_double_params": lambda T, F: F.layer_norm(
        _r(T, 4, 3, dtype=T.float32), (3,), _r(T, 3), _r(T, 3)),
    "layer_norm_int": lambda T, F: F.layer_norm(T.arange(6).reshape(2, 3), (3,)),
    "rms_norm_shape_mismatch": lambda T, F: F.rms_norm(_r(T, 4, 3, 5), (4,)),
    "rms_norm_2d_shape_mismatch": lambda T, F: F.rms_norm(_r(T, 4, 3, 5), (2, 5)),
    "rms_norm_too_many_dims": lambda T, F: F.rms_norm(_r(T, 4, 3), (1, 4, 3)),
    "rms_norm_weight_shape": lambda T, F: F.rms_norm(_r(T, 4, 3, 5), (5,), _r(T, 4)),
    "rms_norm_half": lambda T, F: F.rms_norm(_r(T, 4, 3, dtype=T.float16, scale=0.05), (3,)),
    "rms_norm_half_weight": lambda T, F: F.rms_norm(
        _r(T, 4, 3, dtype=T.float16, scale=0.05), (3,), _r(T, 3, dtype=T.float16, seed=1)),
    "rms_norm_half_float_weight": lambda T, F: F.rms_norm(
        _r(T, 4, 3, dtype=T.float16), (3,), _r(T, 3, dtype=T.float32, seed=1)),
    "rms_norm_float_double_weight": lambda T, F: F.rms_norm(
        _r(T, 4, 3, dtype=T.float32), (3,), _r(T, 3, seed=1)),
    "rms_norm_int": lambda T, F: F.rms_norm(T.arange(6).reshape(2, 3), (3,)),
    # batch norm: messages, empty batches, dtypes
    "batch_norm_eval_no_mean": lambda T, F: F.batch_norm(_r(T, 4, 3), None, T.ones(3)),
    "batch_norm_eval_no_var": lambda T, F: F.batch_norm(_r(T, 4, 3), T.zeros(3), None),
    "batch_norm_half_float_stats": lambda T, F: F.batch_norm(
        _r(T, 4, 3, dtype=T.float16), T.zeros(3), T.ones(3), _r(T, 3, dtype=T.float32),
        _r(T, 3, dtype=T.float32, seed=1), True),
    "batch_norm_double_float_stats": lambda T, F: F.batch_norm(
        _r(T, 4, 3), T.zeros(3), T.ones(3), None, None, True),
    "batch_norm_float_half_weight": lambda T, F: F.batch_norm(
        _r(T, 4, 3, dtype=T.float32), T.zeros(3), T.ones(3), _r(T, 3, dtype=T.float16), None,
        True),
    "batch_norm_int": lambda T, F: F.batch_norm(T.arange(6).reshape(2, 3), None, None,
                                                training=True),
    "batch_norm_empty_3d": lambda T, F: F.batch_norm(T.zeros(0, 3, 2), None, None,
                                                     training=True),
    # cosine similarity: eps clamps each norm; dtypes; broadcasting
    "cosine_eps_per_norm": lambda T, F: F.cosine_similarity(_r(T, 4, 3), _r(T, 4, 3, seed=1),
                                                            dim=-1, eps=100.0),
    "cosine_huge": lambda T, F: F.cosine_similarity(_r(T, 2, 3, scale=1e200),
                                                    _r(T, 2, 3, scale=1e200)),
    "cosine_ints": lambda T, F: F.cosine_similarity(T.arange(3), T.arange(3), 0),
    "cosine_int_float": lambda T, F: F.cosine_similarity(T.arange(3), T.arange(3.), 0),
    "cosine_half_float": lambda T, F: F.cosine_similarity(_r(T, 3, dtype=T.float16),
                                                          _r(T, 3, dtype=T.float32), 0),
    "cosine_broadcast_dims": lambda T, F: F.cosine_similarity(_r(T, 5), _r(T, 4, 5), dim=1),
    # kl_div: xlogy(target, target) - target * input
    "kl_div_negative_target": _kl(False, [-0.5, 0.2, 0.0]),
    "kl_div_nan_target": _kl(False, [float("nan"), 0.0, 1.0]),
    "kl_div_batchmean_negative": _kl(False, [-0.5, 0.2, 0.3], "batchmean"),
    "kl_div_int": lambda T, F: F.kl_div(T.arange(3), T.arange(3), reduction="sum"),
    # scaled_dot_product_attention: heads, and no keys at all
    "sdpa_gqa_heads_do_not_divide": lambda T, F: F.scaled_dot_product_attention(
        _r(T, 2, 5, 4, 5), _r(T, 2, 2, 6, 5), _r(T, 2, 2, 6, 7), enable_gqa=True),
    "sdpa_heads_differ_without_gqa": lambda T, F: F.scaled_dot_product_attention(
        _r(T, 2, 6, 4, 5), _r(T, 2, 2, 6, 5), _r(T, 2, 2, 6, 7)),
    "sdpa_no_keys": lambda T, F: F.scaled_dot_product_attention(
        _r(T, 2, 4, 5), T.zeros(2, 0, 5, dtype=T.float64), T.zeros(2, 0, 7, dtype=T.float64)),
    # init: kaiming's mode
    "kaiming_bad_mode": lambda T, F: T.nn.init.kaiming_uniform_(T.empty(3, 4), mode="fan_avg"),
    "soft_cross_entropy_weight_shape": lambda T, F: F.cross_entropy(
        _r(T, 3, 4), _r(T, 3, 4).softmax(1), _r(T, 3).abs()),
    # weights that cannot take a gradient
    "cross_entropy_weight_requires_grad": lambda T, F: F.cross_entropy(
        _r(T, 3, 4), _ids(T, 0, 1, 2), _r(T, 4).abs().requires_grad_()),
    "nll_loss_weight_requires_grad": lambda T, F: F.nll_loss(
        _r(T, 3, 4), _ids(T, 0, 1, 2), _r(T, 4).abs().requires_grad_()),
}


def _outcome(T, F, fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(T, F)
    except Exception as exc:  # the oracle says which exceptions are right
        return ("error", exc)
    return ("ok", out)


@pytest.mark.parametrize("name", sorted(CASES))
def test_option_same_as_torch(name, torch):
    e_kind, e = _outcome(ember, EF, CASES[name])
    t_kind, t = _outcome(torch, torch.nn.functional, CASES[name])
    assert e_kind == t_kind, (e, t)
    if t_kind == "error":
        assert isinstance(e, type(t)), (type(e), type(t))
        assert str(e) == str(t)
        return
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    tol = 2e-3 if t.dtype == torch.float16 else 1e-6
    np.testing.assert_allclose(e.detach().numpy().astype(np.float64),
                               t.detach().numpy().astype(np.float64), rtol=tol, atol=tol)


# gradients of the new and changed differentiable paths, against torch (float64)
GRAD_CASES = {
    "pad_circular_negative": (lambda T, F, x: F.pad(x, (-1, 2, 2, -1), mode="circular"),
                              (2, 3, 4)),
    "cosine": (lambda T, F, x: F.cosine_similarity(x, x.flip(0) + 1, dim=-1), (4, 3)),
    "cosine_eps": (lambda T, F, x: F.cosine_similarity(x, x.flip(0) + 1, dim=-1, eps=3.0),
                   (4, 3)),
    "cosine_zero_vector": (lambda T, F, x: F.cosine_similarity(x - x.detach(),
                                                               x.detach() + 1), (2, 3)),
    "kl_div_target_grad": (lambda T, F, x: F.kl_div(x, x.exp() * 0.3, reduction="sum"),
                           (2, 3)),
    "linear_vector_weight": (lambda T, F, x: F.linear(x, x[0]), (2, 2)),
    "linear_batch_bias": (lambda T, F, x: F.linear(x, x.t() * 2, x + 1), (3, 3)),
    "rms_norm_float_weight": (lambda T, F, x: F.rms_norm(
        x, (3,), T.tensor([1.0, 2.0, 3.0], dtype=T.float32)), (2, 3)),
    "soft_cross_entropy_weight": (lambda T, F, x: F.cross_entropy(
        x[:, :4], x[:, 4:].softmax(1), x[0, :4].abs(), label_smoothing=0.2), (3, 8)),
    "soft_cross_entropy_weight_none": (lambda T, F, x: F.cross_entropy(
        x[:, :4], x[:, 4:].softmax(1), x[0, :4].abs(), reduction="none"), (3, 8)),
    "soft_cross_entropy_weight_3d": (lambda T, F, x: F.cross_entropy(
        x[:, :2], x[:, 2:].softmax(1), x[0, :2, 0].abs(), reduction="sum"), (3, 4, 2)),
}


def _grad(T, F, fn, shape):
    x = _r(T, *shape, seed=3).requires_grad_()
    out = fn(T, F, x)
    g = _r(T, *out.shape, seed=4, dtype=out.dtype)
    out.backward(g)
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradient_same_as_torch(name, torch):
    fn, shape = GRAD_CASES[name]
    e_out, e_grad = _grad(ember, EF, fn, shape)
    t_out, t_grad = _grad(torch, torch.nn.functional, fn, shape)
    np.testing.assert_allclose(e_out, t_out, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(e_grad, t_grad, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(set(GRAD_CASES) - {"cosine_eps", "cosine_zero_vector"}))
def test_gradcheck(name):
    # (a clamped norm passes its gradient straight through, as torch's, so the two cosine
    # cases where the clamp acts are checked against torch only)
    fn, shape = GRAD_CASES[name]
    x = _r(ember, *shape, seed=5).requires_grad_()
    assert gradcheck(lambda x: fn(ember, EF, x), (x,))


def test_kl_div_target_gradient_nan_at_zero(torch):
    # torch's xlogy(t, t) derivative is log(t) + t / t: nan where the target is 0
    grads = []
    for T, F in ((ember, EF), (torch, torch.nn.functional)):
        t = T.tensor([0.0, 0.5, -1.0], dtype=T.float64, requires_grad=True)
        F.kl_div(T.tensor([0.1, 0.2, 0.3], dtype=T.float64), t, reduction="sum").backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], equal_nan=True)


def test_soft_cross_entropy_weight_gets_a_gradient(torch):
    grads = []
    for T, F in ((ember, EF), (torch, torch.nn.functional)):
        w = T.tensor([1.0, 2.0, 0.5], dtype=T.float64, requires_grad=True)
        for reduction in ("mean", "sum", "none"):
            F.cross_entropy(_r(T, 4, 3), _r(T, 4, 3, seed=1).softmax(1), w,
                            reduction=reduction, label_smoothing=0.1).sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_batch_norm_empty_batch_leaves_running_stats(torch):
    results = []
    for T, F in ((ember, EF), (torch, torch.nn.functional)):
        rm, rv = T.full((3,), 0.5), T.full((3,), 2.0)
        x = T.zeros(0, 3, requires_grad=True)
        w = T.ones(3, requires_grad=True)
        out = F.batch_norm(x, rm, rv, w, None, True, 0.5)
        out.sum().backward()
        results.append((tuple(out.shape), rm.numpy(), rv.numpy(), tuple(x.grad.shape),
                        w.grad.numpy()))
    (es, erm, erv, exg, ewg), (ts, trm, trv, txg, twg) = results
    assert es == ts and exg == txg
    np.testing.assert_array_equal(erm, trm)
    np.testing.assert_array_equal(erv, trv)
    np.testing.assert_array_equal(ewg, twg)


def test_sdpa_no_keys_gradients(torch):
    grads = []
    for T, F in ((ember, EF), (torch, torch.nn.functional)):
        q = _r(T, 2, 4, 5).requires_grad_()
        k, v = (T.zeros(2, 0, n, dtype=T.float64, requires_grad=True) for n in (5, 7))
        F.scaled_dot_product_attention(q, k, v).sum().backward()
        grads.append((q.grad.numpy(), tuple(k.grad.shape), tuple(v.grad.shape)))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    assert grads[0][1:] == grads[1][1:]


def test_nn_utils_exports_get_total_norm(torch):
    for name in ("get_total_norm", "clip_grads_with_norm_"):
        assert hasattr(torch.nn.utils, name) and hasattr(ember.nn.utils, name)
    e = ember.nn.utils.get_total_norm([ember.ones(3), ember.ones(4)], norm_type=3.0)
    t = torch.nn.utils.get_total_norm([torch.ones(3), torch.ones(4)], norm_type=3.0)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)


def test_embedding_sparse_gives_torch_sparse_gradient(torch):
    # the weight's gradient is sparse COO, one entry per id, as torch's
    w = ember.randn(4, 3, requires_grad=True)
    EF.embedding(ember.tensor([1, 2, 1]), w, sparse=True).sum().backward()
    tw = torch.zeros(4, 3, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor([1, 2, 1]), tw, sparse=True).sum().backward()
    assert w.grad.is_sparse and tw.grad.is_sparse
    assert w.grad._indices().tolist() == tw.grad._indices().tolist()
    np.testing.assert_array_equal(w.grad._values().numpy(), tw.grad._values().numpy())


@pytest.mark.parametrize("kwargs", [{"min_value": -0.5}, {"max_value": 0.5},
                                    {"min_value": -0.2, "max_value": 0.3}])
def test_hardtanh_deprecated_keywords(kwargs, torch):
    x = np.linspace(-1, 1, 7)
    with pytest.warns(FutureWarning) as e_warns:
        e = ember.nn.Hardtanh(**kwargs)
    with pytest.warns(FutureWarning) as t_warns:
        t = torch.nn.Hardtanh(**kwargs)
    assert [str(w.message) for w in e_warns] == [str(w.message) for w in t_warns]
    assert (e.min_val, e.max_val) == (t.min_val, t.max_val)
    np.testing.assert_allclose(e(ember.tensor(x)).numpy(), t(torch.tensor(x)).numpy())


@pytest.mark.parametrize("make", [
    lambda T: T.nn.Hardtanh(1.0, 0.5),
    lambda T: T.nn.Embedding(6, 3, _weight=T.zeros(5, 3)),
    lambda T: T.nn.Embedding(6, 3, padding_idx=6),
])
def test_constructor_asserts_like_torch(make, torch):
    with pytest.raises(AssertionError) as t_err:
        make(torch)
    with pytest.raises(AssertionError) as e_err:
        make(ember)
    assert str(e_err.value) == str(t_err.value)
