"""``torch.lobpcg``: a few extreme eigenpairs of a symmetric (generalised) eigenproblem by the
locally optimal block preconditioned conjugate gradient method.

The iteration is torch's (``torch/_lobpcg.py``, Knyazev 2001 for ``method="basic"``,
Stathopoulos and Wu 2002 / Duersch et al. 2018 for ``"ortho"``), step for step, on NumPy
arrays: the same Rayleigh-Ritz transforms, orthogonalisation, convergence test and stopping
rule, and the random start drawn with ``randn`` on the default generator as torch draws it.
Eigenvector signs come from LAPACK's ``eigh``, which may differ from torch's build.

The whole solve is one node (``LobpcgOp``). Its backward (B = I only, as torch) is the
derivative of the k computed eigenpairs of a symmetric A: the in-span part
``U (diag(gE) + (U^T gU) * F) U^T`` with ``F_ij = 1 / (d_j - d_i)``, plus, for each pair, the
solution of ``(d_j - A) w_j = P gU_j`` on the orthogonal complement of span(U) (torch solves
the same Sylvester equation through a characteristic polynomial).
"""
from __future__ import annotations

import numpy as np

from . import _dtype
from ._tensor import Tensor
from .autograd.function import Op

__all__ = ["lobpcg"]


def _mm(A, X):
    """``A @ X`` with None standing for the identity."""
    return X if A is None else A @ X


def _qform(A, S):
    return S.T @ _mm(A, S)


def _symeig(A, largest=False):
    """Eigenpairs read from the upper triangle, ascending (descending when ``largest``)."""
    E, Z = np.linalg.eigh(A, UPLO="U")
    if largest:
        E, Z = E[::-1], Z[:, ::-1]
    return E, Z


class _Worker:
    """torch's ``LOBPCG`` worker: the iteration state and its update steps."""

    def __init__(self, A, B, X, iK, iparams, fparams, bparams, method):
        self.A, self.B, self.iK, self.method = A, B, iK, method
        self.iparams, self.fparams, self.bparams = iparams, fparams, bparams
        m, n = iparams["m"], iparams["n"]
        self.X = X
        self.E = np.zeros(n, X.dtype)
        self.R = np.zeros((m, n), X.dtype)
        self.S = np.zeros((m, 3 * n), X.dtype)
        self.ivars = {"istep": 0}
        self.fvars = {}

    def run(self):
        self.update()
        while not (self.ivars["iterations_left"] == 0
                   or self.ivars["converged_count"] >= self.iparams["k"]):
            self.update()

    def update(self):
        if self.ivars["istep"] == 0:
            iX_norm = 1.0 / float(np.linalg.norm(self.X))  # noqa: N806
            self.fvars["A_norm"] = float(np.linalg.norm(_mm(self.A, self.X))) * iX_norm
            self.fvars["B_norm"] = float(np.linalg.norm(_mm(self.B, self.X))) * iX_norm
            self.ivars.update(iterations_left=self.iparams["niter"], converged_count=0,
                              converged_end=0)
        if self.method == "ortho":
            self._update_ortho()
        else:
            self._update_basic()
        self.ivars["iterations_left"] -= 1
        self.ivars["istep"] += 1

    def update_residual(self):
        self.R = _mm(self.A, self.X) - _mm(self.B, self.X) * self.E

    def update_converged_count(self):
        """Leading pairs whose backward-stable relative residual is below ``tol``."""
        prev = self.ivars["converged_count"]
        E, X, R = self.E, self.X, self.R
        rerr = np.linalg.norm(R, axis=0) / (np.linalg.norm(X, axis=0) * (
            self.fvars["A_norm"] + np.abs(E[:X.shape[-1]]) * self.fvars["B_norm"]))
        count = 0
        for ok in rerr < self.fparams["tol"]:
            if not ok:   # later pairs wait, so that the pairs converge in order
                break
            count += 1
        if count < prev:
            raise AssertionError(f"the number of converged eigenpairs (was {prev}, got "
                                 f"{count}) cannot decrease")
        self.ivars["converged_count"] = count
        return count

    def _update_basic(self):
        ns, nc = self.ivars["converged_end"], self.ivars["converged_count"]
        n, largest = self.iparams["n"], self.bparams["largest"]
        if self.ivars["istep"] == 0:
            Ri = self._rayleigh_ritz_transform(self.X)  # noqa: N806
            E, Z = _symeig(_qform(_qform(self.A, self.X), Ri), largest)
            self.X = self.X @ (Ri @ Z)
            self.E[:] = E
            n_p = 0
            self.update_residual()
            nc = self.update_converged_count()
            self.S[:, :n] = self.X
            W = _mm(self.iK, self.R)  # noqa: N806
        else:
            S_ = self.S[:, nc:ns]  # noqa: N806
            Ri = self._rayleigh_ritz_transform(S_)  # noqa: N806
            E_, Z = _symeig(_qform(_qform(self.A, S_), Ri), largest)  # noqa: N806
            self.X[:, nc:] = S_ @ (Ri @ Z[:, :n - nc])
            self.E[nc:] = E_[:n - nc]
            P = S_ @ (Ri @ Z[:, n:2 * n - nc])  # noqa: N806
            n_p = P.shape[-1]
            self.update_residual()
            nc = self.update_converged_count()
            self.S[:, :n] = self.X
            self.S[:, n:n + n_p] = P
            W = _mm(self.iK, self.R[:, nc:])  # noqa: N806
        ns = self.ivars["converged_end"] = n + n_p + W.shape[-1]
        self.S[:, n + n_p:ns] = W

    def _update_ortho(self):
        ns, nc = self.ivars["converged_end"], self.ivars["converged_count"]
        n, largest = self.iparams["n"], self.bparams["largest"]
        if self.ivars["istep"] == 0:
            Ri = self._rayleigh_ritz_transform(self.X)  # noqa: N806
            _, Z = _symeig(_qform(_qform(self.A, self.X), Ri), largest)
            # NOTE: torch leaves E at zero here, so the first residual is A X
            self.X = self.X @ (Ri @ Z)
            self.update_residual()
            n_p = 0
            nc = self.update_converged_count()
            self.S[:, :n] = self.X
            W = self._ortho(self.R, self.X)  # noqa: N806
        else:
            S_ = self.S[:, nc:ns]  # noqa: N806
            E_, Z = _symeig(_qform(self.A, S_), largest)  # noqa: N806
            self.X[:, nc:] = S_ @ Z[:, :n - nc]
            self.E[nc:] = E_[:n - nc]
            P = S_ @ (Z[:, n - nc:] @ np.linalg.qr(Z[:n - nc, n - nc:].T)[0])  # noqa: N806
            n_p = P.shape[-1]
            self.update_residual()
            nc = self.update_converged_count()
            self.S[:, :n] = self.X
            self.S[:, n:n + n_p] = P
            W = self._ortho(self.R[:, nc:], self.S[:, :n + n_p])  # noqa: N806
        ns = self.ivars["converged_end"] = n + n_p + W.shape[-1]
        self.S[:, n + n_p:ns] = W

    def _rayleigh_ritz_transform(self, S):
        """Upper-triangular ``Ri`` with ``Ri^T S^T B S Ri = I`` (a scaled Cholesky)."""
        SBS = _qform(self.B, S)  # noqa: N806
        d_row = np.diagonal(SBS) ** -0.5
        d_col = d_row.reshape(-1, 1)
        R = np.linalg.cholesky(((SBS * d_row) * d_col).T).T   # upper, from the upper triangle
        return np.linalg.solve(R.T, np.diag(d_row)).T         # Ri R = diag(d_row)

    def _svqb(self, U, drop, tau):
        """B-orthonormal columns spanning U's (Duersch's algorithm 4)."""
        if U.size == 0:
            return U
        UBU = _qform(self.B, U)  # noqa: N806
        d = np.diagonal(UBU)
        nz = np.flatnonzero(np.abs(d) != 0.0)
        if nz.size < d.size:        # exact zero columns would divide by zero below
            U = U[:, nz]
            if U.size == 0:
                return U
            UBU = _qform(self.B, U)  # noqa: N806
            d = np.diagonal(UBU)
        d_col = (d ** -0.5).reshape(-1, 1)
        E, Z = _symeig((UBU * d_col) * d_col.T)
        t = tau * np.abs(E).max()
        if drop:
            keep = np.flatnonzero(E > t)
            E, Z, d_col = E[keep], Z[:, keep], d_col[keep]
        else:
            E = np.where(E < t, t, E)
        return (U * d_col.T) @ (Z * E ** -0.5)

    def _ortho(self, U, V):
        """B-orthonormal columns spanning U's, B-orthogonal to V's (Duersch's algorithm 3;
        algorithm 6 with ``ortho_use_drop``)."""
        ip, fp = self.iparams, self.fparams
        tau_ortho, tau_drop, tau_replace = fp["ortho_tol"], fp["ortho_tol_drop"], \
            fp["ortho_tol_replace"]
        use_drop = self.bparams["ortho_use_drop"]
        BV_norm = np.linalg.norm(_mm(self.B, V))  # noqa: N806
        BU = _mm(self.B, U)  # noqa: N806
        VBU = V.T @ BU  # noqa: N806
        for _ in range(ip["ortho_i_max"]):
            U = U - V @ VBU
            drop, tau_svqb = False, tau_drop
            for _ in range(ip["ortho_j_max"]):
                if use_drop:
                    U = self._svqb(U, drop, tau_svqb)
                    drop, tau_svqb = True, tau_replace
                else:
                    U = self._svqb(U, False, tau_replace)
                if U.size == 0:     # every column of U lies in span(V)
                    return U
                BU = _mm(self.B, U)  # noqa: N806
                R_norm = np.linalg.norm(U.T @ BU - np.eye(U.shape[-1], dtype=U.dtype))  # noqa: N806
                if float(R_norm) * float(np.linalg.norm(BU) * np.linalg.norm(U)) ** -1 \
                        < tau_ortho:
                    break
            VBU = V.T @ BU  # noqa: N806
            rerr = float(np.linalg.norm(VBU)) * float(BV_norm * np.linalg.norm(U)) ** -1
            if rerr < tau_ortho:
                break
            if ip["m"] < U.shape[-1] + V.shape[-1]:
                if self.B is None:
                    raise AssertionError("B must not be None")
                raise ValueError(f"Overdetermined shape of U: #B-cols(={self.B.shape[-1]}) >= "
                                 f"#U-cols(={U.shape[-1]}) + #V-cols(={V.shape[-1]}) must hold")
        return U


def _solve(A, B, X, iK, k, n, m, niter, tol, largest, method, ortho):
    """``(E, X)`` of one matrix (X given, ``(m, n)``), by torch's iteration."""
    iparams = {"m": m, "n": n, "k": k, "niter": 1000 if niter is None else niter}
    fparams = {"tol": tol}
    bparams = {"largest": True if largest is None else largest}
    if method == "ortho":
        iparams.update(ortho[0] or {})
        fparams.update(ortho[1] or {})
        bparams.update(ortho[2] or {})
        iparams.setdefault("ortho_i_max", 3)
        iparams.setdefault("ortho_j_max", 3)
        for key in ("ortho_tol", "ortho_tol_drop", "ortho_tol_replace"):
            fparams.setdefault(key, tol)
        bparams.setdefault("ortho_use_drop", False)
    worker = _Worker(A, B, np.array(X), iK, iparams, fparams, bparams, method)
    worker.run()
    return worker.E[:k], worker.X[:, :k]


class LobpcgOp(Op):
    """(E, U) = k extreme eigenpairs of A (B, X, iK ride along, receiving no gradient)"""

    _backward_name = "LOBPCGAutogradFunctionBackward"
    handles_missing_grads = True

    @staticmethod
    def forward(ctx, a, b, x, ik, *, draw, k, n, niter, tol, largest, method, ortho):
        m = a.shape[-1]
        batch = a.shape[:-2]
        flat_a = a.reshape((-1, m, m))
        flat_b = None if b is None else b.reshape((-1, m, m))
        flat_x = None if x is None else x.reshape((-1,) + x.shape[-2:])
        es, us = [], []
        for i in range(flat_a.shape[0]):
            x_i = draw() if flat_x is None else flat_x[i]
            if tuple(x_i.shape) != (m, n):
                raise AssertionError(f"X shape mismatch: got {tuple(x_i.shape)}, expected "
                                     f"{(m, n)}")
            e, u = _solve(flat_a[i], None if flat_b is None else flat_b[i], x_i, ik, k, n, m,
                          niter, tol, largest, method, ortho)
            es.append(e)
            us.append(u)
        E = np.stack(es).reshape(batch + (k,))  # noqa: N806
        U = np.stack(us).reshape(batch + (m, k))  # noqa: N806
        if ctx.needs_input_grad:
            ctx.has_b = b is not None
            ctx.save_for_backward(a, E, U)
        return E, U

    @staticmethod
    def backward(ctx, g_e, g_u):
        a, d, u = ctx.saved_tensors
        if ctx.has_b:
            raise ValueError("lobpcg.backward does not support backward with B != I yet.")
        if not ctx.needs_input_grad[0]:
            return None, None, None, None
        g_e = np.zeros_like(d) if g_e is None else g_e
        g_u = np.zeros_like(u) if g_u is None else g_u
        return _eigenpairs_backward(a, d, u, g_e, g_u), None, None, None


def _eigenpairs_backward(a, d, u, g_e, g_u):
    """The gradient of ``k`` eigenpairs ``(d, u)`` of symmetric ``a`` (batched)."""
    ut = np.swapaxes(u, -1, -2)
    f = d[..., None, :] - d[..., :, None]                   # f[i, j] = d_j - d_i
    with np.errstate(divide="ignore"):
        f = 1.0 / f
    i = np.arange(d.shape[-1])
    f[..., i, i] = 0.0
    inner = (ut @ g_u) * f
    inner[..., i, i] += g_e
    res = u @ inner @ ut
    m, k = u.shape[-2:]
    if k == m:
        return res
    q = np.linalg.qr(u, mode="complete")[0][..., k:]        # a basis of span(u)'s complement
    qt = np.swapaxes(q, -1, -2)
    a_oo = qt @ a @ q                                       # (*, m - k, m - k)
    shifted = d[..., :, None, None] * np.eye(m - k, dtype=a.dtype) - a_oo[..., None, :, :]
    rhs = np.swapaxes(qt @ g_u, -1, -2)[..., None]          # (*, k, m - k, 1)
    w = np.linalg.solve(shifted, rhs)[..., 0]               # (*, k, m - k)
    return res + q @ np.swapaxes(w, -1, -2) @ ut


def lobpcg(A: Tensor, k: int | None = None, B: Tensor | None = None, X: Tensor | None = None,
           n: int | None = None, iK: Tensor | None = None, niter: int | None = None,  # noqa: N803
           tol: float | None = None, largest: bool | None = None, method: str | None = None,
           tracker=None, ortho_iparams: dict | None = None, ortho_fparams: dict | None = None,
           ortho_bparams: dict | None = None) -> tuple[Tensor, Tensor]:
    """The ``k`` largest (or smallest) eigenpairs of ``A x = lambda B x`` (``torch.lobpcg``).

    ``A`` (and ``B``) symmetric, dense, ``(*, m, m)``; a batch is solved matrix by matrix.

    Args:
        A: the matrix ``(*, m, m)``.
        k: eigenpairs wanted (default: ``X``'s columns, or 1).
        B: optional ``(*, m, m)``, positive definite (default: the identity).
        X: optional start ``(*, m, n)``; otherwise ``randn((m, n))`` per matrix, drawn as
            torch draws it.
        n: the block size when ``X`` is not given (default ``k``).
        iK: optional preconditioner ``(m, m)``.
        niter: maximum iterations (default 1000; -1 runs until convergence).
        tol: relative residual tolerance (default ``feps ** 0.5`` of A's dtype).
        largest: largest (default True) or smallest eigenvalues.
        method: ``"ortho"`` (default) or ``"basic"``.
        tracker: not supported: must be None.
        ortho_iparams, ortho_fparams, ortho_bparams: options of ``"ortho"`` (``ortho_i_max``,
            ``ortho_j_max``, ``ortho_tol``, ``ortho_tol_drop``, ``ortho_tol_replace``,
            ``ortho_use_drop``), as torch's.

    Returns:
        ``(E, X)``: eigenvalues ``(*, k)`` and eigenvectors ``(*, m, k)``. Differentiable in
        ``A`` when ``B`` is None (A is symmetrised as ``(A + A^T) / 2`` first, as in torch).
        Unlike torch's ``"basic"`` method, a given ``X`` is never overwritten.

    Raises:
        ValueError: ``m < 3 n``.
        AssertionError: a non-square ``A``, or ``B``/``X`` of the wrong shape (torch's).
        NotImplementedError: a ``tracker``.
    """
    from . import _creation

    if tracker is not None:
        raise NotImplementedError("lobpcg: tracker is not supported")
    if A.shape[-2] != A.shape[-1]:
        raise AssertionError(f"A must be square, got shape {A.shape}")
    if B is not None and A.shape != B.shape:
        raise AssertionError(f"A and B must have same shape, got {A.shape} vs {B.shape}")
    dtype = A.dtype if A.dtype in (_dtype.float16, _dtype.float32, _dtype.float64) \
        else _dtype.float32
    if tol is None:
        tol = {_dtype.float32: 1.2e-07, _dtype.float64: 2.23e-16}[dtype] ** 0.5
    m = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(f"LOBPCG algorithm is not applicable when the number of A rows (={m})"
                         f" is smaller than 3 x the number of requested eigenpairs (={n})")
    method = "ortho" if method is None else method
    if A.requires_grad or (B is not None and B.requires_grad):
        A = (A + A.mT) / 2              # so that A's gradient comes out symmetric
        B = (B + B.mT) / 2 if B is not None else None

    def draw():
        return _creation.randn((m, n), dtype=dtype).numpy()

    return LobpcgOp.apply(A, B, X, iK, draw=draw, k=k, n=n, niter=niter, tol=tol,
                          largest=largest, method=method,
                          ortho=(ortho_iparams, ortho_fparams, ortho_bparams))
