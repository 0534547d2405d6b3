"""``ember.linalg`` on complex matrices against torch: values and dtypes (real results where
torch's are real), decompositions compared free of the phases LAPACK picks, torch's errors,
and gradients (torch's conjugate-Wirtinger convention) against torch, against finite
differences, and with ``create_graph=True`` (the Tensor-level formulas). Inputs are
non-Hermitian (except where Hermitian is required), batched, and rectangular where allowed,
so a missing conjugate or transpose changes the answer.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _np(t):
    return t.detach().resolve_conj().numpy()


def _crand(*shape, seed=0, dtype="complex128"):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def _data(dtype="complex128"):
    """Square batch A, right-hand sides B, tall R, wide W, Hermitian positive-definite H with
    Cholesky factors L (lower) and U (upper), and T (A, shifted to stay away from singular)."""
    a = _crand(2, 3, 3, seed=1, dtype=dtype)
    h = (a @ np.conj(np.swapaxes(a, -1, -2)) + 3 * np.eye(3)).astype(dtype)
    low = np.linalg.cholesky(h)
    return {"A": a, "B": _crand(2, 3, 2, seed=2, dtype=dtype),
            "R": _crand(4, 3, seed=3, dtype=dtype), "W": _crand(3, 4, seed=4, dtype=dtype),
            "H": h, "T": (a + 3 * np.eye(3)).astype(dtype), "L": low,
            "U": np.ascontiguousarray(np.conj(np.swapaxes(low, -1, -2)))}


def _t(m, x):
    return m.tensor(x)


# --- values: results that LAPACK fixes completely ---------------------------------------------
VALUES = {
    "inv": lambda m, d: m.linalg.inv(_t(m, d["A"])),
    "inv_ex": lambda m, d: m.linalg.inv_ex(_t(m, d["A"])),
    "det": lambda m, d: m.linalg.det(_t(m, d["A"])),
    "slogdet": lambda m, d: m.linalg.slogdet(_t(m, d["A"])),
    "solve": lambda m, d: m.linalg.solve(_t(m, d["A"]), _t(m, d["B"])),
    "solve_right": lambda m, d: m.linalg.solve(_t(m, d["A"]), _t(m, d["B"]).mT, left=False),
    "solve_ex": lambda m, d: m.linalg.solve_ex(_t(m, d["A"]), _t(m, d["B"][..., 0])),
    "cholesky": lambda m, d: m.linalg.cholesky(_t(m, d["H"])),
    "cholesky_upper_reads_upper": lambda m, d: m.linalg.cholesky(
        _t(m, np.triu(d["H"]) + np.tril(d["A"], -1)), upper=True),
    "cholesky_ex_not_pd": lambda m, d: m.linalg.cholesky_ex(_t(m, d["A"])).info,
    "eigvalsh_upper": lambda m, d: m.linalg.eigvalsh(_t(m, np.triu(d["H"]) + np.tril(d["A"], -1)),
                                                     UPLO="U"),
    "svdvals": lambda m, d: m.linalg.svdvals(_t(m, d["W"])),
    "pinv_tall": lambda m, d: m.linalg.pinv(_t(m, d["R"])),
    "pinv_cutoff": lambda m, d: m.linalg.pinv(_t(m, d["A"]), atol=1.0, rtol=0.3),
    "pinv_hermitian": lambda m, d: m.linalg.pinv(_t(m, d["H"]), hermitian=True),
    "matrix_norms": lambda m, d: m.stack([m.linalg.matrix_norm(_t(m, d["A"]), o) for o in (
        "fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)]),
    "norm": lambda m, d: m.stack([m.linalg.norm(_t(m, d["A"])), m.linalg.norm(_t(m, d["R"]), 1)]),
    "vector_norm": lambda m, d: m.linalg.vector_norm(_t(m, d["A"]), 3, dim=-1),
    "cond": lambda m, d: m.stack([m.linalg.cond(_t(m, d["A"]), p) for p in (
        None, 2, -2, "fro", "nuc", 1, math.inf)]),
    "matrix_rank": lambda m, d: m.linalg.matrix_rank(_t(m, np.concatenate(
        [d["A"][..., :2], d["A"][..., :1] + 1j * d["A"][..., 1:2]], -1))),
    "matrix_rank_hermitian": lambda m, d: m.linalg.matrix_rank(_t(m, d["H"]), hermitian=True),
    "matrix_exp": lambda m, d: m.linalg.matrix_exp(_t(m, d["A"])),
    "matrix_power": lambda m, d: m.stack([m.linalg.matrix_power(_t(m, d["A"]), n)
                                          for n in (0, 1, 5, -3)]),
    "multi_dot": lambda m, d: m.linalg.multi_dot([_t(m, d["A"][0]), _t(m, d["R"]).mT,
                                                  _t(m, d["R"]), _t(m, d["A"][1, 0])]),
    "vecdot": lambda m, d: m.linalg.vecdot(_t(m, d["A"]), _t(m, d["B"][..., :1]), dim=-2),
    "lstsq_gelsd": lambda m, d: m.linalg.lstsq(_t(m, d["R"]), _t(m, d["R"][:, :2] + 1j),
                                               driver="gelsd"),
    "lstsq_wide": lambda m, d: m.linalg.lstsq(_t(m, d["W"]), _t(m, d["W"][:, 0])),
    "solve_triangular": lambda m, d: m.linalg.solve_triangular(_t(m, d["T"]), _t(m, d["B"]),
                                                               upper=False),
    "cholesky_solve": lambda m, d: m.cholesky_solve(_t(m, d["B"]), _t(m, d["L"])),
    "cholesky_solve_upper": lambda m, d: m.cholesky_solve(_t(m, d["B"]), _t(m, d["U"]), True),
    "cholesky_inverse": lambda m, d: m.cholesky_inverse(_t(m, d["L"])),
    "cholesky_inverse_upper": lambda m, d: m.cholesky_inverse(_t(m, d["U"]), upper=True),
    "top_level": lambda m, d: (m.det(_t(m, d["A"])), m.inverse(_t(m, d["A"])),
                               m.pinverse(_t(m, d["R"])), m.matrix_exp(_t(m, d["A"]))),
}


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name", list(VALUES))
def test_values_and_dtypes_match_torch(name, dtype, torch):
    d = _data(dtype)
    out, t_out = VALUES[name](ember, d), VALUES[name](torch, d)
    assert type(out).__name__ == type(t_out).__name__
    outs, t_outs = (out, t_out) if isinstance(out, tuple) else ((out,), (t_out,))
    tol = 2e-4 if dtype == "complex64" else 1e-9
    for k, (o, t) in enumerate(zip(outs, t_outs)):
        assert str(o.dtype)[6:] == str(t.dtype)[6:], k
        assert tuple(o.shape) == tuple(t.shape), k
        np.testing.assert_allclose(_np(o), _np(t), rtol=tol, atol=tol, err_msg=str(k))


# --- decompositions: compared free of the phases of their columns -----------------------------
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("key, mode", [("A", "reduced"), ("R", "reduced"), ("R", "complete"),
                                       ("W", "reduced")])
def test_qr_matches_torch_up_to_phases(key, mode, dtype, torch):
    x = _data(dtype)[key]
    (q, r), (tq, tr) = ember.linalg.qr(ember.tensor(x), mode), torch.linalg.qr(torch.tensor(x),
                                                                               mode)
    tol = 2e-4 if dtype == "complex64" else 1e-10
    assert q.dtype == r.dtype and str(q.dtype)[6:] == str(tq.dtype)[6:]
    np.testing.assert_allclose(_np(q) @ _np(r), x, atol=tol)
    np.testing.assert_allclose(np.abs(_np(q)), np.abs(_np(tq)), atol=tol)
    np.testing.assert_allclose(np.abs(_np(r)), np.abs(_np(tr)), atol=tol)
    r_only = ember.linalg.qr(ember.tensor(x), mode="r")
    assert r_only.Q.shape == (0,)
    k = min(x.shape[-2:])  # mode 'r' gives the reduced R
    np.testing.assert_allclose(np.abs(_np(r_only.R)), np.abs(_np(tr))[..., :k, :], atol=tol)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("key, full", [("A", True), ("R", True), ("R", False), ("W", False)])
def test_svd_matches_torch_up_to_phases(key, full, dtype, torch):
    x = _data(dtype)[key]
    u, s, vh = ember.linalg.svd(ember.tensor(x), full_matrices=full)
    tu, ts, tvh = torch.linalg.svd(torch.tensor(x), full_matrices=full)
    tol = 2e-4 if dtype == "complex64" else 1e-10
    assert str(s.dtype)[6:] == str(ts.dtype)[6:] and str(u.dtype)[6:] == str(tu.dtype)[6:]
    np.testing.assert_allclose(_np(s), _np(ts), atol=tol)
    k = s.shape[-1]
    np.testing.assert_allclose((_np(u)[..., :k] * _np(s)[..., None, :]) @ _np(vh)[..., :k, :], x,
                               atol=tol)
    np.testing.assert_allclose(np.abs(_np(u)[..., :k]), np.abs(_np(tu)[..., :k]), atol=tol)
    np.testing.assert_allclose(np.abs(_np(vh)[..., :k, :]), np.abs(_np(tvh)[..., :k, :]),
                               atol=tol)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_matches_torch_up_to_phases(uplo, torch):
    d = _data()
    x = np.triu(d["H"]) + np.tril(d["A"], -1) if uplo == "U" else np.tril(d["H"]) + np.triu(
        d["A"], 1)
    (w, v), (tw, tv) = ember.linalg.eigh(ember.tensor(x), uplo), torch.linalg.eigh(
        torch.tensor(x), uplo)
    assert w.dtype == ember.float64 and v.dtype == ember.complex128
    np.testing.assert_allclose(_np(w), _np(tw), atol=1e-10)
    np.testing.assert_allclose(np.abs(_np(v)), np.abs(_np(tv)), atol=1e-10)
    herm = np.tril(d["H"]) if uplo == "L" else np.triu(d["H"])
    herm = herm + np.conj(np.swapaxes(herm, -1, -2)) - np.eye(3) * np.diagonal(d["H"], 0, -2,
                                                                                  -1)[..., None]
    np.testing.assert_allclose(herm @ _np(v), _np(v) * _np(w)[..., None, :], atol=1e-10)


def test_old_svd_returns_v_as_the_conjugate_transpose_of_vh(torch):
    x = _data()["R"]
    out, t_out = ember.svd(ember.tensor(x)), torch.svd(torch.tensor(x))
    np.testing.assert_allclose((_np(out.U) * _np(out.S)) @ np.conj(_np(out.V)).T, x, atol=1e-10)
    np.testing.assert_allclose(np.abs(_np(out.V)), np.abs(_np(t_out.V)), atol=1e-10)


# --- errors ------------------------------------------------------------------------------------
ERRORS = {
    "solve_mixed": lambda m: m.linalg.solve(m.eye(2, dtype=m.complex64), m.ones(2, 1)),
    "solve_mixed_real_a": lambda m: m.linalg.solve(m.eye(2), m.ones(2, 1, dtype=m.complex64)),
    "vecdot_mixed": lambda m: m.linalg.vecdot(m.ones(2, dtype=m.complex128),
                                              m.ones(2, dtype=m.float64)),
    "inv_singular": lambda m: m.linalg.inv(m.tensor([[1, 1j], [1j, -1]])),
    "solve_singular": lambda m: m.linalg.solve(m.tensor([[1, 1j], [1j, -1]]),
                                               m.ones(2, dtype=m.complex64)),
    "cholesky_not_pd": lambda m: m.linalg.cholesky(m.tensor([[1, 2j], [-2j, 1]])),
    "eigh_long": lambda m: m.linalg.eigh(m.ones(2, 2, dtype=m.int64)),
    "det_long": lambda m: m.linalg.det(m.ones(2, 2, dtype=m.int64)),
    "matrix_rank_long": lambda m: m.linalg.matrix_rank(m.ones(2, 2, dtype=m.int64)),
    "pinv_long": lambda m: m.linalg.pinv(m.ones(2, 2, dtype=m.int64)),
    "qr_not_differentiable_complete": lambda m: m.linalg.qr(
        m.tensor(_data()["R"], requires_grad=True), "complete").Q.abs().sum().backward(),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name, torch):
    with pytest.raises(Exception) as t_err:
        ERRORS[name](torch)
    with pytest.raises(Exception) as e_err:
        ERRORS[name](ember)
    want = type(t_err.value).__name__.lstrip("_")  # torch's _LinAlgError is LinAlgError
    assert type(e_err.value).__name__ == want
    assert str(e_err.value) == str(t_err.value)


def test_legacy_cholesky_takes_complex_input(torch):
    a = _data()["H"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.cholesky is deprecated
        got, want = ember.cholesky(ember.tensor(a)), torch.cholesky(torch.tensor(a))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


# --- gradients ---------------------------------------------------------------------------------
def _w(m, shape, seed):
    """A fixed complex weight: a real loss sum(Re(w * out)) reads real and imaginary parts."""
    return m.tensor(_crand(*shape, seed=100 + seed))


def _lin(m, out, seed=0):
    if out.is_complex():
        return (out * _w(m, tuple(out.shape), seed)).real.sum()
    return (out * m.tensor(np.cos(np.arange(out.numel()) + seed).reshape(tuple(out.shape)))).sum()


def _gauge(m, out, seed=0):
    """A loss of |out|^2, blind to the phase of each column (singular vectors, eigenvectors)."""
    return ((out.abs() ** 2) * m.tensor(np.cos(np.arange(out.numel()) + seed).reshape(
        tuple(out.shape)))).sum()


GRADS = {
    "inv": (lambda m, a: _lin(m, m.linalg.inv(a)), "A"),
    "det": (lambda m, a: _lin(m, m.linalg.det(a)), "A"),
    "slogdet": (lambda m, a: _lin(m, m.linalg.slogdet(a).sign, 1)
                + _lin(m, m.linalg.slogdet(a).logabsdet, 2), "A"),
    "slogdet_sign_only": (lambda m, a: _lin(m, m.linalg.slogdet(a).sign), "A"),
    "solve": (lambda m, a, b: _lin(m, m.linalg.solve(a, b)), "AB"),
    "solve_right": (lambda m, a, b: _lin(m, m.linalg.solve(a, b.mT, left=False)), "AB"),
    "solve_vector": (lambda m, a, b: _lin(m, m.linalg.solve(a, b[..., 0])), "AB"),
    "cholesky": (lambda m, h: _lin(m, m.linalg.cholesky(h)), "H"),
    "cholesky_upper": (lambda m, h: _lin(m, m.linalg.cholesky(h, upper=True)), "H"),
    "eigvalsh": (lambda m, h: _lin(m, m.linalg.eigvalsh(h)), "H"),
    "eigh": (lambda m, h: _gauge(m, m.linalg.eigh(h).eigenvectors)
             + _lin(m, m.linalg.eigh(h).eigenvalues), "H"),
    "svdvals": (lambda m, a: _lin(m, m.linalg.svdvals(a)), "A"),
    "svd_square": (lambda m, a: _gauge(m, m.linalg.svd(a).U, 1) + _gauge(m, m.linalg.svd(a).Vh, 2)
                   + _lin(m, m.linalg.svd(a).S), "A"),
    "svd_products": (lambda m, a: (lambda u, s, vh: _lin(m, u[..., :, :2] @ vh[..., :2, :]))(
        *m.linalg.svd(a)), "A"),
    "svd_tall": (lambda m, a: (lambda u, s, vh: _lin(m, u[:, :2] @ vh[:2]) + _lin(m, s, 1))(
        *m.linalg.svd(a, full_matrices=False)), "R"),
    "svd_wide": (lambda m, a: _gauge(m, m.linalg.svd(a, full_matrices=False).Vh), "W"),
    "qr": (lambda m, a: _lin(m, m.linalg.qr(a).Q) + _lin(m, m.linalg.qr(a).R, 1), "A"),
    "qr_tall": (lambda m, a: _lin(m, m.linalg.qr(a).Q) + _lin(m, m.linalg.qr(a).R, 1), "R"),
    "qr_wide": (lambda m, a: _lin(m, m.linalg.qr(a).Q) + _lin(m, m.linalg.qr(a).R, 1), "W"),
    "pinv_tall": (lambda m, a: _lin(m, m.linalg.pinv(a)), "R"),
    "pinv_wide": (lambda m, a: _lin(m, m.linalg.pinv(a)), "W"),
    "pinv_hermitian": (lambda m, h: _lin(m, m.linalg.pinv(h, hermitian=True)), "H"),
    "matrix_exp": (lambda m, a: _lin(m, m.linalg.matrix_exp(a)), "A"),
    "matrix_power": (lambda m, a: _lin(m, m.linalg.matrix_power(a, -2))
                     + _lin(m, m.linalg.matrix_power(a, 3), 1), "A"),
    "norms": (lambda m, a: sum(m.linalg.matrix_norm(a, o).sum() for o in ("fro", "nuc", 2, 1, -2))
              + m.linalg.cond(a).sum(), "A"),
    "vecdot": (lambda m, a, b: _lin(m, m.linalg.vecdot(a, b.flip(-1)[..., :1], dim=-2)), "AB"),
    "lstsq": (lambda m, a: _lin(m, m.linalg.lstsq(a, a[:, :2] * 1j + 1).solution), "R"),
    "solve_triangular": (lambda m, t, b: _lin(m, m.linalg.solve_triangular(t, b, upper=True)),
                         "TB"),
    "solve_triangular_right_unit": (lambda m, t, b: _lin(m, m.linalg.solve_triangular(
        t, b.mT, upper=False, left=False, unitriangular=True)), "TB"),
    "cholesky_solve": (lambda m, low, b: _lin(m, m.cholesky_solve(b, low)), "LB"),
    "cholesky_solve_upper": (lambda m, up, b: _lin(m, m.cholesky_solve(b, up, True)), "UB"),
    "cholesky_inverse": (lambda m, low: _lin(m, m.cholesky_inverse(low)), "L"),
    "cholesky_inverse_upper": (lambda m, up: _lin(m, m.cholesky_inverse(up, True)), "U"),
    "old_svd_v": (lambda m, a: _lin(m, (lambda u, s, v: u[:, :1] @ v[:, :1].mH)(*m.svd(a))), "R"),
}


def _inputs(keys, dtype="complex128"):
    d = _data(dtype)
    return [d[k] for k in keys]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name", list(GRADS))
def test_gradients_match_torch(name, dtype, torch):
    f, keys = GRADS[name]
    xs = _inputs(keys, dtype)
    grads = []
    for m in (ember, torch):
        ts = [m.tensor(x, requires_grad=True) for x in xs]
        f(m, *ts).backward()
        grads.append([_np(t.grad) for t in ts])
        assert all(str(t.grad.dtype)[6:] == dtype for t in ts)
    tol = 2e-3 if dtype == "complex64" else 1e-8
    for k, (g, tg) in enumerate(zip(*grads)):
        np.testing.assert_allclose(g, tg, rtol=tol, atol=tol, err_msg=f"input {k}")


def _numerical_grad(loss, xs, i, eps=1e-6):
    """dL/dRe + 1j dL/dIm of input ``i`` by central differences (torch's convention)."""
    x = xs[i]
    grad = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        for step in (1.0, 1j):
            parts = []
            for sign in (1, -1):
                moved = list(xs)
                moved[i] = x.copy()
                moved[i][j] += sign * eps * step
                parts.append(loss(ember, *[ember.tensor(v) for v in moved]).item())
            grad[j] += (parts[0] - parts[1]) / (2 * eps) * step
    return grad


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "solve_right", "cholesky_upper", "eigh",
                                  "svd_square", "svd_tall", "qr_wide", "pinv_wide", "matrix_exp",
                                  "solve_triangular", "vecdot", "cholesky_solve_upper",
                                  "cholesky_inverse"])
def test_gradients_match_finite_differences(name):
    f, keys = GRADS[name]
    if keys == "H":  # only a triangle is read: differentiate along Hermitian directions
        f = (lambda g: lambda m, x: g(m, (x + x.mH) * 0.5))(f)
    xs = [x[:1] if x.ndim == 3 else x for x in _inputs(keys)]  # one matrix of each batch
    ts = [ember.tensor(x, requires_grad=True) for x in xs]
    f(ember, *ts).backward()
    # the factor's triangle is read, yet torch's formula fills the whole factor's gradient
    part = {"L": np.tril, "U": np.triu}.get(keys[0]) if name.startswith("cholesky_") else None
    with ember.no_grad():
        for i, t in enumerate(ts):
            got, want = _np(t.grad), _numerical_grad(f, xs, i)
            if i == 0 and part is not None:
                got, want = part(got), part(want)
            np.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-5, err_msg=f"input {i}")


@pytest.mark.parametrize("name, message", [
    ("svd", r"svd_backward: The singular vectors in the complex case are specified up to "
            r"multiplication by e\^\{i phi\}\. The specified loss function depends on this phase "
            r"term, making it ill-defined\."),
    ("eigh", r"linalg_eigh_backward: The eigenvectors in the complex case are specified up to "
             r"multiplication by e\^\{i phi\}\. The specified loss function depends on this "
             r"quantity, so it is ill-defined\."),
])
def test_loss_depending_on_phases_raises_torchs_error(name, message, torch):
    x = _data()["H"]
    for m in (torch, ember):
        a = m.tensor(x, requires_grad=True)
        vectors = m.linalg.svd(a).U if name == "svd" else m.linalg.eigh(a).eigenvectors
        with pytest.raises(RuntimeError, match=message):
            vectors.real.sum().backward()


@pytest.mark.parametrize("name", list(GRADS))
def test_create_graph_gradients_match_torch(name, torch):
    """With create_graph=True ember runs the Tensor-level formulas: the same numbers."""
    f, keys = GRADS[name]
    xs = _inputs(keys)
    grads = []
    for m in (ember, torch):
        ts = [m.tensor(x, requires_grad=True) for x in xs]
        gs = m.autograd.grad(f(m, *ts), ts, create_graph=True)
        grads.append([_np(g) for g in gs])
    for g, tg in zip(*grads):
        np.testing.assert_allclose(g, tg, rtol=1e-8, atol=1e-8)


SECOND = {  # real-valued paths from the input to the loss: differentiable twice in ember
    "eigvalsh": lambda m, a: m.linalg.eigvalsh(a),
    "svdvals": lambda m, a: m.linalg.svdvals(a),
    "logabsdet": lambda m, a: m.linalg.slogdet(a).logabsdet,
    "nuclear_and_spectral_norms": lambda m, a: m.linalg.matrix_norm(a, "nuc")
    + m.linalg.matrix_norm(a, 2),
    "cond": lambda m, a: m.linalg.cond(a),
}


@pytest.mark.parametrize("name", list(SECOND))
def test_second_derivatives_match_torch(name, torch):
    x = _data()["H" if name == "eigvalsh" else "A"]
    results = []
    for m in (ember, torch):
        a = m.tensor(x, requires_grad=True)
        out = SECOND[name](m, a)
        weights = m.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))
        (g,) = m.autograd.grad((out * weights).sum(), a, create_graph=True)
        (g2,) = m.autograd.grad((g.real * m.tensor(np.sin(np.arange(g.numel())).reshape(
            tuple(g.shape)))).sum(), a)
        results.append((_np(g), _np(g2)))
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-7, atol=1e-8)
