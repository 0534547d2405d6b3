"""Formulas for the matrix products: mm, matmul (1-D, batched, broadcast), F.linear, addmm,
addmv/addr/baddbmm/addbmm; and inv, det, slogdet, solve and cholesky (torch's formulas, with
the inverse or the solve they need recorded as ops of their own; their transposes are
conjugate transposes, ``mH``, so that they hold for complex matrices too).

The gradient of a product is another product with the other operand: ``grad @ y.T`` and
``x.T @ grad``. Differentiated again, it is linear in both ``grad`` and the operand.
"""
from __future__ import annotations

import numpy as np

from ...autograd._double_backward import _on_edge
from .._linalg_factor import Cholesky
from .._linalg_inverse import Det, Inv, Slogdet, Solve
from ..linalg import Addmm, Einsum, Linear, MatMul, Mm, einsum, matmul
from ..linear_graph import LinearAddmm, WeightT
from ..products import AddProduct
from ..shape import tril
from ._common import const, formula, saved_tensors, stand_in, sum_to


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


@formula(LinearAddmm)
def _linear_addmm(ctx, grad):
    x, wt = saved_tensors(ctx)
    need = ctx.needs_input_grad
    return (sum_to(grad, ctx.b_shape) if need[0] else None,
            grad @ wt.t() if need[1] else None,
            x.t() @ grad if need[2] else None)


@formula(WeightT)
def _weight_t(ctx, grad):
    return grad.t()


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
            g = g.reshape([sizes[c] if c in kept else 1 for c in uniq])
        shape = tuple(sizes[c] for c in uniq)
        if tuple(g.shape) != shape:  # size-1 dims broadcast in forward: spread or sum back
            g = sum_to(g.expand(np.broadcast_shapes(tuple(g.shape), shape)), shape)
        if uniq != term:  # a repeated letter (``ii``): the gradient lies on that diagonal
            diagonal = np.zeros(x.shape, grad._data.dtype)
            np.einsum(term + "->" + uniq, diagonal)[...] = 1  # a writeable view
            g = const(diagonal) * g.reshape([x.shape[k] if term.index(c) == k else 1
                                             for k, c in enumerate(term)])
        grads.append(g)
    return tuple(grads)


@formula(AddProduct)
def _add_product(ctx, grad):
    a, b = saved_tensors(ctx)
    need, kind = ctx.needs_input_grad, ctx.kind
    gc = sum_to(grad * ctx.beta, ctx.c_shape) if need[0] else None
    g = grad * ctx.alpha if ctx.alpha != 1 else grad
    if kind == "mv":
        ga = g.unsqueeze(1) * b if need[1] else None
        gb = a.t() @ g if need[2] else None
    elif kind == "r":
        ga = g @ b if need[1] else None
        gb = g.t() @ a if need[2] else None
    else:  # bmm, and addbmm's (n, p) grad broadcast over the batch
        ga = matmul(g, b.transpose(-1, -2)) if need[1] else None
        gb = matmul(a.transpose(-1, -2), g) if need[2] else None
    return gc, ga, gb


# --- inverse, determinants, solve, cholesky: torch's formulas, with the inverse recorded --------
def _mT(t):
    return t.transpose(-1, -2)


def _mH(t):
    return t.mH  # the transpose of a real matrix (conj of a real Tensor is the Tensor)


@formula(Inv)
def _inv(ctx, grad):
    (out,) = saved_tensors(ctx)  # the inverse Z, on this node: dA = -Z^H G Z^H
    zh = _mH(out)
    return -(zh @ grad @ zh)


@formula(Det)
def _det(ctx, grad):
    x, out = saved_tensors(ctx)
    if (out._data == 0).any():
        return NotImplemented  # a singular matrix: torch's cofactor formula, not written here
    # conj(det(A)) A^-H
    return (grad * out.conj()).unsqueeze(-1).unsqueeze(-1) * _mH(Inv.apply(x))


@formula(Slogdet)
def _slogdet(ctx, grad_sign, grad_log):
    saved = saved_tensors(ctx)  # (A, sign) for complex A, else (A,)
    x = saved[0]
    if len(saved) == 2 and grad_sign is not None:  # complex: g_log - i Im(conj(g_sign) sign)
        g = (grad_sign.conj() * saved[1]).imag * -1j
        grad_log = g if grad_log is None else grad_log + g
    if grad_log is None:
        return None
    # g A^-H; a real A's sign gets nothing
    return grad_log.unsqueeze(-1).unsqueeze(-1) * _mH(Inv.apply(x))


@formula(Solve)
def _solve(ctx, grad):
    a_arr, out_arr = ctx.saved_tensors
    # forward kept A broadcast over the batch (and transposed for left=False) and the
    # solution as a matrix: rebuild A's own value and the op's output on the graph
    lead = a_arr.ndim - len(ctx.x_shape)
    a_own = a_arr[(0,) * lead + tuple(slice(0, 1) if n == 1 else slice(None)
                                      for n in ctx.x_shape[:-2])]
    x_val = a_own if ctx.left else np.swapaxes(a_own, -1, -2)
    res = out_arr if ctx.left else np.swapaxes(out_arr, -1, -2)
    res = np.ascontiguousarray(res[..., 0] if ctx.vector else res)
    A, X = stand_in(ctx, 0, np.ascontiguousarray(x_val)), _on_edge(res, (ctx, 0))
    if not ctx.left:  # X A = B is A^T X^T = B^T
        A, X, grad = _mT(A), (X if ctx.vector else _mT(X)), (grad if ctx.vector else _mT(grad))
    g = grad.unsqueeze(-1) if ctx.vector else grad
    Xm = X.unsqueeze(-1) if ctx.vector else X
    gb = Solve.apply(_mH(A), g)  # A^-H G
    gx = gy = None
    if ctx.needs_input_grad[0]:
        ga = -(gb @ _mH(Xm))
        gx = sum_to(ga if ctx.left else _mT(ga), ctx.x_shape)
    if ctx.needs_input_grad[1]:
        gb2 = gb[..., 0] if ctx.vector else (gb if ctx.left else _mT(gb))
        gy = sum_to(gb2, ctx.y_shape)
    return gx, gy


@formula(Cholesky)
def _cholesky(ctx, grad):
    (out,) = saved_tensors(ctx)  # A = L L^H: gA = L^-H Phi L^-1, Phi = tril(L^H gL) symmetrised
    low, gl = (_mH(out), _mH(grad)) if ctx.upper else (out, grad)
    phi = tril(_mH(low) @ gl)
    phi = 0.5 * (phi + _mH(tril(phi, -1)))
    ga = Solve.apply(_mH(low), phi)
    return _mT(Solve.apply(_mT(low), _mT(ga)))
