"""Fused products with an added tensor: ``beta * input + alpha * product`` for a
matrix-vector (addmv), outer (addr), batched (baddbmm) and batch-summed (addbmm) product.

As in torch, ``beta == 0`` ignores ``input`` (nan and inf in it do not propagate).
"""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Op
from ._shape_utils import check_expand, sum_to_shape, type_name

_NAMES = {"mv": "AddmvBackward0", "r": "AddrBackward0", "baddbmm": "BaddbmmBackward0",
          "addbmm": "AddbmmBackward0"}


def _product(kind, a, b):
    if kind == "mv":
        return a @ b
    if kind == "r":
        return np.multiply.outer(a, b)
    out = np.matmul(a, b)
    return out.sum(axis=0) if kind == "addbmm" else out


class AddProduct(Op):
    """z = beta * c + alpha * (a (x) b), (x) one of mv, outer, bmm, summed bmm"""

    @staticmethod
    def forward(ctx, c, a, b, *, kind, beta=1, alpha=1):
        ctx.show_as(_NAMES[kind])
        ctx.save_for_backward(a, b)
        ctx.kind, ctx.beta, ctx.alpha, ctx.c_shape = kind, beta, alpha, c.shape
        half = a.dtype == np.float16
        if half:  # float32 products plus input, rounded once (torch's half gemm)
            c, a, b = (v.astype(np.float32) for v in (c, a, b))
        prod = _product(kind, a, b)
        if prod.dtype == np.bool_:
            out = (prod & bool(alpha)) | (c & bool(beta))
        else:
            if alpha != 1:
                prod = prod * np.asarray(alpha, prod.dtype)
            out = prod if beta == 0 else prod + (c if beta == 1 else c * np.asarray(beta, c.dtype))
        return np.broadcast_to(out, prod.shape).astype(np.float16 if half else prod.dtype)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need, kind = ctx.needs_input_grad, ctx.kind
        gc = ga = gb = None
        if need[0]:
            gc = sum_to_shape(grad * np.asarray(ctx.beta, grad.dtype), ctx.c_shape)
        g = grad * np.asarray(ctx.alpha, grad.dtype) if ctx.alpha != 1 else grad
        if kind == "mv":
            ga = np.multiply.outer(g, b) if need[1] else None
            gb = a.T @ g if need[2] else None
        elif kind == "r":
            ga = g @ b if need[1] else None
            gb = g.T @ a if need[2] else None
        else:  # (B, n, p) gradients; addbmm's g is (n, p) and broadcasts over the batch
            ga = np.matmul(g, b.swapaxes(-1, -2)) if need[1] else None
            gb = np.matmul(a.swapaxes(-1, -2), g) if need[2] else None
        return gc, ga, gb


def _check_tensors(name, *args):
    for pos, (arg, v) in enumerate(args, 1):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                            f"{type(v).__name__}")


def _apply(kind, input, a, b, beta, alpha):
    if input._data.dtype.kind in "iu":  # torch casts the factors to the integer type
        beta, alpha = int(beta), int(alpha)
    return AddProduct.apply(input, a, b, kind=kind, beta=beta, alpha=alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)`` for a matrix ``mat`` and a vector ``vec``."""
    _check_tensors("addmv", ("input", input), ("mat", mat), ("vec", vec))
    if input.dim() > 1 or mat.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {mat.dim()}, "
                           f"{vec.dim()}")
    n, m = mat.shape
    if vec.shape[0] != m or (input.dim() == 1 and input.shape[0] not in (1, n)):
        size = input.shape[0] if input.dim() == 1 else 1
        raise RuntimeError(f"size mismatch, got input ({size}), mat ({n}x{m}), vec "
                           f"({vec.shape[0]})")
    dts = [t._data.dtype for t in (input, mat, vec)]
    if len(set(dts)) > 1:
        raise RuntimeError("addmv input tensors must have the same dtype, but got "
                           f"{type_name(dts[0])}, {type_name(dts[1])}, and {type_name(dts[2])}")
    if dts[0] == np.bool_:
        raise NotImplementedError("\"addmv_impl_cpu\" not implemented for 'Bool'")
    return _apply("mv", input, mat, vec, beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)`` (the three dtypes promote)."""
    _check_tensors("addr", ("input", input), ("vec1", vec1), ("vec2", vec2))
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.dim() != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.dim()}-D")
    check_expand(tuple(input.shape), (vec1.shape[0], vec2.shape[0]))
    rt = _dtype.result_type(input, vec1, vec2)
    if not rt.is_floating_point:
        for name, v in (("beta", beta), ("alpha", alpha)):
            if isinstance(v, float):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                                   "floating point number.")
    input, vec1, vec2 = (t.to(rt) for t in (input, vec1, vec2))
    return _apply("r", input, vec1, vec2, beta, alpha)


def _check_batches(batch1, batch2):
    for t in (batch1, batch2):
        if t.dim() != 3:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(t.dim(), 1)}, {max(t.dim(), 1) - 1}], but got 2)")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``, ``input`` broadcast to ``(B, n, p)``."""
    _check_tensors("baddbmm", ("input", input), ("batch1", batch1), ("batch2", batch2))
    _check_batches(batch1, batch2)
    bs, n, k = batch1.shape
    check_expand(tuple(input.shape), (bs, n, batch2.shape[2]))
    if tuple(batch2.shape[:2]) != (bs, k):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{bs}, {k}] but got: [{batch2.shape[0]}, {batch2.shape[1]}].")
    dts = [t._data.dtype for t in (input, batch1, batch2)]
    if dts[0] == dts[1] != dts[2]:
        raise RuntimeError(f"expected scalar type {type_name(dts[1])} but found "
                           f"{type_name(dts[2])}")
    if len(set(dts)) > 1:
        c = [_dtype.c_type_name(d) for d in dts]
        raise RuntimeError(f"Input dtypes must be the same, got: input {c[0]}, batch1: {c[1]}, "
                           f"batch2: {c[2]}")
    if dts[0] == np.bool_:
        raise NotImplementedError("\"baddbmm\" not implemented for 'Bool'")
    return _apply("baddbmm", input, batch1, batch2, beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    _check_tensors("addbmm", ("input", input), ("batch1", batch1), ("batch2", batch2))
    _check_batches(batch1, batch2)
    check_expand(tuple(input.shape), (batch1.shape[1], batch2.shape[2]))
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{batch1.shape[0]} and {batch2.shape[0]}")
    if batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({batch1.shape[1]}x"
                           f"{batch1.shape[2]} and {batch2.shape[1]}x{batch2.shape[2]})")
    d, d1, d2 = (t._data.dtype for t in (input, batch1, batch2))
    if d != d2:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {type_name(d)} and "
                           f"{type_name(d2)}")
    if d1 != d2:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {type_name(d1)} "
                           f"and {type_name(d2)}")
    return _apply("addbmm", input, batch1, batch2, beta, alpha)
