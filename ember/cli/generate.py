"""``ember generate``: sample text from a trained run."""
from __future__ import annotations

import os
import sys

from ember.cli._errors import CLIError
from ember.cli._run_dir import (
    MODEL_FILE,
    VOCAB_FILE,
    _build_model_from_config,
    _load_run_config,
    _load_tensors,
    _load_vocab,
    _load_weights,
)
from ember.cli.train import _sample_text

# --- generate ---------------------------------------------------------------------------------

def _load_run_model(run: str, option: str):
    cfg = _load_run_config(run, option)
    vocab = _load_vocab(run, option)
    model = _build_model_from_config(cfg, option, run)
    state = _load_tensors(os.path.join(run, MODEL_FILE), "the trained weights", option, run)
    _load_weights(model, state, option, run)
    if len(vocab) != cfg["model_config"].get("vocab_size", len(vocab)):
        raise CLIError(f"{option} {run}: {VOCAB_FILE} has {len(vocab)} tokens but the model "
                       f"was built for {cfg['model_config']['vocab_size']}")
    model.eval()
    return cfg, vocab, model


def cmd_generate(args) -> int:
    """``ember generate``: continue ``--prompt`` with text sampled from a run's model."""
    cfg, vocab, model = _load_run_model(args.run, "--run")
    try:
        prompt_ids = vocab.encode(args.prompt).tolist() if args.prompt else []
    except KeyError as e:
        token = e.args[0] if e.args else "?"
        raise CLIError(f"--prompt: {token!s} is not in the vocabulary of {args.run} "
                       f"(it never occurs in the training text)") from None
    text = _sample_text(model, vocab, args.tokens, args.seed, prompt_ids=prompt_ids,
                        temperature=args.temperature, top_k=args.top_k)
    # word tokens are joined by spaces, so the prompt needs one before the continuation
    joiner = " " if args.prompt and text and vocab.tokenizer.name == "basic_english" else ""
    sys.stdout.write(args.prompt + joiner + text + ("" if text.endswith("\n") else "\n"))
    sys.stdout.flush()
    return 0
