"""The notes' layers (Linear, Embedding, Dropout, BatchNorm1d) and their neighbours: behaviour,
train/eval, errors, init distributions. Oracle comparisons are in tests/oracle/."""

import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)


# --- Linear --------------------------------------------------------------------------------
def test_linear_shapes_and_bias_false():
    lin = nn.Linear(4, 3)
    assert lin.weight.shape == ember.Size([3, 4]) and lin.bias.shape == ember.Size([3])
    assert lin(ember.randn(5, 4)).shape == ember.Size([5, 3])
    assert lin(ember.randn(2, 5, 4)).shape == ember.Size([2, 5, 3])
    assert lin(ember.randn(4)).shape == ember.Size([3])
    nb = nn.Linear(4, 3, bias=False)
    assert nb.bias is None and [n for n, _ in nb.named_parameters()] == ["weight"]
    assert repr(nb) == "Linear(in_features=4, out_features=3, bias=False)"


def test_linear_is_one_node():
    out = nn.Linear(4, 3)(ember.randn(2, 4))
    assert out.grad_fn.name() == "AddmmBackward0"  # torch's name for the fused x @ W.T + b


def test_linear_init_range():
    lin = nn.Linear(50, 400)
    bound = 1 / math.sqrt(50)
    w = lin.weight.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound and w.max() > 0.95 * bound
    b = lin.bias.detach().numpy()
    assert b.min() >= -bound and b.max() <= bound


def test_linear_wrong_width_raises_torch_message():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(2x4 and 3x2\)"):
        nn.Linear(3, 2)(ember.randn(2, 4))


def test_linear_dtype_argument():
    lin = nn.Linear(2, 2, dtype=ember.float64)
    assert lin.weight.dtype == ember.float64
    assert lin(ember.randn(1, 2, dtype=ember.float64)).dtype == ember.float64


# --- Embedding -----------------------------------------------------------------------------
def test_embedding_lookup_and_init():
    emb = nn.Embedding(1000, 8)
    w = emb.weight.detach().numpy()
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05
    ids = ember.tensor([[1, 2], [3, 1]])
    out = emb(ids)
    assert out.shape == ember.Size([2, 2, 8])
    np.testing.assert_array_equal(out.detach().numpy()[0, 0], w[1])


def test_padding_row_starts_zero_and_stays_zero_after_sgd_step():
    emb = nn.Embedding(6, 3, padding_idx=0)
    np.testing.assert_array_equal(emb.weight.detach().numpy()[0], 0)
    ids = ember.tensor([[0, 1, 0], [2, 0, 5]])
    (emb(ids) ** 2).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[0], 0)
    with ember.no_grad():
        for p in emb.parameters():
            p -= 0.5 * p.grad
    np.testing.assert_array_equal(emb.weight.detach().numpy()[0], 0)
    assert emb.weight.grad.numpy()[1].any()


def test_negative_padding_idx_counts_from_end():
    emb = nn.Embedding(5, 2, padding_idx=-1)
    assert emb.padding_idx == 4
    np.testing.assert_array_equal(emb.weight.detach().numpy()[4], 0)
    assert repr(emb) == "Embedding(5, 2, padding_idx=4)"
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)


def test_embedding_repeated_ids_accumulate():
    emb = nn.Embedding(4, 2)
    ids = ember.tensor([1, 1, 1, 3])
    emb(ids).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy(),
                                  [[0, 0], [3, 3], [0, 0], [1, 1]])


def test_embedding_errors_name_the_bad_id():
    emb = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match=r"index out of range in self \(got 7, "
                                         r"num_embeddings=4\)"):
        emb(ember.tensor([0, 7]))
    with pytest.raises(IndexError, match=r"got -1"):
        emb(ember.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have "
                                           "one of the following scalar types: Long, Int; but "
                                           "got torch.FloatTensor instead"):
        emb(ember.tensor([0.0, 1.0]))


def test_embedding_max_norm_renormalises_in_place():
    emb = nn.Embedding(4, 3, max_norm=1.0)
    with ember.no_grad():
        emb.weight.mul_(10)
    before = emb.weight.detach().numpy().copy()
    out = emb(ember.tensor([1, 2]))
    w = emb.weight.detach().numpy()
    np.testing.assert_allclose(np.linalg.norm(w[[1, 2]], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(w[[0, 3]], before[[0, 3]])
    np.testing.assert_allclose(out.detach().numpy(), w[[1, 2]])


def test_embedding_from_pretrained_freezes_and_shares():
    table = ember.randn(5, 3)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(ember.tensor([2])).numpy()[0], table.numpy()[2])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad
    np.testing.assert_array_equal(trainable.weight.detach().numpy()[0], table.numpy()[0])


def test_embedding_scale_grad_by_freq():
    emb = nn.Embedding(3, 1, scale_grad_by_freq=True)
    emb(ember.tensor([1, 1, 2])).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy().ravel(), [0, 1, 1])


def test_embedding_sparse_gives_a_sparse_gradient():
    emb = nn.Embedding(3, 2, sparse=True)
    emb(ember.tensor([2, 0, 2])).sum().backward()
    g = emb.weight.grad
    assert g.is_sparse and g.layout is ember.sparse_coo
    np.testing.assert_array_equal(g._indices().numpy(), [[2, 0, 2]])
    np.testing.assert_array_equal(g.to_dense().numpy(), [[1, 1], [0, 0], [2, 2]])


# --- Dropout -------------------------------------------------------------------------------
def test_dropout_scales_survivors_and_zeroes_the_rest():
    d = nn.Dropout(0.25)
    x = ember.ones(200, 500)
    out = d(x).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.01
    assert abs(out.mean() - 1.0) < 0.02


def test_dropout_eval_is_identity_and_p_zero_returns_input():
    d = nn.Dropout(0.5)
    x = ember.randn(3, 4)
    assert d.eval()(x) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_p_one_zeroes_everything():
    out = F.dropout(ember.ones(3, 3), 1.0)
    assert float(out.abs().sum()) == 0.0


def test_dropout_bad_p_raises():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="but got -0.1"):
        F.dropout(ember.ones(2), -0.1)


def test_dropout_gradient_uses_the_same_mask():
    x = ember.ones(50, 40, requires_grad=True)
    out = F.dropout(x, 0.3)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())


def test_dropout_seeded_is_reproducible():
    ember.manual_seed(3)
    a = F.dropout(ember.ones(10, 10), 0.5).numpy()
    ember.manual_seed(3)
    b = F.dropout(ember.ones(10, 10), 0.5).numpy()
    np.testing.assert_array_equal(a, b)


def test_dropout_inplace():
    x = ember.ones(20, 20)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x and (x.numpy() == 0).any()


# --- BatchNorm1d ---------------------------------------------------------------------------
def test_batchnorm_train_uses_batch_stats_and_updates_running():
    bn = nn.BatchNorm1d(3)
    x = ember.randn(64, 3) * 2 + 5
    out = bn(x).detach().numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(0), 1, atol=1e-3)
    xa = x.numpy()
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * xa.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * xa.var(0, ddof=1), rtol=1e-5)
    assert int(bn.num_batches_tracked) == 1


def test_batchnorm_eval_uses_running_stats():
    bn = nn.BatchNorm1d(2)
    with ember.no_grad():
        bn.running_mean.copy_(ember.tensor([1.0, -1.0]))
        bn.running_var.copy_(ember.tensor([4.0, 0.25]))
        bn.weight.fill_(2.0)
        bn.bias.fill_(0.5)
    bn.eval()
    x = ember.tensor([[3.0, 0.0], [1.0, -1.0]])
    want = (x.numpy() - [1, -1]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5) * 2 + 0.5
    np.testing.assert_allclose(bn(x).detach().numpy(), want, rtol=1e-5)
    assert int(bn.num_batches_tracked) == 0


def test_batchnorm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [ember.randn(8, 2) + i for i in range(3)]
    for b in batches:
        bn(b)
    means = np.stack([b.numpy().mean(0) for b in batches])
    np.testing.assert_allclose(bn.running_mean.numpy(), means.mean(0), rtol=1e-5)
    assert int(bn.num_batches_tracked) == 3


def test_batchnorm_one_value_per_channel_raises_torch_error():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size torch.Size\(\[1, 4\]\)"):
        bn(ember.randn(1, 4))
    bn.eval()
    assert bn(ember.randn(1, 4)).shape == ember.Size([1, 4])


def test_batchnorm_input_rank_and_width_errors():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 1D input\)"):
        bn(ember.randn(4))
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        bn(ember.randn(2, 3))


def test_batchnorm_3d_input_and_no_tracking():
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert bn.running_mean is None and list(bn.state_dict()) == []
    x = ember.randn(4, 3, 5)
    out = bn(x).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2)), 0, atol=1e-5)
    bn.eval()  # no running stats: batch statistics in eval too
    np.testing.assert_allclose(bn(x).numpy(), out, rtol=1e-5)


def test_batchnorm_repr_and_bias_false():
    assert repr(nn.BatchNorm1d(4)) == ("BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, "
                                       "bias=True, track_running_stats=True)")
    bn = nn.BatchNorm1d(4, bias=False)
    assert bn.bias is None and bn(ember.randn(3, 4)).shape == ember.Size([3, 4])


# --- LayerNorm and activations -------------------------------------------------------------
def test_layernorm_normalises_last_dims_and_bias_false():
    ln = nn.LayerNorm(6)
    out = ln(ember.randn(3, 6) * 3 + 1).detach().numpy()
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(-1), 1, atol=1e-3)
    nb = nn.LayerNorm([2, 3], bias=False)
    assert nb.bias is None and [n for n, _ in nb.named_parameters()] == ["weight"]
    assert nb(ember.randn(4, 2, 3)).shape == ember.Size([4, 2, 3])
    assert repr(nn.LayerNorm(4)) == ("LayerNorm((4,), eps=1e-05, elementwise_affine=True, "
                                     "bias=True)")
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with "
                                           r"shape \[\*, 4\], but got input of size\[2, 3\]"):
        nn.LayerNorm(4)(ember.randn(2, 3))


@pytest.mark.parametrize("module, text", [
    (nn.ReLU(), "ReLU()"), (nn.ReLU(inplace=True), "ReLU(inplace=True)"),
    (nn.GELU(), "GELU(approximate='none')"), (nn.Softmax(dim=1), "Softmax(dim=1)"),
    (nn.LogSoftmax(dim=-1), "LogSoftmax(dim=-1)"), (nn.Tanh(), "Tanh()"),
    (nn.Sigmoid(), "Sigmoid()"), (nn.SiLU(), "SiLU()"),
    (nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
    (nn.Dropout(), "Dropout(p=0.5, inplace=False)"), (nn.Embedding(5, 3), "Embedding(5, 3)"),
    (nn.CrossEntropyLoss(), "CrossEntropyLoss()"),
])
def test_layer_reprs(module, text):
    assert repr(module) == text


def test_relu_inplace_modifies_input():
    x = ember.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(x) is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 2.0])


def test_softmax_without_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        F.softmax(ember.randn(2, 3))


# --- the notes' model ----------------------------------------------------------------------
def test_notes_model_trains_and_eval_is_deterministic():
    vocab, ctx, emb_dim, hidden = 12, 4, 5, 16
    model = nn.Sequential(nn.Embedding(vocab, emb_dim), nn.Flatten(),
                          nn.Linear(ctx * emb_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                          nn.Dropout(0.2), nn.Linear(hidden, vocab))
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.integers(0, vocab, (32, ctx)))
    y = ember.tensor(rng.integers(0, vocab, 32))
    losses = []
    for _ in range(60):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with ember.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    with ember.no_grad():
        a, b = model(x), model(x)
    assert a.grad_fn is None
    np.testing.assert_array_equal(a.numpy(), b.numpy())
