"""Pruning by masks, mirroring ``torch.nn.utils.prune``.

Pruning ``module.<name>`` moves the parameter to ``<name>_orig`` (still the Parameter the
optimizer sees), adds a 0/1 buffer ``<name>_mask`` and registers the pruning method as a
forward pre-hook that sets the plain attribute ``module.<name> = <name>_mask * <name>_orig``
before every call, so gradients reach ``<name>_orig`` only where the mask is 1. Pruning the
same tensor again composes the masks through a :class:`PruningContainer` (the new method sees
only what is still unpruned); :func:`remove` makes the pruning permanent.

Which elements the magnitude methods drop follows ``torch.topk`` on the CPU, ties included
(see ``_topk_select``); the random methods draw from ember's generator exactly as torch draws
from its own (``rand_like`` for unstructured, ``rand(channels)`` for structured), so after the
same ``manual_seed`` their masks are torch's.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

import numpy as np

import ember

from ..._tensor import Tensor
from ..modules.module import Module
from ._prune_utils import (
    _channel_mask,
    _checked_nparams_toprune,
    _compute_norm,
    _topk,
    _validate_pruning_amount_init,
    _validate_structured,
)

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask", "identity",
           "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
           "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


class BasePruningMethod(ABC):
    """Base class of the pruning methods; subclasses define :meth:`compute_mask`.

    An instance is the forward pre-hook of a pruned module: calling it with
    ``(module, inputs)`` recomputes ``module.<name>`` from ``<name>_orig`` and ``<name>_mask``.
    ``PRUNING_TYPE`` (``"unstructured"``, ``"structured"`` or ``"global"``) tells a
    :class:`PruningContainer` which part of the tensor the method acts on.
    """

    _tensor_name: str

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """Return the mask for ``t``, combined with ``default_mask`` (the mask so far).

        Args:
            t: the importance scores (the tensor itself by default).
            default_mask: the mask of earlier pruning (all ones the first time).
        """

    def apply_mask(self, module: Module) -> Tensor:
        """Return ``<name>_mask * <name>_orig`` (differentiable in ``<name>_orig``).

        Raises:
            AssertionError: the method has not been applied to a tensor yet.
        """
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module: Module, name: str, *args: Any, importance_scores: Tensor | None = None,
              **kwargs: Any) -> BasePruningMethod:
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, composing with earlier pruning.

        Args:
            module: the module holding the tensor.
            name: the parameter's name in ``module``.
            args, kwargs: the method's constructor arguments.
            importance_scores: scores shaped like the parameter that decide what to prune
                (default: the parameter itself).

        Returns:
            The hook now registered: the new method, or the :class:`PruningContainer` holding
            it after the earlier ones.

        Raises:
            AssertionError: several pruning hooks on ``name`` already, or
                ``importance_scores`` shaped unlike the parameter.
        """
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if importance_scores.shape != orig.shape:
                raise AssertionError(
                    f"importance_scores should have the same shape as parameter {name} of "
                    f"{module}, got {importance_scores.shape} vs {orig.shape}")
        else:
            importance_scores = orig
        if not isinstance(method, PruningContainer):
            # first pruning of this tensor: the Parameter moves to <name>_orig
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ember.ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone(
                memory_format=ember.contiguous_format)
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            # NOTE: as in torch, only a first pruning is rolled back; a container's old hook
            # stays unregistered.
            if not isinstance(method, PruningContainer):
                module.register_parameter(name, getattr(module, name + "_orig"))
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """Return ``t`` times the mask computed from ``importance_scores`` (default ``t``).

        Raises:
            AssertionError: ``importance_scores`` shaped unlike ``t``.
        """
        if importance_scores is not None:
            if importance_scores.shape != t.shape:
                raise AssertionError("importance_scores should have the same shape as tensor "
                                     f"t, got {importance_scores.shape} vs {t.shape}")
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else ember.ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``<name>`` becomes a Parameter holding the pruned
        values (the ``<name>_orig`` Parameter object itself), and ``<name>_orig`` and
        ``<name>_mask`` go away. The hook itself is removed by :func:`remove`.

        Raises:
            AssertionError: the method has not been applied to a tensor yet.
        """
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be "
                                 "removed")
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


def _composite_method(cls, module, name, *args, **kwargs):
    """The method to register: ``cls(*args, **kwargs)``, appended to the tensor's existing
    pruning (which leaves the module's hooks) in a :class:`PruningContainer`."""
    keys = [k for k, hook in module._forward_pre_hooks.items()
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
    if len(keys) > 1:
        raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} "
                             f"of module {module}. Use a PruningContainer.")
    old_method = module._forward_pre_hooks.pop(keys[0]) if keys else None
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if isinstance(old_method, PruningContainer):
        old_method.add_pruning_method(method)
        method = old_method
    elif old_method is not None:
        container = PruningContainer(old_method)
        container.add_pruning_method(method)
        method = container
    return method


class PruningContainer(BasePruningMethod):
    """A sequence of pruning methods on one tensor, for iterative pruning.

    Its mask is the last method's mask computed on the part the earlier ones left: the
    still-unpruned entries (unstructured), the still-alive channels (structured) or the whole
    tensor (global).

    Args:
        *args: one pruning method (the container takes its tensor name) or several.
    """

    def __init__(self, *args: BasePruningMethod) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        """Append ``method`` (``None`` is appended as is, like torch).

        Raises:
            TypeError: ``method`` is not a pruning method.
            ValueError: ``method`` acts on another tensor name.
        """
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The last method's mask, computed on the slice of ``t`` the earlier pruning left.

        Raises:
            AttributeError: a structured method has no ``dim``.
            IndexError: its ``dim`` is out of range.
            ValueError: an unknown ``PRUNING_TYPE``.
        """
        method = self._pruning_methods[-1]
        mask = default_mask
        new_mask = mask.to(dtype=t.dtype)
        if method.PRUNING_TYPE == "unstructured":
            slc = mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to '
                                     "have the attribute `dim` defined.")
            n_dims = t.dim()
            dim = method.dim + n_dims if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
            # the channels with at least one unpruned entry
            keep_channel = mask.sum(dim=[d for d in range(n_dims) if d != dim]) != 0
            slc = [slice(None)] * n_dims
            slc[dim] = keep_channel
            slc = tuple(slc)
        elif method.PRUNING_TYPE == "global":
            slc = (slice(None),) * len(t.shape)
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial_mask = method.compute_mask(t[slc], default_mask=mask[slc])
        new_mask[slc] = partial_mask.to(dtype=new_mask.dtype)
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask stays all ones (useful to get the ``_orig``/``_mask``
    layout without pruning)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """Return ``default_mask`` unchanged."""
        return default_mask

    @classmethod
    def apply(cls, module: Module, name: str) -> Identity:
        """Register an Identity pruning of ``module.<name>``; see
        :meth:`BasePruningMethod.apply`."""
        return super().apply(module, name)


class _UnstructuredByScore(BasePruningMethod):
    """Prunes the ``amount`` entries that rank first by a score (``_scores``): the largest
    scores when ``_largest``, else the smallest (ties as ``torch.topk``)."""

    PRUNING_TYPE = "unstructured"
    _largest = False

    def __init__(self, amount: int | float) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def _scores(self, t: Tensor) -> Tensor:
        raise NotImplementedError

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """``default_mask`` with the chosen entries zeroed.

        Raises:
            ValueError: an integer ``amount`` above ``t.numel()``.
        """
        tensor_size = t.nelement()
        nparams_toprune = _checked_nparams_toprune(self.amount, tensor_size)
        mask = default_mask.clone(memory_format=ember.contiguous_format)
        if nparams_toprune != 0:  # no scores drawn otherwise (the random stream stays put)
            scores = self._scores(t)
            mask.view(-1)[_topk(scores, nparams_toprune, largest=self._largest)] = 0
        return mask


class RandomUnstructured(_UnstructuredByScore):
    """Prunes ``amount`` entries chosen at random: those with the largest ``rand_like``
    draws.

    Args:
        amount: a fraction in ``[0, 1]`` (rounded to the nearest count) or a number of
            entries.

    Raises:
        TypeError, ValueError: ``amount`` is not a valid fraction or count.
    """

    _largest = True

    def _scores(self, t: Tensor) -> Tensor:
        return ember.rand_like(t)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float) -> BasePruningMethod:
        """Prune ``module.<name>`` at random; see :meth:`BasePruningMethod.apply`."""
        return super().apply(module, name, amount=amount)


class L1Unstructured(_UnstructuredByScore):
    """Prunes the ``amount`` entries of smallest absolute value (ties as ``torch.topk``).

    Args:
        amount: a fraction in ``[0, 1]`` (rounded to the nearest count) or a number of
            entries.

    Raises:
        TypeError, ValueError: ``amount`` is not a valid fraction or count.
    """

    def _scores(self, t: Tensor) -> Tensor:
        return ember.abs(t.detach())

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float,
              importance_scores: Tensor | None = None) -> BasePruningMethod:
        """Prune ``module.<name>`` by magnitude (of ``importance_scores`` when given); see
        :meth:`BasePruningMethod.apply`."""
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` whole channels along ``dim``, chosen at random.

    Args:
        amount: a fraction in ``[0, 1]`` of the channels or a number of channels.
        dim: the dimension indexing the channels (default: the last).

    Raises:
        TypeError, ValueError: ``amount`` is not a valid fraction or count.
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, dim: int = -1) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """Zeros on the channels whose ``rand(channels)`` draw is at most the
        ``amount``-th smallest, times ``default_mask``.

        Raises:
            ValueError: ``t`` has fewer than 2 dims, or ``amount`` exceeds the channels.
            IndexError: ``dim`` is out of range.
        """
        _validate_structured(t, self.dim)
        tensor_size = t.shape[self.dim]
        nparams_toprune = _checked_nparams_toprune(self.amount, tensor_size)
        if nparams_toprune == 0:
            return default_mask
        prob = ember.rand(tensor_size)
        threshold = ember.kthvalue(prob, k=nparams_toprune).values
        mask = _channel_mask(t, self.dim, prob > threshold)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float,
              dim: int = -1) -> BasePruningMethod:
        """Prune random channels of ``module.<name>``; see :meth:`BasePruningMethod.apply`."""
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels along ``dim`` of smallest ``n``-norm.

    Args:
        amount: a fraction in ``[0, 1]`` of the channels or a number of channels.
        n: the norm's order, as ``torch.norm``'s ``p`` (``1``, ``2``, ``float("inf")``,
            ``"fro"``, ...).
        dim: the dimension indexing the channels (default: the last).

    Raises:
        TypeError, ValueError: ``amount`` is not a valid fraction or count.
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, n: int | float | str, dim: int = -1) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """Ones on the channels with the largest norms (ties as ``torch.topk``), times
        ``default_mask``.

        Raises:
            ValueError: ``t`` has fewer than 2 dims, or ``amount`` exceeds the channels.
            IndexError: ``dim`` is out of range.
        """
        _validate_structured(t, self.dim)
        tensor_size = t.shape[self.dim]
        nparams_toprune = _checked_nparams_toprune(self.amount, tensor_size)
        nparams_tokeep = tensor_size - nparams_toprune
        if nparams_toprune == 0:
            return default_mask
        norm = _compute_norm(t.detach(), self.n, self.dim)
        keep = np.zeros(tensor_size, dtype=bool)
        keep[_topk(norm, nparams_tokeep, largest=True).numpy()] = True
        mask = _channel_mask(t, self.dim, ember.from_numpy(keep))
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float, n: int | float | str,
              dim: int, importance_scores: Tensor | None = None) -> BasePruningMethod:
        """Prune the weakest channels of ``module.<name>``; see
        :meth:`BasePruningMethod.apply`."""
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where a given mask is 0.

    Args:
        mask: a tensor shaped like the pruned tensor.
    """

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """``default_mask * mask``.

        Raises:
            AssertionError: the masks' shapes differ.
        """
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f"default_mask shape {default_mask.shape} must match "
                                 f"self.mask shape {self.mask.shape}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module: Module, name: str, mask: Tensor) -> BasePruningMethod:
        """Prune ``module.<name>`` with ``mask``; see :meth:`BasePruningMethod.apply`."""
        return super().apply(module, name, mask=mask)


def identity(module: Module, name: str) -> Module:
    """Reparametrize ``module.<name>`` as ``<name>_orig * <name>_mask`` with an all-ones mask;
    returns ``module``."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: int | float) -> Module:
    """Prune ``amount`` random entries of ``module.<name>`` (:class:`RandomUnstructured`);
    returns ``module``, with ``<name>_orig``, ``<name>_mask`` and the pruning hook."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount: int | float,
                    importance_scores: Tensor | None = None) -> Module:
    """Prune the ``amount`` entries of ``module.<name>`` (or of ``importance_scores``) of
    smallest magnitude (:class:`L1Unstructured`); returns ``module``."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: int | float, dim: int) -> Module:
    """Prune ``amount`` random channels of ``module.<name>`` along ``dim``
    (:class:`RandomStructured`); returns ``module``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount: int | float, n: int | float | str,
                  dim: int, importance_scores: Tensor | None = None) -> Module:
    """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` of smallest ``n``-norm
    (:class:`LnStructured`); returns ``module``."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters: Iterable[tuple[Module, str]], pruning_method: type,
                        importance_scores: dict | None = None, **kwargs: Any) -> None:
    """Prune several tensors together: ``pruning_method(**kwargs)`` picks its entries from
    all of them at once (e.g. the ``amount`` smallest across every listed weight), and each
    tensor gets the resulting slice as a :class:`CustomFromMask` pruning.

    Args:
        parameters: ``(module, name)`` pairs.
        pruning_method: an unstructured pruning class, e.g. :class:`L1Unstructured`.
        importance_scores: optional scores per ``(module, name)`` pair.
        **kwargs: the method's arguments, e.g. ``amount``.

    Raises:
        TypeError: ``parameters`` is not iterable, ``importance_scores`` is not a dict, or
            the method is not unstructured.
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    relevant_importance_scores = ember.nn.utils.parameters_to_vector([
        importance_scores.get((module, name), getattr(module, name))
        for module, name in parameters])
    default_mask = ember.nn.utils.parameters_to_vector([
        getattr(module, name + "_mask", ember.ones_like(getattr(module, name)))
        for module, name in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    final_mask = container.compute_mask(relevant_importance_scores, default_mask)
    pointer = 0
    for module, name in parameters:
        param = getattr(module, name)
        num_param = param.numel()
        param_mask = final_mask[pointer:pointer + num_param].view_as(param)
        custom_from_mask(module, name, mask=param_mask)
        pointer += num_param


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    """Prune ``module.<name>`` where ``mask`` is 0 (:class:`CustomFromMask`); returns
    ``module``."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.<name>`` permanent: ``<name>`` becomes a Parameter holding
    the pruned values, and the mask, ``<name>_orig`` and the hook are dropped.

    Raises:
        ValueError: ``module.<name>`` is not pruned.
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or any of its submodules has a pruning hook."""
    for _, submodule in module.named_modules():
        for hook in submodule._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False
