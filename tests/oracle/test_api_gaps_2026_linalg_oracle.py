"""``geqrf``/``ormqr`` (values, gradients, errors) and the ``*_copy`` views
(``view_as_real_copy``, ``view_as_complex_copy``, ``_conj_copy``, ``_neg_view_copy``,
``_reshape_alias_copy``) against torch."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.oracle.test_api_gaps_2026_oracle import outcome

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def _sample(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.issubdtype(dtype, np.complexfloating):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _tol(dtype):
    return 2e-5 if dtype in (np.float32, np.complex64) else 1e-11


def _close(got, want, dtype):
    got, want = got.detach().numpy(), want.detach().numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=_tol(dtype), atol=_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 5, 5), (3, 1), (2, 0, 3), (0, 0)])
def test_geqrf_matches_torch(dtype, shape):
    x = _sample(shape, dtype, np.random.default_rng(0))
    got, want = ember.geqrf(ember.tensor(x)), torch.geqrf(torch.tensor(x))
    _close(got.a, want.a, dtype)
    _close(got.tau, want.tau, dtype)
    _close(ember.tensor(x).geqrf().a, want.a, dtype)


def test_geqrf_result_is_torchs_named_tuple():
    x = np.random.default_rng(1).standard_normal((3, 2))
    got, want = ember.geqrf(ember.tensor(x)), torch.geqrf(torch.tensor(x))
    assert type(got).__name__ == type(want).__name__ == "geqrf"
    assert got.a is got[0] and got.tau is got[1] and len(got) == len(want) == 2
    out = (ember.empty(0, dtype=ember.float64), ember.empty(0, dtype=ember.float64))
    written = ember.geqrf(ember.tensor(x), out=out)
    assert type(written).__name__ == "geqrf_out" and written.a is out[0]
    _close(out[1], want.tau, np.float64)


def test_geqrf_gradient_raises_as_torch():
    for L in (torch, ember):
        x = L.tensor(np.eye(3) + 0.5, requires_grad=True)
        a, tau = L.geqrf(x)
        assert type(a.grad_fn).__name__ == "GeqrfBackward0"
        with pytest.raises(NotImplementedError, match="the derivative for 'geqrf' is not "
                                                      "implemented."):
            (a.sum() + tau.sum()).backward()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("shapes", [((6, 4), (6, 3)), ((2, 5, 5), (2, 5, 2)),
                                    ((3, 5), (3, 2)), ((2, 4, 2), (2, 4, 4))])
def test_ormqr_matches_torch_on_geqrf_output(dtype, left, transpose, shapes):
    rng = np.random.default_rng(2)
    a_shape, c_shape = shapes
    a = _sample(a_shape, dtype, rng)
    c = _sample(c_shape if left else c_shape[:-2] + c_shape[:-3:-1], dtype, rng)
    g = torch.geqrf(torch.tensor(a))
    k = min(a_shape[-2], a_shape[-1])
    want = torch.ormqr(g.a, g.tau[..., :k], torch.tensor(c), left, transpose)
    ga = ember.geqrf(ember.tensor(a))
    got = ember.ormqr(ga.a, ga.tau[..., :k], ember.tensor(c), left, transpose)
    _close(got, want, dtype)
    method = ga.a.ormqr(ga.tau[..., :k], ember.tensor(c), left=left, transpose=transpose)
    _close(method, want, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=["float64", "complex128"])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("a_shape", [(5, 3), (2, 4, 4), (3, 5)])
def test_ormqr_gradients_match_torch(dtype, left, transpose, a_shape):
    """Any (input, tau), not only geqrf's: the gradient of all three inputs."""
    rng = np.random.default_rng(3)
    m, k = a_shape[-2], min(a_shape[-2:])
    a, tau = _sample(a_shape, dtype, rng), _sample(a_shape[:-2] + (k,), dtype, rng)
    c = _sample(a_shape[:-2] + ((m, 2) if left else (2, m)), dtype, rng)
    weight = rng.standard_normal(c.shape)
    grads = []
    for L in (torch, ember):
        xs = [L.tensor(v, requires_grad=True) for v in (a, tau, c)]
        out = L.ormqr(*xs, left=left, transpose=transpose)
        assert type(out.grad_fn).__name__ == "OrmqrBackward0"
        (out.abs() * L.tensor(weight)).sum().backward()
        grads.append([x.grad for x in xs])
    for got, want in zip(grads[1], grads[0]):
        _close(got, want, dtype)


def test_ormqr_gradient_of_one_input_only_matches_torch():
    rng = np.random.default_rng(4)
    a, tau, c = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((4, 2))
    grads = []
    for L in (torch, ember):
        t = L.tensor(tau, requires_grad=True)
        L.ormqr(L.tensor(a), t, L.tensor(c), transpose=True).pow(2).sum().backward()
        grads.append(t.grad)
    _close(grads[1], grads[0], np.float64)


ORMQR_ERRORS = [
    "L.ormqr(a, t, c)", "L.ormqr(a[0], t, c)", "L.ormqr(a, t, c[0])", "L.ormqr(a, t, c4)",
    "L.ormqr(a, t, c, left=False)", "L.ormqr(a, t, cr, left=False)", "L.ormqr(a, t0, c)",
    "L.ormqr(a, t[:2], c)", "L.ormqr(a3, t, c3)", "L.ormqr(a3, t2, c)",
    "L.ormqr(a3, t2.expand(3, 3), c3)", "L.ormqr(a3, L.ones(3, 3, dtype=L.float64), "
    "L.ones(2, 5, 2, dtype=L.float64))", "L.ormqr(a3, t2, L.ones(3, 5, 2, dtype=L.float64))",
    "L.ormqr(a, t.float(), c)", "L.ormqr(a.float(), t, c)", "L.ormqr(a, t, c.float())",
    "L.ormqr(a.cfloat(), t.float(), c.cfloat())", "L.ormqr(a.long(), t.long(), c.long())",
    "L.ormqr(a.half(), t.half(), c.half())", "L.ormqr(w, t, c[:3])", "L.ormqr(w, t[:2], c[:3])",
    "L.ormqr(a, t, 1)", "L.ormqr(a, t, c, True, None)", "a.ormqr(t, 1)", "a.ormqr(1, c)",
    "L.ormqr(a[:, :0], t[:0], c)", "L.ormqr(a, t, c, out=L.empty(0, dtype=L.float64))",
    "L.geqrf(1)", "L.geqrf(a[0])", "L.geqrf(a.long())", "L.geqrf(a.half())",
    "L.geqrf(L.ones(2, 3, 0))",
]


@pytest.mark.parametrize("src", ORMQR_ERRORS)
def test_geqrf_ormqr_errors_match_torch(src):
    rng = np.random.default_rng(5)
    arrays = {"a": (5, 3), "t": (3,), "c": (5, 2), "a3": (2, 5, 3), "t2": (2, 3),
              "c3": (2, 5, 2), "cr": (2, 5), "c4": (4, 2), "w": (3, 5)}
    values = {k: rng.standard_normal(s) for k, s in arrays.items()}
    results = []
    for L in (ember, torch):
        env = {k: L.tensor(v) for k, v in values.items()}
        env["t0"] = L.tensor(1.0, dtype=L.float64)
        results.append(outcome(L, src, env))
    assert results[0] == results[1], f"{src}\n ember: {results[0]}\n torch: {results[1]}"


# --- the *_copy views ----------------------------------------------------------------------
COPIES = [
    "L.view_as_real_copy(z)", "L.view_as_real_copy(z.conj())", "L.view_as_real_copy(x)",
    "L.view_as_real_copy(x.int())", "L.view_as_real_copy(1)",
    "L.view_as_real_copy(z, out=L.empty(0))", "L.view_as_real_copy(z, out=L.empty(0).double())",
    "L.view_as_complex_copy(p)", "L.view_as_complex_copy(p.double())",
    "L.view_as_complex_copy(x)", "L.view_as_complex_copy(p.t())",
    "L.view_as_complex_copy(p.t().contiguous().t())", "L.view_as_complex_copy(p.int())",
    "L.view_as_complex_copy(L.tensor(1.))", "L.view_as_complex_copy(p[::2])",
    "L.view_as_complex_copy(L.ones(0, 2))",
    "L.view_as_complex_copy(p.double(), out=L.empty(0, dtype=L.complex64))",
    "L.view_as_complex_copy(p.requires_grad_())", "L._conj_copy(z)", "L._conj_copy(z.conj())",
    "L._conj_copy(z.requires_grad_())", "L._neg_view_copy(x)", "L._neg_view_copy(z)",
    "L._neg_view_copy(x.long())", "L._neg_view_copy(L.tensor([True]))",
    "L._reshape_alias_copy(x, (3, 2), (2, 1))", "L._reshape_alias_copy(x, (3, 2), (1, 3))",
    "L._reshape_alias_copy(x, [2, 2], [1, 2])",
]


@pytest.mark.parametrize("src", COPIES)
def test_view_copies_match_torch(src):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    p = rng.standard_normal((4, 2)).astype(np.float32)
    z = (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype(np.complex64)
    results = [outcome(L, src, {"x": L.tensor(x), "p": L.tensor(p), "z": L.tensor(z)})
               for L in (ember, torch)]
    assert results[0] == results[1], f"{src}\n ember: {results[0]}\n torch: {results[1]}"


def test_view_copies_own_their_memory_and_show_torchs_nodes():
    for L in (torch, ember):
        z = L.tensor(np.array([1 + 2j, 3 - 1j]), requires_grad=True)
        r = L.view_as_real_copy(z)
        assert r._base is None and r.is_contiguous()
        assert type(r.grad_fn).__name__ == "ViewAsRealBackward0_copy"
        x = L.arange(6.0, requires_grad=True)
        assert type(L._neg_view_copy(x).grad_fn).__name__ == "NegViewBackward0_copy"
        node = L._reshape_alias_copy(x, (3, 2), (1, 3)).grad_fn
        assert type(node).__name__ == "ReshapeAliasBackward0_copy"
        p = L.zeros(3, 2)
        c = L.view_as_complex_copy(p)
        c.add_(1.0)
        assert p.sum().item() == 0.0  # a copy: the real tensor is unchanged


@pytest.mark.parametrize("case", ["real", "real_conj", "neg", "alias"])
def test_view_copy_gradients_match_torch(case):
    rng = np.random.default_rng(7)
    zc = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    xr = rng.standard_normal((2, 3))
    weight = rng.standard_normal({"neg": (2, 3), "alias": (3, 2)}.get(case, (2, 3, 2)))
    grads = []
    for L in (torch, ember):
        if case.startswith("real"):
            leaf = L.tensor(zc, requires_grad=True)
            out = L.view_as_real_copy(leaf.conj() if case == "real_conj" else leaf)
        else:
            leaf = L.tensor(xr, requires_grad=True)
            out = L._neg_view_copy(leaf) if case == "neg" else \
                L._reshape_alias_copy(leaf, (3, 2), (1, 3))
        (out * L.tensor(weight)).sum().backward()
        grads.append(leaf.grad.resolve_conj().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-12)
