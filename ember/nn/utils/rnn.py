"""Helpers for variable-length sequences: ``pad_sequence``."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import ember

__all__ = ["pad_sequence"]


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right"):
    """Stack tensors of different lengths, padding each to the longest.

    Mirrors ``torch.nn.utils.rnn.pad_sequence``: the sequences have shapes ``(L_i, *)``
    with the same trailing dimensions ``*``; the result has the dtype of the first one.
    Differentiable: when a sequence requires grad, the padding is built from ember ops
    so gradients flow back to each sequence's real positions.

    Args:
        sequences: a list (or any iterable, or a tensor, which is split along its first
            dimension) of tensors ``(L_i, *)``.
        batch_first: output ``(N, L, *)`` if True, else ``(L, N, *)`` (the default, as in
            torch).
        padding_value: the value of padded positions.
        padding_side: ``"right"`` (pad after the sequence) or ``"left"`` (before).

    Returns:
        A tensor ``(L, N, *)`` or ``(N, L, *)`` with ``L = max(L_i)``.

    Raises:
        RuntimeError: an empty list, a bad ``padding_side``, or trailing dimensions that
            differ (torch's messages).
    """
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, ember.Tensor):
        sequences = list(sequences.unbind(0)) if hasattr(sequences, "unbind") else list(
            sequences)
    elif not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences[1:]:
        rest = tuple(s.shape[1:])
        if rest != trailing:
            dim = next((i for i, (a, b) in enumerate(zip(rest, trailing)) if a != b), None)
            if dim is None or len(rest) != len(trailing):
                raise RuntimeError(f"pad_sequence: all sequences must have the same number "
                                   f"of dimensions, got {tuple(sequences[0].shape)} and "
                                   f"{tuple(s.shape)}")
            raise RuntimeError(f"The size of tensor a ({rest[dim]}) must match the size of "
                               f"tensor b ({trailing[dim]}) at non-singleton dimension "
                               f"{dim + 1}")
    lengths = [int(s.shape[0]) for s in sequences]
    max_len = max(lengths)
    dtype = sequences[0].dtype
    if ember.is_grad_enabled() and any(s.requires_grad for s in sequences):
        return _pad_differentiable(sequences, lengths, max_len, trailing, dtype, batch_first,
                                   padding_value, padding_side)
    out = np.full((len(sequences), max_len, *trailing), padding_value,
                  dtype=ember._dtype.to_numpy(dtype))
    left = padding_side == "left"
    for i, (s, n) in enumerate(zip(sequences, lengths)):
        if n:
            if left:
                out[i, max_len - n:] = s.numpy()
            else:
                out[i, :n] = s.numpy()
    if not batch_first:
        out = np.ascontiguousarray(np.swapaxes(out, 0, 1))
    return ember.from_numpy(out)


def _pad_differentiable(sequences, lengths, max_len, trailing, dtype, batch_first,
                        padding_value, padding_side):
    rows = []
    for s, n in zip(sequences, lengths):
        s = s.to(dtype)
        if n < max_len:
            pad = ember.full((max_len - n, *trailing), padding_value, dtype=dtype)
            s = ember.cat([pad, s] if padding_side == "left" else [s, pad], dim=0)
        rows.append(s)
    return ember.stack(rows, dim=0 if batch_first else 1)
