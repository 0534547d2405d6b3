"""Rprop: resilient backpropagation, one step size per element driven by gradient signs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ._step_utils import (
    _advance_step,
    _check_impl_flags,
    _check_lr,
    _real_views,
    _scalar,
    _step_tensor,
    _steps_as_tensors,
    _zeros_state,
)
from .optimizer import Optimizer

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop, torch's single-tensor algorithm, updating parameters in place.

    With ``g`` the gradient (negated when ``maximize``), ``g_prev`` the previous step's
    (zeroed where its sign flipped) and ``s`` the per-element step size::

        f = etaplus  where g * g_prev > 0;  etaminus where < 0;  1 where = 0
        s = clamp(s * f, step_size_min, step_size_max)
        g = 0                                  where f == etaminus
        p = p - sign(g) * s;  g_prev = g

    State per parameter (torch's names): ``step`` (0-d float32 Tensor), ``prev`` and
    ``step_size`` (starts at ``lr`` everywhere).
    A complex parameter is stepped as its real view, real and imaginary parts as two
    coordinates, as in torch; its state stays complex (``step_size`` starts at
    ``lr + lr j``).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-2): the initial step size; a float or 1-element
            Tensor. Only the first step of each parameter reads it.
        etas: ``(etaminus, etaplus)``, the factors that shrink and grow the step sizes
            (default (0.5, 1.2)).
        step_sizes: ``(step_size_min, step_size_max)``, the bounds of the step sizes
            (default (1e-6, 50)).
        capturable: accepted for compatibility (no-op: there are no CUDA graphs here).
        foreach: accepted for compatibility (no-op).
        maximize: maximize the objective instead of minimizing it.
        differentiable: only ``False`` is supported (``True`` raises NotImplementedError).

    Raises:
        ValueError: a negative lr, a multi-element Tensor lr, or etas outside
            ``0 < etaminus < 1 < etaplus``, with torch's messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
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

        Raises:
            RuntimeError: a gradient is sparse (never, in ember: it has no sparse tensors).
        """
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = (_scalar(e) for e in group["etas"])
            step_size_min, step_size_max = (_scalar(s) for s in group["step_sizes"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("Rprop does not support sparse gradients")
                param = p._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["prev"] = _zeros_state(param)
                    lr = _scalar(group["lr"])
                    # torch fills a complex step_size with complex(lr, lr): both parts step
                    init = complex(lr, lr) if param.dtype.kind == "c" else lr
                    state["step_size"] = ember.from_numpy(
                        np.full(param.shape, init, dtype=param.dtype))
                _advance_step(state)
                grad = p.grad._data
                prev = state["prev"]._data
                step_size = state["step_size"]._data
                if param.dtype.kind == "c":
                    param, grad, prev, step_size = _real_views(param, grad, prev, step_size)
                factor = self._scratch(param, 0)
                # a bool scratch array: its template costs no memory
                mask = self._scratch(np.broadcast_to(np.False_, param.shape), 0)
                if maximize:
                    np.multiply(grad, prev, out=factor)
                    np.negative(factor, out=factor)
                else:
                    np.multiply(grad, prev, out=factor)
                np.sign(factor, out=factor)
                np.greater(factor, 0, out=mask)
                np.copyto(factor, etaplus, where=mask, casting="unsafe")
                np.less(factor, 0, out=mask)
                np.copyto(factor, etaminus, where=mask, casting="unsafe")
                np.equal(factor, 0, out=mask)
                np.copyto(factor, 1, where=mask, casting="unsafe")
                step_size *= factor
                np.clip(step_size, step_size_min, step_size_max, out=step_size)
                # the step's gradient, zeroed where its sign flipped, becomes ``prev``
                if maximize:
                    np.negative(grad, out=prev)
                else:
                    np.copyto(prev, grad)
                np.equal(factor, param.dtype.type(etaminus), out=mask)
                np.copyto(prev, 0, where=mask, casting="unsafe")
                np.sign(prev, out=factor)
                factor *= step_size
                param -= factor
                p._vc[0] += 1  # an in-place update, as torch's version counter sees it
        return loss
