"""Activation ops: tanh, sigmoid, ReLU, GELU, SiLU and softplus (forward and backward side
by side, as in :mod:`.elementwise`, whose helpers they share)."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Op
from ._opmath import HALF, opmath
from .elementwise import _float_input
from .pointwise_special import erf_as_float32


def _tanh_grad(grad, out):
    return grad * (1 - out * out)


def _f64(fn, x):
    """``fn`` of a float32 array, rounded from float64: NumPy's float32 exp, sin, tanh, ...
    are sometimes an ulp off torch's, enough to change a float16 rounding."""
    return fn(x.astype(np.float64)).astype(np.float32)


class Tanh(Op):
    """z = tanh(x)"""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        if grad.dtype is HALF:  # torch's tanh_backward: in float32, rounded once
            return opmath(_tanh_grad, grad, out)
        return grad * (1 - out * out)


class Sigmoid(Op):
    """z = 1 / (1 + exp(-x)), computed without overflow"""

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "c":
            out = 1 / (1 + np.exp(-x))
            ctx.save_for_backward(out)
            return out
        f = _acc(x)
        e = np.exp(-np.abs(f))
        out = np.where(f >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        if grad.dtype is HALF:  # torch's float16 sigmoid_backward rounds each step, in this order
            return grad * (1 - out) * out
        return grad * out * (1 - out)


def _acc(x):
    """float16 computed in float32 and rounded once, as torch's CPU kernels do."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _float_only(input, kernel, complex_ok=False):
    """torch's error for activations with no integer (or complex) kernels."""
    dt = input._data.dtype
    if dt.kind != "f" and not (complex_ok and dt.kind == "c"):
        from ._shape_utils import type_name

        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(dt)}'")


class Relu(Op):
    """z = max(x, 0) (gradient 0 at 0, as in torch)"""

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Abramowitz-Stegun 7.1.26: erfc(z) ~ t (a1 + t (a2 + ...)) exp(-z^2), t = 1 / (1 + p z), z >= 0
# (absolute error below 1.5e-7: under float32's resolution near 1)
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_math_erf = np.frompyfunc(math.erf, 1, 1)


def _erf(x):
    """Error function, vectorised: exact (math.erf) in float64, else Abramowitz-Stegun."""
    if x.dtype == np.float64:
        return np.asarray(_math_erf(x), np.float64)  # a 0-D x gives a float
    cdf, _ = _normal_cdf_pdf(x)
    cdf *= 2
    cdf -= 1
    return cdf


def _normal_cdf_pdf(x):
    """(Phi(x), exp(-x^2 / 2)) in x's dtype, with few passes over memory (the GELU hot path).

    float32 and float16 use Abramowitz-Stegun in place (about 15 array passes, no float64
    temporaries); float64 is exact.
    """
    dt = x.dtype.type
    if x.dtype == np.float64:
        cdf = np.asarray(_math_erf(x * (1.0 / math.sqrt(2.0))), np.float64)
        cdf += 1.0
        cdf *= 0.5
        return cdf, np.exp(-0.5 * x * x)
    z = np.abs(x)
    z *= dt(1.0 / math.sqrt(2.0))
    t = z * dt(_AS_P)
    t += dt(1.0)
    np.reciprocal(t, out=t)
    a1, a2, a3, a4, a5 = _AS_A
    poly = t * dt(a5)
    for a in (a4, a3, a2, a1):
        poly += dt(a)
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    e = np.exp(z, out=z)  # exp(-x^2 / 2)
    poly *= e  # erfc(|x| / sqrt 2)
    # Phi(x) = 0.5 + 0.5 * sign(x) * erf(|x| / sqrt 2), without a branch (np.where is slower)
    np.subtract(dt(1.0), poly, out=poly)
    poly *= dt(0.5)
    np.copysign(poly, x, out=poly)
    poly += dt(0.5)
    return poly, e


def _gelu_grad(x):
    # torch's GeluBackwardKernelImpl for float16: cdf + x pdf in float32, its vectorised erf
    cdf = np.float32(0.5) * (1 + erf_as_float32(x * np.float32(math.sqrt(0.5))))
    pdf = _f64(np.exp, x * x * np.float32(-0.5)) * np.float32(_INV_SQRT_2PI)
    return cdf + x * pdf


def _gelu_tanh(x):
    # torch's Gelu.h: 0.5 x (1 + tanh(beta (x + kappa x^3)))
    inner = np.float32(_SQRT_2_OVER_PI) * (x + np.float32(0.044715) * (x * x * x))
    return np.float32(0.5) * x * (1 + _f64(np.tanh, inner))


def _gelu_tanh_grad(x):
    # torch's GeluBackwardKernelImpl, tanh branch, as float32 steps
    x_sq = x * x
    t = _f64(np.tanh, np.float32(_SQRT_2_OVER_PI) * (x + np.float32(0.044715) * (x_sq * x)))
    inner_d = np.float32(_SQRT_2_OVER_PI) * (1 + np.float32(3) * np.float32(0.044715) * x_sq)
    return np.float32(0.5) * (1 + t) + np.float32(0.5) * x * (1 - t * t) * inner_d


class Gelu(Op):
    """z = x * Phi(x) (exact, with erf) or its tanh approximation

    Forward computes the derivative too and saves it: backward is one multiply. (It saves x
    as well, for the second derivative.)
    """

    @staticmethod
    def forward(ctx, x, *, approximate="none"):
        if x.ndim == 0:  # the steps below work in place: NumPy gives 0-D results as scalars
            out = Gelu.forward(ctx, x.reshape(1), approximate=approximate)
            if ctx.needs_input_grad:
                ctx.save_for_backward(ctx.saved_tensors[0].reshape(()), x)
            return out.reshape(())
        if x.dtype is HALF and approximate == "tanh":  # torch's formula in float32
            ctx.approximate = approximate
            if ctx.needs_input_grad:
                ctx.save_for_backward(_gelu_tanh_grad(x.astype(np.float32)), x)
            return opmath(_gelu_tanh, x)
        if x.dtype == np.float16:  # in float32, rounded once (torch)
            out = Gelu.forward(ctx, x.astype(np.float32), approximate=approximate)
            if ctx.needs_input_grad:  # the derivative as torch's backward kernel computes it
                ctx.save_for_backward(_gelu_grad(x.astype(np.float32)), x)
            return out.astype(np.float16)
        dt = x.dtype.type
        ctx.approximate = approximate
        if approximate == "tanh":
            x2 = x * x
            inner = x2 * dt(0.044715)
            inner += dt(1.0)
            inner *= x
            inner *= dt(_SQRT_2_OVER_PI)
            t = np.tanh(inner, out=inner)
            half = t + dt(1.0)
            half *= dt(0.5)  # 0.5 (1 + t)
            out = x * half
            if ctx.needs_input_grad:
                # d = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
                np.square(t, out=t)
                np.subtract(dt(1.0), t, out=t)
                x2 *= dt(3 * 0.044715)
                x2 += dt(1.0)
                x2 *= t
                x2 *= x
                x2 *= dt(0.5 * _SQRT_2_OVER_PI)
                x2 += half
                ctx.save_for_backward(x2, x)  # x: for the second derivative
            return out
        cdf, e = _normal_cdf_pdf(x)
        out = x * cdf
        if ctx.needs_input_grad:
            # d/dx x Phi(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi)
            e *= x
            e *= dt(_INV_SQRT_2PI)
            e += cdf
            ctx.save_for_backward(e, x)  # x: for the second derivative
        return out

    @staticmethod
    def backward(ctx, grad):
        d = ctx.saved_tensors[0]
        return (grad * d).astype(grad.dtype, copy=False)


def _silu_half(x):
    return x / (1 + _f64(np.exp, -x))


def _silu_grad_half(grad, x):
    s = 1 / (1 + _f64(np.exp, -x))
    return grad * s * (1 + x * (1 - s))


class Silu(Op):
    """z = x * sigmoid(x)"""

    @staticmethod
    def forward(ctx, x):
        if x.dtype is HALF:  # torch's x / (1 + exp(-x)) in float32, rounded once
            ctx.save_for_backward(x, None)
            return opmath(_silu_half, x)
        f = _acc(x)
        s = Sigmoid.forward(ctx, f)
        ctx.save_for_backward(x, s.astype(x.dtype, copy=False))
        return (f * s).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        if grad.dtype is HALF:  # torch's silu_backward in float32
            return opmath(_silu_grad_half, grad, x)
        return grad * (s * (1 + x * (1 - s)))


def _softplus_half(x, beta, threshold):
    beta, bx = np.float32(beta), x * np.float32(beta)
    return np.where(bx > np.float32(threshold), x, _f64(np.log1p, _f64(np.exp, bx)) / beta)


def _softplus_grad_half(grad, x, beta, threshold):
    bx = x * np.float32(beta)
    z = _f64(np.exp, bx)
    return np.where(bx > np.float32(threshold), grad, grad * z / (z + 1))


class Softplus(Op):
    """z = log(1 + exp(beta x)) / beta, linear above ``threshold``"""

    @staticmethod
    def forward(ctx, x, *, beta=1.0, threshold=20.0):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        if x.dtype is HALF:  # torch: in float32, beta and threshold read as float32
            return opmath(_softplus_half, x, beta, threshold)
        bx = x * beta
        soft = (np.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)
        return np.where(bx > threshold, x, soft)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if grad.dtype is HALF:
            return opmath(_softplus_grad_half, grad, x, ctx.beta, ctx.threshold)
        bx = x * ctx.beta
        e = np.exp(-np.abs(bx))
        s = np.where(bx >= 0, 1 / (1 + e), e / (1 + e)).astype(grad.dtype, copy=False)
        return grad * np.where(bx > ctx.threshold, 1, s)


def tanh(input):
    """Elementwise hyperbolic tangent."""
    return Tanh.apply(_float_input(input))


def sigmoid(input):
    """Elementwise logistic function."""
    return Sigmoid.apply(_float_input(input))


def relu(input, *, inplace=False):
    """Elementwise max(x, 0); ``inplace`` is ``F.relu``'s (torch.relu and Tensor.relu take no
    other argument, so a positional one is Python's TypeError, as torch's)."""
    if input._data.dtype.kind in "bc":
        if input._data.dtype.kind == "c":
            raise NotImplementedError("clamp is not supported for complex types")
        raise RuntimeError("Boolean inputs not supported for relu")
    if inplace:
        return input._inplace(relu)
    return Relu.apply(input)


def gelu(input, approximate="none"):
    """Gaussian error linear unit; ``approximate="tanh"`` uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh (got "
                           f"{approximate!r})")
    _float_only(input, "GeluKernelImpl")
    return Gelu.apply(input, approximate=approximate)


def silu(input, inplace=False):
    """x * sigmoid(x) (written into ``input`` with ``inplace``)."""
    _float_only(input, "silu_cpu", complex_ok=True)
    if inplace:
        return input._inplace(silu)
    return Silu.apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear above ``threshold``."""
    _float_only(input, "softplus_cpu")
    return Softplus.apply(input, beta=beta, threshold=threshold)
