"""Op-table rows for ``ember.linalg`` and the top-level linear-algebra functions (see
``tests/ops/op_table.py`` for the format: each row is checked by finite differences and
against torch).

Inputs are made well conditioned inside each row (``a + 4 I`` for inverses, ``a a^T + 3 I``
for Cholesky, ``a + a^T`` for eigh: distinct eigenvalues for uniform samples), and the
decompositions' sign freedom is removed before comparing (columns scaled so that a fixed
row is positive): torch's signs are LAPACK's choice. Named tuples, dtypes and errors are in
``tests/oracle/test_linalg_oracle.py``.
"""
from __future__ import annotations

import math

from tests.ops.op_table import case


def _eye(m, a):
    return m.eye(a.shape[-1], dtype=a.dtype)


def _wc(m, a):
    """Well conditioned: diagonally dominant."""
    return a + 4 * _eye(m, a)


def _spd(m, a):
    return a @ a.mT + 3 * _eye(m, a)


def _sym(m, a):
    return a + a.mT


def _canon_cols(u, *others):
    """Scale the columns of ``u`` (and the matching rows of each ``others``, a Vh) so that
    the first row of ``u`` is positive: removes the sign freedom of decompositions."""
    s = u[..., :1, :].sign()
    return (u * s, *(v * s.mT for v in others))


def _svd(m, a, full=False):
    u, s, vh = m.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    u, vh = _canon_cols(u[..., :k], vh[..., :k, :])
    return u, s, vh


def _eigh(m, a, uplo="L"):
    w, v = m.linalg.eigh(_sym(m, a), UPLO=uplo)
    return (w, *_canon_cols(v))


def _qr(m, a, mode="reduced"):
    q, r = m.linalg.qr(a, mode=mode)
    k = min(a.shape[-2:])
    s = r.diagonal(dim1=-2, dim2=-1).sign()[..., None, :]  # R with a positive diagonal
    return q[..., :k] * s, r[..., :k, :] * s.mT


def _old_svd(m, a):
    u, s, v = m.svd(a)
    u, vt = _canon_cols(u, v.mT)
    return u, s, vt


def _chol_l(m, a):
    return m.linalg.cholesky(_spd(m, a))


M, BM = (3, 3), (2, 3, 3)
ROWS: list = [
    # --- determinants and inverses ------------------------------------------------------
    case("linalg_det", lambda m, a: m.linalg.det(a), (M,)),
    case("linalg_det_batched", lambda m, a: m.linalg.det(a), ((2, 2, 4, 4),)),
    case("linalg_slogdet", lambda m, a: tuple(m.linalg.slogdet(a)), (BM,)),
    case("logdet_spd", lambda m, a: m.logdet(_spd(m, a)), (BM,)),
    case("det_method", lambda m, a: a.det(), (M,)),
    case("linalg_inv", lambda m, a: m.linalg.inv(_wc(m, a)), (M,)),
    case("linalg_inv_batched", lambda m, a: m.linalg.inv(_wc(m, a)), ((2, 1, 4, 4),)),
    case("linalg_inv_ex", lambda m, a: m.linalg.inv_ex(_wc(m, a)).inverse, (BM,)),
    case("inverse_method", lambda m, a: _wc(m, a).inverse(), (M,)),
    # --- solvers -------------------------------------------------------------------------
    case("linalg_solve", lambda m, a, b: m.linalg.solve(_wc(m, a), b), (BM, (2, 3, 2))),
    case("linalg_solve_vector", lambda m, a, b: m.linalg.solve(_wc(m, a), b), (M, (3,))),
    case("linalg_solve_batched_vector", lambda m, a, b: m.linalg.solve(_wc(m, a), b),
         (BM, (2, 3))),
    case("linalg_solve_broadcast", lambda m, a, b: m.linalg.solve(_wc(m, a), b),
         ((2, 1, 3, 3), (4, 3, 2))),
    case("linalg_solve_vector_broadcast", lambda m, a, b: m.linalg.solve(_wc(m, a), b),
         (BM, (3,))),
    case("linalg_solve_right", lambda m, a, b: m.linalg.solve(_wc(m, a), b, left=False),
         (BM, (4, 3))),
    case("linalg_lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, ((5, 3), (5, 2)),
         rtol=1e-4),
    case("linalg_lstsq_vector_batched", lambda m, a, b: m.linalg.lstsq(a, b).solution,
         ((2, 5, 3), (2, 5))),
    case("linalg_pinv_tall", lambda m, a: m.linalg.pinv(a), ((4, 3),)),
    case("linalg_pinv_wide_batched", lambda m, a: m.linalg.pinv(a), ((2, 3, 5),)),
    case("linalg_pinv_hermitian", lambda m, a: m.linalg.pinv(_spd(m, a), hermitian=True), (M,)),
    case("pinverse_method", lambda m, a: a.pinverse(), ((3, 4),)),
    # --- factorizations ------------------------------------------------------------------
    case("linalg_cholesky", lambda m, a: _chol_l(m, a), (BM,)),
    case("linalg_cholesky_upper", lambda m, a: m.linalg.cholesky(_spd(m, a), upper=True), (M,)),
    case("linalg_cholesky_ex", lambda m, a: m.linalg.cholesky_ex(_spd(m, a)).L, (M,)),
    case("cholesky_method", lambda m, a: _spd(m, a).cholesky(), (M,)),
    case("cholesky_solve", lambda m, a, b: m.cholesky_solve(b, _chol_l(m, a)), (M, (3, 2))),
    case("cholesky_inverse", lambda m, a: m.cholesky_inverse(_chol_l(m, a)), (BM,)),
    case("linalg_qr_tall", lambda m, a: _qr(m, a), ((4, 3),)),
    case("linalg_qr_wide", lambda m, a: _qr(m, a), ((3, 5),)),
    case("linalg_qr_batched", lambda m, a: _qr(m, a), (BM,)),
    case("linalg_qr_complete_square", lambda m, a: _qr(m, a, "complete"), (M,)),
    case("linalg_svd_tall", lambda m, a: _svd(m, a), ((4, 3),)),
    case("linalg_svd_wide_batched", lambda m, a: _svd(m, a), ((2, 3, 5),)),
    case("linalg_svd_full_matrices", lambda m, a: _svd(m, a, True), ((4, 3),)),
    case("linalg_svdvals", lambda m, a: m.linalg.svdvals(a), ((2, 4, 3),)),
    case("svd_old_api", lambda m, a: _old_svd(m, a), ((4, 3),)),
    case("linalg_eigh", lambda m, a: _eigh(m, a), (M,)),
    case("linalg_eigh_batched_upper", lambda m, a: _eigh(m, a, "U"), ((2, 4, 4),)),
    case("linalg_eigvalsh", lambda m, a: m.linalg.eigvalsh(_sym(m, a)), (BM,)),
    case("linalg_matrix_exp", lambda m, a: m.linalg.matrix_exp(a), (M,)),
    case("linalg_matrix_exp_batched", lambda m, a: m.linalg.matrix_exp(2 * a), (BM,)),
    # --- norms ---------------------------------------------------------------------------
    case("linalg_vector_norm", lambda m, a: m.linalg.vector_norm(a), ((3, 4),)),
    case("linalg_vector_norm_ord3_dims", lambda m, a: m.linalg.vector_norm(a, 3, (0, 2)),
         ((2, 3, 4),)),
    case("linalg_vector_norm_inf_keepdim",
         lambda m, a: m.linalg.vector_norm(a, math.inf, 1, keepdim=True), ((3, 4),)),
    *[case(f"linalg_matrix_norm_{name}", lambda m, a, o=o: m.linalg.matrix_norm(a, o),
           ((2, 3, 4),))
      for name, o in [("fro", "fro"), ("nuc", "nuc"), ("2", 2), ("neg2", -2), ("1", 1),
                      ("neg1", -1), ("inf", math.inf), ("neginf", -math.inf)]],
    case("linalg_matrix_norm_nuc_dims_keepdim",
         lambda m, a: m.linalg.matrix_norm(a, "nuc", dim=(2, 0), keepdim=True), ((3, 2, 4),)),
    case("linalg_matrix_norm_inf_dims_keepdim",
         lambda m, a: m.linalg.matrix_norm(a, math.inf, dim=(0, 2), keepdim=True),
         ((3, 2, 4),)),
    case("linalg_matrix_norm_1_dims", lambda m, a: m.linalg.matrix_norm(a, 1, dim=(2, 0)),
         ((3, 2, 4),)),
    case("linalg_norm_default_3d", lambda m, a: m.linalg.norm(a), ((2, 3, 4),)),
    case("linalg_norm_matrix_2", lambda m, a: m.linalg.norm(a, 2), ((3, 4),)),
    case("linalg_norm_vector_dim", lambda m, a: m.linalg.norm(a, 3, dim=1), ((3, 4),)),
    case("linalg_norm_nuc_dims", lambda m, a: m.linalg.norm(a, "nuc", dim=(0, 1)), ((3, 4),)),
    case("linalg_cond", lambda m, a: m.linalg.cond(_wc(m, a)), (BM,)),
    # torch's own backward of cond(A, 'fro') fails (it edits inv's output in place)
    case("linalg_cond_fro", lambda m, a: m.linalg.cond(_wc(m, a), "fro"), (M,), torch_grad=False),
    # --- products and powers -------------------------------------------------------------
    case("linalg_multi_dot3", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
         ((2, 5), (5, 3), (3, 4))),
    case("linalg_multi_dot4_vectors", lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]),
         ((4,), (4, 2), (2, 5), (5,))),
    case("linalg_vecdot", lambda m, a, b: m.linalg.vecdot(a, b), ((3, 4), (4,))),
    case("linalg_vecdot_dim0", lambda m, a, b: m.linalg.vecdot(a, b, dim=0), ((3, 4), (3, 1))),
    case("linalg_matrix_power_3", lambda m, a: m.linalg.matrix_power(a, 3), (BM,)),
    case("linalg_matrix_power_5", lambda m, a: m.linalg.matrix_power(a, 5), (M,)),
    case("linalg_matrix_power_neg2", lambda m, a: m.linalg.matrix_power(_wc(m, a), -2), (M,)),
    case("matrix_power_method_1", lambda m, a: a.matrix_power(1), (M,)),
    case("linalg_diagonal", lambda m, a: m.linalg.diagonal(a, offset=1), ((2, 3, 4),)),
]
