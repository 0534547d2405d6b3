"""Muon: momentum SGD whose update is orthogonalised by a Newton–Schulz iteration."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ._step_utils import _lerp_, _scalar
from .optimizer import Optimizer

__all__ = ["Muon"]

# torch's constants, from Keller Jordan's Muon post
EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


class Muon(Optimizer):
    """Muon, torch's algorithm, updating 2-D parameters in place.

    With ``g`` the gradient, ``B`` the momentum buffer and ``mu`` the momentum::

        B = lerp(B, g, 1 - mu)
        M = lerp(g, B, mu)  if nesterov  else  B
        O = NS(M): M / ||M||, then ns_steps times  X = a X + (b X X^T + c (X X^T)^2) X
        p = p * (1 - lr * weight_decay) - adjust(lr, p.shape) * O

    The Newton–Schulz iteration runs on the wider orientation of ``M`` (``M^T`` when it has
    more rows than columns) and, as in torch, in bfloat16: ember emulates it with float32
    arithmetic rounded to bfloat16 after each torch operation. ``adjust`` is
    ``lr * sqrt(max(1, A / B))`` for ``adjust_lr_fn=None`` or ``"original"`` and
    ``0.2 * lr * sqrt(max(A, B))`` for ``"match_rms_adamw"``, with ``(A, B) = p.shape``.

    State per parameter (torch's name): ``momentum_buffer`` (no step count).

    Args:
        params: 2-D parameters or parameter groups (see :class:`Optimizer`); use another
            optimizer (AdamW, ...) for biases, embeddings and the like.
        lr: learning rate (default 1e-3); a float or 1-element Tensor.
        weight_decay: decoupled weight decay (default 0.1).
        momentum: momentum factor (default 0.95).
        nesterov: use Nesterov momentum (default True).
        ns_coefficients: ``(a, b, c)`` of the Newton–Schulz polynomial.
        eps: floor of the norm that ``M`` is divided by (default 1e-7).
        ns_steps: number of Newton–Schulz iterations (default 5; must be below 100).
        adjust_lr_fn: ``None``, ``"original"`` or ``"match_rms_adamw"``.

    Raises:
        ValueError: a negative lr, momentum or weight_decay, a multi-element Tensor lr, an
            unknown ``adjust_lr_fn``, or a parameter that is not 2-D, with torch's
            messages (shapes print as ``ember.Size``).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
        eps: float = EPS,
        ns_steps: int = DEFAULT_NS_STEPS,
        adjust_lr_fn: str | None = None,
    ) -> None:
        if isinstance(lr, ember.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "nesterov": nesterov,
            "ns_coefficients": ns_coefficients,
            "eps": eps,
            "ns_steps": ns_steps,
            "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults)
        # as in torch, only the constructor's parameters are checked (not add_param_group's)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with "
                        f"size: {p.size()}"
                    )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step on every parameter that has a gradient.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or ``None``.

        Raises:
            ValueError: a gradient that is not 2-D, ``ns_steps >= 100`` or
                ``ns_coefficients`` not of length 3, with torch's messages.
            RuntimeError: a complex parameter or a sparse gradient (never, in ember: it has
                neither).
        """
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            # torch makes every parameter's state before it updates any
            params = []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if ember.is_complex(p):
                    raise RuntimeError("Muon does not support complex parameters")
                if p.grad.is_sparse:
                    raise RuntimeError("Muon does not support sparse gradients")
                state = self.state[p]
                if "momentum_buffer" not in state:
                    grad = p.grad._data
                    state["momentum_buffer"] = ember.from_numpy(
                        np.zeros(grad.shape, dtype=grad.dtype))
                params.append(p)
            for p in params:
                self._step_one(p, group)
        return loss

    def _step_one(self, p: Any, group: dict[str, Any]) -> None:
        lr = _scalar(group["lr"])
        momentum = _scalar(group["momentum"])
        param = p._data
        grad = p.grad._data
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        buf = self.state[p]["momentum_buffer"]._data
        # torch's lerp weight is a number of the tensor's dtype
        as_dtype = buf.dtype.type
        tmp = self._scratch(buf, 0)
        _lerp_(buf, grad, float(as_dtype(1 - momentum)), tmp)
        if group["nesterov"]:
            update = self._scratch(buf, 1)
            _lerp_into(update, grad, buf, float(as_dtype(momentum)), tmp)
        else:
            update = buf
        ortho = self._newton_schulz(update, group["ns_coefficients"], group["ns_steps"],
                                    _scalar(group["eps"]))
        adjusted_lr = _adjust_lr(lr, group["adjust_lr_fn"], param.shape)
        param *= 1 - lr * _scalar(group["weight_decay"])
        delta = self._scratch(param, 0)
        np.multiply(ortho, param.dtype.type(-adjusted_lr), out=delta)
        param += delta
        p._vc[0] += 1  # an in-place update, as torch's version counter sees it

    def _newton_schulz(self, grad: np.ndarray, coefficients: Any, ns_steps: int,
                       eps: float) -> np.ndarray:
        """torch's ``_zeropower_via_newtonschulz`` in emulated bfloat16: returns a float32
        array of bfloat16 values, shaped like ``grad`` (a view of scratch memory)."""
        if ns_steps >= 100:
            raise ValueError("Number of steps must be less than 100 for computational efficiency")
        if grad.ndim != 2:
            raise ValueError("Input tensor gradient must be a 2D matrix")
        if len(coefficients) != 3:
            raise ValueError("Coefficients must be a tuple of exactly 3 values")
        a, b, c = (_scalar(x) for x in coefficients)
        tall = grad.shape[0] > grad.shape[1]
        rows, cols = (grad.shape[1], grad.shape[0]) if tall else grad.shape
        x = self._f32((rows, cols), 2)
        x_next = self._f32((rows, cols), 3)
        gram = self._f32((rows, rows), 4)
        poly = self._f32((rows, rows), 5)
        tmp = self._f32((rows, rows), 6)
        np.copyto(x, grad.T if tall else grad, casting="same_kind")
        self._round_bf16(x)
        flat = x.reshape(-1)
        norm = _bf16_scalar(math.sqrt(float(np.dot(flat, flat))))
        x /= _bf16_scalar(max(norm, eps))
        self._round_bf16(x)
        for _ in range(ns_steps):
            np.matmul(x, x.T, out=gram)
            self._round_bf16(gram)
            # addmm(gram, gram, gram, beta=b, alpha=c): rounded once, at the end
            np.matmul(gram, gram, out=poly)
            poly *= c
            np.multiply(gram, b, out=tmp)
            poly += tmp
            self._round_bf16(poly)
            # addmm(x, poly, x, beta=a)
            np.matmul(poly, x, out=x_next)
            np.multiply(x, a, out=x)
            x_next += x
            self._round_bf16(x_next)
            x, x_next = x_next, x
        return x.T if tall else x

    def _f32(self, shape: tuple[int, ...], slot: int) -> np.ndarray:
        """A float32 scratch array of ``shape``."""
        return self._scratch(_template(shape, np.float32), slot)

    def _round_bf16(self, arr: np.ndarray) -> None:
        """Round the float32 ``arr`` in place to the nearest bfloat16 (ties to even)."""
        bits = arr.view(np.uint32)
        carry = self._scratch(_template(arr.shape, np.uint32), 7)
        np.right_shift(bits, 16, out=carry)
        np.bitwise_and(carry, 1, out=carry)
        carry += 0x7FFF
        bits += carry
        np.bitwise_and(bits, np.uint32(0xFFFF0000), out=bits)


@functools.lru_cache(maxsize=256)
def _template(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A read-only array of ``shape`` and ``dtype`` that takes no memory: what
    ``Optimizer._scratch`` sizes its buffer after."""
    return np.broadcast_to(np.zeros((), dtype), shape)


def _bf16_scalar(value: float) -> np.float32:
    """``value`` rounded to the nearest bfloat16, as a float32 number."""
    bits = np.array(value, dtype=np.float32).view(np.uint32)
    bits += np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
    bits &= np.uint32(0xFFFF0000)
    return bits.view(np.float32)[()]


def _lerp_into(out: np.ndarray, start: np.ndarray, end: np.ndarray, weight: float,
               tmp: np.ndarray) -> None:
    """``out = start.lerp(end, weight)``, with torch's two formulas."""
    np.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        np.add(start, tmp, out=out)
    else:
        tmp *= 1.0 - weight
        np.subtract(end, tmp, out=out)


def _adjust_lr(lr: float, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    """torch's learning-rate adjustment for a parameter of ``shape``."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio
