"""Affine maps, embedding lookups, one-hot encoding and padding."""
from __future__ import annotations

import numpy as np

from ... import _dtype
from ... import ops as _ops
from ..._arg_errors import must_be
from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.grad_mode import state as grad_state
from ...ops.linear_graph import addmm_linear
from ...ops.linear_graph import record as record_linear
from .._functions.embedding import (
    EmbeddingBagOp,
    EmbeddingLookup,
    check_index_dtype,
    check_indices,
    renorm_,
)
from .._functions.pad import ConstantPad, IndexPad, source_index
from ._common import _AssertionValueError, _legacy_name, _size_index_error


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``, recorded as torch records it (``AddmmBackward0`` with
    edges to the bias, the input and ``TBackward0`` of the weight; see ``ops/linear_graph.py``).

    Shape:
        - input ``(*, in_features)``, weight ``(out_features, in_features)``,
          bias ``(out_features,)``; output ``(*, out_features)``.
    """
    w_dims = weight._data.ndim
    if input._data.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are 0D "
                           f"and {w_dims}D")
    if w_dims > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w_dims}D")
    if w_dims < 2:
        # torch's composite path (matmul, then a broadcast add) for a vector weight
        if w_dims == 0:
            raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                               f"{input._data.ndim}D and 0D")
        out = _ops.matmul(input, weight)
        return out + bias if bias is not None else out
    if (grad_state.enabled and (input._rg or weight._rg or (bias is not None and bias._rg))) \
            or (bias is not None and bias._data.ndim > 1):
        if bias is not None and input._data.ndim == 2:
            return addmm_linear(bias, input, weight)  # the common case, direct
        return record_linear(input, weight, bias)  # torch's nodes: addmm, weight.t(), views
    try:  # nothing to record: one fused NumPy computation
        return _ops.linear(input, weight, bias)
    except ValueError:  # NumPy's broadcast error: a bias of the wrong length
        if bias is None or bias._data.ndim != 1:
            raise
        rows = int(np.prod(input.shape[:-1], dtype=np.int64))  # torch's addmm sees 2-D
        raise RuntimeError(f"The expanded size of the tensor ({weight.shape[0]}) must match the "
                           f"existing size ({bias.shape[0]}) at non-singleton dimension 1.  "
                           f"Target sizes: [{rows}, {weight.shape[0]}].  Tensor sizes: "
                           f"{list(bias.shape)}") from None


_c10_name = _dtype.c_type_name  # a dtype as torch's C++ messages print it ('c10::Half')


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None):
    """``y_k = x1 @ weight[k] @ x2 + bias[k]`` (composed: one matmul, a product, a sum)."""
    dts = [a._data.dtype for a in (input1, input2, weight, bias) if a is not None]
    if len(set(dts)) > 1:
        names = ("input1", "input2", "weight", "bias")
        raise RuntimeError("All tensors must have the same dtype, got " + ", ".join(
            f"{n}: {_c10_name(d)}" for n, d in zip(names, dts)))
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and "
                           f"{input2.dim()}")
    for i in range(input1.dim() - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got "
                               f"{input1.shape[i]} and {input2.shape[i]}")
    for which, x in ((1, input1), (2, input2)):
        if x.dim() == 0 or weight.dim() <= which:  # torch reads x.size(-1), weight.size(which)
            raise _size_index_error(x.dim(), -1) if x.dim() == 0 else \
                _size_index_error(weight.dim(), which)
        if x.shape[-1] != weight.shape[which]:
            raise RuntimeError(f"bilinear(): input{which} size does not match weight size: got "
                               f"{x.shape[-1]} but expected {weight.shape[which]}")
    n_out, n1, n2 = weight.shape
    if bias is not None and bias.shape[0] != n_out:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[0]} but expected {n_out}")
    if dts[0] == np.bool_:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    if dts[0].kind == "c" and is_grad_enabled() and any(
            a.requires_grad for a in (input1, input2, weight)):  # the bias is added after
        raise RuntimeError("_trilinear does not support automatic differentiation for outputs "
                           "with complex dtype.")
    w = _ops.reshape(_ops.permute(weight, (1, 0, 2)), n1, n_out * n2)
    t = _ops.reshape(_ops.matmul(input1, w), *input1.shape[:-1], n_out, n2)
    out = _ops.sum(t * _ops.unsqueeze(input2, -2), dim=-1)
    if out.dtype != input1.dtype:  # sum widens integers; torch's bilinear keeps the dtype
        out = out.to(input1.dtype)
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
        sparse: give ``weight`` a sparse COO gradient (one entry per looked-up id, as torch).

    Raises:
        RuntimeError: ids of a float dtype; a weight that is not 2-D.
        IndexError: an id outside ``[0, num_embeddings)``.
    """
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    num = weight._data.shape[0]
    if padding_idx is not None:
        padding_idx = _check_padding_idx(padding_idx, num)
    if max_norm is not None:  # torch renormalises first, with embedding_renorm_'s checks
        _renorm_rows(idx, weight, max_norm, norm_type)
    check_indices(idx, num)
    if sparse:
        from ...sparse._embedding import SparseEmbeddingLookup as op
    else:
        op = EmbeddingLookup
    return op.apply(weight, idx=idx, padding_idx=padding_idx,
                    scale_grad_by_freq=scale_grad_by_freq)


def _renorm_rows(idx, weight, max_norm, norm_type):
    """torch's embedding_renorm_: its ids' dtype checked, then the rows of the sorted distinct
    ids rescaled in place up to the first id that cannot select a row, which raises
    (negative ids count from the end there)."""
    check_index_dtype(idx, "#2 'indices'", "embedding_renorm_")
    num = weight._data.shape[0]
    bad = idx[(idx < -num) | (idx >= num)]
    first = int(bad.min()) if bad.size else None
    # the rows before the bad id are already rescaled when torch raises
    renorm_(weight._data, idx if first is None else idx[idx < first], max_norm, norm_type)
    weight._vc[0] += 1
    if first is not None:
        raise IndexError(f"select(): index {first} out of range for tensor of size "
                         f"{list(weight.shape)} at dimension 0")


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embeddings, without the per-id rows in between.

    Args:
        input: ``(B, N)`` ids, B bags of N each; or ``(N,)`` ids cut into bags by ``offsets``.
        weight: the table, ``(num_embeddings, embedding_dim)``.
        offsets: with 1-D ``input``, where each bag starts (``offsets[0]`` must be 0).
        max_norm, norm_type: as for ``embedding`` (rows renormalised in place first).
        scale_grad_by_freq: divide each row's gradient by its id's count in ``input``.
        mode: ``"sum"``, ``"mean"`` (the default) or ``"max"``, per feature.
        sparse: give ``weight`` a sparse COO gradient (sum and mean modes, as torch).
        per_sample_weights: weights shaped like ``input`` scaling each row (sum mode only).
        include_last_offset: ``offsets`` has one more entry, the end of the last bag.
        padding_idx: ids left out of every bag (a mean counts only the others).

    Returns:
        ``(B, embedding_dim)``; an empty bag gives zeros.

    Raises:
        ValueError: bad ranks, offsets with 2-D input, a bad mode or a weights shape.
        NotImplementedError: ``per_sample_weights`` outside sum mode.
        RuntimeError: bad ids, offsets or padding_idx (torch's messages).
    """
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()}")
    idx = input._data
    if input.dim() == 2:
        if offsets is not None:
            kind = "<class 'ember.Tensor'>" if isinstance(offsets, Tensor) else type(offsets)
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {kind}")
        starts = np.arange(0, idx.size, idx.shape[1]) if idx.shape[1] else np.zeros(
            idx.shape[0], np.int64)
        offsets_dtype = idx.dtype
        idx, include_last_offset = idx.reshape(-1), False
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts, offsets_dtype = offsets._data.astype(np.int64), offsets._data.dtype
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    num = weight.shape[0]
    if max_norm is not None:
        _renorm_rows(idx, weight, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    _check_bag_operands(idx, offsets_dtype, weight, per_sample_weights, mode, padding_idx)
    bag, num_bags = _bags_of(idx, starts, include_last_offset)
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} "
                               f"through {num - 1}, but got {padding_idx}")
        bag[idx == padding_idx % num] = -1
    if sparse:
        from ...sparse._embedding import SparseEmbeddingBag as bag_op
    else:
        bag_op = EmbeddingBagOp
    return bag_op.apply(weight, per_sample_weights, idx=idx.astype(np.int64), bag=bag,
                        num_bags=num_bags, mode=mode, scale_grad_by_freq=scale_grad_by_freq)


def _check_bag_operands(idx, offsets_dtype, weight, per_sample_weights, mode, padding_idx=None):
    """torch's embedding_bag checks: the ids and offsets (promoted together) are int64 or
    int32, the weight floating, the per-sample weights of its dtype, the ids in range."""
    promoted = _dtype.promote_types(_dtype.from_numpy(idx.dtype), _dtype.from_numpy(offsets_dtype))
    check_index_dtype(np.empty(0, promoted.np), where="embedding_bag")
    w_dt = weight._data.dtype
    if w_dt.kind != "f":
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have one of the "
                           f"following scalar types: Half, BFloat16, Float, Double; but got "
                           f"{_legacy_name(w_dt)} instead (while checking arguments for "
                           f"embedding_bag)")
    if per_sample_weights is not None and per_sample_weights._data.dtype != w_dt:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have the same type as "
                           f"tensor for argument #1 'per_sample_weights'; but type "
                           f"{_legacy_name(w_dt)} does not equal "
                           f"{_legacy_name(per_sample_weights._data.dtype)} (while checking "
                           f"arguments for embedding_bag)")
    num = weight.shape[0]
    bad = np.flatnonzero((idx < 0) | (idx >= num))
    # torch's fast path (and its message) is for sum / mean of a float32 or 16-bit weight
    # without a padding_idx; the generic kernel words it differently
    if bad.size and (mode == "max" or padding_idx is not None or w_dt == np.float64):
        raise RuntimeError(f"embedding_bag: Expected idx >= 0 && idx < num_embeddings but found "
                           f"idx to be {idx[bad[0]]}")
    if bad.size:
        raise RuntimeError(f"Index {bad[0]} of input takes value {idx[bad[0]]} which is not in "
                           f"the valid range [0, {num})")


def _bags_of(idx: np.ndarray, starts: np.ndarray, include_last_offset: bool):
    """The bag of each id (-1: none) and the number of bags, with torch's offset checks."""
    n = idx.size
    if starts.size and starts[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {starts[0]}")
    if starts.size and starts[-1] > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                           f"offsets[-1] of {starts[-1]}")
    if np.any(np.diff(starts) < 0):
        raise RuntimeError("offsets must be non-decreasing")
    num_bags = max(starts.size - 1, 0) if include_last_offset else starts.size
    # NOTE: torch reads only the first num_bags offsets: with include_last_offset the last bag
    # runs to the end of the input, whatever the last offset says
    bag = np.searchsorted(starts[:num_bags], np.arange(n), side="right") - 1
    return bag, num_bags


class _PaddingIdxError(_AssertionValueError):
    """torch asserts here (AssertionError); a ValueError is what the value error is."""


def _check_padding_idx(padding_idx: int, num_embeddings: int) -> int:
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise _PaddingIdxError("Padding_idx must be within num_embeddings")
    return padding_idx % num_embeddings


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a trailing dimension of ``num_classes``."""
    if num_classes == -1 and tensor.numel() == 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    return _ops.one_hot(tensor, num_classes)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions: ``pad = (left, right, top, bottom, ...)``,
    starting from the last dimension. ``mode`` is constant (negative pads crop), reflect,
    replicate or circular."""
    if not isinstance(pad, (tuple, list)):
        raise must_be("pad", "pad", 2, "tuple of ints", pad)
    if value is not None and not isinstance(value, (int, float, np.number)):
        raise must_be("pad", "value", 4, "float", value)
    for i, p in enumerate(pad):
        if isinstance(p, (float, np.floating)):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(p).__name__} at pos {i}")
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
        if any(n + b + a < 0 for n, (b, a) in zip(input.shape, pairs)):
            raise RuntimeError("narrow(): length must be non-negative.")
        return ConstantPad.apply(input, pads=tuple(pairs), value=0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_nonconstant_pad(input, pairs[ndim - k:], mode)
    indices = {}
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            indices[axis] = source_index(input.shape[axis], before, after, mode)
    return IndexPad.apply(input, indices=indices)


_PAD_COMBOS = ("Supported combinations for non-constant padding:\n"
               "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
               "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
               "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _check_nonconstant_pad(input, pairs, mode):
    """torch's checks for reflect / replicate / circular: ``pairs`` are the (before, after)
    pads of the padded (trailing) dimensions, outermost first."""
    shape, ndim, k = list(input.shape), input.dim(), len(pairs)
    if k not in (1, 2, 3) or ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {2 * k} is not supported for {ndim}D input "
                                  f"tensor.\n{_PAD_COMBOS}")
    sizes = shape[ndim - k:]
    outs = [n + b + a for n, (b, a) in zip(sizes, pairs)]
    if mode == "circular":
        for n, (b, a), o in zip(sizes[::-1], pairs[::-1], outs[::-1]):
            if b > n or a > n:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if o < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
        return
    kernel = f"{'reflection' if mode == 'reflect' else 'replication'}_pad{k}d"
    if 0 in shape[1 if ndim == k + 2 else 0:]:  # only the batch dimension may be empty
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 "
                           f"batch size and other non-zero dimensions for input, but got: "
                           f"{shape}")
    if mode == "reflect":
        for j in reversed(range(k)):  # W (argument #4) first, then H (#6), then D (#8)
            (b, a), n = pairs[j], sizes[j]
            if b >= n or a >= n:
                raise RuntimeError(f"Argument #{4 + 2 * (k - 1 - j)}: Padding size should be "
                                   f"less than the corresponding input dimension, but got: "
                                   f"padding ({b}, {a}) at dimension {ndim - k + j} of input "
                                   f"{shape}")
    if not (all(o < 1 for o in outs) if k > 1 else outs[0] < 1) and any(o < 0 for o in outs):
        # past torch's "too small" check (some dimension is still >= 1): its allocation fails
        if mode == "reflect" and k == 2:
            raise RuntimeError("numel: integer multiplication overflow")
        full = shape[:ndim - k] + outs
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{next(o for o in full if o < 0)}: {full}")
    if all(o < 1 for o in outs) if k > 1 else outs[0] < 1:
        # torch's spelling, per kernel: "(W: 4)", "(H: 3, W: 4)" (replicate: "W: 4 )"),
        # "(D: 2 H: 3, W: 4)"
        names = "DHW"[3 - k:]
        given = [f"{c}: {n}" for c, n in zip(names, sizes)]
        given = " ".join(given[:-1]) + (", " if k > 1 else "") + given[-1]
        if mode == "replicate" and k == 2:
            given += " "
        got = " ".join(f"{c}: {o}" for c, o in zip(names, outs))
        raise RuntimeError(f"input ({given}) is too small. Calculated output {got}")
    if input._data.dtype == np.bool_:  # the kernel's own check, after the shape checks
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
