"""Formulas for the shape ops: each gradient is the inverse rearrangement of ``grad``
(reshape back, permute back, sum what expand repeated, split what cat joined)."""
from __future__ import annotations

import numpy as np

from ..shape import (
    Cat,
    Expand,
    Flip,
    Permute,
    Repeat,
    Reshape,
    Roll,
    Split,
    Stack,
    Tri,
    cat,
    flip,
    roll,
    split,
    stack,
    tril,
    triu,
    unbind,
)
from ..shape_more import Unbind
from ._common import formula, sum_to


@formula(Reshape)
def _reshape(ctx, grad):
    return grad.reshape(ctx.x_shape)


@formula(Permute)
def _permute(ctx, grad):
    return grad.permute(*(int(d) for d in np.argsort(ctx.dims)))


@formula(Expand)
def _expand(ctx, grad):
    return sum_to(grad, ctx.x_shape)


@formula(Repeat)
def _repeat(ctx, grad):
    reps = ctx.repeats
    shape = (1,) * (len(reps) - len(ctx.x_shape)) + tuple(ctx.x_shape)
    split_shape = []
    for r, s in zip(reps, shape):
        split_shape += [r, s]
    g = grad.reshape(split_shape).sum(dim=list(range(0, len(split_shape), 2)))
    return g.reshape(ctx.x_shape)


@formula(Cat)
def _cat(ctx, grad):
    parts = split(grad, ctx.sizes, ctx.axis)
    return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))


@formula(Stack)
def _stack(ctx, grad):
    parts = unbind(grad, ctx.axis)
    return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))


@formula(Split)
def _split(ctx, *grads):
    return cat(list(grads), ctx.axis)


@formula(Unbind)
def _unbind(ctx, *grads):
    return stack(list(grads), ctx.axis)


@formula(Tri)
def _tri(ctx, grad):
    return (triu if ctx.upper else tril)(grad, ctx.diagonal)


@formula(Flip)
def _flip(ctx, grad):
    return flip(grad, ctx.dims)


@formula(Roll)
def _roll(ctx, grad):
    neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
    return roll(grad, neg, ctx.dims)
