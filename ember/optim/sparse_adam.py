"""SparseAdam: Adam that updates only the rows its gradient touches (lazy Adam)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ._step_utils import _check_betas, _zeros_state
from .optimizer import Optimizer

__all__ = ["SparseAdam"]


def _as_rows(arr: np.ndarray) -> np.ndarray:
    """``arr`` itself, indexed by rows along dim 0; a 0-d array as a view of one row."""
    return arr.reshape(1) if arr.ndim == 0 else arr


def _touched_rows(grad: np.ndarray) -> np.ndarray:
    """Indices along dim 0 of the rows that hold a nonzero gradient entry."""
    grad = _as_rows(grad)
    if grad.size == 0:
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero(grad.reshape(grad.shape[0], -1).any(axis=1))


class SparseAdam(Optimizer):
    """SparseAdam, torch's algorithm: Adam masked to the rows present in the gradient.

    For the rows ``i`` present in the gradient ``g`` (negated when ``maximize``), with ``t``
    the step count::

        m[i] += (1 - beta1) * (g[i] - m[i]);   v[i] += (1 - beta2) * (g[i]^2 - v[i])
        p[i] -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m[i] / (sqrt(v[i]) + eps)

    Every other row of ``p``, ``m`` and ``v`` is left alone. State per parameter (torch's
    names): ``step`` (a Python int, as in torch), ``exp_avg`` and ``exp_avg_sq``.

    NOTE: ember has no sparse tensors. torch's SparseAdam wants a sparse gradient (as
    ``nn.Embedding(sparse=True)`` gives) and refuses dense ones; ember's takes the dense
    gradient and treats the rows (along dim 0) that hold a nonzero entry as the sparse
    gradient's indices. That is torch's update for an embedding's sparse gradient, except
    for a looked-up row whose gradient is exactly zero, which torch would still update.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-3); a float or 1-element Tensor.
        betas: coefficients of the running averages of the gradient and its square.
        eps: term added to the denominator for numerical stability (default 1e-8).
        maximize: maximize the objective instead of minimizing it.

    Raises:
        ValueError: an lr or eps that is not positive, a beta outside [0, 1), or a
            complex parameter, with torch's messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, ember.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        complex_params = [[i, j] for i, group in enumerate(self.param_groups)
                          for j, p in enumerate(group["params"]) if p._data.dtype.kind == "c"]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does "
                             "not support complex parameters")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step on every parameter that has a gradient.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or ``None``.
        """
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            lr = group["lr"]
            if isinstance(lr, ember.Tensor):  # torch's _to_scalar: 0-d, in lr's dtype
                lr = lr._data.reshape(())[()]
            maximize = group.get("maximize", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = _zeros_state(p._data)
                    state["exp_avg_sq"] = _zeros_state(p._data)
                state["step"] += 1  # counted even when no row is touched, as in torch
                step = state["step"]

                grad = p.grad._data
                rows = _touched_rows(grad)
                if rows.size == 0:
                    continue
                param = _as_rows(p._data)
                exp_avg = _as_rows(state["exp_avg"]._data)
                exp_avg_sq = _as_rows(state["exp_avg_sq"]._data)
                g = _as_rows(grad)[rows]
                if maximize:
                    g = -g

                # old <- b * old + (1 - b) * new, written as old += (1 - b) * (new - old)
                old_exp_avg = exp_avg[rows]
                exp_avg_update = (g - old_exp_avg) * (1 - beta1)
                exp_avg[rows] += exp_avg_update
                old_exp_avg_sq = exp_avg_sq[rows]
                exp_avg_sq_update = (g * g - old_exp_avg_sq) * (1 - beta2)
                exp_avg_sq[rows] += exp_avg_sq_update

                # torch adds the update back to the old values rather than reading the rows
                # again: the same numbers as its sum, rounded the same way
                numer = exp_avg_update + old_exp_avg
                denom = np.sqrt(exp_avg_sq_update + old_exp_avg_sq) + eps
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = lr * math.sqrt(bias_correction2) / bias_correction1
                param[rows] += -step_size * (numer / denom)
                p._vc[0] += 1  # an in-place update, as torch's version counter sees it
        return loss
