"""L-BFGS: a quasi-Newton method that estimates the inverse Hessian from the last few steps,
with an optional strong-Wolfe line search (torch's port of minFunc and torch7's optim).

The whole algorithm works on one flat vector that concatenates every parameter. Its
scalars (step length, curvature products) are NumPy scalars of the parameters' dtype, so
that float32 parameters give float32 arithmetic exactly where torch's 0-d tensors do, and
Python numbers (the learning rate, the losses) stay Python numbers as in torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ._step_utils import _check_lr, _real_views
from .optimizer import Optimizer

__all__ = ["LBFGS"]

# state entries that are vectors over all parameters' elements (or lists of them)
_FLAT_STATE_KEYS = ("d", "old_dirs", "old_stps", "prev_flat_grad")


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through ``(x1, f1)`` and ``(x2, f2)`` with slopes ``g1`` and
    ``g2``, clamped to ``bounds`` (default: between the two points); the bounds' midpoint
    when the cubic has no minimum."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    # inf and nan are possible (a collapsed bracket); torch's 0-d tensors pass them on quietly
    with np.errstate(all="ignore"):
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2_square = d1**2 - g1 * g2
        if d2_square >= 0:
            d2 = np.sqrt(d2_square)
            if x1 <= x2:
                min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            else:
                min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
            return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Line search along ``d`` for a step ``t`` that meets the strong Wolfe conditions.

    ``obj_func(x, t, d)`` returns the loss and flat gradient at ``x + t * d``; ``f``, ``g``
    and ``gtd`` are the loss, gradient and directional derivative at ``t = 0``. First grow
    ``t`` until an interval brackets an acceptable step, then shrink the bracket by cubic
    interpolation (the zoom). At most ``max_ls`` evaluations after the first.

    Returns:
        ``(f_new, g_new, t, evaluations)`` at the best point found.
    """
    d_norm = np.abs(d).max()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    # bracketing phase: (t_prev, t) ends up enclosing a step that meets the conditions
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket_gtd = None
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            # not enough decrease (or worse than the previous point): the minimum is before t
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            # both Wolfe conditions hold at t
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            # the slope turned positive: the minimum is between t_prev and t
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break

        # still descending: extrapolate, to at most ten times the current step
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                          bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

    if ls_iter >= max_ls:  # out of evaluations: fall back to the start and the last point
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase: shrink the bracket until its low end meets the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break  # the bracket is too small to matter

        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])

        # A trial point next to an end of the bracket makes little progress. The first time,
        # accept it but remember; the second time (or when it is on or past an end), move it
        # to 10% of the bracket's length away from the nearest end.
        hi, lo = max(bracket), min(bracket)
        eps = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < eps:
            if insuf_progress or t >= hi or t <= lo:
                t = hi - eps if abs(t - hi) < abs(t - lo) else lo + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # not enough decrease, or no better than the low end: t becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # both Wolfe conditions hold
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the slope points away from the high end: the old low end becomes the high
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            # t becomes the new low end
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _to_state(value: Any) -> Any:
    """An array or NumPy scalar as the ember Tensor torch would keep (lists item by item);
    Python numbers and ``None`` stay as they are."""
    if isinstance(value, np.ndarray):
        return ember.from_numpy(value)
    if isinstance(value, np.generic):
        return ember.from_numpy(np.asarray(value))
    if isinstance(value, list):
        return [_to_state(v) for v in value]
    return value


def _from_state(value: Any) -> Any:
    """The inverse of :func:`_to_state`: Tensors back to arrays, 0-d ones to NumPy scalars."""
    if isinstance(value, ember.Tensor):
        return value._data[()] if value.ndim == 0 else value._data
    if isinstance(value, list):
        return [_from_state(v) for v in value]
    return value


class _Shielded:
    """Carries a flat state entry past the base class's per-parameter cast on load."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _shield_flat_state(optimizer: Optimizer, state_dict: dict) -> dict:
    state_dict = dict(state_dict)
    state_dict["state"] = {
        k: {name: _Shielded(v) if name in _FLAT_STATE_KEYS else v for name, v in s.items()}
        for k, s in state_dict["state"].items()
    }
    return state_dict


def _cast_flat(value: Any, dtype: np.dtype) -> Any:
    """A loaded flat vector (ember, NumPy or torch) as a fresh ember Tensor, a floating one
    cast to ``dtype`` when that is floating (a complex parameter's keeps its own, as in
    torch)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_flat(v, dtype) for v in value)
    if isinstance(value, ember.Tensor):
        arr = value._data
    elif isinstance(value, np.ndarray):
        arr = value
    else:  # e.g. a torch.Tensor
        arr = value.detach().cpu().numpy()
    if np.issubdtype(arr.dtype, np.floating) and np.issubdtype(dtype, np.floating):
        arr = arr.astype(dtype, copy=False)
    return ember.from_numpy(np.array(arr, copy=True, order="C"))


class LBFGS(Optimizer):
    """L-BFGS, torch's algorithm (heavily inspired by minFunc), updating parameters in place.

    Each call to ``step(closure)`` runs up to ``max_iter`` iterations. An iteration takes
    the direction ``d = -H g``, where ``H`` is the inverse Hessian estimated from the last
    ``history_size`` pairs ``(s, y)`` of steps and gradient changes (the two-loop recursion,
    scaled by ``y.s / y.y``; a pair is kept only when ``y.s > 1e-10``), and moves
    ``t * d``. Without a line search ``t = lr`` (on the very first iteration
    ``min(1, 1 / |g|_1) * lr``); with ``line_search_fn="strong_wolfe"``, ``t`` starts there
    and a search on the closure finds a step meeting the strong Wolfe conditions
    (``c1=1e-4, c2=0.9``). A step stops early when ``max|g| <= tolerance_grad``, when the
    closure has been evaluated ``max_eval`` times, or when the update or the loss change
    falls below ``tolerance_change``.

    All state is global; as in torch it is kept under the first parameter:
    ``func_evals``, ``n_iter`` (ints), ``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``,
    ``H_diag``, ``prev_flat_grad``, ``prev_loss`` and ``al``, where vectors are flat over
    all parameters and scalars are 0-d Tensors (or Python numbers where torch has them).
    A complex parameter enters the flat vectors as its real view (two reals per element),
    as in torch.

    Args:
        params: the parameters (one group only; parameter groups are not supported).
        lr: learning rate (default 1); a number or a 1-element Tensor.
        max_iter: maximal number of iterations per ``step`` (default 20).
        max_eval: maximal number of closure evaluations per ``step`` (default
            ``max_iter * 5 // 4``).
        tolerance_grad: stop when the largest gradient entry is at most this (default 1e-7).
        tolerance_change: stop when the update or the loss changes by less (default 1e-9).
        history_size: number of ``(s, y)`` pairs kept (default 100).
        line_search_fn: ``None`` or ``"strong_wolfe"``; anything else raises RuntimeError
            at the first iteration that would search, as in torch.

    Raises:
        ValueError: a negative lr ("Invalid learning rate: -1"), a Tensor lr with more than
            one element, or more than one parameter group.
    """

    def __init__(
        self,
        params: Any,
        lr: float | ember.Tensor = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        _check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    @property
    def _params(self) -> list:
        return self.param_groups[0]["params"]

    # ------------------------------------------------------------------ flat views
    def _gather_flat_grad(self) -> np.ndarray:
        """All gradients in one new vector (zeros for a parameter without one); a complex
        gradient enters as its real view, two reals per element, as in torch."""
        views = []
        for p in self._params:
            g = p._data if p.grad is None else p.grad._data
            if p.grad is not None and p.grad.is_sparse:  # torch densifies a sparse gradient
                g = p.grad.to_dense()._data
            if g.dtype.kind == "c":
                (g,) = _real_views(g)
            views.append(np.zeros(g.size, g.dtype) if p.grad is None else g.reshape(-1))
        return np.concatenate(views)

    def _add_grad(self, step_size: Any, update: np.ndarray) -> None:
        """``p += step_size * update`` for each parameter's slice of the flat ``update``
        (a complex parameter's real view takes two reals per element)."""
        offset = 0
        for p in self._params:
            param = p._data
            if param.dtype.kind == "c":
                (param,) = _real_views(param)
            tmp = self._scratch(param)
            np.multiply(update[offset: offset + param.size].reshape(param.shape), step_size,
                        out=tmp)
            param += tmp
            offset += param.size
            p._vc[0] += 1  # an in-place update, as torch's version counter sees it
        if offset != update.size:
            raise AssertionError(f"Expected offset {offset} to equal {update.size}")

    def _clone_param(self) -> list[np.ndarray]:
        return [p._data.copy() for p in self._params]

    def _set_param(self, params_data: list[np.ndarray]) -> None:
        for p, pdata in zip(self._params, params_data, strict=True):
            np.copyto(p._data, pdata)
            p._vc[0] += 1

    @staticmethod
    def _evaluate(closure: Callable[[], Any]) -> Any:
        # torch runs the closure with grad enabled even though step itself is under no_grad
        with ember.enable_grad():
            return closure()

    def _directional_evaluate(self, closure, x, t, d) -> tuple[float, np.ndarray]:
        """Loss and flat gradient at ``x + t * d``; the parameters are put back to ``x``."""
        self._add_grad(t, d)
        loss = float(self._evaluate(closure))
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ------------------------------------------------------------------ state dicts
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state produced by :meth:`state_dict` (ember's or torch's format).

        The flat vectors (``d``, ``old_dirs``, ...) span all parameters, so they are cast to
        the first parameter's dtype without the base class's shape check, as torch does.
        """
        # registered last, so that the user's pre-hooks still see the plain state dict;
        # __setstate__ unwraps the shielded entries
        handle = self._register(self._optimizer_load_state_dict_pre_hooks, _shield_flat_state,
                                False)
        try:
            super().load_state_dict(state_dict)
        finally:
            handle.remove()

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for p, p_state in self.state.items():
            for name, value in p_state.items():
                if isinstance(value, _Shielded):
                    p_state[name] = _cast_flat(value.value, p._data.dtype)

    # ------------------------------------------------------------------ the step
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Perform one optimization step: up to ``max_iter`` L-BFGS iterations.

        Args:
            closure: a callable that zeroes the gradients, re-evaluates the model, calls
                ``backward`` and returns the loss (required: it is called several times).

        Returns:
            The loss from the first evaluation of the closure (before any update).

        Raises:
            RuntimeError: ``line_search_fn`` is neither ``None`` nor ``"strong_wolfe"``.
        """
        if len(self.param_groups) != 1:
            raise AssertionError(
                f"Expected exactly one param_group, but got {len(self.param_groups)}"
            )
        group = self.param_groups[0]
        lr = group["lr"]
        if isinstance(lr, ember.Tensor):  # torch's _to_scalar: a 0-d value of lr's dtype
            lr = lr._data.reshape(())[()]
        max_iter = group["max_iter"]
        max_eval = group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        history_size = group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
        if opt_cond:  # already at a stationary point
            return orig_loss

        d = _from_state(state.get("d"))
        t = _from_state(state.get("t"))
        old_dirs = _from_state(state.get("old_dirs"))
        old_stps = _from_state(state.get("old_stps"))
        ro = _from_state(state.get("ro"))
        H_diag = _from_state(state.get("H_diag"))
        prev_flat_grad = _from_state(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")
        al = None  # the two-loop coefficients, read from the state when first needed

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---- the direction
            if state["n_iter"] == 1:  # steepest descent, and an empty memory
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep only pairs with positive curvature
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)  # scale of the initial inverse Hessian
                if al is None:
                    if "al" not in state:  # the key is placed now, as in torch
                        state["al"] = [None] * history_size
                    al = _from_state(state["al"])
                d = _two_loop(flat_grad, old_dirs, old_stps, ro, H_diag, al)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                np.copyto(prev_flat_grad, flat_grad)
            prev_loss = loss

            # ---- the step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)  # directional derivative
            if gtd > -tolerance_change:
                break  # not a descent direction (any more)

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals,
                )
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)  # a fixed step
                if n_iter != max_iter:
                    # re-evaluate only if another iteration follows: in a stochastic
                    # setting the last evaluation would be wasted
                    loss = float(self._evaluate(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- stopping rules
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:
                break  # the update is negligible
            if abs(loss - prev_loss) < tolerance_change:
                break  # so is the loss change

        state["d"] = _to_state(d)
        state["t"] = _to_state(t)
        state["old_dirs"] = _to_state(old_dirs)
        state["old_stps"] = _to_state(old_stps)
        state["ro"] = _to_state(ro)
        state["H_diag"] = _to_state(H_diag)
        state["prev_flat_grad"] = _to_state(prev_flat_grad)
        state["prev_loss"] = prev_loss
        if al is not None:
            state["al"] = _to_state(al)
        return orig_loss


def _two_loop(flat_grad, old_dirs, old_stps, ro, H_diag, al):
    """The L-BFGS direction ``-H g`` by the two-loop recursion over the stored pairs
    (``y`` in ``old_dirs``, ``s`` in ``old_stps``, ``ro = 1 / y.s``), in one buffer; the
    first loop's coefficients are written to ``al``, as torch keeps them in the state."""
    num_old = len(old_dirs)
    q = -flat_grad
    for i in range(num_old - 1, -1, -1):
        al[i] = old_stps[i].dot(q) * ro[i]
        q -= al[i] * old_dirs[i]
    r = q * H_diag  # the initial inverse Hessian is H_diag * I
    for i in range(num_old):
        be_i = old_dirs[i].dot(r) * ro[i]
        r += (al[i] - be_i) * old_stps[i]
    return r
