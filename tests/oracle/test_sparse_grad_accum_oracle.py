"""Two sparse gradients meeting at one tensor, against torch: one Embedding(sparse=True)
weight used several times in one graph (torch's input buffer adds ``new + old``), sparse
gradients accumulated into ``.grad`` over backward calls (torch's in-place ``add_``), two
``sparse.mm`` / ``to_dense`` / ``sparse.sum`` uses of one sparse leaf, and ``create_graph``.
Each case compares ``is_coalesced()``, the stored indices (order included) and values."""
import numpy as np
import pytest

import ember
from tests.helpers import assert_close

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.filterwarnings("ignore:Sparse invariant checks"),
              pytest.mark.filterwarnings("ignore:Using backward.. with create_graph")]


def _emb(lib, n=6, dim=2):
    emb = lib.nn.Embedding(n, dim, sparse=True)
    with lib.no_grad():
        emb.weight.copy_(lib.arange(float(n * dim)).reshape(n, dim))
    return emb


def _w(lib, rows):
    return lib.arange(1.0, 2.0 * rows + 1).reshape(rows, 2)


def _ids(lib, ids):
    return lib.tensor(ids)


def _weighted(lib, emb, ids):
    out = emb(_ids(lib, ids))
    return (out * _w(lib, len(ids))).sum()


def twice_weighted(lib):
    emb = _emb(lib)
    (_weighted(lib, emb, [3, 1, 3]) + _weighted(lib, emb, [0, 3])).backward()
    return emb.weight.grad


def twice_mean(lib):
    emb = _emb(lib)
    (emb(_ids(lib, [3, 1, 3])).mean() + emb(_ids(lib, [0, 3])).mean()).backward()
    return emb.weight.grad


def twice_linear(lib):
    emb = _emb(lib)
    head = lib.tensor([[1.0], [-2.0]])
    ((emb(_ids(lib, [3, 1, 3])) @ head).sum() + (emb(_ids(lib, [0, 3])) @ head).sum()).backward()
    return emb.weight.grad


def thrice_single_ids(lib):
    emb = _emb(lib)
    (_weighted(lib, emb, [3]) + _weighted(lib, emb, [1]) + _weighted(lib, emb, [3])).backward()
    return emb.weight.grad


def accumulate_two_calls(lib):
    emb = _emb(lib)
    _weighted(lib, emb, [4, 2]).backward()
    g = emb.weight.grad
    _weighted(lib, emb, [0, 2]).backward()
    assert emb.weight.grad is g  # in place, as torch
    return g


def accumulate_single_ids(lib):
    emb = _emb(lib)
    _weighted(lib, emb, [2]).backward()
    _weighted(lib, emb, [0]).backward()
    return emb.weight.grad


def accumulate_three_calls(lib):
    emb = _emb(lib)
    for ids in ([1, 2, 5, 2], [1, 2, 5], [5, 0]):
        _weighted(lib, emb, ids).backward()
    return emb.weight.grad


def transposed_view_twice(lib):
    emb = _emb(lib)
    m = lib.arange(1.0, 10.0).reshape(3, 3)
    x, y = emb(_ids(lib, [3, 1, 3])), emb(_ids(lib, [0, 3, 2]))
    ((x.t() @ m).sum() + (y.t() @ m).sum()).backward()
    (emb(_ids(lib, [5, 1, 3])).t() @ m).sum().backward()
    return emb.weight.grad


def bag_twice(lib):
    bag = lib.nn.EmbeddingBag(6, 2, mode="sum", sparse=True)
    (bag(_ids(lib, [[3, 1]])).sum() + bag(_ids(lib, [[0, 3]])).sum()).backward()
    return bag.weight.grad


def _leaf(lib, coalesce):
    s = lib.sparse_coo_tensor([[1, 0, 1, 0], [0, 2, 1, 2]], [1.0, 2.0, 3.0, 4.0], (2, 3))
    return (s.coalesce() if coalesce else s).requires_grad_()


def _dense(lib):
    return lib.tensor([[1.0, -2.0], [0.5, 3.0], [-1.5, 2.5]])


@pytest.fixture(params=[False, True], ids=["uncoalesced_leaf", "coalesced_leaf"])
def coalesce(request):
    return request.param


def mm_once(lib, coalesce):
    s = _leaf(lib, coalesce)
    lib.sparse.mm(s, _dense(lib)).sum().backward()
    return s.grad


def mm_twice_one_graph(lib, coalesce):
    s = _leaf(lib, coalesce)
    d = _dense(lib)
    (lib.sparse.mm(s, d).sum() + lib.sparse.mm(s, d * 2).sum()).backward()
    return s.grad


def mm_two_calls(lib, coalesce):
    s = _leaf(lib, coalesce)
    for _ in range(2):
        lib.sparse.mm(s, _dense(lib)).sum().backward()
    return s.grad


def to_dense_twice(lib, coalesce):
    s = _leaf(lib, coalesce)
    (s.to_dense().sum() + (s.to_dense() * 3).sum()).backward()
    return s.grad


def sparse_sum_then_mm(lib, coalesce):
    # sparse.sum's gradient is an expanded (stride-0) tensor in torch: additions concatenate
    s = _leaf(lib, coalesce)
    (lib.sparse.sum(s) + lib.sparse.mm(s, _dense(lib)).sum()).backward()
    lib.sparse.sum(s).backward()
    return s.grad


def mm_then_sparse_sum(lib, coalesce):
    s = _leaf(lib, coalesce)
    lib.sparse.sum(s).backward()
    lib.sparse.mm(s, _dense(lib)).sum().backward()
    return s.grad


def sparse_sum_growth(lib, coalesce):
    # concatenation stops when nnz exceeds the element count: torch coalesces then
    t = lib.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (2,)).requires_grad_()
    for _ in range(3):
        lib.sparse.sum(t).backward()
    t2 = lib.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (2,)).requires_grad_()
    (lib.sparse.sum(t2) + lib.sparse.sum(t2) + lib.sparse.sum(t2 * 2)).backward()
    return lib.sparse_coo_tensor(lib.cat([t.grad._indices(), t2.grad._indices()], 1),
                                 lib.cat([t.grad._values(), t2.grad._values()]), (2,),
                                 is_coalesced=t.grad.is_coalesced() and t2.grad.is_coalesced())


def zeroed_then_mm(lib, coalesce):
    # an emptied .grad (zero_grad(set_to_none=False) zeroes it): the next gradient keeps its
    # coalesced mark
    s = _leaf(lib, coalesce)
    lib.sparse.mm(s, _dense(lib)).sum().backward()
    s.grad.zero_()
    assert s.grad._nnz() == 0
    lib.sparse.mm(s, _dense(lib)).sum().backward()
    return s.grad


def create_graph_twice(lib):
    emb = _emb(lib)
    (_weighted(lib, emb, [3, 1]) + _weighted(lib, emb, [0, 3])).backward(create_graph=True)
    _weighted(lib, emb, [2, 4]).backward(create_graph=True)
    return emb.weight.grad


EMBEDDING_CASES = [twice_weighted, twice_mean, twice_linear, thrice_single_ids,
                   accumulate_two_calls, accumulate_single_ids, accumulate_three_calls,
                   transposed_view_twice, bag_twice, create_graph_twice]
LEAF_CASES = [mm_once, mm_twice_one_graph, mm_two_calls, to_dense_twice, sparse_sum_then_mm,
              mm_then_sparse_sum, sparse_sum_growth, zeroed_then_mm]


def _check(got, want):
    assert got.is_sparse and want.is_sparse
    assert got.is_coalesced() == want.is_coalesced()
    assert got._indices().tolist() == want._indices().tolist()
    assert_close(got._values(), want._values(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", EMBEDDING_CASES, ids=lambda f: f.__name__)
def test_embedding_gradients_meet_as_torch(case):
    _check(case(ember), case(torch))


@pytest.mark.parametrize("case", LEAF_CASES, ids=lambda f: f.__name__)
def test_sparse_leaf_gradients_meet_as_torch(case, coalesce):
    _check(case(ember, coalesce), case(torch, coalesce))


def test_hook_sees_torch_raw_gradient_flags():
    """The gradient a leaf's hook gets (before ``.grad`` re-marks it) is torch's: coalesced
    from sparse.mm and to_dense, uncoalesced (2+ ids) from an embedding."""
    def raw(lib):
        seen = []
        s = _leaf(lib, False)
        s.register_hook(lambda g: seen.append((g.is_coalesced(), g._indices().tolist())))
        lib.sparse.mm(s, _dense(lib)).sum().backward()
        s.to_dense().sum().backward()
        emb = _emb(lib)
        emb.weight.register_hook(lambda g: seen.append((g.is_coalesced(), g._indices().tolist())))
        _weighted(lib, emb, [4, 2]).backward()
        _weighted(lib, emb, [1]).backward()
        return seen

    assert raw(ember) == raw(torch)


def test_sparse_adds_follow_value_layout():
    """User-level sparse + sparse: merged when both values are contiguous, concatenated when
    one is a transposed or expanded view (torch's ``add_out_sparse_non_contiguous``)."""
    def run(lib):
        b = lib.sparse_coo_tensor([[1, 3]], lib.ones(2, 2), (4, 2))
        tv = lib.sparse_coo_tensor([[2, 0, 1]], lib.tensor([[1.0, 2, 3], [4, 5, 6]]).t(), (4, 2))
        ex = lib.sparse_coo_tensor([[2, 0, 1]], lib.ones(1, 2).expand(3, 2), (4, 2))
        cv = lib.sparse_coo_tensor([[2, 0, 1]], lib.tensor([[1.0, 4], [2, 5], [3, 6]]), (4, 2))
        return [tv + b, b + tv, lib.add(ex, b, alpha=2), cv + b, cv.coalesce() + b.coalesce()]

    for got, want in zip(run(ember), run(torch)):
        _check(got, want)


def test_values_match_dense_sum():
    """Whatever the layout, a gradient's dense form is the dense gradient's."""
    for case in EMBEDDING_CASES:
        assert_close(case(ember).to_dense(), case(torch).to_dense(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(mm_twice_one_graph(ember, True).to_dense().numpy(),
                                  mm_twice_one_graph(torch, True).to_dense().numpy())
