"""Tangent rules of the products: each is linear in every operand on its own, so the
tangent is one product per operand with a tangent, that operand replaced by its tangent
(``d(x @ y) = dx @ y + x @ dy``)."""
from __future__ import annotations

from ...ops import linalg
from ._rules import add, rule


def _product_rule(op):
    def product(xs, ts, out, **options):
        terms = []
        for i, t in enumerate(ts):
            if t is not None:
                args = list(xs)
                args[i] = t
                terms.append(op.apply(*args, **options))
        return add(*terms)

    return product


for _op in (linalg.MatMul, linalg.Mm, linalg.Einsum):
    rule(_op)(_product_rule(_op))


@rule(linalg.Linear)
def _linear(xs, ts, out):
    x, w = xs[0], xs[1]
    tx, tw = ts[0], ts[1]
    tb = ts[2] if len(ts) > 2 else None
    return add(None if tx is None else linalg.Linear.apply(tx, w),
               None if tw is None else linalg.Linear.apply(x, tw), tb)


@rule(linalg.Addmm)
def _addmm(xs, ts, out, beta=1, alpha=1):
    (_, a, b), (tc, ta, tb) = xs, ts
    part = add(None if ta is None else ta @ b, None if tb is None else a @ tb)
    if part is not None and alpha != 1:
        part = part * alpha
    return add(None if tc is None else (tc if beta == 1 else tc * beta), part)
