"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ..sparse._optim import refuse as _refuse_sparse
from ._step_utils import (
    _advance_step,
    _check_impl_flags,
    _check_lr,
    _grad_with_decay,
    _real_views,
    _scalar,
    _step_tensor,
    _steps_as_tensors,
    _zeros_state,
)
from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, torch's single-tensor algorithm, updating parameters in place.

    With ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p                      if weight_decay != 0
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    State (torch's names): ``step``, ``square_avg`` (``v``) and ``acc_delta`` (``u``).
    A complex parameter is stepped as its real view, real and imaginary parts as two
    coordinates, as in torch; its state tensors stay complex.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: scale of the update (default 1.0); a float or 1-element Tensor.
        rho: smoothing constant of both running averages (default 0.9).
        eps: term added inside the square roots (default 1e-6).
        weight_decay: L2 penalty (default 0).
        foreach: accepted for compatibility (no-op).
        capturable: accepted for compatibility (no-op).
        maximize: maximize the objective instead of minimizing it.
        differentiable: only ``False`` is supported (``True`` raises NotImplementedError).

    Raises:
        ValueError: a negative lr, eps or weight_decay, or rho outside [0, 1], with torch's
            messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
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
        scratch = self._scratch
        for group in self.param_groups:
            _refuse_sparse(group["params"], "Adadelta")  # torch: before any change
            lr = _scalar(group["lr"])
            rho = _scalar(group["rho"])
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
                    state["square_avg"] = _zeros_state(param)
                    state["acc_delta"] = _zeros_state(param)
                _advance_step(state)
                grad = p.grad._data
                square_avg = state["square_avg"]._data
                acc_delta = state["acc_delta"]._data
                if param.dtype.kind == "c":
                    param, grad, square_avg, acc_delta = _real_views(
                        param, grad, square_avg, acc_delta)
                grad = _grad_with_decay(self, param, grad, weight_decay, maximize)
                tmp, delta = scratch(param, 0), scratch(param, 2)

                square_avg *= rho  # square_avg.mul_(rho).addcmul_(grad, grad, 1 - rho)
                np.multiply(grad, grad, out=tmp)
                tmp *= 1 - rho
                square_avg += tmp
                np.add(square_avg, eps, out=tmp)  # std = sqrt(square_avg + eps)
                np.sqrt(tmp, out=tmp)
                np.add(acc_delta, eps, out=delta)  # delta = sqrt(acc_delta + eps) / std * g
                np.sqrt(delta, out=delta)
                delta /= tmp
                delta *= grad
                acc_delta *= rho  # acc_delta.mul_(rho).addcmul_(delta, delta, 1 - rho)
                np.multiply(delta, delta, out=tmp)
                tmp *= 1 - rho
                acc_delta += tmp
                delta *= -lr
                param += delta
                p._vc[0] += 1  # an in-place update, as torch's version counter sees it
        return loss
