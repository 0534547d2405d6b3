"""Sparse ``transpose``/``t``, ``narrow_copy``, ``index_select``, ``sparse.softmax``/
``log_softmax``, ``sparse.sum`` over dense dims and ``to_dense(masked_grad=False)``, against
torch: entries, order, coalesced flag, values, gradients (or torch's error in backward),
grad_fn names and errors. Includes a seeded fuzz over random hybrid sparse tensors."""
import numpy as np
import pytest

import ember
from tests.helpers import assert_close
from tests.oracle._sparse_errors import assert_same_error

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")


def _a(lib):  # uncoalesced: (0, 2) twice
    return lib.sparse_coo_tensor([[0, 1, 1, 0], [2, 0, 1, 2]], [1.0, 2.0, 3.0, 4.0], (2, 3))


def _h(lib):  # hybrid: one sparse dim, one dense dim, row 0 twice
    return lib.sparse_coo_tensor([[0, 1, 0]], lib.arange(1.0, 10.0).reshape(3, 3), (2, 3))


def _s3(lib):
    return lib.sparse_coo_tensor([[0, 1, 0], [1, 0, 1], [2, 2, 0]], [1.0, 2.0, 3.0], (2, 2, 3))


def _name(t):
    fn = t.grad_fn
    if fn is None:
        return None
    return fn.name() if hasattr(fn, "name") and not isinstance(fn.name, str) else \
        type(fn).__name__


def _check(got, want, tol=1e-6):
    assert got.is_sparse == want.is_sparse and tuple(got.shape) == tuple(want.shape)
    if want.is_sparse:
        assert got.is_coalesced() == want.is_coalesced()
        assert got._indices().tolist() == want._indices().tolist()
        assert_close(got._values(), want._values(), rtol=tol, atol=tol)
    else:
        assert_close(got, want, rtol=tol, atol=tol)


RESULTS = {
    "t": lambda L: _a(L).t(),
    "t_coalesced": lambda L: _a(L).coalesce().t(),
    "t_1d": lambda L: L.sparse_coo_tensor([[0, 2]], [1.0, 2.0], (3,)).t(),
    "transpose": lambda L: _a(L).transpose(-1, 0),
    "transpose_same": lambda L: _a(L).transpose(1, 1),
    "transpose_3d": lambda L: _s3(L).transpose(0, 2),
    "narrow_copy_dim0": lambda L: _a(L).narrow_copy(0, 1, 1),
    "narrow_copy_dim1": lambda L: _a(L).narrow_copy(1, 1, 2),
    "narrow_copy_coalesced": lambda L: _a(L).coalesce().narrow_copy(1, 1, 2),
    "narrow_copy_dense_dim": lambda L: _h(L).narrow_copy(1, 1, 2),
    "index_select_dim0": lambda L: _a(L).index_select(0, L.tensor([1, 0, 1])),
    "index_select_dim1": lambda L: _a(L).index_select(1, L.tensor([2, 0])),
    "index_select_coalesced": lambda L: _a(L).coalesce().index_select(1, L.tensor([2, 0])),
    "index_select_dense_dim": lambda L: _h(L).index_select(1, L.tensor([2, 0])),
    "index_select_3d": lambda L: _s3(L).index_select(2, L.tensor([0, 2, 2])),
    "softmax_dim1": lambda L: L.sparse.softmax(_a(L), 1),
    "softmax_dim0": lambda L: L.sparse.softmax(_a(L).coalesce(), 0),
    "softmax_negative_dim": lambda L: L.sparse.softmax(_a(L), -1),
    "softmax_float64": lambda L: L.sparse.softmax(_a(L), 1, dtype=L.float64),
    "softmax_dense_dim": lambda L: L.sparse.softmax(_h(L), 1),
    "softmax_hybrid_sparse_dim": lambda L: L.sparse.softmax(_h(L), 0),
    "softmax_3d": lambda L: L.sparse.softmax(_s3(L), 1),
    "log_softmax_dim1": lambda L: L.sparse.log_softmax(_a(L), 1),
    "log_softmax_dense_dim": lambda L: L.sparse.log_softmax(_h(L), 1),
    "sum_dense_dim": lambda L: L.sparse.sum(_h(L), 1),
    "sum_sparse_dims_only": lambda L: L.sparse.sum(_h(L), 0),
    "sum_3d_two_dims": lambda L: L.sparse.sum(_s3(L), (0, 2)),
    # the function forms dispatch to the sparse ops as the methods do
    "fn_t": lambda L: L.t(_a(L)),
    "fn_transpose": lambda L: L.transpose(_s3(L), 0, 2),
    "fn_swapaxes": lambda L: L.swapaxes(_a(L), 0, 1),
    "fn_index_select": lambda L: L.index_select(_a(L), 1, L.tensor([2, 0])),
    "fn_narrow_copy": lambda L: L.narrow_copy(_h(L), 1, 1, 2),
}


@pytest.mark.parametrize("name", list(RESULTS))
def test_results_match_torch(name):
    _check(RESULTS[name](ember), RESULTS[name](torch))


ERRORS = {
    "t_hybrid": lambda L: _h(L).t(),
    "t_3d": lambda L: _s3(L).t(),
    "transpose_dense_dim": lambda L: _h(L).transpose(0, 1),
    "transpose_out_of_range": lambda L: _a(L).transpose(0, 2),
    "narrow_copy_range": lambda L: _a(L).narrow_copy(1, 2, 2),
    "index_select_out_of_range": lambda L: _a(L).index_select(1, L.tensor([3])),
    "index_select_2d_index": lambda L: _a(L).index_select(1, L.tensor([[0]])),
    "index_select_float_index": lambda L: _a(L).index_select(1, L.tensor([0.0])),
    "index_select_dim": lambda L: _a(L).index_select(2, L.tensor([0])),
    "softmax_int": lambda L: L.sparse.softmax(L.sparse_coo_tensor([[0, 1]], [1, 2], (3,)), 0),
    "fn_t_3d": lambda L: L.t(_s3(L)),
    "fn_transpose_dense_dim": lambda L: L.transpose(_h(L), 0, 1),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    assert_same_error(ERRORS[name], torch, ember)


W23 = [[1.0, 0.0, 3.0], [4.0, 5.0, -6.0]]

GRADS = {
    "t": (_a, lambda L, a: a.t(), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
    "transpose": (_a, lambda L, a: a.transpose(0, 1), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
    "softmax": (_a, lambda L, a: L.sparse.softmax(a, 1), W23),
    "softmax_dim0": (_a, lambda L, a: L.sparse.softmax(a, 0), W23),
    "log_softmax": (_a, lambda L, a: L.sparse.log_softmax(a, 1), W23),
    "softmax_dense_dim": (_h, lambda L, a: L.sparse.softmax(a, 1), W23),
    "log_softmax_hybrid_sparse_dim": (_h, lambda L, a: L.sparse.log_softmax(a, 0), W23),
    "sum_dense_dim": (_h, lambda L, a: L.sparse.sum(a, 1), [1.0, -2.0]),
    "sum_sparse_dims": (_h, lambda L, a: L.sparse.sum(a, 0), [1.0, -2.0, 0.5]),
    "to_dense_unmasked": (_a, lambda L, a: a.to_dense(masked_grad=False), W23),
    "to_dense_masked": (_a, lambda L, a: a.to_dense(masked_grad=True), W23),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradients_match_torch(name):
    make, f, w = GRADS[name]

    def run(lib):
        a = make(lib).requires_grad_()
        out = f(lib, a)
        dense = out.to_dense() if out.is_sparse else out
        (dense * lib.tensor(w)).sum().backward()
        return _name(out), a.grad

    (got_name, got), (want_name, want) = run(ember), run(torch)
    assert got_name == want_name
    _check(got, want)


@pytest.mark.parametrize("name, f", [
    ("narrow_copy", lambda L, a: a.narrow_copy(1, 1, 2)),
    ("index_select", lambda L, a: a.index_select(1, L.tensor([2, 0]))),
])
def test_backward_errors_match_torch(name, f):
    def run(lib):
        a = _a(lib).requires_grad_()
        out = f(lib, a)
        assert _name(out) == {"narrow_copy": "NarrowCopyBackward0",
                              "index_select": "IndexSelectBackward0"}[name]
        out.to_dense().sum().backward()

    assert_same_error(run, torch, ember, NotImplementedError)


def _random_sparse(rs, lib, shape, sparse_dim, nnz):
    idx = np.stack([rs.randint(0, n, nnz) for n in shape[:sparse_dim]])
    vals = rs.randn(nnz, *shape[sparse_dim:]).astype(np.float32)
    t = lib.sparse_coo_tensor(lib.tensor(idx), lib.tensor(vals), shape)
    return t.coalesce() if rs.rand() < 0.3 else t


def test_fuzz_shape_ops_and_softmax_match_torch():
    """Seeded: random (hybrid) sparse tensors with duplicates through every op above."""
    rs = np.random.RandomState(0)
    for _ in range(80):
        ndim = rs.randint(1, 4)
        shape = tuple(int(n) for n in rs.randint(1, 5, ndim))
        sd = rs.randint(1, ndim + 1)
        nnz = rs.randint(0, 7)
        seed = rs.randint(1 << 30)
        made = [_random_sparse(np.random.RandomState(seed), lib, shape, sd, nnz)
                for lib in (ember, torch)]
        dim = int(rs.randint(ndim))
        index = rs.randint(0, shape[dim], rs.randint(0, 4))
        start = int(rs.randint(shape[dim]))
        length = int(rs.randint(shape[dim] - start + 1))
        for op in _fuzz_ops(dim, index, start, length, sd, ndim):
            _check(op(ember, made[0]), op(torch, made[1]), tol=1e-5)


def _fuzz_ops(dim, index, start, length, sd, ndim):
    ops = [lambda L, s: L.sparse.softmax(s, dim), lambda L, s: L.sparse.log_softmax(s, dim),
           lambda L, s: s.index_select(dim, L.tensor(index, dtype=L.int64)),
           lambda L, s: s.narrow_copy(dim, start, length)]
    if sd >= 2:
        ops.append(lambda L, s: s.transpose(0, sd - 1))
    if ndim > 1:
        ops.append(lambda L, s: L.sparse.sum(s, dim))
    return ops
