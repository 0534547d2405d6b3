"""Adam (with AMSGrad and L2 or decoupled weight decay) and AdamW."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ._step_utils import (
    _advance_step,
    _check_betas,
    _check_impl_flags,
    _check_lr,
    _grad_with_decay,
    _real_views,
    _scalar,
    _step_tensor,
    _steps_as_tensors,
    _tensor_scalar,
    _to_scalar,
    _zeros_state,
)
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]

_NO_SPARSE = "Adam does not support sparse gradients, please consider SparseAdam instead"


class Adam(Optimizer):
    """Adam, torch's single-tensor algorithm, updating parameters in place.

    With ``g`` the gradient (negated when ``maximize``) and ``t`` the step count::

        p = p * (1 - lr * weight_decay)      if decoupled_weight_decay (AdamW)
        g = g + weight_decay * p             otherwise, if weight_decay != 0
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                if amsgrad (used in place of v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    State per parameter (torch's names): ``step`` (0-d float32 Tensor), ``exp_avg``,
    ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``.
    A complex parameter is stepped as its real view, real and imaginary parts as two
    coordinates, as in torch; its state tensors stay complex.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-3); a float or 1-element Tensor.
        betas: coefficients of the running averages of the gradient and its square.
        eps: term added to the denominator for numerical stability (default 1e-8).
        weight_decay: weight decay (default 0): an L2 penalty, or decoupled (AdamW).
        amsgrad: use the AMSGrad variant (the running maximum of ``exp_avg_sq``).
        foreach: accepted for compatibility; ember always runs one in-place loop.
        maximize: maximize the objective instead of minimizing it.
        capturable: accepted for compatibility (no-op: there are no CUDA graphs here).
        differentiable: only ``False`` is supported (``True`` raises NotImplementedError).
        fused: accepted for compatibility (no-op).
        decoupled_weight_decay: apply weight decay to the parameters directly (AdamW).

    Raises:
        ValueError: an lr, eps or weight_decay below 0, a beta outside [0, 1), or betas
            that mix floats and Tensors, with torch's messages.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_lr(lr, foreach=foreach, capturable=capturable)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], ember.Tensor) and isinstance(betas[1], ember.Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, ember.Tensor):
                if not capturable and foreach:
                    raise ValueError(
                        f"betas[{i}] as a Tensor is not supported for capturable=False and "
                        "foreach=True"
                    )
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(map(_to_scalar, betas))
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        _check_impl_flags(foreach, fused, differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)
        _steps_as_tensors(self)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step on every parameter that has a gradient.

        Parameters with fewer than ``_PACK_LIMIT`` elements are updated together: their
        moments live in one flat buffer per group (each ``state`` tensor is a view of it),
        so a model of many small tensors costs a dozen NumPy calls, not a dozen per tensor.
        The arithmetic is the same, element for element, as the per-parameter path.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or ``None``.
        """
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            hp = _Hyper(group)
            small = []
            for p in group["params"]:
                if p._data.size < _PACK_LIMIT:
                    small.append(p)
                elif p._grad is not None:  # the slot behind .grad (a property): hot path
                    self._step_one(p, hp)
            if small and not self._step_packed(group, small, hp):
                for p in small:
                    if p._grad is not None:
                        self._step_one(p, hp)
        return loss

    def _init_state(self, p: Any, amsgrad: bool) -> dict[str, Any]:
        state = self.state[p]
        if len(state) == 0:
            param = p._data
            state["step"] = _step_tensor()
            state["exp_avg"] = _zeros_state(param)
            state["exp_avg_sq"] = _zeros_state(param)
            if amsgrad:
                state["max_exp_avg_sq"] = _zeros_state(param)
        elif amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = _zeros_state(p._data)
        return state

    def _step_one(self, p: Any, hp: _Hyper) -> None:
        """The update of one parameter, on its own arrays."""
        grad = p._grad._data
        if type(grad) is not np.ndarray:  # sparse (nn.Embedding(sparse=True)): torch refuses
            raise RuntimeError(_NO_SPARSE)
        state = self._init_state(p, hp.amsgrad)
        param = p._data
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        max_t = state.get("max_exp_avg_sq") if hp.amsgrad else None
        max_sq = None if max_t is None else max_t._data
        if param.dtype.kind == "c":
            param, grad, exp_avg, exp_avg_sq, max_sq = _real_views(
                param, grad, exp_avg, exp_avg_sq, max_sq)
        step = _advance_step(state)
        tmp = self._scratch(param, 0)
        if hp.decay is not None:
            np.multiply(param, hp.decay, param)
        grad = _grad_with_decay(self, param, grad, hp.weight_decay if hp.l2 else 0,
                                hp.maximize)
        _adam_delta(grad, exp_avg, exp_avg_sq, max_sq, tmp, hp, step)
        np.add(param, tmp, param)
        p._vc[0] += 1  # an in-place update, as torch's version counter sees it

    def _step_packed(self, group: dict[str, Any], params: list, hp: _Hyper) -> bool:
        """Update ``params`` (the group's small ones) through their flat pack; return False
        (having done nothing) when some lack a gradient or their step counts differ."""
        for p in params:
            if p._grad is None:
                return False
        packs = self.__dict__.setdefault("_packs", {})
        pack = packs.get(id(group))
        if pack is None or pack.group is not group or not pack.valid(params, self.state, hp):
            pack = _Pack.build(group, params, self, hp)
            if pack is None:
                packs.pop(id(group), None)
                return False
            packs[id(group)] = pack
        steps = pack.steps
        counts = steps.tolist()  # a few floats: Python compares them faster than NumPy
        if min(counts) != max(counts):
            return False
        gflat = pack.gflat
        try:
            np.concatenate([p._grad._data for p in params], axis=None, out=gflat)
        except NotImplementedError:  # a sparse gradient refuses to be concatenated
            raise RuntimeError(_NO_SPARSE) from None
        steps += 1.0  # every parameter's state["step"], in place
        step = float(steps[0])
        if hp.maximize:
            np.negative(gflat, gflat)
        pflat = pack.pflat
        if not pack.bound:
            np.concatenate([p._data for p in params], axis=None, out=pflat)
        if hp.l2:
            np.multiply(pflat, hp.weight_decay, pack.tmp)
            np.add(gflat, pack.tmp, gflat)
        flats = pack.flats
        _adam_delta(
            gflat,
            flats["exp_avg"],
            flats["exp_avg_sq"],
            flats.get("max_exp_avg_sq") if hp.amsgrad else None,
            pack.tmp,
            hp,
            step,
        )
        # the per-parameter update (param * decay + delta), once on the flat copy
        if hp.decay is not None:
            np.multiply(pflat, hp.decay, pflat)
        np.add(pflat, pack.tmp, pflat)
        if pack.bound:  # the parameters are views of pflat: already updated
            for p in params:
                p._vc[0] += 1
        else:
            for p, new in zip(params, pack.pviews):
                np.copyto(p._data, new)
                p._vc[0] += 1
        return True


_PACK_LIMIT = 1 << 16  # parameters smaller than this (in elements) share a flat pack


class _Hyper:
    """A group's hyper-parameters, read once per step."""

    __slots__ = ("lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize", "l2",
                 "decay")

    def __init__(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        if type(lr) is not float:
            if group["foreach"] and isinstance(lr, ember.Tensor) and not group["capturable"]:
                _refuse_foreach_tensor_lr(group)
            # a Tensor lr stays a NumPy scalar of its dtype: torch's 0-d tensor arithmetic
            # rounds ``lr / bias_correction1`` and ``1 - lr * weight_decay`` to float32
            lr = _tensor_scalar(lr)
        self.lr = lr
        beta1, beta2 = group["betas"]
        if type(beta1) is not float or type(beta2) is not float:
            beta1, beta2 = _tensor_betas(group, beta1, beta2)
        self.beta1, self.beta2 = beta1, beta2
        self.eps = _scalar(group["eps"])
        self.weight_decay = wd = _scalar(group["weight_decay"])
        self.amsgrad = group["amsgrad"]
        self.maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        self.l2 = wd != 0 and not decoupled
        self.decay = 1 - lr * wd if wd != 0 and decoupled else None


def _refuse_foreach_tensor_lr(group: dict[str, Any]) -> None:
    """torch's step-time refusal of a group's Tensor lr with ``foreach=True`` (a Tensor lr
    in the defaults is refused at construction): raised once a parameter has a grad."""
    if any(p._grad is not None for p in group["params"]):
        raise RuntimeError(
            "lr as a Tensor is not supported for capturable=False and foreach=True"
        )


def _tensor_betas(group: dict[str, Any], beta1: Any, beta2: Any) -> tuple[Any, Any]:
    """Betas that are not floats: torch's foreach refusal of Tensor betas (once a parameter
    has a grad), else NumPy scalars of the Tensors' dtypes (torch's 0-d tensor arithmetic
    rounds ``1 - beta1 ** step`` to float32)."""
    if group["foreach"] and not group["capturable"] and any(
            p._grad is not None for p in group["params"]):
        for i, beta in enumerate((beta1, beta2)):
            if isinstance(beta, ember.Tensor):
                raise ValueError(
                    f"beta{i + 1} as a Tensor is not supported for capturable=False and "
                    "foreach=True"
                )
    return _tensor_scalar(beta1), _tensor_scalar(beta2)


def _adam_delta(grad, exp_avg, exp_avg_sq, max_sq, tmp, hp: _Hyper, step: float) -> None:
    """Update the moments from ``grad`` and leave the parameter's update in ``tmp``, with
    torch's operations in torch's order (``denom = sqrt(v) / sqrt(bc2) + eps``)."""
    multiply, subtract = np.multiply, np.subtract
    beta1, beta2 = hp.beta1, hp.beta2
    # exp_avg.lerp_(grad, 1 - beta1)
    weight = 1 - beta1
    subtract(grad, exp_avg, tmp)
    if abs(weight) < 0.5:
        multiply(tmp, weight, tmp)
        np.add(exp_avg, tmp, exp_avg)
    else:
        multiply(tmp, 1.0 - weight, tmp)
        subtract(grad, tmp, exp_avg)
    # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    multiply(exp_avg_sq, beta2, exp_avg_sq)
    multiply(grad, 1 - beta2, tmp)
    multiply(tmp, grad, tmp)
    np.add(exp_avg_sq, tmp, exp_avg_sq)

    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = hp.lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    if max_sq is not None:
        np.maximum(max_sq, exp_avg_sq, out=max_sq)
        np.sqrt(max_sq, tmp)
    else:
        np.sqrt(exp_avg_sq, tmp)
    np.divide(tmp, bias_correction2_sqrt, tmp)
    np.add(tmp, hp.eps, tmp)
    np.divide(exp_avg, tmp, tmp)
    multiply(tmp, -step_size, tmp)


def _sole_owner(arr: np.ndarray) -> bool:
    """Whether ``arr`` owns its memory and only its tensor refers to it (the two references
    counted are the tensor's and this call's argument)."""
    return arr.base is None and sys.getrefcount(arr) <= 3


class _Pack:
    """Flat buffers for a group's small parameters: the moments and step counters (each
    ``state`` tensor is a view of them), and scratch space for gradients and parameters."""

    __slots__ = ("group", "params", "arrays", "states", "entries", "flats", "steps", "gflat",
                 "tmp", "pflat", "pviews", "bound")

    @classmethod
    def build(cls, group: dict[str, Any], params: list, opt: Adam, hp: _Hyper) -> _Pack | None:
        """Move the parameters' state into new flat buffers (None if the parameters cannot
        share one: mixed or non-float dtypes, or a parameter listed twice)."""
        dtype = params[0]._data.dtype
        if dtype.kind != "f" or any(p._data.dtype != dtype for p in params):
            return None
        if len({id(p) for p in params}) != len(params):
            return None  # a parameter listed twice is stepped twice, one at a time
        pack = cls()
        pack.group = group
        pack.params = list(params)
        shapes = [p._data.shape for p in params]
        sizes = [p._data.size for p in params]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        total = offsets[-1]

        def views_of(flat: np.ndarray) -> list[np.ndarray]:
            return [flat[offsets[i]:offsets[i + 1]].reshape(shape)
                    for i, shape in enumerate(shapes)]

        names = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if hp.amsgrad else [])
        pack.states = [opt._init_state(p, hp.amsgrad) for p in params]
        pack.flats = {}
        for name in names:
            flat = np.empty(total, dtype=dtype)
            for st, view in zip(pack.states, views_of(flat)):
                t = st[name]
                view[...] = t._data
                t._data = view  # the same Tensor, now backed by the pack
            pack.flats[name] = flat
        first_step = pack.states[0]["step"]._data
        pack.steps = np.array([st["step"]._data for st in pack.states], first_step.dtype)
        for i, st in enumerate(pack.states):
            st["step"]._data = pack.steps[i:i + 1].reshape(())
        # what valid() compares by identity: each state tensor and the array behind it
        pack.entries = [[(name, st[name], st[name]._data) for name in names + ["step"]]
                        for st in pack.states]
        pack.gflat = np.empty(total, dtype=dtype)
        pack.tmp = np.empty(total, dtype=dtype)
        pack.pflat = np.empty(total, dtype=dtype)
        pack.pviews = views_of(pack.pflat)
        # a parameter whose array nothing else holds (no view, no other tensor, no user's
        # ndarray) moves into the pack: the update then needs no copying in or out
        pack.bound = all(_sole_owner(p._data) for p in params)
        if pack.bound:
            for p, view in zip(params, pack.pviews):
                view[...] = p._data
                p._data = view
        pack.arrays = [p._data for p in params]
        return pack

    def valid(self, params: list, state: dict, hp: _Hyper) -> bool:
        """Whether the pack still backs exactly these parameters and their state."""
        if len(params) != len(self.params) or (hp.amsgrad and "max_exp_avg_sq" not in
                                               self.flats):
            return False
        get = state.get
        for p, mine, arr, st, entry in zip(params, self.params, self.arrays, self.states,
                                           self.entries):
            if p is not mine or p._data is not arr or get(p) is not st:
                return False
            st_get = st.get
            for name, tensor, data in entry:
                if st_get(name) is not tensor or tensor._data is not data:
                    return False
        return True


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` each step).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages (default (0.9, 0.999)).
        eps: denominator term for numerical stability (default 1e-8).
        weight_decay: decoupled weight decay coefficient (default 1e-2, torch's).
        amsgrad: use the AMSGrad variant.
        maximize: maximize the objective instead of minimizing it.
        foreach: accepted for compatibility (no-op).
        capturable: accepted for compatibility (no-op).
        differentiable: only ``False`` is supported.
        fused: accepted for compatibility (no-op).

    Raises:
        ValueError: as :class:`Adam`.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
