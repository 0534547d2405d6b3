"""Weight averaging, mirroring ``torch.optim.swa_utils``.

:class:`AveragedModel` keeps a deep copy of a model whose parameters are a running average
of the model's (equal weights: Stochastic Weight Averaging; or exponential: EMA, with
:func:`get_ema_multi_avg_fn`). :class:`SWALR` anneals each group's lr to a constant
``swa_lr`` for the averaging phase, and :func:`update_bn` recomputes BatchNorm statistics for
the averaged weights with one pass over the data.

The averaging runs torch's CPU path: the default SWA average is ``avg + (p - avg) / (n + 1)``
per tensor, and the multi-tensor functions use ``lerp_`` (torch's ``_foreach_lerp_``), so the
averages agree with torch's to float32 rounding.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

import ember

from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from .lr_scheduler._base import LRScheduler, _format_param
from .optimizer import Optimizer

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _is_float(t: ember.Tensor) -> bool:
    return ember.is_floating_point(t) or ember.is_complex(t)


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """The in-place EMA update of a list of tensors, for ``AveragedModel(multi_avg_fn=...)``:
    ``ema = decay * ema + (1 - decay) * current`` (as ``ema.lerp_(current, 1 - decay)``).

    Args:
        decay: the EMA decay, in ``[0, 1]``.

    Raises:
        ValueError: ``decay`` outside ``[0, 1]``.
    """
    _check_decay(decay)

    @ember.no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if _is_float(ema_param_list[0]):
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.lerp_(p_model, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """The in-place equal-weight (SWA) update of a list of tensors, for
    ``AveragedModel(multi_avg_fn=...)``: ``avg += (current - avg) / (n_averaged + 1)``."""

    @ember.no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if _is_float(averaged_param_list[0]):
            weight = float(1 / (num_averaged + 1))
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                p_avg.lerp_(p_model, weight)
        else:
            diffs = [c - a for c, a in zip(current_param_list, averaged_param_list)]
            for p_avg, diff in zip(averaged_param_list, diffs):
                if isinstance(num_averaged, ember.Tensor):
                    p_avg.addcdiv_(diff, num_averaged + 1)
                else:
                    p_avg.add_(diff, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """The EMA of one tensor, for ``AveragedModel(avg_fn=...)``: returns
    ``decay * ema + (1 - decay) * current``.

    Args:
        decay: the EMA decay, in ``[0, 1]``.

    Raises:
        ValueError: ``decay`` outside ``[0, 1]``.
    """
    _check_decay(decay)

    @ember.no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable:
    """The equal-weight (SWA) average of one tensor, for ``AveragedModel(avg_fn=...)``:
    returns ``avg + (current - avg) / (n_averaged + 1)``."""

    @ember.no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A deep copy of ``model`` whose parameters average those passed to
    :meth:`update_parameters` (SWA by default, EMA with an EMA function).

    The first update copies the model's values; each later one applies ``avg_fn`` (per
    tensor, returning the new average) or ``multi_avg_fn`` (in place, on lists of tensors),
    with the number of models averaged so far, the buffer ``n_averaged`` (int64). Without
    ``use_buffers`` the buffers (e.g. BatchNorm's statistics) are copied from the model at
    each update instead of averaged (use :func:`update_bn` afterwards).

    Args:
        model: the model to average; it is deep-copied, never modified.
        device: where to keep the copy (CPU only in ember).
        avg_fn: ``avg_fn(averaged, current, n_averaged) -> Tensor``.
        multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, n_averaged)``, in place.
        use_buffers: average the buffers too (parameters then buffers, in order).

    Raises:
        AssertionError: both ``avg_fn`` and ``multi_avg_fn`` are given (torch's type).
    """

    n_averaged: ember.Tensor

    def __init__(self, model: Module, device: Any = None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", ember.tensor(0, dtype=ember.long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Call the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the
        average and add one to ``n_averaged``.

        Raises:
            ValueError: without ``use_buffers``, ``model`` has another number of buffers.
        """
        if self.use_buffers:
            self_param = chain(self.module.parameters(), self.module.buffers())
            model_param = chain(model.parameters(), model.buffers())
        else:
            self_param, model_param = self.parameters(), model.parameters()
        self_detached, model_detached = [], []
        copy_param = bool(self.n_averaged == 0)
        for p_averaged, p_model in zip(self_param, model_param):
            p_model_ = p_model.detach().to(p_averaged.device)
            self_detached.append(p_averaged.detach())
            model_detached.append(p_model_)
            if copy_param:
                p_averaged.detach().copy_(p_model_)

        if self.n_averaged > 0:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                for self_params, model_params in _group_by_dtype(self_detached, model_detached):
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(self_params, model_params, self.n_averaged)
                    else:
                        # torch's CPU path: no foreach kernels, the per-tensor SWA average
                        avg_fn = get_swa_avg_fn()
                        for p_averaged, p_model in zip(self_params, model_params):
                            p_averaged.copy_(avg_fn(p_averaged, p_model, self.n_averaged))
            else:
                for p_averaged, p_model in zip(self_detached, model_detached):
                    p_averaged.copy_(self.avg_fn(p_averaged, p_model, self.n_averaged))

        if not self.use_buffers:
            # the copy tracks the model's buffers (e.g. BatchNorm's running statistics)
            for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_swa.detach().copy_(b_model.detach().to(b_swa.device))
        self.n_averaged += 1


def _group_by_dtype(averaged: list, current: list) -> list[tuple[list, list]]:
    """The pairs grouped by the averaged tensor's dtype (torch groups by device and dtype),
    in order of first appearance."""
    groups: dict[Any, tuple[list, list]] = {}
    for a, c in zip(averaged, current):
        group = groups.setdefault(a.dtype, ([], []))
        group[0].append(a)
        group[1].append(c)
    return list(groups.values())


@ember.no_grad()
def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the BatchNorm running statistics of ``model`` with one pass over ``loader``.

    Every BatchNorm layer's statistics are reset and accumulated as a cumulative average
    (``momentum=None``) over the batches, in training mode and without gradients; the
    momenta and the model's training mode are restored afterwards. Nothing happens when the
    model has no BatchNorm layer.

    Args:
        loader: yields tensors, or lists/tuples whose first element is the input.
        model: the model (typically an :class:`AveragedModel`).
        device: if given, each input is moved there first.
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for input in loader:
        if isinstance(input, (list, tuple)):
            input = input[0]
        if device is not None:
            input = input.to(device)
        model(input)
    for bn_module in momenta:
        bn_module.momentum = momenta[bn_module]
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's learning rate to ``swa_lr`` over ``anneal_epochs`` epochs, then
    holds it there (for the averaging phase of SWA).

    Each step moves the lr from where the annealing started towards ``swa_lr`` by
    ``alpha = anneal(t)``, ``t = step / anneal_epochs``: ``(1 - cos(pi t)) / 2`` for
    ``"cos"`` or ``t`` for ``"linear"``. The start is recovered from the current lr, so the
    recursion tracks external changes of the lr as torch's does. ``swa_lr`` is stored in each
    group (``group["swa_lr"]``).

    Args:
        optimizer: the wrapped optimizer.
        swa_lr: the final learning rate, for all groups or one per group.
        anneal_epochs: epochs of annealing (0: jump straight to ``swa_lr``).
        anneal_strategy: ``"cos"`` or ``"linear"``.
        last_epoch: index of the last epoch when resuming (-1 starts fresh).

    Raises:
        ValueError: a bad ``anneal_strategy``, a negative or non-int ``anneal_epochs``, or a
            list of ``swa_lr`` of the wrong length.
    """

    def __init__(self, optimizer: Optimizer, swa_lr: float | list[float],
                 anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: Any, swa_lr: Any, alpha: float) -> Any:
        # the lr the annealing started from, given the lr reached at alpha
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[Any]:
        """The next learning rate of each group (called by :meth:`step`)."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please "
                          "use `get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = (self._cosine_anneal if anneal_strategy == "cos"
                            else self._linear_anneal)

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer and the annealing function."""
        return {key: value for key, value in self.__dict__.items()
                if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes saved by :meth:`state_dict` (and the annealing function)."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
