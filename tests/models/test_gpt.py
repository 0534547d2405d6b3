"""The GPT language model: shapes, causality, tying, registry, the CLI, and torch as oracle."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import cli
from ember.models import GPTLanguageModel, build_model, generate, model_names
from tests.helpers import assert_close

SMALL = dict(vocab_size=13, context=8, embed_dim=16, layers=2, heads=2, dropout=0.0)


def _small(**kw):
    return GPTLanguageModel(**dict(SMALL, **kw))


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
    assert_close(model(a)[:, :5], model(b)[:, :5], rtol=1e-5, atol=1e-6)
    assert not np.allclose(model(a)[:, 5:].detach().numpy(), model(b)[:, 5:].detach().numpy())


def test_output_layer_is_tied_to_the_token_embedding_and_counted_once():
    model = _small()
    assert model.output.weight is model.token_embedding.weight
    names = [n for n, _ in model.named_parameters()]
    assert "output.weight" not in names
    n_untied = sum(p.numel() for n, p in model.named_parameters())
    assert model.num_parameters() == n_untied
    assert {"token_embedding.weight", "output.weight"} <= set(model.state_dict())
    model(ember.randint(0, 13, (2, 8))).sum().backward()
    assert model.output.weight.grad is not None


def test_input_longer_than_the_context_is_rejected():
    with pytest.raises(ValueError, match="1 <= L <= 8"):
        _small()(ember.zeros(1, 9, dtype=ember.int64))


@pytest.mark.parametrize("kw, err", [({"embed_dim": 15}, ValueError), ({"heads": 0}, ValueError),
                                     ({"dropout": 1.0}, ValueError),
                                     ({"context": 2.5}, TypeError)])
def test_bad_sizes_fail_at_construction(kw, err):
    with pytest.raises(err):
        _small(**kw)


def test_config_rebuilds_the_same_model_and_the_registry_knows_it():
    assert "gpt" in model_names() and "mlp" in model_names()
    model = _small(hidden=24, bias=True)
    twin = build_model("gpt", **model.config())
    twin.load_state_dict(model.state_dict())
    ids = ember.randint(0, 13, (2, 8))
    model.eval()
    twin.eval()
    assert_close(model(ids), twin(ids))


def test_dataset_targets_line_up_with_the_logits():
    model = _small()
    tokens = ember.arange(50)
    ds = model.make_dataset(tokens)
    x, y = ds[1]
    assert x.tolist() == list(range(8, 16)) and y.tolist() == list(range(9, 17))
    assert len(ds) == (50 - 8 - 1) // 8 + 1
    assert len(model.make_dataset(tokens, stride=1)) == 50 - 8


def test_a_few_steps_reduce_the_loss():
    ember.manual_seed(0)
    model = _small()
    opt = ember.optim.AdamW(model.parameters(), lr=1e-2)
    pattern = ember.tensor([[i % 13 for i in range(k, k + 9)] for k in range(8)])
    x, y = pattern[:, :-1], pattern[:, 1:]
    losses = []
    for _ in range(30):
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
    new = generate(model, list(range(12)), 3, top_k=2, generator=gen)
    assert tuple(new.shape) == (3,)


# --- torch as the oracle ----------------------------------------------------------------------
def _torch_twin(torch, cfg):
    """The same architecture in torch, with the same parameter names."""
    nn = torch.nn

    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            E = cfg["embed_dim"]
            self.heads = cfg["heads"]
            self.qkv = nn.Linear(E, 3 * E, bias=False)
            self.proj = nn.Linear(E, E, bias=False)
            self.resid_dropout = nn.Dropout(0.0)

        def forward(self, x):
            N, L, E = x.shape
            q, k, v = (t.view(N, L, self.heads, E // self.heads).transpose(1, 2)
                       for t in self.qkv(x).split(E, dim=2))
            y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).contiguous().view(N, L, E))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            E = cfg["embed_dim"]
            self.ln_1 = nn.LayerNorm(E, bias=False)
            self.attn = Attn()
            self.ln_2 = nn.LayerNorm(E, bias=False)
            self.mlp = nn.Sequential(nn.Linear(E, 4 * E, bias=False), nn.GELU(),
                                     nn.Linear(4 * E, E, bias=False), nn.Dropout(0.0))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            E = cfg["embed_dim"]
            self.token_embedding = nn.Embedding(cfg["vocab_size"], E)
            self.position_embedding = nn.Embedding(cfg["context"], E)
            self.drop = nn.Dropout(0.0)
            self.blocks = nn.ModuleList([Block() for _ in range(cfg["layers"])])
            self.ln_f = nn.LayerNorm(E, bias=False)
            self.output = nn.Linear(E, cfg["vocab_size"], bias=False)
            self.token_embedding.weight = self.output.weight

        def forward(self, idx):
            x = self.token_embedding(idx) + self.position_embedding(torch.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            return self.output(self.ln_f(x))

    return GPT()


def test_forward_and_gradients_match_torch(torch):
    ember.manual_seed(0)
    model = _small()
    twin = _torch_twin(torch, SMALL)
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


# --- the command line -------------------------------------------------------------------------
def test_cli_trains_a_gpt_and_generates_from_it(tmp_path, corpus, capsys):
    out = str(tmp_path / "run")
    argv = ["train", "--model", "gpt", "--text", corpus, "--context", "16", "--embed-dim",
            "32", "--layers", "2", "--batch-size", "8", "--steps", "60", "--lr", "0.01",
            "--sample-tokens", "20", "--out", out]
    assert cli.main(argv) == 0
    metrics = ember.load(os.path.join(out, "checkpoint.safetensors"))["progress"]["history"]
    last = metrics[-1]
    assert last["val_loss"] < last["unigram_loss"]  # it learnt more than letter frequencies
    assert math.isfinite(last["val_loss"])
    capsys.readouterr()
    assert cli.main(["generate", "--run", out, "--tokens", "30", "--seed", "0"]) == 0
    text = capsys.readouterr().out
    assert len(text) >= 30
    assert cli.main(["generate", "--run", out, "--prompt", "the ", "--tokens", "10",
                     "--top-k", "3", "--seed", "0"]) == 0
    assert capsys.readouterr().out.startswith("the ")
