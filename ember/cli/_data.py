"""Training data for ``ember train``: corpus, vocabulary, train/validation split."""
from __future__ import annotations

import os
import signal

from ember.cli._defaults import WORD_MAX_VOCAB
from ember.cli._run_dir import _read_text_file

# --- data -------------------------------------------------------------------------------------

def _load_corpus(text_path: str | None) -> tuple[str, dict]:
    """The training text and a description of where it came from."""
    if text_path is None:
        from ember.text import builtin_corpus

        corpus = builtin_corpus()
        return corpus.text, {"text": None, "origin": corpus.description}
    text = _read_text_file(text_path)
    return text, {"text": os.path.abspath(text_path),
                  "origin": f"{len(text):,} characters from {os.path.abspath(text_path)}"}


def _build_vocab(text: str, level: str, max_vocab: int | None):
    from ember.text import Vocab

    limit = max_vocab or (WORD_MAX_VOCAB if level == "word" else None)
    if level == "byte" or limit is None:
        return Vocab.from_text(text, tokenizer=level)
    # a capped vocabulary maps the tokens it drops to <unk>
    vocab = Vocab.from_text(text, tokenizer=level, specials=["<unk>"], max_tokens=limit)
    vocab.set_default_index(vocab["<unk>"])
    return vocab


def _split(ids, val_fraction: float):
    """(train ids, validation ids): the validation text is the end of the corpus."""
    n = len(ids)
    n_val = int(round(n * val_fraction))
    return ids[: n - n_val], ids[n - n_val:]


def _pad_id(vocab) -> int:
    for token in ("\n", "<unk>", " "):
        if token in vocab:
            return vocab[token]
    return 0


def _ignore_sigint(worker_id: int) -> None:
    # Ctrl-C goes to the whole process group: the main process saves a checkpoint and
    # stops the workers itself, so they must not die half-way through a batch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
