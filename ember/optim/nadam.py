"""NAdam: Adam with Nesterov momentum (Dozat, 2016), with torch's momentum decay."""

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
    _tensor_scalar,
    _zeros_state,
)
from .optimizer import Optimizer

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, torch's single-tensor algorithm, updating parameters in place.

    With ``g`` the gradient (negated when ``maximize``), ``t`` the step count and
    ``mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))``::

        p = p * (1 - lr * weight_decay)           if decoupled_weight_decay
        g = g + weight_decay * p                  otherwise, if weight_decay != 0
        P = P * mu_t  (mu_product);  m = lerp(m, g, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g;  d = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P) * g / d - lr * mu_{t+1} / (1 - P * mu_{t+1}) * m / d

    State per parameter (torch's names): ``step`` and ``mu_product`` (0-d float32 Tensors),
    ``exp_avg`` and ``exp_avg_sq``.
    A complex parameter is stepped as its real view, real and imaginary parts as two
    coordinates, as in torch; its state tensors stay complex.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 2e-3); a float or 1-element Tensor.
        betas: coefficients of the running averages (default (0.9, 0.999)).
        eps: term added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0): an L2 penalty, or decoupled.
        momentum_decay: the momentum schedule's decay (default 4e-3).
        decoupled_weight_decay: apply weight decay to the parameters directly (NAdamW).
        foreach: accepted for compatibility (no-op).
        maximize: maximize the objective instead of minimizing it.
        capturable: accepted for compatibility (no-op).
        differentiable: only ``False`` is supported (``True`` raises NotImplementedError).

    Raises:
        ValueError: a negative lr, eps, weight_decay or momentum_decay, or a beta outside
            [0, 1), with torch's messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        _check_impl_flags(foreach, None, differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if len(p_state) != 0 and not isinstance(p_state["mu_product"], ember.Tensor):
                    p_state["mu_product"] = _step_tensor(float(p_state["mu_product"]))
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
            _refuse_sparse(group["params"], "NAdam")  # torch: before any change
            lr = _tensor_scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            eps = _scalar(group["eps"])
            weight_decay = _scalar(group["weight_decay"])
            momentum_decay = _scalar(group["momentum_decay"])
            decoupled = group["decoupled_weight_decay"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                param = p._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["mu_product"] = _step_tensor(1.0)
                    state["exp_avg"] = _zeros_state(param)
                    state["exp_avg_sq"] = _zeros_state(param)
                step = _advance_step(state)
                bias_correction2 = 1 - beta2**step
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
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                # the product is a float32 tensor in torch: multiply in its dtype
                mu_arr = state["mu_product"]._data
                mu_arr *= mu_arr.dtype.type(mu)
                mu_product = float(mu_arr)
                mu_product_next = mu_product * mu_next

                tmp = self._scratch(param, 0)
                denom = self._scratch(param, 2)
                _lerp_(exp_avg, grad, 1 - beta1, tmp)
                exp_avg_sq *= beta2
                np.multiply(grad, 1 - beta2, out=tmp)
                tmp *= grad
                exp_avg_sq += tmp
                np.divide(exp_avg_sq, bias_correction2, out=denom)
                np.sqrt(denom, out=denom)
                denom += eps
                np.divide(grad, denom, out=tmp)
                tmp *= -lr * (1.0 - mu) / (1.0 - mu_product)
                param += tmp
                np.divide(exp_avg, denom, out=tmp)
                tmp *= (-lr * mu_next) / (1.0 - mu_product_next)
                param += tmp
                p._vc[0] += 1  # an in-place update, as torch's version counter sees it
        return loss
