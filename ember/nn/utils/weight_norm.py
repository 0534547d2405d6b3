"""Legacy weight normalization (torch's deprecated ``torch.nn.utils.weight_norm``).

``weight_norm(module)`` replaces the parameter ``weight`` by two parameters, ``weight_g`` (the
norms) and ``weight_v`` (the direction), and recomputes ``weight = g * v / ||v||`` in a forward
pre-hook. ``norm_except_dim`` and ``_weight_norm`` are torch's math, shared with
``parametrizations.weight_norm``.
"""
from __future__ import annotations

import warnings
from typing import Any

from ..._tensor import Tensor
from ...ops._shape_utils import wrap_dim
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """torch's ``norm_except_dim``: the ``pow``-norm over every dimension but ``dim``, shaped
    to broadcast against ``v`` (size 1 everywhere except ``dim``). ``dim=-1`` means the norm of
    the whole tensor, a 0-d tensor (not the last dimension)."""
    if dim == -1:
        return v.norm(pow)
    d = wrap_dim(dim, v.dim())
    out_shape = [1] * v.dim()
    out_shape[d] = v.shape[d]
    moved = v if d == 0 else v.transpose(0, d)
    return moved.reshape(v.shape[d], -1).norm(pow, dim=1).reshape(out_shape)


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """torch's ``_weight_norm``: ``v * (g / norm_except_dim(v, 2, dim))``."""
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook behind ``weight_norm``: recomputes ``module.<name>`` from
    ``<name>_g`` and ``<name>_v`` before every call.

    Args:
        name: the parameter's name.
        dim: the dimension kept by the norm (``None`` or ``-1``: the whole tensor's norm).
    """

    name: str
    dim: int

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Any:
        """``g * v / ||v||`` from the module's current ``<name>_g`` and ``<name>_v``."""
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        """Split ``module.<name>`` into ``<name>_g`` and ``<name>_v`` and register the hook.

        Raises:
            RuntimeError: ``name`` already has a weight_norm hook.
            AttributeError: the module has no attribute ``name``.
            KeyError: ``name`` is not a parameter.
        """
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g",
                                  Parameter(norm_except_dim(weight, 2, fn.dim).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        """Put back ``<name>`` as one Parameter holding the current normalized weight."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` with parameters ``<name>_g`` and
    ``<name>_v`` (deprecated in torch in favour of ``parametrizations.weight_norm``; emits its
    FutureWarning).

    Args:
        module: the module.
        name: the parameter's name.
        dim: the dimension whose slices get their own norm; ``None`` for one norm of the whole
            tensor.

    Returns:
        ``module``, with a forward pre-hook recomputing the weight.
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``weight_norm``: ``<name>`` becomes one Parameter again, holding the current value.

    Raises:
        ValueError: no weight_norm hook on ``name``.
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
