"""Formulas of the ops that take complex numbers apart, put them together or conjugate them:
``real``, ``imag``, ``conj``, ``view_as_real``, ``view_as_complex``, ``complex``. With the
conjugated formulas of the holomorphic ops (``_complex_grad.py``) they let a gradient of
complex tensors be differentiated again."""
from __future__ import annotations

from ..complex_ops import (
    Complex,
    Conj,
    Imag,
    Real,
    ViewAsComplex,
    ViewAsReal,
    conj_physical,
    imag,
    real,
    resolve_conj,
    view_as_complex,
    view_as_real,
)
from ..elementwise import mul, to_dtype
from ._common import formula, sum_to


@formula(Real)
def _real(ctx, grad):
    return to_dtype(grad, ctx.x_dtype)  # the real gradient as a complex one


@formula(Imag)
def _imag(ctx, grad):
    return mul(to_dtype(grad, ctx.x_dtype), 1j)


@formula(Conj)
def _conj(ctx, grad):
    return conj_physical(grad)


@formula(ViewAsReal)
def _view_as_real(ctx, grad):
    return view_as_complex(grad.contiguous())  # the (re, im) pairs as complex numbers


@formula(ViewAsComplex)
def _view_as_complex(ctx, grad):
    return view_as_real(resolve_conj(grad))  # view_as_real refuses a conj() result


@formula(Complex)
def _complex(ctx, grad):
    need = ctx.needs_input_grad
    return (sum_to(real(grad), ctx.re_shape) if need[0] else None,
            sum_to(imag(grad), ctx.im_shape) if need[1] else None)
