"""The top-level gaps without torch: finite-difference gradients of the differentiable ones,
and behaviours checked against NumPy or by hand (copies own their memory, in-place forms
return their input, DLPack shares memory, histogramdd agrees with NumPy's)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck


def _x(*shape, seed=0, low=None):
    a = np.random.default_rng(seed).standard_normal(shape)
    if low is not None:
        a = np.abs(a) + low
    return ember.tensor(a, requires_grad=True)


COPIES = {
    "as_strided": lambda x: ember.as_strided_copy(x, (3, 2), (1, 3), 1),
    "diagonal": lambda x: ember.diagonal_copy(x, -1),
    "expand": lambda x: ember.expand_copy(x, (2, 3, 4)),
    "permute": lambda x: ember.permute_copy(x, (1, 0)),
    "select": lambda x: ember.select_copy(x, 1, 2),
    "slice": lambda x: ember.slice_copy(x, 1, 1, None, 2),
    "split": lambda x: ember.split_copy(x, 3, 1),
    "split_with_sizes": lambda x: ember.split_with_sizes_copy(x, [2, 1]),
    "squeeze": lambda x: ember.squeeze_copy(x.unsqueeze(1), 1),
    "t": lambda x: ember.t_copy(x),
    "transpose": lambda x: ember.transpose_copy(x, 1, 0),
    "unbind": lambda x: ember.unbind_copy(x, 1),
    "unfold": lambda x: ember.unfold_copy(x, 1, 2, 1),
    "unsqueeze": lambda x: ember.unsqueeze_copy(x, -1),
    "view": lambda x: ember.view_copy(x.t(), (6, 2)),
    "alias": lambda x: ember.alias_copy(x),
}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copy_variant_gradients_and_own_memory(name):
    x = _x(3, 4)
    assert gradcheck(COPIES[name], (x,))
    outs = COPIES[name](x)
    for o in outs if isinstance(outs, list) else [outs]:
        assert o._base is None and o.is_contiguous()
        assert not np.shares_memory(o.detach().numpy(), x.detach().numpy())


@pytest.mark.parametrize("name, args, low", [
    ("sin_", (), None), ("exp_", (), None), ("sigmoid_", (), None), ("tanh_", (), None),
    ("celu_", (0.7,), None), ("selu_", (), None), ("clamp_", (-0.5, 0.5), None),
    ("threshold_", (0.2, -3.0), None), ("sqrt_", (), 0.3), ("log_", (), 0.3),
    ("reciprocal_", (), 0.3), ("square_", (), None), ("conj_physical_", (), None),
])
def test_inplace_forms_differentiate_through_the_change(name, args, low):
    fn = getattr(ember, name)
    assert gradcheck(lambda x: fn(x * 1, *args), (_x(3, 4, low=low),))
    y = _x(2, 3, low=low) * 1
    assert fn(y, *args) is y and y._version == 1


def test_inplace_form_refuses_a_leaf_that_requires_grad():
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ember.abs_(_x(2))
    with pytest.raises(TypeError, match="must be Tensor"):
        ember.neg_(3.0)


def test_embedding_renorm_rescales_only_named_rows_once():
    w = ember.tensor([[3.0, 4.0], [6.0, 8.0], [0.3, 0.4]])
    ember.embedding_renorm_(w, ember.tensor([0, 0, 2]), 1.0, 2.0)
    np.testing.assert_allclose(np.linalg.norm(w.numpy(), axis=1), [1.0, 10.0, 0.5], rtol=1e-6)
    with pytest.raises(NotImplementedError, match="embedding_renorm"):
        ember.embedding_renorm_(_x(3, 2) * 1, ember.tensor([1]), 0.1, 2.0).sum().backward()


def test_detach_copy_result_has_no_derivative():
    out = ember.detach_copy(_x(2, 3))
    assert out.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::detach_copy"):
        out.sum().backward()


def test_copy_out_and_list_out():
    x = ember.arange(12.0).reshape(3, 4)
    out = ember.empty(0)
    assert ember.transpose_copy(x, 0, 1, out=out) is out and out.tolist() == x.t().tolist()
    pieces = [ember.empty(3, 2), ember.empty(3, 2)]
    assert ember.split_copy(x, 2, 1, out=pieces) is None
    assert pieces[1].tolist() == x[:, 2:].tolist()
    with pytest.raises(RuntimeError, match="expected an out= argument of size 2"):
        ember.split_copy(x, 2, 1, out=pieces[:1])


def test_adjoint_is_a_view_with_gradient():
    x = _x(2, 3, 4)
    a = ember.adjoint(x)
    assert a._base is x and tuple(a.shape) == (2, 4, 3)
    assert gradcheck(ember.adjoint, (x,))


def test_range_includes_end_and_warns():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        r = ember.range(1, 2, 0.25)
    assert r.dtype == ember.float32 and r.tolist() == [1.0, 1.25, 1.5, 1.75, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ember.range(5, -4, -3, dtype=ember.int64).tolist() == [5, 2, -1, -4]
        with pytest.raises(RuntimeError, match="step must be nonzero"):
            ember.range(0, 1, 0)


@pytest.mark.parametrize("fn", [
    lambda x: ember.nuclear_norm(x),
    lambda x: ember.nuclear_norm(x, (0, 2), True),
    lambda x: ember.frobenius_norm(x, (1, 2)),
    lambda x: ember.norm_except_dim(x),
    lambda x: ember.norm_except_dim(x, 3, 1),
    lambda x: ember.norm_except_dim(x, 2, -1),
])
def test_norm_functions_gradients(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(fn, (_x(2, 3, 4),))


def test_norm_except_dim_keeps_dim_and_reduces_the_rest():
    x = ember.tensor(np.arange(24.0).reshape(2, 3, 4))
    got = ember.norm_except_dim(x, 2, 1)
    want = np.sqrt((x.numpy() ** 2).sum(axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(got.numpy(), want)
    with pytest.raises(RuntimeError, match="removed"):
        ember.matrix_rank(x)


def test_conv_tbc_equals_a_hand_written_time_convolution():
    x, w, b = _x(6, 2, 3), _x(3, 3, 4, seed=1), _x(4, seed=2)
    out = ember.conv_tbc(x, w, b, 1).detach().numpy()
    xp = np.pad(x.detach().numpy(), ((1, 1), (0, 0), (0, 0)))
    want = b.detach().numpy() + sum(np.einsum("tbc,co->tbo", xp[k:k + 6], w.detach().numpy()[k])
                                    for k in np.arange(3))
    np.testing.assert_allclose(out, want, rtol=1e-10)
    assert gradcheck(lambda x, w, b: ember.conv_tbc(x, w, b, -1), (x, w, b))


def test_convolution_gradients_plain_and_transposed():
    x, w, b = _x(1, 4, 4, 5), _x(2, 2, 2, 3, seed=1), _x(2, seed=2)
    assert gradcheck(lambda x, w, b: ember.convolution(x, w, b, [1, 2], [1, 0], [1, 1], False,
                                                       [0, 0], 2), (x, w, b))
    wt = _x(4, 1, 2, 2, seed=3)
    assert gradcheck(lambda x, w: ember.convolution(x, w, None, [2], [1], [1], True, [1], 2),
                     (x, wt))


def test_native_norm_outputs_and_gradients():
    x, w = _x(2, 6, 3), _x(6, seed=1)
    assert gradcheck(lambda x, w: ember.native_group_norm(x, w, w, 2, 6, 3, 3, 1e-5), (x, w))
    out, mean, rstd = ember.native_group_norm(x, None, None, 2, 6, 3, 2, 1e-5)
    groups = x.detach().numpy().reshape(2, 2, 9)
    np.testing.assert_allclose(mean.detach().numpy(), groups.mean(-1))
    np.testing.assert_allclose(rstd.detach().numpy(), 1 / np.sqrt(groups.var(-1) + 1e-5))
    assert gradcheck(lambda x, w: ember.native_layer_norm(x, [3], w[:3], None, 1e-5)[0], (x, w))
    _, mean, rstd = ember.native_layer_norm(x, [6, 3], None, None, 1e-5)
    assert tuple(mean.shape) == (2, 1, 1) and not rstd.requires_grad
    assert gradcheck(lambda x: ember.native_batch_norm(x, None, None, None, None, True, 0.1,
                                                       1e-5)[0], (x,))
    rm, rv = ember.zeros(6, dtype=ember.float64), ember.ones(6, dtype=ember.float64)
    _, mean, invstd = ember.native_batch_norm(x, None, None, rm, rv, True, 0.5, 1e-5)
    np.testing.assert_allclose(rm.numpy(), 0.5 * mean.numpy())
    assert ember.native_batch_norm(x, None, None, rm, rv, False, 0.5, 1e-5)[1].numel() == 0


def test_native_dropout_scales_survivors_and_masks_the_gradient():
    x = _x(5, 8)

    def fn(x):
        ember.manual_seed(4)  # the same mask at every finite-difference step
        return ember.native_dropout(x, 0.25, True)[0]

    assert gradcheck(fn, (x,))
    out, mask = ember.native_dropout(x, 0.25, True)
    np.testing.assert_allclose(out.detach().numpy(), x.detach().numpy() * mask.numpy() / 0.75)


SEGMENT_DATA = np.array([[1.0, 2.5], [3.0, -2.0], [3.5, 6.0], [0.25, 8.0], [0.5, -1.0]])


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod"])
@pytest.mark.parametrize("initial", [None, 2.0])
def test_segment_reduce_gradients(reduce, initial):
    x = ember.tensor(SEGMENT_DATA, requires_grad=True)
    lengths = ember.tensor([2, 3])
    assert gradcheck(lambda x: ember.segment_reduce(x, reduce, lengths=lengths,
                                                    initial=initial), (x,))


def test_segment_reduce_values_by_hand():
    x = ember.tensor(SEGMENT_DATA)
    out = ember.segment_reduce(x, "mean", offsets=ember.tensor([0, 2, 2, 5]))
    np.testing.assert_allclose(out.numpy()[[0, 2]], [SEGMENT_DATA[:2].mean(0),
                                                     SEGMENT_DATA[2:].mean(0)])
    assert np.isnan(out.numpy()[1]).all()
    ties = ember.tensor([[2.0], [2.0], [1.0]], requires_grad=True)
    ember.segment_reduce(ties, "max", lengths=ember.tensor([3])).sum().backward()
    assert ties.grad.flatten().tolist() == [0.5, 0.5, 0.0]
    with pytest.raises(RuntimeError, match="sum to data.size"):
        ember.segment_reduce(x, "sum", lengths=ember.tensor([1, 1]))


def test_histogramdd_agrees_with_numpy():
    pts = np.random.default_rng(2).standard_normal((200, 3))
    w = np.random.default_rng(3).uniform(size=200)
    hist, edges = ember.histogramdd(ember.tensor(pts), [4, 3, 5], weight=ember.tensor(w),
                                    density=True)
    want, want_edges = np.histogramdd(pts, bins=[4, 3, 5], weights=w, density=True)
    np.testing.assert_allclose(hist.numpy(), want, rtol=1e-10)
    for e, we in zip(edges, want_edges):
        np.testing.assert_allclose(e.numpy(), we, rtol=1e-12, atol=1e-15)


def test_binomial_is_seeded_and_has_the_right_mean():
    count = ember.full((4000,), 20.0)
    prob = ember.full((4000,), 0.3)
    ember.manual_seed(7)
    a = ember.binomial(count, prob)
    ember.manual_seed(7)
    assert ember.binomial(count, prob).tolist() == a.tolist()
    assert abs(a.mean().item() - 6.0) < 0.15 and a.min().item() >= 0 and a.max().item() <= 20


def test_empty_permuted_strides_follow_the_layout():
    t = ember.empty_permuted((2, 3, 4), (2, 0, 1), dtype=ember.float64)
    assert t.dtype == ember.float64 and t.stride() == (3, 1, 6)
    with pytest.raises(RuntimeError, match="Duplicate dim"):
        ember.empty_permuted((2, 3), (1, 1))


def test_dlpack_round_trips_with_numpy_and_shares_memory():
    x = ember.arange(6.0).reshape(2, 3)
    arr = np.from_dlpack(x)
    arr[1, 2] = -1.0
    assert x[1, 2].item() == -1.0 and x.__dlpack_device__() == (1, 0)
    a = np.arange(4.0)
    t = ember.from_dlpack(a)
    t[0] = 9.0
    assert a[0] == 9.0
    assert ember.from_dlpack(a, copy=True).numpy() is not a
    assert ember.from_dlpack(ember.to_dlpack(x)).tolist() == x.tolist()
    with pytest.raises(BufferError, match="require gradient"):
        ember.to_dlpack(_x(2))
    with pytest.raises(RuntimeError, match="invalid capsule"):
        ember.from_dlpack([1, 2])


def test_flags_and_predicates():
    assert ember.set_flush_denormal(True) is False
    assert ember.set_flush_denormal(False) is False
    with pytest.raises(RuntimeError, match="expects a bool"):
        ember.set_flush_denormal(1)
    assert ember.is_distributed(ember.ones(2)) is False
    with pytest.raises(NotImplementedError, match="native_norm"):
        ember.native_norm(ember.ones(2))


def test_nan_to_num_gradients_match_finite_differences():
    x = _x(3, 4, seed=5)
    assert gradcheck(lambda t: ember.nan_to_num(t * t, nan=1.0), (x,))
    assert ember.autograd.gradgradcheck(lambda t: ember.nan_to_num(t * t), (x,))
    y = ember.tensor([1.0, float("nan"), float("inf")], requires_grad=True)
    ember.nan_to_num(y).sum().backward()
    assert y.grad.tolist() == [1.0, 0.0, 0.0]
