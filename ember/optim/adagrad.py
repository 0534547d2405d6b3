"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ._step_utils import (
    _advance_step,
    _check_impl_flags,
    _check_lr,
    _grad_with_decay,
    _real_views,
    _scalar,
    _step_tensor,
    _steps_as_tensors,
)
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, torch's single-tensor algorithm, updating parameters in place.

    With ``g`` the gradient (negated when ``maximize``) and ``t`` the step count::

        g = g + weight_decay * p                  if weight_decay != 0
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g;  p = p - clr * g / (sqrt(s) + eps)

    As in torch, the state (``step``, a 0-d float32 Tensor, and ``sum``, filled with
    ``initial_accumulator_value``) is created for every parameter at construction, so the
    state dict lists all parameters before the first step.
    A complex parameter is stepped as its real view, real and imaginary parts as two
    coordinates, as in torch; its ``sum`` stays complex and starts at ``v + vj``.
    A sparse gradient takes torch's sparse branch: coalesced, then only its rows of ``sum``
    and of the parameter change (weight decay raises torch's error).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-2); a float or 1-element Tensor.
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: starting value of the sums of squares (default 0).
        eps: term added to the denominator (default 1e-10).
        foreach: accepted for compatibility (no-op).
        maximize: maximize the objective instead of minimizing it.
        differentiable: only ``False`` is supported (``True`` raises NotImplementedError).
        fused: accepted for compatibility (no-op).

    Raises:
        ValueError: a negative lr, lr_decay, weight_decay, initial_accumulator_value or
            eps, with torch's messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        _check_impl_flags(foreach, fused, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        _steps_as_tensors(self)

    def _init_state(self, p: Any, initial_accumulator_value: float) -> dict[str, Any]:
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            dtype = p._data.dtype
            # torch fills a complex sum with complex(v, v): v in each part of its real view
            init = (complex(initial_accumulator_value, initial_accumulator_value)
                    if dtype.kind == "c" else initial_accumulator_value)
            state["sum"] = ember.from_numpy(np.full(p._data.shape, init, dtype=dtype))
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step on every parameter that has a gradient.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or ``None``.
        """
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            lr_decay = _scalar(group["lr_decay"])
            eps = _scalar(group["eps"])
            weight_decay = _scalar(group["weight_decay"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                # NOTE: torch fills a late parameter's sum from the defaults, not its group
                state = self._init_state(p, self.defaults["initial_accumulator_value"])
                param, grad, state_sum = p._data, p.grad._data, state["sum"]._data
                if type(grad) is not np.ndarray:  # sparse: torch's branch, on its rows only
                    step = _advance_step(state)
                    from ..sparse import _optim

                    _optim.adagrad_step(p, state_sum, lr / (1 + (step - 1) * lr_decay), eps,
                                        weight_decay, maximize)
                    continue
                if param.dtype.kind == "c":
                    param, grad, state_sum = _real_views(param, grad, state_sum)
                step = _advance_step(state)
                grad = _grad_with_decay(self, param, grad, weight_decay, maximize)
                clr = lr / (1 + (step - 1) * lr_decay)
                tmp = self._scratch(param, 0)
                np.multiply(grad, grad, out=tmp)
                state_sum += tmp
                np.sqrt(state_sum, out=tmp)
                tmp += eps
                np.divide(grad, tmp, out=tmp)
                tmp *= -clr
                param += tmp
                p._vc[0] += 1  # an in-place update, as torch's version counter sees it
        return loss
