"""The LU family (``linalg.lu_factor(_ex)``, ``linalg.lu``, ``linalg.lu_solve`` and the legacy
``lu``, ``lu_solve``, ``lu_unpack``), ``linalg.ldl_factor(_ex)``/``ldl_solve``,
``householder_product``/``orgqr`` and ``logdet`` on complex matrices against torch: values,
pivots and infos (exactly), gradients (torch's conjugate-Wirtinger convention, plain and with
``create_graph=True``) and torch's errors. Inputs are batched and rectangular where allowed,
and non-Hermitian, so that a missing conjugate changes the answer.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]
DTYPES = ["complex64", "complex128"]


def _np(t):
    return t.detach().resolve_conj().numpy()


def _crand(*shape, seed=0, dtype="complex128"):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def _t(m, x):
    return m.tensor(np.ascontiguousarray(x))


def _tol(dtype):
    return 2e-4 if dtype == "complex64" else 1e-10


def _compare(out, t_out, dtype):
    """Same structure, dtypes and shapes; integer results equal, the rest close."""
    assert type(out).__name__ == type(t_out).__name__
    outs, t_outs = (out, t_out) if isinstance(out, tuple) else ((out,), (t_out,))
    assert len(outs) == len(t_outs)
    for k, (o, t) in enumerate(zip(outs, t_outs)):
        assert str(o.dtype)[6:] == str(t.dtype)[6:], k
        assert tuple(o.shape) == tuple(t.shape), k
        if o.is_floating_point() or o.is_complex():
            np.testing.assert_allclose(_np(o), _np(t), rtol=_tol(dtype), atol=_tol(dtype),
                                       err_msg=str(k))
        else:
            np.testing.assert_array_equal(_np(o), _np(t), err_msg=str(k))


def _data(dtype):
    """Square batch A, wide W, tall R, right-hand sides B (and BT for the right forms),
    Householder taus TAU and an exactly singular S (rank one)."""
    s = np.ones((3, 3), dtype) * np.array([1, 2j, -1], dtype)
    return {"A": _crand(2, 3, 3, seed=1, dtype=dtype), "W": _crand(2, 3, 5, seed=2, dtype=dtype),
            "R": _crand(5, 3, seed=3, dtype=dtype), "B": _crand(2, 3, 2, seed=4, dtype=dtype),
            "BT": _crand(2, 2, 3, seed=5, dtype=dtype), "TAU": _crand(2, 2, seed=6, dtype=dtype),
            "S": s}


# --- values ------------------------------------------------------------------------------------
VALUES = {
    "lu_factor": lambda m, d: m.linalg.lu_factor(_t(m, d["A"])),
    "lu_factor_ex_wide": lambda m, d: m.linalg.lu_factor_ex(_t(m, d["W"])),
    "lu_factor_ex_tall": lambda m, d: m.linalg.lu_factor_ex(_t(m, d["R"])),
    "lu_factor_ex_singular": lambda m, d: m.linalg.lu_factor_ex(_t(m, d["S"])),
    "lu_factor_cabs1_pivot": lambda m, d: m.linalg.lu_factor(
        _t(m, np.array([[3, 1, 0], [2 + 2j, 5, 1], [1j, 1, 4]], d["A"].dtype))),
    "lu": lambda m, d: m.linalg.lu(_t(m, d["A"])),
    "lu_wide": lambda m, d: m.linalg.lu(_t(m, d["W"])),
    "lu_tall": lambda m, d: m.linalg.lu(_t(m, d["R"])),
    "legacy_lu": lambda m, d: m.lu(_t(m, d["A"])),
    "legacy_lu_infos": lambda m, d: tuple(m.lu(_t(m, d["S"][None].repeat(2, 0)),
                                               get_infos=True)),
    "lu_unpack": lambda m, d: m.lu_unpack(*m.linalg.lu_factor(_t(m, d["R"]))),
    "lu_solve": lambda m, d: m.linalg.lu_solve(*m.linalg.lu_factor(_t(m, d["A"])),
                                               _t(m, d["B"])),
    "lu_solve_adjoint": lambda m, d: m.linalg.lu_solve(*m.linalg.lu_factor(_t(m, d["A"])),
                                                       _t(m, d["B"]), adjoint=True),
    "lu_solve_right": lambda m, d: m.linalg.lu_solve(*m.linalg.lu_factor(_t(m, d["A"])),
                                                     _t(m, d["BT"]), left=False),
    "lu_solve_right_adjoint": lambda m, d: m.linalg.lu_solve(
        *m.linalg.lu_factor(_t(m, d["A"])), _t(m, d["BT"]), left=False, adjoint=True),
    "lu_solve_broadcast": lambda m, d: m.linalg.lu_solve(
        *m.linalg.lu_factor(_t(m, d["A"][0])), _t(m, d["B"])),
    "legacy_lu_solve": lambda m, d: m.lu_solve(_t(m, d["B"]), *m.lu(_t(m, d["A"]))),
    "householder_product": lambda m, d: m.linalg.householder_product(
        _t(m, np.swapaxes(d["W"], -1, -2)), _t(m, d["TAU"])),
    "orgqr_square": lambda m, d: m.orgqr(_t(m, d["A"]), _t(m, d["TAU"][..., :1] + d["TAU"])),
    "logdet": lambda m, d: m.logdet(_t(m, d["A"])),
    "logdet_special": lambda m, d: m.logdet(_t(m, np.stack([
        -np.eye(3), np.diag([1j, -1j, 2]), np.zeros((3, 3)), d["S"]]).astype(d["A"].dtype))),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(VALUES))
def test_values_pivots_and_infos_match_torch(name, dtype, torch):
    d = _data(dtype)
    _compare(VALUES[name](ember, d), VALUES[name](torch, d), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_householder_product_of_geqrf_is_torchs_q(dtype, torch):
    x = _crand(2, 5, 3, seed=7, dtype=dtype)
    a, tau = torch.geqrf(torch.tensor(x))
    q = ember.linalg.householder_product(ember.tensor(a.numpy()), ember.tensor(tau.numpy()))
    _compare(q, torch.linalg.householder_product(a, tau), dtype)
    np.testing.assert_allclose(_np(q), _np(torch.linalg.qr(torch.tensor(x)).Q), atol=_tol(dtype))


# --- LDL ---------------------------------------------------------------------------------------
def _symmetric(seed, hermitian, dtype, n=6, batch=(2,)):
    a = _crand(*batch, n, n, seed=seed)
    if seed % 2 == 0:  # a weak diagonal: Bunch-Kaufman picks 2x2 blocks
        a = a - 0.99 * np.eye(n) * np.diagonal(a, 0, -2, -1)[..., None]
    t = np.swapaxes(a, -1, -2)
    return (a + (np.conj(t) if hermitian else t)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_ldl_factor_and_solve_match_torch(seed, hermitian, dtype, torch):
    x = _symmetric(seed, hermitian, dtype, n=2 + seed)
    if seed == 5:  # only the lower triangle (and, Hermitian, the diagonal's real part) is read
        x = x + np.triu(_crand(*x.shape, seed=50), 1 if not hermitian else 0).astype(dtype)
    b = _crand(2, 2 + seed, 3, seed=51, dtype=dtype)
    outs = {}
    for m in (ember, torch):
        ld, piv, info = m.linalg.ldl_factor_ex(_t(m, x), hermitian=hermitian)
        outs[m] = (ld, piv, info, m.linalg.ldl_solve(ld, piv, _t(m, b), hermitian=hermitian))
    _compare(outs[ember], outs[torch], dtype)
    ld, piv = (_np(t) for t in outs[torch][:2])  # torch's own factors, solved by ember
    mine = ember.linalg.ldl_solve(_t(ember, ld), _t(ember, piv), _t(ember, b),
                                  hermitian=hermitian)
    _compare(mine, outs[torch][3], dtype)


def test_ldl_of_a_zero_column_matches_torch(torch):
    x = np.zeros((3, 3), np.complex128)
    x[1:, 1:] = [[1, 2j], [-2j, 1]]
    for hermitian in (False, True):
        _compare(ember.linalg.ldl_factor_ex(ember.tensor(x), hermitian=hermitian),
                 torch.linalg.ldl_factor_ex(torch.tensor(x), hermitian=hermitian), "complex128")


# --- gradients ---------------------------------------------------------------------------------
def _lin(m, out, seed=0):
    """A real loss reading real and imaginary parts: sum(Re(w * out)), w fixed and complex."""
    w = _crand(*tuple(out.shape), seed=100 + seed)
    return (out * m.tensor(w)).real.sum()


GRADS = {
    "lu_factor": (lambda m, a: _lin(m, m.linalg.lu_factor(a).LU), "A"),
    "lu_factor_ex_wide": (lambda m, a: _lin(m, m.linalg.lu_factor_ex(a).LU), "W"),
    "lu_factor_ex_tall": (lambda m, a: _lin(m, m.linalg.lu_factor_ex(a).LU), "R"),
    "lu": (lambda m, a: (lambda p, low, up: _lin(m, low) + _lin(m, up, 1))(*m.linalg.lu(a)),
           "A"),
    "lu_wide": (lambda m, a: (lambda p, low, up: _lin(m, low) + _lin(m, up, 1))(
        *m.linalg.lu(a)), "W"),
    "lu_tall_u_only": (lambda m, a: _lin(m, m.linalg.lu(a).U), "R"),
    "legacy_lu": (lambda m, a: _lin(m, m.lu(a)[0]), "A"),
    "lu_unpack": (lambda m, a: (lambda p, low, up: _lin(m, low) + _lin(m, up, 1))(
        *m.lu_unpack(*m.linalg.lu_factor(a))), "R"),
    "lu_solve": (lambda m, a, b: _lin(m, m.linalg.lu_solve(*m.linalg.lu_factor(a), b)), "AB"),
    "lu_solve_adjoint": (lambda m, a, b: _lin(m, m.linalg.lu_solve(*m.linalg.lu_factor(a), b,
                                                                   adjoint=True)), "AB"),
    "lu_solve_right": (lambda m, a, b: _lin(m, m.linalg.lu_solve(*m.linalg.lu_factor(a), b,
                                                                 left=False)), "A", "BT"),
    "lu_solve_right_adjoint": (lambda m, a, b: _lin(m, m.linalg.lu_solve(
        *m.linalg.lu_factor(a), b, left=False, adjoint=True)), "A", "BT"),
    "lu_solve_broadcast": (lambda m, a, b: _lin(m, m.linalg.lu_solve(
        *m.linalg.lu_factor(a[0]), b)), "AB"),
    "legacy_lu_solve": (lambda m, a, b: _lin(m, m.lu_solve(b, *m.lu(a))), "AB"),
    "householder_product": (lambda m, a, tau: _lin(m, m.linalg.householder_product(
        a.mT, tau)), "W", "TAU"),
    "orgqr_square": (lambda m, a, tau: _lin(m, m.orgqr(a, tau)), "A", "TAU"),
    "logdet": (lambda m, a: _lin(m, m.logdet(a)), "A"),
}


def _keys(entry):
    """The input names of a GRADS entry: ("AB",) -> A, B; ("A", "BT") -> A, BT."""
    names = entry[1:]
    return list(names[0]) if len(names) == 1 else list(names)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(GRADS))
def test_gradients_match_torch(name, dtype, torch):
    d = _data(dtype)
    xs = [d[k] for k in _keys(GRADS[name])]
    grads = []
    for m in (ember, torch):
        ts = [m.tensor(x, requires_grad=True) for x in xs]
        GRADS[name][0](m, *ts).backward()
        grads.append([_np(t.grad) for t in ts])
        assert all(str(t.grad.dtype)[6:] == dtype for t in ts)
    tol = 2e-3 if dtype == "complex64" else 1e-8
    for k, (g, tg) in enumerate(zip(*grads)):
        np.testing.assert_allclose(g, tg, rtol=tol, atol=tol, err_msg=f"input {k}")


@pytest.mark.parametrize("name", ["lu_factor", "lu_factor_ex_wide", "lu_factor_ex_tall",
                                  "lu_unpack", "legacy_lu_solve", "logdet"])
def test_create_graph_gradients_and_second_derivatives_match_torch(name, torch):
    """With create_graph=True ember runs the Tensor-level formulas: the same gradients, and
    differentiating them again gives torch's second derivatives."""
    d = _data("complex128")
    xs = [d[k] for k in _keys(GRADS[name])]
    results = []
    for m in (ember, torch):
        ts = [m.tensor(x, requires_grad=True) for x in xs]
        gs = m.autograd.grad(GRADS[name][0](m, *ts), ts, create_graph=True)
        g2 = m.autograd.grad(sum(_lin(m, g, 7) for g in gs), ts)
        results.append([_np(g) for g in gs + g2])
    for k, (e, t) in enumerate(zip(*results)):
        scale = max(1.0, np.abs(t).max())
        np.testing.assert_allclose(e, t, rtol=1e-8, atol=1e-9 * scale, err_msg=str(k))


# --- errors ------------------------------------------------------------------------------------
def _herm(m):
    x = _symmetric(0, True, "complex128", n=3, batch=())
    return m.tensor(x, requires_grad=True)


ERRORS = {
    "lu_solve_mixed_b": lambda m: m.linalg.lu_solve(
        *m.linalg.lu_factor(m.eye(2, dtype=m.complex64)), m.ones(2, 1)),
    "lu_solve_mixed_lu": lambda m: m.linalg.lu_solve(
        *m.linalg.lu_factor(m.eye(2)), m.ones(2, 1, dtype=m.complex64)),
    "legacy_lu_solve_mixed": lambda m: m.lu_solve(
        m.ones(2, 1, dtype=m.complex128), *m.lu(m.eye(2, dtype=m.complex64))),
    "lu_factor_singular": lambda m: m.linalg.lu_factor(m.tensor(_data("complex64")["S"])),
    "lu_factor_ex_check_errors": lambda m: m.linalg.lu_factor_ex(
        m.zeros(2, 2, 2, dtype=m.complex128), check_errors=True),
    "lu_1d": lambda m: m.linalg.lu(m.ones(3, dtype=m.complex64)),
    "householder_tau_dtype": lambda m: m.linalg.householder_product(
        m.ones(3, 2, dtype=m.complex64), m.ones(2)),
    "householder_input_dtype": lambda m: m.linalg.householder_product(
        m.ones(3, 2), m.ones(2, dtype=m.complex64)),
    "logdet_not_square": lambda m: m.logdet(m.ones(2, 3, dtype=m.complex64)),
    "ldl_not_square": lambda m: m.linalg.ldl_factor(m.ones(2, 3, dtype=m.complex64),
                                                    hermitian=True),
    "ldl_solve_mixed": lambda m: m.linalg.ldl_solve(
        *m.linalg.ldl_factor(m.eye(3, dtype=m.complex64)), m.ones(3, 1, dtype=m.complex128)),
    "ldl_factor_backward": lambda m: m.linalg.ldl_factor(
        _herm(m), hermitian=True).LD.abs().sum().backward(),
    "ldl_solve_backward": lambda m: m.linalg.ldl_solve(
        *m.linalg.ldl_factor(_herm(m).detach()), _herm(m)).abs().sum().backward(),
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


@pytest.mark.parametrize("make", [
    lambda m: m.ones(3, 3, dtype=m.long), lambda m: m.ones(3, dtype=m.float64),
    lambda m: m.ones(2, 2, dtype=m.bool),
])
def test_legacy_lu_errors_match_torch(torch, make):
    with pytest.raises(Exception) as t_err:
        torch.lu(make(torch))
    with pytest.raises(type(t_err.value)) as e_err:
        ember.lu(make(ember))
    assert str(e_err.value) == str(t_err.value)


def test_legacy_lu_with_infos_is_torch_named_tuple(torch):
    a = _crand(2, 3, 3)
    out, t_out = ember.lu(_t(ember, a), get_infos=True), torch.lu(_t(torch, a), get_infos=True)
    assert type(out).__name__ == type(t_out).__name__ == "_lu_with_info"
    np.testing.assert_array_equal(out.info.numpy(), t_out.info.numpy())
    np.testing.assert_array_equal(out.pivots.numpy(), t_out.pivots.numpy())
    np.testing.assert_allclose(_np(out.LU), _np(t_out.LU), rtol=1e-12)
