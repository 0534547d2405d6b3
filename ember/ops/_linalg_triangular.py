"""``torch.linalg`` triangular solves and products: solve_triangular, householder_product
(``torch.orgqr``), vander, and lu_factor/lu_factor_ex (LAPACK's getrf, shared with ``ember.lu``).

The triangular solve is plain substitution, row by row over the whole batch (what LAPACK's
``trsm`` does), so a zero on the diagonal gives inf/NaN as in torch instead of raising.
"""
from __future__ import annotations

import numpy as np

from .. import _arg_errors, return_types
from .._tensor import Tensor
from ..autograd.function import Op
from ._linalg_inverse import _conj, _mH, batch_prefix, check_matrix
from ._shape_utils import check_broadcast, sum_to_shape, type_name
from .linalg_legacy import LuFactor, check_lu_input

__all__ = ["solve_triangular", "householder_product", "orgqr", "vander", "lu_factor",
           "lu_factor_ex"]


def _mT(a):
    return np.swapaxes(a, -1, -2)


# --- solve_triangular -----------------------------------------------------------------------
def trsm(t, b, *, upper, unit=False):
    """X with T X = B for the upper (lower) triangle of ``t``, batches already broadcast."""
    n = t.shape[-1]
    x = np.zeros(np.broadcast_shapes(t.shape[:-2], b.shape[:-2]) + b.shape[-2:],
                 np.result_type(t, b))
    rows = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in rows:
            part = slice(i + 1, n) if upper else slice(0, i)
            r = b[..., i, :] - np.einsum("...j,...jk->...k", t[..., i, part], x[..., part, :])
            x[..., i, :] = r if unit else r / t[..., i, i, None]
    return x


def _solve_tri(t, b, upper, left, unit):
    if left:
        return trsm(t, b, upper=upper, unit=unit)
    return _mT(trsm(_mT(t), _mT(b), upper=not upper, unit=unit))


class SolveTriangular(Op):
    """X = A^-1 B (``left``) or B A^-1 for triangular A; gB = A^-H G, gA = -gB X^H (masked)"""

    _backward_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, a, b, *, upper, left=True, unitriangular=False):
        out = _solve_tri(a, b, upper, left, unitriangular).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        ctx.options = upper, left, unitriangular
        ctx.b_shape = b.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        upper, left, unit = ctx.options
        gb = _solve_tri(_mH(a), grad, not upper, left, unit).astype(a.dtype, copy=False)
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -(gb @ _mH(out)) if left else -(_mH(out) @ gb)
            k = 1 if unit else 0
            ga = np.triu(ga, k) if upper else np.tril(ga, -k)
            ga = sum_to_shape(ga, a.shape)
        return ga, (sum_to_shape(gb, ctx.b_shape) if ctx.needs_input_grad[1] else None)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,  # noqa: N803
                     unitriangular: bool = False, out: Tensor | None = None) -> Tensor:
    """Solve ``A X = B`` (``X A = B`` with ``left=False``) for triangular ``A``
    (``torch.linalg.solve_triangular``): only the upper (``upper=True``) or lower triangle of
    ``A`` is read, its diagonal taken as ones when ``unitriangular``. Batches broadcast; ``B``
    is cast to ``A``'s dtype, as in torch. A zero on the diagonal gives inf/NaN, not an error.

    Raises:
        RuntimeError: ``A`` or ``B`` with fewer than 2 dims, ``A`` not square, shapes that do
            not fit the equation or batches that do not broadcast (torch's messages).
        NotImplementedError: integer inputs.
    """
    from ._out import write_out

    a, b = A._data, B._data
    name = "linalg.solve_triangular"
    for label, v in (("A", a), ("B", b)):
        if v.ndim < 2:
            raise RuntimeError(f"{name}: The input tensor {label} must have at least 2 "
                               "dimensions.")
    check_matrix(name, a, floating=False)  # the shape before the dtype
    if a.dtype.kind not in "fc" or a.dtype == np.float16:
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for "
                                  f"'{type_name(a.dtype)}'")
    check_matrix(name, a, complex_ok=True)
    if (b.shape[-2] if left else b.shape[-1]) != a.shape[-1]:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {eq} "
                           f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
    check_broadcast(b.shape[:-2], a.shape[:-2])  # torch names B's batch 'a'
    if b.dtype != a.dtype:
        B = B.to(A.dtype)  # noqa: N806  (torch solves in A's dtype)
    result = SolveTriangular.apply(A, B, upper=bool(upper), left=bool(left),
                                   unitriangular=bool(unitriangular))
    return write_out(name, result, out, (A, B))


# --- householder_product ----------------------------------------------------------------------
def _reflectors(a, k):
    """The Householder vectors v_i (1 at i, A's column i below it) as a ``(*, k, m)`` array."""
    m = a.shape[-2]
    v = np.triu(_mT(a[..., :, :k]), 1)
    v[..., np.arange(k), np.arange(k)] = 1
    return v.reshape(a.shape[:-2] + (k, m))


def _apply_chain(v, tau, n):
    """R_i = H_i ... H_{k-1} E for i = k..0 (E: the first n columns of I), H = I - tau v v^H."""
    m, k = v.shape[-1], v.shape[-2]
    r = np.broadcast_to(np.eye(m, n, dtype=v.dtype), v.shape[:-2] + (m, n)).copy()
    chain = [r]
    for i in range(k - 1, -1, -1):
        vi = v[..., i, :]
        r = r - tau[..., i, None, None] * vi[..., :, None] * np.einsum("...m,...mn->...n",
                                                                       _conj(vi), r)[..., None, :]
        chain.append(r)
    return chain[::-1]  # chain[i] = H_i ... H_{k-1} E; chain[0] = Q


class HouseholderProduct(Op):
    """Q = H_0 ... H_{k-1} E with H_i = I - tau_i v_i v_i^H; the gradient by the chain rule
    through each reflector: dL/dH_i = W_i R_{i+1}^H, W_i = H_{i-1}^H ... H_0^H G"""

    _backward_name = "LinalgHouseholderProductBackward0"

    @staticmethod
    def forward(ctx, a, tau):
        n, k = a.shape[-1], tau.shape[-1]
        v = _reflectors(a, k)
        chain = _apply_chain(v, tau, n)
        ctx.save_for_backward(v, tau)
        ctx.chain = chain
        ctx.a_shape = a.shape
        return chain[0]

    @staticmethod
    def backward(ctx, grad):
        v, tau = ctx.saved_tensors
        chain = ctx.chain
        k = tau.shape[-1]
        ga = np.zeros(ctx.a_shape, grad.dtype)
        gtau = np.zeros(tau.shape, grad.dtype)
        w = grad
        for i in range(k):
            vi, ri, ti = v[..., i, :], chain[i + 1], tau[..., i, None]
            p = np.einsum("...mn,...m->...n", _conj(ri), vi)  # R^H v
            q = np.einsum("...mn,...m->...n", _conj(w), vi)  # W^H v
            gtau[..., i] = -(p * _conj(q)).sum(-1)
            gv = -(_conj(ti) * np.einsum("...mn,...n->...m", w, p)
                   + ti * np.einsum("...mn,...n->...m", ri, q))
            ga[..., i + 1:, i] = gv[..., i + 1:]
            w = w - _conj(ti)[..., None] * vi[..., :, None] * _conj(q)[..., None, :]
        return ga, gtau


def householder_product(A: Tensor, tau: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The first ``n`` columns of the product of Householder reflectors
    ``H_i = I - tau_i v_i v_i^H`` (``torch.linalg.householder_product``), ``v_i`` read from
    column ``i`` of ``A`` below the diagonal with an implicit 1 on it (as ``geqrf`` stores
    them). ``A`` is ``(*, m, n)`` with ``m >= n``, ``tau`` is ``(*, k)`` with ``k <= n``.

    Raises:
        RuntimeError: shapes or dtypes that do not fit (torch's messages).
        NotImplementedError: integer inputs.
    """
    from ._out import write_out

    a, t = A._data, tau._data
    name = "torch.linalg.householder_product"
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if a.shape[-2] < a.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if a.shape[-1] < t.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if a.ndim - t.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {t.ndim} and input.ndim is equal to {a.ndim}")
    if t.shape[:-1] != a.shape[:-2]:
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(t.shape[:-1])}")
    if t.dtype != a.dtype:
        raise RuntimeError(f"{name}: tau dtype {type_name(t.dtype)} does not match input dtype "
                           f"{type_name(a.dtype)}")
    if a.dtype.kind not in "fc" or a.dtype == np.float16:
        raise NotImplementedError(f"\"orgqr_cpu\" not implemented for '{type_name(a.dtype)}'")
    return write_out("linalg_householder_product", HouseholderProduct.apply(A, tau), out,
                     (A, tau))


def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """``torch.orgqr``: an alias of :func:`householder_product`."""
    _arg_errors.check_tensors("orgqr", input=input, input2=tau)
    return householder_product(input, tau)


# --- vander -----------------------------------------------------------------------------------
def vander(x: Tensor, *, N: int | None = None) -> Tensor:  # noqa: N803  (torch's name)
    """The Vandermonde matrix ``[1, x, x^2, ..., x^(N-1)]`` along a new last dim
    (``torch.linalg.vander``; increasing powers, unlike ``torch.vander``), built as torch
    builds it (a cumprod after a column of ones), so its gradient is torch's. Integers stay
    integers.

    Raises:
        RuntimeError: a bool input, or ``N`` below 2.
    """
    import ember

    if x._data.dtype.kind not in "iufc" or x._data.dtype == np.float16:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer "
                           f"tensors, but got {type_name(x._data.dtype)}")
    x_ = x.unsqueeze(-1) if x.dim() == 0 else x
    shape = list(x_.shape)
    n = shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    powers = ember.cumprod(x_.unsqueeze(-1).expand(*shape, n - 1), -1)
    ones = powers.new_ones((*shape, 1))
    return ember.cat([ones, powers], dim=-1)


# --- lu_factor --------------------------------------------------------------------------------
def _raise_singular(name, a, info):
    flat = info.reshape(-1)
    bad = np.flatnonzero(flat)
    if bad.size:
        k, j = int(bad[0]), int(flat[bad[0]])
        raise RuntimeError(f"{name}: {batch_prefix(a, k)}U[{j},{j}] is zero and using it on "
                          "lu_solve would result in a division by zero. If you still want to "
                          "perform the factorization, consider calling linalg.lu(A, pivot) or "
                          "linalg.lu_factor_ex(A, pivot)")


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False,  # noqa: N803
                 out=None):
    """``(LU, pivots, info)``: the LU factorization with partial pivoting, ``A = P L U``
    (``torch.linalg.lu_factor_ex``; LAPACK's getrf): ``L`` (unit diagonal) and ``U`` packed
    in ``LU``, 1-based int32 ``pivots``, ``info`` the first zero pivot of ``U`` (0 if none).

    Raises:
        LinAlgError: a zero pivot when ``check_errors``.
        RuntimeError: ``pivot=False`` (as torch on the CPU), fewer than 2 dims.
    """
    from ._out import write_out

    check_lu_input(A, pivot)
    lu, piv, info = LuFactor.apply(A)
    if check_errors:
        _raise_singular("torch.linalg.lu_factor_ex", A._data, info._data)
    result = return_types.linalg_lu_factor_ex((lu, piv, info))
    return write_out("linalg_lu_factor_ex", result, out, (A,))


def lu_factor(A: Tensor, *, pivot: bool = True, out=None):  # noqa: N803
    """``(LU, pivots)`` like ``torch.linalg.lu_factor``; see :func:`lu_factor_ex`.

    Raises:
        LinAlgError: a matrix whose ``U`` has a zero on its diagonal (torch's message).
    """
    from ._out import write_out

    check_lu_input(A, pivot)
    lu, piv, info = LuFactor.apply(A)
    _raise_singular("torch.linalg.lu_factor", A._data, info._data)
    return write_out("linalg_lu_factor", return_types.linalg_lu_factor((lu, piv)), out, (A,))
