"""The examples run unchanged under ember and under torch and compute the same losses.

Each example is plain PyTorch code starting with ``import ember as torch``; the torch run
executes the same file with that line replaced by ``import torch``. Both runs start from
torch's initial weights and see the same batches, so their losses must agree closely.
"""
from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "examples")


def load_example(name: str, backend: str) -> types.ModuleType:
    """``examples/<name>.py`` as a module on ``backend`` ("ember" or "torch")."""
    path = os.path.join(EXAMPLES, f"{name}.py")
    with open(path, encoding="utf-8") as f:
        source = f.read()
    assert "\nimport ember as torch\n" in source
    if backend == "torch":
        source = source.replace("\nimport ember as torch\n", "\nimport torch\n", 1)
    module = types.ModuleType(f"example_{name}_{backend}")
    module.__file__ = path
    sys.modules[module.__name__] = module  # dataclasses look their module up by name
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def _quiet(*args):
    pass


def _offsets(n_rows, low, high, size, seed=0):
    rs = np.random.RandomState(seed)
    return [rs.randint(low, high, size).astype(np.int64) for _ in range(n_rows)]


# --- makemore MLP -------------------------------------------------------------------------------
WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper",
         "evelyn", "abigail", "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila",
         "aria", "scarlett", "victoria", "madison", "luna", "grace", "chloe", "penelope"]


@pytest.mark.parametrize("use_nn", [False, True], ids=["raw_tensors", "nn_modules"])
def test_makemore_mlp_matches_torch(use_nn):
    steps = 6
    batch_ix = _offsets(steps, 0, 100, 16)
    common = dict(steps=steps, words=WORDS, use_nn=use_nn, batch_ix=batch_ix, batch_size=16,
                  n_hidden=32, log=_quiet)
    t = load_example("makemore_mlp", "torch").main(**common)
    e = load_example("makemore_mlp", "ember").main(init_state=t["init_state"], **common)
    np.testing.assert_allclose(e["losses"], t["losses"], rtol=1e-4, atol=1e-5)
    assert e["dev_loss"] == pytest.approx(t["dev_loss"], rel=1e-4)


def test_makemore_mlp_runs_from_its_own_initialisation_and_samples():
    out = load_example("makemore_mlp", "ember").main(steps=20, words=WORDS, samples=2,
                                                      log=_quiet)
    assert len(out["losses"]) == 20 and np.isfinite(out["losses"]).all()
    assert out["losses"][-1] < out["losses"][0]


# --- char GPT ---------------------------------------------------------------------------------
GPT_SMALL = dict(block_size=16, batch_size=4, n_layer=2, n_head=2, n_embd=32, warmup_iters=2,
                 learning_rate=3e-3)


def _gpt_text():
    return load_example("char_gpt", "ember").default_text(max_chars=20_000)


@pytest.mark.parametrize("flash, bias", [(True, False), (False, True)],
                         ids=["sdpa_nobias", "tril_buffer_bias"])
def test_char_gpt_matches_torch(flash, bias):
    steps = 5
    text = _gpt_text()
    n_train = int(0.9 * len(text))
    batch_ix = _offsets(steps, 0, n_train - GPT_SMALL["block_size"], GPT_SMALL["batch_size"])
    common = dict(steps=steps, text=text, batch_ix=batch_ix, flash=flash, bias=bias, log=_quiet,
                  **GPT_SMALL)
    t = load_example("char_gpt", "torch").main(**common)
    e = load_example("char_gpt", "ember").main(init_state=t["init_state"], **common)
    np.testing.assert_allclose(e["losses"], t["losses"], rtol=2e-4, atol=1e-5)
    # the trained weights agree too (AdamW with per-group weight decay and a changing lr)
    t_state, e_state = t["model"].state_dict(), e["model"].state_dict()
    assert list(e_state) == list(t_state)
    for k in t_state:
        np.testing.assert_allclose(e_state[k].numpy(), t_state[k].numpy(), rtol=1e-3,
                                   atol=2e-5, err_msg=k)


def test_char_gpt_ties_weights_and_counts_them_once():
    mod = load_example("char_gpt", "ember")
    config = mod.GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8)
    model = mod.GPT(config)
    assert model.transformer.wte.weight is model.lm_head.weight
    names = [n for n, _ in model.named_parameters()]
    assert "lm_head.weight" not in names and "transformer.wte.weight" in names
    tmod = load_example("char_gpt", "torch")
    tmodel = tmod.GPT(tmod.GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8))
    assert model.get_num_params() == tmodel.get_num_params()
    assert names == [n for n, _ in tmodel.named_parameters()]
    assert list(model.state_dict()) == list(tmodel.state_dict())


def test_char_gpt_checkpoint_round_trips_and_generates(tmp_path):
    mod = load_example("char_gpt", "ember")
    out = mod.main(steps=2, text=_gpt_text(), out_dir=str(tmp_path), sample_chars=5,
                   log=_quiet, **GPT_SMALL)
    ckpt = ember.load(os.path.join(tmp_path, "ckpt.pt"))
    assert set(ckpt) >= {"model", "optimizer", "model_args", "iter_num", "config"}
    model = mod.GPT(mod.GPTConfig(**ckpt["model_args"]))
    model.load_state_dict(ckpt["model"])
    optimizer = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95), "cpu")
    optimizer.load_state_dict(ckpt["optimizer"])
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0]
    model.eval()
    idx = model.generate(ember.zeros((1, 1), dtype=ember.long), 7, top_k=3)
    assert idx.shape == (1, 8) and idx.dtype == ember.int64
    assert int(idx.max()) < len(out["chars"])
