"""Sparse ``mul``/``div`` and double backward through ``sparse.mm``/``addmm`` without torch:
float64 finite differences (``gradcheck``/``gradgradcheck`` through the values of the sparse
operands), and hand-computed entries of the products (tests/oracle/test_sparse_mul_oracle.py
compares with torch itself)."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

IDX_A = [[0, 1, 1, 0], [2, 0, 1, 2]]  # (0, 2) twice
IDX_B = [[1, 0, 1], [1, 2, 2]]


def _inputs(seed=0):
    rs = np.random.RandomState(seed)
    f64 = ember.float64
    return (ember.tensor(rs.randn(4), dtype=f64, requires_grad=True),
            ember.tensor(rs.randn(3), dtype=f64, requires_grad=True),
            ember.tensor(rs.randn(2, 3), dtype=f64, requires_grad=True),
            ember.tensor(1.7, dtype=f64, requires_grad=True))


_D = ember.tensor(np.random.RandomState(5).randn(2, 3), dtype=ember.float64)


def sa(v):
    return ember.sparse_coo_tensor(IDX_A, v, (2, 3))


def sb(w):
    return ember.sparse_coo_tensor(IDX_B, w, (2, 3))


@pytest.mark.parametrize("fn, which", [
    (lambda v, w: (sa(v) * sb(w)).to_dense(), (0, 1)),
    (lambda v, w: (sa(v).coalesce() * sb(w).coalesce()).to_dense(), (0, 1)),
    (lambda v, w: (sa(v) * sb(w).coalesce()).to_dense(), (0, 1)),
    # the dense operand's gradient is sparse (gradcheck reads dense ones): see the next test
    (lambda v: (sa(v) * _D).to_dense(), (0,)),
    (lambda v: (_D * sa(v).coalesce()).to_dense(), (0,)),
    (lambda v, c: (sa(v) * c).to_dense(), (0, 3)),
    (lambda v, c: (sa(v) / c).to_dense(), (0, 3)),
    (lambda v, c: ember.sparse.sum(sa(v) * c * 3.0), (0, 3)),
], ids=["sparse_sparse", "coalesced", "mixed", "sparse_dense", "dense_coalesced",
        "times_0d", "div_0d", "sum_times_0d"])
def test_gradients_match_finite_differences(fn, which):
    inputs = _inputs()
    assert gradcheck(fn, tuple(inputs[i] for i in which))


def test_dense_operand_gets_a_sparse_gradient_that_matches_finite_differences():
    """torch gives a dense operand of ``sparse * dense`` a sparse gradient (at the sparse
    operand's entries); its dense form is the finite-difference one."""
    v, _, d, _ = _inputs()
    u = np.random.RandomState(1).randn(2, 3)

    def f(dd):
        return float(((sa(v.detach()) * ember.tensor(dd)).to_dense() * ember.tensor(u))
                     .sum().item())

    (sa(v.detach()) * d).to_dense().mul(ember.tensor(u)).sum().backward()
    assert d.grad.is_sparse and d.grad._indices().tolist() == IDX_A
    eps, num = 1e-6, np.zeros((2, 3))
    for k in np.ndindex(2, 3):
        e = np.zeros((2, 3))
        e[k] = eps
        num[k] = (f(d.detach().numpy() + e) - f(d.detach().numpy() - e)) / (2 * eps)
    np.testing.assert_allclose(d.grad.to_dense().numpy(), num, rtol=1e-6, atol=1e-8)


def test_products_keep_torchs_entries():
    a = ember.sparse_coo_tensor(IDX_A, [1.0, 2.0, 3.0, 4.0], (2, 3))
    b = ember.sparse_coo_tensor(IDX_B, [5.0, 6.0, 7.0], (2, 3))
    # neither coalesced: b (fewer entries) keeps its entries, each times a's sum there
    r = a * b
    assert r._indices().tolist() == IDX_B and not r.is_coalesced()
    assert r._values().tolist() == [15.0, 30.0, 0.0]
    # both coalesced: the entries both have, sorted
    r = a.coalesce() * b.coalesce()
    assert r.is_coalesced() and r._indices().tolist() == [[0, 1], [2, 1]]
    assert r._values().tolist() == [30.0, 15.0]
    # sparse * dense: the sparse operand's entries as stored
    r = a * ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert r._indices().tolist() == IDX_A and r._values().tolist() == [3.0, 8.0, 15.0, 12.0]


def test_div_refuses_what_torch_refuses():
    a = ember.sparse_coo_tensor(IDX_A, [1.0, 2.0, 3.0, 4.0], (2, 3))
    msg = r"Sparse division requires a scalar or zero-dim dense tensor divisor \(got shape"
    for f in (lambda: a / ember.ones(2, 3), lambda: ember.ones(2, 3) / a,
              lambda: ember.div(ember.ones(2, 3), a)):
        with pytest.raises(RuntimeError, match=msg):
            f()


@pytest.mark.parametrize("fn", [
    lambda v, d: ember.sparse.mm(sa(v), d),
    lambda v, d: ember.sparse.mm(sa(v).coalesce(), d).pow(2),
    lambda v, d: ember.sparse.mm(sa(v) * 3.0 + sa(v * 2.0), d).pow(2),
], ids=["mm", "mm_coalesced_squared", "mm_of_scaled_sum"])
def test_sparse_mm_double_backward_matches_finite_differences(fn):
    v, _, _, _ = _inputs()
    d = ember.tensor(np.random.RandomState(2).randn(3, 2), dtype=ember.float64,
                     requires_grad=True)
    assert gradgradcheck(fn, (v, d))


def test_sparse_addmm_double_backward_matches_finite_differences():
    v, _, _, _ = _inputs()
    rs = np.random.RandomState(3)
    d = ember.tensor(rs.randn(3, 2), dtype=ember.float64, requires_grad=True)
    m = ember.tensor(rs.randn(2, 2), dtype=ember.float64, requires_grad=True)
    assert gradgradcheck(
        lambda m, v, d: ember.sparse.addmm(m, sa(v), d, beta=0.5, alpha=2.0).pow(2), (m, v, d))


def test_sparse_mm_create_graph_gradient_names():
    s = sa(ember.tensor([1.0, 2.0, 3.0, 4.0])).requires_grad_()
    d = ember.ones(3, 2, requires_grad=True)
    gs, gd = ember.autograd.grad(ember.sparse.mm(s, d).sum(), (s, d), create_graph=True)
    assert gs.is_sparse and gs.is_coalesced() and gs.grad_fn.name() == "SparseMaskBackward0"
    assert gd.grad_fn.name() == "MmBackward0"
    # d(sum gd)/ds: each entry of s feeds 2 elements of s^T @ ones; a dense gradient, as torch
    gd.sum().backward()
    assert not s.grad.is_sparse
    np.testing.assert_array_equal(s.grad.numpy(), np.full((2, 3), 2.0))
