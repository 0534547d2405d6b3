"""The fast paths inside the notes' ops (one-pass id checks, BLAS per-channel sums, flat
target positions) give the results and errors of the straightforward code they replace."""

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F
from ember.nn._functions.embedding import check_indices
from tests.helpers import assert_close


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)


# --- id checks -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["i4", "i8", ">i8", ">i4"])
def test_embedding_ids_of_every_integer_dtype_are_checked(dtype):
    check_indices(np.array([0, 3, 4], dtype), 5)
    check_indices(np.array([], dtype), 5)
    with pytest.raises(IndexError, match=r"got 5, num_embeddings=5\)"):
        check_indices(np.array([0, 5, 2], dtype), 5)
    with pytest.raises(IndexError, match=r"got -2, num_embeddings=5\)"):
        check_indices(np.array([1, -2, 9], dtype), 5)  # the negative id is named first
    with pytest.raises(IndexError, match=r"got -1,"):
        check_indices(np.array(-1, dtype), 5)


@pytest.mark.parametrize("dtype", ["i1", "i2", "u1", "u2", "u4", "u8", ">u4"])
def test_embedding_ids_other_than_int64_and_int32_are_refused(dtype):
    # torch's embedding takes Long and Int ids only
    with pytest.raises(RuntimeError, match="scalar types: Long, Int; but got"):
        check_indices(np.array([0, 3, 4], dtype), 5)


def test_embedding_int32_ids_look_up_and_train():
    emb = nn.Embedding(6, 3)
    ids = np.array([[5, 0], [5, 2]], np.int32)
    out = emb(ember.from_numpy(ids))
    assert_close(out, emb.weight.detach().numpy()[ids])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 0], [1, 0, 1, 0, 0, 2])


# --- cross entropy -------------------------------------------------------------------------
def _logits(n, c, *rest):
    return ember.randn(n, c, *rest, requires_grad=True)


def _ce_reference(x, t, ignore_index=-100):
    """mean over counted rows of -log softmax(x)[t], and its gradient, in float64."""
    x = x.astype(np.float64)
    logp = x - x.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    keep = t != ignore_index
    rows = np.flatnonzero(keep)
    loss = -logp[rows, t[rows]].sum() / keep.sum()
    grad = np.exp(logp) * keep[:, None]
    grad[rows, t[rows]] -= 1
    return loss, grad / keep.sum()


@pytest.mark.parametrize("ignore_index", [-100, 0, 2, 7])
def test_cross_entropy_with_ignore_index_inside_or_outside_the_classes(ignore_index):
    x = _logits(6, 5)
    t = np.array([2, 0, 4, 2, 1, 3])
    loss = F.cross_entropy(x, ember.from_numpy(t), ignore_index=ignore_index)
    loss.backward()
    want, grad = _ce_reference(x.detach().numpy(), t, ignore_index)
    assert_close(loss, np.float32(want))
    assert_close(x.grad, grad.astype(np.float32))


def test_cross_entropy_rows_of_a_spatial_input_pick_their_own_target():
    x = _logits(2, 4, 3)
    t = np.array([[0, 3, 1], [2, 2, 0]])
    loss = F.cross_entropy(x, ember.from_numpy(t), reduction="sum")
    loss.backward()
    rows = np.moveaxis(x.detach().numpy(), 1, -1).reshape(-1, 4)
    want, grad = _ce_reference(rows, t.reshape(-1))
    assert_close(loss, np.float32(want * 6))
    assert_close(x.grad, np.moveaxis((grad * 6).reshape(2, 3, 4), -1, 1).astype(np.float32))


@pytest.mark.parametrize("bad", [5, -1, -100 + 1])
def test_cross_entropy_target_out_of_bounds_is_named(bad):
    x = _logits(3, 5)
    with pytest.raises(IndexError, match=f"Target {bad} is out of bounds."):
        F.cross_entropy(x, ember.tensor([1, bad, 0]))


def test_cross_entropy_backward_twice_on_a_retained_graph_is_the_same():
    x = _logits(4, 3)
    loss = F.cross_entropy(x, ember.tensor([0, 2, 1, 2]))
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)


# --- batch norm ----------------------------------------------------------------------------
def _bn_reference(x, w, b, g):
    """Training-mode batch norm over axis 0 and its input gradient, in float64."""
    x, g = x.astype(np.float64), g.astype(np.float64)
    mean, var = x.mean(0), x.var(0)
    xhat = (x - mean) / np.sqrt(var + 1e-5)
    gx = w / np.sqrt(var + 1e-5) * (g - g.mean(0) - xhat * (g * xhat).mean(0))
    return xhat * w + b, gx, (g * xhat).sum(0), g.sum(0), mean, var * len(x) / (len(x) - 1)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_batch_norm_2d_matches_the_formulas_across_batch_sizes(dtype):
    bn = nn.BatchNorm1d(4).to(dtype)
    with ember.no_grad():
        bn.weight.copy_(ember.tensor([1.0, -2.0, 0.5, 3.0]))
        bn.bias.copy_(ember.tensor([0.0, 1.0, -1.0, 2.0]))
    for n in (7, 3, 7):  # the per-size vectors the sums use are kept between calls
        bn.zero_grad()
        bn.reset_running_stats()
        x = (ember.randn(n, 4, dtype=dtype) * 3 + 1).requires_grad_()
        g = ember.randn(n, 4, dtype=dtype)
        got = bn(x)
        got.backward(g)
        w, b = bn.weight.detach().numpy(), bn.bias.detach().numpy()
        out, gx, gw, gb, mean, var = _bn_reference(x.detach().numpy(), w, b, g.numpy())
        tol = dict(rtol=1e-5, atol=1e-5) if dtype == ember.float32 else {}
        assert_close(got.detach().numpy().astype(np.float64), out, **tol)
        assert_close(x.grad.numpy().astype(np.float64), gx, **tol)
        assert_close(bn.weight.grad.numpy().astype(np.float64), gw, **tol)
        assert_close(bn.bias.grad.numpy().astype(np.float64), gb, **tol)
        assert_close(bn.running_mean.numpy().astype(np.float64), 0.1 * mean, **tol)
        assert_close(bn.running_var.numpy().astype(np.float64), 0.9 + 0.1 * var, **tol)
