"""The op table of the complex forward-mode tests: one row per op (or op form), each a
function of the library (``ember`` or ``torch``) and the dual inputs, so that the same row
runs against finite differences and reverse mode (test_forward_ad_complex.py) and against
torch (tests/oracle/test_forward_ad_complex_oracle.py).

Each input is complex (``C``) or real (``R``); complex inputs sit around ``0.3 + 0.2j`` in a
unit square, away from branch cuts. Rows whose output depends on a gauge (the phases of
singular vectors and eigenvectors) are compared with torch only (``fd=False``); rows where
torch 2.13's own tangent is wrong are checked against finite differences only
(``torch=False``); ``reverse=False`` marks the rows that reverse mode cannot check: torch
refuses their complex gradient, or (in-place writes through ``z.real``, ``view_as_real``)
ember's reverse mode does not record them yet."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

C, R = "c", "r"


@dataclass(frozen=True)
class CCase:
    name: str
    fn: Callable     # fn(L, *inputs), L the library
    specs: tuple     # one (shape, kind) per input
    fd: bool = True  # check against finite differences and reverse mode
    torch: bool = True
    reverse: bool = True  # False: no reverse mode to compare with (see above)


def spd(L, a):
    """A Hermitian positive definite matrix made from a square ``a``."""
    return a @ a.mH + L.eye(a.shape[-1], dtype=a.dtype) * 3


def herm(L, a):
    return a + a.mH


def setitem(c, index, value):
    c[index] = value
    return c


def make(rng, spec, single=False):
    """(value, tangent) arrays for one ``(shape, kind)``."""
    shape, kind = spec
    if kind == C:
        x = rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape) + (0.3 + 0.2j)
        t = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        dtype = np.complex64 if single else np.complex128
    else:
        x, t = rng.uniform(0.2, 1.5, shape), rng.standard_normal(shape)
        dtype = np.float32 if single else np.float64
    return x.astype(dtype), t.astype(dtype)


_V3, _M23, _M33 = ((3,), C), ((2, 3), C), ((3, 3), C)
CASES = [
    # holomorphic pointwise math
    *[CCase(name, fn, (_V3,)) for name, fn in (
        ("exp", lambda L, a: a.exp()), ("log", lambda L, a: a.log()),
        ("log1p", lambda L, a: a.log1p()), ("log10", lambda L, a: a.log10()),
        ("sqrt", lambda L, a: a.sqrt()), ("rsqrt", lambda L, a: a.rsqrt()),
        ("sin", lambda L, a: a.sin()), ("cos", lambda L, a: a.cos()),
        ("tan", lambda L, a: a.tan()), ("sinh", lambda L, a: a.sinh()),
        ("cosh", lambda L, a: a.cosh()), ("tanh", lambda L, a: a.tanh()),
        ("asin", lambda L, a: a.asin()), ("acos", lambda L, a: a.acos()),
        ("atan", lambda L, a: a.atan()), ("asinh", lambda L, a: a.asinh()),
        ("acosh", lambda L, a: a.acosh()), ("atanh", lambda L, a: a.atanh()),
        ("expm1", lambda L, a: a.expm1()), ("sigmoid", lambda L, a: a.sigmoid()),
        ("reciprocal", lambda L, a: a.reciprocal()), ("square", lambda L, a: a.square()),
        ("neg", lambda L, a: -a), ("exp2", lambda L, a: L.exp2(a)),
        ("sinc", lambda L, a: L.sinc(a)), ("pow_int", lambda L, a: a ** 3),
        ("pow_float", lambda L, a: a ** 2.5), ("pow_complex", lambda L, a: a ** (1 + 1j)),
        ("rpow", lambda L, a: 2.0 ** a), ("rpow_complex", lambda L, a: (1 + 2j) ** a),
        ("logsumexp", lambda L, a: L.logsumexp(a, 0)))],
    CCase("pow_tensor", lambda L, a, b: a ** b, (_V3, _M23)),
    # torch's silu tangent for complex numbers is t * conj(f'(z)), not t * f'(z)
    CCase("silu", lambda L, a: L.nn.functional.silu(a), (_V3,), torch=False, reverse=False),
    # not holomorphic: abs, angle, sgn and the parts
    CCase("abs", lambda L, a: a.abs(), (_V3,)),
    CCase("abs_function", lambda L, a: L.abs(a) * 2, (_V3,)),
    CCase("angle", lambda L, a: a.angle(), (_V3,)),
    CCase("angle_real", lambda L, a: a.angle(), (((3,), R),)),
    CCase("sgn", lambda L, a: a.sgn(), (_V3,)),
    CCase("conj", lambda L, a: a.conj(), (_V3,)),
    CCase("conj_physical", lambda L, a: a.conj_physical(), (_V3,)),
    CCase("conj_times_self", lambda L, a: a.conj() * a, (_V3,)),
    CCase("real", lambda L, a: a.real, (_V3,)),
    CCase("imag", lambda L, a: a.imag, (_V3,)),
    CCase("real_of_transpose", lambda L, a: a.t().real * 2, (_M23,)),
    CCase("view_as_real", lambda L, a: L.view_as_real(a * a), (_V3,)),
    CCase("view_as_complex", lambda L, a: L.view_as_complex(a) ** 2, (((3, 2), R),)),
    CCase("complex", lambda L, a, b: L.complex(a, b), (((2, 3), R), ((3,), R))),
    CCase("polar", lambda L, a, b: L.polar(a, b), (((2, 3), R), ((3,), R))),
    CCase("polar_of_parts", lambda L, a: L.polar(a.abs(), a.angle()), (_V3,)),
    CCase("abs_angle_chain", lambda L, a: (a.abs() * a.angle().exp()).sum() + a.real.sum(),
          (((4,), C),)),
    # dtype casts and real/complex promotion
    CCase("real_to_complex", lambda L, a: a.to(L.complex128), (((3,), R),)),
    CCase("complex_to_real", lambda L, a: a.to(L.float64), (_V3,)),
    CCase("real_times_complex_scalar", lambda L, a: a * (1 + 2j), (((3,), R),)),
    CCase("real_times_complex_tensor", lambda L, a: a * L.tensor([1j, 2, 3 - 1j]),
          (((3,), R),)),
    CCase("mixed_mul", lambda L, a, b: a * b, (_M23, ((3,), R))),
    CCase("mixed_div", lambda L, a, b: a / b, (((2, 3), R), _V3)),
    CCase("mixed_add", lambda L, a, b: a + b, (((2, 3), R), _V3)),
    CCase("mixed_sub_alpha", lambda L, a, b: L.sub(a, b, alpha=2), (_V3, ((2, 3), R))),
    CCase("mixed_matmul", lambda L, a, b: a @ b.to(a.dtype), (_M23, ((3, 2), R))),
    CCase("slogdet_sum", lambda L, a: L.linalg.slogdet(a)[1] + L.linalg.slogdet(a)[0],
          (_M33,)),
    # arithmetic with broadcasting and scalars
    CCase("add", lambda L, a, b: a + b, (_M23, _V3)),
    CCase("add_complex_alpha", lambda L, a, b: L.add(a, b, alpha=1 + 1j), (_M23, _V3)),
    CCase("mul", lambda L, a, b: a * b, (_M23, _V3)),
    CCase("div", lambda L, a, b: a / b, (_M23, ((2, 1), C))),
    CCase("rdiv", lambda L, a: 2.0 / a, (_V3,)),
    CCase("div_complex_scalar", lambda L, a: a / (2 - 1j), (_V3,)),
    CCase("addcmul", lambda L, a, b, c: L.addcmul(a, b, c, value=2), (_V3, _V3, _V3)),
    CCase("addcdiv", lambda L, a, b, c: L.addcdiv(a, b, c, value=2), (_V3, _V3, _V3)),
    CCase("lerp", lambda L, a, b, w: L.lerp(a, b, w), (_V3, _V3, _V3)),
    CCase("where", lambda L, a, b: L.where(a.real > 0.3, a, b), (_V3, _V3)),
    CCase("masked_fill", lambda L, a: a.masked_fill(a.real > 0.3, 1j), (_V3,)),
    # reductions and norms
    CCase("sum_dim", lambda L, a: a.sum(1), (_M23,)),
    CCase("mean", lambda L, a: a.mean(), (_M23,)),
    CCase("prod", lambda L, a: a.prod(1), (_M23,)),
    CCase("cumsum", lambda L, a: a.cumsum(1), (_M23,)),
    CCase("cumprod", lambda L, a: a.cumprod(1), (_M23,)),
    CCase("var", lambda L, a: a.var(), (_M23,)),
    CCase("var_dim", lambda L, a: a.var(1, keepdim=True), (_M23,)),
    CCase("std_correction", lambda L, a: a.std(0, correction=0), (_M23,)),
    CCase("var_mean", lambda L, a: L.var_mean(a, 1)[0] + L.var_mean(a, 1)[1], (_M23,)),
    CCase("norm", lambda L, a: a.norm(), (_M23,)),
    CCase("vector_norm_3", lambda L, a: L.linalg.vector_norm(a, 3, dim=1), (_M23,)),
    CCase("vector_norm_1", lambda L, a: L.linalg.vector_norm(a, 1), (_M23,)),
    CCase("matrix_norm_fro", lambda L, a: L.linalg.matrix_norm(a), (_M33,)),
    CCase("matrix_norm_nuc", lambda L, a: L.linalg.matrix_norm(a, "nuc"), (_M33,)),
    CCase("matrix_norm_2", lambda L, a: L.linalg.matrix_norm(a, 2), (_M33,)),
    CCase("dist", lambda L, a, b: L.dist(a, b), (_V3, _V3)),
    CCase("trace", lambda L, a: a.trace(), (_M33,)),
    CCase("dot", lambda L, a, b: L.dot(a, b), (_V3, _V3)),
    CCase("vdot", lambda L, a, b: L.vdot(a, b), (_V3, _V3)),
    CCase("outer", lambda L, a, b: L.outer(a, b), (_V3, ((2,), C))),
    CCase("cross", lambda L, a, b: L.linalg.cross(a, b), (_V3, _V3)),
    CCase("kron", lambda L, a, b: L.kron(a, b), (((2, 2), C), ((2,), C))),
    CCase("einsum", lambda L, a, b: L.einsum("ij,jk->ik", a, b), (_M23, ((3, 2), C))),
    # products and linear algebra
    CCase("matmul", lambda L, a, b: a @ b, (_M23, ((3, 2), C))),
    CCase("matmul_batch", lambda L, a, b: a @ b, (((2, 2, 3), C), ((3, 2), C))),
    CCase("bmm", lambda L, a, b: L.bmm(a, b), (((2, 2, 3), C), ((2, 3, 2), C))),
    CCase("addmm", lambda L, c, a, b: L.addmm(c, a, b), (((2, 2), C), _M23, ((3, 2), C))),
    CCase("linear", lambda L, x, w, b: L.nn.functional.linear(x, w, b),
          (_M23, ((4, 3), C), ((4,), C))),
    CCase("inv", lambda L, a: L.linalg.inv(a), (_M33,)),
    CCase("det", lambda L, a: L.linalg.det(a), (_M33,)),
    CCase("logdet", lambda L, a: L.logdet(a), (_M33,)),
    CCase("solve", lambda L, a, b: L.linalg.solve(a, b), (_M33, ((3, 2), C))),
    CCase("solve_right", lambda L, a, b: L.linalg.solve(a, b, left=False), (_M33, _M23)),
    CCase("pinv", lambda L, a: L.linalg.pinv(a), (((3, 2), C),)),
    CCase("matrix_exp", lambda L, a: L.linalg.matrix_exp(a * 0.3), (_M33,)),
    CCase("matrix_power_neg", lambda L, a: L.linalg.matrix_power(a, -2), (_M33,)),
    CCase("eigvalsh", lambda L, a: L.linalg.eigvalsh(herm(L, a)), (_M33,)),
    CCase("eigh_exp", lambda L, a: (lambda w, v: (v * w.exp().to(v.dtype)) @ v.mH)(
        *L.linalg.eigh(herm(L, a))), (_M33,)),
    CCase("svdvals", lambda L, a: L.linalg.svdvals(a), (((3, 2), C),)),
    CCase("svd_product", lambda L, a: (lambda u, s, vh: (u * s.to(u.dtype)) @ vh)(
        *L.linalg.svd(a, full_matrices=False)), (((3, 2), C),)),
    CCase("svd_product_wide", lambda L, a: (lambda u, s, vh: (u * s.to(u.dtype)) @ vh)(
        *L.linalg.svd(a, full_matrices=False)), (_M23,)),
    CCase("svd_product_real", lambda L, a: (lambda u, s, vh: (u * s) @ vh)(
        *L.linalg.svd(a, full_matrices=False)), (((2, 3), R),)),
    CCase("svdvals_real", lambda L, a: L.linalg.svdvals(a), (((3, 2), R),)),
    CCase("svd_moduli", lambda L, a: (lambda u, s, vh: (u.abs() ** 2).sum(1) + s.sum())(
        *L.linalg.svd(a, full_matrices=False)), (((3, 2), C),)),
    CCase("qr_q", lambda L, a: L.linalg.qr(a)[0], (_M33,)),
    CCase("qr_r_wide", lambda L, a: L.linalg.qr(a)[1], (_M23,)),
    CCase("cholesky", lambda L, a: L.linalg.cholesky(spd(L, a)), (_M33,)),
    CCase("cholesky_upper", lambda L, a: L.linalg.cholesky(spd(L, a), upper=True), (_M33,)),
    CCase("cholesky_solve", lambda L, a, b: L.cholesky_solve(b, L.linalg.cholesky(spd(L, a))),
          (_M33, ((3, 2), C))),
    CCase("cholesky_solve_upper", lambda L, a, b: L.cholesky_solve(
        b, L.linalg.cholesky(spd(L, a), upper=True), upper=True), (_M33, ((3, 2), C))),
    # torch 2.13's cholesky_inverse tangent is not the derivative of its result
    CCase("cholesky_inverse", lambda L, a: L.cholesky_inverse(L.linalg.cholesky(spd(L, a))),
          (_M33,), torch=False),
    CCase("solve_triangular", lambda L, a, b: L.linalg.solve_triangular(
        a.triu() + 3 * L.eye(3, dtype=a.dtype), b, upper=True), (_M33, ((3, 2), C))),
    CCase("lu", lambda L, a: (lambda p, lo, up: lo + up)(*L.linalg.lu(a)), (_M33,)),
    CCase("lu_solve", lambda L, a, b: (lambda lu, piv: L.linalg.lu_solve(lu, piv, b))(
        *L.linalg.lu_factor(a)), (_M33, ((3, 2), C))),
    CCase("lu_solve_adjoint", lambda L, a, b: (lambda lu, piv: L.linalg.lu_solve(
        lu, piv, b, adjoint=True))(*L.linalg.lu_factor(a)), (_M33, ((3, 2), C))),
    CCase("householder_product", lambda L, a, t: L.linalg.householder_product(a, t),
          (((3, 2), C), ((2,), C))),
    CCase("eigvals", lambda L, a: L.linalg.eigvals(a), (_M33,)),
    CCase("eigvals_of_real", lambda L, a: L.linalg.eigvals(a), (((3, 3), R),)),
    CCase("eig_values_batch", lambda L, a: L.linalg.eig(a)[0], (((2, 3, 3), C),)),
    CCase("eig_reconstruct", lambda L, a: (lambda w, v: (v * w) @ L.linalg.inv(v))(
        *L.linalg.eig(a)), (_M33,)),
    CCase("eig_moduli", lambda L, a: (lambda w, v: (v.abs() ** 2).sum(1))(*L.linalg.eig(a)),
          (_M33,)),
    # the gauge of singular vectors and eigenvectors: torch's choice
    *[CCase(name, fn, specs, fd=False) for name, fn, specs in (
        ("svd_u", lambda L, a: L.linalg.svd(a, full_matrices=False)[0], (((3, 2), C),)),
        ("svd_vh", lambda L, a: L.linalg.svd(a, full_matrices=False)[2], (((3, 2), C),)),
        ("svd_wide_u", lambda L, a: L.linalg.svd(a, full_matrices=False)[0], (_M23,)),
        ("svd_wide_vh", lambda L, a: L.linalg.svd(a, full_matrices=False)[2], (_M23,)),
        ("svd_full_u", lambda L, a: L.linalg.svd(a)[0], (((3, 2), C),)),
        ("svd_full_vh", lambda L, a: L.linalg.svd(a)[2], (_M23,)),
        ("svd_real_u", lambda L, a: L.linalg.svd(a, full_matrices=False)[0],
         (((3, 2), R),)),
        ("eigh_vectors", lambda L, a: L.linalg.eigh(herm(L, a))[1], (_M33,)),
        ("eig_vectors", lambda L, a: L.linalg.eig(a)[1], (_M33,)),
        ("eig_vectors_of_real", lambda L, a: L.linalg.eig(a)[1], (((3, 3), R),)))],
    # shapes, indexing and writes
    CCase("reshape", lambda L, a: a.reshape(3, 2), (_M23,)),
    CCase("permute", lambda L, a: a.permute(1, 0), (_M23,)),
    CCase("mH", lambda L, a: a.mH * 1, (_M23,)),
    CCase("expand", lambda L, a: a.expand(2, 3), (((1, 3), C),)),
    CCase("cat", lambda L, a, b: L.cat([a, b]), (_M23, ((1, 3), C))),
    CCase("stack", lambda L, a, b: L.stack([a, b]), (_M23, _M23)),
    CCase("flip", lambda L, a: a.flip(1), (_M23,)),
    CCase("tril", lambda L, a: a.tril(), (_M33,)),
    CCase("diagonal", lambda L, a: a.diagonal(), (_M33,)),
    CCase("diag_embed", lambda L, a: L.diag_embed(a), (_M23,)),
    CCase("getitem", lambda L, a: a[1, ::2], (_M23,)),
    CCase("getitem_advanced", lambda L, a: a[[1, 0, 1]], (_M23,)),
    CCase("getitem_mask", lambda L, a: a[a.real > 0.3], (_M23,)),
    CCase("gather", lambda L, a: a.gather(1, L.tensor([[0, 2], [1, 1]])), (_M23,)),
    CCase("scatter", lambda L, a, b: a.scatter(1, L.tensor([[0, 2]]), b), (_M23, ((1, 2), C))),
    CCase("scatter_add", lambda L, a, b: a.scatter_add(1, L.tensor([[0, 0]]), b),
          (_M23, ((1, 2), C))),
    CCase("scatter_reduce_mean", lambda L, a, b: a.scatter_reduce(
        1, L.tensor([[0, 0]]), b, "mean"), (_M23, ((1, 2), C)), reverse=False),
    CCase("index_put", lambda L, a, b: a.index_put((L.tensor([0, 1]),), b), (_M23, _V3)),
    CCase("select_scatter", lambda L, a, b: L.select_scatter(a, b, 0, 0), (_M23, _V3),
          reverse=False),
    CCase("slice_scatter", lambda L, a, b: L.slice_scatter(a, b, 1, 0, 2),
          (_M23, ((2, 2), C)), reverse=False),
    CCase("nan_to_num", lambda L, a: L.nan_to_num(a), (_V3,), reverse=False),
    CCase("unfold", lambda L, a: a.unfold(1, 2, 1), (_M23,)),
    CCase("pad", lambda L, a: L.nn.functional.pad(a, (1, 1)), (_M23,)),
    CCase("inplace_mul", lambda L, a, b: a.clone().mul_(b), (_V3, _V3)),
    CCase("setitem", lambda L, a, b: setitem(a.clone(), 0, b), (_M23, _V3)),
    CCase("setitem_real_part", lambda L, a, b: (lambda c: (setitem(c.real, 0, b), c)[1])(
        a.clone()), (_M23, ((3,), R)), reverse=False),
    CCase("imag_add_", lambda L, a, b: (lambda c: (c.imag.add_(b), c)[1])(a.clone()),
          (_M23, ((3,), R)), reverse=False),
    CCase("view_as_real_mul_", lambda L, a: (lambda c: (L.view_as_real(c).mul_(3), c)[1])(
        a.clone()), (_M23,), reverse=False),
    CCase("view_as_complex_setitem", lambda L, a, b: (lambda c: (
        setitem(L.view_as_complex(c), 0, b), c)[1])(a.clone()), (((2, 2), R), ((), C)),
          reverse=False),
    # fft
    CCase("fft", lambda L, a: L.fft.fft(a), (((4,), C),)),
    CCase("ifft_ortho", lambda L, a: L.fft.ifft(a, n=6, norm="ortho"), (((4,), C),)),
    CCase("fft_of_real", lambda L, a: L.fft.fft(a), (((4,), R),)),
    CCase("rfft", lambda L, a: L.fft.rfft(a), (((5,), R),)),
    CCase("irfft", lambda L, a: L.fft.irfft(a, n=5), (((3,), C),)),
    CCase("hfft", lambda L, a: L.fft.hfft(a), (((4,), C),)),
    CCase("ihfft", lambda L, a: L.fft.ihfft(a) * 1, (((5,), R),)),
    CCase("fft2", lambda L, a: L.fft.fft2(a), (((3, 4), C),)),
    CCase("irfftn", lambda L, a: L.fft.irfftn(a), (((2, 3), C),)),
    CCase("fftshift", lambda L, a: L.fft.fftshift(a), (((4,), C),)),
    # nn
    CCase("conv1d", lambda L, x, w: L.nn.functional.conv1d(x, w), (((1, 2, 5), C),
                                                                     ((3, 2, 2), C))),
    CCase("mse_of_moduli", lambda L, a, b: L.nn.functional.mse_loss(a.abs(), b.abs()),
          (_V3, _V3)),
    CCase("softmax_of_moduli", lambda L, a: a.abs().softmax(0), (_V3,)),
]
