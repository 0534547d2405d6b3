"""Tangent rules of the ops that take complex numbers apart or put them together.

A complex tangent is the directional derivative ``(df/dz) dz + (df/dconj(z)) conj(dz)``:
``real``, ``imag``, ``conj``, ``view_as_real``, ``view_as_complex`` and ``complex`` are
linear over the reals, so the tangent is the same op on the tangents (the views of a
tangent are views of it, so in-place writes to ``z.real`` reach ``z``'s tangent);
``angle`` and ``polar`` have their closed forms.
"""
from __future__ import annotations

from ...ops import complex_ops as C
from ...ops.clamp import where
from ._rules import add, linear, rule, zero_of

linear(C.Real, C.Imag, C.Conj, C.ViewAsReal, C.ViewAsComplex)


@rule(C.Complex)
def _complex(xs, ts, out):
    (re, im), (tre, tim) = xs, ts
    return C.Complex.apply(tre if tre is not None else zero_of(re),
                           tim if tim is not None else zero_of(im))


@rule(C.ComplexAngle)
def _angle(xs, ts, out):
    """``d arg(z) = Im(conj(z) dz) / |z|^2``; 0 where ``z`` is 0, as torch."""
    x, t = xs[0], ts[0]
    size2 = (x.conj() * x).real
    return where(size2 == 0, 0.0, (x.conj() * t).imag / size2).to(out.dtype)


@rule(C.Polar)
def _polar(xs, ts, out):
    """``z = r e^{i th}``: ``dz = dr e^{i th} + i z dth``, as its real and imaginary parts."""
    (r, th), (tr, tth) = xs, ts
    cos, sin = th.cos(), th.sin()
    re = add(None if tr is None else tr * cos, None if tth is None else -(tth * r * sin))
    im = add(None if tr is None else tr * sin, None if tth is None else tth * r * cos)
    return C.Complex.apply(re, im)
