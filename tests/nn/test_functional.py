"""nn.functional without the oracle: hand-computed losses, option handling, errors, shapes."""

import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F


def log_softmax(x):
    s = x - x.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


X = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0], [2.0, 2.0, 2.0], [0.0, 1.0, -2.0]], np.float32)
T = np.array([1, 2, 0, 2])


def test_cross_entropy_is_mean_negative_log_probability():
    want = -log_softmax(X)[np.arange(4), T].mean()
    got = F.cross_entropy(ember.tensor(X), ember.tensor(T))
    assert got.shape == ember.Size([]) and got.dtype == ember.float32
    assert got.item() == pytest.approx(want, rel=1e-6)
    assert F.cross_entropy(ember.tensor(X), ember.tensor(T), reduction="sum").item() == \
        pytest.approx(4 * want, rel=1e-6)
    none = F.cross_entropy(ember.tensor(X), ember.tensor(T), reduction="none").numpy()
    np.testing.assert_allclose(none, -log_softmax(X)[np.arange(4), T], rtol=1e-6)


def test_cross_entropy_backward_is_softmax_minus_one_hot():
    x = ember.tensor(X, requires_grad=True)
    F.cross_entropy(x, ember.tensor(T)).backward()
    p = np.exp(log_softmax(X))
    p[np.arange(4), T] -= 1
    np.testing.assert_allclose(x.grad.numpy(), p / 4, rtol=1e-5, atol=1e-7)


def test_cross_entropy_weights_and_ignore_index_mean():
    w = np.array([0.5, 2.0, 1.0], np.float32)
    t = np.array([1, 2, -100, 2])
    got = F.cross_entropy(ember.tensor(X), ember.tensor(t), weight=ember.tensor(w)).item()
    lp = log_softmax(X)
    rows = [0, 1, 3]
    want = -sum(w[t[i]] * lp[i, t[i]] for i in rows) / sum(w[t[i]] for i in rows)
    assert got == pytest.approx(want, rel=1e-6)


def test_ignored_rows_get_zero_gradient():
    x = ember.tensor(X, requires_grad=True)
    F.cross_entropy(x, ember.tensor([1, 7, 0, 7]), ignore_index=7).backward()
    assert not x.grad.numpy()[[1, 3]].any() and x.grad.numpy()[[0, 2]].any()


def test_label_smoothing_mixes_uniform_target():
    eps = 0.2
    got = F.cross_entropy(ember.tensor(X), ember.tensor(T), label_smoothing=eps).item()
    lp = log_softmax(X)
    q = np.full((4, 3), eps / 3)
    q[np.arange(4), T] += 1 - eps
    assert got == pytest.approx(-(q * lp).sum(1).mean(), rel=1e-6)


def test_cross_entropy_with_probabilities_equals_class_indices_for_one_hot():
    onehot = np.eye(3, dtype=np.float32)[T]
    a = F.cross_entropy(ember.tensor(X), ember.tensor(onehot)).item()
    b = F.cross_entropy(ember.tensor(X), ember.tensor(T)).item()
    assert a == pytest.approx(b, rel=1e-6)


def test_cross_entropy_spatial_shape():
    x = ember.randn(2, 3, 4, 5)
    t = ember.randint(0, 3, (2, 4, 5))
    assert F.cross_entropy(x, t, reduction="none").shape == ember.Size([2, 4, 5])
    flat = F.cross_entropy(x.permute(0, 2, 3, 1).reshape(-1, 3), t.reshape(-1))
    assert F.cross_entropy(x, t).item() == pytest.approx(flat.item(), rel=1e-5)


def test_cross_entropy_errors():
    x = ember.tensor(X)
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target "
                                         r"batch_size \(3\)."):
        F.cross_entropy(x, ember.tensor([0, 1, 2]))
    with pytest.raises(IndexError, match="Target 3 is out of bounds."):
        F.cross_entropy(x, ember.tensor([0, 1, 2, 3]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds."):
        F.cross_entropy(x, ember.tensor([0, 1, 2, -1]))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.cross_entropy(x, ember.tensor(T), reduction="foo")
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, ember.tensor(T), label_smoothing=1.5)  # torch ignores a negative


def test_legacy_size_average_reduce_flags():
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        got = F.cross_entropy(ember.tensor(X), ember.tensor(T), reduce=False)
    assert got.shape == ember.Size([4])
    with pytest.warns(UserWarning):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"


def test_nll_loss_picks_minus_input():
    lp = log_softmax(X)
    got = F.nll_loss(ember.tensor(lp), ember.tensor(T)).item()
    assert got == pytest.approx(-lp[np.arange(4), T].mean(), rel=1e-6)


def test_mse_l1_values():
    a, b = ember.tensor([1.0, 2.0, 4.0]), ember.tensor([1.0, 0.0, 1.0])
    assert F.mse_loss(a, b).item() == pytest.approx(13 / 3)
    assert F.l1_loss(a, b, reduction="sum").item() == pytest.approx(5.0)
    np.testing.assert_allclose(F.l1_loss(a, b, reduction="none").numpy(), [0, 2, 3])


def test_bce_with_logits_is_stable_for_large_logits():
    x = ember.tensor([100.0, -100.0])
    y = ember.tensor([1.0, 0.0])
    assert F.binary_cross_entropy_with_logits(x, y).item() == pytest.approx(0.0, abs=1e-6)
    assert F.binary_cross_entropy_with_logits(-x, y).item() == pytest.approx(100.0)
    assert math.isfinite(F.binary_cross_entropy(ember.tensor([0.0, 1.0]), y).item())


def test_one_hot():
    out = F.one_hot(ember.tensor([0, 2]), 4)
    assert out.dtype == ember.int64
    np.testing.assert_array_equal(out.numpy(), [[1, 0, 0, 0], [0, 0, 1, 0]])


def test_pad_shapes_and_values():
    x = ember.ones(1, 2, 3)
    assert F.pad(x, (1, 2)).shape == ember.Size([1, 2, 6])
    assert F.pad(x, (1, 1, 2, 0)).shape == ember.Size([1, 4, 5])
    np.testing.assert_array_equal(F.pad(x, (1, 0), value=7.0).numpy()[0, 0], [7, 1, 1, 1])
    np.testing.assert_array_equal(F.pad(ember.arange(4.0).reshape(1, 4), (2, 1),
                                        mode="reflect").numpy(), [[2, 1, 0, 1, 2, 3, 2]])
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1,))


def test_loss_modules_hold_options():
    loss = nn.CrossEntropyLoss(weight=ember.ones(3), ignore_index=2, label_smoothing=0.1)
    assert loss.ignore_index == 2 and loss.label_smoothing == 0.1
    assert list(loss.state_dict()) == ["weight"]
    assert loss(ember.tensor(X), ember.tensor(T)).shape == ember.Size([])
