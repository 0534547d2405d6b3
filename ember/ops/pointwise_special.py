"""Special functions on NumPy arrays (erf, erfinv, lgamma, digamma, i0) and their ops.

NumPy has none of them and ember depends on NumPy alone, so each kernel is a classic
approximation good to float64 rounding: Cody's rational erf/erfc, Newton-polished erfinv,
Lanczos lgamma, Cephes' digamma and trigamma (torch's own), and Bessel's I0/I1 by power
series below 30 and the asymptotic series above. Float32 inputs are computed in float64
and rounded once.
"""
from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from ._opmath import HALF, opmath
from ._opmath import fma32 as _fma32
from ._opmath import half_mul as _half_times
from ._shape_utils import sum_to_shape
from .elementwise import _float_input

__all__ = ["erf", "erfc", "erfinv", "lgamma", "digamma", "i0", "xlog1py"]

_SQRT_PI = math.sqrt(math.pi)
_2_SQRT_PI = 2 / _SQRT_PI

# W. J. Cody, "Rational Chebyshev approximations for the error function" (1969), the
# coefficients of Netlib's CALERF: erf on [0, 0.46875], erfc on (0.46875, 4] and (4, inf)
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _erf_small(y):
    """erf(y) for |y| <= 0.46875."""
    z = y * y
    num, den = _A[4] * z, z
    for i in range(3):
        num, den = (num + _A[i]) * z, (den + _B[i]) * z
    return y * (num + _A[3]) / (den + _B[3])


def _erfc_pos(y):
    """erfc(y) for y > 0.46875 (also fine, though unused, below)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        num, den = _C[8] * y, y
        for i in range(7):
            num, den = (num + _C[i]) * y, (den + _D[i]) * y
        mid = (num + _C[7]) / (den + _D[7])
        z = 1 / (y * y)
        num, den = _P[5] * z, z
        for i in range(4):
            num, den = (num + _P[i]) * z, (den + _Q[i]) * z
        far = (1 / _SQRT_PI - z * (num + _P[4]) / (den + _Q[4])) / y
        r = np.where(y <= 4, mid, far)
        # exp(-y*y) in two factors: y*y rounded would cost digits where erfc is tiny
        ys = np.trunc(y * 16) / 16
        r = np.exp(-ys * ys) * np.exp(-(y - ys) * (y + ys)) * r
    return np.where(y >= 27.3, 0.0, r)  # below float64's smallest subnormal


def erf_array(x):
    """erf of a float64 array."""
    y = np.abs(x)
    small = y <= 0.46875
    big = np.copysign(1 - _erfc_pos(np.where(small, 1.0, y)), x)
    return np.where(small, _erf_small(np.where(small, x, 0.0)), big)


def erfc_array(x):
    """erfc of a float64 array, accurate where erfc is small."""
    y = np.abs(x)
    small = y <= 0.46875
    tail = _erfc_pos(np.where(small, 1.0, y))
    big = np.where(x < 0, 2 - tail, tail)
    return np.where(small, 1 - _erf_small(np.where(small, x, 0.0)), big)


def erfinv_array(x):
    """erfinv of a float64 array: Giles' single-precision approximation, then Newton steps
    (the residual taken from erfc near +-1, where erf(y) - x would cancel)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = -np.log((1 - x) * (1 + x))
        a = w - 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * a
        b = np.sqrt(w) - 3
        q = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            q = c + q * b
        y = np.where(w < 5, p, q) * x
        ax = np.abs(x)
        tail = ax > 0.5
        for _ in range(5):
            # Newton on erf(y) = x, in the tails on log erfc(|y|) = log(1 - |x|) instead:
            # nearly quadratic there, where erf(y) - x would cancel
            ay = np.abs(y)
            c = erfc_array(ay)
            d = _2_SQRT_PI * np.exp(-y * y)
            step = np.where(tail, np.sign(x) * (np.log(c) - np.log1p(-ax)) * c / -d,
                            (erf_array(y) - x) / d)
            y = np.where(np.isfinite(step), y - step, y)
        y = np.where(ax == 1, np.copysign(np.inf, x), y)
        return np.where(ax > 1, np.nan, y)


# Lanczos (g = 7, n = 9): Gamma(z + 1) = sqrt(2 pi) t**(z + 1/2) e**-t A(z), t = z + 7.5
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lgamma_pos(x):
    """log Gamma(x) for x >= 0.5."""
    z = x - 1
    a = _LANCZOS[0]
    for i in range(1, 9):
        a = a + _LANCZOS[i] / (z + i)
    t = z + 7.5
    with np.errstate(invalid="ignore"):
        return _HALF_LOG_2PI + (z + 0.5) * np.log(t) - t + np.log(a)


def _sin_pi(x):
    """sin(pi x), exact at integers (reduces x modulo 2 first)."""
    r = np.fmod(x, 2.0)
    return np.sin(np.pi * r)


def lgamma_array(x):
    """log|Gamma(x)| of a float64 array (inf at 0 and the negative integers, as torch)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        neg = x < 0.5
        pos = _lgamma_pos(np.where(neg, 1 - x, x))
        refl = np.log(np.pi / np.abs(_sin_pi(x))) - pos
        out = np.where(neg, refl, pos)
        out = np.where((x == 1) | (x == 2), 0.0, out)  # exact zeros, as the C library's
        out = np.where(np.isinf(x) | ((x <= 0) & (x == np.trunc(x))), np.inf, out)
        return np.where(np.isnan(x), np.nan, out)


# Cephes psi's asymptotic coefficients (B_2k / 2k), highest power first, as torch's digamma
_PSI_A = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
          -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
          8.33333333333333333333e-2)


def digamma_array(x):
    """digamma of a float64 array, torch's algorithm: reflection below 0, the recurrence up
    to 10, then the asymptotic series; -inf at +0, inf at -0, nan at negative integers."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        neg = x < 0
        whole = x == np.trunc(x)
        v = np.where(neg, 1 - x, x)
        res = np.zeros_like(v)
        for _ in range(10):
            low = v < 10
            res = res - np.where(low, 1 / v, 0.0)
            v = np.where(low, v + 1, v)
        z = 1 / (v * v)
        poly = _PSI_A[0]
        for c in _PSI_A[1:]:
            poly = poly * z + c
        out = res + np.log(v) - 0.5 / v - np.where(v < 1e17, z * poly, 0.0)
        frac = np.fmod(x, 1.0)
        out = np.where(neg, out - np.pi / np.tan(np.pi * frac), out)
        out = np.where(neg & whole, np.nan, out)
        out = np.where(x == 0, np.copysign(np.inf, -x), out)
        return np.where(x == -np.inf, np.nan, out)


def trigamma_array(x):
    """polygamma(1, x) of a float64 array, as torch computes it."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        neg = x < 0.5
        res = np.where(neg, -(np.pi * np.pi) / np.sin(np.pi * x) ** 2, 0.0)
        v = np.where(neg, 1 - x, x)
        for _ in range(6):
            res = res + 1 / (v * v)
            v = v + 1
        ixx = 1 / (v * v)
        res = res + (1 + 1 / (2 * v) + ixx * (1 / 6 - ixx * (1 / 30 - ixx * (1 / 42)))) / v
        return np.where(neg, -res, res)


def _bessel_i(x, nu):
    """I_nu(x) for nu in (0, 1): power series up to |x| = 30, asymptotic series beyond."""
    ax = np.abs(x)
    small = ax <= 30
    s = np.where(small, ax, 0.0)
    q = s * s / 4
    term = np.ones_like(s) if nu == 0 else s / 2
    total = term
    for k in range(1, 90):
        term = term * q / (k * (k + nu))
        total = total + term
    b = np.where(small, 30.0, ax)
    mu = 4.0 * nu * nu
    term, series = np.ones_like(b), np.ones_like(b)
    for k in range(1, 30):
        term = -term * (mu - (2 * k - 1) ** 2) / (k * 8 * b)
        series = series + term
    with np.errstate(over="ignore", invalid="ignore"):
        big = np.exp(b - 0.5 * np.log(2 * np.pi * b)) * series
    out = np.where(small, total, big)
    return out if nu == 0 else np.copysign(out, x)


def i0_array(x):
    """Modified Bessel function I0 of a float64 array."""
    return np.where(np.isnan(x), np.nan, _bessel_i(x, 0))


def i1_array(x):
    """Modified Bessel function I1 of a float64 array."""
    return np.where(np.isnan(x), np.nan, _bessel_i(x, 1))


def _in_float64(fn, x):
    """``fn`` evaluated in float64 and rounded once to ``x``'s dtype (float16 through
    float32: torch computes float16 in float32, whose result is then rounded again)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = fn(_f64(x))
        if x.dtype is HALF:
            out = out.astype(np.float32)
        return out.astype(x.dtype, copy=False)


def run_quietly(fn, x):
    """``fn(x)`` in ``x``'s dtype, with NumPy's floating-point warnings off (the special
    functions meet overflow and 0/0 at points where torch returns inf or nan silently)."""
    with np.errstate(all="ignore"):
        return np.asarray(fn(x), x.dtype)


def _need_tensor(name, v, pos=1, arg="input"):
    """torch's TypeError for a number where a tensor is required."""
    if not isinstance(v, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(v).__name__}")


def float_input(name, input):
    """``input`` checked to be a tensor, integers and bools promoted to the default float;
    a complex one only where torch has a complex kernel (torch's error otherwise)."""
    _need_tensor(name, input)
    if input._data.dtype.kind == "c":
        from .complex_ops import check_complex_kernel

        check_complex_kernel(name, input)
    return _float_input(input)


# --- ops ----------------------------------------------------------------------------------
_AS_P = np.float32(0.3275911)
_AS_A = tuple(np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027,
                                       1.061405429))


def erf_as_float32(x):
    """torch's ``Vectorized<float>::erf``, which its float16 erf and gelu use: Abramowitz-Stegun
    7.1.26 in float32 with fused multiply-adds (absolute error about 1e-7, so tiny inputs lose
    digits): bit for bit what torch rounds to float16."""
    one = np.float32(1)
    t = one / _fma32(_AS_P, np.abs(x), one)
    a1, a2, a3, a4, a5 = _AS_A
    r = _fma32(_fma32(_fma32(_fma32(a5, t, a4), t, a3), t, a2), t, a1)
    e = np.exp(-(x * x).astype(np.float64)).astype(np.float32)
    return np.copysign(_fma32(-e * t, r, one), x)


class Erf(Op):
    """z = erf(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        if x.dtype is HALF:  # torch's vectorised float16 erf: Abramowitz-Stegun in float32
            return opmath(erf_as_float32, x)
        return _in_float64(erf_array, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if grad.dtype is HALF:  # torch's 2 / sqrt(pi) * exp(-x.pow(2)) * grad, op by op
            return _half_times(np.exp(-(x * x)), _2_SQRT_PI) * grad
        return grad * (_2_SQRT_PI * np.exp(-x * x))


class Erfc(Op):
    """z = 1 - erf(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _in_float64(erfc_array, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if grad.dtype is HALF:  # torch's formula op by op, as for erf
            return _half_times(np.exp(-(x * x)), -_2_SQRT_PI) * grad
        return grad * (-_2_SQRT_PI * np.exp(-x * x))


class Erfinv(Op):
    """z = erf^-1(x)"""

    @staticmethod
    def forward(ctx, x):
        out = _in_float64(erfinv_array, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            if grad.dtype is HALF:  # torch's 0.5 sqrt(pi) exp(out.pow(2)) * grad, op by op
                return _half_times(np.exp(out * out), 0.5 * _SQRT_PI) * grad
            return grad * (_SQRT_PI / 2 * np.exp(out * out))


class Lgamma(Op):
    """z = log|Gamma(x)|"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _in_float64(lgamma_array, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _in_float64(digamma_array, x)


class Digamma(Op):
    """z = d/dx log Gamma(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _in_float64(digamma_array, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _in_float64(trigamma_array, x)


class I0(Op):
    """z = I0(x), the modified Bessel function of order 0 (derivative I1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _in_float64(i0_array, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _in_float64(i1_array, x)


class Xlog1py(Op):
    """z = x * log1p(y), 0 where x == 0 (unless y is nan)"""

    @staticmethod
    def forward(ctx, x, y, *, node_name="SpecialXlog1PyBackward0"):
        ctx.show_as(node_name)
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(np.isnan(y), np.nan, np.where(x == 0, 0, x * np.log1p(y)))
        return out.astype(np.result_type(x, y), copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gy = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if need[0]:
                gx = sum_to_shape(grad * np.where((x == 0) & (y <= -1), 0, np.log1p(y)),
                                  np.shape(x)).astype(grad.dtype, copy=False)
            if need[1]:
                gy = sum_to_shape(grad * x / (1 + y), np.shape(y)).astype(grad.dtype, copy=False)
        return gx, gy


def _unary(op, name, input):
    return op.apply(float_input(name, input))


def erf(input):
    """Elementwise error function."""
    return _unary(Erf, "erf", input)


def erfc(input):
    """Elementwise complementary error function ``1 - erf(x)``."""
    return _unary(Erfc, "erfc", input)


def erfinv(input):
    """Elementwise inverse error function (nan outside [-1, 1], +-inf at +-1)."""
    return _unary(Erfinv, "erfinv", input)


def lgamma(input):
    """Elementwise log of the absolute value of the gamma function."""
    return _unary(Lgamma, "lgamma", input)


def digamma(input):
    """Elementwise digamma (the derivative of lgamma); -inf at 0, nan at negative integers."""
    return _unary(Digamma, "digamma", input)


def i0(input):
    """Elementwise modified Bessel function of the first kind, order 0."""
    return _unary(I0, "i0", input)


def xlog1py(input, other):
    """``input * log1p(other)``, 0 where ``input`` is 0; mirrors ``torch.special.xlog1py``."""
    from .pointwise_math import binary_float

    return binary_float(Xlog1py, "special_xlog1py", input, other, scalars=True,
                        names=("SpecialXlog1PyBackward0", "SpecialXlog1PyBackward1",
                               "SpecialXlog1PyBackward2"))
