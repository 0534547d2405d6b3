"""Randomised low-rank SVD and PCA: ``torch.svd_lowrank`` and ``torch.pca_lowrank``.

Halko, Martinsson and Tropp (2009), algorithms 4.4 and 5.1, written as torch writes them:
one Gaussian test matrix drawn with ``randn`` on the default generator (the same numbers as
torch's after the same seed), subspace iterations with a QR after every product, then the
SVD of the small projected matrix. Every step is an ember op, so gradients flow to ``A`` (and
``M``). The factors' column signs are LAPACK's, which may differ from torch's build; the
singular values and the products ``U diag(S) V^T`` do not.
"""
from __future__ import annotations

from . import _dtype
from ._tensor import Tensor

__all__ = ["svd_lowrank", "pca_lowrank"]


def _floating_dtype(A):
    """torch's ``get_floating_dtype``: A's float dtype, float32 for any other."""
    return A.dtype if A.dtype in (_dtype.float16, _dtype.float32, _dtype.float64) else \
        _dtype.float32


def _approximate_basis(A, q, niter, M):
    """``Q`` with ``q`` orthonormal columns such that ``Q Q^T (A - M)`` approximates
    ``A - M`` (``M`` may be None), never forming ``A - M``."""
    from . import _creation, linalg

    niter = 2 if niter is None else niter
    R = _creation.randn(A.shape[-1], q, dtype=A.dtype if A.is_complex() else _floating_dtype(A))
    X = A.matmul(R)
    if M is not None:
        X = X - M.matmul(R)
    Q = linalg.qr(X).Q
    for _ in range(niter):
        X = A.mH.matmul(Q)
        if M is not None:
            X = X - M.mH.matmul(Q)
        Q = linalg.qr(X).Q
        X = A.matmul(Q)
        if M is not None:
            X = X - M.matmul(Q)
        Q = linalg.qr(X).Q
    return Q


def _svd_lowrank(A, q, niter, M):
    from . import linalg

    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    if m < n:                                   # work on the tall one
        A = A.mH
        if M is not None:
            M = M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mH.matmul(A)
    if M is not None:
        B = B - Q.mH.matmul(M)
    U, S, Vh = linalg.svd(B, full_matrices=False)
    V = Vh.mH
    U = Q.matmul(U)
    if m < n:
        U, V = V, U
    return U, S, V


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2,
                M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Approximate SVD ``A ~ U diag(S) V^T`` of rank ``q`` (``torch.svd_lowrank``).

    Randomised (Halko et al. 2009, algorithm 5.1): seed the generator for repeatable results;
    the random draw is torch's, so after the same seed the subspace found is torch's.

    Args:
        A: ``(*, m, n)``.
        q: a slightly overestimated rank of ``A`` (default 6).
        niter: subspace iterations (default 2).
        M: optional mean ``(*, m, n)`` (broadcast to ``A``): the SVD is of ``A - M``.

    Returns:
        A tuple ``(U, S, V)``: ``U`` ``(*, m, q)``, ``S`` ``(*, q)``, ``V`` ``(*, n, q)``.
    """
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True,
                niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """Principal component analysis of a low-rank matrix (``torch.pca_lowrank``).

    The approximate SVD (as :func:`svd_lowrank`) of ``A`` minus its column means (when
    ``center``); the columns of ``V`` are the principal directions and
    ``S ** 2 / (m - 1)`` the variances along them.

    Args:
        A: ``(*, m, n)``: m samples of n features.
        q: a slightly overestimated rank (default ``min(6, m, n)``).
        center: subtract the column means first (default True).
        niter: subspace iterations (default 2).

    Returns:
        A tuple ``(U, S, V)`` of shapes ``(*, m, q)``, ``(*, q)``, ``(*, n, q)``.

    Raises:
        ValueError: ``q`` outside ``[0, min(m, n)]`` or a negative ``niter``.
    """
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter, None)
