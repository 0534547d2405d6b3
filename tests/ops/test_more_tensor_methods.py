"""More Tensor methods without torch: values on hand-checked inputs, float64 finite-difference
gradients of the differentiable ones, the in-place view ops' metadata, and errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from tests.helpers import assert_close

_RNG = np.random.default_rng(3)
A = _RNG.standard_normal((3, 4))
V = _RNG.standard_normal(4)
W = _RNG.standard_normal(3)


def t64(a, grad=True):
    return ember.tensor(np.asarray(a, np.float64), requires_grad=grad)


# --- finite differences -----------------------------------------------------------------------
GRADS = {
    "inner": (lambda a, v: a.inner(v), (A, V)),
    "inner_matrices": (lambda a, b: ember.inner(a, b), (A, A[:2] * 2)),
    "mv": (lambda a, v: a.mv(v), (A, V)),
    "ger": (lambda v, w: v.ger(w), (V, W)),
    "vdot": (lambda v, w: ember.vdot(v, w), (V, V[::-1] * 1)),
    "hsplit": (lambda a: a.hsplit(2)[1], (A,)),
    "vsplit": (lambda a: ember.vsplit(a, [1])[1], (A,)),
    "dsplit": (lambda a: a.reshape(1, 3, 4).dsplit([1, 3])[1], (A,)),
    "diagflat": (lambda a: a.diagflat(-1), (A,)),
    "renorm_2": (lambda a: a.renorm(2, 0, 1.0), (A,)),
    "renorm_1": (lambda a: a.renorm(1, 1, 0.5), (A,)),
    "renorm_3": (lambda a: a.renorm(3, 1, 0.5), (A,)),
    "renorm_inf": (lambda a: a.renorm(math.inf, 0, 0.5), (A,)),
    "sum_to_size": (lambda a: a.sum_to_size(1, 4), (A,)),
    "sum_to_size_lead": (lambda a: a.sum_to_size(4), (A,)),
    "select_scatter": (lambda a, v: a.select_scatter(v, 0, 1), (A, V)),
    "slice_scatter": (lambda a, s: a.slice_scatter(s, 1, 1, None, 2), (A, A[:, :2] * 3)),
    "diagonal_scatter": (lambda a, w: a.diagonal_scatter(w, 1), (A, W)),
    "as_strided_scatter": (lambda a, w: a.as_strided_scatter(w, (3,), (2,), 1), (A, W)),
    "frexp": (lambda a: a.frexp().mantissa, (A,)),
    "narrow_copy": (lambda a: a.narrow_copy(1, 1, 2), (A,)),
    "msort": (lambda a: a.msort(), (A,)),
    "prelu": (lambda a, w: a.prelu(w), (A, np.array([0.25]))),
    "prelu_channels": (lambda a, w: a.reshape(1, 3, 4).prelu(w), (A, W)),
    "hardshrink": (lambda a: a.hardshrink(0.3), (A,)),
    "mvlgamma": (lambda a: (a.abs() + 2).mvlgamma(3), (A,)),
    "polygamma_2": (lambda a: (a.abs() + 0.5).polygamma(2), (A,)),
    "polygamma_3": (lambda a: ember.polygamma(3, a.abs() + 0.5), (A,)),
    "igamma_other": (lambda x: ember.igamma(ember.tensor(np.abs(A) + 0.5), x), (np.abs(A) * 3,)),
    "igammac_other": (lambda x: ember.igammac(ember.tensor(np.abs(A) * 3), x), (np.abs(A) + 1,)),
    "index_reduce_prod": (lambda a, s: a.index_reduce(0, ember.tensor([0, 2, 0]), s, "prod"),
                          (A, A * 2)),
    "index_reduce_mean": (lambda a, s: a.index_reduce(1, ember.tensor([0, 0, 3, 1]), s, "mean",
                                                      include_self=False), (A, A * 2)),
    "index_reduce_amax": (lambda a, s: a.index_reduce(0, ember.tensor([0, 2, 0]), s, "amax"),
                          (A, A * 2)),
    "index_reduce_amin": (lambda a, s: a.index_reduce(0, ember.tensor([1, 1, 1]), s, "amin",
                                                      include_self=False), (A, A * 2)),
    "split_with_sizes": (lambda a: a.split_with_sizes([1, 3], 1)[1], (A,)),
    "unsafe_split": (lambda a: a.unsafe_split(3, 1)[1], (A,)),
    "unsafe_chunk": (lambda a: ember.unsafe_chunk(a, 2, 1)[0], (A,)),
    "where_method": (lambda a: a.where(a > 0, 0.5), (A,)),
    "lu": (lambda a: ember.lu(a)[0], (A[:3, :3] + 2 * np.eye(3),)),
    "lu_wide": (lambda a: a.lu()[0], (A,)),
    "lu_tall": (lambda a: a.t().lu()[0], (A,)),
    "lu_solve": (lambda a, b: b.reshape(3, 1).lu_solve(*ember.lu(a)), (A[:3, :3] + 2 * np.eye(3),
                                                                      W)),
    "lu_unpack": (lambda a: ember.lu_unpack(*ember.lu(a))[1:], (A[:3, :3] + 2 * np.eye(3),)),
    "triangular_solve": (lambda b, a: b.triangular_solve(a)[0],
                         (A[:, :2], A[:3, :3] + 3 * np.eye(3))),
    "triangular_solve_lower_t": (
        lambda b, a: ember.triangular_solve(b, a, upper=False, transpose=True,
                                            unitriangular=True), (A[:, :2], A[:3, :3])),
    "qr": (lambda a: ember.qr(a)[1], (A,)),
    "resize": (lambda a: a.resize(4, 3), (A,)),
    "inplace_t": (lambda a: (a * 1).t_(), (A,)),
    "inplace_transpose": (lambda a: (a * 1).unsqueeze_(1).transpose_(0, 2), (A,)),
    "inplace_squeeze": (lambda a: (a * 1).unsqueeze_(0).squeeze_(0), (A,)),
    "inplace_as_strided": (lambda a: (a * 1).as_strided_((2, 2), (1, 4), 1), (A,)),
    "inplace_renorm": (lambda a: (a * 1).renorm_(2, 1, 0.5), (A,)),
    "inplace_cumsum": (lambda a: (a * 1).cumsum_(1), (A,)),
    "inplace_log10": (lambda a: (a.abs() + 1).log10_(), (A,)),
    "inplace_polygamma": (lambda a: (a.abs() + 1).polygamma_(1), (A,)),
    "inplace_fill_diagonal": (lambda a: (a * 1).fill_diagonal_(3.0), (A,)),
    "inplace_eq": (lambda a: (a * 1).eq_(0.5) + a, (A,)),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradient_matches_finite_differences(name):
    fn, arrays = GRADS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(fn, tuple(t64(a) for a in arrays))


# --- values on hand-checked inputs --------------------------------------------------------------
def test_small_products_and_splits():
    a = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    v = ember.tensor([1.0, -1.0])
    assert a.mv(v).tolist() == [-1.0, -1.0]
    assert a.inner(v).tolist() == [-1.0, -1.0]
    assert ember.vdot(v, v).item() == 2.0
    assert v.ger(ember.tensor([2.0, 3.0])).tolist() == [[2.0, 3.0], [-2.0, -3.0]]
    assert [p.tolist() for p in ember.arange(4).hsplit(2)] == [[0, 1], [2, 3]]
    assert [p.shape[1] for p in ember.zeros(2, 5).hsplit([1, 9])] == [1, 4, 0]
    assert ember.tensor([1, 2]).diagflat(1).tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    assert a.sum_to_size(1, 2).tolist() == [[4.0, 6.0]]
    assert a.sum_to_size(2, 2) is a
    assert a.msort().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert ember.tensor([[0, 1], [2, 0]]).argwhere().tolist() == [[0, 1], [1, 0]]
    assert ember.tensor([[0, 1], [2, 0]]).nonzero_static(size=3).tolist() == [[0, 1], [1, 0],
                                                                             [-1, -1]]


def test_scatters_replace_one_region():
    x = ember.zeros(2, 3)
    assert x.select_scatter(ember.ones(3), 0, 1).tolist() == [[0, 0, 0], [1, 1, 1]]
    assert x.slice_scatter(ember.ones(2, 1), 1, -1).tolist() == [[0, 0, 1], [0, 0, 1]]
    assert x.diagonal_scatter(ember.ones(2), 1).tolist() == [[0, 1, 0], [0, 0, 1]]
    assert x.as_strided_scatter(ember.ones(2), (2,), (2,), 1).tolist() == [[0, 1, 0], [1, 0, 0]]
    assert x.tolist() == [[0, 0, 0], [0, 0, 0]]  # copies: the input is untouched


def test_signs_tests_and_complex_views():
    x = ember.tensor([-1.5, 0.0, 2.5, math.inf, -math.inf, math.nan])
    assert x.sgn()[:3].tolist() == [-1.0, 0.0, 1.0]
    assert x.fix()[:3].tolist() == [-1.0, 0.0, 2.0]
    assert x.isposinf().tolist() == [False, False, False, True, False, False]
    assert x.isneginf().tolist() == [False, False, False, False, True, False]
    assert x.isreal().all().item()
    assert x.angle()[:3].tolist() == [pytest.approx(math.pi), 0.0, 0.0]
    for name in ("conj", "conj_physical", "resolve_conj", "resolve_neg", "positive"):
        assert getattr(x, name)() is x
    assert x.real is x
    assert not x.is_complex() and not x.is_conj() and not x.is_neg() and not x.is_inference()
    assert x.is_signed() and not ember.tensor([1], dtype=ember.uint8).is_signed()
    assert x.is_cpu and x.get_device() == -1 and not x.is_sparse and not x.is_quantized
    m, e = ember.tensor([1.5, -2.5, 0.0]).frexp()
    assert m.tolist() == [0.75, -0.625, 0.0] and e.tolist() == [1, 2, 0]
    assert e.dtype == ember.int32


def test_special_functions_known_values():
    assert_close(ember.polygamma(1, ember.tensor([1.0], dtype=ember.float64)), [math.pi ** 2 / 6])
    assert_close(ember.polygamma(2, ember.tensor([1.0], dtype=ember.float64)),
                 [-2 * 1.2020569031595942])
    assert_close(ember.tensor([2.5], dtype=ember.float64).mvlgamma(2),
                 [math.lgamma(2.5) + math.lgamma(2.0) + 0.5 * math.log(math.pi)])
    a = ember.tensor([1.0, 2.0, 0.5], dtype=ember.float64)
    x = ember.tensor([1.0, 3.0, 2.0], dtype=ember.float64)
    lower = [1 - math.exp(-1), 1 - 4 * math.exp(-3), math.erf(math.sqrt(2))]
    assert_close(ember.igamma(a, x), lower)
    assert_close(ember.igammac(a, x), [1 - v for v in lower])
    edges = ember.igamma(ember.tensor([0.0, 1.0, -1.0, math.nan]), ember.tensor([1.0, 0.0, 1.0,
                                                                              0.0]))
    assert_close(edges, [1.0, 0.0, math.nan, 0.0])


def test_index_reduce_values():
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    src = ember.tensor([[2.0, 5.0], [7.0, 7.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idx = ember.tensor([0, 0])
        assert x.index_reduce(0, idx, src, "prod").tolist() == [[14.0, 70.0], [3.0, 4.0]]
        assert x.index_reduce(0, idx, src, "amax", include_self=False).tolist() == \
            [[7.0, 7.0], [3.0, 4.0]]
        assert_close(x.index_reduce(0, idx, src, "mean"), [[10 / 3, 14 / 3], [3.0, 4.0]])
        i = ember.tensor([[1, 2], [3, 4]])
        assert i.index_reduce(0, idx, src.long(), "mean").tolist() == [[3, 4], [3, 4]]


# --- in-place ops ----------------------------------------------------------------------------
def test_inplace_view_ops_change_shape_over_the_same_memory():
    x = ember.arange(6.0).reshape(2, 3)
    ptr = x.data_ptr()
    assert x.t_() is x
    assert (tuple(x.shape), x.stride(), x.data_ptr(), x._version) == ((3, 2), (1, 3), ptr, 1)
    x.unsqueeze_(1)
    assert tuple(x.shape) == (3, 1, 2)
    x.squeeze_()
    x.transpose_(0, 1)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    x.as_strided_((2, 2), (1, 2), 1)
    assert x.tolist() == [[1.0, 3.0], [2.0, 4.0]] and x.storage_offset() == 1


def test_inplace_view_op_records_its_node():
    y = t64(A) * 2
    y.t_()
    assert type(y.grad_fn).__name__ == "TBackward1"
    y.unsqueeze_(0)
    assert type(y.grad_fn).__name__ == "UnsqueezeBackward1"
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        t64(A).t_()


def test_inplace_comparisons_logical_and_bitwise():
    x = ember.tensor([1.0, 2.0, 3.0])
    assert x.clone().eq_(2.0).tolist() == [0.0, 1.0, 0.0]
    assert x.clone().greater_equal_(ember.tensor([2.0, 2.0, 2.0])).tolist() == [0.0, 1.0, 1.0]
    assert ember.tensor([1, 2, 3]).lt_(2.5).tolist() == [1, 1, 0]
    assert x.clone().logical_and_(ember.tensor([1.0, 0.0, 1.0])).tolist() == [1.0, 0.0, 1.0]
    assert ember.tensor([5, 3], dtype=ember.uint8).bitwise_and_(ember.tensor([1, 1])).tolist() \
        == [1, 1]
    with pytest.raises(NotImplementedError, match="bitwise_and_cpu"):
        x.clone().bitwise_and_(ember.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Bool"):
        ember.tensor([True]).bitwise_or_(ember.tensor([2]))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.clone().eq_(ember.zeros(2, 3))


def test_resize_keeps_storage_order_and_grows():
    a = ember.arange(6.0)
    ptr = a.data_ptr()
    a.resize_(2, 2)
    assert a.tolist() == [[0.0, 1.0], [2.0, 3.0]] and a.data_ptr() == ptr
    a.resize_(3, 3)
    assert a.flatten()[:6].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    b = ember.arange(6.0)[2:]
    b.resize_(2)
    assert b.tolist() == [2.0, 3.0] and b.storage_offset() == 2
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        t64(A).resize_(2)


def test_legacy_new_and_new_empty_strided():
    x = ember.zeros(2, dtype=ember.float64)
    assert tuple(x.new(2, 3).shape) == (2, 3) and x.new(2, 3).dtype == ember.float64
    assert x.new([1, 2]).tolist() == [1.0, 2.0] and tuple(x.new((2, 3)).shape) == (2,)
    other = ember.tensor([1.0, 2.0], dtype=ember.float64)
    assert x.new(other).data_ptr() == other.data_ptr()
    s = x.new_empty_strided((2, 3), (1, 2))
    assert tuple(s.shape) == (2, 3) and s.stride() == (1, 2)
    with pytest.raises(TypeError, match="data must be a sequence"):
        x.new(2.5)


def test_random_fills_are_reproducible_and_checked():
    ember.manual_seed(1)
    a = ember.empty(20).cauchy_(0.0, 2.0)
    ember.manual_seed(1)
    b = ember.empty(20).cauchy_(0.0, 2.0)
    assert a.tolist() == b.tolist()
    g = ember.empty(1000, dtype=ember.int64).geometric_(0.5)
    assert g.min().item() >= 1 and abs(g.double().mean().item() - 2.0) < 0.2
    ln = ember.empty(1000, dtype=ember.float64).log_normal_(0.0, 0.5)
    assert abs(ln.log().mean().item()) < 0.1
    with pytest.raises(RuntimeError, match="cauchy_ expects sigma > 0.0, but found sigma=0"):
        ember.zeros(2).cauchy_(0, 0)
    with pytest.raises(RuntimeError, match=r"geometric_ expects p to be in \(0, 1\)"):
        ember.zeros(2).geometric_(1)
    with pytest.raises(NotImplementedError, match="log_normal_cpu"):
        ember.zeros(2, dtype=ember.int64).log_normal_()


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="vector \\+ matrix @ vector expected"):
        ember.ones(4).mv(ember.ones(4))
    with pytest.raises(RuntimeError, match="not divisible by the split_size 2"):
        ember.ones(2, 3).hsplit(2)
    with pytest.raises(RuntimeError, match="renorm: non-positive-norm not supported"):
        ember.ones(2, 3).renorm(0, 0, 1)
    with pytest.raises(RuntimeError, match="expected src to have a size equal to the slice"):
        ember.zeros(2, 3).select_scatter(ember.ones(2), 0, 0)
    with pytest.raises(RuntimeError, match="polygamma\\(n, x\\) does not support negative n"):
        ember.ones(2).polygamma(-1)
    with pytest.raises(RuntimeError, match="This function was deprecated since version 1.9"):
        ember.ones(2, 2).lstsq(ember.ones(2, 2))
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        _ = ember.ones(2).imag
    with pytest.raises(NotImplementedError, match="the derivative for 'igamma: input'"):
        ember.igamma(t64([1.0]), t64([2.0])).sum().backward()
