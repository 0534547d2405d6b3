"""Dropout masks against torch's, element for element, after the same seed.

torch's CPU ``bernoulli_(p)`` takes one 53-bit uniform per element from the generator
(ember follows that kernel). torch builds with MKL use MKL's own stream on Intel processors
instead; there the masks are different draws of the same distribution, and these tests,
which compare draws, do not apply.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _intel_cpu() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return "GenuineIntel" in f.read(4096)
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    _intel_cpu() and torch.backends.mkl.is_available(),
    reason="torch draws Bernoulli masks from MKL's stream on Intel processors")


def seed_both(s):
    torch.manual_seed(s)
    ember.manual_seed(s)


def same_stream_after():
    np.testing.assert_array_equal(ember.rand(4).numpy(), torch.rand(4).numpy())


@pytest.mark.parametrize("shape,p", [((5000,), 0.1), ((32, 64), 0.37), ((3, 4, 5), 0.5),
                                     ((7, 1), 0.9), ((2, 3, 4, 5), 0.05)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_equals_torch(shape, p, dtype):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    seed_both(3)
    np.testing.assert_array_equal(F.dropout(ember.tensor(x), p).numpy(),
                                  TF.dropout(torch.tensor(x), p).numpy())
    same_stream_after()


def test_dropout_of_transposed_and_inplace_input_equals_torch():
    x = np.random.default_rng(1).standard_normal((6, 9)).astype(np.float32)
    seed_both(4)
    np.testing.assert_array_equal(F.dropout(ember.tensor(x).t(), 0.4).numpy(),
                                  TF.dropout(torch.tensor(x).t(), 0.4).numpy())
    e, t = ember.tensor(x), torch.tensor(x)
    ember.nn.Dropout(0.3, inplace=True)(e)
    torch.nn.Dropout(0.3, inplace=True)(t)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    same_stream_after()


@pytest.mark.parametrize("name", ["dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout",
                                  "alpha_dropout"])
def test_channel_and_alpha_dropout_equal_torch(name):
    shape = {"dropout1d": (3, 5, 7), "dropout3d": (2, 3, 2, 3, 4)}.get(name, (2, 6, 4, 5))
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    seed_both(5)
    e = getattr(F, name)(ember.tensor(x), 0.3, training=True).numpy()
    t = getattr(TF, name)(torch.tensor(x), 0.3, training=True).numpy()
    np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(e == 0, t == 0)
    same_stream_after()


def test_attention_dropout_equals_torch():
    q = np.random.default_rng(3).standard_normal((2, 3, 5, 4)).astype(np.float32)
    seed_both(6)
    e = F.scaled_dot_product_attention(*[ember.tensor(q)] * 3, dropout_p=0.3).numpy()
    t = TF.scaled_dot_product_attention(*[torch.tensor(q)] * 3, dropout_p=0.3).numpy()
    np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
    same_stream_after()


def test_lstm_dropout_between_layers_equals_torch():
    seed_both(7)
    e_lstm = ember.nn.LSTM(4, 6, num_layers=3, dropout=0.4)
    t_lstm = torch.nn.LSTM(4, 6, num_layers=3, dropout=0.4)
    x = np.random.default_rng(4).standard_normal((5, 2, 4)).astype(np.float32)
    e, _ = e_lstm(ember.tensor(x))
    t, _ = t_lstm(torch.tensor(x))
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)
    same_stream_after()


def _notes_model(T):
    nn = T.nn
    return nn.Sequential(nn.Embedding(20, 6), nn.Flatten(), nn.Linear(18, 32),
                         nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 20))


def test_notes_model_trains_as_torch_with_dropout_on():
    seed_both(8)
    models = {"ember": _notes_model(ember), "torch": _notes_model(torch)}
    rng = np.random.default_rng(5)
    batches = [(rng.integers(0, 20, (16, 3)), rng.integers(0, 20, 16)) for _ in range(4)] * 8
    losses = {}
    for name, T in (("ember", ember), ("torch", torch)):
        T.manual_seed(9)
        model = models[name]
        opt = T.optim.AdamW(model.parameters(), lr=1e-2)
        losses[name] = []
        for x, y in batches:
            opt.zero_grad()
            loss = T.nn.functional.cross_entropy(model(T.tensor(x)), T.tensor(y))
            loss.backward()
            opt.step()
            losses[name].append(loss.item())
    np.testing.assert_allclose(losses["ember"], losses["torch"], rtol=1e-4)
    assert losses["ember"][-1] < losses["ember"][0]
