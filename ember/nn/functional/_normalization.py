"""Dropout, batch / layer / RMS normalisation, normalize and cosine similarity."""
from __future__ import annotations

import numpy as np

from ... import _random
from ... import ops as _ops
from ..._tensor import Tensor
from .._functions.batch_norm import BatchNorm
from .._functions.dropout import Dropout
from .._functions.layer_norm import LayerNorm
from ._common import _size_str


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Identity (the input itself, as torch on the CPU) when ``training`` is False or
    ``p == 0``. The mask is one draw from ember's default generator.

    Raises:
        ValueError: ``p`` outside [0, 1].
    """
    _check_p(p)
    if not training or p == 0.0 or input._data.size == 0:
        return input
    rng = _random.default_generator._rng
    if inplace:
        return input._inplace(lambda x: Dropout.apply(x, p=p, rng=rng))
    return Dropout.apply(input, p=p, rng=rng)


def _verify_batch_size(shape) -> None:
    n = shape[0]
    for s in shape[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {_size_str(shape)}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dimension 1) of ``input``, one fused node.

    In training the batch statistics (biased variance) normalise and, when given, the
    running statistics are updated in place with the unbiased variance; otherwise the
    running statistics normalise.

    Raises:
        ValueError: training with one value per channel.
        RuntimeError: a running statistic, weight or bias whose size is not the channel
            count; evaluation without running statistics.
    """
    shape = input._data.shape
    if training:
        _verify_batch_size(shape)
    c = shape[1] if len(shape) > 1 else 0
    rm = running_mean._data if running_mean is not None else None
    rv = running_var._data if running_var is not None else None
    w = weight._data if weight is not None else None
    b = bias._data if bias is not None else None
    for name, a in (("running_mean", rm), ("running_var", rv), ("weight", w), ("bias", b)):
        if a is not None and a.size != c:
            raise RuntimeError(f"{name} should contain {c} elements not {a.size}")
    if not training and (rm is None or rv is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    out = BatchNorm.apply(input, weight, bias, running_mean=rm, running_var=rv,
                          training=training, momentum=momentum, eps=eps)
    if training:  # the running statistics changed in place
        if running_mean is not None:
            running_mean._vc[0] += 1
        if running_var is not None:
            running_var._vc[0] += 1
    return out


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale and shift."""
    normalized_shape = _shape_tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input._data.shape[input.dim() - k:]) != normalized_shape or k > input.dim():
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input "
                           f"with shape [*, {', '.join(str(s) for s in normalized_shape)}], "
                           f"but got input of size{list(input.shape)}")
    return LayerNorm.apply(input, weight, bias, k=k, eps=eps)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing dimensions (composed)."""
    k = len(_shape_tuple(normalized_shape))
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(-k, 0))
    out = input * _ops.rsqrt(_ops.mean(input * input, dim=dims, keepdim=True) + eps)
    return out * weight if weight is not None else out


def _shape_tuple(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim`` (written into ``out`` when given)."""
    denom = _ops.clamp_min(_ops.norm(input, p, dim=dim, keepdim=True), eps)
    if out is not None:
        return _ops.div(input, denom, out=out)
    return input / denom


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1 . x2 / max(||x1|| * ||x2||, eps)`` along ``dim``."""
    dot = _ops.sum(x1 * x2, dim=dim)
    n1 = _ops.sum(x1 * x1, dim=dim)
    n2 = _ops.sum(x2 * x2, dim=dim)
    return dot / _ops.sqrt(_ops.clamp_min(n1 * n2, eps * eps))
