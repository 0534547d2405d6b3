"""More special functions, on NumPy alone: polygamma (through Hurwitz's zeta), the multivariate
log-gamma ``mvlgamma``, and the regularized incomplete gamma functions ``igamma``/``igammac``.

The kernels follow torch's own (Cephes' ``zeta``; for igamma ATen's ``calc_igamma``, in
``_igamma``), vectorised: each loop runs until every element has converged.

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).
"""
from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from ._igamma import density as igamma_density
from ._igamma import igamma as igamma_array
from ._out import write_out
from ._shape_utils import sum_to_shape
from .pointwise_math import _check_shapes, binary_float
from .pointwise_special import (
    _in_float64,
    digamma_array,
    float_input,
    lgamma_array,
    trigamma_array,
)

__all__ = ["polygamma", "mvlgamma", "igamma", "igammac"]
# x.polygamma(n) takes its arguments the other way round: see ember/_tensor_methods_more.py
TENSOR_METHODS: tuple[str, ...] = ("mvlgamma", "igamma", "igammac")

_MACHEP = 1.11022302462515654042e-16
# Cephes zeta's Euler-Maclaurin coefficients (2k)! / B_2k
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)


# --- kernels on float64 arrays ------------------------------------------------------------
def zeta_array(x, q):
    """Hurwitz's zeta(x, q) = sum_k (k + q) ** -x, Cephes' algorithm (torch's ``zeta``)."""
    x, q = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(q, np.float64))
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        pole = (q <= 0) & (q == np.floor(q))
        bad = (x < 1) | ((q <= 0) & ~pole & (x != np.floor(x)))
        out[x == 1] = np.inf
        out[~(x <= 1) & pole] = np.inf  # NaN x too: torch tests x == 1 and x < 1 only
        todo = (x > 1) & ~pole & ~bad & ~np.isnan(q)
        xs, a = x[todo], q[todo].copy()
        s = a ** -xs
        b = np.zeros_like(s)
        done = np.zeros(s.shape, bool)
        i = 0
        while True:  # direct sum until the terms are negligible or a > 9 after 9+ terms
            going = ~done & ((i < 9) | (a <= 9.0))
            if not going.any():
                break
            i += 1
            a = np.where(going, a + 1, a)
            b = np.where(going, a ** -xs, b)
            s = np.where(going, s + b, s)
            done |= going & (-_MACHEP * s < b) & (b < _MACHEP * s)
        w = a
        tail = ~done
        s = np.where(tail, s + b * w / (xs - 1) - 0.5 * b, s)
        fa, k = np.ones_like(s), 0.0
        for coef in _ZETA_A:  # the Euler-Maclaurin correction
            fa = fa * (xs + k)
            b = b / w
            t = fa * b / coef
            s = np.where(tail, s + t, s)
            tail &= ~(np.abs(t / s) < _MACHEP)
            k += 1.0
            fa = fa * (xs + k)
            b = b / w
            k += 1.0
        out[todo] = s
    return out


def polygamma_array(n: int, x):
    """The ``n``-th derivative of digamma at float64 ``x`` (torch's formulas)."""
    if n == 0:
        return digamma_array(x)
    if n == 1:
        return trigamma_array(x)
    sign = 1.0 if n % 2 else -1.0
    return sign * math.exp(math.lgamma(n + 1.0)) * zeta_array(n + 1.0, x)


# --- ops --------------------------------------------------------------------------------------
class Polygamma(Op):
    """z = polygamma(n, x), the n-th derivative of digamma"""

    @staticmethod
    def forward(ctx, x, *, n, node_name="PolygammaBackward0"):
        ctx.show_as(node_name)
        ctx.save_for_backward(x)
        ctx.n = n
        return _in_float64(lambda v: polygamma_array(n, v), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _in_float64(lambda v: polygamma_array(ctx.n + 1, v), x)


class Mvlgamma(Op):
    """z = sum_i lgamma(x - i / 2) + p (p - 1) / 4 log(pi), i < p"""

    @staticmethod
    def forward(ctx, x, *, p):
        ctx.save_for_backward(x)
        ctx.p = p
        t = x.dtype.type
        # as torch: the arguments and the lgammas in x's dtype, summed, the constant added
        args = x[..., None] + np.arange(-(p - 1) / 2, 0.25, 0.5).astype(x.dtype)
        terms = _in_float64(lgamma_array, args)
        return (terms.sum(axis=-1) + t(p * (p - 1) * math.log(math.pi) / 4)).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        args = x.astype(np.float64)[..., None] + np.arange(-(ctx.p - 1) / 2, 0.25, 0.5)
        return grad * digamma_array(args).sum(axis=-1).astype(grad.dtype)


class Igamma(Op):
    """z = P(a, x) (``upper``: Q(a, x)), the regularized incomplete gamma functions;
    dP/dx = x ** (a - 1) exp(-x) / Gamma(a), no gradient for ``a`` (as torch)"""

    @staticmethod
    def forward(ctx, a, x, *, upper=False):
        ctx.show_as("IgammacBackward0" if upper else "IgammaBackward0")
        ctx.save_for_backward(a, x)
        ctx.upper = upper
        return igamma_array(a, x, upper)

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            name = "igammac" if ctx.upper else "igamma"
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        d = igamma_density(a, x)
        g = grad * (-d if ctx.upper else d)
        return None, sum_to_shape(g, x.shape).astype(x.dtype, copy=False)


# --- wrappers ---------------------------------------------------------------------------------
def _polygamma_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return int(n)


def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of digamma, elementwise (``n=0``: digamma; integers give the
    default float dtype).

    Raises:
        TypeError: ``n`` is not an int.
        RuntimeError: ``n`` is negative.
    """
    return Polygamma.apply(float_input("polygamma", input), n=_polygamma_n(n))


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma function of dimension ``p``:
    ``sum(lgamma(x - i / 2) for i < p) + p (p - 1) / 4 log(pi)``.

    Raises:
        RuntimeError: ``p < 1``.
    """
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return Mvlgamma.apply(float_input("mvlgamma", input), p=int(p))


class _Bound:
    """``Igamma`` with ``upper`` fixed, for ``binary_float`` (which calls ``op.apply``)."""

    def __init__(self, upper: bool):
        self.upper = upper

    def apply(self, a, x, **options):
        return Igamma.apply(a, x, upper=self.upper, **options)


def _igamma(name, input, other, upper, out):
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        _check_shapes(input._data, other._data)
    result = binary_float(_Bound(upper), name, input, other, ints=False)
    return write_out(name, result, out, (input, other))


def igamma(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularized lower incomplete gamma function P(input, other), elementwise with
    broadcasting (nan for negative arguments): torch's numbers (ATen's ``calc_igamma``, see
    ``_igamma``). Only ``other`` gets a gradient, as in torch.

    Raises:
        NotImplementedError: both tensors are integers, or (at backward) ``input`` requires
            grad.
    """
    return _igamma("igamma", input, other, False, out)


def igammac(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P(input, other).

    Raises:
        NotImplementedError: both tensors are integers, or (at backward) ``input`` requires
            grad.
    """
    return _igamma("igammac", input, other, True, out)
