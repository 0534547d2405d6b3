"""Loss functions, with torch's argument checks and reductions."""
from __future__ import annotations

import warnings

import numpy as np

from ... import _dtype
from ... import ops as _ops
from ..._arg_errors import check_tensors
from ..._tensor import Tensor
from ...autograd import grad_mode
from ...ops._shape_utils import check_broadcast, type_name
from .. import _reduction
from .._functions.cross_entropy import CrossEntropy, NLLLoss, SoftCrossEntropy
from .._functions.pointwise_loss import (
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    HuberLoss,
    MseLoss,
    SelfXlogy,
    SmoothL1Loss,
    compute_dtype,
)
from ._class_target_checks import check_class_targets, check_probability_targets
from ._common import _size_str


def _class_targets(input, target, weight, cross_entropy, label_smoothing=0.0):
    """The class-index targets (int64) and the weight as arrays. torch's errors, in its
    order, come from ``check_class_targets``, asked only when the call is not the common
    ``(N, C)`` floating input with ``(N,)`` int64 targets and no weight."""
    x, t = input._data, target._data
    w = None if weight is None else weight._data
    if (w is not None or t.dtype != np.int64 or x.ndim != 2 or t.ndim != 1
            or t.shape[0] != x.shape[0] or x.dtype.kind != "f" or label_smoothing > 1.0):
        check_class_targets(x, t, w, cross_entropy=cross_entropy,
                            label_smoothing=label_smoothing)
        if x.ndim == 1:
            t = t.reshape(())
        if t.dtype != np.int64:
            t = t.astype(np.int64)
    return t, w


def _check_operands(name, input, target, weight):
    """torch's TypeError for a non-Tensor ``input``, ``target`` or ``weight``."""
    operands = {"input": input, "target": target}
    if weight is not None:
        operands["weight"] = weight
    check_tensors(name, **operands)


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
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)) or not (
            weight is None or isinstance(weight, Tensor)):
        _check_operands("cross_entropy_loss", input, target, weight)
    if input._data.shape == target._data.shape:
        return _soft_cross_entropy(input, target, weight, ignore_index, reduction,
                                   label_smoothing)
    if label_smoothing < 0.0:  # torch smooths only for a positive value
        label_smoothing = 0.0
    _no_grad_arg(weight, _nll_kernel(input), "weight")
    t, w = _class_targets(input, target, weight, True, label_smoothing)
    return CrossEntropy.apply(input, target=t, weight=w, ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=label_smoothing)


def _soft_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    check_probability_targets(input._data, target._data,
                              None if weight is None else weight._data, ignore_index,
                              label_smoothing)
    if label_smoothing < 0.0:
        label_smoothing = 0.0
    if weight is not None and weight.requires_grad and grad_mode.state.enabled:
        return _soft_cross_entropy_composite(input, target, weight, reduction, label_smoothing)
    # the op sees rows with the class axis last, so a flat (C,) weight broadcasts there
    w = weight._data if weight is not None else None
    return SoftCrossEntropy.apply(input, target, weight=w, reduction=reduction,
                                  label_smoothing=label_smoothing)


def _soft_cross_entropy_composite(input, target, weight, reduction, label_smoothing):
    """torch's composite soft-target cross entropy, for a ``weight`` that wants a gradient:
    ``-(log_softmax(input) * q * weight)`` summed over classes, 'mean' over the rows."""
    class_dim = 1 if input.dim() > 1 else 0
    num_classes = input.shape[class_dim]
    q = target * (1.0 - label_smoothing) + label_smoothing / num_classes \
        if label_smoothing else target
    w = _ops.reshape(weight, *[num_classes if d == class_dim else 1 for d in
                               range(input.dim())])
    prod = _ops.log_softmax(input, class_dim) * q * w
    if reduction == "none":
        return -_ops.sum(prod, dim=class_dim)
    total = -_ops.sum(prod)
    if reduction == "sum":
        return total
    rows = input.numel() // num_classes if num_classes else 0
    return total / rows if rows else total * float("nan")


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities ``input``.

    Shapes, ``weight``, ``ignore_index`` and ``reduction`` as in :func:`cross_entropy`.
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)) or not (
            weight is None or isinstance(weight, Tensor)):
        _check_operands("nll_loss_nd", input, target, weight)
    _no_grad_arg(weight, _nll_kernel(input), "weight")
    t, w = _class_targets(input, target, weight, False)
    return NLLLoss.apply(input, target=t, weight=w, ignore_index=ignore_index,
                         reduction=reduction)


def _warn_size(input, target, stacklevel=3):
    if target.size() != input.size():  # torch's order: a non-tensor target fails on .size
        warnings.warn(f"Using a target size ({_size_str(target.shape)}) that is different to "
                      f"the input size ({_size_str(input.shape)}). This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same "
                      "size.", stacklevel=stacklevel)


def _broadcast(input, target):
    """torch.broadcast_tensors for a loss's operands: the smaller one is expanded."""
    a, b = input._data.shape, target._data.shape
    if a == b:
        return input, target
    shape = check_broadcast(a, b)
    if a != shape:
        input = _ops.broadcast_to(input, shape)
    if b != shape:
        target = _ops.broadcast_to(target, shape)
    return input, target


def _loss_dtypes(input, target, kernel, out=None):
    """(compute dtype, output dtype) of a loss kernel over the operands' promoted dtype, with
    torch's errors for integer operands. ``out``: the operand whose dtype the result keeps
    (torch writes huber's loss into an ``input``-like tensor), else the promoted dtype."""
    dt = _dtype.promote_types(input.dtype, target.dtype)
    if not dt.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(dt.np)}'")
    if out is not None and not out.dtype.is_floating_point:
        raise RuntimeError(f"result type {type_name(dt.np)} can't be cast to the desired "
                           f"output type {type_name(out._data.dtype)}")
    out_dtype = dt.np if out is None else out._data.dtype
    return compute_dtype(dt.np), out_dtype


def _nll_kernel(input):
    """torch's kernel name: K-dim input (3-d and up) runs through ``nll_loss2d``."""
    return "nll_loss2d_forward" if input.dim() > 2 else "nll_loss_forward"


def _no_grad_arg(value, fn, arg):
    """An optional weight tensor as an array; torch's error when it requires grad."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value._rg and grad_mode.state.enabled:
            raise RuntimeError(f"The function '{fn}' is not differentiable with respect to "
                               f"argument '{arg}'. This input cannot have requires_grad True.")
        return value._data
    return np.asarray(value)


def _must_fit(full, shape):
    """torch's error when a weight, applied in place, would grow the loss beyond ``shape``."""
    if tuple(full) != tuple(shape):
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast "
                           f"shape {list(full)}")


def _broadcast_shapes(first, second):
    """torch.broadcast_shapes(first, second), with its error (as the BCE weight sees it)."""
    result = [1] * max(len(first), len(second))
    for index, shape in enumerate((first, second)):
        for i in range(-1, -1 - len(shape), -1):
            if shape[i] == 1 or shape[i] == result[i]:
                continue
            if result[i] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {shape[i]} at {i}! "
                    f"Mismatching argument at index {index} had {_size_str(shape)}; but "
                    f"expected shape should be broadcastable to {result}")
            result[i] = shape[i]
    return tuple(result)


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return _ops.sum(loss)
    return _ops.mean(loss)


def _weighted(loss, weight, reduction, *, mean_by_weight=True):
    """torch's Python-level weighting of mse / l1 / huber: ``loss * weight``, reduced ('mean'
    divides by the summed weights, except for huber's plain mean)."""
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return _ops.sum(loss)
    if reduction == "mean":
        return _ops.sum(loss) / _ops.sum(weight) if mean_by_weight else _ops.mean(loss)
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                     "'sum'.")


def _legacy(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _reduction.legacy_get_string(size_average, reduce)
    return reduction


def _check_weight_size(weight, input):
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)^2``, reduced; one ``MseLossBackward0`` node
    (torch's composite ``(input - target)^2 * weight`` when ``weight`` is given)."""
    _warn_size(input, target)
    reduction = _legacy(size_average, reduce, reduction)
    x, y = _broadcast(input, target)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted((x - y) ** 2, weight, reduction)
    reduction = _reduction.check(reduction)
    dtype, out_dtype = _loss_dtypes(x, y, "mse_cpu")
    return MseLoss.apply(x, y, reduction=reduction, dtype=dtype, out_dtype=out_dtype)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``, reduced (a composite in torch too)."""
    _warn_size(input, target)
    reduction = _legacy(size_average, reduce, reduction)
    x, y = _broadcast(input, target)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted(_ops.abs(x - y), weight, reduction)
    return _reduce(_ops.abs(x - y), _reduction.check(reduction))


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target);
    one ``SmoothL1LossBackward0`` node (``beta = 0`` is :func:`l1_loss`, as in torch)."""
    _warn_size(input, target)
    reduction = _legacy(size_average, reduce, reduction)
    x, y = _broadcast(input, target)
    reduction = _reduction.check(reduction)
    if beta == 0.0:
        return _reduce(_ops.abs(x - y), reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    dtype, out_dtype = _loss_dtypes(x, y, "smooth_l1_cpu")
    return SmoothL1Loss.apply(x, y, beta=float(beta), reduction=reduction, dtype=dtype,
                              out_dtype=out_dtype)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``; one
    ``HuberLossBackward0`` node (then ``* weight`` and a plain reduction, as torch does).
    The result keeps ``input``'s dtype."""
    _warn_size(input, target)
    x, y = _broadcast(input, target)
    if weight is None:
        reduction = _reduction.check(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    dtype, out_dtype = _loss_dtypes(x, y, "huber_cpu", out=x)
    options = dict(delta=float(delta), dtype=dtype, out_dtype=out_dtype)
    if weight is None:
        return HuberLoss.apply(x, y, reduction=reduction, **options)
    loss = HuberLoss.apply(x, y, reduction="none", **options)
    _check_weight_size(weight, input)
    return _weighted(loss, weight, reduction, mean_by_weight=False)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log x + (1 - t) log(1 - x))`` on probabilities, logs clamped at -100; one
    ``BinaryCrossEntropyBackward0`` node with gradients for ``input`` and ``target``.

    ``weight`` broadcasts to the input's shape and gets no gradient (torch's error if it
    requires one).
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({_size_str(target.shape)}) that is different "
                         f"to the input size ({_size_str(input.shape)}) is deprecated. Please "
                         "ensure they have the same size.")
    x_dt, t_dt = input._data.dtype, target._data.dtype
    w = _no_grad_arg(weight, "binary_cross_entropy", "weight")
    if w is not None:  # torch expands weight to broadcast_shapes(target, weight)
        full = _broadcast_shapes(target._data.shape, w.shape)
    if t_dt != x_dt:
        raise RuntimeError(f"Found dtype {type_name(t_dt)} but expected {type_name(x_dt)}")
    if x_dt.kind != "f":
        raise NotImplementedError(f"\"binary_cross_entropy\" not implemented for "
                                  f"'{type_name(x_dt)}'")
    dtype = compute_dtype(x_dt)
    if w is not None:
        _must_fit(full, input._data.shape)
        w = w.astype(dtype, copy=False)
    return BinaryCrossEntropy.apply(input, target, weight=w, reduction=reduction, dtype=dtype,
                                    out_dtype=x_dt)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross entropy in one stable formula,
    ``(1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x)``, times ``weight``; one
    ``BinaryCrossEntropyWithLogitsBackward0`` node with gradients for ``input`` and
    ``target``. The result has ``target``'s dtype, as in torch.

    ``weight`` and ``pos_weight`` broadcast to the input's shape and get no gradient.
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({_size_str(target.shape)}) must be the same as input "
                         f"size ({_size_str(input.shape)})")
    name = "binary_cross_entropy_with_logits"
    w = _no_grad_arg(weight, name, "weight")
    pw = _no_grad_arg(pos_weight, name, "pos_weight")
    x_dt, t_dt = input._data.dtype, target._data.dtype
    if x_dt.kind != "f":
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{type_name(x_dt)}'")
    if t_dt.kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    dtype, out_dtype = _loss_dtypes(input, target, name, out=target)
    shape = input._data.shape
    if pw is not None:  # torch: log_sigmoid(input) *= (pos_weight - 1) * target + 1
        _must_fit(check_broadcast(pw.shape, target._data.shape), shape)
        pw = pw.astype(dtype, copy=False)
    if w is not None:   # torch: loss *= weight
        _must_fit(check_broadcast(shape, w.shape), shape)
        w = w.astype(dtype, copy=False)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight=w, pos_weight=pw,
                                              reduction=reduction, dtype=dtype,
                                              out_dtype=out_dtype)


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
    for operand in (input, target):
        if operand._data.dtype.kind not in "fc":
            raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        loss = _ops.exp(target) * (target - input)
    else:  # torch: xlogy(target, target) - target * input (nan for negative targets)
        loss = SelfXlogy.apply(target) - target * input
    if reduction == "batchmean":
        total = _ops.sum(loss)
        return total / input.shape[0] if input.dim() else total
    return _reduce(loss, _reduction.check(reduction))
