"""svd_lowrank, pca_lowrank, lobpcg, cond, while_loop and storages, without torch: the
mathematical properties, finite-difference gradients and the checks torch's tracer makes."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from tests.helpers import assert_close


def _low_rank(rng, shape, rank):
    *batch, m, n = shape
    return rng.standard_normal((*batch, m, rank)) @ rng.standard_normal((*batch, rank, n))


def _orthonormal(q):
    q = q.detach().numpy()
    eye = np.broadcast_to(np.eye(q.shape[-1]), q.shape[:-2] + (q.shape[-1],) * 2)
    assert_close(np.swapaxes(q, -1, -2) @ q, eye, atol=1e-10, rtol=0)


# --- svd_lowrank, pca_lowrank ------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(12, 7), (6, 11), (3, 9, 8)])
def test_svd_lowrank_recovers_a_rank_q_matrix(shape):
    a = _low_rank(np.random.default_rng(0), shape, 3)
    u, s, v = ember.svd_lowrank(ember.tensor(a), q=3)
    assert tuple(u.shape) == shape[:-1] + (3,) and tuple(v.shape) == shape[:-2] + (shape[-1], 3)
    assert_close((u * s[..., None, :]) @ v.mT, a, atol=1e-10, rtol=1e-10)
    _orthonormal(u)
    _orthonormal(v)
    assert_close(s, np.linalg.svd(a, compute_uv=False)[..., :3], atol=1e-10, rtol=1e-10)


def test_svd_lowrank_with_mean_decomposes_the_difference():
    rng = np.random.default_rng(1)
    mean = rng.standard_normal((1, 6))
    a = _low_rank(rng, (10, 6), 2) + mean
    u, s, v = ember.svd_lowrank(ember.tensor(a), q=2, M=ember.tensor(mean))
    assert_close((u * s) @ v.mT, a - mean, atol=1e-10, rtol=1e-10)


def test_svd_lowrank_repeats_with_the_same_seed():
    a = ember.tensor(np.random.default_rng(2).standard_normal((9, 7)))
    ember.manual_seed(11)
    first = ember.svd_lowrank(a, q=4, niter=0)
    ember.manual_seed(11)
    again = ember.svd_lowrank(a, q=4, niter=0)
    for x, y in zip(first, again):
        assert_close(x, y, atol=0, rtol=0)


def test_pca_lowrank_gives_the_covariance_spectrum():
    rng = np.random.default_rng(3)
    a = _low_rank(rng, (40, 6), 3) + rng.standard_normal(6) * 10
    u, s, v = ember.pca_lowrank(ember.tensor(a), q=3)
    cov_eigs = np.linalg.eigvalsh(np.cov(a, rowvar=False))[::-1][:3]
    assert_close(s.numpy() ** 2 / (a.shape[0] - 1), cov_eigs, atol=1e-8, rtol=1e-8)
    centered = a - a.mean(0)
    assert_close((u * s) @ v.mT, centered, atol=1e-9, rtol=1e-9)


def test_pca_lowrank_rejects_bad_options():
    a = ember.ones(5, 4)
    with pytest.raises(ValueError, match=r"q\(=5\) must be non-negative integer and not "
                                         r"greater than min\(m, n\)=4"):
        ember.pca_lowrank(a, q=5)
    with pytest.raises(ValueError, match=r"niter\(=-2\) must be non-negative integer"):
        ember.pca_lowrank(a, niter=-2)


def test_svd_lowrank_gradcheck():
    a = ember.tensor(np.random.default_rng(4).standard_normal((5, 4)), requires_grad=True)

    def f(a):
        ember.manual_seed(0)                   # the same test matrix at every evaluation
        u, s, v = ember.svd_lowrank(a, q=2, niter=1)
        return s, (u * s) @ v.mT

    assert gradcheck(f, (a,))


# --- lobpcg ------------------------------------------------------------------------------------

def _symmetric(rng, m, batch=()):
    q = np.linalg.qr(rng.standard_normal((*batch, m, m)))[0]
    d = np.arange(1.0, m + 1) + rng.random((*batch, m))
    return (q * d[..., None, :]) @ np.swapaxes(q, -1, -2)


@pytest.mark.parametrize("method", ["ortho", "basic"])
@pytest.mark.parametrize("largest", [True, False])
def test_lobpcg_finds_extreme_eigenpairs(method, largest):
    a = _symmetric(np.random.default_rng(5), 15)
    e, x = ember.lobpcg(ember.tensor(a), k=3, largest=largest, method=method)
    ends = np.linalg.eigvalsh(a)
    assert_close(e, ends[::-1][:3] if largest else ends[:3], atol=1e-10, rtol=1e-10)
    residual = a @ x.numpy() - x.numpy() * e.numpy()
    assert np.linalg.norm(residual) < 1e-6
    _orthonormal(x)


def test_lobpcg_generalised_problem():
    rng = np.random.default_rng(6)
    a = _symmetric(rng, 12)
    b = rng.standard_normal((12, 12))
    b = b @ b.T + 12 * np.eye(12)
    e, x = ember.lobpcg(ember.tensor(a), k=2, B=ember.tensor(b), largest=False)
    x, e = x.numpy(), e.numpy()
    assert np.linalg.norm(a @ x - (b @ x) * e) < 1e-6
    assert_close(x.T @ b @ x, np.eye(2), atol=1e-8, rtol=0)
    general = np.linalg.eigvals(np.linalg.solve(b, a)).real
    assert_close(e, np.sort(general)[:2], atol=1e-10, rtol=1e-10)


def test_lobpcg_batches():
    a = _symmetric(np.random.default_rng(7), 9, batch=(2, 2))
    e, x = ember.lobpcg(ember.tensor(a), k=2)
    assert tuple(e.shape) == (2, 2, 2) and tuple(x.shape) == (2, 2, 9, 2)
    assert_close(e, np.linalg.eigvalsh(a)[..., ::-1][..., :2], atol=1e-10, rtol=1e-10)


def test_lobpcg_gradcheck():
    rng = np.random.default_rng(8)
    a = ember.tensor(_symmetric(rng, 6), requires_grad=True)
    x0 = ember.tensor(rng.standard_normal((6, 2)))

    def f(a):
        e, x = ember.lobpcg(a, k=2, X=x0, tol=1e-13, niter=100)
        return e, x @ x.mT                     # the projector: free of the sign choice

    assert gradcheck(f, (a,), atol=1e-5, rtol=1e-3)


def test_lobpcg_refuses_what_torch_refuses():
    a = ember.tensor(_symmetric(np.random.default_rng(9), 9), requires_grad=True)
    e, _ = ember.lobpcg(a, k=1, B=ember.eye(9, dtype=ember.float64))
    with pytest.raises(ValueError, match="does not support backward with B != I"):
        e.sum().backward()
    with pytest.raises(NotImplementedError, match="tracker"):
        ember.lobpcg(a, k=1, tracker=print)
    with pytest.raises(ValueError, match="LOBPCG algorithm is not applicable"):
        ember.lobpcg(a, k=4)
    with pytest.raises(AssertionError, match="X shape mismatch"):
        ember.lobpcg(a.detach(), X=ember.ones(8, 1, dtype=ember.float64))


# --- cond --------------------------------------------------------------------------------------

def test_cond_with_a_python_predicate_just_calls_the_branch():
    x = ember.randn(3)
    assert ember.cond(True, lambda x: x, lambda x: None, (x,)) is x
    assert ember.cond(0, lambda: 1, lambda: "other") == "other"


@pytest.mark.parametrize("true_fn,false_fn,match", [
    (lambda x: (x.sin(), x * 2), lambda x: x.cos(), "Unmatched output spec"),
    (lambda x: x.sin(), lambda x: x.cos().double(), "expected same dtype"),
    (lambda x: x.sin(), lambda x: x.cos().reshape(3, 1), "expected same dim but got 1 and 2"),
    (lambda x: x.sin(), lambda x: 3, "expected both a and b to be tensors"),
    (lambda x: x, lambda x: x.cos(), "aliasing"),
    (lambda x: x.cos(), lambda x: x[:2], "aliasing"),
    (lambda x: None, lambda x: None, "must consist of tensors or ints/bools"),
])
def test_cond_refuses_branches_that_disagree(true_fn, false_fn, match):
    x = ember.randn(3, requires_grad=True)
    for pred in (ember.tensor(True), ember.tensor(False)):
        with pytest.raises(RuntimeError, match=match):
            ember.cond(pred, true_fn, false_fn, (x,))


def test_cond_allows_different_sizes_and_equal_ints():
    x = ember.randn(4)
    out = ember.cond(ember.tensor([[1.0]]), lambda x: (x[:2] * 1, 5), lambda x: (x * 2, 5), (x,))
    assert tuple(out[0].shape) == (2,) and out[1] == 5


def test_cond_runs_the_other_branch_on_copies():
    x = ember.tensor([1.0, 2.0])

    def false_fn(x):
        x.add_(100.0)
        return x * 1

    with ember.no_grad():
        out = ember.cond(ember.tensor(True), lambda x: x * 3, false_fn, (x,))
    assert_close(x, [1.0, 2.0])
    assert_close(out, [3.0, 6.0])


def test_cond_refuses_mutation_only_with_grad_mode_on():
    x = ember.tensor([1.0, 2.0])

    def mutate(x):
        return x.add_(1.0) * 1

    for pred in (ember.tensor(True), ember.tensor(False)):     # taken or not
        with pytest.raises(RuntimeError, match="input mutation"):
            ember.cond(pred, mutate, lambda x: x * 1, (x,))
    x = ember.tensor([1.0, 2.0])
    with ember.no_grad():
        ember.cond(ember.tensor(True), mutate, lambda x: x * 1, (x,))
    assert_close(x, [2.0, 3.0])


def test_cond_gradient_flows_through_the_taken_branch_only():
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    w = ember.randn(3, dtype=ember.float64, requires_grad=True)
    v = ember.randn(3, dtype=ember.float64, requires_grad=True)
    out = ember.cond(ember.tensor(False), lambda x: (x * w).sin(), lambda x: (x * v).exp(), (x,))
    out.sum().backward()
    assert w.grad is None
    assert_close(v.grad, (x * v).exp().detach() * x.detach())
    assert gradcheck(lambda x, v: ember.cond(x.sum() > 100, lambda x, v: x.sin(),
                                             lambda x, v: (x * v).exp(), (x, v)), (x, v))


# --- while_loop --------------------------------------------------------------------------------

def test_while_loop_returns_the_body_structure():
    out = ember.while_loop(lambda i: i < 3, lambda i: i + 1, (ember.tensor(0),))
    assert isinstance(out, ember.Tensor) and out.item() == 3
    start = ember.tensor(5)
    out = ember.while_loop(lambda i: i < 3, lambda i: i + 1, (start,))
    assert isinstance(out, ember.Tensor) and out.item() == 5 and out is not start
    out = ember.while_loop(lambda i, x: i < 2, lambda i, x: [i + 1, x * 2],
                           (0, ember.ones(2)))
    assert isinstance(out, list) and out[0] == 2
    assert_close(out[1], [4.0, 4.0])


@pytest.mark.parametrize("cond_fn,body_fn,carried,match", [
    (lambda i: (i < 3).float(), lambda i: (i + 1,), "int", "boolean scalar tensor"),
    (lambda i: ember.tensor([True]), lambda i: (i + 1,), "int", "boolean scalar tensor"),
    (lambda i, x: i < 3, lambda i, x: (i + 1, x.double()), "pair", "differ in 'dtype"),
    (lambda i, x: i < 3, lambda i, x: (i + 1, x.sum()), "pair", "differ in 'shape"),
    (lambda i, x: i < 3, lambda i, x: (i + 1,), "pair", "same number of outputs"),
    (lambda i, x: i < 3, lambda i, x: (i + 1, x), "pair", "aliasing"),
    (lambda i, x: i < 3, lambda i, x: (i + 1, 2), "pair", "differ in type"),
    (lambda i, x: i > 3, lambda i, x: (i + 1.0, x + 1), "pair", "differ in 'dtype"),
    (lambda i, x: i < 3, lambda i, x: (i + 1, x.add_(1) * 1), "pair", "input mutation"),
])
def test_while_loop_refuses_bodies_that_change_the_carry(cond_fn, body_fn, carried, match):
    i = ember.tensor(0)
    carried = (i,) if carried == "int" else (i, ember.ones(3))
    with pytest.raises(RuntimeError, match=match):
        ember.while_loop(cond_fn, body_fn, carried)


def test_while_loop_wants_a_tuple_or_list():
    with pytest.raises(RuntimeError, match="carried_inputs must be a tuple or list"):
        ember.while_loop(lambda i: i < 3, lambda i: i + 1, ember.tensor(0))


def test_while_loop_gradcheck():
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    w = ember.randn(3, dtype=ember.float64, requires_grad=True)

    def f(x, w):
        return ember.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, (y * w).sin() + y),
                                (0, x))[1]

    assert gradcheck(f, (x, w))


# --- storages ----------------------------------------------------------------------------------

def test_storage_writes_through_and_counts_versions():
    base = ember.arange(12.0).reshape(3, 4)
    view = base[1:, 1:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        storage = view.storage()
    assert len(storage) == 12 and storage.dtype == ember.float32
    assert storage.data_ptr() == base.data_ptr()
    assert storage[view.storage_offset()] == view[0, 0].item() == 5.0
    before = base._version
    storage[view.storage_offset()] = -1.0
    assert base[1, 1].item() == -1.0 and base._version > before
    storage.fill_(2.0)
    assert base.sum().item() == 24.0


def test_untyped_storage_is_the_bytes():
    t = ember.tensor([1.5, -2.0, 7.25], dtype=ember.float64)
    u = t.untyped_storage()
    assert u.nbytes() == len(u) == 24 and u.element_size() == 1
    assert bytes(u.tolist()) == t.numpy().tobytes()
    u[8:16][0:8] = np.frombuffer(np.float64(3.0).tobytes(), np.uint8)
    assert t[1].item() == 3.0
    assert ember.UntypedStorage(5).tolist() == [0] * 5


def test_typed_storage_constructor_and_warning_once():
    import ember._storage_more as sm

    sm._warned[0] = False
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        s = ember.TypedStorage([1, 2, 3], dtype=ember.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.TypedStorage(4).tolist() == [0.0] * 4
    assert s.tolist() == [1, 2, 3] and s.element_size() == 8 and s.type() == "ember.LongStorage"
    assert s.untyped().nbytes() == 24
    with pytest.raises(IndexError, match="index -4 out of range for storage of size 3"):
        s[-4]
