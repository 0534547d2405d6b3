"""Sparse COO tensors without torch: construction and invariants, coalescing, arithmetic,
refusals, and finite-difference gradients through every differentiable sparse op (float64)."""
import warnings

import numpy as np
import pytest

import ember
from ember import sparse
from ember.autograd import gradcheck
from ember.sparse import _convert

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

# duplicates (0, 2) twice, unsorted: an uncoalesced 2 x 3 matrix
IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]
VALS = [3.0, 4.0, 5.0, 6.0]
DENSE = np.array([[0.0, 0.0, 9.0], [4.0, 0.0, 5.0]])


def make(values=VALS, size=(2, 3), **kw):
    return ember.sparse_coo_tensor(IDX, values, size, check_invariants=False, **kw)


# --- construction and attributes --------------------------------------------------------
def test_attributes_of_a_sparse_tensor():
    s = make()
    assert s.layout is ember.sparse_coo and s.is_sparse and isinstance(s, ember.Tensor)
    assert s.shape == (2, 3) and s.size() == (2, 3) and s.size(1) == 3 and s.dim() == 2
    assert s.dtype is ember.float32 and s.numel() == 6 and len(s) == 2
    assert s._nnz() == 4 and s.sparse_dim() == 2 and s.dense_dim() == 0
    assert not s.is_coalesced() and not s.requires_grad and s.grad_fn is None
    np.testing.assert_array_equal(s.to_dense().numpy(), DENSE)
    assert not ember.zeros(2).is_sparse and ember.zeros(2).layout is ember.strided


def test_size_is_inferred_from_the_indices_and_the_values():
    s = ember.sparse_coo_tensor([[1, 0]], [[1.0, 2.0], [3.0, 4.0]], check_invariants=False)
    assert s.shape == (2, 2) and s.sparse_dim() == 1 and s.dense_dim() == 1
    np.testing.assert_array_equal(s.to_dense().numpy(), [[3, 4], [1, 2]])
    e = ember.sparse_coo_tensor(ember.zeros(1, 0, dtype=ember.int64), ember.zeros(0, 3),
                                check_invariants=False)
    assert e.shape == (0, 3) and e._nnz() == 0 and e.is_coalesced()


def test_constructor_errors():
    with pytest.raises(RuntimeError, match="^indices and values must have same nnz, but got "
                                           "nnz from indices: 4, nnz from values: 3$"):
        make(VALS[:3])
    with pytest.raises(RuntimeError, match=r"'len\(size\) == sparse_dim \+ dense_dim' is not "
                                           "satisfied: len\\(size\\) = 3, sparse_dim = 2"):
        make(size=(2, 3, 1))
    with pytest.raises(RuntimeError, match="floating point and complex dtype can require"):
        make([1, 2, 3, 4], requires_grad=True)


def test_unchecked_construction_warns_once_as_torch(monkeypatch):
    monkeypatch.setattr(_convert, "STATE", [False, False, False])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ember.sparse_coo_tensor([[0]], [1.0], (2,))
        ember.sparse_coo_tensor([[0]], [1.0], (2,))
        ember.sparse_coo_tensor([[0]], [1.0], (2,), check_invariants=False)
    assert len(seen) == 1
    assert str(seen[0].message).startswith("Sparse invariant checks are implicitly disabled")


def test_invariant_checks_catch_bad_indices():
    with pytest.raises(RuntimeError, match="^size is inconsistent with indices: for dim 0, size "
                                           "is 3 but found index 5$"):
        ember.sparse_coo_tensor([[5]], [1.0], (3,), check_invariants=True)
    with pytest.raises(RuntimeError, match="^found negative index -1 for dim 0$"):
        ember.sparse_coo_tensor([[-1]], [1.0], (3,), check_invariants=True)
    with pytest.raises(RuntimeError, match="cannot set is_coalesced to true"):
        ember.sparse_coo_tensor([[1, 1]], [1.0, 2.0], (3,), is_coalesced=True,
                                check_invariants=True)
    with sparse.check_sparse_tensor_invariants():
        assert sparse.check_sparse_tensor_invariants.is_enabled()
        with pytest.raises(RuntimeError, match="found index 5"):
            ember.sparse_coo_tensor([[5]], [1.0], (3,))
    assert not sparse.check_sparse_tensor_invariants.is_enabled()
    # unchecked, a flag is trusted as given
    assert ember.sparse_coo_tensor([[0, 2]], [1.0, 2.0], (3,), is_coalesced=True,
                                   check_invariants=False).is_coalesced()


def test_coalesce_sorts_and_sums_duplicates():
    s = make()
    with pytest.raises(RuntimeError, match="^Cannot get indices on an uncoalesced tensor, "
                                           "please call .coalesce\\(\\) first$"):
        s.indices()
    with pytest.raises(RuntimeError, match="Cannot get values on an uncoalesced tensor"):
        s.values()
    c = s.coalesce()
    assert c.is_coalesced() and c.coalesce() is c
    np.testing.assert_array_equal(c.indices().numpy(), [[0, 1, 1], [2, 0, 2]])
    np.testing.assert_array_equal(c.values().numpy(), [9.0, 4.0, 5.0])
    np.testing.assert_array_equal(s._indices().numpy(), IDX)  # the original is unchanged
    np.testing.assert_array_equal(s._values().numpy(), VALS)


def test_to_sparse_keeps_nonzero_entries_or_slices():
    x = ember.tensor([[0.0, 1.0], [0.0, 0.0], [2.0, -0.0]])
    s = x.to_sparse()
    assert s.is_coalesced() and s._nnz() == 2
    np.testing.assert_array_equal(s._indices().numpy(), [[0, 2], [1, 0]])
    rows = x.to_sparse(1)
    assert rows.sparse_dim() == 1 and rows._nnz() == 2
    np.testing.assert_array_equal(rows._values().numpy(), [[0, 1], [2, 0]])
    np.testing.assert_array_equal(x.to_sparse_coo().to_dense().numpy(), x.numpy())
    with pytest.raises(RuntimeError, match=r"sparse_dim argument must be in \[0,2\] range, "
                                           "but 3 is given"):
        x.to_sparse(3)
    with pytest.raises(NotImplementedError, match="sparse COO"):
        x.to_sparse(layout=ember.sparse_csr)
    with pytest.raises(RuntimeError, match="sparse_dim argument must be in >0 when self.dim"):
        x.to_sparse(0)
    # a 0-d tensor: one entry holding it, none when it is zero
    assert ember.tensor(2.0).to_sparse()._nnz() == 1 and ember.tensor(0.0).to_sparse()._nnz() == 0


def test_repr_has_torch_layout():
    text = repr(make(requires_grad=True))
    assert text == ("tensor(indices=tensor([[0, 1, 1, 0],\n"
                    "                       [2, 0, 2, 2]]),\n"
                    "       values=tensor([3., 4., 5., 6.]),\n"
                    "       size=(2, 3), nnz=4, layout=ember.sparse_coo, requires_grad=True)")
    empty = repr(ember.sparse_coo_tensor(ember.zeros(1, 0, dtype=ember.int64),
                                         ember.zeros(0, 2, dtype=ember.float64), (3, 2)))
    assert "indices=tensor([], size=(1, 0))" in empty and "values=tensor([], size=(0, 2))" in empty
    assert "dtype=ember.float64" in empty


# --- arithmetic ----------------------------------------------------------------------------
def test_scalar_mul_div_neg_keep_the_pattern():
    s = make()
    for out, want in ((s * 2, DENSE * 2), (3 * s, DENSE * 3), (s / 4, DENSE / 4),
                      (-s, -DENSE), (s * ember.tensor(0.5), DENSE * 0.5)):
        assert out.is_sparse and out._nnz() == 4
        np.testing.assert_allclose(out.to_dense().numpy(), want)
    with pytest.raises(RuntimeError, match="Sparse division requires a scalar or zero-dim dense "
                                           r"tensor divisor \(got shape \[2, 3\] for divisor\)"):
        s / ember.ones(2, 3)


def test_add_sparse_sparse_and_dense_sparse():
    a, b = make(), ember.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]).to_sparse()
    out = a + b
    assert out.is_sparse
    np.testing.assert_array_equal(out.to_dense().numpy(), DENSE + b.to_dense().numpy())
    np.testing.assert_array_equal(a.add(b, alpha=2).to_dense().numpy(),
                                  DENSE + 2 * b.to_dense().numpy())
    c = a.coalesce() + b  # both coalesced: merged and still coalesced
    assert c.is_coalesced() and c._nnz() == 4
    dense = ember.ones(2, 3) + a
    assert not dense.is_sparse
    np.testing.assert_array_equal(dense.numpy(), DENSE + 1)
    with pytest.raises(RuntimeError, match=r"^add\(sparse, dense\) is not supported. Use "
                                           r"add\(dense, sparse\) instead.$"):
        a + ember.ones(2, 3)
    with pytest.raises(RuntimeError, match="expected sizes of 'self' and 'other' to match"):
        a + ember.ones(3, 3).to_sparse()


def test_in_place_ops_and_zero():
    s = make().clone()
    s.mul_(2)
    s.add_(make())
    np.testing.assert_array_equal(s.to_dense().numpy(), DENSE * 3)
    s.zero_()
    assert s._nnz() == 0 and s.is_coalesced() and s.shape == (2, 3)
    np.testing.assert_array_equal(s.to_dense().numpy(), np.zeros((2, 3)))


def test_products_and_sums():
    s, d = make(), ember.arange(12.0).reshape(3, 4)
    want = DENSE @ np.arange(12.0).reshape(3, 4)
    for out in (sparse.mm(s, d), ember.mm(s, d), s @ d, sparse.addmm(ember.zeros(2, 4), s, d)):
        np.testing.assert_allclose(out.numpy(), want)
    np.testing.assert_allclose(sparse.addmm(ember.ones(2, 4), s, d, beta=2, alpha=3).numpy(),
                               2 + 3 * want)
    np.testing.assert_allclose((ember.ones(4, 2) @ s).numpy(), np.ones((4, 2)) @ DENSE)
    assert sparse.sum(s).item() == DENSE.sum() and s.sum().item() == DENSE.sum()
    rows = sparse.sum(s, 1)
    assert rows.is_sparse and rows.is_coalesced()
    np.testing.assert_array_equal(rows.to_dense().numpy(), DENSE.sum(1))
    with pytest.raises(RuntimeError, match="Expected dim 0 size 3, got 4"):
        sparse.mm(s, ember.ones(4, 2))


def test_unsupported_ops_raise_instead_of_computing():
    s = make()
    for fn in (lambda: s.exp(), lambda: ember.exp(s), lambda: s == 1, lambda: s.view(6),
               lambda: s.clamp(0, 1), lambda: s[0]):
        with pytest.raises(NotImplementedError, match="SparseCPU"):
            fn()
    with pytest.raises(RuntimeError, match="reshape is not implemented for sparse tensors"):
        s.reshape(6)
    with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy"):
        s.numpy()
    with pytest.raises(TypeError, match=r"obj\[\"g\"\]: cannot save a sparse tensor"):
        ember.save({"g": s}, "/dev/null")


# --- gradients (float64 finite differences) --------------------------------------------
def _values(seed=0, n=4):
    return ember.tensor(np.random.RandomState(seed).randn(n), dtype=ember.float64,
                        requires_grad=True)


def _s(v):
    return ember.sparse_coo_tensor(IDX, v, (2, 3), check_invariants=False)


def test_gradcheck_to_dense():
    w = ember.tensor(np.random.RandomState(1).randn(2, 3))
    assert gradcheck(lambda v: _s(v).to_dense() * w, (_values(),))


def test_gradcheck_sparse_mm_both_operands():
    d = ember.tensor(np.random.RandomState(2).randn(3, 5), requires_grad=True)
    assert gradcheck(lambda v, d: sparse.mm(_s(v), d), (_values(), d))
    assert gradcheck(lambda v, d: ember.mm(_s(v), d), (_values(), d))


def test_gradcheck_addmm():
    d = ember.tensor(np.random.RandomState(3).randn(3, 2), requires_grad=True)
    m = ember.tensor(np.random.RandomState(4).randn(2, 2), requires_grad=True)
    assert gradcheck(lambda v, d, m: sparse.addmm(m, _s(v), d, beta=0.5, alpha=2.0),
                     (_values(), d, m))


def test_gradcheck_sparse_arithmetic_and_sums():
    def f(v):
        s = _s(v)
        t = (s * 2 + s.coalesce() - s / 3).clone()
        return ember.stack([sparse.sum(t), sparse.sum(-t, 1).to_dense().sum(),
                            (t.to_dense() ** 2).sum()])

    assert gradcheck(f, (_values(),))


def test_gradcheck_to_sparse_and_values():
    x = ember.tensor(np.random.RandomState(5).randn(3, 2), requires_grad=True)
    assert gradcheck(lambda x: x.to_sparse().to_dense() * 3, (x,))
    assert gradcheck(lambda v: _s(v).coalesce().values() ** 2, (_values(),))


def test_sparse_leaf_gets_a_masked_sparse_gradient():
    s = make(requires_grad=True)
    (sparse.mm(s, ember.ones(3, 2)) * ember.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    g = s.grad
    assert g.is_sparse and g._nnz() == 3  # at the coalesced entries only
    np.testing.assert_array_equal(g.to_dense().numpy(), [[0, 0, 3], [7, 0, 7]])
    s.grad = None
    (s.to_dense() * ember.arange(6.0).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(s.grad.to_dense().numpy(), [[0, 0, 2], [3, 0, 5]])
    s.grad = None
    ember.mm(s, ember.ones(3, 2)).sum().backward()  # plain mm: a dense gradient, as torch
    assert not s.grad.is_sparse
    np.testing.assert_array_equal(s.grad.numpy(), np.full((2, 3), 2.0))
