"""``ember.linalg.eig`` / ``eigvals`` against torch: complex dtypes (also for real input),
values, eigenvectors compared up to their phases, torch's errors, and gradients of losses
that do not depend on the phases (torch's check raises for those that do), against torch
and against finite differences.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _np(t):
    return t.detach().resolve_conj().numpy()


def _crand(*shape, seed=0, dtype="complex128"):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _tol(dtype):
    return 1e-4 if dtype in ("float32", "complex64") else 1e-10


def _sorted(w, v=None):
    """Eigenvalues (and the matching eigenvector columns) in a fixed order per matrix."""
    if w.size == 0:
        return w if v is None else (w, v)
    w2 = w.reshape(-1, w.shape[-1])
    order = np.stack([np.lexsort((np.round(r.imag, 5), np.round(r.real, 5))) for r in w2])
    w_s = np.take_along_axis(w2, order, -1).reshape(w.shape)
    if v is None:
        return w_s
    v2 = v.reshape((-1,) + v.shape[-2:])
    v_s = np.take_along_axis(v2, order[:, None, :], -1).reshape(v.shape)
    return w_s, v_s


def _same_up_to_phase(v, want, tol):
    """Each column of ``v`` equals the matching column of ``want`` times some e^{i phi}."""
    inner = np.sum(np.conj(v) * want, axis=-2, keepdims=True)
    phase = inner / np.where(np.abs(inner) == 0, 1, np.abs(inner))
    np.testing.assert_allclose(v * phase, want, atol=tol, rtol=tol)


# --- values ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (1, 1), (0, 0), (2, 0, 0)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_eig_dtypes_values_and_vectors_match_torch(dtype, shape, torch):
    x = _crand(*shape, dtype=dtype)
    out, t_out = ember.linalg.eig(ember.tensor(x)), torch.linalg.eig(torch.tensor(x))
    assert type(out).__name__ == type(t_out).__name__ == "linalg_eig"
    assert out.__match_args__ == type(t_out).__match_args__
    for o, t in zip(out, t_out):
        assert str(o.dtype)[6:] == str(t.dtype)[6:] and tuple(o.shape) == tuple(t.shape)
    tol = _tol(dtype)
    w, v = _sorted(_np(out.eigenvalues), _np(out.eigenvectors))
    tw, tv = _sorted(_np(t_out.eigenvalues), _np(t_out.eigenvectors))
    np.testing.assert_allclose(w, tw, atol=tol, rtol=tol)
    _same_up_to_phase(v, tv, 10 * tol)
    vals = ember.linalg.eigvals(ember.tensor(x))
    assert vals.dtype == out.eigenvalues.dtype
    np.testing.assert_allclose(_sorted(_np(vals)), tw, atol=tol, rtol=tol)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_eigenvectors_solve_the_eigenproblem_with_lapacks_normalisation(dtype):
    x = _crand(3, 5, 5, seed=1, dtype=dtype)
    w, v = (_np(t) for t in ember.linalg.eig(ember.tensor(x)))
    np.testing.assert_allclose(x @ v, v * w[..., None, :], atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1, atol=1e-12)
    # LAPACK makes the largest component of each eigenvector real
    top = np.take_along_axis(v, np.abs(v).argmax(-2)[..., None, :], -2)
    np.testing.assert_allclose(top.imag, 0, atol=1e-12)


def test_real_matrix_with_a_rotation_gets_a_conjugate_pair(torch):
    c, s = np.cos(0.7), np.sin(0.7)
    x = np.array([[c, -s, 0.5], [s, c, 0.1], [0, 0, 2.0]])
    w = _np(ember.linalg.eigvals(ember.tensor(x)))
    assert w.dtype == np.complex128
    np.testing.assert_allclose(_sorted(w), _sorted(_np(torch.linalg.eigvals(torch.tensor(x)))),
                               atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(w), [c - 1j * s, c + 1j * s, 2.0], atol=1e-12)


def test_out_writes_both_results(torch):
    x = _crand(3, 3)
    w, v = ember.empty(3, dtype=ember.complex128), ember.empty(3, 3, dtype=ember.complex128)
    res = ember.linalg.eig(ember.tensor(x), out=(w, v))
    t_res = torch.linalg.eig(torch.tensor(x), out=(torch.empty(3, dtype=torch.complex128),
                                                   torch.empty(3, 3, dtype=torch.complex128)))
    assert type(res).__name__ == type(t_res).__name__
    assert res.eigenvalues is w and res.eigenvectors is v
    np.testing.assert_allclose(_np(w), _np(ember.linalg.eigvals(ember.tensor(x))))


# --- errors ------------------------------------------------------------------------------------
ERRORS = {
    "one_dim": lambda m: m.linalg.eig(m.ones(3)),
    "one_dim_half": lambda m: m.linalg.eig(m.ones(3, dtype=m.float16)),
    "not_square": lambda m: m.linalg.eig(m.ones(2, 3)),
    "eigvals_not_square": lambda m: m.linalg.eigvals(m.ones(2, 3, dtype=m.float64)),
    "eigvals_one_dim": lambda m: m.linalg.eigvals(m.ones(3)),
    "long": lambda m: m.linalg.eig(m.ones(2, 3, dtype=m.int64)),
    "bool": lambda m: m.linalg.eigvals(m.ones(2, 2, dtype=m.bool)),
    "int32": lambda m: m.linalg.eigvals(m.ones(2, 2, dtype=m.int32)),
    "half": lambda m: m.linalg.eigvals(m.ones(2, 2, dtype=m.float16)),
    "nan": lambda m: m.linalg.eig(m.tensor([[1.0, float("nan")], [0.0, 1.0]])),
    "inf_complex": lambda m: m.linalg.eig(m.tensor([[1.0, 1j * float("inf")], [0.0, 1.0]])),
    "eigvals_nan_with_grad": lambda m: m.linalg.eigvals(
        m.tensor([[1.0, float("nan")], [0.0, 1.0]], requires_grad=True)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name, torch):
    with pytest.raises(Exception) as t_err:
        ERRORS[name](torch)
    with pytest.raises(Exception) as e_err:
        ERRORS[name](ember)
    assert type(e_err.value).__name__ == type(t_err.value).__name__
    assert str(e_err.value) == str(t_err.value)


def test_eigvals_without_autograd_gives_nan_for_a_non_finite_matrix():
    x = np.stack([np.diag([1.0, 2.0]), [[1.0, np.inf], [0.0, 1.0]]])
    w = _np(ember.linalg.eigvals(ember.tensor(x)))
    np.testing.assert_allclose(np.sort_complex(w[0]), [1, 2])
    assert np.isnan(w[1]).all()


# --- gradients ---------------------------------------------------------------------------------
WEIGHTS = np.array([0.3, -1.2, 0.7, 2.0])


def _weights(m, n):
    return m.tensor(WEIGHTS[:n])


LOSSES = {
    "eigvals_real_imag": lambda m, a: (m.linalg.eigvals(a).real * _weights(m, a.shape[-1])).sum()
    + m.linalg.eigvals(a).imag.abs().sum(),
    "eigvals_abs": lambda m, a: m.linalg.eigvals(a).abs().sum(),
    "eigvalues_squared": lambda m, a: (m.linalg.eig(a).eigenvalues ** 2).real.sum(),
    "vectors_abs": lambda m, a: (m.linalg.eig(a).eigenvectors.abs() ** 3).sum(),
    "both": lambda m, a: m.linalg.eig(a).eigenvectors.abs().sum()
    + (m.linalg.eig(a).eigenvalues * (1 + 2j)).real.sum(),
    "vector_products": lambda m, a: (lambda w, v: (v[..., :, 0] * v[..., :, 0].conj()
                                                   * (1.5 + w[..., :1])).real.sum())(
        *m.linalg.eig(a)),
}


@pytest.mark.parametrize("dtype", ["float64", "complex128", "complex64"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_gradients_match_torch(name, dtype, torch):
    x = _crand(2, 4, 4, seed=3, dtype=dtype)
    a, ta = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss, t_loss = LOSSES[name](ember, a), LOSSES[name](torch, ta)
    loss.backward()
    t_loss.backward()
    tol = 1e-3 if dtype == "complex64" else 1e-8
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=tol)
    assert a.grad.dtype == a.dtype
    np.testing.assert_allclose(_np(a.grad), _np(ta.grad), rtol=tol, atol=tol)


def _numerical_grad(loss, x, eps=1e-6):
    """dL/dRe(x) + 1j dL/dIm(x) by central differences (torch's convention)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        for step in ((1.0, 1.0), (1j, 1j)) if x.dtype.kind == "c" else ((1.0, 1.0),):
            hi, lo = x.copy(), x.copy()
            hi[i] += eps * step[0]
            lo[i] -= eps * step[0]
            d = (loss(ember.tensor(hi)).item() - loss(ember.tensor(lo)).item()) / (2 * eps)
            grad[i] += d * step[1]
    return grad


@pytest.mark.parametrize("name", ["eigvals_real_imag", "vectors_abs", "both",
                                  "vector_products"])
def test_complex_gradients_match_finite_differences(name):
    x = _crand(2, 3, 3, seed=5)
    a = ember.tensor(x, requires_grad=True)
    LOSSES[name](ember, a).backward()
    with ember.no_grad():
        want = _numerical_grad(lambda t: LOSSES[name](ember, t), x)
    np.testing.assert_allclose(_np(a.grad), want, atol=1e-6, rtol=1e-5)


def test_real_input_gradcheck():
    x = _crand(2, 3, 3, seed=7, dtype="float64")
    a = ember.tensor(x, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.view_as_real(ember.linalg.eigvals(t)), (a,))
    assert ember.autograd.gradcheck(lambda t: ember.linalg.eig(t).eigenvectors.abs(), (a,))


def test_loss_depending_on_the_phase_raises_torchs_error(torch):
    x = _crand(3, 3, seed=2)
    for m in (torch, ember):
        a = m.tensor(x, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"linalg_eig_backward: The eigenvectors in the "
                                               r"complex case are specified up to multiplication "
                                               r"by e\^\{i phi\}\. The specified loss function "
                                               r"depends on this quantity, so it is ill-defined"):
            m.linalg.eig(a).eigenvectors.real.sum().backward()
    real = _crand(3, 3, seed=2, dtype="float64")  # complex eigenvalues: complex eigenvectors
    with pytest.raises(RuntimeError, match="linalg_eig_backward: The eigenvectors"):
        ember.linalg.eig(ember.tensor(real, requires_grad=True)).eigenvectors.real.sum().backward()


def test_real_eigenvectors_of_a_real_matrix_may_be_used_as_they_are(torch):
    x = np.triu(_crand(3, 3, seed=4, dtype="float64")) + np.diag([0.0, 1.0, 3.0])
    grads = []
    for m in (ember, torch):
        a = m.tensor(x, requires_grad=True)
        (m.linalg.eig(a).eigenvectors.real * m.tensor(WEIGHTS[:3])).sum().backward()
        grads.append(_np(a.grad))
    np.testing.assert_allclose(*grads, atol=1e-10)


def test_node_name_and_create_graph_gradient_match_torch(torch):
    x = _crand(2, 3, 3, seed=6)
    results = []
    for m in (ember, torch):
        a = m.tensor(x, requires_grad=True)
        w, v = m.linalg.eig(a)
        assert type(w.grad_fn).__name__ == "LinalgEigBackward0"
        assert type(m.linalg.eigvals(a).grad_fn).__name__ == "LinalgEigBackward0"
        # weights per row: |V|^2 summed down a column is 1
        loss = (v.abs() ** 2 * m.tensor(WEIGHTS[:3, None])).sum() + (w * (2 - 1j)).real.sum()
        (g,) = m.autograd.grad(loss, a, create_graph=True)  # ember: the Tensor formula
        (g2,) = m.autograd.grad(m.linalg.eigvals(a).abs().sum(), a, create_graph=True)
        results.append((_np(g), _np(g2)))
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, atol=1e-10)


def test_forward_ad_of_eigvals_of_a_real_matrix_matches_torch(torch):
    a = np.random.default_rng(3).standard_normal((2, 3, 3))
    da = np.random.default_rng(4).standard_normal((2, 3, 3))

    def tangent(lib):
        fwad = lib.autograd.forward_ad
        with fwad.dual_level():
            dual = fwad.make_dual(lib.tensor(a), lib.tensor(da))
            return fwad.unpack_dual(lib.linalg.eigvals(dual)).tangent.numpy()

    np.testing.assert_allclose(tangent(ember), tangent(torch), atol=1e-10)
