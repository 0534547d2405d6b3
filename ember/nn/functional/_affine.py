"""Affine maps, embedding lookups, one-hot encoding and padding."""
from __future__ import annotations

import numpy as np

from ... import ops as _ops
from ..._tensor import Tensor
from .._functions.embedding import EmbeddingLookup, check_indices, renorm_
from .._functions.pad import ConstantPad, IndexPad, source_index


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` as one node.

    Shape:
        - input ``(*, in_features)``, weight ``(out_features, in_features)``,
          bias ``(out_features,)``; output ``(*, out_features)``.
    """
    return _ops.linear(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None):
    """``y_k = x1 @ weight[k] @ x2 + bias[k]`` (composed: one matmul, a product, a sum)."""
    n_out, n1, n2 = weight.shape
    w = _ops.reshape(_ops.permute(weight, (1, 0, 2)), n1, n_out * n2)
    t = _ops.reshape(_ops.matmul(input1, w), *input1.shape[:-1], n_out, n2)
    out = _ops.sum(t * _ops.unsqueeze(input2, -2), dim=-1)
    return out + bias if bias is not None else out


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer ids in ``input``.

    Args:
        input: integer ids of any shape.
        weight: the table, ``(num_embeddings, embedding_dim)``.
        padding_idx: a row that receives no gradient (negative counts from the end).
        max_norm: rows looked up whose norm exceeds it are rescaled in place first.
        norm_type: the p of that norm.
        scale_grad_by_freq: divide each row's gradient by its id's count in the batch.
        sparse: accepted; gradients are always dense here.

    Raises:
        RuntimeError: ids of a float dtype.
        IndexError: an id outside ``[0, num_embeddings)``.
    """
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    num = weight._data.shape[0]
    check_indices(idx, num)
    if padding_idx is not None:
        padding_idx = _check_padding_idx(padding_idx, num)
    if max_norm is not None:
        renorm_(weight._data, idx, max_norm, norm_type)
        weight._vc[0] += 1
    return EmbeddingLookup.apply(weight, idx=idx, padding_idx=padding_idx,
                                 scale_grad_by_freq=scale_grad_by_freq)


class _PaddingIdxError(ValueError, AssertionError):
    """torch asserts here (AssertionError); a ValueError is what the value error is."""


def _check_padding_idx(padding_idx: int, num_embeddings: int) -> int:
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise _PaddingIdxError("Padding_idx must be within num_embeddings")
    return padding_idx % num_embeddings


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a trailing dimension of ``num_classes``."""
    return _ops.one_hot(tensor, num_classes)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions: ``pad = (left, right, top, bottom, ...)``,
    starting from the last dimension. ``mode`` is constant (negative pads crop), reflect,
    replicate or circular."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    ndim = input.dim()
    k = len(pad) // 2
    if k > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {ndim}")
    pairs = [(0, 0)] * (ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    if mode == "constant":
        return ConstantPad.apply(input, pads=tuple(pairs), value=0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad mode {mode!r} is not supported (constant, reflect, "
                                  "replicate, circular are)")
    if value:
        raise ValueError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    indices = {}
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            n = input.shape[axis]
            if mode == "reflect" and (before >= n or after >= n):
                raise RuntimeError(f"Argument #4: Padding size should be less than the "
                                   f"corresponding input dimension, but got: padding "
                                   f"({before}, {after}) at dimension {axis} of input "
                                   f"{list(input.shape)}")
            indices[axis] = source_index(n, before, after, mode)
    return IndexPad.apply(input, indices=indices)
