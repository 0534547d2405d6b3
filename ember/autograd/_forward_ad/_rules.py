"""The table of tangent formulas and the helpers the ``rules_*`` modules write them with.

A rule is ``fn(xs, ts, out, **options)``: ``xs`` the op's inputs as ``Op.apply`` got them
(Tensors, numbers, arrays), ``ts`` one tangent per input (None where there is none), ``out``
the primal output (a tuple for multi-output ops) and the op's keyword options. It returns
the output's tangent (one per output for tuples; None for an output with none), computed
with ember ops on Tensors, so that the tangent is itself differentiable in reverse mode. A
rule may return ``NotImplemented`` for a case it leaves to the double-vjp fallback (only
rules of ops whose forward draws no random numbers: the op then runs again).
"""
from __future__ import annotations

import numpy as np

RULES = {}  # op class -> rule


def rule(*ops):
    """Decorator: the function is the tangent rule of each op in ``ops``."""

    def register(fn):
        for op in ops:
            RULES[op] = fn
        return fn

    return register


def zeros_like(x):
    """Zeros shaped and typed like ``x`` (a Tensor or an array)."""
    from ..._tensor import _wrap

    a = x._data if hasattr(x, "_data") else np.asarray(x)
    return _wrap(np.zeros(a.shape, a.dtype))


def zero_of(v):
    """The zero standing in for a missing tangent: zeros like a Tensor or an array, 0 of a
    number's type, None for None."""
    if v is None or isinstance(v, bool):
        return v
    if hasattr(v, "_data") or isinstance(v, np.ndarray):
        return zeros_like(v)
    return type(v)(0)


def linear(*ops, at=(0,)):
    """Register the rule of ops that are linear in the inputs at positions ``at`` taken
    together (the others are indices, masks or constants): the tangent is the op itself
    applied to those inputs' tangents, zeros standing in for missing ones."""

    def same_op(xs, ts, out, op, **options):
        args = list(xs)
        for i in at:
            if i < len(xs):
                args[i] = ts[i] if ts[i] is not None else zero_of(xs[i])
        return op.apply(*args, **options)

    for op in ops:
        RULES[op] = _bind(same_op, op)


def linear_all(*ops):
    """Register the rule of ops linear in all their tensor inputs together (cat, stack)."""

    def same_op(xs, ts, out, op, **options):
        args = [(t if t is not None else zeros_like(x)) if hasattr(x, "_data") else x
                for x, t in zip(xs, ts)]  # (no number enters cat, stack or block_diag)
        return op.apply(*args, **options)

    for op in ops:
        RULES[op] = _bind(same_op, op)


def _bind(fn, op):
    def bound(xs, ts, out, **options):
        return fn(xs, ts, out, op, **options)

    return bound


def elementwise(table):
    """Register unary pointwise rules from ``{op: d(x, out, **options)}``: the tangent is
    ``tx * d``, ``d`` the derivative at each element."""
    for op, d in table.items():
        RULES[op] = _times(d)


def _times(d):
    def rule_(xs, ts, out, **options):
        return ts[0] * d(xs[0], out, **options)

    return rule_


def is_complex(x) -> bool:
    """Whether ``x`` (a Tensor, an array or a number) holds complex numbers."""
    a = getattr(x, "_data", x)
    kind = getattr(getattr(a, "dtype", None), "kind", None)
    return kind == "c" if kind is not None else isinstance(x, complex)


def re_dot(a, t):
    """``Re(conj(a) * t)``, elementwise: the tangent of a real function of complex ``z``
    whose torch-convention gradient is ``a`` (``|z|``: ``a = sgn(z)``)."""
    return (a.conj() * t).real


def add(*terms):
    """The sum of the terms that are not None (None when all are)."""
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    return total


def zero(xs, ts, out, **options):
    """The rule of ops whose derivative is zero almost everywhere (floor, sign, ...)."""
    if isinstance(out, tuple):
        return tuple(zeros_like(o) if o._data.dtype.kind == "f" else None for o in out)
    return zeros_like(out)
