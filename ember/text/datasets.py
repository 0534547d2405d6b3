"""TextDataset: one long 1-D token sequence cut into fixed-length (input, target) blocks."""
from __future__ import annotations

import operator

import numpy as np

import ember
from ember.utils.data.dataset import Dataset

__all__ = ["TextDataset"]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = operator.index(value)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _tokens_to_numpy(tokens) -> np.ndarray:
    """A 1-D int64 array of ``tokens``: the same memory when they already are int64."""
    if isinstance(tokens, ember.Tensor):
        arr = tokens.detach().numpy()
    elif isinstance(tokens, np.ndarray):
        arr = tokens
    else:
        arr = np.asarray(tokens)
        if arr.size == 0 and arr.dtype == np.float64:  # np.asarray([]) is float64
            arr = arr.astype(np.int64)
    if arr.ndim != 1:
        raise ValueError(
            f"tokens must be a 1-D sequence of token ids, got {arr.ndim}-D with shape "
            f"{tuple(arr.shape)}"
        )
    if arr.dtype.kind not in "iu":
        raise TypeError(f"tokens must be integer token ids, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError("tokens contain ids too large for int64")
    return arr.astype(np.int64, copy=False)


class TextDataset(Dataset):
    """Language-modelling blocks over one long token sequence, as the notes describe.

    Block ``idx`` starts at ``idx * stride``; ``dataset[idx]`` is ``(x, y)`` with
    ``x = tokens[s : s + seq_len]`` and ``y = tokens[s + 1 : s + seq_len + 1]`` (the same
    block shifted one token on, so ``y[i]`` is the token that follows ``x[i]``). Both are
    ``int64`` tensors that are views of the corpus: nothing is copied, not even per item.
    Only blocks whose ``y`` fits are counted, so ``len(dataset)`` is
    ``(len(tokens) - seq_len - 1) // stride + 1`` (0 if the corpus is shorter than
    ``seq_len + 1`` tokens).

    Args:
        tokens: the corpus as a 1-D integer ember tensor, NumPy array or sequence (for
            instance ``vocab.encode(text)``). An int64 tensor or array is used in place;
            other integer dtypes are converted to int64 once.
        seq_len: tokens per block, at least 1.
        stride: distance between the starts of consecutive blocks, at least 1; defaults
            to ``seq_len`` (non-overlapping blocks). ``stride=1`` gives every window.

    Raises:
        ValueError: ``seq_len`` or ``stride`` below 1; ``tokens`` not 1-D.
        TypeError: ``tokens`` not integer; ``seq_len`` or ``stride`` not an integer.

    Works with :class:`ember.utils.data.DataLoader` at any ``num_workers``; the default
    collate stacks the blocks into ``(N, L)`` int64 batches.
    """

    def __init__(self, tokens, seq_len: int, stride: int | None = None):
        self.seq_len = _positive_int(seq_len, "seq_len")
        self.stride = self.seq_len if stride is None else _positive_int(stride, "stride")
        self._tokens = _tokens_to_numpy(tokens)
        n = self._tokens.shape[0]
        self._len = 0 if n < self.seq_len + 1 else (n - self.seq_len - 1) // self.stride + 1

    @property
    def tokens(self) -> ember.Tensor:
        """The whole corpus as a 1-D int64 tensor (a view, not a copy)."""
        return ember.from_numpy(self._tokens)

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, idx: int) -> tuple[ember.Tensor, ember.Tensor]:
        """Return block ``idx`` as ``(x, y)``; negative ``idx`` counts from the end.

        Raises:
            IndexError: ``idx`` outside ``-len(self) .. len(self) - 1``.
            TypeError: ``idx`` is not an integer.
        """
        if isinstance(idx, bool) or not hasattr(idx, "__index__"):
            raise TypeError(
                f"TextDataset indices must be integers, got {type(idx).__name__}"
            )
        i = operator.index(idx)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(
                f"index {operator.index(idx)} is out of range for a TextDataset of "
                f"{self._len} blocks"
            )
        start = i * self.stride
        end = start + self.seq_len
        return (
            ember.from_numpy(self._tokens[start:end]),
            ember.from_numpy(self._tokens[start + 1 : end + 1]),
        )

    def __repr__(self) -> str:
        return (
            f"TextDataset(num_tokens={self._tokens.shape[0]}, seq_len={self.seq_len}, "
            f"stride={self.stride}, len={self._len})"
        )
