"""Formulas for the FFT primitives (``ember/fft/_ops.py``), imported by that module.

Each primitive is linear and its backward is its adjoint, so the backward of the backward
is the primitive again: ``FftC2C`` runs the opposite transform, ``FftR2C``'s backward (the
real part of the inverse transform of the zero-padded gradient) and ``FftC2R``'s (the
one-sided forward transform, doubled where an entry stands for two) are written with the
other primitives, whose own formulas take them on from there, as torch's
``fft_r2c_backward`` and ``fft_c2r_backward``.
"""
from __future__ import annotations

import numpy as np

from ...fft._ops import FftC2C, FftC2R, FftR2C, FftResize
from ..complex_ops import real
from ..elementwise import to_dtype
from ._common import const, formula


@formula(FftC2C)
def _c2c(ctx, grad):
    return FftC2C.apply(grad, dims=ctx.dims, mode=ctx.mode, forward=not ctx.forward)


@formula(FftR2C)
def _r2c(ctx, grad):
    last = ctx.dims[-1]
    if ctx.onesided and grad.shape[last] < ctx.n:  # the missing half: zeros
        grad = FftResize.apply(grad, dims=[last], sizes=[ctx.n])
    full = FftC2C.apply(grad, dims=ctx.dims, mode=ctx.mode, forward=False)
    return to_dtype(real(full), ctx.x_dtype)


@formula(FftC2R)
def _c2r(ctx, grad):
    last = ctx.dims[-1]
    g = FftR2C.apply(grad, dims=ctx.dims, mode=ctx.mode, onesided=True)
    double = grad.shape[last] - g.shape[last]
    if double <= 0:
        return g
    scale = np.ones(g.shape[last], grad._data.dtype)
    scale[1:1 + double] = 2
    return g * const(scale.reshape((-1,) + (1,) * (g.ndim - 1 - last)))


@formula(FftResize)
def _resize(ctx, grad):
    return FftResize.apply(grad, dims=list(range(grad.ndim)), sizes=list(ctx.x_shape))
