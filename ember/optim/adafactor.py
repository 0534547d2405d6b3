"""Adafactor: Adam-like steps with factored second moments (Shazeer & Stern, 2018)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ._step_utils import _advance_step, _lerp_, _scalar, _step_tensor, _steps_as_tensors
from .optimizer import Optimizer

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Adafactor, torch's single-tensor algorithm, updating parameters in place.

    With ``g`` the gradient (negated when ``maximize``), ``t`` the step count,
    ``b_t = t^beta2_decay``, ``rho_t = min(lr, 1 / sqrt(t))`` and
    ``alpha = max(eps2, RMS(p)) * rho_t`` (from ``p`` before the decay)::

        p = p * (1 - lr * weight_decay)
        R = lerp(R, mean(g * g, dim=-1), b_t);  C = lerp(C, mean(g * g, dim=-2), b_t)
        V = R @ C / max(mean(R, dim=-2), eps1)          for p of 2 or more dims
        V = lerp(V, g * g, b_t)                          for 0-d and 1-d p
        U = g / sqrt(max(V, eps1^2))
        p = p - alpha / max(1, RMS(U) / d) * U

    Parameters of three or more dimensions are factored over their last two. ``eps1=None``
    (the default) means the machine epsilon of the first parameter's dtype.

    State per parameter (torch's names): ``step`` (0-d float32 Tensor) and either
    ``row_var`` (the gradient's shape with the last dim 1) and ``col_var`` (with the
    second-to-last dim 1), or ``variance`` (the gradient's shape) for 0-d and 1-d ones.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-2): the bound on the relative step size ``rho_t``
            and the weight decay's factor; a float or 1-element Tensor.
        beta2_decay: the exponent of the second moment's decay rate (default -0.8).
        eps: ``(eps1, eps2)``: the floor of the variance estimate (squared) and of the
            parameter's RMS (default (None, 1e-3)).
        d: the update clipping threshold (default 1.0).
        weight_decay: decoupled weight decay coefficient (default 0.0).
        foreach: accepted for compatibility (no-op).
        maximize: maximize the objective instead of minimizing it.

    Raises:
        ValueError: a negative lr, eps1, eps2 or weight_decay, a positive beta2_decay, a
            d below 1, or a multi-element Tensor lr, with torch's messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, ember.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
        _steps_as_tensors(self)

    def _state_shape(self, param_shape: tuple, key: Any) -> tuple | None:
        """``row_var`` and ``col_var`` are the variance's row and column factors."""
        if key == "row_var" and len(param_shape) >= 2:
            return param_shape[:-1] + (1,)
        if key == "col_var" and len(param_shape) >= 2:
            return param_shape[:-2] + (1,) + param_shape[-1:]
        return None

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step on every parameter that has a gradient.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or ``None``.

        Raises:
            RuntimeError: a complex parameter or a sparse gradient (never, in ember: it has
                neither).
        """
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta2_decay = _scalar(group["beta2_decay"])
            eps1, eps2 = group["eps"]
            d = _scalar(group["d"])
            weight_decay = _scalar(group["weight_decay"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if ember.is_complex(p):
                    raise RuntimeError("Adafactor does not support complex parameters")
                if p.grad.is_sparse:
                    raise RuntimeError("Adafactor does not support sparse gradients")
                if eps1 is None:  # torch's: set by the group's first parameter
                    eps1 = float(np.finfo(p._data.dtype).eps)
                self._step_one(p, lr, beta2_decay, _scalar(eps1), _scalar(eps2), d,
                               weight_decay, maximize)
        return loss

    def _step_one(self, p: Any, lr: float, beta2_decay: float, eps1: float, eps2: float,
                  d: float, weight_decay: float, maximize: bool) -> None:
        param = p._data
        grad = p.grad._data
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            if grad.ndim > 1:
                state["row_var"] = _zeros(grad.shape[:-1] + (1,), grad.dtype)
                state["col_var"] = _zeros(grad.shape[:-2] + (1,) + grad.shape[-1:],
                                          grad.dtype)
            else:
                state["variance"] = _zeros(grad.shape, grad.dtype)
        step = _advance_step(state)
        # torch's lerp weight is a number of the state's dtype
        weight = float(param.dtype.type(step**beta2_decay))
        rho_t = min(lr, 1 / (step**0.5))
        alpha = max(eps2, _norm(param) / (param.size**0.5)) * rho_t
        if weight_decay != 0:
            param *= 1 - lr * weight_decay
        if maximize:
            g = self._scratch(param, 1)
            np.negative(grad, out=g)
        else:
            g = grad
        update = self._scratch(param, 0)
        if g.ndim > 1:
            row_var = state["row_var"]._data
            col_var = state["col_var"]._data
            # mean of g * g over a dim, as torch computes it: norm, squared
            row_mean = np.sqrt(np.einsum("...ij,...ij->...i", g, g))[..., None]
            np.square(row_mean, out=row_mean)
            row_mean /= g.shape[-1]
            _lerp_(row_var, row_mean, weight, np.empty_like(row_mean))
            col_mean = np.sqrt(np.einsum("...ij,...ij->...j", g, g))[..., None, :]
            np.square(col_mean, out=col_mean)
            col_mean /= g.shape[-2]
            _lerp_(col_var, col_mean, weight, np.empty_like(col_mean))
            # R @ C of an (m, 1) by a (1, n) matrix: one product per element
            np.multiply(row_var, col_var, out=update)
            row_var_mean = np.mean(row_var, axis=-2, keepdims=True)
            np.maximum(row_var_mean, eps1, out=row_var_mean)
            update /= row_var_mean
        else:
            variance = state["variance"]._data
            np.multiply(g, g, out=update)
            _lerp_(variance, update, weight, self._scratch(param, 2))
            np.copyto(update, variance)
        np.maximum(update, eps1 * eps1, out=update)
        np.sqrt(update, out=update)
        np.divide(1, update, out=update)
        update *= g
        denom = max(1.0, _norm(update) / ((update.size**0.5) * d))
        update *= -alpha / denom
        param += update
        p._vc[0] += 1  # an in-place update, as torch's version counter sees it


def _zeros(shape: tuple, dtype: np.dtype) -> ember.Tensor:
    return ember.from_numpy(np.zeros(shape, dtype=dtype))


def _norm(arr: np.ndarray) -> float:
    """The 2-norm of all of ``arr``'s elements, without a temporary of its size."""
    flat = arr.reshape(-1)
    return float(np.sqrt(np.dot(flat, flat)))
