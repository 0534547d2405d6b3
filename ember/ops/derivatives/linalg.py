"""Formulas for the matrix products: mm, matmul (1-D, batched, broadcast), F.linear, addmm.

The gradient of a product is another product with the other operand: ``grad @ y.T`` and
``x.T @ grad``. Differentiated again, it is linear in both ``grad`` and the operand.
"""
from __future__ import annotations

import numpy as np

from ..linalg import Addmm, Einsum, Linear, MatMul, Mm, einsum, matmul
from ._common import const, formula, saved_tensors, sum_to


@formula(Mm)
def _mm(ctx, grad):
    x, y = saved_tensors(ctx)
    need = ctx.needs_input_grad
    return (grad @ y.t() if need[0] else None,
            x.t() @ grad if need[1] else None)


@formula(MatMul)
def _matmul(ctx, grad):
    x, y = saved_tensors(ctx)
    need = ctx.needs_input_grad
    if x.ndim == 1 and y.ndim == 1:  # a dot product: grad is 0-d
        return (grad * y if need[0] else None, grad * x if need[1] else None)
    # a 1-D operand is a matrix with one row (x) or one column (y), its dim dropped after
    x2 = x.unsqueeze(0) if x.ndim == 1 else x
    y2 = y.unsqueeze(-1) if y.ndim == 1 else y
    g = grad.unsqueeze(-2) if x.ndim == 1 else grad
    g = g.unsqueeze(-1) if y.ndim == 1 else g
    gx = gy = None
    if need[0]:
        gx = sum_to(matmul(g, y2.transpose(-1, -2)), x2.shape).reshape(x.shape)
    if need[1]:
        gy = sum_to(matmul(x2.transpose(-1, -2), g), y2.shape).reshape(y.shape)
    return gx, gy


@formula(Linear)
def _linear(ctx, grad):
    x, w = saved_tensors(ctx)
    need = ctx.needs_input_grad
    g2 = grad.reshape(-1, grad.shape[-1])  # every leading dim is a batch of rows
    gx = matmul(grad, w) if need[0] else None
    gw = g2.t() @ x.reshape(-1, x.shape[-1]) if need[1] else None
    gb = g2.sum(0) if len(need) > 2 and need[2] else None
    return gx, gw, gb


@formula(Addmm)
def _addmm(ctx, grad):
    a, b = saved_tensors(ctx)
    need = ctx.needs_input_grad
    gc = sum_to(grad if ctx.beta == 1 else grad * ctx.beta, ctx.c_shape) if need[0] else None
    g = grad if ctx.alpha == 1 else grad * ctx.alpha
    return gc, (g @ b.t() if need[1] else None), (a.t() @ g if need[2] else None)


@formula(Einsum)
def _einsum(ctx, grad):
    """Each operand's gradient is an einsum of ``grad`` with the other operands, spread over
    the letters only that operand has (summed in forward) and onto its diagonal for a
    repeated letter (``ii``)."""
    xs = saved_tensors(ctx)
    ins, out = ctx.eq.split("->")
    terms = ins.split(",")
    grads = []
    for i, (term, x) in enumerate(zip(terms, xs)):
        if not ctx.needs_input_grad[i]:
            grads.append(None)
            continue
        others = [t for j, t in enumerate(terms) if j != i]
        seen = set(out + "".join(others))
        uniq = "".join(dict.fromkeys(term))
        kept = "".join(c for c in uniq if c in seen)
        g = einsum(",".join([out] + others) + "->" + kept,
                   grad, *[a for j, a in enumerate(xs) if j != i])
        sizes = dict(zip(term, x.shape))
        if kept != uniq:  # letters summed away in forward: every element got the same
            g = g.reshape(*[sizes[c] if c in kept else 1 for c in uniq])
        shape = tuple(sizes[c] for c in uniq)
        if tuple(g.shape) != shape:  # size-1 dims broadcast in forward: spread or sum back
            g = sum_to(g.expand(*np.broadcast_shapes(tuple(g.shape), shape)), shape)
        if uniq != term:  # a repeated letter (``ii``): the gradient lies on that diagonal
            diagonal = np.zeros(x.shape, grad._data.dtype)
            np.einsum(term + "->" + uniq, diagonal)[...] = 1  # a writeable view
            g = const(diagonal) * g.reshape(*[x.shape[k] if term.index(c) == k else 1
                                              for k, c in enumerate(term)])
        grads.append(g)
    return tuple(grads)
