"""``torch.linalg.eig`` and ``torch.linalg.eigvals``: eigenvalues and eigenvectors of general
square matrices, complex even for real input (LAPACK's geev through NumPy, as torch's).

Each eigenvector has unit norm and its largest component real (LAPACK's normalisation), so
the values match torch's up to rounding and, where eigenvalues are close, their order. The
gradient is torch's ``linalg_eig_backward``; it assumes distinct eigenvalues, and a loss of
the eigenvectors must not depend on their phases (torch's check raises otherwise).
"""
from __future__ import annotations

import numpy as np

from .. import return_types
from .._tensor import Tensor
from ..autograd.function import Op
from ._linalg_factor import eig_phase_check
from ._linalg_inverse import _mH, check_matrix
from ._out import write_out
from ._shape_utils import type_name

_COMPLEX = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128,
            np.dtype(np.complex64): np.complex64, np.dtype(np.complex128): np.complex128}
_NON_FINITE = "torch.linalg.eig: input tensor should not contain infs or NaNs."


def _eig(x):
    """(eigenvalues, eigenvectors) of each matrix of ``x``, in x's complex dtype."""
    cdt = _COMPLEX[x.dtype]
    if x.size == 0:
        return np.zeros(x.shape[:-1], cdt), np.zeros(x.shape, cdt)
    if not np.isfinite(x).all():
        raise RuntimeError(_NON_FINITE)
    w, v = np.linalg.eig(x)  # real arrays when every eigenvalue of a real input is real
    return w.astype(cdt, copy=False), v.astype(cdt, copy=False)


def _eigvals(x):
    """Eigenvalues only; NaN for a matrix with a non-finite entry (torch: LAPACK's output)."""
    cdt = _COMPLEX[x.dtype]
    if x.size == 0:
        return np.zeros(x.shape[:-1], cdt)
    finite = np.isfinite(x).all(axis=(-2, -1))
    if finite.all():
        return np.linalg.eigvals(x).astype(cdt, copy=False)
    w = np.full(x.shape[:-1], np.nan, cdt)
    w[finite] = np.linalg.eigvals(x[finite])
    return w


class Eig(Op):
    """A V = V diag(L); gA = V^-H (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / conj(E)) V^H,
    E_ij = L_j - L_i (torch's linalg_eig_backward)"""

    _backward_name = "LinalgEigBackward0"
    handles_missing_grads = True  # torch's formula differs when gL or gV is absent

    @staticmethod
    def forward(ctx, x, *, eigenvectors=True):
        if not eigenvectors and not ctx.needs_input_grad:  # eigvals, nothing recorded
            return _eigvals(x)
        w, v = _eig(x)
        ctx.eigenvectors = eigenvectors
        if eigenvectors:
            ctx.save_for_backward(w, v)
            return w, v
        ctx.save_for_backward(w, v, x)  # x: where double backward finds V again
        return w

    @staticmethod
    def backward(ctx, *grads):
        w, v = ctx.saved_tensors[:2]
        gw, gv = grads if ctx.eigenvectors else (grads[0], None)
        if gw is None and gv is None:
            return (None,)
        vh = _mH(v)
        if gv is None:  # a loss of the eigenvalues only: V^-H diag(gL) V^H
            return (np.linalg.solve(vh, gw[..., :, None] * vh),)
        vhgv = vh @ gv
        diag = np.diagonal(vhgv, 0, -2, -1)
        eig_phase_check(vhgv, "linalg_eig_backward")
        # project onto the tangent space of matrices with unit-norm columns
        vhgv = vhgv - vh @ (v * diag.real[..., None, :])
        lc = w.conj()
        e = lc[..., None, :] - lc[..., :, None]
        idx = np.arange(w.shape[-1])
        e[..., idx, idx] = 1
        with np.errstate(divide="ignore", invalid="ignore"):
            ga = vhgv / e
        if gw is not None:
            ga[..., idx, idx] = gw
        return (np.linalg.solve(vh, ga @ vh),)


def _check(name, A):
    x = A._data
    if x.dtype.kind not in "fc":
        # torch asks for the complex twin of the dtype first
        raise RuntimeError(f"Unknown Complex ScalarType for {type_name(x.dtype)}")
    check_matrix(name, x, complex_ok=True)
    if x.dtype not in _COMPLEX:
        raise NotImplementedError(f'"linalg_eig_out_cpu" not implemented for '
                                  f"'{type_name(x.dtype)}'")


def eig(A: Tensor, *, out=None):
    """Eigenvalues and right eigenvectors of square matrices (``torch.linalg.eig``):
    ``A @ V = V @ diag(L)``, as the named tuple (eigenvalues, eigenvectors), both complex
    (complex64 for float32 input, complex128 for float64) even when ``A`` is real; with
    ``out`` (a pair of tensors) the results are written there.

    Eigenvectors have unit norm and are unique only up to a phase each: a loss of them must
    not depend on it (``|V|`` may, ``V.real`` may not), or backward raises torch's error.
    The gradient assumes distinct eigenvalues; a real ``A`` gets the real part.

    Raises:
        RuntimeError: fewer than 2 dims, non-square matrices, integer input, or an inf/NaN
            entry (torch's messages).
        NotImplementedError: float16 / bfloat16 input.
    """
    _check("linalg.eig", A)
    return write_out("linalg_eig", return_types.linalg_eig(Eig.apply(A)), out, (A,))


def eigvals(A: Tensor, *, out=None) -> Tensor:
    """Eigenvalues of square matrices, complex (``torch.linalg.eigvals``); differentiable
    through ``eig`` (node ``LinalgEigBackward0``).

    Differs from torch: without autograd, a matrix with an inf or NaN entry gets NaN
    eigenvalues (torch returns whatever LAPACK left); with autograd both raise.
    """
    _check("linalg.eigvals", A)
    return write_out("linalg_eigvals", Eig.apply(A, eigenvectors=False), out, (A,))
