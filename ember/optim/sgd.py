"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ._step_utils import _check_impl_flags, _check_lr, _grad_with_decay, _scalar
from .optimizer import Optimizer

__all__ = ["SGD"]


def _sparse_optim():
    from ..sparse import _optim

    return _optim


class SGD(Optimizer):
    """Stochastic gradient descent, torch's formulation.

    With ``g`` the gradient (negated when ``maximize``), each step does::

        g = g + weight_decay * p                       if weight_decay != 0
        b = g  (first step)  or  momentum * b + (1 - dampening) * g
        g = g + momentum * b  (nesterov)  or  b        if momentum != 0
        p = p - lr * g

    The momentum buffer starts as a copy of the first gradient (no dampening on it), as
    in torch; it is kept in ``state[p]["momentum_buffer"]`` only when momentum != 0.

    A sparse gradient (``nn.Embedding(sparse=True)``) takes torch's sparse path: only its
    rows change, the momentum buffer is sparse (its entries accumulate, uncoalesced), and
    weight decay raises torch's error (it would add a dense tensor to a sparse one).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-3, torch's default); a float or 1-element Tensor.
        momentum: momentum factor (default 0).
        dampening: dampening for momentum (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective instead of minimizing it.
        foreach: accepted for compatibility; ember always runs one fused in-place loop.
        differentiable: only ``False`` is supported (``True`` raises NotImplementedError).
        fused: accepted for compatibility (no-op).

    Raises:
        ValueError: negative lr, momentum or weight_decay ("Invalid learning rate: -1"),
            or Nesterov without momentum / with dampening.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_lr(lr, lt=True)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_impl_flags(foreach, fused, differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step on every parameter that has a gradient.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or ``None``.
        """
        loss = self._closure_loss(closure)
        multiply, add = np.multiply, np.add
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            momentum = _scalar(group["momentum"])
            dampening = _scalar(group["dampening"])
            weight_decay = _scalar(group["weight_decay"])
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p in group["params"]:
                g_t = p.grad
                if g_t is None:
                    continue
                param = p._data
                grad = g_t._data
                if type(grad) is not np.ndarray:  # a sparse gradient (nn.Embedding(sparse=True))
                    _sparse_optim().sgd_step(self, p, lr, momentum, dampening, weight_decay,
                                             nesterov, maximize)
                    continue
                tmp = self._scratch(param, 0)
                grad = _grad_with_decay(self, param, grad, weight_decay, maximize)

                if momentum != 0:
                    state = self.state[p]
                    buf_t = state.get("momentum_buffer")
                    if buf_t is None:
                        buf = np.array(grad, copy=True)
                        state["momentum_buffer"] = ember.from_numpy(buf)
                    else:
                        buf = buf_t._data
                        buf *= momentum
                        if dampening == 0:
                            buf += grad
                        else:
                            multiply(grad, 1 - dampening, out=tmp)
                            buf += tmp
                    if nesterov:
                        multiply(buf, momentum, out=tmp)
                        add(grad, tmp, out=tmp)
                        grad = tmp
                    else:
                        grad = buf

                if grad is tmp:
                    tmp *= -lr
                else:
                    multiply(grad, -lr, out=tmp)
                param += tmp
                p._vc[0] += 1  # an in-place update, as torch's version counter sees it
        return loss
