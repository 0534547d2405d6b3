"""linalg.solve_triangular, householder_product, ldl_factor(_ex)/ldl_solve, lu_factor(_ex),
vander and the torch.special Bessel, polynomial and other functions against torch: values on
inputs that catch wrong branches (negative, large, special values, broadcast batches,
non-square right-hand sides, promoted integers), gradients, node names and errors. Skipped
without torch."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from tests.helpers import assert_close, to_numpy

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

INF, NAN = math.inf, math.nan


def _pair(a, dtype=np.float64, requires_grad=False):
    a = np.asarray(a, dtype)
    return (ember.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _grads(*tensors):
    return [to_numpy(t.grad) for t in tensors]


# --- solve_triangular -------------------------------------------------------------------------
@pytest.mark.parametrize("upper,left,unit", [(True, True, False), (False, True, True),
                                             (True, False, True), (False, False, False)])
def test_solve_triangular_values_and_gradients(upper, left, unit):
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (2, 1, 4, 4)) + 2.5 * np.eye(4)  # both triangles: only one is read
    b = rng.normal(size=(3, 4, 6) if left else (3, 6, 4))
    (ae, at), (be, bt) = _pair(a, requires_grad=True), _pair(b, requires_grad=True)
    g = rng.normal(size=(2, 3) + b.shape[-2:])
    xe = ember.linalg.solve_triangular(ae, be, upper=upper, left=left, unitriangular=unit)
    xt = torch.linalg.solve_triangular(at, bt, upper=upper, left=left, unitriangular=unit)
    assert_close(xe, xt, rtol=1e-12, atol=1e-12)
    assert type(xe.grad_fn).__name__ == type(xt.grad_fn).__name__
    (xe * ember.tensor(g)).sum().backward()
    (xt * torch.tensor(g)).sum().backward()
    for ge, gt in zip(_grads(ae, be), _grads(at, bt)):
        assert_close(ge, gt, rtol=1e-10, atol=1e-12)


def test_solve_triangular_casts_b_to_a_dtype():
    rng = np.random.default_rng(1)
    a = np.triu(rng.normal(size=(3, 3))) + 3 * np.eye(3)
    (ae, at), (be, bt) = _pair(a, np.float32), _pair(rng.normal(size=(3, 2)), requires_grad=True)
    xe = ember.linalg.solve_triangular(ae, be, upper=True)
    xt = torch.linalg.solve_triangular(at, bt, upper=True)
    assert str(xe.dtype) == str(xt.dtype).replace("torch", "ember")
    assert_close(xe, xt)
    xe.sum().backward()
    xt.sum().backward()
    assert be.grad.dtype == ember.float64
    assert_close(be.grad, bt.grad, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shapes", [((3,), (3, 2)), ((3, 3), (3,)), ((3, 3), (4, 2)),
                                    ((3, 4), (3, 2)), ((2, 3, 3), (4, 3, 5))])
def test_solve_triangular_errors_match(shapes):
    ae, at = _pair(np.ones(shapes[0]))
    be, bt = _pair(np.ones(shapes[1]))
    with pytest.raises(RuntimeError) as want:
        torch.linalg.solve_triangular(at, bt, upper=True)
    with pytest.raises(RuntimeError) as got:
        ember.linalg.solve_triangular(ae, be, upper=True)
    assert str(got.value) == str(want.value)


# --- householder_product ----------------------------------------------------------------------
@pytest.mark.parametrize("shape,k", [((5, 3), 3), ((2, 6, 4), 2), ((4, 4), 4), ((3, 1), 0)])
def test_householder_product_values_and_gradients(shape, k):
    rng = np.random.default_rng(2)
    (ae, at) = _pair(rng.normal(size=shape), requires_grad=True)
    (te, tt) = _pair(rng.uniform(0.1, 1.9, size=shape[:-2] + (k,)), requires_grad=True)
    qe, qt = ember.linalg.householder_product(ae, te), torch.linalg.householder_product(at, tt)
    assert_close(qe, qt, rtol=1e-12, atol=1e-12)
    assert_close(ember.orgqr(ae, te), torch.orgqr(at, tt), rtol=1e-12, atol=1e-12)
    g = rng.normal(size=shape)
    (qe * ember.tensor(g)).sum().backward()
    (qt * torch.tensor(g)).sum().backward()
    if k == 0:  # no reflectors: torch leaves the gradients undefined, ember's are zeros
        assert at.grad is None and not ae.grad.numpy().any()
        return
    for ge, gt in zip(_grads(ae, te), _grads(at, tt)):
        assert_close(ge, gt, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("a,tau", [((4,), (3,)), ((3, 4), (3,)), ((4, 3), (4,)),
                                   ((2, 4, 3), (3,)), ((2, 4, 3), (3, 2))])
def test_householder_product_errors_match(a, tau):
    (ae, at), (te, tt) = _pair(np.ones(a)), _pair(np.ones(tau))
    with pytest.raises(RuntimeError) as want:
        torch.linalg.householder_product(at, tt)
    with pytest.raises(RuntimeError) as got:
        ember.linalg.householder_product(ae, te)
    assert str(got.value) == str(want.value)


# --- ldl ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 4, 7, 12, 70])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ldl_factor_matches_lapack_pivots_and_factors(n, dtype):
    rng = np.random.default_rng(n)
    a = rng.normal(size=(3, n, n))
    a = a + np.swapaxes(a, -1, -2)
    a[1, range(n), range(n)] *= 0.01  # 2x2 pivots
    a[2] = np.triu(a[2], 1) * 5 + np.tril(a[2])  # the upper triangle is never read
    ae, at = _pair(a, dtype)
    lde, pe, ie = ember.linalg.ldl_factor_ex(ae)
    ldt, pt, it = torch.linalg.ldl_factor_ex(at)
    assert_close(pe, pt)
    assert_close(ie, it)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert_close(lde, ldt, rtol=tol, atol=tol)
    # NOTE: torch 2.x segfaults when LD's batch must be broadcast, so only B's is here
    for ld, piv, b_shape in ((ldt, pt, (3, n, 3)), (ldt[1], pt[1], (2, 2, n, 1))):
        b = rng.normal(size=b_shape).astype(dtype)
        xe = ember.linalg.ldl_solve(ember.tensor(ld.numpy()), ember.tensor(piv.numpy()),
                                    ember.tensor(b))
        assert_close(xe, torch.linalg.ldl_solve(ld, piv, torch.tensor(b)), rtol=tol, atol=tol)


def test_ldl_factor_of_a_zero_matrix_and_no_gradient():
    lde, pe, ie = ember.linalg.ldl_factor_ex(ember.zeros(3, 3))
    ldt, pt, it = torch.linalg.ldl_factor_ex(torch.zeros(3, 3))
    assert_close(lde, ldt)
    assert pe.tolist() == pt.tolist() and ie.item() == it.item()
    ae, at = _pair(np.eye(3) * 2, requires_grad=True)
    for m, x in ((ember, ae), (torch, at)):
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not"):
            m.linalg.ldl_factor(x)[0].sum().backward()


# --- lu_factor, vander -------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 5), (5, 3)])
def test_lu_factor_values_and_gradients(shape):
    rng = np.random.default_rng(3)
    ae, at = _pair(rng.normal(size=shape), requires_grad=True)
    lue, pe, ie = ember.linalg.lu_factor_ex(ae)
    lut, pt, it = torch.linalg.lu_factor_ex(at)
    assert_close(lue, lut, rtol=1e-12, atol=1e-12)
    assert pe.tolist() == pt.tolist() and ie.tolist() == it.tolist()
    assert type(lue.grad_fn).__name__ == type(lut.grad_fn).__name__
    g = rng.normal(size=shape)
    (ember.linalg.lu_factor(ae)[0] * ember.tensor(g)).sum().backward()
    (torch.linalg.lu_factor(at)[0] * torch.tensor(g)).sum().backward()
    assert_close(ae.grad, at.grad, rtol=1e-10, atol=1e-12)


def test_lu_factor_singular_errors_match():
    for fn in ("lu_factor", "lu_factor_ex"):
        kwargs = {"check_errors": True} if fn == "lu_factor_ex" else {}
        with pytest.raises(RuntimeError) as want:
            getattr(torch.linalg, fn)(torch.zeros(2, 3, 3), **kwargs)
        with pytest.raises(RuntimeError) as got:
            getattr(ember.linalg, fn)(ember.zeros(2, 3, 3), **kwargs)
        assert str(got.value) == str(want.value)


def test_vander_values_gradients_and_ints():
    ae, at = _pair([[1.5, -2.0, 0.5], [0.0, 3.0, -1.0]], requires_grad=True)
    ve, vt = ember.linalg.vander(ae, N=5), torch.linalg.vander(at, N=5)
    assert_close(ve, vt)
    assert type(ve.grad_fn).__name__ == type(vt.grad_fn).__name__
    ve.sum().backward()
    vt.sum().backward()
    assert_close(ae.grad, at.grad)
    assert ember.linalg.vander(ember.tensor([2, 3])).tolist() == \
        torch.linalg.vander(torch.tensor([2, 3])).tolist()


# --- special: unary functions -------------------------------------------------------------------
UNARY = ("bessel_j0 bessel_j1 bessel_y0 bessel_y1 modified_bessel_i0 modified_bessel_i1 "
         "modified_bessel_k0 modified_bessel_k1 scaled_modified_bessel_k0 "
         "scaled_modified_bessel_k1 spherical_bessel_j0 airy_ai i0e i1 i1e ndtri log_ndtr erfcx "
         "entr").split()
GRID = np.concatenate([np.linspace(-40, 40, 401), [
    0.0, -0.0, 1e-6, -1e-6, 0.3, 0.4999, 0.5, 1.99, 2.0, 2.01, 2.09, -2.09, 4.99, 5.0, 5.01,
    7.99, 8.0, 8.01, 8.33, 26.0, -26.8, 50.0, 60.0, 103.0, 104.0, 700.0, -700.0, 1e4, -1e4,
    1e8, INF, -INF, NAN]])
UNIT = np.concatenate([np.linspace(0, 1, 101), [1e-30, 1e-300, 0.135, 0.8647, 1 - 1e-7, -0.1,
                                                 1.1, NAN]])


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_unary_values(name, dtype):
    x = (UNIT if name == "ndtri" else GRID).astype(dtype)
    got = getattr(ember.special, name)(ember.tensor(x))
    want = getattr(torch.special, name)(torch.tensor(x))
    assert got.dtype == (ember.float32 if dtype == np.float32 else ember.float64)
    if dtype == np.float64:
        assert_close(got, want, rtol=1e-12, atol=1e-300)
    else:  # float32 cancels near the zeros of J and Y: compare on the scale of the function
        assert_close(got, want, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", UNARY)
def test_special_unary_promotes_integers_and_gradients_exist_only_where_torch_has_them(name):
    ints = [0, 1, 2, -3, 7] if name != "ndtri" else [0, 1]
    assert_close(getattr(ember.special, name)(ember.tensor(ints)),
                 getattr(torch.special, name)(torch.tensor(ints)), rtol=2e-5, atol=1e-6)
    xe, xt = _pair([0.3, 0.7], requires_grad=True)
    ye, yt = getattr(ember.special, name)(xe), getattr(torch.special, name)(xt)
    assert ye.requires_grad == yt.requires_grad
    if yt.requires_grad:
        assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__


GRAD_POINTS = {"i0e": [-9.0, -3.0, -1e-20, 0.0, 0.5, 2.0, 12.0],
               "i1": [-9.0, -3.0, -1e-20, 0.0, 0.5, 2.0, 12.0],
               "i1e": [-9.0, -3.0, -1e-20, 0.0, 0.5, 2.0, 12.0],
               "ndtri": [1e-10, 0.01, 0.3, 0.5, 0.99],
               "log_ndtr": [-40.0, -5.0, -1.0, 0.0, 3.0, 10.0],
               "erfcx": [-5.0, -0.5, 0.0, 0.3, 3.0, 60.0],
               "entr": [0.0, 1e-3, 0.5, 2.0, -1.0]}


@pytest.mark.parametrize("name", sorted(GRAD_POINTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_unary_gradients(name, dtype):
    xe, xt = _pair(GRAD_POINTS[name], dtype, requires_grad=True)
    getattr(ember.special, name)(xe).sum().backward()
    getattr(torch.special, name)(xt).sum().backward()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(xe.grad, xt.grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", UNARY)
def test_special_unary_rejects_numbers(name):
    with pytest.raises(TypeError) as want:
        getattr(torch.special, name)(1.0)
    with pytest.raises(TypeError) as got:
        getattr(ember.special, name)(1.0)
    assert str(got.value) == str(want.value)


# --- zeta, multigammaln -------------------------------------------------------------------------
def test_zeta_values_broadcasting_and_gradients():
    x = [1.0, 1.5, 2.0, 3.0, 4.5, 0.5, 10.0]
    q = [[0.5], [1.0], [2.5], [-1.5], [-2.0], [100.0], [1e-3]]
    for dtype in (np.float32, np.float64):
        (xe, xt), (qe, qt) = _pair(x, dtype), _pair(q, dtype, requires_grad=True)
        ze, zt = ember.special.zeta(xe, qe), torch.special.zeta(xt, qt)
        assert_close(ze, zt, rtol=1e-6 if dtype == np.float32 else 1e-13)
        ok = np.isfinite(to_numpy(zt))
        (ze * ember.tensor(ok.astype(dtype))).sum().backward()
        (zt * torch.tensor(ok.astype(dtype))).sum().backward()
        assert_close(qe.grad, qt.grad, rtol=1e-5 if dtype == np.float32 else 1e-12)
    for args in ((2.0, "t"), ("t", 2.0), ("t", "t")):
        te, tt = _pair([1.5, 3.0], requires_grad=True)
        ye = ember.special.zeta(*[te if a == "t" else a for a in args])
        yt = torch.special.zeta(*[tt if a == "t" else a for a in args])
        assert_close(ye, yt, rtol=1e-13)
        assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__
    assert_close(ember.special.zeta(ember.tensor([2, 3]), 2), torch.special.zeta(
        torch.tensor([2, 3]), 2))


def test_multigammaln():
    xe, xt = _pair([2.5, 4.0, 7.25], requires_grad=True)
    ye, yt = ember.special.multigammaln(xe, 3), torch.special.multigammaln(xt, 3)
    assert_close(ye, yt, rtol=1e-12)
    ye.sum().backward()
    yt.sum().backward()
    assert_close(xe.grad, xt.grad, rtol=1e-12)


# --- polynomials ------------------------------------------------------------------------------
POLYNOMIALS = ("chebyshev_polynomial_t chebyshev_polynomial_u chebyshev_polynomial_v "
               "chebyshev_polynomial_w shifted_chebyshev_polynomial_t "
               "shifted_chebyshev_polynomial_u shifted_chebyshev_polynomial_v "
               "shifted_chebyshev_polynomial_w hermite_polynomial_h hermite_polynomial_he "
               "laguerre_polynomial_l legendre_polynomial_p").split()
# NOTE: no NaN x: torch returns whatever a register held for it (an uninitialised variable)
PX = np.concatenate([np.linspace(-2.5, 2.5, 51), [0.0, 1.0, -1.0, 0.5, 1 - 1e-7, -1 + 1e-7,
                                                   1e-10, INF, -INF]])
PN = np.array([-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 25, 200, 600, 2.5, -0.5, NAN, INF,
               1e20])


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_values(name):
    x, n = np.meshgrid(PX, PN)
    for dtype in (np.float64, np.float32):
        keep = np.ones_like(x, bool) if dtype == np.float64 else (np.abs(n) <= 25)
        xe, xt = _pair(x[keep], dtype)
        ne, nt = _pair(n[keep], dtype)
        got = getattr(ember.special, name)(xe, ne)
        want = getattr(torch.special, name)(xt, nt)
        if dtype == np.float64:
            assert_close(got, want, rtol=1e-12, atol=1e-15)
        else:  # the recurrence's rounding (and torch's fused multiply-adds) differ in float32
            assert_close(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_argument_kinds(name):
    fe, ft = getattr(ember.special, name), getattr(torch.special, name)
    xe, xt = _pair([0.25, -0.6, 1.5], requires_grad=True)
    ne, nt = ember.tensor([2, 5, 11]), torch.tensor([2, 5, 11])
    for args_e, args_t in (((xe, ne), (xt, nt)), ((0.3, ne), (0.3, nt)), ((xe, 4), (xt, 4)),
                           ((ember.tensor([1, 2]), 3), (torch.tensor([1, 2]), 3))):
        ye, yt = fe(*args_e), ft(*args_t)
        assert_close(ye, yt, rtol=1e-5, atol=1e-6)
        assert str(ye.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
        assert ye.requires_grad == yt.requires_grad
    with pytest.raises(TypeError) as want:
        ft(0.5, 2)
    with pytest.raises(TypeError) as got:
        fe(0.5, 2)
    assert str(got.value) == str(want.value)
