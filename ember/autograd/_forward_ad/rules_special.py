"""Tangent rules of the special functions whose reverse formula works on arrays only (so
the double-vjp fallback cannot serve them): ``tx * f'(x)``, ``f'`` as in their backward."""
from __future__ import annotations

import math

from ...ops import _special_bessel as B
from ...ops import _special_misc as S
from ...ops import pointwise_math
from ...ops.clamp import where
from ._rules import elementwise, rule

_SQRT_2PI = math.sqrt(2 * math.pi)


def _i1_slope(x, out, scaled=False):
    """torch's i1_backward / i1e_backward: 0.5 where |x| <= eps."""
    import numpy as np

    from ... import special

    eps = float(np.finfo(x._data.dtype).eps)
    tiny = x.abs() <= eps
    safe = where(tiny, eps, x).to(x.dtype)
    if scaled:
        slope = special.i0e(safe) - out * (safe.sgn() + safe.reciprocal())
    else:
        slope = special.i0(safe) - out / safe
    return where(tiny, 0.5, slope).to(out.dtype)


def _i0e_slope(x, out):
    from ... import special

    return special.i1e(x) - x.sgn() * out


elementwise({
    S.Ndtri: lambda x, out: (out * out / 2).exp() * _SQRT_2PI,
    S.LogNdtr: lambda x, out: (-(out + x * x / 2)).exp() / _SQRT_2PI,
    S.Erfcx: lambda x, out: x * out * 2 - 2 / math.sqrt(math.pi),
    S.Entr: lambda x, out: -(x.log() + 1),
    B.I0e: _i0e_slope,
    B.I1: _i1_slope,
})


@rule(S.Zeta)
def _zeta(xs, ts, out, **options):
    """torch has no forward AD for zeta: its error, under torch's op name."""
    from ._fallback import unsupported

    raise NotImplementedError(unsupported(S.Zeta).replace(" zeta ", " special_zeta ", 1))


@rule(pointwise_math.Logit)
def _logit(xs, ts, out, eps=None):
    """torch's logit tangent: ``t / (x (1 - x))`` inside [eps, 1 - eps] (or [0, 1]), else 0
    with ``eps`` and NaN without; both branches are computed, then one is picked."""
    x, t = xs[0], ts[0]
    lo, hi = (0.0, 1.0) if eps is None else (eps, 1.0 - eps)
    inside = (x >= lo) & (x <= hi)
    return where(inside, t / (x * (1 - x)), 0.0 if eps is not None else math.nan).to(out.dtype)
