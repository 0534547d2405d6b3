"""The differentiable primitives the distributions need and ember's ops lack.

- ``solve_triangular``: ``L^-1 B`` for lower-triangular ``L`` (``torch.linalg.solve_triangular``
  with ``upper=False``), by substitution in LAPACK's ``trsm`` order, batched and broadcasting.
- ``standard_gamma``: ``torch._standard_gamma``, torch's draws, differentiable in the
  concentration through torch's implicit reparameterisation (``standard_gamma_grad_one``).
- ``sample_dirichlet``: ``torch.distributions.dirichlet._Dirichlet``, torch's draws,
  differentiable through ``dirichlet_grad_one``.

The gradient approximations are ATen's (``ATen/native/Distributions.h``), vectorised, with
the steps torch takes in the input's dtype (``scalar_t``) taken in it too: float64 gradients
are torch's to the last bit, float32 ones to about an ulp (NumPy's float32 ``log``/``pow``
are not glibc's).
"""
from __future__ import annotations

import numpy as np

from .._random import _gen
from ..autograd.function import Op
from ..ops._shape_utils import sum_to_shape
from . import _samplers


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _solve_lower(low, b):
    """``low^-1 b`` by forward substitution (column by column, as reference ``trsm``)."""
    shape = np.broadcast_shapes(low.shape[:-2], b.shape[:-2]) + b.shape[-2:]
    x = np.array(np.broadcast_to(b, shape), dtype=np.result_type(low, b))
    n = low.shape[-1]
    for k in range(n):
        x[..., k, :] /= low[..., k, k, None]
        if k + 1 < n:
            x[..., k + 1:, :] -= low[..., k + 1:, k, None] * x[..., k:k + 1, :]
    return x


def _solve_lower_t(low, b):
    """``low^-T b`` by back substitution."""
    x = np.array(b, dtype=np.result_type(low, b))
    for k in range(low.shape[-1] - 1, -1, -1):
        x[..., k, :] /= low[..., k, k, None]
        if k:
            x[..., :k, :] -= low[..., k, :k, None] * x[..., k:k + 1, :]
    return x


class SolveTriangular(Op):
    """X = L^-1 B; gB = L^-T G, gL = -tril(gB X^T) (torch's solve_triangular backward)."""

    _backward_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, low, b):
        x = _solve_lower(low, b)
        ctx.b_shape = b.shape
        ctx.save_for_backward(low, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        low, x = ctx.saved_tensors
        gb = _solve_lower_t(np.broadcast_to(low, grad.shape[:-2] + low.shape[-2:]), grad)
        gl = -np.tril(gb @ _mT(x)) if ctx.needs_input_grad[0] else None
        return (None if gl is None else sum_to_shape(gl, low.shape),
                sum_to_shape(gb, ctx.b_shape) if ctx.needs_input_grad[1] else None)


def solve_triangular(low, b):
    """``torch.linalg.solve_triangular(low, b, upper=False)``: only the lower triangle of
    ``low`` is read; batch dims broadcast."""
    if low.dim() < 2 or b.dim() < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor A must have at least "
                           "2 dimensions.")
    return SolveTriangular.apply(low, b)


# --- digamma, as ATen's digamma_one (for positive arguments) -----------------------------------
_PSI_10 = 2.25175258906672110764
_PSI_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
          -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
          8.33333333333333333333E-2)


def _log(x):
    """``std::log`` in x's dtype: float32 through float64 (NumPy's float32 SIMD log is
    further from glibc's ``logf`` than the rounded double)."""
    return np.log(x.astype(np.float64)).astype(x.dtype)


def _digamma(x):
    """ATen's ``digamma_one<T, double>`` for ``x > 0`` of dtype T: the recurrence steps and
    the final result in T, the sums in float64."""
    dt = x.dtype.type
    result = np.zeros(x.shape)
    for _ in range(10):
        small = x < 10
        if not small.any():
            break
        result = np.where(small, result - 1 / x, result)
        x = np.where(small, x + dt(1), x)
    z = 1.0 / (x * x).astype(np.float64)
    poly = np.full(x.shape, _PSI_A[0])
    for c in _PSI_A[1:]:
        poly = poly * z + c
    y = np.where(x < 1.0e17, z * poly, 0.0)
    out = result + _log(x) - dt(0.5) / x - y
    return np.where(x == 10, result + _PSI_10, out).astype(dt)


# --- d(sample)/d(concentration) -----------------------------------------------------------------
_F08, _F09, _F11 = float(np.float32(0.8)), float(np.float32(0.9)), float(np.float32(1.1))
_COEF_UV = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343,
     1, 0.32668115, 0.10406089, 0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758,
     0.16639465, 0.020070113, -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
     0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07]])


def standard_gamma_grad(alpha, x):
    """``-(d/dalpha cdf(x; alpha)) / pdf(x; alpha)`` for standard Gamma draws ``x``
    (ATen's ``standard_gamma_grad_one``: a Taylor series for small x, Rice's saddle point
    for large alpha, a rational fit otherwise)."""
    a = alpha.astype(np.float64)
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        # Taylor series for x < 0.8
        numer, denom = np.ones_like(a), a.copy()
        series1, series2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x64 / i)
            denom = denom + 1
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = np.power(x64, a)
        gamma_pdf = np.power(x64, a - 1) * np.exp(-x64)
        gamma_cdf = pow_x_alpha * series1
        gamma_cdf_alpha = (np.log(x64) - _digamma(a)) * gamma_cdf - pow_x_alpha * series2
        taylor = -gamma_cdf_alpha / gamma_pdf
        taylor = np.where(np.isnan(taylor), 0.0, taylor)
        # Rice saddle point for alpha > 8
        numer_1 = 1 + 24 * a * (1 + 12 * a)
        numer_2 = (1440 * (a * a) + 6 * x64 * (53 - 120 * x64) - 65 * x64 * x64 / a
                   + a * (107 + 3600 * x64))
        near = numer_1 * numer_2 / (1244160 * (a * a) * (a * a))
        den = np.sqrt(8 * a)
        term2 = den / (a - x64)
        term3 = np.power(x64 - a - a * np.log(x64 / a), -1.5)
        term23 = np.where(x64 < a, term2 - term3, term2 + term3)
        term1 = np.log(x64 / a) * term23 - np.sqrt(2 / a) * (a + x64) / ((a - x64) * (a - x64))
        stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
        far = -stirling * (x64 * term1) / den
        rice = np.where((_F09 * a <= x64) & (x64 <= _F11 * a), near, far)
        # bivariate rational approximation otherwise
        u, v = np.log(x64 / a), np.log(a)
        cv = [_COEF_UV[0, i] + u * (_COEF_UV[1, i] + u * _COEF_UV[2, i]) for i in range(8)]
        p = cv[0] + v * (cv[1] + v * (cv[2] + v * cv[3]))
        q = cv[4] + v * (cv[5] + v * (cv[6] + v * cv[7]))
        rational = np.exp(p / q)
    out = np.where(x64 < _F08, taylor, np.where(a > 8.0, rice, rational))
    return out.astype(x.dtype)


def _beta_grad_alpha_small(x, alpha, beta):
    factor = _digamma(alpha) - _digamma(alpha + beta) - _log(x)
    numer = np.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * np.power(1 - x, -beta) * series
    return np.where(np.isnan(result), 0.0, result)


def _beta_grad_beta_small(x, alpha, beta):
    factor = _digamma(alpha + beta) - _digamma(beta)
    numer, betas, dbetas = np.ones_like(x), np.ones_like(x), np.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -np.power(1 - x, 1 - beta) * series
    return np.where(np.isnan(result), 0.0, result)


def _beta_grad_alpha_mid(x, alpha, beta):
    total = alpha + beta
    mean = alpha / total
    std = np.sqrt(alpha * beta / (total + 1)) / total
    bb = beta * beta
    poly = 47 * x * bb * bb + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * bb * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * bb + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (
                    8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    near = prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / np.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
                * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * bb
    axbx = alpha * (x - 1) + beta * x
    term1_den = np.sqrt(2 * alpha / beta) * np.power(total, 1.5) * axbx * axbx
    term1 = term1_num / term1_den
    term2 = 0.5 * np.log(alpha / (total * x))
    term3 = np.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4_base = beta * np.log(beta / (total * (1 - x))) + alpha * np.log(alpha / (total * x))
    term4 = np.power(term4_base, -1.5)
    term1234 = term1 + term2 * (term3 + np.where(x < mean, term4, -term4))
    far = stirling * prefactor * term1234
    return np.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), near, far)


_DIRICHLET_C = np.array([
    [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
      [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
      [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
     [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
      [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
      [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
     [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
      [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
      [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
    [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
      [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
      [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
     [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
      [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
      [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
     [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
      [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
      [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]]])


def dirichlet_grad(x, alpha, total):
    """ATen's ``dirichlet_grad_one``: ``-(d/dalpha cdf(x; alpha, total - alpha)) /
    pdf(x; ...) / (1 - x)``, the scaled reparameterised gradient of Beta draws ``x``. The
    small-x and small-(1 - x) series run in the input's dtype, as torch's ``scalar_t`` ones."""
    dt = np.result_type(x)
    xs, a_s, ts = (np.asarray(v, dt) for v in np.broadcast_arrays(x, alpha, total))
    beta_s = ts - a_s
    boundary = ts * xs * (1 - xs)
    x64, a, t = xs.astype(np.float64), a_s.astype(np.float64), ts.astype(np.float64)
    beta = t - a
    with np.errstate(all="ignore"):
        small_x = _beta_grad_alpha_small(xs, a_s, beta_s)
        big_x = -_beta_grad_beta_small(1 - xs, beta_s, a_s)
        mid = _beta_grad_alpha_mid(x64, a, beta)
        u = np.log(x64)
        la = np.log(a) - u
        lb = np.log(t) - la
        pow_u, pow_a = (np.ones_like(u), u, u * u), (np.ones_like(la), la, la * la)
        p = q = 0.0
        c = _DIRICHLET_C
        for i in range(3):
            for j in range(3):
                ua = pow_u[i] * pow_a[j]
                p = p + ua * (c[0, i, j, 0] + lb * (c[0, i, j, 1] + lb * (
                    c[0, i, j, 2] + lb * c[0, i, j, 3])))
                q = q + ua * (c[1, i, j, 0] + lb * (c[1, i, j, 1] + lb * (
                    c[1, i, j, 2] + lb * c[1, i, j, 3])))
        digammas = (_digamma(ts) - _digamma(a_s)).astype(np.float64)
        rational = p / q * (x64 * digammas / beta)
    out = np.select([(xs <= 0.5) & (boundary < 2.5), (xs >= 0.5) & (boundary < 0.75),
                     (a_s > 6) & (beta_s > 6)], [small_x, big_x, mid], rational)
    return out.astype(dt)


class StandardGamma(Op):
    """Gamma(alpha, 1) draws; d(draw)/d(alpha) by implicit reparameterisation."""

    _backward_name = "StandardGammaBackward0"

    @staticmethod
    def forward(ctx, alpha, *, generator=None):
        out = _samplers.standard_gamma(_gen(generator), alpha)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        alpha, out = ctx.saved_tensors
        return grad * standard_gamma_grad(alpha, out)


def standard_gamma(alpha, generator=None):
    """``torch._standard_gamma(alpha)``."""
    return StandardGamma.apply(alpha, generator=generator)


class SampleDirichlet(Op):
    """Dirichlet draws; backward as torch's ``_Dirichlet_backward``."""

    _backward_name = "_DirichletBackward"

    @staticmethod
    def forward(ctx, alpha, *, generator=None):
        out = _samplers.dirichlet(_gen(generator), alpha)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        total = np.broadcast_to(alpha.sum(-1, keepdims=True), alpha.shape)
        g = dirichlet_grad(x, alpha, total)
        return g * (grad - (x * grad).sum(-1, keepdims=True))


def sample_dirichlet(alpha, generator=None):
    """``torch._sample_dirichlet(alpha)``, differentiable as ``_Dirichlet.apply``."""
    return SampleDirichlet.apply(alpha, generator=generator)


__all__ = ["dirichlet_grad", "sample_dirichlet", "solve_triangular", "standard_gamma",
           "standard_gamma_grad"]
