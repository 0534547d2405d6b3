"""Two sparse gradients meeting at one tensor, without torch (hand-computed from torch's rules;
tests/oracle/test_sparse_grad_accum_oracle.py compares with torch itself):

- in one backward, the newer gradient comes first (torch's input buffer adds ``new + old``);
- across backward calls, ``.grad`` adds in place (``.grad + new``);
- the sum merges both entry lists (coalesced when both are), unless a gradient's values are
  an expanded view (``sparse.sum``'s gradient): then the entries are concatenated;
- the first sparse gradient kept as ``.grad`` is re-marked uncoalesced (2+ entries), unless
  it had to be copied (its values or indices not contiguous).
"""
import numpy as np
import pytest

import ember
from ember import nn

pytestmark = [pytest.mark.filterwarnings("ignore:Sparse invariant checks"),
              pytest.mark.filterwarnings("ignore:Using backward.. with create_graph")]


def _emb():
    emb = nn.Embedding(6, 2, sparse=True)
    with ember.no_grad():
        emb.weight.copy_(ember.arange(12.0).reshape(6, 2))
    return emb


def _loss(emb, ids, scale=1.0):
    out = emb(ember.tensor(ids))
    return (out * ember.full(out.shape, scale)).sum()


def test_one_graph_adds_new_then_old_by_merging():
    emb = _emb()
    # [0, 3]'s gradient arrives first (created last); [3, 1, 3]'s is added in front of it
    (_loss(emb, [3, 1, 3]) + _loss(emb, [0, 3], 2.0)).backward()
    g = emb.weight.grad
    assert not g.is_coalesced()
    assert g._indices().tolist() == [[0, 3, 1, 3]]
    assert g._values().tolist() == [[2, 2], [3, 3], [1, 1], [1, 1]]


def test_single_ids_merge_into_a_coalesced_gradient():
    emb = _emb()
    _loss(emb, [2]).backward()
    _loss(emb, [0], 3.0).backward()
    g = emb.weight.grad
    assert g.is_coalesced() and g._indices().tolist() == [[0, 2]]
    assert g._values().tolist() == [[3, 3], [1, 1]]


def test_first_gradient_is_kept_and_remarked():
    s = ember.sparse_coo_tensor([[0, 1, 1], [2, 0, 1]], [1.0, 2.0, 3.0], (2, 3))
    s = s.coalesce().requires_grad_()
    seen = []
    s.register_hook(lambda g: seen.append(g.is_coalesced()))
    ember.sparse.mm(s, ember.ones(3, 2)).sum().backward()
    assert seen == [True] and not s.grad.is_coalesced()  # torch's _sparse_coo_tensor_unsafe
    s.grad = None
    d = ember.ones(3, 2)
    # two mm gradients merged in one graph: indices narrowed to 3 of 6 slots (a view), so
    # .grad is a copy that keeps the coalesced mark
    (ember.sparse.mm(s, d).sum() + ember.sparse.mm(s, d * 2).sum()).backward()
    assert s.grad.is_coalesced() and s.grad._values().tolist() == [6.0, 6.0, 6.0]


def test_expanded_gradients_concatenate():
    s = ember.sparse_coo_tensor([[0, 1, 1], [2, 0, 1]], [1.0, 2.0, 3.0], (2, 3))
    s = s.requires_grad_()
    d = ember.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (ember.sparse.sum(s) + ember.sparse.mm(s, d).sum()).backward()
    g = s.grad
    assert not g.is_coalesced()
    assert g._indices().tolist() == [[0, 1, 1, 0, 1, 1], [2, 0, 1, 2, 0, 1]]
    assert g._values().tolist() == [1.0, 1.0, 1.0, 11.0, 3.0, 7.0]


def test_concatenation_stops_at_the_element_count():
    t = ember.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (2,)).requires_grad_()
    for _ in range(3):
        ember.sparse.sum(t).backward()
    g = t.grad
    assert g._nnz() == 2 and not g.is_coalesced()  # coalesced once nnz exceeded 2
    np.testing.assert_array_equal(g.to_dense().numpy(), [3.0, 3.0])


def test_create_graph_accumulation_matches_plain_values():
    emb = _emb()
    (_loss(emb, [3, 1]) + _loss(emb, [0, 3])).backward(create_graph=True)
    g = emb.weight.grad
    # the incoming gradients hold no graph, so neither does .grad (as torch)
    assert g.grad_fn is None and g._indices().tolist() == [[0, 3, 1]]
    assert g._values().tolist() == [[1, 1], [2, 2], [1, 1]]
