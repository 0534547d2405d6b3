"""More losses (torch.nn.functional): margin, embedding, Poisson and Gaussian NLL, triplet ...

Each is a composition of ``ember.ops`` that follows torch's own formula (ATen's for the
native ones), so values and gradients agree; the native ones' fused backward nodes
(``SoftMarginLossBackward0``, ``MultiMarginLossBackward0``, ``PdistBackward0``, ...) are
spelled out as the ops they are made of.
"""
from __future__ import annotations

import math

import numpy as np

from ... import _creation, _dtype
from ... import ops as _ops
from ..._tensor import Tensor
from ...autograd import grad_mode
from ...autograd.function import Op
from ...ops._opmath import half_mul
from ...ops._shape_utils import check_broadcast, type_name
from .. import _reduction
from ._activation import logsigmoid
from ._common import _size_str
from ._loss import _dtype_word, _must_fit, _no_grad_arg

__all__ = [
    "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss", "poisson_nll_loss", "gaussian_nll_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "pairwise_distance", "pdist",
]


def _apply_reduction(loss, reduction):
    """ATen's ``apply_loss_reduction``."""
    if reduction == "mean":
        return _ops.mean(loss)
    if reduction == "sum":
        return _ops.sum(loss)
    return loss


def _size(t):
    return _size_str(t.shape)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``, reduced.

    Raises:
        RuntimeError: the three tensors differ in rank, or do not broadcast.
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {_size(input1)}, input2: {_size(input2)}, "
                           f"target: {_size(target)} ")
    out = _ops.clamp_min(-target * (input1 - input2) + margin, 0)
    return _apply_reduction(out, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``
    (ATen's formula: other target values count both), reduced."""
    reduction = _reduction.resolve(size_average, reduce, reduction)
    zeros = _creation.zeros_like(input)
    if input.dtype.is_floating_point or input.dtype.is_complex:
        margin_clamp = _ops.clamp_min(margin - input, 0)
    else:  # ATen fills an input-like tensor with the margin (truncated), then subtracts
        if input.dtype is _dtype.bool_:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        margin_clamp = _ops.clamp_min(_creation.full_like(input, margin) - input, 0)
    out = _ops.where(target != 1, margin_clamp, zeros) + _ops.where(target != -1, input, zeros)
    return _apply_reduction(out, reduction)


_EPSILON = 1e-12


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``target == -1``; the cosine over the last dimension of ``(N, D)`` or ``(D,)`` inputs.

    Raises:
        RuntimeError: target not 0-D/1-D; inputs of the wrong rank for the target.
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    t_dim = target.dim()
    if t_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if t_dim == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(f"{t_dim}D target tensor expects {want}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    prod_sum = _ops.sum(input1 * input2, dim=t_dim)
    mag1 = _ops.sum(input1 * input1, dim=t_dim) + _EPSILON
    mag2 = _ops.sum(input2 * input2, dim=t_dim) + _EPSILON
    cos = prod_sum / _ops.sqrt(mag1 * mag2)
    zeros = _creation.zeros_like(cos)
    pos = 1 - cos
    neg = _ops.clamp_min(cos - margin, 0)
    out = _ops.where(target == 1, pos, zeros) + _ops.where(target == -1, neg, zeros)
    return _apply_reduction(out, reduction)


class _SoftMarginHalf(Op):
    """float16 soft margin loss, one node with torch's ``soft_margin_loss_backward``:
    ``-norm * t * z / (1 + z) * grad`` with ``z = exp(-t x)``, each step rounded to float16
    (``norm`` read as float32)."""

    _backward_name = "SoftMarginLossBackward0"

    @staticmethod
    def forward(ctx, x, t, *, reduction):
        ctx.save_for_backward(x, t)
        ctx.reduction = reduction
        with np.errstate(over="ignore"):
            loss = np.log1p(np.exp(-x * t))  # as the composite: each op rounded to float16
        if reduction == "none":
            return loss
        total = loss.astype(np.float32).sum()
        return np.asarray(total / loss.size if reduction == "mean" else total, np.float16)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        norm = 1 / x.size if ctx.reduction == "mean" else 1.0
        with np.errstate(over="ignore", invalid="ignore"):
            z = np.exp(-t * x)
            g = half_mul(t * z, -norm)
            return g / (z + np.float16(1)) * grad, None


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-target * input))``, reduced (computed as torch does, so it overflows
    to inf where torch's does)."""
    reduction = _reduction.resolve(size_average, reduce, reduction)
    # ATen writes -input * target, then exp and log1p, into an input-like tensor
    x_dt = input._data.dtype
    if x_dt == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    _must_fit(check_broadcast(input._data.shape, target._data.shape), input._data.shape)
    if x_dt.kind not in "fc":  # the product's type, or exp's Float for an integer product
        result = _dtype.promote_types(input.dtype, target.dtype)
        word = type_name(result.np) if result.is_floating_point else "Float"
        raise RuntimeError(f"result type {word} can't be cast to the desired output type "
                           f"{type_name(x_dt)}")
    if x_dt == np.float16 and target._data.dtype == np.float16 and not target.requires_grad \
            and input._data.shape == target._data.shape:
        return _SoftMarginHalf.apply(input, target, reduction=reduction)
    loss = _ops.log1p(_ops.exp(-input * target))
    if loss.dtype != input.dtype:
        loss = loss.to(input.dtype)
    return _apply_reduction(loss, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Binary logistic loss per class, averaged over the classes (the last dimension)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction.legacy_get_string(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = _ops.sum(loss, dim=class_dim) / input.shape[class_dim]
    if reduction == "none":
        return loss
    if reduction == "mean":
        return _ops.mean(loss)
    if reduction == "sum":
        return _ops.sum(loss)
    raise ValueError(reduction + " is not valid")


def _check_long(target):
    dt = target._data.dtype
    if dt != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_dtype_word_any(dt)}")


def _dtype_word_any(dt):
    words = {"int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return words.get(dt.name) or _dtype_word(dt)


def _frames(input, name=None):
    """(nframe, dim) of a margin loss's ``(N, C)``, ``(C,)`` or ``()`` input."""
    ndim = input.dim()
    if not ((ndim == 2 and input.shape[1] != 0) or (ndim == 1 and input.shape[0] != 0)
            or ndim == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(input.shape)}")
    nframe = input.shape[0] if ndim == 2 else 1
    dim = input.shape[-1] if ndim else 1
    return nframe, dim


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: ``sum_{j != y} max(0, margin - x[y] + x[j])^p * w[y] / C``.

    Args:
        input: scores ``(N, C)``, ``(C,)`` or ``()``.
        target: int64 class indices ``(N,)`` (or one index).
        p: 1 or 2.
        weight: per-class rescaling ``(C,)``; gets no gradient.

    Raises:
        ValueError: ``p`` not 1 or 2; ``weight`` not 1-D.
        RuntimeError: inconsistent sizes; a target outside ``[0, C)``.
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    nframe, dim = _frames(input)
    if target.dim() > 1 or target.numel() != nframe:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{nframe}], but got {list(target.shape)}. Input has shape "
                           f"{list(input.shape)}.")
    w = _no_grad_arg(weight, "multi_margin_loss", "weight")
    if w is not None and (w.ndim > 1 or w.size != dim):
        raise RuntimeError(f"inconsistent weight size, expected {dim} but got {list(w.shape)}")
    _check_long(target)
    t = target._data.reshape(nframe)
    if np.any((t < 0) | (t >= dim)):
        raise RuntimeError("target out of range")
    x = _ops.reshape(input, nframe, dim)
    x_y = _ops.gather(x, 1, _creation.tensor(t.reshape(nframe, 1)))
    z = _ops.clamp_min(margin - x_y + x, 0)
    if p == 2:
        z = z * z
    # the weight of each term: w[y] / C, and none for j == y itself
    coef = np.ones((nframe, dim)) if w is None else np.repeat(w[t].astype(np.float64)[:, None],
                                                              dim, axis=1)
    coef[np.arange(nframe), t] = 0
    coef = _creation.tensor((coef / dim).astype(input._data.dtype))
    loss = _ops.sum(z * coef, dim=1)
    if reduction == "none":
        return loss if target.dim() > 0 else _ops.reshape(loss, ())
    return _apply_reduction(loss, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: for each target class ``j`` (``target`` lists them, ended by
    -1) and each other class ``k``, ``max(0, 1 - (x[j] - x[k])) / C``, summed.

    Raises:
        RuntimeError: inconsistent sizes; a target below -1 or at least ``C``.
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    nframe, dim = _frames(input)
    t_shape = tuple(target.shape)
    ok = (target.dim() <= 1 and target.numel() == dim) if input.dim() <= 1 else \
        (target.dim() == 2 and t_shape == (nframe, dim))
    if not ok:
        raise RuntimeError(f"inconsistent target size: {list(t_shape)} for input of size: "
                           f"{list(input.shape)}")
    _check_long(target)
    t = target._data.reshape(nframe, dim)
    if t.size and (t.min() < -1 or t.max() >= dim):
        raise RuntimeError("argument #2 'target' is out of range")
    counts = np.zeros((nframe, dim))
    for i in range(nframe):
        ends = np.flatnonzero(t[i] < 0)
        labels = t[i, :ends[0]] if ends.size else t[i]
        np.add.at(counts[i], labels, 1)  # a repeated label counts again, as in torch
    others = (counts == 0).astype(np.float64)
    coef = counts[:, :, None] * others[:, None, :] / dim  # [i, j, k]: j a target, k not
    x = _ops.reshape(input, nframe, dim)
    z = _ops.clamp_min(1 - _ops.unsqueeze(x, 2) + _ops.unsqueeze(x, 1), 0)
    loss = _ops.sum(z * _creation.tensor(coef.astype(input._data.dtype)), dim=(1, 2))
    if reduction == "none":
        return loss if target.dim() > 1 else _ops.reshape(loss, ())
    return _apply_reduction(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,
                     full: bool = False, size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: ``exp(input) - target * input`` (``log_input``), else
    ``input - target * log(input + eps)``; ``full`` adds Stirling's approximation of
    ``log(target!)`` where ``target > 1``."""
    if size_average is not None or reduce is not None:
        reduction = _reduction.legacy_get_string(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = _ops.exp(input) - target * input
    else:
        loss = input - target * _ops.log(input + eps)
    if full:
        # computed on target clamped to 1 so that the masked-off entries stay finite
        t = _ops.clamp_min(target, 1)
        stirling = t * _ops.log(t) - t + 0.5 * _ops.log(2 * math.pi * t)
        loss = loss + _ops.where(target > 1, stirling, _creation.zeros_like(stirling))
    return _apply_reduction(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood ``0.5 * (log(var) + (input - target)^2 / var)``, with
    ``var`` clamped below at ``eps`` (the clamp passes its gradient through, as torch's
    in-place clamp under ``no_grad``).

    Args:
        var: a tensor shaped like ``input``, or with one dimension of size 1 (or missing at
            the end), or a float.

    Raises:
        ValueError: ``var`` negative or of the wrong size; a bad ``reduction``.
    """
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _creation.ones_like(input)
    elif not isinstance(var, Tensor):
        # NOTE: torch fails inside torch.any here too (a TypeError) for an int var
        raise TypeError(f"gaussian_nll_loss(): var must be a Tensor or a float, got "
                        f"{type(var).__name__}")
    elif np.any(var._data < 0):
        raise ValueError("var has negative entry/entries")
    x_shape, v_shape = tuple(input.shape), tuple(var.shape)
    if v_shape != x_shape:
        if x_shape[:-1] == v_shape:
            var = _ops.unsqueeze(var, -1)
        elif not (len(x_shape) == len(v_shape)
                  and sum(b for a, b in zip(x_shape, v_shape) if a != b) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with grad_mode.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (_ops.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension (of the broadcast shape)."""
    out_dim = max(x1.dim(), x2.dim())
    return _ops.norm(x1 - x2 + eps, p, dim=out_dim - 1 if out_dim else -1, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distances between all pairs of rows of an ``(N, M)`` input, ``i < j`` in
    row-major order (``N (N - 1) / 2`` values).

    Raises:
        RuntimeError: input not 2-D or not floating point; ``p`` negative.
    """
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if input._data.dtype.kind != "f":
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if input._data.dtype == np.float16 and input.shape[0] > 1:  # torch's kernel: no half
        raise NotImplementedError("\"pdist\" not implemented for 'Half'")
    i, j = np.triu_indices(input.shape[0], 1)
    rows = _ops.index_select(input, 0, _creation.tensor(i)) - \
        _ops.index_select(input, 0, _creation.tensor(j))
    return _ops.norm(rows, p, dim=1)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {a}D, positive "
                           f"{p}D, and negative {n}D inputs")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the :func:`pairwise_distance`;
    ``swap`` uses ``min(d(a, n), d(p, n))``.

    Raises:
        ValueError: ``margin <= 0``.
        RuntimeError: the three tensors differ in rank.
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = _ops.minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    return _apply_reduction(_ops.clamp_min(margin + dist_pos - dist_neg, 0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """:func:`triplet_margin_loss` with any ``distance_function(x1, x2)`` (default
    :func:`pairwise_distance`)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    dist_pos = distance(anchor, positive)
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = _ops.minimum(dist_neg, distance(positive, negative))
    return _apply_reduction(_ops.clamp_min(margin + dist_pos - dist_neg, 0), reduction)

