"""``ember.linalg`` against torch: named tuples, dtypes, node names, errors, sign-free
comparisons of decompositions, and gradients where torch's are inf/NaN. Skipped without
torch. Values and gradients of the smooth cases are op-table rows
(``tests/ops/op_table_linalg.py``).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close, to_numpy

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _both(torch, values, dtype="float32", requires_grad=False):
    a = np.asarray(values, dtype=dtype)
    return (ember.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, size=shape)


SINGULAR = [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]
SINGULAR2 = [[1.0, 2], [2, 4]]

# --- named tuples and dtypes -------------------------------------------------------------
TUPLES = {
    "slogdet": lambda m, a: m.linalg.slogdet(a),
    "qr": lambda m, a: m.linalg.qr(a),
    "qr_r": lambda m, a: m.linalg.qr(a, mode="r"),
    "svd": lambda m, a: m.linalg.svd(a),
    "eigh": lambda m, a: m.linalg.eigh(a + a.mT),
    "inv_ex": lambda m, a: m.linalg.inv_ex(a),
    "solve_ex": lambda m, a: m.linalg.solve_ex(a, a),
    "cholesky_ex": lambda m, a: m.linalg.cholesky_ex(a @ a.mT + m.eye(3, dtype=a.dtype)),
    "lstsq": lambda m, a: m.linalg.lstsq(a, a),
    "top_slogdet": lambda m, a: m.slogdet(a),
    "top_svd": lambda m, a: m.svd(a),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(TUPLES))
def test_named_tuple_fields_dtypes_and_shapes_match_torch(name, dtype, torch):
    a, ta = _both(torch, _rand(2, 3, 3), dtype, requires_grad=True)
    out, t_out = TUPLES[name](ember, a), TUPLES[name](torch, ta)
    assert type(out).__name__ == type(t_out).__name__
    assert out.__match_args__ == type(t_out).__match_args__
    for field in out.__match_args__:
        o, t = getattr(out, field), getattr(t_out, field)
        assert str(o.dtype).rsplit(".")[-1] == str(t.dtype).rsplit(".")[-1], field
        assert tuple(o.shape) == tuple(t.shape), field


@pytest.mark.parametrize("name, f", [
    ("det", lambda m, a: m.linalg.det(a)),
    ("slogdet", lambda m, a: m.linalg.slogdet(a).logabsdet),
    ("inv", lambda m, a: m.linalg.inv(a)),
    ("solve", lambda m, a: m.linalg.solve(a, a)),
    ("cholesky", lambda m, a: m.linalg.cholesky(a @ a.mT + m.eye(3))),
    ("cholesky_old", lambda m, a: m.cholesky(a @ a.mT + m.eye(3))),
    ("qr", lambda m, a: m.linalg.qr(a).R),
    ("svd", lambda m, a: m.linalg.svd(a).S),
    ("svdvals", lambda m, a: m.linalg.svdvals(a)),
    ("eigh", lambda m, a: m.linalg.eigh(a).eigenvalues),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(a)),
    ("pinv", lambda m, a: m.linalg.pinv(a)),
    ("matrix_exp", lambda m, a: m.linalg.matrix_exp(a)),
    ("vector_norm", lambda m, a: m.linalg.vector_norm(a)),
])
def test_node_names_match_torch(name, f, torch):
    a, ta = _both(torch, _rand(3, 3), requires_grad=True)
    assert type(f(ember, a).grad_fn).__name__ == type(f(torch, ta).grad_fn).__name__


def test_matrix_rank_and_lstsq_rank_are_int64(torch):
    a, ta = _both(torch, [[1.0, 2, 3], [2, 4, 6], [1, 0, 1]])
    assert ember.linalg.matrix_rank(a).dtype == ember.int64
    assert ember.linalg.matrix_rank(a).item() == torch.linalg.matrix_rank(ta).item() == 2
    assert (ember.linalg.matrix_rank(a + a.mT, hermitian=True).item()
            == torch.linalg.matrix_rank(ta + ta.mT, hermitian=True).item())
    assert ember.linalg.matrix_rank(a, atol=2.0).item() == torch.linalg.matrix_rank(
        ta, atol=2.0).item()


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("b_shape", [(2, 5, 2), (2, 5)])
def test_lstsq_outputs_by_driver_match_torch(driver, b_shape, torch):
    a, ta = _both(torch, _rand(2, 5, 3))
    b, tb = _both(torch, _rand(*b_shape, seed=1))
    out, t_out = ember.linalg.lstsq(a, b, driver=driver), torch.linalg.lstsq(ta, tb, driver=driver)
    for field in out.__match_args__:
        assert_close(getattr(out, field), getattr(t_out, field), rtol=1e-4, atol=1e-4, msg=field)


def test_matrix_power_of_integers_and_zero_power(torch):
    a, ta = _both(torch, [[1, 2], [3, 4]], "int64")
    assert_close(ember.linalg.matrix_power(a, 5), torch.linalg.matrix_power(ta, 5))
    assert ember.linalg.matrix_power(a, 0).dtype == ember.int64
    f, tf = _both(torch, _rand(2, 3, 3), requires_grad=True)
    out, t_out = ember.linalg.matrix_power(f, 0), torch.linalg.matrix_power(tf, 0)
    assert_close(out, t_out)
    out.sum().backward()
    t_out.sum().backward()
    assert_close(f.grad, tf.grad)


def test_logdet_of_negative_and_singular_matrices(torch):
    for values in ([[-1.0, 0], [0, 2]], SINGULAR2, -np.eye(3)):
        a, ta = _both(torch, values)
        assert_close(ember.logdet(a), torch.logdet(ta))


def test_norm_dispatch_and_keepdim_shapes_match_torch(torch):
    a, ta = _both(torch, _rand(2, 3, 4))
    calls = [lambda m, x: m.linalg.norm(x), lambda m, x: m.linalg.norm(x, keepdim=True),
             lambda m, x: m.linalg.norm(x[0], 1), lambda m, x: m.linalg.norm(x[0, 0], math.inf),
             lambda m, x: m.linalg.norm(x, dim=(0, 2)), lambda m, x: m.linalg.norm(x, -2, (2, 1)),
             lambda m, x: m.linalg.norm(x, "fro", (0, 1), True),
             lambda m, x: m.linalg.matrix_norm(x, -math.inf, keepdim=True),
             lambda m, x: m.linalg.matrix_norm(x, 2, dim=(0, 2), keepdim=True),
             lambda m, x: m.linalg.matrix_norm(x, dtype=m.float64),
             lambda m, x: m.linalg.vector_norm(x, 0.5, dim=-1, dtype=m.float64)]
    for k, f in enumerate(calls):
        out, t_out = f(ember, a), f(torch, ta)
        assert str(out.dtype)[-7:] == str(t_out.dtype)[-7:], k
        assert_close(out, t_out, rtol=1e-5, atol=1e-5, msg=f"call {k}")


# --- reading one triangle ------------------------------------------------------------------
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_reads_one_triangle_and_its_gradient_matches_torch(upper, torch):
    spd = _rand(3, 3) @ _rand(3, 3).T + 3 * np.eye(3)
    noise = _rand(3, 3, seed=5)  # in the triangle that is not read
    noisy = spd + (np.tril(noise, -1) if upper else np.triu(noise, 1))
    a, ta = _both(torch, noisy, "float64", requires_grad=True)
    out, t_out = ember.linalg.cholesky(a, upper=upper), torch.linalg.cholesky(ta, upper=upper)
    assert_close(out, t_out)
    w = _rand(3, 3, seed=3)
    (out * ember.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    assert_close(a.grad, ta.grad)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_the_uplo_triangle(uplo, torch):
    a, ta = _both(torch, _rand(4, 4), "float64")
    assert_close(ember.linalg.eigvalsh(a, UPLO=uplo), torch.linalg.eigvalsh(ta, UPLO=uplo))
    w, v = ember.linalg.eigh(a, UPLO=uplo)
    sym = np.tril(a.numpy()) if uplo == "L" else np.triu(a.numpy())
    sym = sym + sym.T - np.diag(np.diag(sym))
    assert_close(v @ ember.diag_embed(w) @ v.mT, sym, atol=1e-10)


# --- decompositions up to sign -----------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_reconstructs_and_matches_torch_up_to_sign(shape, mode, torch):
    a, ta = _both(torch, _rand(*shape), "float64")
    q, r = ember.linalg.qr(a, mode=mode)
    tq, tr = torch.linalg.qr(ta, mode=mode)
    assert_close(r.abs(), tr.abs(), atol=1e-10)
    if mode != "r":
        assert_close(q @ r, a, atol=1e-10)
        assert_close(q.abs(), tq.abs(), atol=1e-10)
    else:
        assert tuple(q.shape) == tuple(tq.shape) == (0,)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_reconstructs_and_matches_torch_up_to_sign(shape, full, torch):
    a, ta = _both(torch, _rand(*shape), "float64")
    u, s, vh = ember.linalg.svd(a, full_matrices=full)
    tu, ts, tvh = torch.linalg.svd(ta, full_matrices=full)
    assert_close(s, ts)
    k = s.shape[-1]
    assert_close((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, atol=1e-10)
    assert_close(u.mT @ u, np.eye(u.shape[-1]) + np.zeros(u.shape[:-2] + (1, 1)), atol=1e-10)
    assert_close(u[..., :k].abs(), tu[..., :k].abs(), atol=1e-8)
    U, S, V = ember.svd(a, some=not full)
    tU, tS, tV = torch.svd(ta, some=not full)
    assert tuple(U.shape) == tuple(tU.shape) and tuple(V.shape) == tuple(tV.shape)
    assert_close(V[..., :k].abs(), tV[..., :k].abs(), atol=1e-8)
    U0, _, V0 = ember.svd(a, compute_uv=False)
    tU0, _, tV0 = torch.svd(ta, compute_uv=False)
    assert_close(U0, tU0)
    assert_close(V0, tV0)


def test_qr_backward_errors_match_torch(torch):
    for mode, shape in (("r", (3, 3)), ("complete", (4, 3))):
        a, ta = _both(torch, _rand(*shape), requires_grad=True)
        with pytest.raises(RuntimeError) as t_err:
            torch.linalg.qr(ta, mode=mode).R.sum().backward()
        with pytest.raises(RuntimeError) as err:
            ember.linalg.qr(a, mode=mode).R.sum().backward()
        assert str(err.value) == str(t_err.value)


def test_svd_gradient_with_repeated_singular_values_is_not_finite_like_torch(torch):
    a, ta = _both(torch, np.eye(3), "float64", requires_grad=True)
    ember.linalg.svd(a).U.sum().backward()
    torch.linalg.svd(ta).U.sum().backward()
    assert not np.isfinite(to_numpy(ta.grad)).all()
    assert not np.isfinite(to_numpy(a.grad)).all()
    # the singular values alone still have a gradient
    b, tb = _both(torch, np.eye(3), "float64", requires_grad=True)
    ember.linalg.svdvals(b).sum().backward()
    torch.linalg.svdvals(tb).sum().backward()
    assert_close(b.grad, tb.grad)


def test_det_gradient_of_a_singular_matrix_matches_torch(torch):
    a, ta = _both(torch, SINGULAR2, "float64", requires_grad=True)
    ember.linalg.det(a).backward()
    torch.linalg.det(ta).backward()
    assert_close(a.grad, ta.grad)


def test_info_of_inv_ex_and_cholesky_ex_match_torch(torch):
    a, ta = _both(torch, np.stack([np.eye(2), SINGULAR2]))
    assert_close(ember.linalg.inv_ex(a).info, torch.linalg.inv_ex(ta).info)
    assert_close(ember.linalg.inv_ex(a).inverse[0], torch.linalg.inv_ex(ta).inverse[0])
    b, tb = _both(torch, np.stack([np.eye(3), np.diag([1.0, -1, 1])]))
    out, t_out = ember.linalg.cholesky_ex(b), torch.linalg.cholesky_ex(tb)
    assert_close(out.info, t_out.info)
    assert_close(out.L[0], t_out.L[0])


def test_deprecated_cholesky_warns_like_torch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.cholesky(ember.eye(2))
    assert any("torch.cholesky is deprecated" in str(w.message) for w in caught)


# --- errors ------------------------------------------------------------------------------
ERRORS = {
    "inv_singular": lambda m: m.linalg.inv(m.tensor(SINGULAR)),
    "inv_singular_pivot2": lambda m: m.linalg.inv(m.tensor(SINGULAR2)),
    "inv_batch_element": lambda m: m.linalg.inv(m.stack([m.eye(2), m.tensor(SINGULAR2)])),
    "inverse_singular": lambda m: m.inverse(m.tensor(SINGULAR2)),
    "inv_not_square": lambda m: m.linalg.inv(m.ones(3, 4)),
    "inv_1d": lambda m: m.linalg.inv(m.ones(3)),
    "inv_integer": lambda m: m.linalg.inv(m.ones(3, 3, dtype=m.int64)),
    "det_not_square": lambda m: m.linalg.det(m.ones(3, 4)),
    "det_integer": lambda m: m.det(m.ones(3, 3, dtype=m.int64)),
    "slogdet_not_square": lambda m: m.linalg.slogdet(m.ones(3, 4)),
    "logdet_not_square": lambda m: m.logdet(m.ones(3, 4)),
    "solve_singular": lambda m: m.linalg.solve(m.tensor(SINGULAR2), m.ones(2)),
    "solve_singular_batch": lambda m: m.linalg.solve(m.stack([m.eye(2), m.tensor(SINGULAR2)]),
                                                     m.ones(2)),
    "solve_vector_size": lambda m: m.linalg.solve(m.eye(3), m.ones(4)),
    "solve_matrix_size": lambda m: m.linalg.solve(m.eye(3), m.ones(2, 3)),
    "solve_right_vector": lambda m: m.linalg.solve(m.eye(3), m.ones(3), left=False),
    "solve_dtypes": lambda m: m.linalg.solve(m.eye(3), m.ones(3, dtype=m.float64)),
    "solve_batch_broadcast": lambda m: m.linalg.solve(m.eye(3).expand(4, 3, 3), m.ones(2, 3, 1)),
    "cholesky_not_pd": lambda m: m.linalg.cholesky(-m.eye(3)),
    "cholesky_minor_2": lambda m: m.linalg.cholesky(m.tensor([[1.0, 2], [2, 1]])),
    "cholesky_batch_element": lambda m: m.linalg.cholesky(m.stack([m.eye(3), -m.eye(3)])),
    "cholesky_not_square": lambda m: m.linalg.cholesky(m.ones(3, 4)),
    "cholesky_integer": lambda m: m.linalg.cholesky(m.ones(3, 3, dtype=m.int64)),
    "cholesky_old_not_pd": lambda m: m.cholesky(-m.eye(3)),
    "qr_integer": lambda m: m.linalg.qr(m.ones(3, 3, dtype=m.int64)),
    "qr_1d": lambda m: m.linalg.qr(m.ones(3)),
    "qr_mode": lambda m: m.linalg.qr(m.ones(3, 3), mode="bad"),
    "svd_integer": lambda m: m.linalg.svd(m.ones(3, 3, dtype=m.int64)),
    "svdvals_1d": lambda m: m.linalg.svdvals(m.ones(3)),
    "svd_old_1d": lambda m: m.svd(m.ones(3)),
    "eigh_not_square": lambda m: m.linalg.eigh(m.ones(3, 4)),
    "eigh_integer": lambda m: m.linalg.eigh(m.ones(3, 3, dtype=m.int64)),
    "eigh_uplo": lambda m: m.linalg.eigh(m.eye(3), UPLO="X"),
    "pinv_integer": lambda m: m.linalg.pinv(m.ones(3, 3, dtype=m.int64)),
    "matrix_rank_integer": lambda m: m.linalg.matrix_rank(m.ones(3, 3, dtype=m.int64)),
    "matrix_norm_1d": lambda m: m.linalg.matrix_norm(m.ones(3)),
    "matrix_norm_order": lambda m: m.linalg.matrix_norm(m.ones(3, 3), 3),
    "matrix_norm_float_order": lambda m: m.linalg.matrix_norm(m.ones(3, 3), 3.5),
    "matrix_norm_str_order": lambda m: m.linalg.matrix_norm(m.ones(3, 3), "abc"),
    "matrix_norm_integer": lambda m: m.linalg.matrix_norm(m.ones(3, 3, dtype=m.int64)),
    "matrix_norm_three_dims": lambda m: m.linalg.matrix_norm(m.ones(3, 3), dim=(0, 1, 2)),
    "matrix_norm_same_dims": lambda m: m.linalg.matrix_norm(m.ones(3, 3), dim=(0, 0)),
    "vector_norm_integer": lambda m: m.linalg.vector_norm(m.ones(3, dtype=m.int64)),
    "vector_norm_str_order": lambda m: m.linalg.vector_norm(m.ones(3, 3), "fro"),
    "norm_3d_with_order": lambda m: m.linalg.norm(m.ones(2, 3, 3), 2),
    "norm_three_dims": lambda m: m.linalg.norm(m.ones(2, 3, 3), dim=(0, 1, 2)),
    "norm_nuc_one_dim": lambda m: m.linalg.norm(m.ones(3, 3), "nuc", dim=0),
    "norm_fro_1d": lambda m: m.linalg.norm(m.ones(3), "fro"),
    "matrix_power_not_square": lambda m: m.linalg.matrix_power(m.ones(3, 4), 2),
    "matrix_power_1d": lambda m: m.linalg.matrix_power(m.ones(3), 2),
    "matrix_power_integer_inverse": lambda m: m.linalg.matrix_power(
        m.ones(3, 3, dtype=m.int64), -1),
    "matrix_power_singular_inverse": lambda m: m.linalg.matrix_power(m.tensor(SINGULAR2), -1),
    "multi_dot_one": lambda m: m.linalg.multi_dot([m.ones(3, 3)]),
    "multi_dot_first_3d": lambda m: m.linalg.multi_dot([m.ones(2, 3, 3), m.ones(3, 2)]),
    "multi_dot_middle_3d": lambda m: m.linalg.multi_dot([m.ones(3, 3), m.ones(3, 3, 3),
                                                         m.ones(3)]),
    "multi_dot_last_3d": lambda m: m.linalg.multi_dot([m.ones(3, 3), m.ones(3, 3, 3)]),
    "multi_dot_shapes": lambda m: m.linalg.multi_dot([m.ones(2, 3), m.ones(4, 2)]),
    "multi_dot_dtypes": lambda m: m.linalg.multi_dot([m.ones(3, 3),
                                                      m.ones(3, 3, dtype=m.float64)]),
    "vecdot_integer": lambda m: m.linalg.vecdot(m.ones(3, dtype=m.int64),
                                                m.ones(3, dtype=m.int64)),
    "vecdot_dtypes": lambda m: m.linalg.vecdot(m.ones(3), m.ones(3, dtype=m.float64)),
    "lstsq_rows": lambda m: m.linalg.lstsq(m.ones(4, 3), m.ones(3, 2)),
    "lstsq_driver": lambda m: m.linalg.lstsq(m.ones(4, 3), m.ones(4, 2), driver="x"),
    "matrix_exp_not_square": lambda m: m.linalg.matrix_exp(m.ones(3, 4)),
    "matrix_exp_integer": lambda m: m.linalg.matrix_exp(m.ones(3, 3, dtype=m.int64)),
    "cond_1d": lambda m: m.linalg.cond(m.ones(3)),
    "cond_fro_not_square": lambda m: m.linalg.cond(m.ones(3, 4), "fro"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name, torch):
    f = ERRORS[name]
    with pytest.raises(Exception) as t_err:
        f(torch)
    with pytest.raises(Exception) as err:
        f(ember)
    t_type = type(t_err.value)
    if issubclass(t_type, torch.linalg.LinAlgError):
        assert isinstance(err.value, ember.linalg.LinAlgError)
        assert isinstance(err.value, RuntimeError)
    else:
        assert type(err.value).__name__ == t_type.__name__
    assert str(err.value) == str(t_err.value)
