"""Regressions for what the layer fuzzer (``tests/oracle/test_fuzz_layers_oracle.py``) found,
minimised, with expected values worked out by hand from torch's CPU kernels."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.nn import functional as F


def _table(rows=7, dim=2):
    return ember.tensor(np.arange(rows * dim, dtype=np.float64).reshape(rows, dim),
                        requires_grad=True)


@pytest.mark.parametrize("mode,expected", [("sum", 58.0), ("mean", 58.0 / 7), ("max", 12.0)])
def test_bag_include_last_offset_short_last_offset(mode, expected):
    # torch reads only the first len(offsets) - 1 offsets: the last bag runs to the end
    w = _table()
    out = F.embedding_bag(ember.tensor([5, 2, 6, 6, 4, 2, 4]), w, ember.tensor([0, 2]),
                          mode=mode, include_last_offset=True)
    assert out.shape == (1, 2)
    assert out[0, 0].item() == pytest.approx(expected)


def test_bag_include_last_offset_empty_middle_bag():
    w = _table()
    out = F.embedding_bag(ember.tensor([1, 2, 3, 4]), w, ember.tensor([0, 2, 2, 3]),
                          mode="sum", include_last_offset=True)
    np.testing.assert_allclose(out.detach().numpy()[:, 0], [6.0, 0.0, 14.0])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_bag_short_last_offset_gradcheck(mode):
    rng = np.random.default_rng(0)
    w = ember.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    ids, offsets = ember.tensor([4, 0, 2, 2, 1]), ember.tensor([0, 1, 2])
    if mode == "sum":
        psw = ember.tensor(rng.standard_normal(5), requires_grad=True)
        assert gradcheck(lambda a, p: F.embedding_bag(ids, a, offsets, mode=mode,
                                                      per_sample_weights=p,
                                                      include_last_offset=True), (w, psw))
    else:
        assert gradcheck(lambda a: F.embedding_bag(ids, a, offsets, mode=mode,
                                                   include_last_offset=True), (w,))


@pytest.mark.parametrize("bag", [False, True])
def test_max_norm_renormalises_rows_before_a_bad_id(bag):
    # torch renormalises the sorted distinct ids one by one and fails at the first bad one
    w = ember.tensor([[3.0, 4.0]] * 4)
    with pytest.raises(IndexError, match="index 5 out of range"):
        if bag:
            F.embedding_bag(ember.tensor([0, 2, 5, 1]), w, ember.tensor([0]), max_norm=1.0)
        else:
            F.embedding(ember.tensor([0, 2, 5, 1]), w, max_norm=1.0)
    np.testing.assert_allclose(w.numpy(), [[0.6, 0.8]] * 3 + [[3.0, 4.0]], rtol=1e-6)


def test_max_norm_renormalises_before_the_negative_id_error():
    w = ember.tensor([[3.0, 4.0]] * 4)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(ember.tensor([-1, 2]), w, max_norm=1.0)
    # -1 selects the last row in embedding_renorm_, then the lookup refuses it
    np.testing.assert_allclose(w.numpy()[:, 0], [3.0, 3.0, 0.6, 0.6], rtol=1e-6)


def test_max_norm_negative_padding_idx_checked_before_renorm():
    w = ember.tensor([[3.0, 4.0]] * 4)
    with pytest.raises(AssertionError):
        F.embedding(ember.tensor([0]), w, padding_idx=-5, max_norm=1.0)
    np.testing.assert_array_equal(w.numpy(), [[3.0, 4.0]] * 4)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_bag_backward_after_weight_update(mode):
    # the weight is saved only for per_sample_weights' gradient: an optimizer step (or a
    # max_norm renorm) between forward and backward is fine, as in torch
    bag = ember.nn.EmbeddingBag(5, 2, mode=mode)
    out = bag(ember.tensor([[0, 1, 1], [2, 4, 1]]))
    with ember.no_grad():
        bag.weight.mul_(2.0)
    out.sum().backward()
    expected = np.zeros(5)
    if mode == "max":
        assert bag.weight.grad.numpy().sum() == pytest.approx(4.0)
    else:
        np.add.at(expected, [0, 1, 1, 2, 4, 1], 1.0 if mode == "sum" else 1 / 3)
        np.testing.assert_allclose(bag.weight.grad.numpy()[:, 0], expected)


def test_bag_per_sample_weights_gradient_checks_weight_version():
    w = ember.randn(5, 2, requires_grad=True)
    psw = ember.ones(4, requires_grad=True)
    out = F.embedding_bag(ember.tensor([0, 1, 2, 1]), w, ember.tensor([0, 2]), mode="sum",
                          per_sample_weights=psw)
    with ember.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("loss", ["embedding", "nll_loss"])
def test_second_backward_through_freed_graph_raises(loss):
    x = ember.randn(4, 3, requires_grad=True)
    if loss == "embedding":
        y = F.embedding(ember.tensor([0, 2, 2]), x.clone()).sum()
    else:
        y = F.nll_loss(x.clone(), ember.tensor([0, 2, 1, 1]))
    y.backward()
    first = x.grad.numpy().copy()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), first)


@pytest.mark.parametrize("loss", ["embedding", "nll_loss"])
def test_second_backward_with_retained_graph_accumulates(loss):
    x = ember.randn(4, 3, requires_grad=True)
    if loss == "embedding":
        y = F.embedding(ember.tensor([0, 2, 2]), x).sum()
    else:
        y = F.nll_loss(x, ember.tensor([0, 2, 1, 1]), reduction="sum")
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)


def test_changed_ops_gradcheck():
    # the ops whose saved values changed: embedding (ids), nll_loss (targets), embedding_bag
    # (the weight only for per_sample_weights)
    rng = np.random.default_rng(1)
    w = ember.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    x = ember.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    psw = ember.tensor(rng.standard_normal(4), requires_grad=True)
    ids = ember.tensor([[0, 4], [4, 2]])
    assert gradcheck(lambda a: F.embedding(ids, a), (w,))
    cw = ember.tensor([1.0, 2.0, 0.5], dtype=ember.float64)
    assert gradcheck(lambda a: F.nll_loss(a, ember.tensor([2, 0, 1, 2]), weight=cw), (x,))
    assert gradcheck(lambda a, p: F.embedding_bag(ember.tensor([1, 1, 3, 0]), a,
                                                  ember.tensor([0, 3]), mode="sum",
                                                  per_sample_weights=p), (w, psw))


def test_training_forward_does_not_bump_running_stat_versions():
    # torch's kernel writes the running statistics without a version bump
    bn = ember.nn.BatchNorm1d(3)
    before = bn.running_mean._version, bn.running_var._version
    bn(ember.randn(4, 3))
    assert (bn.running_mean._version, bn.running_var._version) == before
    assert bn.num_batches_tracked._version == 2  # its own add_ counts


def test_instance_norm_copies_running_stats_back_only_when_training():
    m = ember.nn.InstanceNorm1d(3, track_running_stats=True)
    x = ember.randn(2, 3, 4)
    m(x)
    after_training = m.running_mean._version
    m.eval()
    m(x)
    assert m.running_mean._version == after_training


def test_deepcopy_versions_as_torch():
    import copy

    assert copy.deepcopy(ember.zeros(3))._version == 1  # torch fills the new storage in place
    assert copy.deepcopy(ember.nn.Parameter(ember.zeros(2)))._version == 0  # a clone
