"""ASGD: stochastic gradient descent with a decaying step size and Polyak averaging."""

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
    _step_tensor,
    _zeros_state,
)
from .optimizer import Optimizer

__all__ = ["ASGD"]


def _lr_value(lr: Any) -> Any:
    """torch's ``_to_scalar(lr)``: a Tensor lr as a NumPy scalar of its own dtype (so that
    the eta formula runs in that precision, as torch's 0-d tensor arithmetic does)."""
    if isinstance(lr, ember.Tensor):
        return lr._data.reshape(())[()]
    return lr


class ASGD(Optimizer):
    """Averaged SGD, torch's single-tensor algorithm, updating parameters in place.

    With ``g`` the gradient (negated when ``maximize``) and ``t`` the step count::

        g = g + weight_decay * p                     if weight_decay != 0
        p = p * (1 - lambd * eta) - eta * g
        ax = p  while mu == 1,  else  ax = ax + mu * (p - ax)
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu = 1 / max(1, t - t0)

    ``ax`` is the running average of the iterates; averaging starts after ``t0`` steps.
    State per parameter (torch's names and order): ``step``, ``eta``, ``mu`` (0-d float32
    Tensors, float64 under a float64 default dtype) and ``ax``. ``eta`` starts at ``lr``
    rounded to that dtype.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-2); a float or 1-element Tensor.
        lambd: decay term (default 1e-4).
        alpha: power of the eta update (default 0.75).
        t0: the step at which averaging starts (default 1e6).
        weight_decay: L2 penalty (default 0).
        foreach: accepted for compatibility (no-op).
        maximize: maximize the objective instead of minimizing it.
        differentiable: only ``False`` is supported (``True`` raises NotImplementedError).
        capturable: accepted for compatibility (no-op; torch refuses it on the CPU).

    Raises:
        ValueError: a negative lr or weight_decay, with torch's messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
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
            for p in group["params"]:
                p_state = self.state.get(p, {})
                # an old pickle kept numbers: make them 0-d Tensors, as torch does
                for key in ("step", "eta", "mu"):
                    if len(p_state) != 0 and not isinstance(p_state[key], ember.Tensor):
                        p_state[key] = _step_tensor(float(p_state[key]))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step on every parameter that has a gradient.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or ``None``.
        """
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            _refuse_sparse(group["params"], "ASGD")  # torch: before any change
            lr = _lr_value(group["lr"])
            lambd = group["lambd"]
            alpha = group["alpha"]
            t0 = group["t0"]
            weight_decay = group["weight_decay"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                param = p._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["eta"] = _step_tensor(float(lr))
                    state["mu"] = _step_tensor(1.0)
                    state["ax"] = _zeros_state(param)
                step = _advance_step(state)
                grad = _grad_with_decay(self, param, p.grad._data, weight_decay, maximize)
                eta_arr, mu_arr = state["eta"]._data, state["mu"]._data
                ax = state["ax"]._data
                tmp = self._scratch(param, 0)

                eta = float(eta_arr)
                param *= 1 - lambd * eta  # the decay term
                np.multiply(grad, -eta, out=tmp)
                param += tmp
                if float(mu_arr) != 1:  # averaging: ax += mu * (p - ax)
                    np.subtract(param, ax, out=tmp)
                    tmp *= mu_arr[()]
                    ax += tmp
                else:
                    np.copyto(ax, param)
                p._vc[0] += 1  # an in-place update, as torch's version counter sees it

                # torch rounds both to the default dtype (as_tensor), then to the state's
                eta_arr[()] = np.asarray(lr / ((1 + lambd * lr * step) ** alpha),
                                         dtype=_default_np_dtype())
                mu_arr[()] = np.asarray(1 / max(1, step - t0), dtype=_default_np_dtype())
        return loss


def _default_np_dtype() -> type:
    return np.float64 if ember.get_default_dtype() == ember.float64 else np.float32
