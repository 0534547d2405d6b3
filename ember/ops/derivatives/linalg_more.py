"""Formulas for the factorizations and the solves built on them: pinv, qr, svd, eigh,
matrix_exp, triangular_solve and the LU family (torch's formulas, ``FunctionsManual.cpp``).

A factorization's formula uses its outputs (Q and R, U S Vh, the eigenvectors, LU), which
lead back through the factorization's own node, as in torch. Transposes in the formulas of
pinv, matrix_exp, qr, eigh, svd, eig, lu_factor and lu_solve are conjugate transposes
(``mH``): they hold for complex matrices too. Triangular solves are written
as ``solve`` of ``triu``/``tril``: the triangle projects the gradient of the matrix onto the
entries the solve reads, as torch's ``solve_triangular`` does.
"""
from __future__ import annotations

import numpy as np

from ...autograd._double_backward import _on_edge
from .._linalg_cholesky_solve import CholeskyInverse, CholeskySolve, cholesky_solve
from .._linalg_eig import Eig
from .._linalg_factor import Eigh, MatrixExp, Qr, Svd, _svd_phase_check, eig_phase_check
from .._linalg_inverse import Pinv, Solve
from ..arrange import diag_embed
from ..clamp import where
from ..indexing import IndexPut
from ..linalg_legacy import LuFactor, LuSolve, LuUnpack, TriangularSolve, _permutation
from ..shape import cat, tril, triu
from ._common import const, formula, saved_tensors, stand_in, sum_to


def _mT(t):
    return t.transpose(-1, -2)


def _mH(t):
    return t.mH  # the transpose of a real matrix (conj of a real Tensor is the Tensor)


def _is_complex(t):
    return t._data.dtype.kind == "c"


def _eye(n, m=None):
    return const(np.eye(n, m, dtype=bool))


def _zeros(shape, like):
    return const(np.zeros(shape, like._data.dtype))


def _tri(t, *, upper, unit=False):
    """The upper or lower triangle of ``t``, with ones on the diagonal when ``unit``."""
    t = triu(t) if upper else tril(t)
    return where(_eye(t.shape[-2], t.shape[-1]), 1.0, t) if unit else t


def _solve_tri(t, b, *, upper, left=True, unit=False):
    """``t^-1 b`` (``left``) or ``b t^-1`` for the triangle of ``t`` (only that is read)."""
    t = _tri(t, upper=upper, unit=unit)
    return Solve.apply(t, b) if left else _mT(Solve.apply(_mT(t), _mT(b)))


def _output(ctx, i, saved):
    """Output ``i`` of the node as a Tensor on the node (its gradients go to that output),
    from ``saved``, its value or (svd's full factors) the leading columns or rows of it."""
    shape = ctx._out_meta[i][0]
    if saved.shape == shape:
        return _on_edge(saved, (ctx, i))
    corner = tuple(slice(0, s) for s in saved.shape)
    return const(saved) + _on_edge(np.zeros(shape, saved.dtype), (ctx, i))[corner]


def _absent(g):
    """Whether ``g`` is a gradient the engine filled in with zeros (no gradient at all)."""
    return g is None or (not g.requires_grad and not g._data.any())


# --- pinv and matrix_exp -------------------------------------------------------------------
@formula(Pinv)
def _pinv(ctx, grad):
    a, p = saved_tensors(ctx)
    m, n = a.shape[-2:]
    ph, gh = _mH(p), _mH(grad)
    if m <= n:
        k = gh @ p
        kph = k @ ph
        return _mH(-(p @ k)) + kph - (a @ p) @ kph + (ph @ p) @ (gh - k @ a)
    k = p @ gh
    phk = ph @ k
    return _mH(-(k @ p)) + (gh - a @ k) @ p @ ph + phk - phk @ p @ a


@formula(MatrixExp)
def _matrix_exp(ctx, grad):
    (x,) = saved_tensors(ctx)  # the upper-right block of exp([[A^H, G], [0, A^H]])
    n = x.shape[-1]
    xt = _mH(x)
    big = cat([cat([xt, grad], -1), cat([_zeros(x.shape, grad), xt], -1)], -2)
    return MatrixExp.apply(big)[..., :n, n:]


# --- qr, eigh, svd -------------------------------------------------------------------------
def _solve_right_t(r, b):
    """X with X R^H = B, R upper triangular."""
    return _mH(_solve_tri(r, _mH(b), upper=True))


@formula(Qr)
def _qr(ctx, grad_q, grad_r):
    q_arr, r_arr = ctx.saved_tensors
    if ctx.mode == "r" or (ctx.mode == "complete" and q_arr.shape[-2] > r_arr.shape[-1]):
        return NotImplemented  # the op's backward raises torch's error
    q, r = _output(ctx, 0, q_arr), _output(ctx, 1, r_arr)
    m, n = q.shape[-2], r.shape[-1]
    mh = grad_r @ _mH(r) - _mH(q) @ grad_q
    if m >= n:
        sym = triu(mh) + _mH(triu(mh, 1))  # the upper triangle mirrored below
        if _is_complex(mh):  # torch keeps the real part of the diagonal
            sym = sym - diag_embed(mh.diagonal(0, -2, -1).imag * 1j)
        return _solve_right_t(r, q @ sym + grad_q)
    skew = tril(_mH(mh) - mh)
    if _is_complex(mh):  # its (imaginary) diagonal halved, as torch's
        skew = skew - diag_embed(skew.diagonal(0, -2, -1) * 0.5)
    lead = _solve_right_t(r[..., :m], q @ skew)
    out = cat([lead, _zeros(lead.shape[:-1] + (n - m,), grad_q)], -1)
    return out + q @ grad_r


@formula(Eigh)
def _eigh(ctx, *grads):
    w_arr, v_arr = ctx.saved_tensors
    if ctx.eigenvectors:
        grad_w, grad_v = grads
        w, v = _output(ctx, 0, w_arr), _output(ctx, 1, v_arr)
    else:  # eigvalsh: the eigenvectors are no output, so they come from eigh of the input
        (grad_w,), grad_v = grads, None
        vh_arr = np.swapaxes(v_arr, -1, -2)
        if vh_arr.dtype.kind == "c":
            vh_arr = vh_arr.conj()
        a = stand_in(ctx, 0, (v_arr * w_arr[..., None, :]) @ vh_arr)
        w, v = Eigh.apply(a)
    if _absent(grad_v):
        return (v * grad_w.unsqueeze(-2)) @ _mH(v)
    vhgv = _mH(v) @ grad_v
    if _is_complex(vhgv):
        eig_phase_check(vhgv._data, "linalg_eigh_backward")
    vhgv = 0.5 * (vhgv - _mH(vhgv))
    eye = _eye(w.shape[-1])
    e = where(eye, 1.0, w.unsqueeze(-2) - w.unsqueeze(-1))  # E_ij = w_j - w_i
    ga = where(eye, diag_embed(grad_w), vhgv / e)
    return v @ ga @ _mH(v)


@formula(Svd)
def _svd(ctx, *grads):
    u_arr, s_arr, vh_arr = ctx.saved_tensors
    if not ctx.compute_uv:  # svdvals: U and Vh come from the svd of the input
        a = stand_in(ctx, 0, (u_arr * s_arr[..., None, :]) @ vh_arr)
        u, _, vh = Svd.apply(a, full_matrices=False)
        return (u * grads[0].unsqueeze(-2)) @ vh
    u, s, vh = (_output(ctx, i, arr) for i, arr in enumerate((u_arr, s_arr, vh_arr)))
    grad_u, grad_s, grad_vh = grads
    k = s.shape[-1]
    grad_u = None if _absent(grad_u) else grad_u[..., :k]
    grad_vh = None if _absent(grad_vh) else grad_vh[..., :k, :]
    return _svd_backward(u, s, vh, grad_u, grad_s, grad_vh)


def _svd_backward(u, s, vh, gu, gs, gvh):
    """torch's svd_backward on Tensors, for the reduced factors."""
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:
        return (u * gs.unsqueeze(-2)) @ vh
    s2 = s * s
    eye = _eye(s.shape[-1])
    e = where(eye, 1.0, s2.unsqueeze(-2) - s2.unsqueeze(-1))  # E_jk = s_k^2 - s_j^2
    uhgu = vhgv = None
    if gu is not None:
        uhgu = _mH(u) @ gu
        uhgu = uhgu - _mH(uhgu)
    if gvh is not None:
        vhgv = vh @ _mH(gvh)
        vhgv = vhgv - _mH(vhgv)
    complex_ = _is_complex(u)
    if complex_:
        _svd_phase_check(*(None if t is None else t._data for t in (uhgu, vhgv, s)))
    if gu is not None and gvh is not None:
        ga = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) / e
    elif gu is not None:
        ga = (uhgu / e) * s.unsqueeze(-2)
    else:
        ga = s.unsqueeze(-1) * (vhgv / e)
    if complex_:  # torch adds to the (imaginary) diagonal the formula left there
        ga = ga + diag_embed(gs)
        if gu is not None and gvh is not None:
            ga = ga + diag_embed(uhgu.diagonal(0, -2, -1) / (2 * s))
    else:
        ga = where(eye, diag_embed(gs), ga)
    if m > n and gu is not None:
        ga = u @ ga
        gus = gu / s.unsqueeze(-2)
        return (ga + gus - u @ (_mH(u) @ gus)) @ vh
    if m < n and gvh is not None:
        ga = ga @ vh
        sgv = gvh / s.unsqueeze(-1)
        return u @ (ga + sgv - (sgv @ _mH(vh)) @ vh)
    return u @ (ga @ vh)



@formula(Eig)
def _eig(ctx, *grads):
    """torch's linalg_eig_backward on Tensors: V^-H (diag(gL) + P(V^H gV) / conj(E)) V^H, with
    P projecting onto matrices with unit-norm columns; V^-H applied by a solve."""
    saved = ctx.saved_tensors
    if ctx.eigenvectors:
        grad_w, grad_v = grads
        w, v = _output(ctx, 0, saved[0]), _output(ctx, 1, saved[1])
    else:  # eigvals: the eigenvectors are no output, so they come from eig of the input
        (grad_w,), grad_v = grads, None
        w, v = Eig.apply(saved_tensors(ctx)[2])
    if grad_w is None and grad_v is None:
        return None
    vh = _mH(v)
    if grad_v is None:
        return Solve.apply(vh, grad_w.unsqueeze(-1) * vh)
    vhgv = vh @ grad_v
    eig_phase_check(vhgv._data, "linalg_eig_backward")
    vhgv = vhgv - vh @ (v * vhgv.diagonal(0, -2, -1).real.unsqueeze(-2))
    lc = w.conj()
    eye = _eye(w.shape[-1])
    ga = vhgv / where(eye, 1.0, lc.unsqueeze(-2) - lc.unsqueeze(-1))  # E_ij = L_j - L_i
    if grad_w is not None:
        ga = where(eye, diag_embed(grad_w), ga)
    return Solve.apply(vh, ga @ vh)


# --- triangular solve and LU ---------------------------------------------------------------
@formula(TriangularSolve)
def _triangular_solve(ctx, grad_x, grad_a_copy):
    b, a, _, _ = saved_tensors(ctx)
    x = _output(ctx, 0, ctx.saved_tensors[3])
    upper, trans, unit = ctx.options
    t = _tri(a, upper=upper, unit=unit)
    gb = Solve.apply(t if trans else _mT(t), grad_x)
    gt = -(x @ _mT(gb)) if trans else -(gb @ _mT(x))
    gt = triu(gt, 1 if unit else 0) if upper else tril(gt, -1 if unit else 0)
    need = ctx.needs_input_grad
    return (sum_to(gb, b.shape) if need[0] else None,
            sum_to(gt + grad_a_copy, a.shape) if need[1] else None)


def _factors(lu, k):
    """(L, U) of packed LU data on Tensors: the unit lower and the upper triangle."""
    m, n = lu.shape[-2:]
    low = tril(lu[..., :, :k], -1) + const(np.eye(m, k, dtype=lu._data.dtype))
    return low, triu(lu[..., :k, :])


@formula(LuUnpack)
def _lu_unpack(ctx, grad_low, grad_up):
    k = min(ctx.shape[-2:])
    out = IndexPut.apply(_zeros(ctx.shape, grad_low), tril(grad_low, -1),
                         index=(Ellipsis, slice(None), slice(0, k)), accumulate=True)
    return IndexPut.apply(out, triu(grad_up), index=(Ellipsis, slice(0, k), slice(None)),
                          accumulate=True)


@formula(LuSolve)
def _lu_solve(ctx, grad):
    b, lu, x = saved_tensors(ctx)
    perm = const(ctx.parts[2])
    low, up = _factors(lu, lu.shape[-1])
    # gB = A^-H gX = P L^-H U^-H gX; A = P L U, so gLU = tril(P^T gA U^H) + triu(L^H P^T gA)
    gb = perm @ _solve_tri(_mH(low), _solve_tri(_mH(up), grad, upper=False), upper=True,
                           unit=True)
    glu = None
    if ctx.needs_input_grad[1]:
        pga = _mT(perm) @ (-gb @ _mH(x))
        glu = sum_to(tril(pga @ _mH(up), -1) + triu(_mH(low) @ pga), lu.shape)
    return sum_to(gb, b.shape), glu


@formula(LuFactor)
def _lu_factor(ctx, grad, grad_pivots=None, grad_info=None):
    lu_arr, piv = ctx.saved_tensors
    lu = _output(ctx, 0, lu_arr)
    m, n = lu.shape[-2:]
    k = min(m, n)
    low, up = _factors(lu, k)
    perm = const(_permutation(piv, m, lu_arr.dtype))
    g_low, g_up = tril(grad[..., :, :k], -1), triu(grad[..., :k, :])
    if m == n:
        ga = tril(_mH(low) @ g_low, -1) + triu(g_up @ _mH(up))
        ga = _solve_tri(_mH(up), ga, upper=False, left=False)
        ga = _solve_tri(_mH(low), ga, upper=True, unit=True)
    elif m < n:  # wide: U = [U1 U2]
        ga = tril(_mH(low) @ g_low - g_up @ _mH(up), -1)
        ga = _solve_tri(_mH(up[..., :k]), ga, upper=False, left=False)
        ga = cat([ga + triu(g_up[..., :k]), g_up[..., k:]], -1)
        ga = _solve_tri(_mH(low), ga, upper=True, unit=True)
    else:  # tall: L = [L1; L2]
        ga = triu(g_up @ _mH(up) - _mH(low) @ g_low)
        ga = _solve_tri(_mH(low[..., :k, :]), ga, upper=True, unit=True)
        ga = cat([ga + tril(g_low[..., :k, :], -1), g_low[..., k:, :]], -2)
        ga = _solve_tri(_mH(up), ga, upper=False, left=False)
    return perm @ ga


@formula(CholeskyInverse)
def _cholesky_inverse(ctx, grad):
    factor, out = saved_tensors(ctx)  # torch's formula, on the whole factor as given
    common = out @ (grad + _mH(grad)) @ out
    return -(factor @ common) if ctx.upper else -(common @ factor)


@formula(CholeskySolve)
def _cholesky_solve(ctx, grad):
    factor, out = saved_tensors(ctx)
    grad_b = cholesky_solve(grad, factor, upper=ctx.upper)
    common = grad_b @ _mH(out)
    common = common + _mH(common)
    grad_factor = -(factor @ common) if ctx.upper else -(common @ factor)
    return sum_to(grad_b, ctx.b_shape), sum_to(grad_factor, factor.shape)
