"""A small causal transformer (GPT) language model, the second model of ``ember train``.

::

    ids (N, L) -> token + position Embedding -> (N, L, E)
              -> [x + Attention(LayerNorm(x)); x + MLP(LayerNorm(x))] x layers
              -> LayerNorm -> Linear (tied to the token embedding) -> logits (N, L, V)

nanoGPT's architecture: pre-norm blocks, causal multi-head self-attention through
``F.scaled_dot_product_attention`` (one fused op), a GELU MLP four times as wide, GPT-2's
initialisation, and the output layer sharing its weight with the token embedding.
"""
from __future__ import annotations

import math

import ember
from ember import nn
from ember.models._checks import _check_dropout, _check_int
from ember.nn import functional as F
from ember.text.datasets import TextDataset

__all__ = ["GPTLanguageModel"]


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where each position sees itself and the ones before it."""

    def __init__(self, embed_dim: int, heads: int, dropout: float, bias: bool):
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        N, L, E = x.shape
        q, k, v = self.qkv(x).split(E, dim=2)
        # (N, L, E) -> (N, heads, L, E / heads)
        q, k, v = (t.view(N, L, self.heads, E // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training
                                           else 0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(N, L, E)
        return self.resid_dropout(self.proj(y))


class Block(nn.Module):
    """One pre-norm transformer block: attention, then a GELU MLP, each residual."""

    def __init__(self, embed_dim: int, heads: int, hidden: int, dropout: float, bias: bool):
        super().__init__()
        self.ln_1 = nn.LayerNorm(embed_dim, bias=bias)
        self.attn = CausalSelfAttention(embed_dim, heads, dropout, bias)
        self.ln_2 = nn.LayerNorm(embed_dim, bias=bias)
        self.mlp = nn.Sequential(nn.Linear(embed_dim, hidden, bias=bias), nn.GELU(),
                                 nn.Linear(hidden, embed_dim, bias=bias), nn.Dropout(dropout))

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPTLanguageModel(nn.Module):
    """A GPT over windows of up to ``context`` tokens, predicting the next token everywhere.

    Args:
        vocab_size: number of token ids ``V``.
        context: the longest window ``L`` (the block size: one position embedding each).
        embed_dim: width ``E`` of the residual stream; a multiple of ``heads``.
        layers: transformer blocks.
        heads: attention heads per block.
        hidden: width of each block's MLP (default ``4 * embed_dim``).
        dropout: dropout on the embeddings, the attention weights and each residual branch.
        bias: biases in the Linear and LayerNorm layers (nanoGPT's default: none).

    Shape:
        - Input: ``(N, L)`` int64 token ids, ``1 <= L <= context``.
        - Output: ``(N, L, V)`` logits; row ``i`` predicts the token after position ``i``.

    Raises:
        ValueError: a size below its minimum, ``embed_dim`` not a multiple of ``heads``,
            ``dropout`` outside [0, 1).
    """

    name = "gpt"
    #: ``generate`` left-pads prompts to full windows, the length the model trains on
    fixed_context = True
    #: ``ember train --model gpt`` defaults that differ from the MLP's
    train_defaults = {"batch_size": 32, "lr": 1e-3, "weight_decay": 0.1}

    def __init__(self, vocab_size: int, context: int = 64, embed_dim: int = 128,
                 layers: int = 4, heads: int = 4, hidden: int | None = None,
                 dropout: float = 0.1, bias: bool = False):
        super().__init__()
        self.vocab_size = _check_int(vocab_size, "vocab_size", 1)
        self.context = _check_int(context, "context", 1)
        self.embed_dim = _check_int(embed_dim, "embed_dim", 1)
        self.layers = _check_int(layers, "layers", 0)
        self.heads = _check_int(heads, "heads", 1)
        self.hidden = 4 * self.embed_dim if hidden is None else _check_int(hidden, "hidden", 1)
        if self.embed_dim % self.heads:
            raise ValueError(f"embed_dim ({self.embed_dim}) must be a multiple of heads "
                             f"({self.heads})")
        self.dropout = dropout = _check_dropout(dropout)
        self.bias = bool(bias)
        self.token_embedding = nn.Embedding(self.vocab_size, self.embed_dim)
        self.position_embedding = nn.Embedding(self.context, self.embed_dim)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(self.embed_dim, self.heads, self.hidden, dropout,
                                           self.bias) for _ in range(self.layers)])
        self.ln_f = nn.LayerNorm(self.embed_dim, bias=self.bias)
        self.output = nn.Linear(self.embed_dim, self.vocab_size, bias=False)
        self.token_embedding.weight = self.output.weight  # weight tying: one Parameter
        self.apply(self._init_weights)
        # GPT-2: scale the residual projections' init by 1 / sqrt(2 * layers)
        for name, p in self.named_parameters():
            if name.endswith("attn.proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * max(self.layers, 1)))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)

    @property
    def context_size(self) -> int:
        """The longest window the model reads."""
        return self.context

    def forward(self, input: ember.Tensor) -> ember.Tensor:
        if input.ndim != 2 or not 1 <= input.shape[1] <= self.context:
            raise ValueError(f"expected input of shape (N, L) token ids with 1 <= L <= "
                             f"{self.context}, got {tuple(input.shape)}")
        L = input.shape[1]
        pos = ember.arange(L)
        x = self.drop(self.token_embedding(input) + self.position_embedding(pos))
        for block in self.blocks:
            x = block(x)
        return self.output(self.ln_f(x))

    def config(self) -> dict:
        """Constructor arguments: ``GPTLanguageModel(**model.config())`` rebuilds it."""
        return {"vocab_size": self.vocab_size, "context": self.context,
                "embed_dim": self.embed_dim, "layers": self.layers, "heads": self.heads,
                "hidden": self.hidden, "dropout": self.dropout, "bias": self.bias}

    def make_dataset(self, tokens, stride: int | None = None) -> TextDataset:
        """Training blocks: ``x`` a window of ``context`` ids, ``y`` the same shifted by one.

        ``stride`` defaults to ``context`` (non-overlapping blocks): every position of a
        block is a training target already, so overlapping windows would mostly repeat.
        """
        return TextDataset(tokens, self.context, stride=stride)

    def num_parameters(self) -> int:
        """Trainable parameters, the tied embedding counted once."""
        return sum(p.numel() for p in self.parameters())

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, context={self.context}, "
                f"embed_dim={self.embed_dim}, layers={self.layers}, heads={self.heads}, "
                f"hidden={self.hidden}, dropout={self.dropout}, bias={self.bias}")
