"""More Tensor methods against torch: the same call on ember and torch tensors must give the
same values, dtypes, gradients and node names; in-place view ops the same sizes, strides and
memory; the random fills the same draws after the same seed; bad input the same errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(11)
A = _RNG.standard_normal((3, 4))
V = _RNG.standard_normal(4)
W = _RNG.standard_normal(3)
SQ = A[:3, :3] + 2 * np.eye(3)
POS = np.abs(A) + 0.5


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _grad(t):
    g = t.grad
    if g is None:
        return None
    if hasattr(g, "_is_zerotensor") and g._is_zerotensor():
        return np.zeros(tuple(g.shape))
    return g.detach().numpy()


def _run(m, fn, arrays, dtype, grad):
    ts = [m.tensor(a, dtype=getattr(m, dtype) if a.dtype.kind == "f" else None,
                   requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    out = fn(m, *ts)
    out = out[0] if isinstance(out, tuple) else out
    name = type(out.grad_fn).__name__ if out.grad_fn is not None else None
    grads = None
    if grad and out.requires_grad:
        weights = m.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)),
                           dtype=out.dtype)
        (out * weights).sum().backward()
        grads = [_grad(t) for t in ts]
    return out.detach().numpy().copy(), str(out.dtype).split(".")[-1], name, grads


# (name, fn(m, *tensors), input arrays, compare gradients)
CASES = [
    ("moveaxis", lambda m, a: a.moveaxis(0, 1), (A,), True),
    ("broadcast_to", lambda m, v: v.broadcast_to((2, 3, 4)), (V,), True),
    ("inner", lambda m, a, v: a.inner(v), (A, V), True),
    ("inner_scalar", lambda m, a, s: m.inner(a, s), (A, np.array(2.0)), True),
    ("inner_ints", lambda m, a: a.inner(a), (np.arange(6).reshape(2, 3),), False),
    ("mv", lambda m, a, v: a.mv(v), (A, V), True),
    ("ger", lambda m, v, w: v.ger(w), (V, W), True),
    ("vdot", lambda m, v, w: m.vdot(v, w), (V, V * 2), True),
    ("hsplit", lambda m, a: a.hsplit(2)[1], (A,), True),
    ("vsplit", lambda m, a: m.vsplit(a, [1])[1], (A,), True),
    ("dsplit", lambda m, a: a.reshape(1, 3, 4).dsplit([1, 3])[1], (A,), True),
    ("diagflat", lambda m, a: a.diagflat(1), (A,), True),
    ("diagflat_scalar", lambda m, a: m.diagflat(a[0, 0], -1), (A,), True),
    ("renorm_2", lambda m, a: a.renorm(2, 0, 1.0), (A,), True),
    ("renorm_1", lambda m, a: a.renorm(1, 1, 0.5), (A,), True),
    ("renorm_3", lambda m, a: m.renorm(a, 3, 1, 0.5), (A,), True),
    ("renorm_inf", lambda m, a: a.renorm(math.inf, 0, 0.5), (A,), True),
    ("renorm_half", lambda m, a: a.renorm(0.5, 0, 0.5), (A,), True),
    ("sum_to_size", lambda m, a: a.sum_to_size(1, 4), (A,), True),
    ("sum_to_size_lead", lambda m, a: a.sum_to_size((4,)), (A,), True),
    ("sum_to_size_int", lambda m, a: a.sum_to_size(3), (np.ones((2, 3), np.int32),), False),
    ("select_scatter", lambda m, a, v: a.select_scatter(v, 0, 1), (A, V), True),
    ("select_scatter_neg", lambda m, a, w: m.select_scatter(a, w, 1, -1), (A, W), True),
    ("slice_scatter", lambda m, a, s: a.slice_scatter(s, 1, 1, None, 2), (A, A[:, :2] * 3), True),
    ("slice_scatter_dim0", lambda m, a, s: a.slice_scatter(s, 0, -2), (A, A[:2] * 3), True),
    ("diagonal_scatter", lambda m, a, w: a.diagonal_scatter(w[:3]), (A, W), True),
    ("diagonal_scatter_off", lambda m, a, w: m.diagonal_scatter(a, w[:2], -1), (A, W), True),
    ("as_strided_scatter_src", lambda m, a, w: a.detach().as_strided_scatter(w, (3,), (2,), 1),
     (A, W), True),
    ("as_strided_scatter_t", lambda m, a, w: a.t().as_strided_scatter(w, (3,), (1,), 1),
     (A, W), False),
    ("sgn", lambda m, a: a.sgn(), (A,), False),  # torch: a ZeroTensor gradient, slow to start
    ("sgn_int", lambda m, a: a.sgn(), (np.array([-2, 0, 3]),), False),
    ("fix", lambda m, a: (a * 3).fix(), (A,), True),
    ("positive", lambda m, a: a.positive(), (A,), True),
    ("angle", lambda m, a: a.angle(), (np.array([-1.0, 0.0, 2.0, np.nan]),), True),
    ("angle_int", lambda m, a: m.angle(a), (np.array([-1, 0, 2]),), False),
    ("frexp", lambda m, a: a.frexp()[0], (A * 10,), True),
    ("frexp_exponent", lambda m, a: m.frexp(a)[1], (A * 10,), False),
    ("narrow_copy", lambda m, a: a.narrow_copy(1, -3, 2), (A,), True),
    ("msort", lambda m, a: a.msort(), (A,), True),
    ("prelu", lambda m, a, w: a.prelu(w), (A, np.array([0.25])), True),
    ("prelu_channels", lambda m, a, w: m.prelu(a.reshape(1, 3, 4), w), (A, W), True),
    ("hardshrink", lambda m, a: a.hardshrink(0.3), (A,), True),
    ("mvlgamma", lambda m, a: (a.abs() + 2).mvlgamma(3), (A,), True),
    ("mvlgamma_int", lambda m, a: m.mvlgamma(a, 2), (np.array([2, 3, 7]),), False),
    ("polygamma_0", lambda m, a: m.polygamma(0, a), (POS,), True),
    ("polygamma_1", lambda m, a: a.polygamma(1), (A,), True),
    ("polygamma_2", lambda m, a: a.polygamma(2), (A,), True),
    ("polygamma_4", lambda m, a: m.polygamma(4, a * 5), (A,), True),
    ("polygamma_int", lambda m, a: m.polygamma(2, a), (np.array([1, 2, 5]),), False),
    ("igamma", lambda m, a, x: m.igamma(a.detach(), x), (POS, np.abs(A) * 3), True),
    ("igammac", lambda m, a, x: a.detach().igammac(x), (POS, np.abs(A) * 3), True),
    ("igamma_large", lambda m, a, x: m.igamma(a.detach(), x), (POS * 40, POS * 40 + A), True),
    ("igammac_large", lambda m, a, x: m.igammac(a.detach(), x), (POS * 400, POS * 400 + A * 9),
     True),
    ("igamma_broadcast", lambda m, a, x: m.igamma(a.detach(), x), (POS[:, :1], POS[:1]), True),
    ("index_reduce_prod", lambda m, a, s: a.index_reduce(0, m.tensor([0, 2, 0]), s, "prod"),
     (A, A * 2), True),
    ("index_reduce_prod_zeros", lambda m, a, s: a.index_reduce(0, m.tensor([0, 1, 0]), s,
                                                               "prod"),
     (np.array([[1.0, 2], [3, 0], [5, 6]]), np.array([[2.0, 0], [3, 0], [1, 1]])), True),
    ("index_reduce_mean", lambda m, a, s: a.index_reduce(1, m.tensor([0, 0, 3, 1]), s, "mean",
                                                         include_self=False), (A, A * 2), True),
    ("index_reduce_amax_ties", lambda m, a, s: a.index_reduce(0, m.tensor([0, 1, 0]), s, "amax",
                                                              include_self=False),
     (np.array([[1.0, 2], [3, 0], [5, 6]]), np.array([[2.0, 0], [3, 0], [1, 1]])), True),
    ("index_reduce_amin", lambda m, a, s: m.index_reduce(a, 0, m.tensor([1, 1, 1]), s, "amin"),
     (A, A * 2), True),
    ("index_reduce_mean_int", lambda m, a, s: a.index_reduce(0, m.tensor([0, 0]), s, "mean"),
     (np.array([[1, 2], [3, 4]]), np.array([[2, 5], [7, -7]])), False),
    ("split_with_sizes", lambda m, a: a.split_with_sizes([1, 3], 1)[1], (A,), True),
    ("unsafe_split", lambda m, a: a.unsafe_split(3, 1)[1], (A,), True),
    ("unsafe_chunk", lambda m, a: a.unsafe_chunk(2, 1)[1], (A,), True),
    ("unsafe_split_with_sizes", lambda m, a: m.unsafe_split_with_sizes(a, [2, 2], 1)[0], (A,),
     True),
    ("where_method", lambda m, a: a.where(a > 0, 0.5), (A,), True),
    ("argwhere", lambda m, a: (a > 0).argwhere(), (A,), False),
    ("isposinf", lambda m, a: m.isposinf(a / 0), (A,), False),
    ("isneginf_int", lambda m, a: a.isneginf(), (np.array([1, -2]),), False),
    ("isreal", lambda m, a: a.isreal(), (A,), False),
    ("nonzero_static", lambda m, a: (a > 0).nonzero_static(size=9, fill_value=-7), (A,), False),
    ("histogram", lambda m, a: a.histogram(4)[0], (A,), False),
    ("qr", lambda m, a: m.qr(a)[1], (A,), True),
    ("qr_complete", lambda m, a: a.t().qr(some=False)[0].abs(), (A,), False),
    ("lu", lambda m, a: m.lu(a)[0], (SQ,), True),
    ("lu_pivots", lambda m, a: m.lu(a)[1], (A[:3, :3],), False),
    ("lu_infos", lambda m, a: m.lu(a * 0, get_infos=True)[2], (SQ,), False),
    ("lu_wide", lambda m, a: a.lu()[0], (A,), True),
    ("lu_tall", lambda m, a: a.t().lu()[0], (A,), True),
    ("lu_batch", lambda m, a: m.lu(a.reshape(2, 2, 3)[..., :2])[0], (A,), True),
    ("lu_solve", lambda m, a, b: b.reshape(3, 1).lu_solve(*m.lu(a)), (SQ, W), True),
    ("lu_solve_batch", lambda m, a, b: m.lu_solve(b.reshape(2, 3, 2), *m.lu(a)), (SQ, A), True),
    ("lu_unpack_P", lambda m, a: m.lu_unpack(*m.lu(a))[0], (A[:3, :3],), False),
    ("lu_unpack_L", lambda m, a: m.lu_unpack(*m.lu(a.t()))[1], (A,), True),
    ("lu_unpack_U", lambda m, a: m.lu_unpack(*m.lu(a))[2], (A,), True),
    ("triangular_solve", lambda m, b, a: b.triangular_solve(a)[0], (A[:, :2], SQ + np.eye(3)),
     True),
    ("triangular_solve_lower_t_unit", lambda m, b, a: m.triangular_solve(
        b, a, upper=False, transpose=True, unitriangular=True)[0], (A[:, :2], SQ), True),
    ("triangular_solve_clone", lambda m, b, a: m.triangular_solve(b, a)[1], (A[:, :2], SQ),
     True),
    ("triangular_solve_batch", lambda m, b, a: m.triangular_solve(
        b.reshape(2, 3, 2), a, transpose=True)[0], (A, SQ), True),
    ("resize", lambda m, a: a.resize(4, 3), (A,), True),
    ("resize_as", lambda m, a: a.resize_as(a.t()), (A,), True),
    ("eq_", lambda m, a: (a * 1).eq_(0.5) + a, (np.round(A * 2) / 2,), True),
    ("lt_tensor", lambda m, a: (a * 1).lt_(a[0]), (A,), True),
    ("ge_int", lambda m, a: (a * 1).ge_(1), (np.array([0, 1, 2]),), False),
    ("not_equal_", lambda m, a: (a * 1).not_equal_(a[:, :1]), (A,), True),
    ("logical_or_", lambda m, a: (a * 1).logical_or_(a > 0), (A,), True),
    ("logical_not_", lambda m, a: (a * 1).logical_not_(), (np.array([0.0, 1.5]),), False),
    ("bitwise_xor_", lambda m, a: a.clone().bitwise_xor_(3), (np.array([1, 2, 3]),), False),
    ("bitwise_not_bool", lambda m, a: (a > 1).bitwise_not_(), (np.array([1, 2, 3]),), False),
    ("cumsum_", lambda m, a: (a * 1).cumsum_(1), (A,), True),
    ("cumprod_", lambda m, a: (a * 1).cumprod_(0), (A,), True),
    ("cumsum_int32", lambda m, a: a.clone().cumsum_(0), (np.array([1, 2, 3], np.int32),), False),
    ("log10_", lambda m, a: (a.abs() + 1).log10_(), (A,), True),
    ("log2_", lambda m, a: (a.abs() + 1).log2_(), (A,), True),
    ("expm1_", lambda m, a: (a * 1).expm1_(), (A,), True),
    ("tan_", lambda m, a: (a * 0.5).tan_(), (A,), True),
    ("absolute_", lambda m, a: (a * 1).absolute_(), (A,), True),
    ("negative_", lambda m, a: (a * 1).negative_(), (A,), True),
    ("fix_", lambda m, a: (a * 3).fix_(), (A,), True),
    ("sgn_", lambda m, a: (a * 1).sgn_(), (A,), False),
    ("float_power_", lambda m, a: (a * 1).float_power_(2), (A,), True),
    ("renorm_", lambda m, a: (a * 1).renorm_(2, 1, 0.5), (A,), True),
    ("mvlgamma_", lambda m, a: (a.abs() + 2).mvlgamma_(2), (A,), True),
    ("polygamma_", lambda m, a: (a.abs() + 0.5).polygamma_(1), (A,), True),
    ("igamma_", lambda m, a, x: a.detach().clone().igamma_(x), (POS, POS * 2), True),
    ("igammac_", lambda m, a, x: a.detach().clone().igammac_(x), (POS, POS * 2), True),
    ("index_reduce_", lambda m, a, s: (a * 1).index_reduce_(0, m.tensor([0, 2, 0]), s, "prod",
                                                            include_self=False), (A, A * 2),
     True),
    ("addmm_", lambda m, a, b: (a * 1).addmm_(a, b, beta=0.5), (A[:, :3], SQ), True),
    ("fill_diagonal_", lambda m, a: (a * 1).fill_diagonal_(3.0), (A,), True),
    ("fill_diagonal_wrap", lambda m, a: (a.t().repeat(2, 1) * 1).fill_diagonal_(-1, wrap=True),
     (A,), True),
    ("t_", lambda m, a: (a * 1).t_(), (A,), True),
    ("transpose_", lambda m, a: (a * 1).unsqueeze_(1).transpose_(0, 2), (A,), True),
    ("swapaxes_", lambda m, a: (a * 1).swapaxes_(0, 1), (A,), True),
    ("swapdims_", lambda m, a: (a * 1).swapdims_(1, 0), (A,), True),
    ("squeeze_all", lambda m, a: (a * 1).unsqueeze_(0).squeeze_(), (A,), True),
    ("squeeze_dim", lambda m, a: (a * 1).unsqueeze_(-1).squeeze_(2), (A,), True),
    ("as_strided_", lambda m, a: (a * 1).as_strided_((2, 2), (1, 4), 1), (A,), True),
    ("view_inplace_on_view", lambda m, a: (a * 1)[1:].t_(), (A,), True),
]


# float_power_ needs a float64 tensor (its error on float32 is tested below)
DTYPE_CASES = [(case, dtype) for dtype in ("float64", "float32") for case in CASES
               if not (case[0] == "float_power_" and dtype == "float32")]


@pytest.mark.parametrize("case,dtype", DTYPE_CASES,
                         ids=[f"{c[0]}-{d}" for c, d in DTYPE_CASES])
def test_matches_torch(case, dtype):
    name, fn, arrays, grad = case
    got = _run(ember, fn, arrays, dtype, grad)
    want = _run(torch, fn, arrays, dtype, grad)
    tol = {"rtol": 1e-9, "atol": 1e-12} if got[1] == "float64" else {}
    if "igamma" in name and "large" in name:  # torch's asymptotic series: ~1e-9 (float32: 1e-6)
        tol = {"rtol": 1e-6, "atol": 1e-9} if got[1] == "float64" else {"rtol": 2e-5}
    assert got[1] == want[1], f"dtype {got[1]} != {want[1]}"
    assert_close(got[0], want[0], msg="values", **tol)
    assert got[2] == want[2], f"node {got[2]} != {want[2]}"
    if grad:
        assert (got[3] is None) == (want[3] is None)
        for g, w in zip(got[3] or (), want[3] or ()):
            assert (g is None) == (w is None)
            if g is not None:
                assert_close(g, w, msg="gradient", **({"rtol": 1e-4, "atol": 1e-4}
                                                      if g.dtype == np.float32 else tol))


def test_as_strided_scatter_gradient_is_the_true_one():
    # torch's gradient for ``input`` is a known-wrong formula (the region's gradient put back,
    # albanD on pytorch#77128); ember gives the gradient finite differences agree with
    a = ember.tensor(A, requires_grad=True)
    a.as_strided_scatter(ember.tensor(W), (3,), (2,), 1).sum().backward()
    expected = np.ones_like(A)
    expected.reshape(-1)[[1, 3, 5]] = 0
    assert_close(a.grad, expected)


# --- views, copies and memory -----------------------------------------------------------------
def _layout(m):
    out = {}
    x = m.arange(6.0).reshape(2, 3)
    ptr = x.data_ptr()
    out["t_"] = (x.t_() is x, tuple(x.shape), x.stride(), x.data_ptr() == ptr, x._version)
    x.unsqueeze_(1)
    out["unsqueeze_"] = (tuple(x.shape), x.stride(), x._version)
    x.squeeze_()
    x.transpose_(0, 1)
    out["transpose_"] = (tuple(x.shape), x.stride(), x.tolist())
    x.as_strided_((2, 2), (1, 2), 1)
    out["as_strided_"] = (x.stride(), x.storage_offset(), x.tolist())
    z = m.arange(6.0).reshape(2, 3)
    w = z[0]
    w.unsqueeze_(0)
    w.mul_(10)
    out["view_of_view"] = (z.tolist(), z._version, tuple(w.shape))
    a = m.arange(6.0)
    pa = a.data_ptr()
    a.resize_(2, 2)
    out["resize_"] = (a.tolist(), a.data_ptr() == pa, a._version)
    a.resize_(3, 3)
    out["resize_grow"] = (tuple(a.shape), a.flatten()[:6].tolist())
    b = m.arange(6.0).reshape(2, 3).t()
    b.resize_(3, 2)
    out["resize_same"] = (b.stride(), b.tolist())
    c = m.arange(6.0)[2:]
    c.resize_(2)
    out["resize_view"] = (c.tolist(), c.storage_offset())
    d = m.zeros(4)
    d.resize_as_(m.zeros(2, 2))
    out["resize_as_"] = tuple(d.shape)
    t = m.tensor([1.0, 2.0])
    out["new_alias"] = (x.new(t) is t, x.new(t).data_ptr() == t.data_ptr())
    out["new"] = (tuple(x.new().shape), tuple(x.new(2, 3).shape), x.new([1, 2]).tolist(),
                  tuple(x.new((2, 3)).shape), tuple(x.new(m.Size([2, 3])).shape),
                  str(m.zeros(1, dtype=m.int64).new(3).dtype).split(".")[-1])
    s = x.new_empty_strided((2, 3), (1, 2), dtype=m.float64)
    out["new_empty_strided"] = (tuple(s.shape), s.stride(), str(s.dtype).split(".")[-1])
    q = m.ones(2, 3)
    parts = q.unsafe_split(1)
    q.add_(1)
    out["unsafe_split_shares_memory"] = (parts[0].tolist(), parts[0]._version)
    parts = q.split_with_sizes([1, 1])
    q.add_(1)
    out["split_with_sizes_views"] = (parts[0].tolist(), parts[0]._version)
    base = m.ones(2, 3)
    out["scatter_copies"] = base.select_scatter(m.zeros(3), 0, 1).data_ptr() != base.data_ptr()
    e = m.arange(4.0)
    e.eq_(2)
    out["eq_"] = (e.tolist(), e._version)
    fd = m.zeros(3, 4)
    fd.fill_diagonal_(2)
    out["fill_diagonal_"] = fd.tolist()
    ex = m.zeros(3).expand(2, 3)
    ex.t_()
    out["t_expanded"] = (tuple(ex.shape), ex.stride())
    sx = m.arange(6.0).reshape(2, 3)
    sv = sx.t()
    sx.t_()
    out["other_view_untouched"] = (sv.tolist(), sx.tolist())
    st = m.zeros(2, 3)
    st.set_(m.arange(4.0))
    out["set_"] = (st.tolist(), st.is_set_to(st))
    return out


def test_inplace_view_ops_and_copies_match_torch():
    got, want = _layout(ember), _layout(torch)
    for key in want:
        assert got[key] == want[key], key


def test_inplace_view_op_grad_modes_match_torch():
    for m in (ember, torch):
        x = m.tensor(A, requires_grad=True)
        y = x * 2
        with m.no_grad():
            y.t_()
        assert type(y.grad_fn).__name__ == "MulBackward0" and tuple(y.shape) == (4, 3)
        v = (x * 1)[0]
        v.unsqueeze_(0)
        assert type(v.grad_fn).__name__ == "UnsqueezeBackward1"


def test_split_with_sizes_refuses_inplace_but_unsafe_split_allows_it():
    for m in (ember, torch):
        x = m.tensor(A, requires_grad=True) * 1
        x.unsafe_split(1)[0].add_(1)
        with pytest.raises(RuntimeError, match="Output 0 of SplitWithSizes is a view"):
            x.split_with_sizes([1, 2])[0].add_(1)


# --- random fills ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("draw", [("log_normal_", (0.5, 1.5)), ("cauchy_", (1.0, 2.0)),
                                  ("geometric_", (0.3,)), ("log_normal_", ()), ("cauchy_", ())],
                         ids=lambda d: f"{d[0]}{len(d[1])}")
def test_random_fills_draw_torchs_numbers(draw, dtype):
    name, args = draw
    out = []
    for m in (ember, torch):
        m.manual_seed(5)
        t = m.empty(7, 5, dtype=getattr(m, dtype)).t()  # torch fills in memory order
        getattr(t, name)(*args)
        out.append((t.numpy().copy(), m.rand(3).numpy()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])  # the stream moved on as torch's


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_geometric_fills_integer_tensors_as_torch(dtype):
    got = []
    for m in (ember, torch):
        g = m.Generator().manual_seed(9)
        got.append(m.empty(300, dtype=getattr(m, dtype)).geometric_(0.2, generator=g).numpy())
    np.testing.assert_array_equal(got[0], got[1])


# --- errors ---------------------------------------------------------------------------------
ERRORS = [
    "m.zeros(3, dtype=m.int64).cauchy_()", "m.zeros(3).cauchy_(0, 0)",
    "m.zeros(3, dtype=m.int32).log_normal_()", "m.zeros(3).log_normal_(1, -1)",
    "m.zeros(3).geometric_(1)", "m.zeros(3).geometric_(0)",
    "m.zeros(3, dtype=m.bool).geometric_(0.5)", "m.zeros(3, requires_grad=True).cauchy_()",
    "m.zeros(2, 3).select_scatter(m.ones(2), 0, 1)",
    "m.zeros(2, 3).select_scatter(m.ones(3), 0, 2)",
    "m.zeros(2, 3).slice_scatter(m.ones(2, 1), 1, 0, 2)",
    "m.zeros(2, 3).slice_scatter(m.ones(2, 1), 1, 0, 2, 0)",
    "m.zeros(2, 3).diagonal_scatter(m.ones(3))",
    "m.zeros(2, 3).diagonal_scatter(m.ones(2), 0, 1, 1)",
    "m.zeros(2, 3).as_strided_scatter(m.ones(3), (3,), (1,), 20)",
    "m.tensor(1.).select_scatter(m.tensor(1.), 0, 0)",
    "m.ones(3, 4).mv(m.ones(3))", "m.ones(4).mv(m.ones(4))",
    "m.ones(3, 4).mv(m.ones(4, dtype=m.float64))", "m.ones(3).vdot(m.ones(4))",
    "m.ones(3, 4).vdot(m.ones(4))", "m.ones(3).vdot(m.ones(3, dtype=m.float64))",
    "m.ones(3, 4).inner(m.ones(3))", "m.ones(3, 4).inner(m.ones(4, dtype=m.float64))",
    "m.ones(3, 4).ger(m.ones(3))", "m.ones(2, 3).renorm(2, 0, -1)", "m.ones(2, 3).renorm(0, 0, 1)",
    "m.ones(3).renorm(2, 0, 1)", "m.ones(2, 3, dtype=m.int64).renorm(2, 0, 1)",
    "m.ones(2, 3).renorm(2, 2, 1)",
    "m.tensor([True]).positive()", "m.tensor([1, 2]).frexp()", "m.tensor([1, 2]).hardshrink()",
    "m.tensor([True]).fix()", "m.ones(3).mvlgamma(0)", "m.ones(3).polygamma(-1)",
    "m.polygamma(1.5, m.ones(3))", "m.igamma(m.tensor([1, 2]), m.tensor([1, 2]))",
    "m.igamma(m.ones(2), 2.)", "m.igamma(m.ones(2), m.ones(3))",
    "m.ones(2, 3).hsplit(2)", "m.tensor(1.).hsplit(2)", "m.ones(3).vsplit(2)",
    "m.ones(2, 3).dsplit(2)", "m.ones(2, 3).hsplit(0)", "m.ones(2, 3).narrow_copy(1, 1, 5)",
    "m.ones(2, 3).narrow_copy(2, 0, 1)", "m.ones(2, 3).sum_to_size(1, 2, 3)",
    "m.ones(2, 3).sum_to_size(2, 2)",
    "m.ones(2, 3).split_with_sizes([1, 2], 0)", "m.ones(2, 3).split_with_sizes([4, -1], 1)",
    "m.ones(2, 3).unsafe_chunk(0)", "m.ones(2, 3).unsafe_split(0, 1)",
    "m.ones(3, 2).index_reduce(0, m.tensor([0]), m.ones(1, 2), 'sum')",
    "m.ones(3, 2).index_reduce(0, m.tensor([0.]), m.ones(1, 2), 'prod')",
    "m.ones(3, 2).index_reduce(0, m.tensor([5]), m.ones(1, 2), 'prod')",
    "m.ones(3, 2).index_reduce(0, m.tensor([-1]), m.ones(1, 2), 'prod')",
    "m.ones(3, 2).index_reduce(0, m.tensor([0, 1]), m.ones(1, 2), 'prod')",
    "m.ones(3, 2).index_reduce(0, m.tensor([0]), m.ones(1, 2, dtype=m.float64), 'prod')",
    "m.ones(3, 2).index_reduce(0, m.tensor([[0]]), m.ones(1, 2), 'prod')",
    "m.ones(3, 2).index_reduce(0, m.tensor([0]), m.ones(1, 3), 'prod')",
    "m.tensor([True]).index_reduce(0, m.tensor([0]), m.tensor([True]), 'prod')",
    "m.zeros(3).fill_diagonal_(1)", "m.zeros(2, 3, 2).fill_diagonal_(1)",
    "m.zeros(2, 2).nonzero_static(size=-1)",
    "m.zeros(2, 3, 4).t_()", "m.zeros(2, 3).transpose_(0, 3)", "m.zeros(2, 3).unsqueeze_(3)",
    "m.zeros(2, 3, requires_grad=True).t_()", "m.zeros(2, 3, requires_grad=True).squeeze_()",
    "m.zeros(2, 3, requires_grad=True).resize_(3)",
    "(m.zeros(2, 3, requires_grad=True) * 1).resize_(3)", "m.zeros(3).resize_(-1)",
    "m.zeros(3).resize(4)", "m.zeros(2).new(m.tensor([1, 2]))", "m.zeros(2).new(2.5)",
    "m.zeros(2).new(-1)", "m.zeros(2).new([1, 2], dtype=m.int64)",
    "m.tensor([1., 2]).float_power_(2)", "m.tensor([1, 2]).cumsum_(0, dtype=m.float32)",
    "m.tensor([1, 2]).log2_()", "m.tensor([1., 2]).bitwise_and_(m.tensor([1, 2]))",
    "m.tensor([True, False]).bitwise_or_(m.tensor([1, 2]))",
    "m.tensor([1, 2]).eq_(m.tensor([[1, 2], [1, 2]]))",
    "m.tensor([1., 2], requires_grad=True).eq_(1.)",
    "m.tensor([1., 2], requires_grad=True).bitwise_not_()",
    "m.tensor([1., 2], requires_grad=True).fix_()",
    "m.ones(3, 3).lu(pivot=False)", "m.ones(3, 3).lu_solve(m.ones(3, 3), m.tensor([1, 2, 3]))",
    "m.ones(3, 3).lu_solve(m.ones(3, 3), m.tensor([0, 2, 3], dtype=m.int32))",
    "m.ones(3, 2).triangular_solve(m.ones(2, 3))",
    "m.ones(3, 2).triangular_solve(m.ones(3, 3, dtype=m.float64))",
    "m.ones(3, 2).triangular_solve(m.ones(2, 2))",
    "m.ones(3, 3).lstsq(m.ones(3, 3))", "m.ones(3, 3).solve(m.ones(3, 3))",
    "m.ones(3, 3).symeig()", "m.ones(3, 3).eig()", "m.ones(3).imag",
    "m.igamma(m.ones(2, requires_grad=True), m.ones(2)).sum().backward()",
]


def _error(code, m):
    try:
        eval(code, {"m": m})
    except Exception as e:  # noqa: BLE001  (any exception: its type and text are compared)
        return type(e).__name__, str(e)
    return None, None


@pytest.mark.parametrize("code", ERRORS)
def test_errors_match_torch(code):
    got, want = _error(code, ember), _error(code, torch)
    assert want[0] is not None, "torch raised nothing"
    assert got[0] == want[0], f"{got} != {want}"
    # torch's argument-parser errors list every overload: the first line is the message
    assert got[1].split("\n")[0] == want[1].split("\n")[0]
    if "received an invalid combination" not in want[1]:
        assert got[1] == want[1]
