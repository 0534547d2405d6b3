"""Tangent rules of linear algebra. The products are linear in every operand on its own, so
the tangent is one product per operand with a tangent, that operand replaced by its tangent
(``d(x @ y) = dx @ y + x @ dy``); the solves, ``householder_product``, ``linalg.lu``,
``linalg.svd`` and ``linalg.eig`` have their formulas from differentiating their defining
equations (as torch's derivatives.yaml), with conjugate transposes for complex matrices and
torch's choice of phase for singular vectors."""
from __future__ import annotations

from ...ops import _linalg_cholesky_solve as CH
from ...ops import _linalg_eig as EIG
from ...ops import _linalg_factor as FA
from ...ops import _linalg_lu as LU
from ...ops import _linalg_triangular as T
from ...ops import linalg, linear_graph
from ...ops import linalg_legacy as legacy
from ._rules import add, is_complex, rule, zeros_like


def _product_rule(op):
    def product(xs, ts, out, **options):
        terms = []
        for i, t in enumerate(ts):
            if t is not None:
                args = list(xs)
                args[i] = t
                terms.append(op.apply(*args, **options))
        return add(*terms)

    return product


for _op in (linalg.MatMul, linalg.Mm, linalg.Einsum):
    rule(_op)(_product_rule(_op))


@rule(linalg.Linear)
def _linear(xs, ts, out):
    x, w = xs[0], xs[1]
    tx, tw = ts[0], ts[1]
    tb = ts[2] if len(ts) > 2 else None
    return add(None if tx is None else linalg.Linear.apply(tx, w),
               None if tw is None else linalg.Linear.apply(x, tw), tb)


@rule(linear_graph.LinearAddmm)
def _linear_addmm(xs, ts, out):
    (_, x, wt), (tb, tx, twt) = xs, ts
    return add(None if tx is None else tx @ wt, None if twt is None else x @ twt, tb)


@rule(linear_graph.WeightT)
def _weight_t(xs, ts, out):
    return linear_graph.WeightT.apply(ts[0])


@rule(linalg.Addmm)
def _addmm(xs, ts, out, beta=1, alpha=1):
    (_, a, b), (tc, ta, tb) = xs, ts
    part = add(None if ta is None else ta @ b, None if tb is None else a @ tb)
    if part is not None and alpha != 1:
        part = part * alpha
    return add(None if tc is None else (tc if beta == 1 else tc * beta), part)


# --- triangular solves, Householder products, LU ----------------------------------------------
def _minus(rhs, term):
    """``rhs - term``, ``rhs`` None standing for zero."""
    return -term if rhs is None else rhs - term


@rule(T.SolveTriangular)
def _solve_triangular(xs, ts, out, *, upper, left=True, unitriangular=False):
    """X = A^-1 B: dX = A^-1 (dB - dA X), dA masked to the triangle read (B A^-1 mirrored)."""
    ta, tb = ts
    rhs = tb
    if ta is not None:
        k = 1 if unitriangular else 0
        da = ta.triu(k) if upper else ta.tril(-k)
        rhs = _minus(rhs, da @ out if left else out @ da)
    return T.SolveTriangular.apply(xs[0], rhs, upper=upper, left=left,
                                   unitriangular=unitriangular)


@rule(T.HouseholderProduct)
def _householder_product(xs, ts, out):
    """Q = H_0 ... H_{k-1} E, H_i = I - tau_i v_i v_i^H: dQ = sum_i (H_0 ... H_{i-1}) dH_i
    (H_{i+1} ... H_{k-1} E), dH_i = -(dtau_i v_i v_i^H + tau_i (dv_i v_i^H + v_i dv_i^H))."""
    import ember

    a, tau = xs
    ta, ttau = ts
    m, n, k = a.shape[-2], a.shape[-1], tau.shape[-1]
    if k == 0:
        return zeros_like(out)
    eye = ember.eye(m, dtype=a.dtype)
    v = a[..., :, :k].tril(-1) + ember.eye(m, k, dtype=a.dtype)
    dv = None if ta is None else ta[..., :, :k].tril(-1)
    hs, dhs = [], []
    for i in range(k):
        vi, ti = v[..., :, i:i + 1], tau[..., i:i + 1, None]
        vv = vi @ vi.mH
        hs.append(eye - ti * vv)
        d = None if ttau is None else ttau[..., i:i + 1, None] * vv
        if dv is not None:
            dvi = dv[..., :, i:i + 1]
            d = add(d, ti * (dvi @ vi.mH + vi @ dvi.mH))
        dhs.append(-d)
    suffix = [ember.eye(m, n, dtype=a.dtype)]  # suffix[j] = H_{k-j} ... H_{k-1} E
    for h in reversed(hs[1:]):
        suffix.append(h @ suffix[-1])
    total, prefix = None, None  # prefix = H_0 ... H_{i-1}
    for i in range(k):
        term = dhs[i] @ suffix[k - 1 - i]
        total = add(total, term if prefix is None else prefix @ term)
        prefix = hs[i] if prefix is None else prefix @ hs[i]
    return total


@rule(LU.LinalgLu)
def _lu(xs, ts, out):
    """P^T A = L U. On the square block (A1 = P L1 U1): dK = L1^-1 P^T dA1 U1^-1,
    dL1 = L1 tril(dK, -1), dU1 = triu(dK) U1; then U's extra columns (wide A) or L's extra
    rows (tall A) from P^T dA = dL U + L dU. P gets no tangent."""
    import ember

    p, low, up = out
    m, n = low.shape[-2], up.shape[-1]
    dx = p.mT @ ts[0]
    k = min(m, n)
    l1, u1, dx1 = low[..., :k, :], up[..., :, :k], dx[..., :k, :k]
    dk = _tri(u1, _tri(l1, dx1, upper=False, unitriangular=True), upper=True, left=False)
    dl1, du1 = l1 @ dk.tril(-1), dk.triu() @ u1
    if m < n:
        du2 = _tri(l1, dx[..., :, k:] - dl1 @ up[..., :, k:], upper=False, unitriangular=True)
        return None, dl1, ember.cat([du1, du2], -1)
    if m > n:
        dl2 = _tri(u1, dx[..., k:, :] - low[..., k:, :] @ du1, upper=True, left=False)
        return None, ember.cat([dl1, dl2], -2), du1
    return None, dl1, du1


def _tri(a, b, **options):
    return T.SolveTriangular.apply(a, b, **options)


@rule(LU.LinalgLuSolve)
def _lu_solve(xs, ts, out, *, piv, left, adjoint):
    """X = A^-1 B (A^-H B, B A^-1, B A^-H) with A = P L U: dX = A^-1 (dB - dA X) and its
    mirrors, dA = P (dL U + L dU), dL and dU the strict lower and the upper part of dLU."""
    import ember

    from ..._tensor import _wrap

    lu_data, _ = xs
    tlu, tb = ts
    rhs = tb
    if tlu is not None:
        n = lu_data.shape[-1]
        low = lu_data.tril(-1) + ember.eye(n, dtype=lu_data.dtype)
        perm = _wrap(LU._perm(piv, n, lu_data._data.dtype))
        da = perm @ (tlu.tril(-1) @ lu_data.triu() + low @ tlu.triu())
        if adjoint:
            da = da.mH
        rhs = _minus(rhs, da @ out if left else out @ da)
    return LU.LinalgLuSolve.apply(lu_data, rhs, piv=piv, left=left, adjoint=adjoint)


@rule(legacy.TriangularSolve)
def _triangular_solve(xs, ts, out, *, upper, trans, unit):
    """torch's formula for (X, A's copy): dX = op(T)^-1 (dB - dA X) with dA as it is, neither
    masked to T's triangle nor transposed (so J t only for such a dA), and dA for the copy."""
    tb, ta = ts
    rhs = tb
    if ta is not None:
        rhs = _minus(rhs, ta @ out[0])
    x = legacy.TriangularSolve.apply(rhs, xs[1], upper=upper, trans=trans, unit=unit)[0]
    return x, ta


# --- the Cholesky-factor inverse and solve: torch's formulas, on the whole factor -------------
@rule(CH.CholeskyInverse)
def _cholesky_inverse(xs, ts, out, *, upper):
    """X = (L L^H)^-1 with L the factor's lower triangle (upper: L = U^H): dX = P + P^H,
    P = -X L dL^H X. (torch 2.13's tangent here fails its own forward-mode gradcheck; this
    one is the derivative of what the forward computes.)"""
    f, tf = xs[0], ts[0]
    lower = f.triu().mH if upper else f.tril()
    d_lower = tf.triu().mH if upper else tf.tril()
    part = -(out @ lower @ d_lower.mH @ out)
    return part + part.mH


@rule(CH.CholeskySolve)
def _cholesky_solve(xs, ts, out, *, upper):
    """X = A^-1 B, A = L L^H: dX = A^-1 (dB - dA X), dA = dK + dK^H, dK = dL L^H (or
    dU^H U)."""
    f = xs[1]
    tb, tf = ts
    rhs = tb
    if tf is not None:
        dk = tf.mH @ f if upper else tf @ f.mH
        rhs = _minus(rhs, (dk + dk.mH) @ out)
    return CH.CholeskySolve.apply(rhs, f, upper=upper)


# --- svd and eig: torch's linalg_svd_jvp and linalg_eig_jvp -----------------------------------
def _off_diagonal_over(x, d):
    """``x / (d_j - d_i)`` off the diagonal, 0 on it."""
    import ember

    eye = ember.eye(d.shape[-1], dtype=d.dtype)
    gaps = d.unsqueeze(-2) - d.unsqueeze(-1) + eye  # (1 on the diagonal: no 0 / 0)
    return (x - x.diagonal(0, -2, -1).diag_embed()) / gaps


@rule(FA.Svd)
def _svd(xs, ts, out, full_matrices=True, compute_uv=True):
    """A = U S V^H, dP = U^H dA V: dS = Re(diag(dP)); with dX = dP - dS, sym(Y) = Y + Y^H
    and E_jk = S_k^2 - S_j^2, dU = U (sym(dX S) / E + i Im(diag(dX)) / 2S) and dV^H =
    (-sym(S dX) / E + i Im(diag(dX)) / 2S) V^H (the phase of each singular pair: torch's
    choice), plus the parts outside U's (tall A) or V's (wide A) span."""
    import ember

    x, da = xs[0], ts[0]
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    if compute_uv:
        u, s, vh = out
        if full_matrices:
            u, vh = u[..., :, :k], vh[..., :k, :]
    else:
        u, s, vh = FA.Svd.apply(x, full_matrices=False)
    v = vh.mH
    dp = u.mH @ (da @ v) if m < n else (u.mH @ da) @ v
    ds = dp.diagonal(0, -2, -1)
    ds = ds.real if is_complex(ds) else ds
    if not compute_uv:
        return ds
    dx = dp - ds.diag_embed()
    du = _off_diagonal_over((dx * s.unsqueeze(-2)) + (dx * s.unsqueeze(-2)).mH, s * s)
    dvh = -_off_diagonal_over((dx * s.unsqueeze(-1)) + (dx * s.unsqueeze(-1)).mH, s * s)
    if is_complex(dx):  # i Im(diag(dX)) / 2S (dX's diagonal is imaginary)
        phase = (dx.diagonal(0, -2, -1) / (s * 2)).diag_embed()
        du, dvh = du + phase, dvh + phase
    du, dvh = u @ du, dvh @ vh
    if m > n:
        dav = da @ (v / s.unsqueeze(-2))
        du = du + dav - u @ (u.mH @ dav)
        if full_matrices:
            du = ember.cat([du, ember.zeros(*du.shape[:-1], m - n, dtype=du.dtype)], -1)
    if m < n:
        uhda = (u.mH / s.unsqueeze(-1)) @ da
        dvh = dvh + uhda - (uhda @ v) @ vh
        if full_matrices:
            dvh = ember.cat([dvh, ember.zeros(*dvh.shape[:-2], n - m, n, dtype=dvh.dtype)],
                            -2)
    return du, ds, dvh


@rule(EIG.Eig)
def _eig(xs, ts, out, eigenvectors=True):
    """A V = V diag(L), dP = V^-1 dA V: dL = diag(dP), dV = dX - V Re(diag(V^H dX)) with
    dX = V (dP_ij / (L_j - L_i) off the diagonal); the last term keeps each column at unit
    norm. (eigvals computes V again for it.)"""
    import ember

    x, da = xs[0], ts[0]
    lam, v = out if eigenvectors else EIG.Eig.apply(x)
    if not is_complex(da):
        da = da.to(v.dtype)
    dp = ember.linalg.solve(v, da @ v)
    dl = dp.diagonal(0, -2, -1)
    if not eigenvectors:
        return dl
    dx = v @ _off_diagonal_over(dp, lam)
    return dl, dx - v * (v.mH @ dx).diagonal(0, -2, -1).real.unsqueeze(-2)
