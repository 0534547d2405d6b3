"""RMSprop, optionally centered and with momentum."""

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
    _lerp_,
    _real_views,
    _scalar,
    _step_tensor,
    _steps_as_tensors,
    _zeros_state,
)
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, torch's formulation (eps added outside the square root).

    With ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p                      if weight_decay != 0
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - gbar * gbar) + eps,  gbar = lerp(gbar, g, 1 - alpha)   if centered
        avg = sqrt(v) + eps                                                    otherwise
        b = momentum * b + g / avg;  p = p - lr * b   if momentum > 0
        p = p - lr * g / avg                          otherwise

    State (torch's names): ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0),
    ``grad_avg`` (centered).
    A complex parameter is stepped as its real view, real and imaginary parts as two
    coordinates, as in torch; its state tensors stay complex.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-2).
        alpha: smoothing constant (default 0.99).
        eps: term added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by an estimate of the gradient's variance.
        capturable: accepted for compatibility (no-op).
        foreach: accepted for compatibility (no-op).
        maximize: maximize the objective instead of minimizing it.
        differentiable: only ``False`` is supported (``True`` raises NotImplementedError).

    Raises:
        ValueError: a negative lr, eps, momentum, weight_decay or alpha, with torch's
            messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        _check_impl_flags(foreach, None, differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
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
        multiply, divide, sqrt = np.multiply, np.divide, np.sqrt
        scratch = self._scratch
        for group in self.param_groups:
            _refuse_sparse(group["params"], "RMSprop")  # torch: before any change
            lr = _scalar(group["lr"])
            alpha = _scalar(group["alpha"])
            eps = _scalar(group["eps"])
            weight_decay = _scalar(group["weight_decay"])
            momentum = _scalar(group["momentum"])
            centered = group["centered"]
            maximize = group["maximize"]
            for p in group["params"]:
                g_t = p.grad
                if g_t is None:
                    continue
                param = p._data
                grad = g_t._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_state(param)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_state(param)
                    if centered:
                        state["grad_avg"] = _zeros_state(param)
                _advance_step(state)
                square_avg = state["square_avg"]._data
                grad_avg = state["grad_avg"]._data if centered else None
                buf = state["momentum_buffer"]._data if momentum > 0 else None
                if param.dtype.kind == "c":
                    param, grad, square_avg, grad_avg, buf = _real_views(
                        param, grad, square_avg, grad_avg, buf)
                tmp = scratch(param, 0)
                grad = _grad_with_decay(self, param, grad, weight_decay, maximize)

                square_avg *= alpha
                multiply(grad, 1 - alpha, out=tmp)
                tmp *= grad
                square_avg += tmp

                if centered:
                    _lerp_(grad_avg, grad, 1 - alpha, tmp)
                    multiply(grad_avg, grad_avg, out=tmp)
                    np.subtract(square_avg, tmp, out=tmp)
                    sqrt(tmp, out=tmp)
                else:
                    sqrt(square_avg, out=tmp)
                tmp += eps

                divide(grad, tmp, out=tmp)
                if momentum > 0:
                    buf *= momentum
                    buf += tmp
                    multiply(buf, -lr, out=tmp)
                else:
                    tmp *= -lr
                param += tmp
                p._vc[0] += 1  # an in-place update, as torch's version counter sees it
        return loss
