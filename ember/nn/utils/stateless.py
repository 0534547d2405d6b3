"""``torch.nn.utils.stateless``: the deprecated home of ``functional_call``.

torch 2.0 moved ``functional_call`` to ``torch.func``; the old name still works and warns.
Here it is :func:`ember.func.functional_call` behind the same FutureWarning.
"""
from __future__ import annotations

import warnings
from typing import Any

from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["functional_call"]


def functional_call(module: Module, parameters_and_buffers: dict[str, Tensor],
                    args: Any | tuple | None = None, kwargs: dict[str, Any] | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """Call ``module`` with some of its parameters and buffers replaced (deprecated).

    Emits torch's FutureWarning, then does what :func:`ember.func.functional_call` does: the
    tensors in ``parameters_and_buffers`` (keyed by dotted names such as ``"0.weight"``)
    stand in for the module's own during one call, and the originals are back afterwards.

    Args:
        module: the module to call.
        parameters_and_buffers: a dict from dotted names to tensors.
        args: the positional argument(s); anything but a tuple is a single argument.
        kwargs: keyword arguments for the call.
        tie_weights: a value given for one of several names sharing a tensor is used for all.
        strict: raise RuntimeError for missing or unexpected names.

    Returns:
        Whatever ``module`` returns.
    """
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    from ...func import functional_call as _functional_call

    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)
