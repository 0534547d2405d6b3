"""Formulas of the ops that take complex numbers apart, put them together or conjugate them:
``real``, ``imag``, ``conj``, ``view_as_real``, ``view_as_complex``, ``complex``, ``angle``,
``polar``; and those of the complex rules ``_complex_grad.py`` gives ``sgn`` and dtype
casts. With the conjugated formulas of the holomorphic ops (``_complex_grad.py``) they let a
gradient of complex tensors be differentiated again."""
from __future__ import annotations

from ..clamp import where
from ..complex_ops import (
    Complex,
    ComplexAngle,
    Conj,
    Imag,
    Polar,
    Real,
    ViewAsComplex,
    ViewAsReal,
    conj,
    conj_physical,
    imag,
    real,
    resolve_conj,
    view_as_complex,
    view_as_real,
)
from ..elementwise import mul, to_dtype
from ..math_more import sgn
from ..unary import abs as abs_
from ._common import const, formula, saved_tensors, sum_to


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


@formula(ComplexAngle)
def _angle(ctx, grad):
    (x,) = saved_tensors(ctx)
    zero = const(ctx.saved_tensors[0] == 0)  # 0 there, and NaN second derivatives (torch's)
    return where(zero, 0.0, grad * x / abs_(x) ** 2 * 1j)


@formula(Polar)
def _polar(ctx, grad):
    (out,) = saved_tensors(ctx)  # polar's own output: its derivative leads back to r and t
    need = ctx.needs_input_grad
    g = conj_physical(grad)
    return (sum_to(real(g * sgn(out)), ctx.r_shape) if need[0] else None,
            sum_to(real(g * out * 1j), ctx.t_shape) if need[1] else None)


def complex_to_dtype(ctx, grad):
    """A cast's formula where complex numbers are involved: a real input takes the real part
    of a complex gradient."""
    if grad._data.dtype.kind == "c" and ctx.x_dtype.kind != "c":
        grad = real(grad)
    return to_dtype(grad, ctx.x_dtype)


def complex_sgn(ctx, grad):
    """sgn(x) = x / |x| of complex x: ``(grad - s * Re(conj(s) * grad)) / |x|``, 0 at 0
    (torch's ``sgn_backward``)."""
    (x,) = saved_tensors(ctx)
    zero = const(ctx.saved_tensors[0] == 0)  # 0 there, and NaN second derivatives (torch's)
    s = sgn(x)
    return where(zero, 0.0, (grad - s * real(conj_physical(s) * grad)) / abs_(x))


def complex_mul(ctx, grad):
    """z = x * y with complex operands: ``grad * conj(y)`` and ``grad * conj(x)`` (torch's
    ``mul_tensor_backward``, whose products keep torch's signed zeros and node names)."""
    x, y = saved_tensors(ctx)
    need = ctx.needs_input_grad
    return (sum_to(grad * _conj(y), ctx.x_shape) if need[0] else None,
            sum_to(grad * _conj(x), ctx.y_shape) if need[1] else None)


def complex_div(ctx, grad):
    """z = x / y with complex operands: ``grad / conj(y)`` and ``-grad * conj(x / y / y)``
    (torch's ``div_tensor_self_backward`` / ``div_tensor_other_backward``)."""
    x, y = saved_tensors(ctx)
    need = ctx.needs_input_grad
    return (sum_to(grad / _conj(y), ctx.x_shape) if need[0] else None,
            sum_to(-grad * _conj(x / y / y), ctx.y_shape) if need[1] else None)


def _conj(t):
    if not hasattr(t, "_data"):  # a Python number the op saved as it was
        return t.conjugate()
    return conj(t) if t._data.dtype.kind == "c" else t
