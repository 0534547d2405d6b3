"""The LSTM language model: shapes, causality, registry, the CLI, and torch as oracle."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import cli
from ember.models import LSTMLanguageModel, build_model, generate, model_names
from tests.helpers import assert_close

SMALL = dict(vocab_size=13, context=8, embed_dim=6, hidden=10, layers=2, dropout=0.0)


def _small(**kw):
    return LSTMLanguageModel(**dict(SMALL, **kw))


def test_forward_gives_logits_for_every_position():
    model = _small()
    ids = ember.randint(0, 13, (3, 8))
    assert tuple(model(ids).shape) == (3, 8, 13)
    assert tuple(model(ids[:, :5]).shape) == (3, 5, 13)


def test_future_tokens_do_not_change_earlier_logits():
    model = _small()
    model.eval()
    a = ember.randint(0, 13, (1, 8))
    b = a.clone()
    b[0, 5:] = (b[0, 5:] + 1) % 13
    assert_close(model(a)[:, :5], model(b)[:, :5])
    assert not np.allclose(model(a)[:, 5:].detach().numpy(), model(b)[:, 5:].detach().numpy())


@pytest.mark.parametrize("kw, err", [({"hidden": 0}, ValueError), ({"layers": 0}, ValueError),
                                     ({"dropout": 1.0}, ValueError),
                                     ({"context": 2.5}, TypeError)])
def test_bad_sizes_fail_at_construction(kw, err):
    with pytest.raises(err):
        _small(**kw)


def test_input_longer_than_the_context_is_rejected():
    with pytest.raises(ValueError, match="1 <= L <= 8"):
        _small()(ember.zeros(1, 9, dtype=ember.int64))


def test_config_rebuilds_the_same_model_and_the_registry_knows_it():
    assert "lstm" in model_names()
    model = _small(dropout=0.2)
    twin = build_model("lstm", **model.config())
    twin.load_state_dict(model.state_dict())
    ids = ember.randint(0, 13, (2, 8))
    model.eval()
    twin.eval()
    assert_close(model(ids), twin(ids))


def test_dataset_targets_line_up_with_the_logits():
    ds = _small().make_dataset(ember.arange(50))
    x, y = ds[1]
    assert x.tolist() == list(range(8, 16)) and y.tolist() == list(range(9, 17))


def test_a_few_steps_reduce_the_loss():
    ember.manual_seed(0)
    model = _small()
    opt = ember.optim.Adam(model.parameters(), lr=3e-2)
    pattern = ember.tensor([[i % 13 for i in range(k, k + 9)] for k in range(8)])
    x, y = pattern[:, :-1], pattern[:, 1:]
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(model(x).reshape(-1, 13), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_generate_samples_from_an_empty_or_long_prompt():
    model = _small()
    gen = ember.Generator().manual_seed(0)
    new = generate(model, [], 5, generator=gen)
    assert tuple(new.shape) == (5,) and int(new.max()) < 13
    assert tuple(generate(model, list(range(12)), 3, top_k=2, generator=gen).shape) == (3,)


def test_forward_and_gradients_match_torch(torch):
    """The same layers in torch (same parameter names), float32, from ember's weights."""
    ember.manual_seed(0)
    model = _small()

    class Twin(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(13, 6)
            self.lstm = torch.nn.LSTM(6, 10, num_layers=2, batch_first=True)
            self.drop = torch.nn.Dropout(0.0)
            self.output = torch.nn.Linear(10, 13)

        def forward(self, ids):
            return self.output(self.drop(self.lstm(self.embedding(ids))[0]))

    twin = Twin()
    assert list(twin.state_dict()) == list(model.state_dict())
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    ids = np.random.RandomState(0).randint(0, 13, (4, 8))
    e_logits, t_logits = model(ember.tensor(ids)), twin(torch.tensor(ids))
    assert_close(e_logits, t_logits, rtol=1e-4, atol=1e-5)
    targets = np.roll(ids, -1, axis=1)
    F.cross_entropy(e_logits.reshape(-1, 13), ember.tensor(targets).reshape(-1)).backward()
    torch.nn.functional.cross_entropy(t_logits.reshape(-1, 13),
                                      torch.tensor(targets).reshape(-1)).backward()
    t_params = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        assert_close(p.grad, t_params[name].grad, rtol=1e-3, atol=1e-6, msg=name)


def test_cli_trains_an_lstm_and_generates_from_it(tmp_path, corpus, capsys):
    out = str(tmp_path / "run")
    argv = ["train", "--model", "lstm", "--text", corpus, "--context", "16", "--embed-dim",
            "16", "--hidden", "32", "--batch-size", "8", "--steps", "60", "--lr", "0.01",
            "--sample-tokens", "20", "--out", out]
    assert cli.main(argv) == 0
    last = ember.load(os.path.join(out, "checkpoint.safetensors"))["progress"]["history"][-1]
    assert math.isfinite(last["val_loss"])
    assert last["val_loss"] < last["unigram_loss"]  # it learnt more than letter frequencies
    capsys.readouterr()
    assert cli.main(["generate", "--run", out, "--prompt", "the ", "--tokens", "10",
                     "--seed", "0"]) == 0
    assert capsys.readouterr().out.startswith("the ")
    assert cli.main(["train", "--model", "lstm", "--heads", "2", "--text", corpus, "--steps",
                     "1", "--out", str(tmp_path / "bad")]) != 0
    assert "--heads does not apply to --model lstm" in capsys.readouterr().err
