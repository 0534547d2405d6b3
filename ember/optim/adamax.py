"""Adamax: Adam with the infinity norm of past gradients in place of their second moment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ..sparse._optim import refuse as _refuse_sparse
from ._step_utils import (
    _advance_step,
    _check_betas,
    _check_impl_flags,
    _check_lr,
    _grad_with_decay,
    _lerp_,
    _real_views,
    _scalar,
    _step_tensor,
    _steps_as_tensors,
    _zeros_state,
)
from .optimizer import Optimizer

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, torch's single-tensor algorithm, updating parameters in place.

    With ``g`` the gradient (negated when ``maximize``) and ``t`` the step count::

        g = g + weight_decay * p                  if weight_decay != 0
        m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    State per parameter (torch's names): ``step`` (0-d float32 Tensor), ``exp_avg`` and
    ``exp_inf``.
    A complex parameter is stepped as its real view, real and imaginary parts as two
    coordinates, as in torch; its state tensors stay complex.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 2e-3); a float or 1-element Tensor.
        betas: coefficients of the running average and of the decaying maximum.
        eps: term added for numerical stability (default 1e-8).
        weight_decay: L2 penalty (default 0).
        foreach: accepted for compatibility (no-op).
        maximize: maximize the objective instead of minimizing it.
        differentiable: only ``False`` is supported (``True`` raises NotImplementedError).
        capturable: accepted for compatibility (no-op: there are no CUDA graphs here).

    Raises:
        ValueError: a negative lr, eps or weight_decay, or a beta outside [0, 1), with
            torch's messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        _check_impl_flags(foreach, None, differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _steps_as_tensors(self)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step on every parameter that has a gradient.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or ``None``.
        """
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            _refuse_sparse(group["params"], "Adamax")  # torch: before any change
            lr = _scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            eps = _scalar(group["eps"])
            weight_decay = _scalar(group["weight_decay"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                param = p._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_state(param)
                    state["exp_inf"] = _zeros_state(param)
                step = _advance_step(state)
                grad = p.grad._data
                exp_avg = state["exp_avg"]._data
                exp_inf = state["exp_inf"]._data
                if param.dtype.kind == "c":
                    param, grad, exp_avg, exp_inf = _real_views(param, grad, exp_avg, exp_inf)
                grad = _grad_with_decay(self, param, grad, weight_decay, maximize)
                tmp = self._scratch(param, 0)
                _lerp_(exp_avg, grad, 1 - beta1, tmp)
                exp_inf *= beta2
                np.abs(grad, out=tmp)
                tmp += eps
                np.maximum(exp_inf, tmp, out=exp_inf)
                clr = lr / (1 - beta1**step)
                np.divide(exp_avg, exp_inf, out=tmp)
                tmp *= -clr
                param += tmp
                p._vc[0] += 1  # an in-place update, as torch's version counter sees it
        return loss
