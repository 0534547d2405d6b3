"""Sparse embedding gradients without torch: what backward leaves in ``.grad`` (one entry per
id, padding left out), how a second backward and a dense gradient accumulate, and what the
optimizers do with them (hand-computed values; tests/oracle/test_sparse_oracle.py compares
with torch itself)."""
import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.nn import functional as F

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

IDS = [[1, 2, 5], [2, 1, 0]]


def table(n=6, dim=2, seed=0, dtype=np.float32):
    return ember.tensor(np.random.RandomState(seed).randn(n, dim).astype(dtype))


def grad_of(emb, ids=IDS, weights=None):
    out = emb(ember.tensor(ids))
    w = ember.arange(float(out.numel())).reshape(out.shape) if weights is None else weights
    (out * w).sum().backward()
    return emb.weight.grad


def test_embedding_grad_is_one_entry_per_id_in_input_order():
    g = grad_of(nn.Embedding(6, 2, sparse=True))
    assert g.is_sparse and not g.is_coalesced() and g.grad_fn is None
    assert g._indices().tolist() == [[1, 2, 5, 2, 1, 0]]
    np.testing.assert_array_equal(g._values().numpy(), np.arange(12.0).reshape(6, 2))
    dense = nn.Embedding.from_pretrained(table(), freeze=False)
    grad_of(dense)
    np.testing.assert_array_equal(g.to_dense().numpy(), dense.weight.grad.numpy())


def test_padding_ids_are_left_out_and_scale_grad_by_freq_is_refused():
    g = grad_of(nn.Embedding(6, 2, sparse=True, padding_idx=2))
    assert g._indices().tolist() == [[1, 5, 1, 0]]
    np.testing.assert_array_equal(g._values().numpy(), [[0, 1], [4, 5], [8, 9], [10, 11]])
    emb = nn.Embedding(6, 2, sparse=True, scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match="^embedding_backward: scale_grad_by_freq not "
                                           "supported with sparse gradients$"):
        grad_of(emb)


def test_single_id_and_no_ids():
    emb = nn.Embedding(6, 2, sparse=True)
    g = grad_of(emb, ids=3)
    assert g.is_coalesced() and g._indices().tolist() == [[3]]
    emb.weight.grad = None
    emb(ember.tensor([], dtype=ember.int64)).sum().backward()
    assert emb.weight.grad._nnz() == 0 and emb.weight.grad.shape == (6, 2)


def test_max_norm_renormalises_and_still_gives_sparse_grads():
    emb = nn.Embedding.from_pretrained(table() * 10, freeze=False, max_norm=1.0, sparse=True)
    g = grad_of(emb)
    norms = np.linalg.norm(emb.weight.detach().numpy()[[0, 1, 2, 5]], axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)
    assert g._indices().tolist() == [[1, 2, 5, 2, 1, 0]]


def test_functional_embedding_and_autograd_grad():
    w = table().requires_grad_()
    out = F.embedding(ember.tensor(IDS), w, sparse=True)
    assert out.grad_fn.name() == "EmbeddingBackward0"
    (g,) = ember.autograd.grad(out.sum(), w)
    assert g.is_sparse and g._indices().tolist() == [[1, 2, 5, 2, 1, 0]]


def test_embedding_bag_sparse_grads():
    bag = nn.EmbeddingBag(6, 2, mode="mean", sparse=True, padding_idx=2)
    out = bag(ember.tensor([1, 2, 5, 2, 1, 0]), ember.tensor([0, 2]))
    (out * ember.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    g = bag.weight.grad
    assert g._indices().tolist() == [[1, 5, 1, 0]]  # the padding ids left out, as torch
    np.testing.assert_allclose(g._values().numpy(), [[1, 2], [1, 4 / 3], [1, 4 / 3], [1, 4 / 3]])
    summed = nn.EmbeddingBag(6, 2, mode="sum", sparse=True)
    summed(ember.tensor(IDS), per_sample_weights=ember.arange(6.0).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(summed.weight.grad._values().numpy()[:, 0], np.arange(6.0))
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        F.embedding_bag(ember.tensor(IDS), table(), mode="max", sparse=True)


def test_second_backward_appends_to_the_same_grad():
    emb = nn.Embedding(6, 2, sparse=True)
    g = grad_of(emb)
    grad_of(emb, ids=[1, 2, 5], weights=ember.ones(3, 2))
    assert emb.weight.grad is g and not g.is_coalesced()
    # torch's in-place add merges the two entry lists (their values are contiguous): the
    # heads 1, 2, 5 meet equal ids and are summed there (as torch 2.13 computes)
    assert g._indices().tolist() == [[1, 2, 5, 2, 1, 0]]
    assert g._values().tolist() == [[1, 2], [3, 4], [5, 6], [6, 7], [8, 9], [10, 11]]


def test_sparse_and_dense_gradients_meet_as_torch():
    emb = nn.Embedding(6, 2, sparse=True)
    head = nn.Linear(2, 6, bias=False)
    head.weight = emb.weight  # tied: a sparse and a dense gradient in one backward
    head(emb(ember.tensor(IDS))).sum().backward()
    assert not emb.weight.grad.is_sparse
    emb2 = nn.Embedding.from_pretrained(emb.weight.detach(), freeze=False)
    head.weight = emb2.weight
    head(emb2(ember.tensor(IDS))).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy(), emb2.weight.grad.numpy(), rtol=1e-6)
    # sparse first, then dense: .grad becomes a new dense tensor
    emb = nn.Embedding(6, 2, sparse=True)
    g = grad_of(emb)
    emb.weight.sum().backward()
    assert not emb.weight.grad.is_sparse and g.is_sparse
    np.testing.assert_array_equal(emb.weight.grad.numpy(), g.to_dense().numpy() + 1)
    # dense first, then sparse: added into the dense .grad in place
    dense = emb.weight.grad
    grad_of(emb)
    assert emb.weight.grad is dense


def test_hooks_see_the_sparse_gradient():
    emb = nn.Embedding(6, 2, sparse=True)
    seen = []
    emb.weight.register_hook(lambda g: seen.append(g.layout))
    emb.weight.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad._nnz()))
    grad_of(emb)
    assert seen == [ember.sparse_coo, 6]


def test_zero_grad_without_set_to_none_empties_the_sparse_grad():
    emb = nn.Embedding(6, 2, sparse=True)
    opt = optim.SGD(emb.parameters(), lr=0.1)
    g = grad_of(emb)
    opt.zero_grad(set_to_none=False)
    assert emb.weight.grad is g and g._nnz() == 0 and g.is_coalesced()
    grad_of(emb)
    assert emb.weight.grad is g and g._nnz() == 6


def test_sgd_moves_only_the_looked_up_rows():
    w0 = table()
    emb = nn.Embedding.from_pretrained(w0.clone(), freeze=False, sparse=True)
    opt = optim.SGD(emb.parameters(), lr=0.5)
    g = grad_of(emb).to_dense().numpy()
    opt.step()
    np.testing.assert_allclose(emb.weight.detach().numpy(), w0.numpy() - 0.5 * g, rtol=1e-6)
    assert np.array_equal(emb.weight.detach().numpy()[[3, 4]], w0.numpy()[[3, 4]])


def test_sgd_momentum_buffer_is_sparse():
    emb = nn.Embedding.from_pretrained(table(), freeze=False, sparse=True)
    opt = optim.SGD(emb.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        grad_of(emb)
        opt.step()
    buf = opt.state[emb.weight]["momentum_buffer"]
    assert buf.is_sparse
    g = np.zeros((6, 2))
    np.add.at(g, [1, 2, 5, 2, 1, 0], np.arange(12.0).reshape(6, 2))
    np.testing.assert_allclose(buf.to_dense().numpy(), 1.9 * g, rtol=1e-6)


def test_adagrad_and_sparse_adam_touch_only_gradient_rows():
    for make in (lambda p: optim.Adagrad(p, lr=0.1), lambda p: optim.SparseAdam(p, lr=0.1)):
        w0 = table()
        emb = nn.Embedding.from_pretrained(w0.clone(), freeze=False, sparse=True)
        opt = make(emb.parameters())
        grad_of(emb)
        opt.step()
        after = emb.weight.detach().numpy()
        assert np.array_equal(after[[3, 4]], w0.numpy()[[3, 4]])
        assert not np.allclose(after[[1, 2, 5]], w0.numpy()[[1, 2, 5]])


@pytest.mark.parametrize("name, message", [
    ("Adam", "Adam does not support sparse gradients, please consider SparseAdam instead"),
    ("AdamW", "Adam does not support sparse gradients, please consider SparseAdam instead"),
    ("RMSprop", "RMSprop does not support sparse gradients"),
    ("Adadelta", "Adadelta does not support sparse gradients"),
    ("Adamax", "Adamax does not support sparse gradients"),
    ("NAdam", "NAdam does not support sparse gradients"),
    ("RAdam", "RAdam does not support sparse gradients"),
    ("ASGD", "ASGD does not support sparse gradients"),
    ("Rprop", "Rprop does not support sparse gradients"),
])
def test_other_optimizers_refuse_sparse_gradients_before_any_change(name, message):
    w0 = table()
    emb = nn.Embedding.from_pretrained(w0.clone(), freeze=False, sparse=True)
    opt = getattr(optim, name)(emb.parameters())
    grad_of(emb)
    with pytest.raises(RuntimeError, match=f"^{message}$"):
        opt.step()
    np.testing.assert_array_equal(emb.weight.detach().numpy(), w0.numpy())


def test_sgd_and_adagrad_refuse_weight_decay_with_sparse_gradients():
    emb = nn.Embedding(6, 2, sparse=True)
    grad_of(emb)
    with pytest.raises(RuntimeError, match=r"^add\(sparse, dense\) is not supported"):
        optim.SGD(emb.parameters(), lr=0.1, weight_decay=0.1).step()
    with pytest.raises(RuntimeError, match="^weight_decay option is not compatible with sparse "
                                           "gradients$"):
        optim.Adagrad(emb.parameters(), weight_decay=0.1).step()


def test_clip_grad_refuses_sparse_gradients():
    emb = nn.Embedding(6, 2, sparse=True)
    grad_of(emb)
    with pytest.raises(NotImplementedError, match="'aten::linalg_vector_norm' with arguments "
                                                  "from the 'SparseCPU' backend"):
        nn.utils.clip_grad_norm_(emb.parameters(), 1.0)
    with pytest.raises(NotImplementedError, match="'aten::clamp_min_'.*SparseCPU"):
        nn.utils.clip_grad_value_(emb.parameters(), 1.0)
