"""Sparse transpose, softmax/log_softmax, ``sparse.sum`` over dense dims and
``to_dense(masked_grad=False)`` without torch: float64 finite differences through the values
of the sparse input, and hand-computed entries (tests/oracle/test_sparse_shape_oracle.py
compares with torch itself)."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

IDX = [[0, 1, 1, 0], [2, 0, 1, 2]]  # (0, 2) twice


def sp(v):
    return ember.sparse_coo_tensor(IDX, v, (2, 3))


def hy(v):  # one sparse dim, one dense dim, row 0 twice
    return ember.sparse_coo_tensor([[0, 1, 0]], v, (2, 3))


def _v(*shape, seed=0):
    return ember.tensor(np.random.RandomState(seed).randn(*shape), dtype=ember.float64,
                        requires_grad=True)


@pytest.mark.parametrize("fn, shape", [
    (lambda v: sp(v).t().to_dense(), (4,)),
    (lambda v: sp(v).transpose(1, 0).to_dense() * 2.0, (4,)),
    (lambda v: ember.sparse.softmax(sp(v), 1).to_dense(), (4,)),
    (lambda v: ember.sparse.softmax(sp(v), 0).to_dense(), (4,)),
    (lambda v: ember.sparse.log_softmax(sp(v), 1).to_dense(), (4,)),
    (lambda v: ember.sparse.softmax(hy(v), 1).to_dense(), (3, 3)),
    (lambda v: ember.sparse.log_softmax(hy(v), 0).to_dense(), (3, 3)),
    (lambda v: ember.sparse.sum(hy(v), 1).to_dense(), (3, 3)),
    (lambda v: ember.sparse.sum(hy(v), 0), (3, 3)),
    (lambda v: sp(v).to_dense(masked_grad=False) * 3.0, (4,)),
], ids=["t", "transpose", "softmax_dim1", "softmax_dim0", "log_softmax", "softmax_dense_dim",
        "log_softmax_hybrid", "sum_dense_dim", "sum_to_dense", "to_dense_unmasked"])
def test_gradients_match_finite_differences(fn, shape):
    assert gradcheck(fn, (_v(*shape),))


def test_softmax_leaves_absent_entries_out():
    s = ember.sparse.softmax(sp(ember.tensor([1.0, 2.0, 3.0, 4.0])), 1)
    assert s.is_coalesced() and s._indices().tolist() == [[0, 1, 1], [2, 0, 1]]
    e = np.exp([2.0, 3.0])
    np.testing.assert_allclose(s._values().numpy(), [1.0, *(e / e.sum())], rtol=1e-6)


def test_transpose_and_index_select_entries():
    a = sp(ember.tensor([1.0, 2.0, 3.0, 4.0]))
    t = a.t()
    assert not t.is_coalesced() and t._indices().tolist() == [[2, 0, 1, 2], [0, 1, 1, 0]]
    # 4 entries and 3 positions: torch's loop over positions, then entries in stored order
    r = a.index_select(0, ember.tensor([1, 0, 1]))
    assert r._indices().tolist() == [[0, 0, 1, 1, 2, 2], [0, 1, 2, 2, 0, 1]]
    assert r._values().tolist() == [2.0, 3.0, 1.0, 4.0, 2.0, 3.0]
    # 2 entries and 3 positions: the loop over entries goes outside
    c = ember.sparse_coo_tensor([[2, 3], [0, 0]], [5.0, 6.0], (4, 1)).coalesce()
    r = c.index_select(1, ember.tensor([0, 0, 0]))
    assert r._indices().tolist() == [[2, 2, 2, 3, 3, 3], [0, 1, 2, 0, 1, 2]]


def test_narrow_copy_and_index_select_refuse_backward():
    a = sp(ember.tensor([1.0, 2.0, 3.0, 4.0])).requires_grad_()
    for out, op in ((a.narrow_copy(1, 1, 2), "as_strided"),
                    (a.index_select(1, ember.tensor([2, 0])), "index_add_")):
        with pytest.raises(NotImplementedError, match=f"'aten::{op}'"):
            out.to_dense().sum().backward()
