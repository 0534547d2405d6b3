"""Helpers for variable-length sequences: ``pad_sequence`` and torch's packing utilities
(``PackedSequence``, ``pack_padded_sequence``, ``pad_packed_sequence``, ``pack_sequence``,
``unpack_sequence``, ``unpad_sequence``).

A ``PackedSequence`` holds the real steps of a batch of sequences sorted by decreasing
length, time-major: ``data[:batch_sizes[0]]`` is step 0 of every sequence, the next
``batch_sizes[1]`` rows step 1 of those at least two long, and so on. Packing and unpacking
are row gathers (``index_select``), so gradients flow through both.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable

import numpy as np

import ember

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpack_sequence", "unpad_sequence", "invert_permutation"]


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


# --- packed sequences ---------------------------------------------------------------------

def invert_permutation(permutation):
    """The inverse of a permutation tensor (``None`` stays ``None``), as torch's."""
    if permutation is None:
        return None
    perm = permutation.numpy()
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size, dtype=perm.dtype)
    return ember.from_numpy(inverse)


class PackedSequence(namedtuple("PackedSequence_",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """The real steps of a batch of variable-length sequences, as torch's ``PackedSequence``.

    Build one with ``pack_padded_sequence`` or ``pack_sequence``, never by hand; recurrent
    layers take it as input and return their output packed the same way.

    Attributes:
        data: ``(sum(lengths), *)``, the steps, time-major, sequences longest first.
        batch_sizes: int64 ``(max_length,)``, how many sequences have step ``t``.
        sorted_indices: int64, ``sorted_indices[i]`` is the batch index of the i-th longest
            sequence (``None`` when the batch was already sorted).
        unsorted_indices: its inverse permutation (``None`` likewise).
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:                    # torch allows a (data, batch_sizes) pair
            if not isinstance(data, (list, tuple)) or len(data) != 2:
                raise TypeError("PackedSequence: expected data and batch_sizes, or a pair")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """This PackedSequence with ``data.to(*args, **kwargs)`` (itself when unchanged)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self):
        """Itself: everything is on the CPU already."""
        return self

    def double(self):
        """A copy with float64 data."""
        return self.to(dtype=ember.float64)

    def float(self):
        """A copy with float32 data."""
        return self.to(dtype=ember.float32)

    def long(self):
        """A copy with int64 data."""
        return self.to(dtype=ember.int64)

    @property
    def is_cuda(self) -> bool:
        """False: ember runs on the CPU."""
        return False

    def is_pinned(self) -> bool:
        """False: ember has no pinned memory."""
        return False


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, ember.Tensor):
        if lengths.dim() != 1:
            raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths.dim()}D cpu {_type_word(lengths)} tensor")
        return lengths.numpy().astype(np.int64)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def _type_word(t) -> str:
    name = str(t.dtype).rsplit(".", 1)[-1]
    return {"int64": "Long", "int32": "Int", "float32": "Float", "float64": "Double"}.get(
        name, name)


def pack_padded_sequence(input, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch of variable-length sequences (torch's function).

    Args:
        input: ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``.
        lengths: the ``B`` sequence lengths (a list or a 1-D int64 tensor), each in
            ``[1, T]``.
        batch_first: the layout of ``input``.
        enforce_sorted: require ``lengths`` in decreasing order; with False the batch is
            sorted here (stably) and the permutation kept in the result.

    Returns:
        A ``PackedSequence``; its data is differentiable with respect to ``input``.

    Raises:
        RuntimeError: unsorted lengths with ``enforce_sorted``, a length < 1 or > T, or a
            count of lengths other than the batch size.
    """
    lengths = _lengths_array(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = ember.from_numpy(order.astype(np.int64))
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = int(input.shape[0]), int(input.shape[1])
    if lengths.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={batch})")
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if np.any(np.diff(lengths) > 0):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    if lengths.size and lengths[0] > steps:
        raise RuntimeError(f"the longest length ({lengths[0]}) exceeds the padded length "
                           f"({steps})")
    batch_sizes = (lengths[None, :] > np.arange(lengths[0])[:, None]).sum(1)
    rows = np.concatenate([t * batch + np.arange(n) for t, n in enumerate(batch_sizes)])
    data = input.reshape(steps * batch, *input.shape[2:]).index_select(
        0, ember.from_numpy(rows.astype(np.int64)))
    return PackedSequence(data, ember.from_numpy(batch_sizes.astype(np.int64)),
                          sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Undo ``pack_padded_sequence``: a padded batch and the lengths (torch's function).

    Args:
        sequence: a ``PackedSequence``.
        batch_first: return ``(B, T, *)`` instead of ``(T, B, *)``.
        padding_value: the value of the padded positions.
        total_length: pad to this many steps instead of the longest length.

    Returns:
        ``(padded, lengths)``, in the batch's original order; ``lengths`` is int64.

    Raises:
        ValueError: ``total_length`` shorter than the longest sequence.
    """
    batch_sizes = sequence.batch_sizes.numpy().astype(np.int64)
    steps = int(batch_sizes.size)
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and "
                             f"max sequence length being {steps}")
        steps = total_length
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    data = sequence.data
    total = int(data.shape[0])
    # each padded position (t, b) reads row rows[t, b] of data, or the extra padding row
    rows = np.full((steps, batch), total, np.int64)
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(np.int64)
    for t, (start, n) in enumerate(zip(starts, batch_sizes)):
        rows[t, :n] = start + np.arange(n)
    pad_row = ember.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded = ember.cat([data, pad_row], 0).index_select(
        0, ember.from_numpy(rows.reshape(-1))).reshape(steps, batch, *data.shape[1:])
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.numpy()]
    return padded, ember.from_numpy(lengths.astype(np.int64))


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors ``(L_i, *)`` (torch's function): ``pad_sequence`` then
    ``pack_padded_sequence``."""
    lengths = [int(v.size(0)) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False) -> list:
    """Split a padded batch back into a list of its sequences, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences.unbind(0), _lengths_array(lengths))]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of tensors a ``PackedSequence`` holds, in the batch's original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
