"""``check_function(MyFunction, *inputs)``: test a custom ``autograd.Function`` before use.

Runs the Function's forward and backward on the given inputs and checks the contract a
backward must keep, explaining each failure:

- backward returns one value per argument of forward (``None`` for non-tensors);
- each gradient is a Tensor with its input's shape and dtype;
- ``ctx.needs_input_grad`` is respected (no gradient computed for an input that does not
  need one);
- tensors are kept through ``ctx.save_for_backward``, not as ``ctx`` attributes;
- forward does not change its inputs in place without ``ctx.mark_dirty``, and backward does
  not change its incoming gradient;
- the gradients match central finite differences (in float64).
"""
from __future__ import annotations

import sys as _sys
import types as _types
from dataclasses import dataclass, field

import numpy as np

from .. import _tensor as _t
from . import grad_mode
from . import graph as _g
from .function import Function

__all__ = ["check_function", "FunctionCheck", "Problem", "FunctionCheckError"]


class FunctionCheckError(RuntimeError):
    """Raised by ``check_function(..., raise_exception=True)`` when a check fails."""


@dataclass
class Problem:
    """One failed check: what is wrong, why it matters, and how to fix it."""

    check: str
    message: str
    why: str = ""
    fix: str = ""

    def lines(self):
        out = [f"  FAIL {self.check}: {self.message}"]
        if self.why:
            out.append(f"       why: {self.why}")
        if self.fix:
            out.append(f"       fix: {self.fix}")
        return out


@dataclass
class FunctionCheck:
    """The report of ``check_function``: true when every check passed.

    Attributes:
        function: the Function's name.
        passed: one line per check that passed.
        problems: the failed checks (``Problem``).
        notes: remarks that are not failures (e.g. a ``None`` gradient).
        max_error: the largest |analytical - numerical| of the finite-difference check.
    """

    function: str
    passed: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    max_error: float | None = None

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not self.problems

    def __bool__(self):
        return self.ok

    def report(self) -> str:
        """The report as text."""
        n = len(self.problems)
        head = (f"check_function({self.function}): "
                + ("all checks passed" if not n else f"{n} problem{'s' if n > 1 else ''}"))
        lines = [head]
        lines += [f"  ok   {p}" for p in self.passed]
        for p in self.problems:
            lines += p.lines()
        lines += [f"  note {x}" for x in self.notes]
        return "\n".join(lines)

    __str__ = report

    def __repr__(self):
        return self.report()


def _describe(x):
    if isinstance(x, _t.Tensor):
        return f"{_g.fmt_shape(x.shape)} {x._data.dtype.name}"
    return type(x).__name__


def _outputs_of(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _float64_inputs(inputs):
    res = []
    for x in inputs:
        if isinstance(x, _t.Tensor) and x._data.dtype.kind == "f":
            y = _t._wrap(x._data.astype(np.float64), x.requires_grad)
            res.append(y)
        elif isinstance(x, _t.Tensor):
            res.append(_t._wrap(x._data.copy()))
        else:
            res.append(x)
    return res


def _tensor_args(inputs):
    return [i for i, x in enumerate(inputs) if isinstance(x, _t.Tensor)]


def check_function(function, *inputs, eps: float = 1e-6, atol: float = 1e-5,
                   rtol: float = 1e-3, seed: int = 0, raise_exception: bool = False,
                   **kwargs) -> FunctionCheck:
    """Check a custom ``autograd.Function`` on ``inputs`` and explain what is wrong.

    Args:
        function: the ``ember.autograd.Function`` subclass (not an instance).
        *inputs: the arguments for ``function.apply``; tensors that should get a
            gradient must have ``requires_grad=True``.
        eps, atol, rtol: finite-difference step and tolerances (torch's gradcheck defaults);
            the finite-difference check runs on float64 copies of the inputs.
        seed: seeds the random output gradients used to test backward.
        raise_exception: raise ``FunctionCheckError`` with the report when a check fails.
        **kwargs: keyword arguments for ``apply``.

    Returns:
        A ``FunctionCheck``: true when all checks passed; printing it shows the report
        (each failure with why it matters and how to fix it).
    """
    name = getattr(function, "__name__", repr(function))
    rep = FunctionCheck(name)
    if not (isinstance(function, type) and issubclass(function, Function)):
        rep.problems.append(Problem(
            "function", f"{name} is not a subclass of ember.autograd.Function",
            fix="pass the class itself: check_function(MyFunction, x), not MyFunction.apply "
                "or an instance"))
        return _finish(rep, raise_exception)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, _t.Tensor) and x.requires_grad]
    if not diff:
        rep.problems.append(Problem(
            "inputs", "no input requires grad, so no graph is recorded and backward never runs",
            fix="create the inputs with requires_grad=True, e.g. ember.randn(3, "
                "requires_grad=True)"))
        return _finish(rep, raise_exception)
    rng = np.random.default_rng(seed)
    state = _run(function, inputs, kwargs, rep, rng, main=True)
    if state is not None:
        if "gradient count" not in [p.check for p in rep.problems]:
            _check_needs_input_grad(function, inputs, kwargs, rep, diff, rng)
        blocking = [p for p in rep.problems if p.check in _BLOCKING or
                    p.check.startswith("gradient ")]
        if not blocking:
            _finite_differences(function, inputs, kwargs, rep, diff, eps, atol, rtol, seed)
        else:
            rep.notes.append("finite-difference check skipped: fix the gradients' count, "
                             "shapes and types first")
    return _finish(rep, raise_exception)


# problems that make the engine reject the gradients, so finite differences cannot run
_BLOCKING = ("forward", "backward", "gradient count")


def _finish(rep, raise_exception):
    if raise_exception and rep.problems:
        raise FunctionCheckError(rep.report())
    return rep


def _run(function, inputs, kwargs, rep, rng, main, quiet=False):
    """Forward + a direct call of backward; checks the structure of what comes back."""
    before = [(x._vc[0], x._data.copy()) if isinstance(x, _t.Tensor) else None for x in inputs]
    with grad_mode.enable_grad():
        try:
            out = function.apply(*inputs, **kwargs)
        except Exception as e:  # noqa: BLE001 - reported, not swallowed
            if main:
                rep.problems.append(Problem(
                    "forward", f"raised {type(e).__name__}: {e}",
                    fix="forward(ctx, *args) receives the same arguments as apply(*args) "
                        "(Tensors stay Tensors) and must return a Tensor or a tuple of them"))
            return None
    outs = _outputs_of(out)
    t_outs = [o for o in outs if isinstance(o, _t.Tensor)]
    ctx = next((o.grad_fn for o in t_outs if o.grad_fn is not None), None)
    if main:
        dirty = {id(d) for d in getattr(ctx, "_dirty", ()) or ()}
        for i, (x, b) in enumerate(zip(inputs, before)):
            if b is None or id(x) in dirty:
                continue
            if x._vc[0] != b[0] or not np.array_equal(x._data, b[1], equal_nan=True):
                rep.problems.append(Problem(
                    "inputs unchanged", f"forward changed input {i} in place",
                    why="autograd still thinks the input holds its old values: gradients of "
                        "other ops that saved it are silently wrong",
                    fix="compute into a new tensor (x * 2, not x.mul_(2)); if the in-place "
                        "change is intended, call ctx.mark_dirty(x) and return x"))
    if ctx is None:
        if main:
            rep.problems.append(Problem(
                "forward", "no output is connected to the graph (no output has a grad_fn)",
                why="only floating-point Tensor outputs get a gradient; forward returned "
                    + ", ".join(_describe(o) for o in outs),
                fix="return a floating-point Tensor computed from the inputs"))
        return None
    if main:
        rep.passed.append(f"forward: {len(outs)} output{'s' if len(outs) > 1 else ''} "
                          f"({', '.join(_describe(o) for o in outs)})")
        _check_ctx(ctx, rep)
    grads = []
    for o in outs:
        if isinstance(o, _t.Tensor) and o._data.dtype.kind == "f":
            g = rng.standard_normal(o.shape).astype(o._data.dtype)
            grads.append(_t._wrap(g))
        else:
            grads.append(None)
    if getattr(ctx, "_materialize", True):
        grads = [g if g is not None or not isinstance(o, _t.Tensor) else
                 _t._wrap(np.zeros(o.shape, o._data.dtype)) for g, o in zip(grads, outs)]
    copies = [g._data.copy() if g is not None else None for g in grads]
    with grad_mode.no_grad():
        try:
            res = function.backward(ctx, *grads)
        except Exception as e:  # noqa: BLE001 - reported, not swallowed
            if main:
                rep.problems.append(Problem(
                    "backward", f"raised {type(e).__name__}: {e}",
                    fix="backward(ctx, *grad_outputs) gets one gradient per output of "
                        "forward and reads what forward saved from ctx.saved_tensors"))
            return None
    res = res if isinstance(res, tuple) else (res,)
    if main:
        for k, (g, c) in enumerate(zip(grads, copies)):
            if g is not None and not np.array_equal(g._data, c, equal_nan=True):
                rep.problems.append(Problem(
                    "grad_output unchanged", f"backward changed grad_outputs[{k}] in place",
                    why="the engine may hand the same gradient array to several nodes; "
                        "changing it corrupts their gradients",
                    fix="compute new tensors (grad * 2, not grad.mul_(2))"))
        _check_returned(inputs, res, ctx, rep)
    return ctx, res


def _check_ctx(ctx, rep):
    bad = _g.ctx_attributes_with_tensors(ctx)
    if bad:
        held = ", ".join(f"ctx.{k} holds {_kind_of(v)}" for k, v in bad.items())
        rep.problems.append(Problem(
            "save_for_backward", f"{held}, kept without save_for_backward",
            why="tensors kept as ctx attributes escape autograd's bookkeeping: no check that "
                "they were not changed in place before backward, they are not freed after "
                "backward (memory stays until the graph dies), and in PyTorch an output kept "
                "this way makes a reference cycle that leaks memory",
            fix="ctx.save_for_backward(...) the tensor in forward and read it back with "
                "ctx.saved_tensors in backward; keep only non-tensor values (shapes, flags) "
                "as attributes"))
    saved = getattr(ctx, "_saved", None) or ()
    for i, s in enumerate(saved):
        if s is not None and not isinstance(s, _t.Tensor):
            rep.problems.append(Problem(
                "save_for_backward", f"save_for_backward got a {type(s).__name__} at position "
                                     f"{i}",
                why="save_for_backward is for tensors (PyTorch raises 'save_for_backward can "
                    "only save variables')",
                fix="keep non-tensor values as ctx attributes (ctx.dim = dim); wrap arrays "
                    "with ember.as_tensor"))
    if not bad and all(s is None or isinstance(s, _t.Tensor) for s in saved):
        rep.passed.append("ctx keeps tensors only through save_for_backward"
                          + (f" ({len(saved)} saved)" if saved else ""))


def _kind_of(v):
    if isinstance(v, _t.Tensor):
        return f"a Tensor {_g.fmt_shape(v.shape)}"
    if isinstance(v, np.ndarray):
        return f"an array {_g.fmt_shape(v.shape)}"
    return f"a {type(v).__name__} of tensors"


def _check_returned(inputs, res, ctx, rep):
    n = len(inputs)
    if len(res) != n and not (len(res) > n and all(r is None for r in res[n:])):
        rep.problems.append(Problem(
            "gradient count", f"backward returned {len(res)} value{'s' if len(res) != 1 else ''}"
                              f" for {n} argument{'s' if n != 1 else ''} of forward",
            why="backward must return one value per argument of forward, in order (PyTorch "
                f"raises 'function {ctx.name()} returned an incorrect number of gradients')",
            fix=f"return {n} value{'s' if n != 1 else ''}: a gradient for each tensor "
                "argument that needs one, None for the others (non-tensor arguments too)"))
        return
    rep.passed.append(f"backward returned {n} value{'s' if n != 1 else ''} for {n} "
                      f"argument{'s' if n != 1 else ''}")
    ok = True
    for i, (x, g) in enumerate(zip(inputs, res)):
        if not isinstance(x, _t.Tensor):
            if g is not None:
                ok = False
                rep.problems.append(Problem(
                    f"gradient {i}", f"argument {i} is a {type(x).__name__}, not a tensor, but "
                                     "backward returned a gradient for it",
                    why="non-tensor arguments have no gradient (PyTorch raises 'returned a "
                        "gradient different than None at a position for a non-Tensor input')",
                    fix=f"return None at position {i}"))
            continue
        if g is None:
            if x.requires_grad:
                rep.notes.append(f"backward returned None for input {i}, which requires grad: "
                                 "its gradient is taken as zero")
            continue
        if not x.requires_grad:
            continue  # reported by the needs_input_grad check
        if isinstance(g, np.ndarray):
            ok = False
            rep.problems.append(Problem(
                f"gradient {i}", "is a NumPy array, not a Tensor",
                fix="return Tensors from backward (as PyTorch requires): compute with tensor "
                    "ops, or wrap the result with ember.as_tensor"))
            continue
        if not isinstance(g, _t.Tensor):
            ok = False
            rep.problems.append(Problem(f"gradient {i}", f"is a {type(g).__name__}",
                                        fix="return a Tensor shaped like the input, or None"))
            continue
        if tuple(g.shape) != tuple(x.shape):
            ok = False
            rep.problems.append(Problem(
                f"gradient {i}", f"has shape {_g.fmt_shape(g.shape)} but input {i} has shape "
                                 f"{_g.fmt_shape(x.shape)}",
                why="the gradient of an input has the input's shape; the engine rejects "
                    "others ('returned an invalid gradient at index ...')",
                fix="if forward broadcast the input, sum over the broadcast dimensions "
                    "(grad.sum(dim=0) or grad.sum_to_size(*x.shape)); undo reshapes and "
                    "transposes; check the order of the returned gradients"))
        if g._data.dtype != x._data.dtype:
            ok = False
            rep.problems.append(Problem(
                f"dtype of gradient {i}", f"is {g._data.dtype.name} but input {i} is "
                                 f"{x._data.dtype.name}",
                why="the engine converts it back (an extra copy on every backward); it often "
                    "means a float64 constant or NumPy array crept into backward",
                fix="keep backward in the input's dtype (x.dtype), e.g. build constants with "
                    "ember.tensor(..., dtype=x.dtype)"))
    if ok:
        rep.passed.append("gradients are Tensors with their inputs' shapes and dtypes")


def _check_needs_input_grad(function, inputs, kwargs, rep, diff, rng):
    """With one differentiable input switched off at a time, backward must return None there."""
    tensor_args = [i for i in _tensor_args(inputs) if inputs[i]._data.dtype.kind == "f"]
    bad = []
    for i in tensor_args:
        if inputs[i].requires_grad and len(diff) == 1:
            continue  # switching the only one off records no graph at all
        trial = list(inputs)
        if inputs[i].requires_grad:
            trial[i] = inputs[i].detach()
        state = _run(function, trial, kwargs, rep, rng, main=False)
        if state is None:
            continue
        _, res = state
        if i < len(res) and res[i] is not None:
            bad.append(i)
    if bad:
        i = bad[0]
        rep.problems.append(Problem(
            "needs_input_grad", f"backward computed a gradient for input {i} when "
                                f"ctx.needs_input_grad[{i}] was False",
            why="work for a gradient nobody needs (often the most expensive one, e.g. for the "
                "input batch); PyTorch drops it",
            fix=f"compute it only under `if ctx.needs_input_grad[{i}]:` and return None "
                "otherwise"))
    elif len(tensor_args) > 1 or any(not inputs[i].requires_grad for i in tensor_args):
        rep.passed.append("needs_input_grad respected (None for inputs that need no gradient)")
    else:
        rep.notes.append("needs_input_grad not tested: only one tensor input (give a second "
                         "input with requires_grad=False to test it)")


def _finite_differences(function, inputs, kwargs, rep, diff, eps, atol, rtol, seed):
    x64 = _float64_inputs(inputs)
    rng = np.random.default_rng(seed + 1)
    with grad_mode.enable_grad():
        outs = _outputs_of(function.apply(*x64, **kwargs))
    weights = [rng.standard_normal(o.shape) if isinstance(o, _t.Tensor)
               and o._data.dtype.kind == "f" else None for o in outs]
    if any(isinstance(o, _t.Tensor) and o._data.dtype == np.float32 for o in outs):
        rep.notes.append("forward returned float32 for float64 inputs: finite differences "
                         "are less precise (use the input's dtype inside forward)")
    pairs = [(o, w) for o, w in zip(outs, weights) if w is not None and o.requires_grad]
    if not pairs:
        return
    from . import grad as _grad

    try:
        analytical = _grad([o for o, _ in pairs], [x64[i] for i in diff],
                           grad_outputs=[_t._wrap(w.astype(o._data.dtype)) for o, w in pairs],
                           allow_unused=True)
    except RuntimeError as e:
        rep.problems.append(Problem("finite differences", f"backward failed in float64: {e}"))
        return

    def f():
        with grad_mode.no_grad():
            res = _outputs_of(function.apply(*x64, **kwargs))
        return sum(float((r._data.astype(np.float64) * w).sum())
                   for r, w in zip(res, weights) if w is not None)

    worst = 0.0
    for k, i in enumerate(diff):
        x = x64[i]._data
        a = (analytical[k]._data.astype(np.float64) if analytical[k] is not None
             else np.zeros(x.shape))
        flat = x.reshape(-1)
        if x.size <= 256:
            num = np.zeros(x.size)
            for e in range(x.size):
                orig = flat[e]
                flat[e] = orig + eps
                plus = f()
                flat[e] = orig - eps
                minus = f()
                flat[e] = orig
                num[e] = (plus - minus) / (2 * eps)
            a_flat = a.reshape(-1)
            err = np.abs(a_flat - num)
            worst = max(worst, float(err.max(initial=0.0)))
            bad = ~np.isclose(a_flat, num, rtol=rtol, atol=atol)
            if bad.any():
                e = int(np.argmax(bad))
                idx = tuple(int(v) for v in np.unravel_index(e, x.shape))
                _fd_problem(rep, i, f"element {list(idx)}", a_flat[e], num[e])
                continue
        else:
            for _ in range(3):  # random directions: v . grad against the directional derivative
                v = rng.standard_normal(x.shape)
                orig = x.copy()
                x += eps * v
                plus = f()
                x[...] = orig - eps * v
                minus = f()
                x[...] = orig
                num = (plus - minus) / (2 * eps)
                an = float((a * v).sum())
                worst = max(worst, abs(an - num))
                if not np.isclose(an, num, rtol=rtol, atol=atol * np.sqrt(x.size)):
                    _fd_problem(rep, i, "a random direction", an, num)
                    break
    rep.max_error = worst
    if not any(p.check == "finite differences" for p in rep.problems):
        rep.passed.append(f"gradients match finite differences (float64, max error "
                          f"{worst:.1e})")


def _fd_problem(rep, i, where, analytical, numerical):
    rep.problems.append(Problem(
        "finite differences", f"gradient of input {i} at {where}: backward gives "
                              f"{analytical:.6g}, finite differences give {numerical:.6g}",
        why="backward does not compute the derivative of forward",
        fix="check the chain rule: multiply by grad_output, use the saved value the formula "
            "needs (input or output), check signs and constant factors, and undo broadcasting "
            "by summing"))


class _CallableModule(_types.ModuleType):
    """``ember.autograd.check_function`` once imported; calling it calls the function."""

    def __call__(self, *args, **kwargs):
        return check_function(*args, **kwargs)


# NOTE: importing the submodule rebinds ``ember.autograd.check_function`` from the function
# to the module, so the module itself is made callable (as ``explain`` is).
_sys.modules[__name__].__class__ = _CallableModule
