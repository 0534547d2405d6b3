"""Parameters as one flat vector and back: ``parameters_to_vector``, ``vector_to_parameters``."""

from __future__ import annotations

from collections.abc import Iterable

import ember

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[ember.Tensor]) -> ember.Tensor:
    """The parameters flattened and concatenated into one 1-D tensor (differentiable: a
    copy whose gradient flows back to each parameter)."""
    return ember.cat([param.view(-1) for param in parameters])


def vector_to_parameters(vec: ember.Tensor, parameters: Iterable[ember.Tensor]) -> None:
    """Make each parameter's ``.data`` the next ``numel()`` elements of ``vec`` (a view of
    them, reshaped like the parameter), in order.

    Raises:
        TypeError: ``vec`` is not a Tensor.
    """
    if not isinstance(vec, ember.Tensor):
        cls = type(vec)
        module = cls.__module__
        name = cls.__qualname__ if module in ("", "builtins") else f"{module}.{cls.__qualname__}"
        raise TypeError(f"expected torch.Tensor, but got: {name}")
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
