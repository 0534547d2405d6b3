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
    for name, p in model.state_dict().items():
        if p.is_floating_point() and not bool(p.isfinite().all()):
            raise CLIError(f"--run {args.run}: {MODEL_FILE} holds non-finite weights ({name}; "
                           f"the training diverged), so there is nothing to sample from")
    # the training text was read with \n line ends (see _read_text_file): so is the prompt
    prompt = args.prompt.replace("\r\n", "\n").replace("\r", "\n")
    unknown = [t for t in dict.fromkeys(vocab.tokenizer.encode(prompt)) if t not in vocab]
    if unknown and vocab.get_default_index() is None:
        shown = ", ".join(repr(t) for t in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise CLIError(f"--prompt: {shown} {'is' if len(unknown) == 1 else 'are'} not in the "
                       f"vocabulary of {args.run} (never seen in its training text)")
    prompt_ids = vocab.encode(prompt).tolist() if prompt else []
    text = _sample_text(model, vocab, args.tokens, args.seed, prompt_ids=prompt_ids,
                        temperature=args.temperature, top_k=args.top_k)
    # word tokens are joined by spaces, so the prompt needs one before the continuation
    joiner = " " if prompt and text and vocab.tokenizer.name == "basic_english" else ""
    sys.stdout.write(prompt + joiner + text + ("" if text.endswith("\n") else "\n"))
    sys.stdout.flush()
    return 0
