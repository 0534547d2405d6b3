"""``mul``/``div`` with sparse COO operands and ``sparse.mm``/``addmm`` under
``create_graph=True``, against torch: which entries a product keeps and in which order, its
coalesced flag, values, gradients (sparse ones included), grad_fn names and torch's errors."""
import pytest

import ember
from tests.helpers import assert_close
from tests.oracle._sparse_errors import assert_same_error

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.filterwarnings("ignore:Sparse invariant checks"),
              pytest.mark.filterwarnings("ignore:Using backward.. with create_graph")]


def _a(lib):  # uncoalesced: (0, 2) twice
    return lib.sparse_coo_tensor([[0, 1, 1, 0], [2, 0, 1, 2]], [1.0, 2.0, 3.0, 4.0], (2, 3))


def _b(lib):  # unique indices, not marked coalesced
    return lib.sparse_coo_tensor([[1, 0, 1], [1, 2, 2]], [5.0, 6.0, 7.0], (2, 3))


def _d(lib):
    return lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def _h(lib):  # a hybrid tensor: one sparse dim, one dense dim, row 0 twice
    return lib.sparse_coo_tensor([[0, 1, 0]], lib.arange(1.0, 10.0).reshape(3, 3), (2, 3))


def _ints(lib):
    return lib.sparse_coo_tensor([[0, 1]], [1, 2], (3,))


def _empty(lib):
    return lib.sparse_coo_tensor(lib.zeros(2, 0, dtype=lib.int64), lib.zeros(0), (2, 3))


RESULTS = {
    "sparse_sparse_uncoalesced": lambda L: L.mul(_a(L), _b(L)),
    "sparse_sparse_coalesced": lambda L: _a(L).coalesce() * _b(L).coalesce(),
    "coalesced_times_uncoalesced": lambda L: _a(L).coalesce() * _b(L),
    "uncoalesced_times_coalesced": lambda L: _a(L) * _b(L).coalesce(),
    "hybrid_times_hybrid": lambda L: _h(L) * _h(L),
    "sparse_times_empty": lambda L: _a(L) * _empty(L),
    "int_times_float_sparse": lambda L: _ints(L) * L.sparse_coo_tensor([[1]], [1.5], (3,)),
    "sparse_dense": lambda L: _a(L) * _d(L),
    "coalesced_dense": lambda L: _a(L).coalesce() * _d(L),
    "dense_sparse": lambda L: _d(L) * _a(L),
    "dense_coalesced": lambda L: L.mul(_d(L), _a(L).coalesce()),
    "sparse_row": lambda L: _a(L) * L.tensor([1.0, 2.0, 3.0]),
    "sparse_column": lambda L: _a(L) * L.tensor([[1.0], [2.0]]),
    "hybrid_dense": lambda L: _h(L) * _d(L),
    "hybrid_row": lambda L: _h(L) * L.tensor([1.0, 2.0, 3.0]),
    "dense_with_batch_dim": lambda L: L.ones(2, 2, 3) * _a(L),
    "empty_times_dense": lambda L: _empty(L) * L.ones(4, 2, 3, dtype=L.float64),
    "sparse_0d": lambda L: _a(L) * L.tensor(3.0),
    "scalar_sparse": lambda L: 2 * _a(L),
    "int_sparse_float_scalar": lambda L: _ints(L) * 2.5,
    "div_scalar": lambda L: _a(L) / 2,
    "div_0d": lambda L: L.div(_a(L), L.tensor(2.0)),
    "div_int": lambda L: _ints(L) / 2,
    "mul_inplace_sparse": lambda L: _a(L).mul_(_b(L)),
    "mul_inplace_dense": lambda L: _a(L).mul_(_d(L)),
    "dense_mul_inplace_sparse": lambda L: _d(L).mul_(_a(L)),
}


@pytest.mark.parametrize("name", list(RESULTS))
def test_results_match_torch(name):
    got, want = RESULTS[name](ember), RESULTS[name](torch)
    assert got.is_sparse == want.is_sparse and tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    if want.is_sparse:
        assert got.is_coalesced() == want.is_coalesced()
        assert got._indices().tolist() == want._indices().tolist()
        assert_close(got._values(), want._values(), rtol=1e-6, atol=1e-6)
    else:
        assert_close(got, want, rtol=1e-6, atol=1e-6)


ERRORS = {
    "div_by_dense": lambda L: _a(L) / _d(L),
    "div_dense_by_sparse": lambda L: _d(L) / _a(L),
    "torch_div_dense_by_sparse": lambda L: L.div(_d(L), _a(L)),
    "div_by_sparse": lambda L: _a(L) / _b(L),
    "div_by_0d_sparse": lambda L: _a(L) / L.tensor(2.0).to_sparse(),
    "div_inplace_by_dense": lambda L: _a(L).div_(_d(L)),
    "reciprocal": lambda L: 2 / _a(L),
    "mul_sparse_shapes": lambda L: _a(L) * L.sparse_coo_tensor([[0]], [1.0], (3,)),
    "mul_sparse_density": lambda L: _a(L) * L.sparse_coo_tensor([[0, 1]], L.ones(2, 3), (2, 3)),
    "mul_coalesced_sizes": lambda L: _a(L).coalesce() * L.sparse_coo_tensor(
        [[0, 1], [2, 0]], [1.0, 2.0], (2, 4)).coalesce(),
    "mul_dense_broadcast": lambda L: _a(L) * L.ones(4),
    "mul_inplace_dtype": lambda L: _ints(L).mul_(L.ones(3)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    assert_same_error(ERRORS[name], torch, ember)


def _grads(lib, f):
    a = _a(lib).requires_grad_()
    b = _b(lib).requires_grad_()
    d = _d(lib).requires_grad_()
    c = lib.tensor(2.5, requires_grad=True)
    out = f(lib, a, b, d, c)
    name = out.grad_fn.name() if hasattr(out.grad_fn, "name") else type(out.grad_fn).__name__
    w = lib.tensor([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    (out.to_dense() * w).sum().backward()
    return name, [x.grad for x in (a, b, d, c)]


GRADS = {
    "sparse_sparse": lambda L, a, b, d, c: a * b,
    "coalesced_sparse_sparse": lambda L, a, b, d, c: a.coalesce() * b.coalesce(),
    "sparse_dense": lambda L, a, b, d, c: a * d,
    "dense_sparse": lambda L, a, b, d, c: d * a,
    "sparse_scalar": lambda L, a, b, d, c: a * 2,
    "sparse_0d": lambda L, a, b, d, c: a * c,
    "sparse_div_scalar": lambda L, a, b, d, c: a / 2,
    "sparse_div_0d": lambda L, a, b, d, c: a / c,
    "sum_of_products": lambda L, a, b, d, c: a * d + b * d,
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradients_match_torch(name):
    got_name, got = _grads(ember, GRADS[name])
    want_name, want = _grads(torch, GRADS[name])
    assert got_name == want_name
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if w is None:
            continue
        assert g.is_sparse == w.is_sparse
        if w.is_sparse:
            assert g.is_coalesced() == w.is_coalesced()
            assert g._indices().tolist() == w._indices().tolist()
            assert_close(g._values(), w._values(), rtol=1e-6, atol=1e-6)
        else:
            assert_close(g, w, rtol=1e-6, atol=1e-6)


def test_broadcast_dense_operand_gradient_is_torch_error():
    def run(lib):
        a, d = _a(lib).requires_grad_(), lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (a * d).to_dense().sum().backward()

    assert_same_error(run, torch, ember, NotImplementedError)


# --- sparse.mm / addmm with create_graph=True ------------------------------------------------
def _mm_inputs(lib, coalesce):
    s = _a(lib)
    s = (s.coalesce() if coalesce else s).requires_grad_()
    d = lib.tensor([[1.0, -2.0], [0.5, 3.0], [-1.5, 2.5]], requires_grad=True)
    m = lib.tensor([[0.5, 1.0], [2.0, -1.0]], requires_grad=True)
    return s, d, m


def _dense_grad_of_dense(lib, s, d, m):
    gd, = lib.autograd.grad(lib.sparse.mm(s, d).pow(2).sum(), d, create_graph=True)
    gd.pow(2).sum().backward()
    return gd, s.grad, d.grad


def _sparse_grad_of_sparse(lib, s, d, m):
    gs, = lib.autograd.grad(lib.sparse.mm(s, d).pow(2).sum(), s, create_graph=True)
    (gs.to_dense() * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    return gs, s.grad, d.grad


def _addmm_both(lib, s, d, m):
    out = lib.sparse.addmm(m, s, d, beta=0.5, alpha=2.0).pow(2).sum()
    gs, gd = lib.autograd.grad(out, (s, d), create_graph=True)
    (lib.sparse.sum(gs) + gd.pow(2).sum()).backward()
    return gs, gd, s.grad, d.grad, m.grad


def _backward_create_graph(lib, s, d, m):
    lib.sparse.mm(s, d).pow(2).sum().backward(create_graph=True)
    gs, gd = s.grad, d.grad
    gd.sum().backward()
    return gs, gd, s.grad, d.grad


@pytest.mark.parametrize("coalesce", [False, True], ids=["uncoalesced", "coalesced"])
@pytest.mark.parametrize("case", [_dense_grad_of_dense, _sparse_grad_of_sparse, _addmm_both,
                                  _backward_create_graph], ids=lambda f: f.__name__[1:])
def test_double_backward_through_sparse_mm_matches_torch(case, coalesce):
    got = case(ember, *_mm_inputs(ember, coalesce))
    want = case(torch, *_mm_inputs(torch, coalesce))
    for g, w in zip(got, want):
        assert g.is_sparse == w.is_sparse
        names = [x.grad_fn.name() if g is x else type(x.grad_fn).__name__
                 for x in (g, w) if x.grad_fn is not None]
        assert len(names) in (0, 2) and len(set(names)) <= 1, names
        if w.is_sparse:
            assert g.is_coalesced() == w.is_coalesced()
            assert g._indices().tolist() == w._indices().tolist()
            assert_close(g._values(), w._values(), rtol=1e-5, atol=1e-4)
        else:
            assert_close(g, w, rtol=1e-5, atol=1e-4)
