"""The three FFT primitives torch builds every transform from, each with torch's gradient:
``FftC2C`` (complex to complex), ``FftR2C`` (real to complex, one-sided or full) and
``FftC2R`` (one-sided complex to real), plus ``FftResize`` (zero-pad or trim along dims).

A primitive is scaled by a normalization *mode*, as in torch: 0 none, 1 by 1/sqrt(n), 2 by
1/n, where n is the number of points transformed. Every transform is linear, so its gradient
is the adjoint: the opposite direction with the same mode. NumPy (pocketfft) computes.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Op

# NumPy's ``norm`` for a mode: a forward transform scaled by the mode, or an inverse one
_FORWARD_NORM = ("backward", "ortho", "forward")
_INVERSE_NORM = ("forward", "ortho", "backward")
_COMPLEX = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128}


def np_norm(mode: int, forward: bool) -> str:
    """NumPy's name for normalization ``mode`` in the given direction."""
    return (_FORWARD_NORM if forward else _INVERSE_NORM)[mode]


def _c2c(x, dims, mode, forward):
    fn = np.fft.fftn if forward else np.fft.ifftn
    return fn(x, axes=dims, norm=np_norm(mode, forward)) if dims else x.copy()


class FftC2C(Op):
    """z = the DFT of x over ``dims`` (``forward``: exp(-2 pi i jk/n), else exp(+...)), scaled
    by ``mode``; the gradient is the opposite transform of grad, same mode"""

    @staticmethod
    def forward(ctx, x, *, dims, mode, forward):
        ctx.dims, ctx.mode, ctx.forward = dims, mode, forward
        return _c2c(x, dims, mode, forward).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return _c2c(grad, ctx.dims, ctx.mode, not ctx.forward).astype(grad.dtype, copy=False)


class FftR2C(Op):
    """z = the forward DFT of real x over ``dims`` (``onesided``: only the first n // 2 + 1
    outputs along the last dim, the rest being their conjugates); the gradient is the real part
    of the inverse transform of grad, zero-padded back to n along that dim first"""

    @staticmethod
    def forward(ctx, x, *, dims, mode, onesided):
        ctx.dims, ctx.mode, ctx.onesided = dims, mode, onesided
        ctx.n, ctx.x_dtype = x.shape[dims[-1]], x.dtype
        norm = np_norm(mode, True)
        out = np.fft.rfftn(x, axes=dims, norm=norm) if onesided else \
            np.fft.fftn(x, axes=dims, norm=norm)
        return out.astype(_COMPLEX[x.dtype], copy=False)

    @staticmethod
    def backward(ctx, grad):
        last = ctx.dims[-1]
        if ctx.onesided and grad.shape[last] < ctx.n:
            pad = [(0, 0)] * grad.ndim
            pad[last] = (0, ctx.n - grad.shape[last])
            grad = np.pad(grad, pad)
        full = np.fft.ifftn(grad, axes=ctx.dims, norm=np_norm(ctx.mode, False))
        return full.real.astype(ctx.x_dtype)


class FftC2R(Op):
    """z = the real inverse DFT, of length ``last_dim_size`` along the last of ``dims``, of
    the one-sided x (its other half by conjugate symmetry); the gradient is the one-sided
    forward transform of grad, the entries that stand for two (their mirror images are not
    stored) doubled, as torch's"""

    @staticmethod
    def forward(ctx, x, *, dims, mode, last_dim_size):
        ctx.dims, ctx.mode = dims, mode
        sizes = [x.shape[d] for d in dims[:-1]] + [last_dim_size]
        out = np.fft.irfftn(x, s=sizes, axes=dims, norm=np_norm(mode, False))
        return out.astype(x.real.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        last = ctx.dims[-1]
        g = np.fft.rfftn(grad, axes=ctx.dims, norm=np_norm(ctx.mode, True))
        double = grad.shape[last] - g.shape[last]
        if double > 0:
            index = [slice(None)] * g.ndim
            index[last] = slice(1, 1 + double)
            g[tuple(index)] *= 2
        return g.astype(_COMPLEX[grad.dtype], copy=False)


class FftResize(Op):
    """z = x zero-padded or trimmed (at the end) to ``sizes`` along ``dims``; the gradient is
    grad trimmed or zero-padded back"""

    _backward_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, *, dims, sizes):
        ctx.x_shape = x.shape
        out = x[tuple(slice(0, sizes[dims.index(d)]) if d in dims else slice(None)
                      for d in range(x.ndim))]
        pad = [(0, sizes[dims.index(d)] - out.shape[d]) if d in dims else (0, 0)
               for d in range(x.ndim)]
        return np.pad(out, pad) if any(p[1] for p in pad) else out.copy()

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.x_shape
        g = grad[tuple(slice(0, n) for n in shape)]
        pad = [(0, n - m) for n, m in zip(shape, g.shape)]
        return np.pad(g, pad) if any(p[1] for p in pad) else g.copy()


# every primitive handles complex numbers with torch's convention (ember/ops/_complex_grad.py)
for _op in (FftC2C, FftR2C, FftC2R, FftResize):
    _op._complex_fn = _op

from ..ops.derivatives import fft as _formulas  # noqa: E402,F401  (their backward_graph)
