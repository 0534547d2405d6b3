"""svd_lowrank, pca_lowrank, lobpcg, cond, while_loop and storages against torch.

The randomised algorithms draw on the default generator as torch does, so after the same seed
they find torch's subspace: singular values and eigenvalues agree to rounding, and vectors
agree up to each column's sign (LAPACK builds choose signs differently)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close


def _seed(torch, seed=7):
    torch.manual_seed(seed)
    ember.manual_seed(seed)


def _same_up_to_sign(mine, theirs, *others):
    """Columns of ``mine`` equal ``theirs`` up to one sign per column, which must also map each
    pair in ``others`` (e.g. V alongside U)."""
    a, b = mine.detach().numpy(), theirs.detach().numpy()
    sign = np.sign(np.sum(a * b, axis=-2, keepdims=True))
    assert_close(a * sign, b, atol=1e-8, rtol=1e-6)
    for x, y in zip(others[::2], others[1::2]):
        assert_close(x.detach().numpy() * sign, y.detach().numpy(), atol=1e-8, rtol=1e-6)


def _low_rank(rng, shape, rank, noise=0.0):
    *batch, m, n = shape
    a = rng.standard_normal((*batch, m, rank)) @ rng.standard_normal((*batch, rank, n))
    return a + noise * rng.standard_normal(shape)


def test_randn_matches_torch_after_the_same_seed(torch):
    _seed(torch, 3)
    assert_close(ember.randn(7, 4, dtype=ember.float64), torch.randn(7, 4, dtype=torch.float64),
                 atol=0, rtol=0)


@pytest.mark.parametrize("shape,q,niter,with_m", [((9, 12), 4, 2, False), ((12, 7), 5, 0, True),
                                                  ((2, 8, 6), 3, 1, False),
                                                  ((10, 10), None, None, False)])
def test_svd_lowrank_matches_torch(torch, shape, q, niter, with_m):
    rng = np.random.default_rng(0)
    a = _low_rank(rng, shape, 3, 1e-3)
    m = rng.standard_normal((1, shape[-1])) if with_m else None
    _seed(torch)
    kw = {} if q is None else {"q": q, "niter": niter}
    theirs = torch.svd_lowrank(torch.tensor(a), M=None if m is None else torch.tensor(m), **kw)
    mine = ember.svd_lowrank(ember.tensor(a), M=None if m is None else ember.tensor(m), **kw)
    assert type(mine) is tuple and len(mine) == 3
    assert [tuple(x.shape) for x in mine] == [tuple(x.shape) for x in theirs]
    assert_close(mine[1], theirs[1], atol=1e-10, rtol=1e-8)
    _same_up_to_sign(mine[0], theirs[0], mine[2], theirs[2])


def test_svd_lowrank_float32_matches_torch(torch):
    a = _low_rank(np.random.default_rng(1), (20, 8), 2).astype(np.float32)
    _seed(torch)
    mine = ember.svd_lowrank(ember.tensor(a), q=3)
    theirs = torch.svd_lowrank(torch.tensor(a), q=3)
    assert mine[1].dtype == ember.float32
    assert_close(mine[1][:2], theirs[1][:2], rtol=1e-4, atol=1e-4)


def test_svd_lowrank_gradient_matches_torch(torch):
    rng = np.random.default_rng(2)
    a = _low_rank(rng, (8, 6), 2, 0.1)
    c = rng.standard_normal((8, 6))
    _seed(torch)
    ea, ta = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for lib, x in ((ember, ea), (torch, ta)):
        u, s, v = lib.svd_lowrank(x, q=3)
        ((u * s) @ v.mT * lib.tensor(c)).sum().add(s.sum()).backward()
    assert_close(ea.grad, ta.grad, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"q": 2, "center": False}, {"q": 4, "niter": 3}])
def test_pca_lowrank_matches_torch(torch, kw):
    rng = np.random.default_rng(3)
    a = _low_rank(rng, (2, 15, 7), 3, 1e-2) + 5.0
    _seed(torch)
    mine = ember.pca_lowrank(ember.tensor(a), **kw)
    theirs = torch.pca_lowrank(torch.tensor(a), **kw)
    assert type(mine) is tuple
    assert_close(mine[1], theirs[1], atol=1e-10, rtol=1e-8)
    _same_up_to_sign(mine[0], theirs[0], mine[2], theirs[2])


@pytest.mark.parametrize("kw", [{"q": 8}, {"q": -1}, {"niter": -1}])
def test_pca_lowrank_errors_match_torch(torch, kw):
    a = np.ones((6, 5))
    with pytest.raises(ValueError) as theirs:
        torch.pca_lowrank(torch.tensor(a), **kw)
    with pytest.raises(ValueError) as mine:
        ember.pca_lowrank(ember.tensor(a), **kw)
    assert str(mine.value) == str(theirs.value)


def _symmetric(rng, m, batch=()):
    q = np.linalg.qr(rng.standard_normal((*batch, m, m)))[0]
    d = np.arange(1.0, m + 1) + rng.random((*batch, m))
    return (q * d[..., None, :]) @ np.swapaxes(q, -1, -2)


LOBPCG_CASES = [{"k": 2}, {"k": 2, "largest": False}, {"k": 3, "method": "basic"},
                {"k": 2, "n": 3}, {"k": 2, "niter": 3},
                {"k": 1, "method": "basic", "B": True, "niter": 20},
                {"k": 2, "B": True, "largest": False}, {"k": 2, "iK": True},
                {"k": 2, "X": True}, {"k": 2, "batch": (2,)}]


@pytest.mark.parametrize("case", LOBPCG_CASES, ids=lambda c: "-".join(map(str, c.items())))
def test_lobpcg_matches_torch(torch, case):
    rng = np.random.default_rng(4)
    case = dict(case)
    batch = case.pop("batch", ())
    m = 12
    a = _symmetric(rng, m, batch)
    extra = {}
    if case.pop("B", False):
        b = rng.standard_normal((m, m))
        extra["B"] = b @ b.T + m * np.eye(m)
    if case.pop("iK", False):
        extra["iK"] = np.diag(1 / np.diag(a))
    if case.pop("X", False):
        extra["X"] = rng.standard_normal((m, 2))
    _seed(torch)
    e_e, e_x = ember.lobpcg(ember.tensor(a), **case, **{k: ember.tensor(v)
                                                        for k, v in extra.items()})
    t_e, t_x = torch.lobpcg(torch.tensor(a), **case, **{k: torch.tensor(v)
                                                        for k, v in extra.items()})
    assert tuple(e_e.shape) == tuple(t_e.shape) and tuple(e_x.shape) == tuple(t_x.shape)
    assert_close(e_e, t_e, atol=1e-10, rtol=1e-10)
    _same_up_to_sign(e_x, t_x)


@pytest.mark.parametrize("k,largest", [(2, True), (3, False)])
def test_lobpcg_gradient_matches_torch(torch, k, largest):
    rng = np.random.default_rng(5)
    a = _symmetric(rng, 10)
    c = rng.standard_normal((10, 10))
    w = np.arange(1.0, k + 1)
    _seed(torch)
    ea, ta = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for lib, x in ((ember, ea), (torch, ta)):
        e, u = lib.lobpcg(x, k=k, largest=largest)
        ((e * lib.tensor(w)).sum() + (u.mT @ lib.tensor(c) @ u).diagonal().sum()).backward()
    # both are exact derivatives of eigenpairs converged to a relative residual of 1.5e-8
    assert_close(ea.grad, ta.grad, atol=1e-6, rtol=1e-5)


def test_lobpcg_errors_match_torch(torch):
    for lib in (ember, torch):
        with pytest.raises(ValueError, match=r"number of A rows \(=8\) is smaller than 3 x the "
                                             r"number of requested eigenpairs \(=3\)"):
            lib.lobpcg(lib.eye(8, dtype=lib.float64), k=3)
        with pytest.raises(AssertionError, match="A must be square"):
            lib.lobpcg(lib.ones(8, 9, dtype=lib.float64), k=1)


# --- cond and while_loop ---------------------------------------------------------------------
# torch runs a tensor-predicate cond and every while_loop through torch.compile, seconds per
# call; their eager meaning is documented as plain Python (``if pred: true_fn(*operands)``,
# ``while cond_fn(*val): val = body_fn(*val)``), which is what ember is compared with here.
# The tracer's own errors are checked without torch in tests/test_lowrank_control_flow.py.

def _error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001  (the type is compared)
        return exc
    return None


def _cond_cases(lib, x):
    p = lib.tensor(True)
    return [
        lambda: lib.cond(lib.tensor([True, False]), lambda x: x.sin(), lambda x: x.cos(), (x,)),
        lambda: lib.cond("a", lambda x: x, lambda x: x, (x,)),
        lambda: lib.cond(None, lambda x: x, lambda x: x, (x,)),
        lambda: lib.cond(p, 3, lambda x: x, (x,)),
        lambda: lib.cond(p, lambda x: x.sin(), lambda x: x.cos(), x),
        lambda: lib.cond(p, lambda x: x.sin(), lambda x: x.cos(), (x, 3)),
        lambda: lib.cond(p, lambda x: x.sin(), lambda x: x.cos(), [{"a": x}, 2.0]),
    ]


def test_cond_argument_errors_match_torch(torch):
    data = np.array([0.3, -1.2, 2.0], np.float32)
    mine = _cond_cases(ember, ember.tensor(data, requires_grad=True))
    theirs = _cond_cases(torch, torch.tensor(data, requires_grad=True))
    for k, (m, t) in enumerate(zip(mine, theirs)):
        e_exc, t_exc = _error(m), _error(t)
        assert type(t_exc) is RuntimeError, f"case {k}: {t_exc!r}"
        assert type(e_exc) is RuntimeError and str(e_exc) == str(t_exc), f"case {k}"


def _branches():
    return (lambda x, w: {"a": (x * w).sin(), "b": [x.exp()]},
            lambda x, w: {"a": x.cos() * w, "b": [x * 2]})


@pytest.mark.parametrize("pred", [True, False, 0.0, "tensor_true", "tensor_false",
                                  "tensor_zero"])
def test_cond_values_and_gradients_match_torch(torch, pred):
    data, ws = np.array([0.3, -1.2, 2.0]), np.array([1.5, -0.5, 2.0])
    results = []
    for lib in (ember, torch):
        x, w = lib.tensor(data, requires_grad=True), lib.tensor(ws, requires_grad=True)
        p = {"tensor_true": lib.tensor(True), "tensor_false": lib.tensor(False),
             "tensor_zero": lib.tensor([[0.0]])}.get(pred, pred)
        true_fn, false_fn = _branches()
        if lib is ember or not isinstance(p, lib.Tensor):
            out = lib.cond(p, true_fn, false_fn, (x, w))
        else:
            out = true_fn(x, w) if p else false_fn(x, w)
        (out["a"].sum() + out["b"][0].pow(2).sum()).backward()
        results.append((out, x.grad, w.grad))
    (e_out, e_gx, e_gw), (t_out, t_gx, t_gw) = results
    assert sorted(e_out) == ["a", "b"] and isinstance(e_out["b"], list)
    for a, b in ((e_out["a"], t_out["a"]), (e_out["b"][0], t_out["b"][0]), (e_gx, t_gx),
                 (e_gw, t_gw)):
        assert_close(a, b)


def test_while_loop_matches_a_python_loop_in_torch(torch):
    data, ws = np.array([0.3, -1.2, 2.0]), np.array([1.1, 0.7, -0.9])
    results = []
    for lib in (ember, torch):
        x, w = lib.tensor(data, requires_grad=True), lib.tensor(ws, requires_grad=True)
        carried = (0, {"y": x, "n": lib.tensor(0.0, dtype=lib.float64)})

        def cond_fn(i, d):
            return d["n"] < 2.5

        def body_fn(i, d, w=w):
            return i + 1, {"y": (d["y"] * w).sin(), "n": d["n"] + d["y"].abs().mean()}

        if lib is ember:
            out = ember.while_loop(cond_fn, body_fn, carried)
        else:
            out = carried
            while cond_fn(*out):
                out = body_fn(*out)
        (out[1]["y"].pow(2).sum() + out[1]["n"]).backward()
        results.append((out, x.grad, w.grad))
    (e_out, e_gx, e_gw), (t_out, t_gx, t_gw) = results
    assert type(e_out[0]) is int and e_out[0] == t_out[0] > 1
    assert_close(e_out[1]["y"], t_out[1]["y"])
    assert_close(e_out[1]["n"], t_out[1]["n"])
    assert_close(e_gx, t_gx)
    assert_close(e_gw, t_gw)


def test_while_loop_argument_errors_match_torch(torch):
    for lib in (ember, torch):
        i, x = lib.tensor(0), lib.tensor([0.3, -1.2, 2.0])
        with pytest.raises(RuntimeError, match="Expect cond_fn and body_fn to be callable."):
            lib.while_loop(lambda i, x: i < 3, 5, (i, x))
        with pytest.raises(AssertionError, match=r"can only be of .* but got .*float"):
            lib.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x.sin()), (i, 1.5))


# --- storages ----------------------------------------------------------------------------------

def test_typed_storage_matches_torch(torch):
    data = np.arange(12, dtype=np.float32).reshape(3, 4) - 4.5
    stores = []
    for lib in (ember, torch):
        t = lib.tensor(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s, v = t.storage(), t[1:, 2].storage()
        s[2] = 40.0
        s[-1] = -7.0
        stores.append((t, s, v))
    (et, es, ev), (tt, ts, tv) = stores
    assert_close(et, tt)
    assert (len(es), es.size(), es.element_size(), es.nbytes()) == \
        (len(ts), ts.size(), ts.element_size(), ts.nbytes())
    assert es.tolist() == ts.tolist() and list(es) == list(ts)
    assert (es[3], es[-2]) == (ts[3], ts[-2]) and type(es[3]) is type(ts[3])
    assert len(ev) == len(tv) and ev.data_ptr() == et.data_ptr()
    assert ember.is_storage(es) and ember.is_storage(et.untyped_storage())
    assert not ember.is_storage(et)
    for s in (es, ts):
        with pytest.raises(IndexError, match="index 12 out of range for storage of size 12"):
            s[12]
        with pytest.raises(RuntimeError, match="slices are only supported in UntypedStorage"):
            s[1:3]


def test_untyped_storage_matches_torch(torch):
    data = np.array([1, -2, 300], np.int64)
    et, tt = ember.tensor(data), torch.tensor(data)
    eu, tu = et.untyped_storage(), tt.untyped_storage()
    assert (len(eu), eu.nbytes(), eu.size(), eu.element_size()) == \
        (len(tu), tu.nbytes(), tu.size(), tu.element_size())
    assert eu.tolist() == tu.tolist() and eu[9] == tu[9]
    assert eu[8:16].tolist() == tu[8:16].tolist()
    eu[0], tu[0] = 7, 7
    assert_close(et, tt)


def test_storage_warns_like_torch(torch):
    import ember._storage_more as sm

    sm._warned[0] = False
    with pytest.warns(UserWarning) as mine:
        ember.ones(2).storage()
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        ember.ones(2).storage()
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        torch.storage._warn_typed_storage_removal.__dict__["has_warned"] = False
        torch.ones(2).storage()
    assert str(mine[0].message) == str(theirs[0].message)
    assert not again
