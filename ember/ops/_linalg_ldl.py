"""``torch.linalg.ldl_factor``/``ldl_factor_ex``/``ldl_solve`` for symmetric matrices, real or
complex, and complex Hermitian ones (``hermitian=True``).

The factorization is LAPACK's ``sytf2`` (``hetf2`` for Hermitian matrices) with ``uplo='L'``
(Bunch-Kaufman diagonal pivoting, ``alpha = (1 + sqrt(17)) / 8``, complex entries measured as
``|Re| + |Im|``), run matrix by matrix: ``P A P^T = L D L^T`` (``L D L^H``) with ``L`` unit
lower triangular and ``D`` block diagonal with 1x1 and 2x2 blocks. ``LD`` packs ``D`` on (and,
for a 2x2 block, just below) the diagonal and ``L`` below it; the upper triangle is zero, as
torch returns it. Pivots are LAPACK's: 1-based, ``k`` (positive) for a 1x1 block whose row and
column were swapped with ``k``, the same negative ``-k`` twice for a 2x2 block.

torch calls ``sytrf`` (``hetrf``), which for matrices of more than one block (64 columns,
usually) runs a blocked variant (``lasyf``, ``lahef``) that makes the same pivot choices but
sums in another order, so ``LD`` agrees with torch's to rounding and its pivots exactly, up to
ties (equal magnitudes) and choices that rounding flips. ``ldl_solve`` is LAPACK's ``sytrs``
(``hetrs``) and reads any valid ``(LD, pivots)``, torch's included. None of them has a
gradient, as in torch.
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np

from .. import return_types
from .._tensor import Tensor
from ..autograd.function import Op
from ._linalg_inverse import check_matrix
from ._shape_utils import check_broadcast, type_name
from .linalg_legacy import pivot_size

__all__ = ["ldl_factor", "ldl_factor_ex", "ldl_solve"]

_ALPHA = (1 + math.sqrt(17.0)) / 8


def _bunch_kaufman(a, k, diag):
    """Bunch-Kaufman's choice at column ``k`` of the lower triangle ``a``: ``(kp, 1)`` for a
    1x1 pivot with row/column ``kp`` swapped into ``k``, ``(kp, 2)`` for a 2x2 pivot with
    ``kp`` swapped into ``k + 1``, None for a zero (or NaN) column. ``diag`` measures a
    diagonal entry; the others are measured as LAPACK does (``pivot_size``)."""
    n = a.shape[0]
    absakk = diag(a[k, k])
    if k + 1 < n:
        imax = k + 1 + int(np.argmax(pivot_size(a[k + 1:, k])))
        colmax = pivot_size(a[imax, k])
    else:
        imax, colmax = k, 0.0
    if max(absakk, colmax) == 0 or np.isnan(absakk):
        return None
    if absakk >= _ALPHA * colmax:
        return k, 1
    # the largest off-diagonal entry in row/column imax
    rowmax = np.max(pivot_size(a[imax, k:imax]))
    if imax + 1 < n:
        rowmax = max(rowmax, np.max(pivot_size(a[imax + 1:, imax])))
    if absakk >= _ALPHA * colmax * (colmax / rowmax):
        return k, 1
    if diag(a[imax, imax]) >= _ALPHA * rowmax:
        return imax, 1
    return imax, 2


def sytf2_lower(a):
    """(LD, 1-based pivots, info) of one symmetric (real or complex) matrix from its lower
    triangle: ``A = P L D L^T P^T``."""
    a = np.tril(a).astype(a.dtype, copy=True)
    n = a.shape[0]
    piv = np.zeros(n, np.int32)
    info = 0
    k = 0
    while k < n:
        choice = _bunch_kaufman(a, k, pivot_size)
        if choice is None:
            info = info or k + 1  # a zero column: nothing to eliminate, go on
            piv[k] = k + 1
            k += 1
            continue
        kp, kstep = choice
        kk = k + kstep - 1
        if kp != kk:  # swap rows and columns kk and kp of the trailing lower triangle
            a[kp + 1:, [kk, kp]] = a[kp + 1:, [kp, kk]]
            seg = a[kk + 1:kp, kk].copy()
            a[kk + 1:kp, kk] = a[kp, kk + 1:kp]
            a[kp, kk + 1:kp] = seg
            a[kk, kk], a[kp, kp] = a[kp, kp], a[kk, kk]
            if kstep == 2:
                a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]
        if kstep == 1:
            if k + 1 < n:
                d11 = 1 / a[k, k]
                x = a[k + 1:, k].copy()
                a[k + 1:, k + 1:] -= np.tril(d11 * np.outer(x, x))
                a[k + 1:, k] = x * d11
            piv[k] = kp + 1
        else:
            if k + 2 < n:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1 / (d11 * d22 - 1)
                d21 = t / d21
                c0, c1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
                wk = d21 * (d11 * c0 - c1)
                wkp1 = d21 * (d22 * c1 - c0)
                a[k + 2:, k + 2:] -= np.tril(np.outer(c0, wk) + np.outer(c1, wkp1))
                a[k + 2:, k], a[k + 2:, k + 1] = wk, wkp1
            piv[k] = piv[k + 1] = -(kp + 1)
        k += kstep
    return a, piv, info


def hetf2_lower(a):
    """(LD, 1-based pivots, info) of one complex Hermitian matrix from its lower triangle
    (LAPACK's ``hetf2``): ``A = P L D L^H P^T`` with ``D`` Hermitian. Only the real part of
    A's diagonal is read, and D's diagonal comes out real."""
    a = np.tril(a).astype(a.dtype, copy=True)
    n = a.shape[0]
    piv = np.zeros(n, np.int32)
    info = 0
    k = 0
    while k < n:
        choice = _bunch_kaufman(a, k, lambda x: abs(x.real))
        if choice is None:
            info = info or k + 1
            a[k, k] = a[k, k].real
            piv[k] = k + 1
            k += 1
            continue
        kp, kstep = choice
        kk = k + kstep - 1
        if kp != kk:  # the swap of sytf2; what crosses the diagonal is conjugated
            a[kp + 1:, [kk, kp]] = a[kp + 1:, [kp, kk]]
            seg = a[kk + 1:kp, kk].conj()
            a[kk + 1:kp, kk] = a[kp, kk + 1:kp].conj()
            a[kp, kk + 1:kp] = seg
            a[kp, kk] = np.conj(a[kp, kk])
            a[kk, kk], a[kp, kp] = a[kp, kp].real, a[kk, kk].real
            if kstep == 2:
                a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]
        a[k, k] = a[k, k].real
        a[kk, kk] = a[kk, kk].real
        rest = np.arange(k + kstep, n)
        if kstep == 1:
            if k + 1 < n:
                r1 = 1 / a[k, k].real
                x = a[k + 1:, k].copy()
                a[k + 1:, k + 1:] -= np.tril(r1 * np.outer(x, x.conj()))
                a[k + 1:, k] = x * r1
            piv[k] = kp + 1
        else:
            if k + 2 < n:
                d = abs(a[k + 1, k])
                d11, d22 = a[k + 1, k + 1].real / d, a[k, k].real / d
                d21 = a[k + 1, k] / d
                d = 1 / (d11 * d22 - 1) / d
                c0, c1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
                wk = d * (d11 * c0 - d21 * c1)
                wkp1 = d * (d22 * c1 - np.conj(d21) * c0)
                a[k + 2:, k + 2:] -= np.tril(np.outer(c0, wk.conj()) + np.outer(c1, wkp1.conj()))
                a[k + 2:, k], a[k + 2:, k + 1] = wk, wkp1
            piv[k] = piv[k + 1] = -(kp + 1)
        a[rest, rest] = a[rest, rest].real
        k += kstep
    return a, piv, info


def sytrs_lower(ld, piv, b, hermitian=False):
    """X with A X = B for A = P L D L^T P^T given as ``sytf2``'s (LD, pivots); with
    ``hermitian``, A = P L D L^H P^T from ``hetf2`` (LAPACK's ``hetrs``: only the real part
    of a 1x1 block of D is read)."""
    conj = np.conj if hermitian else (lambda x: x)
    b = b.copy()
    n = ld.shape[0]
    k = 0
    while k < n:  # L D Y = P^T B
        if piv[k] > 0:
            kp = piv[k] - 1
            b[[k, kp]] = b[[kp, k]]
            b[k + 1:] -= np.outer(ld[k + 1:, k], b[k])
            b[k] = b[k] / (ld[k, k].real if hermitian else ld[k, k])
            k += 1
        else:
            kp = -piv[k] - 1
            b[[k + 1, kp]] = b[[kp, k + 1]]
            b[k + 2:] -= np.outer(ld[k + 2:, k], b[k]) + np.outer(ld[k + 2:, k + 1], b[k + 1])
            akm1k = ld[k + 1, k]
            akm1, ak = ld[k, k] / conj(akm1k), ld[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1
            bkm1, bk = b[k] / conj(akm1k), b[k + 1] / akm1k
            b[k], b[k + 1] = (ak * bkm1 - bk) / denom, (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:  # L^T P^T X = Y (L^H with hermitian)
        if piv[k] > 0:
            b[k] -= conj(ld[k + 1:, k]) @ b[k + 1:]
            kp = piv[k] - 1
            b[[k, kp]] = b[[kp, k]]
            k -= 1
        else:
            b[k] -= conj(ld[k + 1:, k]) @ b[k + 1:]
            b[k - 1] -= conj(ld[k + 1:, k - 1]) @ b[k + 1:]
            kp = -piv[k] - 1
            b[[k, kp]] = b[[kp, k]]
            k -= 2
    return b


class _NoDerivative(Op):
    """Forward only: backward raises torch's "derivative for aten::<name> is not implemented"."""

    _backward_name = "NotImplemented"

    @staticmethod
    def forward(ctx, *arrays, fn, name):
        ctx.aten = name
        return fn(*arrays)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for aten::{ctx.aten} is not implemented")


def _factor(a, hermitian=False):
    run = hetf2_lower if hermitian and a.dtype.kind == "c" else sytf2_lower
    flat = a.reshape((math.prod(a.shape[:-2]),) + a.shape[-2:])
    ld = np.empty_like(flat)
    piv = np.empty(flat.shape[:-1], np.int32)
    info = np.empty(flat.shape[0], np.int32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, m in enumerate(flat):
            ld[i], piv[i], info[i] = run(m)
    return ld.reshape(a.shape), piv.reshape(a.shape[:-1]), info.reshape(a.shape[:-2])


def _check_factor(name, A, hermitian):
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    check_matrix(name, a, complex_ok=True)


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False,  # noqa: N803
                  out=None):
    """``(LD, pivots, info)``: the LDL^T factorization of symmetric matrices with
    Bunch-Kaufman pivoting (``torch.linalg.ldl_factor_ex``), read from the lower triangle;
    ``info`` is the 1-based index of the first zero pivot (``D`` singular), 0 if none. A
    complex matrix is taken as symmetric (``A = P L D L^T P^T``), or as Hermitian with
    ``hermitian=True`` (``A = P L D L^H P^T``, the diagonal's imaginary part ignored); for
    real input ``hermitian`` changes nothing. See the module docstring for how ``LD`` and
    ``pivots`` compare with torch's.

    Raises:
        RuntimeError: non-square or integer input; with ``check_errors``, a singular ``D``.
    """
    from ._out import write_out

    _check_factor("torch.linalg.ldl_factor_ex", A, hermitian)
    ld, piv, info = _NoDerivative.apply(A, fn=partial(_factor, hermitian=bool(hermitian)),
                                        name="linalg_ldl_factor_ex")
    if check_errors:
        _raise_info("torch.linalg.ldl_factor_ex", info._data)
    result = return_types.linalg_ldl_factor_ex((ld, piv, info))
    return write_out("linalg_ldl_factor_ex", result, out, (A,))


def _raise_info(name, info):
    bad = info[info != 0]
    if bad.size:
        # NOTE: torch 2.x reports this through an internal assert with these words
        raise RuntimeError(f"{name}: Unknown error code: {int(bad.reshape(-1)[0])}.")


def ldl_factor(A: Tensor, *, hermitian: bool = False, out=None):  # noqa: N803
    """``(LD, pivots)`` like ``torch.linalg.ldl_factor``; see :func:`ldl_factor_ex`.

    Raises:
        RuntimeError: as :func:`ldl_factor_ex` with ``check_errors=True``.
    """
    from ._out import write_out

    _check_factor("torch.linalg.ldl_factor_ex", A, hermitian)
    ld, piv, info = _NoDerivative.apply(A, fn=partial(_factor, hermitian=bool(hermitian)),
                                        name="linalg_ldl_factor_ex")
    _raise_info("torch.linalg.ldl_factor", info._data)
    return write_out("linalg_ldl_factor", return_types.linalg_ldl_factor((ld, piv)), out, (A,))


def _solve(ld, piv, b, hermitian=False):
    hermitian = hermitian and ld.dtype.kind == "c"
    batch = np.broadcast_shapes(ld.shape[:-2], piv.shape[:-1], b.shape[:-2])
    ld = np.broadcast_to(ld, batch + ld.shape[-2:]).reshape((-1,) + ld.shape[-2:])
    piv = np.broadcast_to(piv, batch + piv.shape[-1:]).reshape((-1,) + piv.shape[-1:])
    out = np.broadcast_to(b, batch + b.shape[-2:]).reshape((-1,) + b.shape[-2:]).copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(out.shape[0]):
            out[i] = sytrs_lower(ld[i], piv[i], out[i], hermitian)
    return out.reshape(batch + b.shape[-2:])


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False,  # noqa: N803
              out=None) -> Tensor:
    """The solution ``X`` of ``A X = B`` for ``A`` given by :func:`ldl_factor`'s
    ``(LD, pivots)`` (``torch.linalg.ldl_solve``; LAPACK's sytrs, or hetrs for complex
    ``LD`` with ``hermitian=True``, which must match how it was factored). Batches
    broadcast.

    Raises:
        RuntimeError: shapes, dtypes or pivots that do not fit (torch's messages).
        IndexError: a 1-D ``B``.
    """
    from ._out import write_out

    ld, piv, b = LD._data, pivots._data, B._data
    name = "torch.linalg.ldl_solve"
    if ld.ndim < 2:
        raise RuntimeError(f"{name}: LD must have at least 2 dimensions, but it has "
                           f"{ld.ndim} dimensions.")
    if b.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{b.ndim}, "
                         f"{b.ndim - 1}], but got -2)")
    check_matrix(name, ld, complex_ok=True)
    if piv.dtype != np.int32:
        raise RuntimeError(f"{name}: Expected pivots to be integers. Got {type_name(piv.dtype)}")
    if b.dtype != ld.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{type_name(b.dtype)} and A of type {type_name(ld.dtype)} instead.")
    if piv.shape[-1:] != ld.shape[-1:] or piv.shape[:-1] != ld.shape[:-2]:
        raise RuntimeError(f"{name}: LD.shape[:-1] must be equal to pivots.shape")
    if b.shape[-2] != ld.shape[-1]:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation AX = B "
                           f"({ld.shape[-2]}x{ld.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
    check_broadcast(b.shape[:-2], ld.shape[:-2])
    result = _NoDerivative.apply(LD, pivots, B, fn=partial(_solve, hermitian=bool(hermitian)),
                                 name="linalg_ldl_solve")
    return write_out("linalg_ldl_solve", result, out, (LD, B))
