"""The notes' MLP language model: layout, shapes, windows dataset, generation, registry."""
import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.models import (
    MLPLanguageModel,
    NextTokenDataset,
    build_model,
    generate,
    get_model_class,
    model_names,
    register_model,
    unigram_loss,
)
from ember.utils.data import DataLoader


def _small(**kw):
    args = dict(vocab_size=11, context=3, embed_dim=4, hidden=16, layers=2, dropout=0.2)
    args.update(kw)
    return MLPLanguageModel(**args)


# --- the model ----------------------------------------------------------------------------------

def test_layers_follow_the_notes_with_no_dropout_on_the_output():
    model = _small(layers=2)
    kinds = [type(m) for m in model.blocks]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout] * 2
    assert isinstance(model.embedding, nn.Embedding)
    assert isinstance(model.output, nn.Linear)
    assert model.blocks[0].in_features == 3 * 4  # the flattened window
    assert model.output.out_features == 11
    # nothing after the output layer: forward ends with it
    assert list(model.children())[-1] is model.output


def test_zero_layers_maps_the_flat_window_straight_to_logits():
    model = _small(layers=0)
    assert len(model.blocks) == 0
    assert model.output.in_features == 12
    assert tuple(model(ember.zeros(5, 3, dtype=ember.int64)).shape) == (5, 11)


def test_forward_gives_one_row_of_logits_per_window():
    model = _small()
    x = ember.randint(0, 11, (7, 3))
    logits = model(x)
    assert tuple(logits.shape) == (7, 11) and logits.dtype == ember.float32


def test_forward_rejects_a_window_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3\)"):
        _small()(ember.zeros(2, 4, dtype=ember.int64))


@pytest.mark.parametrize("kw, err", [
    ({"context": 0}, ValueError), ({"layers": -1}, ValueError), ({"dropout": 1.0}, ValueError),
    ({"hidden": 2.5}, TypeError), ({"vocab_size": 0}, ValueError),
])
def test_bad_sizes_fail_at_construction(kw, err):
    with pytest.raises(err):
        _small(**kw)


def test_config_rebuilds_an_identical_model():
    model = _small()
    twin = MLPLanguageModel(**model.config())
    assert twin.config() == model.config()
    twin.load_state_dict(model.state_dict())
    model.eval()
    twin.eval()
    x = ember.randint(0, 11, (4, 3))
    with ember.no_grad():
        np.testing.assert_array_equal(model(x).numpy(), twin(x).numpy())


def test_eval_turns_dropout_off_and_uses_running_statistics():
    model = _small(dropout=0.5)
    x = ember.randint(0, 11, (8, 3))
    model.train()
    a, b = model(x).detach().numpy(), model(x).detach().numpy()
    assert not np.array_equal(a, b)  # dropout masks differ
    model.eval()
    with ember.no_grad():
        c, d = model(x).numpy(), model(x[:2]).numpy()
    np.testing.assert_allclose(c[:2], d, rtol=1e-5, atol=1e-6)  # no batch statistics in eval


def test_the_model_learns_a_repeating_pattern():
    tokens = np.tile(np.arange(5), 60)
    model = MLPLanguageModel(5, context=2, embed_dim=4, hidden=16, layers=1, dropout=0.0)
    opt = ember.optim.Adam(model.parameters(), lr=0.05)
    loader = DataLoader(model.make_dataset(tokens), batch_size=16, shuffle=True, drop_last=True)
    for _ in range(3):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert loss.item() < 0.1
    out = generate(model, [0, 1], 8, temperature=0)
    assert out.tolist() == [2, 3, 4, 0, 1, 2, 3, 4]


# --- the windows dataset ------------------------------------------------------------------------

def test_windows_pair_each_context_with_the_next_token():
    tokens = np.arange(100, 110)
    ds = NextTokenDataset(tokens, context=3)
    assert len(ds) == 10 - 3
    for i in range(len(ds)):
        x, y = ds[i]
        assert x.tolist() == [100 + i, 101 + i, 102 + i]
        assert y.dim() == 0 and y.item() == 103 + i
        assert x.dtype == ember.int64 and y.dtype == ember.int64
    x, y = ds[-1]
    assert x.tolist() == [106, 107, 108] and y.item() == 109


def test_windows_agree_with_text_dataset_targets():
    from ember.text import TextDataset

    tokens = np.random.randint(0, 50, 40)
    ours, blocks = NextTokenDataset(tokens, 5, stride=2), TextDataset(tokens, 5, stride=2)
    assert len(ours) == len(blocks)
    for i in range(len(ours)):
        (x, y), (bx, by) = ours[i], blocks[i]
        assert x.tolist() == bx.tolist() and y.item() == by.tolist()[-1]


def test_batched_fetch_matches_item_by_item():
    ds = NextTokenDataset(np.random.randint(0, 9, 50), context=4)
    idx = [0, 7, 45, -1, 3]
    batch = ds.__getitems__(idx)
    for i, (x, y) in zip(idx, batch):
        ex, ey = ds[i]
        assert list(x) == ex.tolist() and int(y) == ey.item()
    with pytest.raises(IndexError, match="out of range"):
        ds.__getitems__([0, len(ds)])
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_corpus_of_exactly_one_window():
    assert len(NextTokenDataset(np.arange(4), context=4)) == 0
    assert len(NextTokenDataset(np.arange(5), context=4)) == 1


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_batches_windows_and_targets(workers):
    ds = NextTokenDataset(np.arange(40), context=3)
    loader = DataLoader(ds, batch_size=8, shuffle=False, drop_last=True, num_workers=workers)
    batches = list(loader)
    assert len(batches) == len(ds) // 8
    x, y = batches[1]
    assert tuple(x.shape) == (8, 3) and tuple(y.shape) == (8,)
    assert x.dtype == ember.int64 and y.dtype == ember.int64
    assert x[:, -1].tolist() == [t - 1 for t in y.tolist()]


# --- generation ---------------------------------------------------------------------------------

def test_generate_returns_n_ids_and_restores_training_mode():
    model = _small()
    model.train()
    out = generate(model, [1, 2], 20, generator=ember.Generator().manual_seed(3))
    assert tuple(out.shape) == (20,) and out.dtype == ember.int64
    assert all(0 <= i < 11 for i in out.tolist())
    assert model.training


def test_generate_is_repeatable_with_a_seeded_generator():
    model = _small()
    a = generate(model, [], 30, generator=ember.Generator().manual_seed(7))
    b = generate(model, [], 30, generator=ember.Generator().manual_seed(7))
    c = generate(model, [], 30, generator=ember.Generator().manual_seed(8))
    assert a.tolist() == b.tolist() != c.tolist()


def test_top_k_one_and_temperature_zero_are_greedy():
    model = _small()
    greedy = generate(model, [3], 15, temperature=0)
    top1 = generate(model, [3], 15, top_k=1, generator=ember.Generator().manual_seed(1))
    assert greedy.tolist() == top1.tolist()


def test_top_k_only_draws_among_the_k_likeliest():
    model = _small()
    model.eval()
    with ember.no_grad():
        logits = model(ember.tensor([[0, 0, 0]]))[0]
    top2 = set(logits.topk(2).indices.tolist())
    gen = ember.Generator().manual_seed(0)
    draws = {generate(model, [], 1, top_k=2, generator=gen, pad_id=0).item() for _ in range(40)}
    assert draws <= top2


def test_short_prompts_are_left_padded_with_pad_id():
    model = _small()
    a = generate(model, [5], 5, temperature=0, pad_id=2)
    b = generate(model, [2, 2, 5], 5, temperature=0)
    assert a.tolist() == b.tolist()


@pytest.mark.parametrize("kw, msg", [
    ({"temperature": -1.0}, "temperature"), ({"top_k": 0}, "top_k"), ({"n": -1}, "n must"),
])
def test_generate_rejects_bad_options(kw, msg):
    args = dict(n=3)
    args.update(kw)
    with pytest.raises(ValueError, match=msg):
        generate(_small(), [1], **args)


# --- baseline and registry ----------------------------------------------------------------------

def test_unigram_loss_by_hand():
    # counts 3, 1 (+1 each) over V=3 -> p = 4/7, 2/7, 1/7
    loss = unigram_loss([0, 0, 0, 1], [0, 2], vocab_size=3)
    assert loss == pytest.approx(-(math.log(4 / 7) + math.log(1 / 7)) / 2)


def test_registry_knows_the_mlp_and_names_the_choices():
    assert "mlp" in model_names()
    assert get_model_class("mlp") is MLPLanguageModel
    model = build_model("mlp", vocab_size=9, context=2)
    assert isinstance(model, MLPLanguageModel) and model.context_size == 2
    with pytest.raises(KeyError, match="unknown model 'rnn'; choose from mlp, gpt, lstm"):
        get_model_class("rnn")


def test_register_model_needs_a_name():
    class Nameless(nn.Module):
        pass

    with pytest.raises(ValueError, match="needs a non-empty str attribute 'name'"):
        register_model(Nameless)
