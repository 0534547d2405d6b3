"""``linear_cross_entropy``: a linear layer followed by cross entropy, optionally chunked.

With ``options=None`` it is exactly ``cross_entropy(linear(input, W, b), target, ...)``. With
a ``LinearCrossEntropyOptions`` it runs one fused node over chunks of rows that never holds
the ``(N, C)`` logits (``ember/nn/_functions/linear_cross_entropy.py``), as torch 2.13 does,
for the cases that path supports (class-index targets, no label smoothing, 2-D weight);
the others fall back to the reference path with torch's warning.
"""
from __future__ import annotations

import math
import warnings

from ..._tensor import Tensor
from ._affine import _c10_name, linear
from ._loss import cross_entropy

__all__ = ["linear_cross_entropy"]


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options=None) -> Tensor:
    """Cross entropy between ``target`` and ``input`` mapped to logits by a linear layer.

    Equivalent to ``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``
    (with ``ignore_index=None`` meaning -100). With ``options`` (a
    :class:`~ember.nn.LinearCrossEntropyOptions`) the rows are processed in chunks and the
    full ``(N, C)`` logits are never materialized, in forward or backward.

    Args:
        input: ``(in_features,)`` or ``(N, in_features)``.
        linear_weight: ``(C, in_features)``, or ``(C, d_1, ..., d_K, in_features)`` for a
            K-dimensional loss (batched input only).
        target: class indices ``()``, ``(N,)`` or ``(N, d_1, ..., d_K)`` (int64), or class
            probabilities shaped like the logits.
        linear_bias: ``(C,)`` or ``(C, d_1, ..., d_K)``, matching ``linear_weight``.
        weight: per-class rescaling ``(C,)``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        ignore_index: a target value that is ignored; None means -100 for class indices and
            is the only value allowed with class probabilities.
        label_smoothing: in ``[0, 1]``.
        options: ``LinearCrossEntropyOptions`` for the chunked path, or None.

    Returns:
        The loss: a scalar, or per sample with ``reduction='none'``.

    Raises:
        RuntimeError: torch's messages for wrong ranks or mismatched shapes, and for
            ``ignore_index`` with probability targets.

    Note:
        As in torch, the chunked path gives ``weight`` no gradient and, for 'mean' and
        'sum', refuses a second backward unless ``options.allow_retain_graph``. Unlike
        torch's, its gradients can be differentiated again (``create_graph=True``).
    """
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.dim()}")
    num_batches = tuple(input.shape[:-1])
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(f"expected equal input and linear_weight last dimensions "
                           f"(in_features), got {input.shape[-1]} and "
                           f"{linear_weight.shape[-1]}, respectively")
    num_classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not num_batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape "
                           f"{tuple(linear_weight.shape)} requires batched input, "
                           f"(N, {in_features}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    logits_shape = (*num_batches, num_classes, *out_features)
    # torch's cross entropy tells probabilities from indices by the shapes being equal
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = ignore_index if ignore_index is not None else -100

    if options is not None:
        supported = (reduction in ("mean", "sum", "none") and label_smoothing == 0.0
                     and target.dtype.name == "int64" and not out_features)
        if not supported:
            bias_shape = tuple(linear_bias.shape) if linear_bias is not None else None
            warnings.warn(
                "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
                "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, "
                f"out_features == (). Got reduction={reduction!r}, "
                f"label_smoothing={label_smoothing}, target.dtype={target.dtype}, "
                f"out_features={out_features}, tracing=False, linear_bias.shape={bias_shape}.",
                stacklevel=2)
        else:
            return _chunked(input, linear_weight, target, linear_bias, weight, reduction,
                            ignore_index, options)

    if out_features:
        rows = math.prod(out_features, start=num_classes)
        linear_weight = linear_weight.reshape(rows, in_features)
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(rows)
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=ignore_index, label_smoothing=label_smoothing)


def _chunked(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
             options):
    """torch's dispatch to its chunked ops: one fused node over chunks of rows."""
    from .._functions.linear_cross_entropy import LinearCrossEntropyChunked

    batched = input.dim() == 2
    if not batched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    rows, in_features = input.shape
    options = options._adjust(num_batches=rows, in_features=in_features,
                              num_classes=linear_weight.shape[0], dtype=input.dtype,
                              device=input.device)
    dtype, acc_dtype = input.dtype, options.acc_dtype
    if dtype != acc_dtype and not (dtype.name in ("float16", "bfloat16")
                                   and acc_dtype.name == "float32"):
        raise RuntimeError(f"linear_cross_entropy supports float32 acc_dtype with "
                           f"float16/bfloat16 inputs, but got {acc_dtype} acc_dtype and "
                           f"{dtype} inputs.")
    if rows and linear_weight.dtype != dtype:  # where torch's first chunk's mm fails
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_c10_name(dtype.np)} != {_c10_name(linear_weight.dtype.np)}")
    extras = tuple(t for t in (linear_bias, weight) if t is not None)
    result = LinearCrossEntropyChunked.apply(
        input, linear_weight, target, *extras, has_bias=linear_bias is not None,
        has_weight=weight is not None, reduction=reduction, ignore_index=ignore_index,
        chunk=options.batch_chunk_size, acc_dtype=acc_dtype.np,
        allow_retain_graph=options.allow_retain_graph)
    return result if batched else result.squeeze(0)
