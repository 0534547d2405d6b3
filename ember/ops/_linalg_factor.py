"""``torch.linalg`` decompositions: cholesky, qr, svd/svdvals, eigh/eigvalsh, matrix_exp.

Backward formulas are torch's (``FunctionsManual.cpp``), for real and complex inputs (the
transposes of the real formulas are conjugate transposes): they assume distinct singular
values / eigenvalues, and give inf or NaN otherwise, as torch does. For complex inputs,
singular vectors and eigenvectors are defined only up to a phase each, and a loss that
depends on those phases raises torch's error in backward.
"""
from __future__ import annotations

import numpy as np

from .. import return_types
from .._tensor import Tensor, _wrap
from ..autograd.function import Op
from ._linalg_inverse import LinAlgError, _mH, batch_prefix, check_matrix, real_dtype


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _solve_right_t(r, b):
    """X with X R^H = B (R^T for real R): the right solve torch does with
    ``solve_triangular``."""
    return _mH(np.linalg.solve(r, _mH(b)))


# --- cholesky -----------------------------------------------------------------------------
def _not_pd_order(m):
    """Order of the first leading minor of ``m`` that is not positive-definite (0 if none)."""
    for order in range(1, m.shape[-1] + 1):
        try:
            np.linalg.cholesky(m[:order, :order])
        except np.linalg.LinAlgError:
            return order
    return 0


def _cholesky(x, upper, name):
    """(factor, info per matrix); ``upper`` reads the upper triangle, as potrf('U') does.

    With a ``name``, a matrix that is not positive-definite raises torch's error; without,
    its factor is NaN and its info the order of the failing minor."""
    a = _mT(x) if upper else x
    info = np.zeros(a.shape[:-2], np.int32)
    try:
        low = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        flat = a.reshape((-1,) + a.shape[-2:])
        low = np.full_like(flat, np.nan)
        flat_info = info.reshape(-1)
        for k, m in enumerate(flat):
            order = _not_pd_order(m)
            if order and name is not None:
                raise LinAlgError(f"{name}: {batch_prefix(x, k)}The factorization could not be "
                                  "completed because the input is not positive-definite (the "
                                  f"leading minor of order {order} is not positive-definite)."
                                  ) from None
            flat_info[k] = order
            if not order:
                low[k] = np.linalg.cholesky(m)
        low = low.reshape(a.shape)
    return (np.ascontiguousarray(_mT(low)) if upper else low), info


class Cholesky(Op):
    """A = L L^H; gA = L^-H Phi(L^H gL) L^-1, symmetrised (torch's cholesky_backward)"""

    _backward_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, x, *, upper=False, name="linalg.cholesky", node=None):
        # an empty input of any shape (torch.cholesky lets non-square ones through) is its
        # own factor
        out = x.copy() if x.size == 0 else _cholesky(x, upper, name)[0]
        if node:
            ctx.show_as(node)
        ctx.upper = upper
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        if out.size == 0:
            return np.zeros_like(grad)
        low, gl = (_mH(out), _mH(grad)) if ctx.upper else (out, grad)
        phi = np.tril(_mH(low) @ gl)
        phi = 0.5 * (phi + _mH(np.tril(phi, -1)))
        ga = np.linalg.solve(_mH(low), phi)  # L^-H Phi
        return _mT(np.linalg.solve(_mT(low), _mT(ga)))  # (L^-H Phi) L^-1


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """Cholesky factor L (lower, or L^H with ``upper=True``) of symmetric (complex: Hermitian)
    positive-definite matrices (``torch.linalg.cholesky``); only the lower (upper) triangle of
    ``A`` is read.

    Raises:
        LinAlgError: when a matrix is not positive-definite (naming the failing minor).
    """
    check_matrix("linalg.cholesky", A._data, complex_ok=True)
    return Cholesky.apply(A, upper=upper)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):
    """(L, info) like ``torch.linalg.cholesky_ex``; ``info`` is the order of the first leading
    minor that is not positive-definite (0 if none). Differs from torch: a failed factor is
    NaN (torch's holds LAPACK's partial result)."""
    check_matrix("linalg.cholesky", A._data, complex_ok=True)  # torch's name in messages
    name = "linalg.cholesky" if check_errors else None
    _, info = _cholesky(A._data, upper, None)
    return return_types.linalg_cholesky_ex((Cholesky.apply(A, upper=upper, name=name), _wrap(info)))


# --- qr -----------------------------------------------------------------------------------
_QR_MODES = ("reduced", "complete", "r")


class Qr(Op):
    """A = QR; torch's linalg_qr_backward (m >= n, or reduced m < n; ^H for complex)"""

    _backward_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, x, *, mode="reduced"):
        if mode == "r":
            r = np.linalg.qr(x, mode="r")
            q = np.zeros((0,), x.dtype)
        else:
            q, r = np.linalg.qr(x, mode=mode)
        ctx.mode = mode
        ctx.save_for_backward(q, r)
        return np.ascontiguousarray(q), np.ascontiguousarray(r)

    @staticmethod
    def backward(ctx, gq, gr):
        q, r = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        mh = gr @ _mH(r) - _mH(q) @ gq
        if m >= n:
            sym = np.triu(mh)
            sym = sym + _mH(sym)  # its diagonal is real (2 Re), halved below
            idx = np.arange(sym.shape[-1])
            sym[..., idx, idx] *= 0.5
            return _solve_right_t(r, q @ sym + gq)
        skew = np.tril(_mH(mh) - mh)
        if skew.dtype.kind == "c":  # the diagonal is -2i Im(diag mh): halved, as torch's
            idx = np.arange(m)
            skew[..., idx, idx] *= 0.5
        lead = _solve_right_t(r[..., :m], q @ skew)
        out = np.concatenate([lead, np.zeros(lead.shape[:-1] + (n - m,), lead.dtype)], -1)
        return out + q @ gr


def qr(A: Tensor, mode: str = "reduced"):
    """QR decomposition (``torch.linalg.qr``): mode 'reduced' (Q is m x k), 'complete'
    (Q is m x m) or 'r' (R only; Q is an empty tensor). Signs are LAPACK's, as in torch."""
    check_matrix("linalg.qr", A._data, square=False, complex_ok=True)
    if mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    return return_types.linalg_qr(Qr.apply(A, mode=mode))


# --- svd ----------------------------------------------------------------------------------
_SVD_PHASE = ("svd_backward: The singular vectors in the complex case are specified up to "
              "multiplication by e^{i phi}. The specified loss function depends on this phase "
              "term, making it ill-defined.")


def _svd_phase_check(uhgu, vhgv, s):
    """torch's check that a loss of complex singular vectors ignores their phases."""
    zero = np.zeros(s.shape)
    im_u = zero if uhgu is None else np.diagonal(uhgu, 0, -2, -1).imag
    im_v = zero if vhgv is None else np.diagonal(vhgv, 0, -2, -1).imag
    if not np.allclose(im_u, -im_v, rtol=1e-2, atol=1e-2):
        raise RuntimeError(_SVD_PHASE)


def _svd_backward(u, s, vh, gu, gs, gvh):
    """torch's svd_backward for the reduced factors; ``gu``/``gvh`` may be None."""
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:
        return (u * gs[..., None, :]) @ vh
    s2 = s * s
    e = s2[..., None, :] - s2[..., :, None]  # E_jk = s_k^2 - s_j^2
    idx = np.arange(s.shape[-1])
    e[..., idx, idx] = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        uhgu = vhgv = None
        if gu is not None:
            uhgu = _mH(u) @ gu
            uhgu = uhgu - _mH(uhgu)
        if gvh is not None:
            vhgv = vh @ _mH(gvh)
            vhgv = vhgv - _mH(vhgv)
        complex_ = u.dtype.kind == "c"
        if complex_:
            _svd_phase_check(uhgu, vhgv, s)
        if gu is not None and gvh is not None:
            ga = (uhgu * s[..., None, :] + s[..., :, None] * vhgv) / e
        elif gu is not None:
            ga = (uhgu / e) * s[..., None, :]
        else:
            ga = s[..., :, None] * (vhgv / e)
        if complex_:  # torch adds to the (imaginary) diagonal the formula left there
            ga[..., idx, idx] += gs
            if gu is not None and gvh is not None:
                ga[..., idx, idx] += np.diagonal(uhgu, 0, -2, -1) / (2 * s)
        else:
            ga[..., idx, idx] = gs
        if m > n and gu is not None:
            ga = u @ ga
            gus = gu / s[..., None, :]
            ga = (ga + gus - u @ (_mH(u) @ gus)) @ vh
        elif m < n and gvh is not None:
            ga = ga @ vh
            sgv = gvh / s[..., :, None]
            ga = u @ (ga + sgv - (sgv @ _mH(vh)) @ vh)
        else:
            ga = u @ (ga @ vh)
    return ga


class Svd(Op):
    """A = U diag(S) Vh; torch's svd_backward (full factors are narrowed to k first)"""

    _backward_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, x, *, full_matrices=True, compute_uv=True):
        k = min(x.shape[-2:])
        if not compute_uv:  # the values alone (LAPACK's, with or without recording)
            s = np.linalg.svd(x, compute_uv=False).astype(real_dtype(x.dtype), copy=False)
            if ctx.needs_input_grad:
                u, _, vh = np.linalg.svd(x, full_matrices=False)
                ctx.compute_uv = False
                ctx.save_for_backward(u, s, vh)
            return s
        u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
        ctx.compute_uv = True
        ctx.save_for_backward(u[..., :k], s, vh[..., :k, :])
        return np.ascontiguousarray(u), s, np.ascontiguousarray(vh)

    @staticmethod
    def backward(ctx, *grads):
        u, s, vh = ctx.saved_tensors
        if not ctx.compute_uv:
            return _svd_backward(u, s, vh, None, grads[0], None).astype(u.dtype, copy=False)
        gu, gs, gvh = grads
        k = s.shape[-1]
        gu, gvh = gu[..., :k], gvh[..., :k, :]
        # zeros from the engine stand for "no gradient": take torch's cheaper branches
        gu = gu if gu.any() else None
        gvh = gvh if gvh.any() else None
        return _svd_backward(u, s, vh, gu, gs, gvh).astype(u.dtype, copy=False)


def svd(A: Tensor, full_matrices: bool = True):
    """Singular value decomposition ``A = U diag(S) Vh`` (``torch.linalg.svd``), S descending.

    The gradient assumes distinct singular values (torch's formula: inf/NaN otherwise) and
    uses only the first k = min(m, n) columns of U and rows of Vh when ``full_matrices``."""
    check_matrix("linalg.svd", A._data, square=False, complex_ok=True)
    return return_types.linalg_svd(Svd.apply(A, full_matrices=full_matrices))


def svdvals(A: Tensor) -> Tensor:
    """Singular values, descending (``torch.linalg.svdvals``)."""
    check_matrix("linalg.svd", A._data, square=False, complex_ok=True)
    return Svd.apply(A, full_matrices=False, compute_uv=False)


# --- eigh ---------------------------------------------------------------------------------
_EIG_PHASE = ("{}: The eigenvectors in the complex case are specified up to multiplication "
              "by e^{{i phi}}. The specified loss function depends on this quantity, so it is "
              "ill-defined.")


def eig_phase_check(vhgv, name):
    """torch's check that a loss of complex eigenvectors ignores their phases:
    Im(diag(V^H gV)) = 0."""
    im = np.diagonal(vhgv, 0, -2, -1).imag
    if not np.allclose(im, 0, rtol=1e-2, atol=1e-2):
        raise RuntimeError(_EIG_PHASE.format(name))


class Eigh(Op):
    """A = V diag(L) V^H for Hermitian A; gA = V (skew(V^H gV) / E + diag(gL)) V^H"""

    _backward_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, x, *, UPLO="L", eigenvectors=True):  # noqa: N803  (torch's name)
        w, v = np.linalg.eigh(x, UPLO=UPLO)  # eigvalsh too: the same values either way
        ctx.eigenvectors = eigenvectors
        ctx.save_for_backward(w, v)
        return (w, np.ascontiguousarray(v)) if eigenvectors else w

    @staticmethod
    def backward(ctx, *grads):
        w, v = ctx.saved_tensors
        gw, gv = grads if ctx.eigenvectors else (grads[0], None)
        if gv is None or not gv.any():
            return (v * gw[..., None, :]) @ _mH(v)
        vhgv = _mH(v) @ gv
        if vhgv.dtype.kind == "c":
            eig_phase_check(vhgv, "linalg_eigh_backward")
        vhgv = 0.5 * (vhgv - _mH(vhgv))
        e = w[..., None, :] - w[..., :, None]
        idx = np.arange(w.shape[-1])
        e[..., idx, idx] = 1
        with np.errstate(divide="ignore", invalid="ignore"):
            ga = vhgv / e
        ga[..., idx, idx] = gw
        return v @ ga @ _mH(v)


def _check_eigh(name, A, UPLO):  # noqa: N803
    x = A._data
    check_matrix(name, x, floating=False)  # the shape first
    if x.dtype.kind not in "fc" or x.dtype == np.float16:
        raise NotImplementedError(f'"linalg_eigh_cpu" not implemented for '
                                  f"'{_type(x.dtype)}'")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def _type(dtype):
    from ._shape_utils import type_name

    return type_name(dtype)


def eigh(A: Tensor, UPLO: str = "L"):  # noqa: N803  (torch's name)
    """Eigenvalues (ascending, real) and eigenvectors of symmetric (complex: Hermitian)
    matrices (``torch.linalg.eigh``), reading the lower (``UPLO='L'``) or upper triangle.
    Eigenvector signs (phases) are LAPACK's; the gradient assumes distinct eigenvalues
    (inf/NaN otherwise, as torch) and, for complex input, a loss that ignores the phases."""
    _check_eigh("linalg.eigh", A, UPLO)
    return return_types.linalg_eigh(Eigh.apply(A, UPLO=UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    """Eigenvalues, ascending, of symmetric matrices (``torch.linalg.eigvalsh``)."""
    _check_eigh("linalg.eigh", A, UPLO)
    return Eigh.apply(A, UPLO=UPLO, eigenvectors=False)


# --- matrix_exp ---------------------------------------------------------------------------
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)


def _expm(a):
    """exp(A) by scaling and squaring with a degree-13 Pade approximant (in float64, or
    complex128)."""
    a = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    n = a.shape[-1]
    if a.size == 0:
        return a
    norm = np.abs(a).sum(-2).max()
    s = max(0, int(np.ceil(np.log2(norm / 5.371920351148152)))) if norm > 0 else 0
    a = a / 2.0 ** s
    b = _PADE13
    eye = np.eye(n)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    r = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r


class MatrixExp(Op):
    """Z = exp(A); gA = the upper-right block of exp([[A^H, G], [0, A^H]])"""

    _backward_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _expm(x).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        n = x.shape[-1]
        big = np.zeros(x.shape[:-2] + (2 * n, 2 * n),
                       np.complex128 if x.dtype.kind == "c" else np.float64)
        big[..., :n, :n] = big[..., n:, n:] = _mH(x)
        big[..., :n, n:] = grad
        return _expm(big)[..., :n, n:].astype(x.dtype)


def matrix_exp(A: Tensor) -> Tensor:
    """Matrix exponential of square matrices (``torch.linalg.matrix_exp``)."""
    check_matrix("linalg.matrix_exp", A._data, complex_ok=True)
    return MatrixExp.apply(A)
