"""The notes' language model: an MLP that reads a window of tokens and predicts the next one.

::

    ids (N, L) -> Embedding -> (N, L, E) -> flatten -> (N, L*E)
              -> [Linear -> BatchNorm1d -> ReLU -> Dropout] x layers
              -> Linear -> logits (N, V)

Dropout follows each hidden activation and never the output layer, as the notes draw it.
:class:`NextTokenDataset` cuts a token sequence into the (window, next token) pairs the
model trains on, and :func:`generate` samples text from any registered model.
"""
from __future__ import annotations

import math
import operator

import numpy as np

import ember
from ember import nn
from ember.models._checks import _check_dropout, _check_int
from ember.text.datasets import TextDataset

__all__ = ["MLPLanguageModel", "NextTokenDataset", "generate", "unigram_loss"]


class NextTokenDataset(TextDataset):
    """Every window of ``context`` tokens with the token that follows it.

    A :class:`~ember.text.TextDataset` with ``seq_len=context`` and ``stride`` (default 1),
    whose item ``idx`` is ``(x, y)``: ``x`` the window (``context`` int64 ids) and ``y``
    the 0-d int64 id of the token after it (the last element of the TextDataset's shifted
    block). ``len(dataset) == (len(tokens) - context - 1) // stride + 1``.

    Args:
        tokens: 1-D integer tensor, array or sequence.
        context: tokens per window.
        stride: distance between the starts of consecutive windows.
    """

    def __init__(self, tokens, context: int, stride: int = 1):
        super().__init__(tokens, seq_len=context, stride=stride)

    @property
    def context(self) -> int:
        """Tokens per window."""
        return self.seq_len

    def __getitem__(self, idx: int) -> tuple[ember.Tensor, ember.Tensor]:
        x, _ = super().__getitem__(idx)
        start = (operator.index(idx) % len(self)) * self.stride
        end = start + self.seq_len
        return x, ember.from_numpy(self._tokens[end : end + 1].reshape(()))

    def __getitems__(self, indices) -> list[tuple[np.ndarray, np.ndarray]]:
        """The samples of one batch, gathered with one fancy index (the DataLoader's hook).

        NOTE: the samples are NumPy views rather than tensors (default_collate stacks both
        into the same int64 tensors); skipping a tensor per sample makes loading ~10x
        cheaper, which matters when a training step takes milliseconds.
        """
        n = len(self)
        idx = np.fromiter((operator.index(i) for i in indices), np.int64)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = int(idx[(idx < -n) | (idx >= n)][0])
            raise IndexError(f"index {bad} is out of range for a dataset of {n} windows")
        starts = (idx % max(n, 1)) * self.stride
        rows = self._tokens[starts[:, None] + np.arange(self.seq_len + 1)]
        targets = rows[:, -1]
        return [(rows[i, :-1], targets[i]) for i in range(len(rows))]

    def __repr__(self) -> str:
        return (f"NextTokenDataset(num_tokens={self._tokens.shape[0]}, context={self.seq_len}, "
                f"stride={self.stride}, len={len(self)})")


class MLPLanguageModel(nn.Module):
    """The notes' MLP language model over a fixed window of tokens.

    Args:
        vocab_size: number of token ids ``V``.
        context: tokens in the window the model reads ``L``.
        embed_dim: length of each token's vector ``E``.
        hidden: width of each hidden layer.
        layers: number of ``Linear -> BatchNorm1d -> ReLU -> Dropout`` blocks (0: the
            flattened embeddings feed the output layer directly).
        dropout: probability of zeroing each hidden activation while training.

    Shape:
        - Input: ``(N, L)`` int64 token ids.
        - Output: ``(N, V)`` logits for the token that follows each window.

    The hidden Linears have no bias: the BatchNorm1d right after them subtracts the batch
    mean, which would cancel it (its ``bias`` takes that role).
    """

    name = "mlp"
    #: the model needs exactly ``context`` tokens; shorter prompts are left-padded
    fixed_context = True

    def __init__(self, vocab_size: int, context: int = 8, embed_dim: int = 24,
                 hidden: int = 384, layers: int = 2, dropout: float = 0.05):
        super().__init__()
        self.vocab_size = _check_int(vocab_size, "vocab_size", 1)
        self.context = _check_int(context, "context", 1)
        self.embed_dim = _check_int(embed_dim, "embed_dim", 1)
        self.hidden = _check_int(hidden, "hidden", 1)
        self.layers = _check_int(layers, "layers", 0)
        self.dropout = dropout = _check_dropout(dropout)
        self.embedding = nn.Embedding(self.vocab_size, self.embed_dim)
        blocks = []
        width = self.context * self.embed_dim
        for _ in range(self.layers):
            blocks += [nn.Linear(width, self.hidden, bias=False), nn.BatchNorm1d(self.hidden),
                       nn.ReLU(), nn.Dropout(dropout)]
            width = self.hidden
        self.blocks = nn.Sequential(*blocks)
        self.output = nn.Linear(width, self.vocab_size)  # no dropout after the output layer

    @property
    def context_size(self) -> int:
        """Tokens the model reads to predict the next one."""
        return self.context

    def forward(self, input: ember.Tensor) -> ember.Tensor:
        if input.ndim != 2 or input.shape[1] != self.context:
            raise ValueError(f"expected input of shape (N, {self.context}) token ids, "
                             f"got {tuple(input.shape)}")
        h = self.embedding(input).flatten(1)  # (N, L, E) -> (N, L*E)
        return self.output(self.blocks(h))

    def config(self) -> dict:
        """Constructor arguments: ``MLPLanguageModel(**model.config())`` rebuilds it."""
        return {"vocab_size": self.vocab_size, "context": self.context,
                "embed_dim": self.embed_dim, "hidden": self.hidden, "layers": self.layers,
                "dropout": self.dropout}

    def make_dataset(self, tokens, stride: int = 1) -> NextTokenDataset:
        """The training pairs for this model: every window and its next token."""
        return NextTokenDataset(tokens, self.context, stride=stride)

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, context={self.context}, "
                f"embed_dim={self.embed_dim}, hidden={self.hidden}, layers={self.layers}, "
                f"dropout={self.dropout}")


def generate(model: nn.Module, context_ids, n: int, temperature: float = 1.0,
             top_k: int | None = None, generator: ember.Generator | None = None,
             pad_id: int = 0) -> ember.Tensor:
    """Sample ``n`` tokens from ``model``, one at a time, each fed back as context.

    Works with any model of :mod:`ember.models`: it reads the last ``model.context_size``
    ids and takes the logits of the last position when the model returns one row per
    position (``(N, L, V)``). The model runs in ``eval()`` mode under ``no_grad()`` and is
    put back in the mode it was in.

    Args:
        model: a language model whose forward maps ``(1, L)`` ids to logits.
        context_ids: the prompt as a 1-D sequence of ids (may be empty when the model has
            a fixed context: missing positions are filled with ``pad_id`` on the left).
        n: number of tokens to generate.
        temperature: divides the logits; below 1 sharper, above 1 flatter; ``0`` picks
            the most likely token every time (greedy).
        top_k: sample only among the ``top_k`` most likely tokens.
        generator: ``ember.Generator`` for the draws (default: the global one).
        pad_id: id used to fill a window shorter than a fixed context.

    Returns:
        1-D int64 tensor of the ``n`` new ids (without the prompt).

    Raises:
        ValueError: negative ``n`` or ``temperature``, ``top_k < 1``, an empty prompt for
            a model without a fixed context.
    """
    n = _check_int(n, "n", 0)
    temperature = float(temperature)
    if not temperature >= 0.0 or math.isinf(temperature):
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
    if top_k is not None:
        top_k = _check_int(top_k, "top_k", 1)
    if isinstance(context_ids, ember.Tensor):
        ids = [int(i) for i in context_ids.reshape(-1).tolist()]
    else:
        ids = [int(i) for i in np.asarray(context_ids, dtype=np.int64).reshape(-1)]
    size = int(model.context_size)
    fixed = bool(getattr(model, "fixed_context", False))
    if not ids and not fixed:
        raise ValueError("generate needs at least one context id for this model")
    start = len(ids)
    was_training = model.training
    model.eval()
    try:
        with ember.no_grad():
            for _ in range(n):
                window = ids[-size:]
                if fixed and len(window) < size:
                    window = [pad_id] * (size - len(window)) + window
                logits = model(ember.tensor([window], dtype=ember.int64))
                if logits.ndim == 3:
                    logits = logits[:, -1]
                logits = logits[0].float()
                if temperature == 0.0:
                    ids.append(int(logits.argmax().item()))
                    continue
                logits = logits / temperature
                if top_k is not None and top_k < logits.shape[0]:
                    kth = logits.topk(top_k).values[-1]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = ember.softmax(logits, dim=-1)
                ids.append(int(ember.multinomial(probs, 1, generator=generator).item()))
    finally:
        model.train(was_training)
    return ember.tensor(ids[start:], dtype=ember.int64)


def unigram_loss(train_ids, eval_ids, vocab_size: int) -> float:
    """Cross-entropy (nats per token) of predicting ``eval_ids`` from token frequencies alone.

    The baseline a language model must beat: it ignores context and predicts each token
    with its frequency in ``train_ids`` (add-one smoothed, so a token never seen in training
    costs a finite amount).
    """
    train = np.asarray(train_ids.numpy() if isinstance(train_ids, ember.Tensor) else train_ids,
                       dtype=np.int64).reshape(-1)
    ev = np.asarray(eval_ids.numpy() if isinstance(eval_ids, ember.Tensor) else eval_ids,
                    dtype=np.int64).reshape(-1)
    if ev.size == 0:
        raise ValueError("unigram_loss needs at least one token to evaluate")
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64) + 1.0
    logp = np.log(counts) - np.log(counts.sum())
    return float(-logp[ev].mean())
