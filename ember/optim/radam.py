"""RAdam: Adam with the variance of its adaptive learning rate rectified (Liu et al., 2019)."""

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

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam, torch's single-tensor algorithm, updating parameters in place.

    With ``g`` the gradient (negated when ``maximize``), ``t`` the step count,
    ``rho_inf = 2 / (1 - beta2) - 1`` and ``rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)``::

        p = p * (1 - lr * weight_decay)           if decoupled_weight_decay
        g = g + weight_decay * p                  otherwise, if weight_decay != 0
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1^t)
        p = p - m_hat * lr * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t    if rho_t > 5
        p = p - m_hat * lr                                                 otherwise

    where ``r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``.
    State per parameter (torch's names): ``step``, ``exp_avg`` and ``exp_avg_sq``.
    A complex parameter is stepped as its real view, real and imaginary parts as two
    coordinates, as in torch; its state tensors stay complex.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-3); a float or 1-element Tensor.
        betas: coefficients of the running averages (default (0.9, 0.999)).
        eps: term added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0): an L2 penalty, or decoupled.
        decoupled_weight_decay: apply weight decay to the parameters directly (RAdamW).
        foreach: accepted for compatibility (no-op).
        maximize: maximize the objective instead of minimizing it.
        capturable: accepted for compatibility (no-op).
        differentiable: only ``False`` is supported (``True`` raises NotImplementedError).

    Raises:
        ValueError: a negative lr, eps or weight_decay, or a beta outside [0, 1), with
            torch's messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
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
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        _check_impl_flags(foreach, None, differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
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
            _refuse_sparse(group["params"], "RAdam")  # torch: before any change
            lr = _scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            eps = _scalar(group["eps"])
            weight_decay = _scalar(group["weight_decay"])
            decoupled = group["decoupled_weight_decay"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                param = p._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_state(param)
                    state["exp_avg_sq"] = _zeros_state(param)
                step = _advance_step(state)
                grad = p.grad._data
                exp_avg = state["exp_avg"]._data
                exp_avg_sq = state["exp_avg_sq"]._data
                if param.dtype.kind == "c":
                    param, grad, exp_avg, exp_avg_sq = _real_views(
                        param, grad, exp_avg, exp_avg_sq)
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                grad = _grad_with_decay(self, param, grad, 0 if decoupled else weight_decay,
                                        maximize)
                tmp = self._scratch(param, 0)
                _lerp_(exp_avg, grad, 1 - beta1, tmp)
                exp_avg_sq *= beta2
                np.multiply(grad, 1 - beta2, out=tmp)
                tmp *= grad
                exp_avg_sq += tmp

                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                # (m / bc1) * lr, then times the adaptive rate and the rectification
                np.divide(exp_avg, bias_correction1, out=tmp)
                tmp *= lr
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = self._scratch(param, 2)
                    np.sqrt(exp_avg_sq, out=adaptive)
                    adaptive += eps
                    np.divide(bias_correction2**0.5, adaptive, out=adaptive)
                    tmp *= adaptive
                    tmp *= rect
                param -= tmp
                p._vc[0] += 1  # an in-place update, as torch's version counter sees it
        return loss
