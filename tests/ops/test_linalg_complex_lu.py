"""The LU family, LDL, householder_product and logdet on complex matrices, without torch:
the factorizations rebuild their input, the solves solve, pivots follow LAPACK's rule
(``|Re| + |Im|``), and the gradients pass ``gradcheck``.

``gradcheck`` perturbs float64 inputs, so each complex function is checked as the real
function ``view_as_real(f(view_as_complex(x)))``: its Jacobian holds all four real partial
derivatives, and the complex gradient reaches ``x`` as ``(Re g, Im g)``, so agreement means
the gradient is torch's conjugate Wirtinger one, ``dL/dRe z + 1j dL/dIm z``.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]
L = ember.linalg


def _crand(*shape, seed=0, dtype=np.complex128):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def _t(a):
    return ember.tensor(np.ascontiguousarray(a))


def _mH(a):
    return np.conj(np.swapaxes(a, -1, -2))


def _as_real(fn):
    """``fn`` on complex tensors as a function of their ``view_as_real`` float64 views."""
    def real_fn(*xs):
        out = fn(*[ember.view_as_complex(x) for x in xs])
        outs = out if isinstance(out, tuple) else (out,)
        return tuple(ember.view_as_real(o) if o.is_complex() else o for o in outs)

    return real_fn


def _check(fn, *arrays):
    xs = [ember.tensor(np.stack([a.real, a.imag], -1), requires_grad=True) for a in arrays]
    assert gradcheck(_as_real(fn), xs, eps=1e-6, atol=1e-6, rtol=1e-4)


# --- LU ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (2, 3, 5), (5, 3)])
def test_lu_rebuilds_the_matrix(shape, dtype):
    a = _crand(*shape, seed=1, dtype=dtype)
    p, low, up = L.lu(_t(a))
    want = ember.complex64 if dtype == np.complex64 else ember.complex128
    assert p.dtype == low.dtype == up.dtype == want
    tol = 1e-5 if dtype == np.complex64 else 1e-12
    np.testing.assert_allclose(p.numpy() @ low.numpy() @ up.numpy(), a, atol=tol)
    lu, piv, info = L.lu_factor_ex(_t(a))
    assert piv.dtype == ember.int32 and not info.numpy().any()
    k = min(shape[-2:])
    np.testing.assert_allclose(np.tril(lu.numpy()[..., :, :k], -1) + np.eye(shape[-2], k),
                               low.numpy(), atol=0)
    np.testing.assert_allclose(np.triu(lu.numpy()[..., :k, :]), up.numpy(), atol=0)


def test_lu_pivots_on_the_largest_abs_re_plus_abs_im():
    # |2+2j| < 3, yet |2| + |2| > 3: LAPACK (and torch) pivot on the second row
    a = np.array([[3, 1], [2 + 2j, 5]])
    assert L.lu_factor(_t(a)).pivots.tolist() == [2, 2]
    assert ember.lu(_t(a))[1].tolist() == [2, 2]
    tie = np.array([[2, 1], [1 + 1j, 5]])  # equal sizes: the first one
    assert L.lu_factor(_t(tie)).pivots.tolist() == [1, 2]


def test_lu_factor_of_a_singular_complex_matrix():
    a = np.array([[1j, 2j], [1, 2]])  # rank one
    out = L.lu_factor_ex(_t(a))
    assert out.info.item() == 2
    with pytest.raises(RuntimeError, match=r"U\[2,2\] is zero"):
        L.lu_factor(_t(a))


def test_lu_unpack_rebuilds_the_matrix():
    a = _crand(2, 4, 3, seed=2)
    p, low, up = ember.lu_unpack(*L.lu_factor(_t(a)))
    np.testing.assert_allclose(p.numpy() @ low.numpy() @ up.numpy(), a, atol=1e-12)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_solves_each_form(left, adjoint):
    a = _crand(2, 3, 3, seed=3)
    b = _crand(2, 3, 2, seed=4) if left else _crand(2, 2, 3, seed=4)
    x = L.lu_solve(*L.lu_factor(_t(a)), _t(b), left=left, adjoint=adjoint).numpy()
    op = _mH(a) if adjoint else a
    np.testing.assert_allclose(op @ x if left else x @ op, b, atol=1e-12)


def test_lu_solve_broadcasts_and_the_legacy_form_agrees():
    a, b = _crand(3, 3, seed=5), _crand(2, 3, 4, seed=6)
    lu, piv = L.lu_factor(_t(a))
    x = L.lu_solve(lu, piv, _t(b)).numpy()
    np.testing.assert_allclose(a @ x, b, atol=1e-12)
    a2 = _crand(2, 3, 3, seed=7)
    x2 = ember.lu_solve(_t(b[..., :2]), *ember.lu(_t(a2))).numpy()
    np.testing.assert_allclose(a2 @ x2, b[..., :2], atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (3, 4), (4, 2)])
def test_lu_factor_gradcheck(shape):
    _check(lambda a: L.lu_factor(a).LU, _crand(*shape, seed=8))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_linalg_lu_gradcheck(shape):
    _check(lambda a: L.lu(a)[1:], _crand(*shape, seed=9))


def test_legacy_lu_and_lu_unpack_gradcheck():
    _check(lambda a: ember.lu(a)[0], _crand(2, 3, 3, seed=10))
    _check(lambda a: ember.lu_unpack(*L.lu_factor(a))[1:], _crand(3, 2, seed=11))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_gradcheck_in_lu_and_b(left, adjoint):
    a = _crand(3, 3, seed=12)
    lu, piv = L.lu_factor(_t(a))
    b = _crand(3, 2, seed=13) if left else _crand(2, 3, seed=13)
    _check(lambda lu_, b_: L.lu_solve(lu_, piv, b_, left=left, adjoint=adjoint),
           lu.numpy(), b)


def test_legacy_lu_solve_gradcheck():
    a = _crand(3, 3, seed=14)
    _check(lambda a_, b_: ember.lu_solve(b_, *L.lu_factor(a_)), a, _crand(3, 2, seed=15))


# --- householder_product ----------------------------------------------------------------------
def _reflector_product(a, tau):
    m, n = a.shape
    q = np.eye(m, dtype=a.dtype)
    for i in range(tau.shape[-1]):
        v = np.concatenate([np.zeros(i), [1], a[i + 1:, i]]).astype(a.dtype)
        q = q @ (np.eye(m) - tau[i] * np.outer(v, v.conj()))
    return q[:, :n]


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_householder_product_is_the_product_of_reflectors(dtype):
    a, tau = _crand(2, 5, 3, seed=16, dtype=dtype), _crand(2, 2, seed=17, dtype=dtype)
    q = L.householder_product(_t(a), _t(tau)).numpy()
    tol = 1e-5 if dtype == np.complex64 else 1e-12
    for i in range(2):
        np.testing.assert_allclose(q[i], _reflector_product(a[i], tau[i]), atol=tol)
    np.testing.assert_allclose(ember.orgqr(_t(a), _t(tau)).numpy(), q, atol=0)


def test_householder_product_of_unit_taus_is_unitary():
    a = _crand(4, 3, seed=18)
    v = np.tril(a, -1) + np.eye(4, 3)
    tau = 2 / (np.abs(v) ** 2).sum(0)  # tau = 2 / |v|^2: each reflector is unitary
    q = L.householder_product(_t(a), _t(tau.astype(np.complex128))).numpy()
    np.testing.assert_allclose(_mH(q) @ q, np.eye(3), atol=1e-12)


@pytest.mark.parametrize("shape, k", [((4, 3), 2), ((3, 3), 3)])
def test_householder_product_gradcheck(shape, k):
    _check(L.householder_product, _crand(*shape, seed=19), _crand(k, seed=20))


# --- logdet --------------------------------------------------------------------------------------
def test_logdet_is_the_principal_log_of_det():
    a = _crand(2, 3, 3, seed=21)
    out = ember.logdet(_t(a)).numpy()
    np.testing.assert_allclose(out, np.log(np.linalg.det(a)), atol=1e-12)
    assert ember.logdet(_t(a.astype(np.complex64))).dtype == ember.complex64
    neg = ember.logdet(_t(-np.eye(3, dtype=np.complex128))).item()  # det -1: log is i pi
    assert neg == pytest.approx(np.pi * 1j)


def test_logdet_of_a_singular_complex_matrix_is_minus_inf_with_nan_phase():
    out = ember.logdet(_t(np.zeros((2, 2), np.complex128))).item()
    assert out.real == -np.inf and np.isnan(out.imag)


def test_logdet_gradcheck():
    _check(ember.logdet, _crand(2, 3, 3, seed=22))


# --- LDL ----------------------------------------------------------------------------------------
def _ldl_rebuild(ld, piv, hermitian):
    """A from LAPACK's lower (LD, pivots): A = M D M^T (M^H), M = P(1) L(1) P(2) L(2) ..."""
    n = ld.shape[0]
    m, d = np.eye(n, dtype=ld.dtype), np.zeros_like(ld)
    k = 0
    while k < n:
        s, other = (1, k) if piv[k] > 0 else (2, k + 1)
        perm = np.eye(n)
        swap = [other, abs(piv[k]) - 1]
        perm[swap] = perm[swap[::-1]]
        step = np.eye(n, dtype=ld.dtype)
        step[k + s:, k:k + s] = ld[k + s:, k:k + s]
        block = np.tril(ld[k:k + s, k:k + s])
        d[k:k + s, k:k + s] = block + np.tril(block, -1).T.conj() if hermitian else (
            block + np.tril(block, -1).T)
        m = m @ perm @ step
        k += s
    return m @ d @ (_mH(m) if hermitian else m.T)


def _symmetric(seed, hermitian, n=6, small_diagonal=True):
    a = _crand(n, n, seed=seed)
    if small_diagonal:  # a weak diagonal makes Bunch-Kaufman choose 2x2 blocks
        a = a - 0.99 * np.diag(np.diag(a))
    return a + (_mH(a) if hermitian else a.T)


@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_ldl_factor_rebuilds_the_matrix(hermitian, seed):
    x = _symmetric(seed, hermitian, small_diagonal=seed % 2 == 0)
    ld, piv, info = L.ldl_factor_ex(_t(x), hermitian=hermitian)
    ld, piv = ld.numpy(), piv.numpy()
    assert info.item() == 0 and not np.triu(ld, 1).any()
    if hermitian:
        assert not np.diag(ld).imag.any()
    np.testing.assert_allclose(_ldl_rebuild(ld, piv, hermitian), x, atol=1e-12)


def test_ldl_factor_uses_2x2_blocks_on_a_weak_diagonal():
    for hermitian in (False, True):
        piv = L.ldl_factor(_t(_symmetric(0, hermitian)), hermitian=hermitian).pivots.numpy()
        assert (piv < 0).any()


def test_ldl_factor_reads_only_the_lower_triangle_and_the_real_diagonal_when_hermitian():
    x = _symmetric(1, True)
    messy = np.tril(x) + np.triu(_crand(6, 6, seed=30), 1) + 1j * np.eye(6)
    want = L.ldl_factor(_t(x), hermitian=True)
    got = L.ldl_factor(_t(messy), hermitian=True)
    assert got.pivots.tolist() == want.pivots.tolist()
    np.testing.assert_allclose(got.LD.numpy(), want.LD.numpy(), atol=1e-12)


@pytest.mark.parametrize("hermitian", [False, True])
def test_ldl_solve_solves_batched_systems(hermitian):
    x = np.stack([_symmetric(s, hermitian) for s in (2, 3)])
    b = _crand(2, 6, 3, seed=4)
    ld, piv = L.ldl_factor(_t(x), hermitian=hermitian)
    sol = L.ldl_solve(ld, piv, _t(b), hermitian=hermitian).numpy()
    np.testing.assert_allclose(x @ sol, b, atol=1e-10)


def test_ldl_of_a_zero_column_reports_info():
    x = np.zeros((3, 3), np.complex128)
    x[1:, 1:] = [[1, 2j], [2j, 1]]
    assert L.ldl_factor_ex(_t(x)).info.item() == 1
    with pytest.raises(RuntimeError, match="Unknown error code: 1"):
        L.ldl_factor(_t(x))


def test_ldl_records_complex_inputs_but_has_no_derivative():
    x = ember.tensor(_symmetric(0, True), requires_grad=True)
    ld, piv = L.ldl_factor(x, hermitian=True)
    assert ld.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not "
                                           "implemented"):
        ld.abs().sum().backward()
    b = ember.tensor(_crand(6, 1, seed=5), requires_grad=True)
    out = L.ldl_solve(ld.detach(), piv, b, hermitian=True)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve is not "
                                           "implemented"):
        out.abs().sum().backward()


def test_complex_dtype_mismatches_raise():
    a = _t(np.eye(2, dtype=np.complex64))
    with pytest.raises(RuntimeError, match="Expected LU and B to have the same dtype"):
        L.lu_solve(*L.lu_factor(a), ember.ones(2, 1))
    with pytest.raises(RuntimeError, match="tau dtype Float does not match input dtype "
                                           "ComplexFloat"):
        L.householder_product(a, ember.ones(1))
    with pytest.raises(RuntimeError, match="Expected b and A to have the same dtype"):
        L.ldl_solve(*L.ldl_factor(a), ember.ones(2, 1))
