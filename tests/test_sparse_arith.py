"""Sparse COO arithmetic through ember's functions without torch: dense +/- sparse with the
gradient reaching the sparse operand, the top-level add/sub/mul/div on sparse tensors,
create_graph through the sparse ops, and the ops a sparse tensor refuses (isreal, set_).
Hand-computed values; tests/oracle/test_sparse_arith_oracle.py compares with torch."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

pytestmark = [pytest.mark.filterwarnings("ignore:Sparse invariant checks"),
              pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")]

# duplicates (0, 2) twice, unsorted: an uncoalesced 2 x 3 matrix
IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]
VALS = [3.0, 4.0, 5.0, 6.0]
DENSE = np.array([[0.0, 0.0, 9.0], [4.0, 0.0, 5.0]])
W = np.arange(6.0).reshape(2, 3)


def make(values=VALS, **kw):
    return ember.sparse_coo_tensor(IDX, values, (2, 3), check_invariants=False, **kw)


# --- dense + sparse: values and gradients -------------------------------------------------
@pytest.mark.parametrize("op, sign, alpha", [
    (lambda d, s: d + s, 1, 1), (lambda d, s: d - s, -1, 1),
    (lambda d, s: ember.add(d, s, alpha=2), 1, 2), (lambda d, s: ember.sub(d, s, alpha=2), -1, 2),
    (lambda d, s: ember.subtract(d, s, alpha=0.5), -1, 0.5)])
def test_dense_plus_sparse_gives_both_operands_a_dense_gradient(op, sign, alpha):
    s = make(requires_grad=True)
    d = ember.ones(2, 3, requires_grad=True)
    out = op(d, s)
    assert not out.is_sparse and out.grad_fn.name() == ("AddBackward0" if sign > 0
                                                         else "SubBackward0")
    np.testing.assert_allclose(out.detach().numpy(), 1 + sign * alpha * DENSE)
    (out * ember.tensor(W, dtype=ember.float32)).sum().backward()
    assert not s.grad.is_sparse and s.grad.dtype is ember.float32  # torch: strided
    np.testing.assert_allclose(s.grad.numpy(), sign * alpha * W)
    np.testing.assert_allclose(d.grad.numpy(), W)


def test_dense_add_sparse_in_place_records_and_passes_the_gradient():
    s = make(requires_grad=True)
    base = ember.ones(2, 3, requires_grad=True)
    x = base * 1
    x.add_(s, alpha=3)
    assert x.grad_fn.name() == "AddBackward0"
    np.testing.assert_allclose(x.detach().numpy(), 1 + 3 * DENSE)
    x.sub_(s)
    (x * ember.tensor(W, dtype=ember.float32)).sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), 2 * W)
    np.testing.assert_allclose(base.grad.numpy(), W)


def test_dense_add_sparse_in_place_without_grad_and_its_dtype_check():
    d = ember.ones(2, 3)
    assert d.add_(make()) is d
    np.testing.assert_allclose(d.numpy(), 1 + DENSE)
    d -= make()
    np.testing.assert_allclose(d.numpy(), np.ones((2, 3)))
    i = ember.ones(2, 3, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="Can't convert result type Float to output Long in "
                                           "add operation"):
        i.add_(make())
    i.add_(ember.sparse_coo_tensor(IDX, [1, 2, 3, 4], (2, 3), check_invariants=False))
    np.testing.assert_array_equal(i.numpy(), [[1, 1, 6], [3, 1, 4]])


def test_dense_plus_sparse_promotes_and_refuses_broadcasting():
    si = ember.sparse_coo_tensor(IDX, [1, 2, 3, 4], (2, 3), check_invariants=False)
    assert (ember.ones(2, 3) + si).dtype is ember.float32
    assert (ember.ones(2, 3, dtype=ember.int32) + si).dtype is ember.int64
    assert (ember.ones(2, 3, dtype=ember.float64) + make()).dtype is ember.float64
    for d in (ember.ones(3), ember.ones(1, 3), ember.tensor(1.0), 1):
        with pytest.raises(RuntimeError, match="add: expected 'self' and 'other' to have same "
                                               "size.*does not currently support broadcasting"):
            d - make() if isinstance(d, int) else d + make()
    with pytest.raises(RuntimeError, match="add\\(sparse, dense\\) is not supported"):
        ember.sub(make(), ember.ones(2, 3))
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        ember.add(ember.ones(2, 3, dtype=ember.int64), si, alpha=0.5)


def test_dense_plus_sparse_out_and_duplicates_in_order():
    out = ember.empty(2, 3)
    r = ember.add(ember.ones(2, 3), make(), out=out)
    assert r is out
    np.testing.assert_allclose(out.numpy(), 1 + DENSE)
    # float32 entries added one by one in stored order: (1e8 + 1) + 1 loses both ones
    s = ember.sparse_coo_tensor([[0, 0]], [1.0, 1.0], (1,), check_invariants=False)
    assert (ember.tensor([1e8]) + s).item() == 1e8


def test_gradcheck_dense_plus_sparse():
    d = ember.tensor(np.random.RandomState(0).randn(2, 3), requires_grad=True)
    v = ember.tensor(VALS, dtype=ember.float64, requires_grad=True)

    def f(d, v):
        s = make(v)
        return ember.stack([d + s, ember.sub(d, s, alpha=1.5), ember.add(d * 2, s, alpha=-3)])

    assert gradcheck(f, (d, v))


# --- the top-level functions on sparse operands ---------------------------------------
def test_top_level_add_sub_mul_div_on_sparse_tensors():
    s = make()
    for r, want in [(ember.add(s, s), 2 * DENSE), (ember.add(s, s, alpha=2), 3 * DENSE),
                    (ember.sub(s, s, alpha=2), -DENSE), (ember.mul(s, 2), 2 * DENSE),
                    (ember.mul(2.5, s), 2.5 * DENSE), (ember.mul(s, ember.tensor(3.0)), 3 * DENSE),
                    (ember.div(s, 2), DENSE / 2), (ember.true_divide(s, ember.tensor(4.0)),
                                                   DENSE / 4),
                    # rounded division rounds the summed (coalesced) entries, as torch
                    (ember.div(s, 2, rounding_mode="floor"), [[0, 0, 4], [2, 0, 2]]),
                    (ember.div(s, 4, rounding_mode="trunc"), [[0, 0, 2], [1, 0, 1]])]:
        assert r.is_sparse
        np.testing.assert_allclose(r.to_dense().numpy(), want)
    with pytest.raises(RuntimeError, match="Sparse division requires a scalar"):
        ember.div(s, ember.ones(2, 3))


def test_top_level_ops_record_sparse_gradients():
    s = make(requires_grad=True)
    r = ember.sub(ember.mul(s, 3), ember.div(s, 2))
    assert r.is_sparse and r.grad_fn.name() == "SubBackward0"
    (r.to_dense() * ember.tensor(W, dtype=ember.float32)).sum().backward()
    assert s.grad.is_sparse
    np.testing.assert_allclose(s.grad.to_dense().numpy(), 2.5 * W * (DENSE != 0))


def test_top_level_add_out_into_a_sparse_tensor():
    out = make([0.0, 0.0, 0.0, 0.0])
    assert ember.add(make(), make(), out=out) is out
    np.testing.assert_allclose(out.to_dense().numpy(), 2 * DENSE)


def test_rounded_division_gives_an_empty_gradient():
    s = make(requires_grad=True)
    r = ember.div(s, 2, rounding_mode="floor")
    assert r.grad_fn.name() == "DivBackward2"
    r.to_dense().sum().backward()
    assert s.grad.is_sparse and s.grad._nnz() == 0


# --- create_graph ---------------------------------------------------------------------------
def test_create_graph_through_sparse_ops_gives_a_sparse_gradient_without_a_graph():
    s = make(requires_grad=True)
    loss = (ember.sparse.sum(s * 2) + (s.to_dense() * ember.tensor(W, dtype=ember.float32))
            .sum())
    loss.backward(create_graph=True)
    g = s.grad
    assert g.is_sparse and not g.requires_grad and g.grad_fn is None
    np.testing.assert_allclose(g.to_dense().numpy(), (2 + W) * (DENSE != 0))


def test_create_graph_through_dense_plus_sparse():
    s = make(requires_grad=True)
    d = ember.ones(2, 3, requires_grad=True)
    ((d + s) ** 2).sum().backward(create_graph=True)
    assert d.grad.requires_grad and not s.grad.is_sparse
    np.testing.assert_allclose(s.grad.detach().numpy(), 2 * (1 + DENSE))
    d.grad.sum().backward()  # d(sum 2(d + s))/dd = 2
    np.testing.assert_allclose(d.grad.detach().numpy(), 2 * (1 + DENSE) + 2)


def test_create_graph_through_sparse_mm_keeps_the_graph():
    s = make(requires_grad=True)
    w = ember.ones(3, 2, requires_grad=True)
    ember.sparse.mm(s, w).sum().backward(create_graph=True)
    assert s.grad.is_sparse and s.grad.grad_fn.name() == "CloneBackward0"
    assert w.grad.requires_grad and w.grad.grad_fn.name() == "CopyBackwards"
    # d(sum of w.grad)/ds = 2 at each entry (s^T @ ones(2, 2) summed), d/dw = 0
    w.grad.sum().backward()
    np.testing.assert_allclose(s.grad.to_dense().detach().numpy(),
                               2 + 2 * (DENSE != 0))


# --- refusals -------------------------------------------------------------------------------
def test_isreal_and_set_refuse_a_sparse_tensor():
    s = make()
    for f in (s.isreal, lambda: ember.isreal(s)):
        with pytest.raises(RuntimeError, match="memory format option is only supported by "
                                               "strided tensors"):
            f()
    with pytest.raises(NotImplementedError, match="'aten::set_' with arguments from the "
                                                  "'SparseCPU' backend"):
        s.set_()
    for f in (lambda: s.set_(ember.ones(2)), lambda: ember.ones(2).set_(s)):
        with pytest.raises(NotImplementedError, match="'aten::set_.source_Tensor'"):
            f()
    assert s._nnz() == 4 and s.is_sparse
