"""Loss functions, with torch's argument checks and reductions."""
from __future__ import annotations

import warnings

import numpy as np

from ... import ops as _ops
from ..._tensor import Tensor
from .. import _reduction
from .._functions.cross_entropy import CrossEntropy, NLLLoss, SoftCrossEntropy
from ._common import _size_str


def _class_targets(input, target, weight, name):
    """Checks shared by cross_entropy and nll_loss on class-index targets."""
    x_shape = input._data.shape
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype != np.int64 and t.dtype != np.uint8:
        kind = {"f": "Float" if t.dtype == np.float32 else "Double", "i": "Int",
                "b": "Bool"}.get(t.dtype.kind, str(t.dtype))
        if t.dtype == np.int16:
            kind = "Short"
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {kind}")
    if input.dim() == 1:
        if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != 1):
            raise ValueError(f"Expected input batch_size (1) to match target batch_size "
                             f"({t.shape[0] if t.ndim else 1}).")
        t = t.reshape(())
    elif input.dim() == 2:
        if t.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif input.dim() == 0:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    else:
        if t.ndim == 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.dim() >= 2 and t.shape[:1] != x_shape[:1]:
        raise ValueError(f"Expected input batch_size ({x_shape[0]}) to match target "
                         f"batch_size ({t.shape[0]}).")
    if input.dim() > 2 and t.shape != x_shape[:1] + x_shape[2:]:
        raise RuntimeError(f"Expected target size {list(x_shape[:1] + x_shape[2:])}, got "
                           f"{list(t.shape)}")
    if t.dtype != np.int64:
        t = t.astype(np.int64)
    w = None
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
        c = x_shape[1] if input.dim() > 1 else x_shape[0]
        if w.shape != (c,):
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes "
                               f"or no classes but got weight tensor of shape: {list(w.shape)}")
        if w.dtype != input._data.dtype:
            raise RuntimeError(f"expected scalar type {_dtype_word(input._data.dtype)} but "
                               f"found {_dtype_word(w.dtype)}")
    return t, w


def _dtype_word(dt):
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(dt.name, dt.name)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits and class indices (or class probabilities), fused:
    one node whose backward is ``softmax - one_hot`` (smoothed and weighted).

    Args:
        input: logits ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``.
        target: class indices ``(N,)`` / ``()`` / ``(N, d1, ...)`` (int64), or class
            probabilities shaped like ``input`` (float).
        weight: per-class rescaling ``(C,)``.
        ignore_index: target value that contributes neither loss nor gradient (and is
            left out of the 'mean' denominator).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``; 'mean' divides by the summed
            weights of the counted targets.
        label_smoothing: mix ``label_smoothing / C`` of the uniform distribution into the
            target.

    Raises:
        ValueError: batch sizes differ; a bad ``reduction``.
        IndexError: a class index outside ``[0, C)`` (other than ``ignore_index``).
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    t = target._data if isinstance(target, Tensor) else None
    if t is not None and t.dtype.kind == "f":
        return _soft_cross_entropy(input, target, weight, ignore_index, reduction,
                                   label_smoothing)
    t, w = _class_targets(input, target, weight, "cross_entropy")
    return CrossEntropy.apply(input, target=t, weight=w, ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=label_smoothing)


def _soft_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    if target._data.shape != input._data.shape:
        if input.dim() == 2 and target.dim() != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_dtype_word(target._data.dtype)}")
    if ignore_index != -100:
        raise RuntimeError("ignore_index is not supported for floating point target")
    # the op sees rows with the class axis last, so a flat (C,) weight broadcasts there
    w = weight._data if weight is not None else None
    return SoftCrossEntropy.apply(input, target, weight=w, reduction=reduction,
                                  label_smoothing=label_smoothing)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities ``input``.

    Shapes, ``weight``, ``ignore_index`` and ``reduction`` as in :func:`cross_entropy`.
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    t, w = _class_targets(input, target, weight, "nll_loss")
    return NLLLoss.apply(input, target=t, weight=w, ignore_index=ignore_index,
                         reduction=reduction)


def _warn_size(input, target, stacklevel=3):
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({_size_str(target.shape)}) that is different to "
                      f"the input size ({_size_str(input.shape)}). This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same "
                      "size.", stacklevel=stacklevel)


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return _ops.sum(loss)
    return _ops.mean(loss)


def _weighted(loss, weight, reduction, input):
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return _ops.sum(loss) / _ops.sum(weight)
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)^2``, reduced."""
    _warn_size(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    d = input - target
    loss = d * d
    if weight is not None:
        return _weighted(loss, weight, reduction, input)
    return _reduce(loss, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``, reduced."""
    _warn_size(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    loss = _ops.abs(input - target)
    if weight is not None:
        return _weighted(loss, weight, reduction, input)
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target)."""
    _warn_size(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    a = _ops.abs(d)
    if beta == 0:
        return _reduce(a, reduction)
    loss = _ops.where(a._data < beta, 0.5 * d * d / beta, a - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| <= delta``, else ``delta (|d| - 0.5 delta)``."""
    _warn_size(input, target)
    reduction = _reduction.check(reduction)
    d = input - target
    a = _ops.abs(d)
    loss = _ops.where(a._data <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    if weight is not None:
        if weight.shape != input.shape:
            raise ValueError("Weights and input must have the same size.")
        return _reduce(loss * weight, reduction)
    return _reduce(loss, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log x + (1 - t) log(1 - x))`` on probabilities, logs clamped at -100."""
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({_size_str(target.shape)}) that is different "
                         f"to the input size ({_size_str(input.shape)}) is deprecated. Please "
                         "ensure they have the same size.")
    x = input._data
    if x.size and (x.min() < 0 or x.max() > 1):
        raise RuntimeError("all elements of input should be between 0 and 1")
    log_x = _ops.clamp_min(_ops.log(input), -100.0)
    log_1mx = _ops.clamp_min(_ops.log(1 - input), -100.0)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross entropy in one stable formula:
    ``(1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)``, times ``weight``."""
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({_size_str(target.shape)}) must be the same as input "
                         f"size ({_size_str(input.shape)})")
    sp = _ops.softplus(-input, 1.0, 20.0)
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    else:
        loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Pointwise ``target * (log target - input)`` (``input`` holds log-probabilities)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction.legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if log_target:
        loss = _ops.exp(target) * (target - input)
    else:
        t = target._data
        safe = _ops.where(t > 0, target, 1.0) if isinstance(target, Tensor) else target
        loss = _ops.where(t > 0, target * (_ops.log(safe) - input), 0.0)
    if reduction == "batchmean":
        total = _ops.sum(loss)
        return total / input.shape[0] if input.dim() else total
    return _reduce(loss, _reduction.check(reduction))
