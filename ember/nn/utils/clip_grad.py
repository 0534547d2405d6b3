"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_`` and their building blocks.

Gradients are rescaled or clamped in place on their NumPy arrays; nothing here is
recorded by autograd.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

import ember

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
]


def _could_not_run(op: str) -> str:
    from ...sparse._coo import could_not_run

    return could_not_run(op)


def _as_list(tensors: Any) -> list:
    return [tensors] if isinstance(tensors, ember.Tensor) else list(tensors)


def _vector_norm(arr: np.ndarray, norm_type: float) -> np.ndarray:
    """torch.linalg.vector_norm of one array, as a 0-d array of its dtype."""
    dtype = arr.dtype
    if arr.size == 0:
        # torch: the norm of an empty tensor is 0 (inf-norm of nothing raises there;
        # 0 keeps clipping a no-op instead)
        return np.zeros((), dtype=dtype)
    if norm_type == 2.0:
        flat = arr.reshape(-1)
        return np.sqrt(np.dot(flat, flat)).astype(dtype, copy=False)
    if norm_type == math.inf:
        return np.max(np.abs(arr)).astype(dtype, copy=False)
    if norm_type == -math.inf:
        return np.min(np.abs(arr)).astype(dtype, copy=False)
    if norm_type == 0.0:
        return np.asarray(np.count_nonzero(arr), dtype=dtype)
    if norm_type == 1.0:
        return np.sum(np.abs(arr)).astype(dtype, copy=False)
    total = np.sum(np.abs(arr) ** norm_type)
    return np.asarray(total ** (1.0 / norm_type), dtype=dtype)


def get_total_norm(
    tensors: ember.Tensor | Iterable[ember.Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> ember.Tensor:
    """Compute the norm of the tensors taken together, as if concatenated into one vector.

    Args:
        tensors: a Tensor or an iterable of Tensors (typically gradients).
        norm_type: the p of the p-norm; ``float("inf")`` for the max-norm.
        error_if_nonfinite: raise if the total norm is ``nan`` or ``inf``.
        foreach: accepted for compatibility (no-op).

    Returns:
        A 0-d Tensor (the tensors' dtype; ``tensor(0.)`` for an empty list).

    Raises:
        RuntimeError: the norm is non-finite and ``error_if_nonfinite`` is set.
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return ember.tensor(0.0)
    for t in tensors:
        if t.is_sparse:  # torch has no sparse kernel for the norm
            raise NotImplementedError(_could_not_run("linalg_vector_norm"))
    norms = [_vector_norm(t._data, norm_type) for t in tensors]
    dtype = np.result_type(*norms)
    total = _vector_norm(np.stack(norms).astype(dtype, copy=False), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable "
            "this error and scale the gradients by the non-finite norm anyway, "
            "set `error_if_nonfinite=False`"
        )
    return ember.from_numpy(np.asarray(total))


def clip_grads_with_norm_(
    parameters: ember.Tensor | Iterable[ember.Tensor],
    max_norm: float,
    total_norm: ember.Tensor,
    foreach: bool | None = None,
) -> None:
    """Scale the gradients in place by ``min(max_norm / (total_norm + 1e-6), 1)``.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is scaled.
        max_norm: the largest allowed norm.
        total_norm: the gradients' norm, e.g. from :func:`get_total_norm`.
        foreach: accepted for compatibility (no-op).
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    total = total_norm._data if isinstance(total_norm, ember.Tensor) else np.asarray(total_norm)
    # the same float32 arithmetic as torch: (max_norm / (total + 1e-6)).clamp(max=1)
    clip_coef = max_norm / (total + total.dtype.type(1e-6))
    clip_coef_clamped = np.minimum(clip_coef, total.dtype.type(1.0))
    if clip_coef_clamped == 1.0:
        return  # multiplying by one changes nothing
    for g in grads:
        arr = g._data
        arr *= clip_coef_clamped.astype(arr.dtype)


def clip_grad_norm_(
    parameters: ember.Tensor | Iterable[ember.Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> ember.Tensor:
    """Clip the gradients' total norm (all gradients as one vector) to ``max_norm``.

    Gradients are scaled in place by ``min(max_norm / (total_norm + 1e-6), 1)``.

    Args:
        parameters: a Tensor or an iterable of Tensors; those with a ``.grad`` count.
        max_norm: the largest allowed norm.
        norm_type: the p of the p-norm (default 2); ``float("inf")`` for the max-norm.
        error_if_nonfinite: raise instead of scaling by a ``nan``/``inf`` norm.
        foreach: accepted for compatibility (no-op).

    Returns:
        The total norm of the gradients before clipping, as a 0-d Tensor.

    Raises:
        RuntimeError: the norm is non-finite and ``error_if_nonfinite`` is set.
    """
    if isinstance(parameters, ember.Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn(
                "`parameters` is an empty generator, no gradient clipping will occur.",
                stacklevel=2,
            )
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(
    parameters: ember.Tensor | Iterable[ember.Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> ember.Tensor:
    """Deprecated alias of :func:`clip_grad_norm_` (warns with a FutureWarning, as torch)."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(
    parameters: ember.Tensor | Iterable[ember.Tensor],
    clip_value: float,
    foreach: bool | None = None,
) -> None:
    """Clamp every gradient in place to ``[-clip_value, clip_value]``.

    Args:
        parameters: a Tensor or an iterable of Tensors; those with a ``.grad`` are clamped.
        clip_value: the bound.
        foreach: accepted for compatibility (no-op).
    """
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is not None:
            if g.is_sparse:  # torch has no sparse kernel for the clamp
                raise NotImplementedError(_could_not_run("clamp_min_"))
            arr = g._data
            np.clip(arr, -clip_value, clip_value, out=arr)
