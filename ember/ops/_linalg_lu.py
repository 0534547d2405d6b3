"""``torch.linalg`` LU and tensor solvers: ``lu`` (P, L, U), ``lu_solve`` (from ``lu_factor``'s
packed result, left or right, plain or adjoint), ``tensorinv`` and ``tensorsolve``.

The factorization is the one ``lu_factor`` and the legacy ``ember.lu`` use (LAPACK's getrf in
``linalg_legacy.py``), and so is the gradient of the packed factors; the triangular solves
are plain substitution (``trsm``), so a zero pivot gives inf/NaN as in torch.
"""
from __future__ import annotations

import math

import numpy as np

from .. import return_types
from .._tensor import Tensor
from ..autograd.function import Op
from ._linalg_inverse import LinAlgError, _mH, check_float, check_matrix
from ._linalg_triangular import trsm
from ._shape_utils import check_broadcast, sum_to_shape, type_name
from .linalg_legacy import LuFactor, _getrf, _permutation, _unpack, check_lu_input

__all__ = ["lu", "lu_solve", "tensorinv", "tensorsolve"]


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _perm(piv, m, dtype):
    """P (``(*, m, m)``) with A = P L U; the identity when there are no pivots."""
    if piv.shape[-1] == 0:
        return np.broadcast_to(np.eye(m, dtype=dtype), piv.shape[:-1] + (m, m)).copy()
    return _permutation(piv, m, dtype)


# --- lu -----------------------------------------------------------------------------------------
class LinalgLu(Op):
    """(P, L, U) with A = P L U, L unit lower (m x k), U upper (k x n), k = min(m, n)"""

    _backward_name = "LinalgLuBackward0"

    @staticmethod
    def forward(ctx, a):
        m, n = a.shape[-2:]
        if a.size == 0:  # no pivots at all (getrf's batch reshape needs a size)
            packed, piv = a.copy(), np.zeros(a.shape[:-2] + (min(m, n),), np.int32)
        else:
            packed, piv, _ = _getrf(a)
        low, up = _unpack(packed, min(m, n))
        ctx.save_for_backward(packed, piv)  # what LuFactor.backward reads
        if hasattr(ctx, "mark_non_differentiable_outputs"):  # (absent when not recording)
            ctx.mark_non_differentiable_outputs(0)
        return _perm(piv, m, a.dtype), low, up

    @staticmethod
    def backward(ctx, grad_p, grad_l, grad_u):
        packed, _ = ctx.saved_tensors
        k = min(packed.shape[-2:])
        # the gradient of the packed factors, then lu_factor's formula
        grad = np.zeros(packed.shape, packed.dtype)
        if grad_l is not None:
            grad[..., :, :k] += np.tril(grad_l, -1)
        if grad_u is not None:
            grad[..., :k, :] += np.triu(grad_u)
        return LuFactor.backward(ctx, grad)


def lu(A: Tensor, *, pivot: bool = True, out=None):  # noqa: N803
    """``(P, L, U)`` with ``A = P @ L @ U`` (``torch.linalg.lu``): partial pivoting, ``L``
    unit lower triangular ``(*, m, k)``, ``U`` upper ``(*, k, n)``, ``k = min(m, n)``;
    ``P`` is a permutation matrix of A's dtype and gets no gradient. Real or complex.

    Raises:
        RuntimeError: fewer than 2 dims, or ``pivot=False`` (not implemented on the CPU,
            as in torch).
        NotImplementedError: an integer input.
    """
    from ._out import write_out

    check_lu_input(A, pivot, "linalg.lu")
    return write_out("linalg_lu", return_types.linalg_lu(LinalgLu.apply(A)), out, (A,))


# --- lu_solve -----------------------------------------------------------------------------------
def _solve_left(low, up, perm, b, adjoint):
    """A^-1 b (or A^-H b when ``adjoint``) for A = P L U; batches broadcast."""
    if adjoint:  # A^H = U^H L^H P^T
        y = trsm(_mH(up), b, upper=False)
        return perm @ trsm(_mH(low), y, upper=True, unit=True)
    y = trsm(low, _mT(perm) @ b, upper=False, unit=True)
    return trsm(up, y, upper=True)


class LinalgLuSolve(Op):
    """X = A^-1 B, A^-H B (``adjoint``), B A^-1 or B A^-H (not ``left``), A = P L U packed in LU;
    on the left form gB = A^-H gX (A^-1 gX) and gA = -gB X^H (-X gB^H), chained to L and U"""

    _backward_name = "LinalgLuSolveBackward0"

    @staticmethod
    def forward(ctx, lu_data, b, *, piv, left, adjoint):
        n = lu_data.shape[-1]
        low, up = _unpack(lu_data, n)
        perm = _perm(piv, n, lu_data.dtype)
        adj = adjoint != (not left)  # B A^-1 = (A^-H B^H)^H
        x = _solve_left(low, up, perm, b if left else _mH(b), adj)
        x = x.astype(lu_data.dtype, copy=False)
        ctx.save_for_backward(lu_data, x)
        ctx.parts = low, up, perm, adj, left, b.shape
        return x if left else _mH(x)

    @staticmethod
    def backward(ctx, grad):
        lu_data, x = ctx.saved_tensors
        low, up, perm, adj, left, b_shape = ctx.parts
        g = grad if left else _mH(grad)
        gb = _solve_left(low, up, perm, g, not adj).astype(grad.dtype, copy=False)
        glu = None
        if ctx.needs_input_grad[0]:
            ga = -(x @ _mH(gb)) if adj else -(gb @ _mH(x))
            pga = _mT(perm) @ ga  # A = P L U: gL = tril(P^T gA U^H), gU = triu(L^H P^T gA)
            glu = sum_to_shape(np.tril(pga @ _mH(up), -1) + np.triu(_mH(low) @ pga),
                               lu_data.shape)
        gb = sum_to_shape(gb if left else _mH(gb), b_shape) if ctx.needs_input_grad[1] else None
        return glu, gb


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,  # noqa: N803
             adjoint: bool = False, out=None) -> Tensor:
    """The solution of ``A X = B`` (``X A = B`` when not ``left``; with ``A^H`` when
    ``adjoint``) for ``A`` given by ``lu_factor``'s ``(LU, pivots)``
    (``torch.linalg.lu_solve``). Batches of ``LU`` and ``B`` broadcast; ``pivots`` must have
    LU's batch shape. Differentiable in ``LU`` and ``B``.

    Raises:
        RuntimeError: torch's messages for integer or mismatched dtypes, non-int32 or
            out-of-range pivots, and shapes that do not fit.
    """
    from ._out import write_out

    name = "linalg.lu_solve"
    a, b, piv = LU._data, B._data, pivots._data
    check_float("torch.linalg.lu_solve", a, complex_ok=True)
    if b.dtype != a.dtype:
        raise RuntimeError(f"{name}: Expected LU and B to have the same dtype, but found LU of "
                           f"type {type_name(a.dtype)} and B of type {type_name(b.dtype)} "
                           "instead")
    if piv.dtype != np.int32:
        raise RuntimeError(f"{name}: pivots should be a Tensor of scalar type torch.int32")
    check_matrix("torch.linalg.lu_solve", a, floating=False)
    if a.dtype == np.float16:
        raise NotImplementedError("\"linalg.lu_solve_cpu\" not implemented for 'Half'")
    if b.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    n = a.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    if piv.ndim == 0 or piv.shape[-1] != n:
        raise RuntimeError(f"{name}: Number of pivots per batch should be same as the "
                           "dimension of the matrix")
    if piv.shape != a.shape[:-1]:
        raise RuntimeError(f"{name}: Expected LU.shape[:-1] and pivots.shape to be the same, "
                           f"but got pivots with shape {list(piv.shape)} instead")
    check_broadcast(b.shape[:-2], a.shape[:-2])
    if piv.size and piv.min() < 1:
        raise RuntimeError("Pivots given to lu_solve must all be greater or equal to 1. Did you "
                           "properly pass the result of lu_factor?")
    if piv.size and piv.max() > n:
        raise RuntimeError("Pivots given to lu_solve must all be smaller or equal to LU.size(-2)"
                           ". Did you properly pass the result of lu_factor?")
    x = LinalgLuSolve.apply(LU, B, piv=piv, left=bool(left), adjoint=bool(adjoint))
    return write_out("linalg_lu_solve", x, out, (LU, B))


# --- tensorinv, tensorsolve -----------------------------------------------------------------------
def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:  # noqa: N803
    """The inverse of ``A`` for ``tensordot`` over its first ``ind`` dims
    (``torch.linalg.tensorinv``): ``A`` reshaped to a square matrix
    ``prod(A.shape[:ind]) x prod(A.shape[ind:])``, inverted, and reshaped to
    ``A.shape[ind:] + A.shape[:ind]``; built from ember ops, so it is differentiable.

    Raises:
        TypeError: a non-integer ``ind``.
        RuntimeError: ``ind`` not positive, or the two products differ.
        LinAlgError: a singular matrix (torch's "inv: ..." message).
    """
    from . import _linalg_inverse
    from ._out import write_out

    if isinstance(ind, bool) or not isinstance(ind, (int, np.integer)):
        raise TypeError(f"linalg_tensorinv(): argument 'ind' must be int, not "
                        f"{type(ind).__name__}")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    try:
        inverse = _linalg_inverse.inv(A.reshape(rows, cols))
    except LinAlgError as e:  # torch names the kernel, not the public function, here
        raise LinAlgError(str(e).replace("linalg.inv:", "inv:", 1)) from None
    return write_out("linalg_tensorinv", inverse.reshape((*shape[ind:], *shape[:ind])), out, (A,))


def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:  # noqa: N803
    """``X`` with ``tensordot(A, X, X.ndim) = B`` (``torch.linalg.tensorsolve``): the dims in
    ``dims`` first move to the end of ``A``; then ``X`` has shape ``A.shape[B.ndim:]``, whose
    size must be ``B.numel()``, and ``A`` is solved as a square matrix of that size. Built
    from ember ops, so it is differentiable.

    Raises:
        RuntimeError: the two products differ, or torch's ``linalg.solve`` errors.
        IndexError: a dim out of range.
        TypeError: ``dims`` that is not a tuple or list.
    """
    from . import _linalg_inverse
    from ._out import write_out

    if dims is not None:
        if not isinstance(dims, (tuple, list)):
            raise TypeError(f"linalg_tensorsolve(): argument 'dims' must be tuple of ints, not "
                            f"{type(dims).__name__}")
        dims = list(dims)
        nd = A.dim()
        A = A.movedim(dims, list(range(nd - len(dims), nd)))  # noqa: N806
    rest = tuple(A.shape)[B.dim():]
    n, numel = math.prod(rest), math.prod(B.shape)
    if n != numel:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[other.ndim:]"
                           f") == prod(self.shape[:other.ndim]), but got {n} != {numel}")
    x = _linalg_inverse.solve(A.reshape(n, n), B.reshape(n))
    return write_out("linalg_tensorsolve", x.reshape(tuple(rest)), out, (A, B))
