"""``cholesky_inverse`` and ``cholesky_solve``: A^-1 and A^-1 B from A's Cholesky factor.

As LAPACK's ``potri``/``potrs`` under torch, the forward reads only the factor's triangle
(lower, or upper with ``upper=True``); torch's backward formulas then use the whole factor
as given, and so do these. Complex factors work as torch's: A = L L^H (U^H U), and the
formulas' transposes are conjugate transposes.
"""
from __future__ import annotations

import numpy as np

from .. import _arg_errors
from .._tensor import Tensor
from ..autograd.function import Op
from ._linalg_inverse import LinAlgError, _mH, batch_prefix, check_matrix, check_solve_inputs
from ._shape_utils import check_broadcast, type_name


def _triangle_inverse(factor, upper, name):
    """The inverse of the factor's triangle; torch's LinAlgError at a zero diagonal."""
    tri = np.triu(factor) if upper else np.tril(factor)
    if not tri.size:
        return tri
    diagonal = np.diagonal(tri, axis1=-2, axis2=-1).reshape(-1, tri.shape[-1])
    for k, d in enumerate(diagonal):
        zeros = np.flatnonzero(d == 0)
        if zeros.size:
            raise LinAlgError(f"{name}: {batch_prefix(tri, k)}The diagonal element "
                              f"{zeros[0] + 1} is zero, the inversion could not be completed "
                              "because the input matrix is singular.")
    return np.linalg.inv(tri)


class CholeskyInverse(Op):
    """Z = (L L^H)^-1 from the triangle of L; dL = -(Z (G + G^H) Z) L (upper: -U (...))"""

    @staticmethod
    def forward(ctx, factor, *, upper):
        inv = _triangle_inverse(factor, upper, "cholesky_inverse")
        # A = L L^H gives A^-1 = L^-H L^-1; A = U^H U gives U^-1 U^-H
        out = (inv @ _mH(inv) if upper else _mH(inv) @ inv).astype(factor.dtype, copy=False)
        ctx.save_for_backward(factor, out)
        ctx.upper = upper
        return out

    @staticmethod
    def backward(ctx, grad):
        factor, out = ctx.saved_tensors
        common = out @ (grad + _mH(grad)) @ out
        return -(factor @ common) if ctx.upper else -(common @ factor)


class CholeskySolve(Op):
    """X = (L L^H)^-1 B; dB = (L L^H)^-1 G, dL = -(dB X^H + X dB^H) L (upper: -U (...))"""

    @staticmethod
    def forward(ctx, b, factor, *, upper):
        lower = _mH(factor) if upper else factor  # A = L L^H either way
        with np.errstate(divide="ignore", invalid="ignore"):
            out = _substitute(_substitute(b, lower, forward=True), _mH(lower), forward=False)
        out = out.astype(b.dtype, copy=False)
        ctx.save_for_backward(factor, out)
        ctx.upper, ctx.b_shape = upper, b.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        factor, out = ctx.saved_tensors
        grad_b = CholeskySolve.forward(ctx, grad, factor, upper=ctx.upper)
        grad_factor = None
        if ctx.needs_input_grad[1]:
            common = grad_b @ _mH(out)
            common = common + _mH(common)
            grad_factor = -(factor @ common) if ctx.upper else -(common @ factor)
            grad_factor = _sum_to_batch(grad_factor, factor.shape)
        return _sum_to_batch(grad_b, ctx.b_shape), grad_factor


def _substitute(b, tri, forward):
    """Solve ``tri @ x = b`` by substitution, row by row as LAPACK's ``trsm``: a zero on
    the diagonal gives infinities and NaNs, not an error (torch's ``cholesky_solve``)."""
    n = tri.shape[-1]
    batch = np.broadcast_shapes(b.shape[:-2], tri.shape[:-2])
    tri = np.broadcast_to(tri, batch + tri.shape[-2:])
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=np.result_type(b, tri))
    rows = range(n) if forward else range(n - 1, -1, -1)
    for i in rows:
        done = slice(0, i) if forward else slice(i + 1, n)
        known = np.einsum("...j,...jk->...k", tri[..., i, done], x[..., done, :])
        x[..., i, :] = (x[..., i, :] - known) / tri[..., i, i, None]
    return x


def _sum_to_batch(g, shape):
    """A gradient over the broadcast batch summed back to an input's batch shape."""
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape[:-2]) if s == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def _not_integer(name, x):
    if x.dtype.kind not in "fc" or x.dtype == np.float16:  # LAPACK has no float16
        raise NotImplementedError(f"\"{name}\" not implemented for '{type_name(x.dtype)}'")


def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """Inverse of A = L L^T (``upper``: U^T U) from its Cholesky factor, as
    ``torch.cholesky_inverse``: only the factor's triangle is read.

    Raises:
        RuntimeError: fewer than 2 dims or non-square matrices; ``LinAlgError`` for a zero on
            the factor's diagonal.
        NotImplementedError: an integer or bool factor.
    """
    _arg_errors.check_bool("cholesky_inverse", "upper", 2, upper)
    x = input._data
    check_matrix("cholesky_inverse", x, floating=False)  # the shape before the dtype
    _not_integer("cholesky_inverse_out_cpu", x)
    return CholeskyInverse.apply(input, upper=bool(upper))


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False) -> Tensor:
    """Solve A X = B given B (``input``) and A's Cholesky factor (``input2``), as
    ``torch.cholesky_solve``: batch dims broadcast; only the factor's triangle is read.

    Raises:
        RuntimeError: B with fewer than 2 dims, a non-square factor, sizes or dtypes that
            differ; ``LinAlgError`` for a zero on the factor's diagonal.
        NotImplementedError: integer or bool inputs.
    """
    _arg_errors.check_tensors("cholesky_solve", input=input, input2=input2)
    _arg_errors.check_bool("cholesky_solve", "upper", 3, upper)
    b, a = input._data, input2._data
    check_broadcast(b.shape[:-2], a.shape[:-2])  # torch's error when the batches differ
    if b.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b.ndim} dimensions "
                           "instead")
    if a.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {a.ndim} dimensions "
                           "instead")
    check_solve_inputs("cholesky_solve", b, a)
    _not_integer("cholesky_solve_cpu", b)
    return CholeskySolve.apply(input, input2, upper=bool(upper))
