"""The helpers behind ``prune``: amount and dimension checks with torch's messages, channel
norms and masks, and the ``topk`` selection (torch's, ties included)."""
from __future__ import annotations

import numbers
from typing import Any

import ember

from ..._tensor import Tensor
from ._topk_select import topk_indices


def _topk(t: Tensor, k: int, largest: bool) -> Tensor:
    """The indices ``torch.topk(t.view(-1), k, largest=largest)`` selects (as a set)."""
    return ember.from_numpy(topk_indices(t.detach().numpy(), k, largest))


def _validate_pruning_amount_init(amount: Any) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral)
            and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _validate_pruning_amount(amount: int, tensor_size: int) -> None:
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _validate_structured_pruning(t: Tensor) -> None:
    shape = t.shape
    if len(shape) <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {shape} with {len(shape)} dims")


def _compute_nparams_toprune(amount: int | float, tensor_size: int) -> int:
    # NOTE: Python's round (half to even), as torch
    if isinstance(amount, numbers.Integral):
        return amount
    return round(amount * tensor_size)


def _validate_pruning_dim(t: Tensor, dim: int) -> None:
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")


def _checked_nparams_toprune(amount: int | float, tensor_size: int) -> int:
    """How many of ``tensor_size`` to prune; an integer ``amount`` above it raises."""
    nparams_toprune = _compute_nparams_toprune(amount, tensor_size)
    _validate_pruning_amount(nparams_toprune, tensor_size)
    return nparams_toprune


def _validate_structured(t: Tensor, dim: int) -> None:
    _validate_structured_pruning(t)
    _validate_pruning_dim(t, dim)


def _compute_norm(t: Tensor, n: int | float | str, dim: int) -> Tensor:
    """The ``n``-norm of each channel along ``dim`` (over every other dimension)."""
    dims = list(range(t.dim()))
    dims.remove(dims[dim])
    return ember.norm(t, p=n, dim=dims)


def _channel_mask(t: Tensor, dim: int, channels: Tensor) -> Tensor:
    """Zeros shaped like ``t``, with ones on the channels selected along ``dim``."""
    mask = ember.zeros_like(t)
    slc = [slice(None)] * len(t.shape)
    slc[dim] = channels
    mask[tuple(slc)] = 1
    return mask
