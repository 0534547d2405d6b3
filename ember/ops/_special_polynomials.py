"""The orthogonal polynomials of ``torch.special``: Chebyshev T, U, V, W (and their shifted forms
on [0, 1]), Hermite H and He, Laguerre L and Legendre P, each ``f(input, n)``.

Each follows torch's kernel (``aten/src/ATen/native/Math.h``) in the result's precision: ``n``
truncated to an integer (NaN, inf and out-of-range degrees count as negative, giving 0), the
special values at the ends of the interval, a closed form (``cos(n acos x)`` ...) for high
degrees inside it, else the three-term recurrence, stopped once it turns NaN. Hermite
polynomials of degree above 128 (float32) or 512 (float64) are NaN, as in torch. Integer
arguments give the default float dtype; none of them has a gradient, as in torch.

Differs from torch: a NaN ``input`` of degree 2 or more gives NaN here; torch's recurrence
returns an uninitialised variable there (whatever the previous element left).
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap
from ._out import write_out
from .pointwise_math import binary_float

__all__ = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"]


def _degree(n):
    """torch's static_cast<int64_t>(n): NaN, inf and values past int64 become negative."""
    if n.dtype.kind != "f":
        return n.astype(np.int64)
    ok = np.isfinite(n) & (np.abs(n) < 2.0 ** 63)
    return np.where(ok, np.trunc(np.where(ok, n, 0)), -1).astype(np.int64)


def _recur(counts, p, q, step, nan_stop=True):
    """q after ``counts`` steps (per element) of (p, q) -> (q, step(i, p, q))."""
    for i in range(int(counts.max(initial=0))):
        active = i < counts
        if nan_stop:
            active &= ~np.isnan(q)
        if not active.any():
            break
        r = step(i, p, q)
        p, q = np.where(active, q, p), np.where(active, r, q)
    return q


def _chebyshev(kind, z, n, at_plus, at_minus, big, shifted=False):
    """Chebyshev ``kind`` of degree n at z (z = 2x - 1 for the shifted ones): the end values
    where ``at_plus``/``at_minus`` (z = 1 / z = -1), a closed form for n > ``big`` and
    |z| < 1, else the recurrence r = 2 z q - p."""
    dt = z.dtype
    nf = n.astype(dt)
    even = n % 2 == 0
    odd_sign = np.where(even, 1, -1).astype(dt)
    first = {"t": z, "u": z + z, "v": z + z - 1.0, "w": z + z + 1.0}[kind]
    closed = (n > big) & (np.abs(z) < 1)
    counts = np.where(closed | (n < 2), 0, n - 1)
    two_z = z + z
    out = _recur(counts, np.ones_like(z), first, lambda i, p, q: two_z * q - p)
    out = np.where(n == 1, first, np.where(n == 0, 1.0, out))
    theta = np.arccos(np.where(closed, z, 0.0).astype(dt))
    if kind == "t":
        form = np.cos(nf * theta)
        plus, minus = np.ones_like(z), odd_sign
    elif kind == "u":
        s = np.sin(theta)
        form = np.where(s != 0, np.sin((nf + 1) * theta) / s,
                        (nf + 1) * np.cos((nf + 1) * theta) / z)
        plus, minus = nf + 1, odd_sign * (nf + 1)
    elif kind == "v":
        form = np.where(np.sin(theta / 2.0) != 1, np.cos((nf + 0.5) * theta)
                        / np.cos(theta / 2.0), odd_sign * (nf + nf + 1))
        plus, minus = np.ones_like(z), odd_sign * (nf + nf + 1)
    else:
        # NOTE: where cos(theta / 2) rounds to 1, torch gives W_n(1) = 2n + 1, but +-1 for
        # the shifted polynomial
        edge = odd_sign if shifted else np.where(z > 0, nf + nf + 1, odd_sign)
        form = np.where(np.cos(theta / 2.0) != 1, np.sin((nf + 0.5) * theta)
                        / np.sin(theta / 2.0), edge)
        plus, minus = nf + nf + 1, odd_sign
    out = np.where(closed, form, out)
    out = np.where(at_plus, plus, np.where(at_minus, minus, out))
    return np.where(n < 0, 0.0, out)


def _chebyshev_kernel(kind):
    def kernel(x, n):
        return _chebyshev(kind, x, n, x == 1, x == -1, 6 if kind == "t" else 8)
    return kernel


def _shifted_kernel(kind):
    def kernel(x, n):
        return _chebyshev(kind, x + x - 1.0, n, x == 1, x == 0, 4 if kind == "w" else 6,
                          shifted=True)
    return kernel


def _hermite(x, n, physicists):
    limit = 128 if x.dtype == np.float32 else 512
    counts = np.where((n < 2) | (n > limit), 0, n - 1)
    if physicists:  # H: r = 2 x q - 2 (i + 1) p
        first = x + x
        out = _recur(counts, np.ones_like(x), first,
                     lambda i, p, q: (x + x) * q - (2 * i + 2) * p, nan_stop=False)
    else:  # He: r = x q - (i + 1) p
        first = x
        out = _recur(counts, np.ones_like(x), first, lambda i, p, q: x * q - (i + 1) * p,
                     nan_stop=False)
    out = np.where(n > limit, np.nan, out)
    out = np.where(n == 1, first, np.where(n == 0, 1.0, out))
    return np.where(n < 0, 0.0, out)


def _laguerre(x, n):
    counts = np.where((n < 2) | (x == 0), 0, n - 1)
    first = 1.0 - x
    out = _recur(counts, np.ones_like(x), first,
                 lambda i, p, q: (((2 * i + 2) + (1.0 - x)) * q - (i + 1) * p) / (i + 2))
    out = np.where(n == 1, first, np.where(n == 0, 1.0, out))
    out = np.where(np.abs(x) == 0, 1.0, out)
    return np.where(n < 0, 0.0, out)


def _legendre(x, n):
    ends = np.abs(x) == 1
    counts = np.where((n < 2) | ends, 0, n - 1)
    out = _recur(counts, np.ones_like(x), x,
                 lambda i, p, q: ((2 * i + 3) * x * q - (i + 1) * p) / (i + 2))
    out = np.where(n == 1, x, np.where(n == 0, 1.0, out))
    out = np.where(ends, np.where((x > 0) | (n % 2 == 0), 1.0, -1.0), out)
    return np.where(n < 0, 0.0, out)


class _Polynomial:
    """Forward only (``binary_float`` calls ``apply``): the result never requires grad."""

    def __init__(self, kernel):
        self.kernel = kernel

    def apply(self, x, n):
        x = x._data if isinstance(x, Tensor) else x
        n = n._data if isinstance(n, Tensor) else n
        x, n = np.broadcast_arrays(np.asarray(x), np.asarray(n))
        with np.errstate(all="ignore"):
            out = self.kernel(x, _degree(n))
        return _wrap(np.asarray(out, x.dtype))


def _polynomial(kernel, name, what):
    op = _Polynomial(kernel)
    full = f"special_{name}"

    def special(input, n, *, out: Tensor | None = None) -> Tensor:
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            forms = ("(Tensor x, Tensor n, *, Tensor out = None)",
                     "(Number x, Tensor n, *, Tensor out = None)",
                     "(Tensor x, Number n, *, Tensor out = None)")
            raise TypeError(f"{full}() received an invalid combination of arguments - got "
                            f"({type(input).__name__}, {type(n).__name__}), but expected one "
                            "of:\n" + "".join(f" * {f}\n" for f in forms))
        return write_out(full, binary_float(op, full, input, n, scalars=True), out, (input, n))

    special.__name__ = special.__qualname__ = name
    special.__doc__ = (f"{what} of degree ``n`` at ``input`` (``torch.special.{name}``), "
                       "elementwise with broadcasting; either argument may be a Python number. "
                       "No gradient, as in torch.\n\n    Raises:\n        TypeError: neither "
                       "argument is a tensor.\n")
    return special


chebyshev_polynomial_t = _polynomial(_chebyshev_kernel("t"), "chebyshev_polynomial_t",
                                     "The Chebyshev polynomial of the first kind")
chebyshev_polynomial_u = _polynomial(_chebyshev_kernel("u"), "chebyshev_polynomial_u",
                                     "The Chebyshev polynomial of the second kind")
chebyshev_polynomial_v = _polynomial(_chebyshev_kernel("v"), "chebyshev_polynomial_v",
                                     "The Chebyshev polynomial of the third kind")
chebyshev_polynomial_w = _polynomial(_chebyshev_kernel("w"), "chebyshev_polynomial_w",
                                     "The Chebyshev polynomial of the fourth kind")
shifted_chebyshev_polynomial_t = _polynomial(
    _shifted_kernel("t"), "shifted_chebyshev_polynomial_t",
    "The shifted Chebyshev polynomial of the first kind, ``T_n(2x - 1)``,")
shifted_chebyshev_polynomial_u = _polynomial(
    _shifted_kernel("u"), "shifted_chebyshev_polynomial_u",
    "The shifted Chebyshev polynomial of the second kind, ``U_n(2x - 1)``,")
shifted_chebyshev_polynomial_v = _polynomial(
    _shifted_kernel("v"), "shifted_chebyshev_polynomial_v",
    "The shifted Chebyshev polynomial of the third kind, ``V_n(2x - 1)``,")
shifted_chebyshev_polynomial_w = _polynomial(
    _shifted_kernel("w"), "shifted_chebyshev_polynomial_w",
    "The shifted Chebyshev polynomial of the fourth kind, ``W_n(2x - 1)``,")
hermite_polynomial_h = _polynomial(lambda x, n: _hermite(x, n, True), "hermite_polynomial_h",
                                   "The physicists' Hermite polynomial")
hermite_polynomial_he = _polynomial(lambda x, n: _hermite(x, n, False), "hermite_polynomial_he",
                                    "The probabilists' Hermite polynomial")
laguerre_polynomial_l = _polynomial(_laguerre, "laguerre_polynomial_l",
                                    "The Laguerre polynomial")
legendre_polynomial_p = _polynomial(_legendre, "legendre_polynomial_p",
                                    "The Legendre polynomial")
