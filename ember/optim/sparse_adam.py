"""SparseAdam: Adam that updates only the rows its gradient touches (lazy Adam)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember

from ..sparse import _optim
from ._step_utils import _check_betas, _zeros_state
from .optimizer import Optimizer

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """SparseAdam, torch's algorithm: Adam masked to the rows present in the gradient.

    For the rows ``i`` present in the gradient ``g`` (negated when ``maximize``), with ``t``
    the step count::

        m[i] += (1 - beta1) * (g[i] - m[i]);   v[i] += (1 - beta2) * (g[i]^2 - v[i])
        p[i] -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m[i] / (sqrt(v[i]) + eps)

    Every other row of ``p``, ``m`` and ``v`` is left alone. State per parameter (torch's
    names): ``step`` (a Python int, as in torch), ``exp_avg`` and ``exp_avg_sq``.

    As torch, it takes sparse gradients only (``nn.Embedding(sparse=True)`` gives them): the
    rows updated are those of the coalesced gradient, a row whose gradient is exactly zero
    included; a dense gradient raises torch's error.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-3); a float or 1-element Tensor.
        betas: coefficients of the running averages of the gradient and its square.
        eps: term added to the denominator for numerical stability (default 1e-8).
        maximize: maximize the objective instead of minimizing it.

    Raises:
        ValueError: an lr or eps that is not positive, a beta outside [0, 1), a sparse or
            complex parameter, with torch's messages.
        RuntimeError: at ``step``, a dense gradient.
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
        sparse_params = [[i, j] for i, group in enumerate(self.param_groups)
                         for j, p in enumerate(group["params"]) if p.is_sparse]
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires "
                             "dense parameter tensors")
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
            todo = []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if not p.grad.is_sparse:  # checked before any change, as torch
                    raise RuntimeError("SparseAdam does not support dense gradients, please "
                                       "consider Adam instead")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = _zeros_state(p._data)
                    state["exp_avg_sq"] = _zeros_state(p._data)
                state["step"] += 1  # counted even when no row is touched, as in torch
                todo.append((p, state))
            for p, state in todo:
                _optim.sparse_adam_step(p, state, beta1, beta2, eps, lr, maximize)
        return loss
