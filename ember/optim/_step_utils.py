"""What the optimizers' constructors and step loops share: torch's option checks, the
per-parameter state tensors, and in-place array updates."""

from __future__ import annotations

from typing import Any

import numpy as np

import ember


def _scalar(x: Any) -> float:
    """A hyper-parameter (float, int or 1-element Tensor) as a Python float."""
    return x if type(x) is float else float(x)


def _tensor_scalar(x: Any) -> Any:
    """A hyper-parameter as a number for scalar arithmetic: a Tensor becomes a NumPy scalar
    of its own dtype, so that ``lr / bias_correction`` rounds to float32 as torch's 0-d
    tensor arithmetic does; anything else becomes a Python float."""
    if isinstance(x, ember.Tensor):
        return x._data.reshape(())[()]
    return x if type(x) is float else float(x)


def _check_lr(lr: Any, *, foreach: Any = None, capturable: bool = True,
              lt: bool = False) -> None:
    """torch's learning-rate checks, shared by every optimizer. ``capturable=False`` adds
    Adam's refusal of a Tensor lr with ``foreach=True``; ``lt`` compares as SGD does
    (``lr < 0.0``), which only shows in the TypeError for a non-number."""
    if isinstance(lr, ember.Tensor):
        if foreach and not capturable:
            raise ValueError(
                "lr as a Tensor is not supported for capturable=False and foreach=True"
            )
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
    if (lr < 0.0) if lt else not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_betas(betas: Any) -> None:
    """torch's range checks of ``betas`` (a multi-element Tensor fails in ``bool``, as in
    torch)."""
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _to_scalar(x: Any) -> Any:
    """torch's ``_to_scalar``: a 1-element Tensor hyper-parameter becomes 0-d."""
    if isinstance(x, ember.Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def _check_impl_flags(foreach: Any, fused: Any, differentiable: bool) -> None:
    """Validate the implementation switches that ember accepts as no-ops, in torch's order
    (torch checks ``fused`` against the others first)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if differentiable:
        raise NotImplementedError(
            "differentiable=True is not supported by ember: optimizer steps run outside "
            "autograd"
        )


def _zeros_state(arr: np.ndarray) -> ember.Tensor:
    """A zero state Tensor shaped and typed like the parameter array ``arr``."""
    return ember.from_numpy(np.zeros(arr.shape, dtype=arr.dtype))


def _real_views(*arrays: np.ndarray | None) -> list[np.ndarray | None]:
    """``torch.view_as_real`` of each complex array (None stays None): its memory as reals
    of shape ``(*shape, 2)``. torch's optimizers step a complex parameter, its gradient and
    its state through these views, so real and imaginary parts are independent coordinates
    (Adam's second moment is per part, not ``g * g`` complex); the state stays complex."""
    return [None if a is None else a[..., None].view(a.real.dtype) for a in arrays]


def _step_tensor(value: float = 0.0) -> ember.Tensor:
    """The 0-d ``step`` counter: float32 like torch's (float64 under a float64 default)."""
    dtype = np.float64 if ember.get_default_dtype() == ember.float64 else np.float32
    return ember.from_numpy(np.array(value, dtype=dtype))


def _advance_step(state: dict) -> float:
    """Add one to ``state["step"]`` in place (torch's ``step_t += 1``) and return it."""
    step_arr = state["step"]._data
    step_arr[()] = float(step_arr) + 1.0
    return float(step_arr)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """``start.lerp_(end, weight)`` in place, with torch's two formulas for accuracy."""
    np.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        # end - (end - start) * (1 - weight)
        tmp *= 1.0 - weight
        np.subtract(end, tmp, out=start)


def _grad_with_decay(opt: Any, param: np.ndarray, grad: np.ndarray, weight_decay: float,
                     maximize: bool) -> np.ndarray:
    """The gradient a step uses: negated when maximizing, plus the L2 term
    ``weight_decay * param``; written to scratch slot 1 when it is not ``grad`` itself."""
    if weight_decay != 0:
        gbuf = opt._scratch(param, 1)
        np.multiply(param, weight_decay, out=gbuf)
        if maximize:
            np.subtract(gbuf, grad, out=gbuf)
        else:
            np.add(grad, gbuf, out=gbuf)
        return gbuf
    if maximize:
        gbuf = opt._scratch(param, 1)
        np.negative(grad, out=gbuf)
        return gbuf
    return grad


def _steps_as_tensors(opt: Any) -> None:
    """Make each parameter's ``step`` a 0-d Tensor, as torch does when it loads an old
    pickled optimizer whose steps were numbers."""
    for group in opt.param_groups:
        for p in group["params"]:
            p_state = opt.state.get(p, {})
            if len(p_state) != 0 and not isinstance(p_state.get("step"), ember.Tensor):
                p_state["step"] = _step_tensor(float(p_state.get("step", 0.0)))
