"""A recurrent language model (char-rnn), the third model of ``ember train``.

::

    ids (N, L) -> Embedding -> (N, L, E) -> LSTM x layers -> (N, L, H)
              -> Dropout -> Linear -> logits (N, L, V)

Every position predicts the token after it, as in the GPT; the LSTM carries what it has read
so far in its state, so the window length is only what training unrolls through.
"""
from __future__ import annotations

import ember
from ember import nn
from ember.models._checks import _check_dropout, _check_int
from ember.text.datasets import TextDataset

__all__ = ["LSTMLanguageModel"]


class LSTMLanguageModel(nn.Module):
    """An LSTM over windows of up to ``context`` tokens, predicting the next token everywhere.

    Args:
        vocab_size: number of token ids ``V``.
        context: the longest window ``L`` trained on (backpropagation runs through it).
        embed_dim: width ``E`` of the token embedding.
        hidden: width ``H`` of the LSTM state.
        layers: stacked LSTM layers.
        dropout: dropout between the LSTM layers and before the output layer.

    Shape:
        - Input: ``(N, L)`` int64 token ids, ``1 <= L <= context``.
        - Output: ``(N, L, V)`` logits; row ``i`` predicts the token after position ``i``.

    Raises:
        ValueError: a size below its minimum, ``dropout`` outside [0, 1).
    """

    name = "lstm"
    #: ``generate`` left-pads prompts to full windows, the length the model trains on
    fixed_context = True
    #: ``ember train --model lstm`` defaults that differ from the MLP's
    train_defaults = {"batch_size": 16, "lr": 1e-2, "weight_decay": 0.0}

    def __init__(self, vocab_size: int, context: int = 64, embed_dim: int = 32,
                 hidden: int = 128, layers: int = 2, dropout: float = 0.1):
        super().__init__()
        self.vocab_size = _check_int(vocab_size, "vocab_size", 1)
        self.context = _check_int(context, "context", 1)
        self.embed_dim = _check_int(embed_dim, "embed_dim", 1)
        self.hidden = _check_int(hidden, "hidden", 1)
        self.layers = _check_int(layers, "layers", 1)
        self.dropout = dropout = _check_dropout(dropout)
        self.embedding = nn.Embedding(self.vocab_size, self.embed_dim)
        self.lstm = nn.LSTM(self.embed_dim, self.hidden, num_layers=self.layers,
                            dropout=dropout if self.layers > 1 else 0.0, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.output = nn.Linear(self.hidden, self.vocab_size)

    @property
    def context_size(self) -> int:
        """The longest window the model reads."""
        return self.context

    def forward(self, input: ember.Tensor) -> ember.Tensor:
        if input.ndim != 2 or not 1 <= input.shape[1] <= self.context:
            raise ValueError(f"expected input of shape (N, L) token ids with 1 <= L <= "
                             f"{self.context}, got {tuple(input.shape)}")
        states, _ = self.lstm(self.embedding(input))
        return self.output(self.drop(states))

    def config(self) -> dict:
        """Constructor arguments: ``LSTMLanguageModel(**model.config())`` rebuilds it."""
        return {"vocab_size": self.vocab_size, "context": self.context,
                "embed_dim": self.embed_dim, "hidden": self.hidden, "layers": self.layers,
                "dropout": self.dropout}

    def make_dataset(self, tokens, stride: int | None = None) -> TextDataset:
        """Training blocks: ``x`` a window of ``context`` ids, ``y`` the same shifted by one
        (``stride`` defaults to ``context``: every position is a target already)."""
        return TextDataset(tokens, self.context, stride=stride)

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, context={self.context}, "
                f"embed_dim={self.embed_dim}, hidden={self.hidden}, layers={self.layers}, "
                f"dropout={self.dropout}")
