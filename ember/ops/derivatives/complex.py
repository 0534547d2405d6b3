"""Formulas of the ops that take complex numbers apart or conjugate them: ``real``, ``imag``
and ``conj``. With the conjugated formulas of the holomorphic ops (``_complex_grad.py``) they
let a gradient of complex tensors be differentiated again."""
from __future__ import annotations

from ..complex_ops import Conj, Imag, Real, conj_physical
from ..elementwise import mul, to_dtype
from ._common import formula


@formula(Real)
def _real(ctx, grad):
    return to_dtype(grad, ctx.x_dtype)  # the real gradient as a complex one


@formula(Imag)
def _imag(ctx, grad):
    return mul(to_dtype(grad, ctx.x_dtype), 1j)


@formula(Conj)
def _conj(ctx, grad):
    return conj_physical(grad)
