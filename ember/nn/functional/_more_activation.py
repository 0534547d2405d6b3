"""More activations (torch.nn.functional): selu, celu, hardswish, hardsigmoid, softsign, ...

The piecewise ones are small ``Op``s so that the gradient at the break points is torch's;
softsign and tanhshrink are compositions of ``ember.ops`` (as they are in torch);
hardshrink and prelu are ``ember.hardshrink`` and ``ember.prelu`` themselves.
rrelu's training slopes are torch's draws after the same seed; the channel-wise and alpha
dropouts draw their masks from ember's default generator, so they match torch in
distribution, not draw for draw.
"""
from __future__ import annotations

import warnings

import numpy as np

from ... import _random, _sampling
from ... import ops as _ops
from ..._tensor import Tensor
from ...autograd.function import Op
from ...ops._opmath import HALF, opmath
from ...ops._shape_utils import type_name
from ...ops.math_more import hardshrink, prelu  # noqa: F401  (one op for ember.X and F.X)
from ...ops.math_more import outside_band as _outside_band
from .._functions.activation import elu_grad_half, elu_half
from .._functions.dropout import dropout_scale, keep_mask
from ._activation import _floating, _hardtanh, _maybe_inplace, elu, leaky_relu
from ._kernels import REAL, check_kernel
from ._normalization import _check_p, check_mask_dtype

__all__ = [
    "selu", "selu_", "celu", "celu_", "elu_", "leaky_relu_", "hardtanh_", "hardswish",
    "hardsigmoid", "softsign", "tanhshrink", "softshrink", "hardshrink", "threshold",
    "threshold_", "prelu", "rrelu", "rrelu_", "alpha_dropout", "feature_alpha_dropout",
    "dropout1d", "dropout2d", "dropout3d", "gumbel_softmax",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class ScaledElu(Op):
    """z = scale * x if x > 0 else scale * alpha * (exp(x * input_scale) - 1)"""

    _backward_name = "EluBackward0"

    @staticmethod
    def forward(ctx, x, *, alpha, scale=1.0, input_scale=1.0):
        if x.dtype is HALF:  # torch: in float32, rounded once
            ctx.sa, ctx.input_scale, ctx.scale = scale * alpha, input_scale, scale
            ctx.negcoef = np.float32(alpha) * np.float32(scale)  # torch's, in float32
            out = opmath(elu_half, x, ctx.negcoef, scale, input_scale)
            ctx.save_for_backward(x, out)
            return out
        t = x.dtype.type
        neg = t(scale * alpha) * np.expm1(np.minimum(x, 0) * t(input_scale))
        out = np.where(x > 0, x * t(scale), neg).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.sa, ctx.input_scale, ctx.scale = scale * alpha, input_scale, scale
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if grad.dtype is HALF:
            return opmath(elu_grad_half, grad, x, ctx.negcoef, ctx.scale, ctx.input_scale)
        t = x.dtype.type
        # below 0: d/dx = input_scale * (out + scale * alpha)
        neg = grad * ((out + t(ctx.sa)) * t(ctx.input_scale))
        return np.where(x > 0, grad * t(ctx.scale), neg).astype(grad.dtype, copy=False)


class Celu(ScaledElu):
    """z = x if x > 0 else alpha * (exp(x / alpha) - 1)"""

    _backward_name = "CeluBackward0"


def _hardswish(x):
    t = x.dtype.type
    return x * np.clip(x + t(3), 0, 6) / t(6)


def _hardswish_grad(grad, x):
    t = x.dtype.type
    # torch's: 0 up to -3, x / 3 + 1/2 strictly between -3 and 3, 1 from 3 on
    mid = grad * (x / t(3) + t(0.5))
    return np.where(x <= -3, t(0), np.where(x < 3, mid, grad))


class Hardswish(Op):
    """z = x * relu6(x + 3) / 6"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        if x.dtype is HALF:  # torch: in float32, rounded once
            return opmath(_hardswish, x)
        return _hardswish(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if grad.dtype is HALF:
            return opmath(_hardswish_grad, grad, x)
        return _hardswish_grad(grad, x).astype(grad.dtype, copy=False)


def _hardsigmoid(x):
    t = x.dtype.type
    return np.clip(x + t(3), 0, 6) / t(6)


class Hardsigmoid(Op):
    """z = relu6(x + 3) / 6"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        if x.dtype is HALF:  # torch: in float32, rounded once
            return opmath(_hardsigmoid, x)
        return _hardsigmoid(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        inside = (x > -3) & (x < 3)
        return np.where(inside, grad / grad.dtype.type(6), 0).astype(grad.dtype, copy=False)


def _softshrink(x, lambd):
    t = x.dtype.type
    # x * 0 inside the band, as torch: NaN stays NaN and -0.0 stays -0.0
    return np.where(x > lambd, x - t(lambd), np.where(x < -lambd, x + t(lambd), x * t(0)))


class Softshrink(Op):
    """z = x - lambd if x > lambd, x + lambd if x < -lambd, else 0"""

    @staticmethod
    def forward(ctx, x, *, lambd):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        if x.dtype is HALF:  # torch: lambd read as float32, in float32
            return opmath(_softshrink, x, lambd)
        return _softshrink(x, lambd).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _outside_band(x, ctx.lambd)


class Threshold(Op):
    """z = x if x > threshold else value"""

    @staticmethod
    def forward(ctx, x, *, threshold, value):
        ctx.save_for_backward(x)
        if x.dtype is HALF:  # torch compares with the threshold read as float32
            threshold = np.float32(threshold)
        ctx.threshold = threshold
        return np.where(x > threshold, x, np.asarray(value).astype(x.dtype))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > ctx.threshold)


class RreluWithNoise(Op):
    """z = x * noise (noise: 1 where x > 0, a slope drawn from U(lower, upper) elsewhere in
    training, their mean in eval); dz/dx = noise, as torch's ``rrelu_with_noise_backward``"""

    @staticmethod
    def forward(ctx, x, *, noise, node_name="RreluWithNoiseBackward0"):
        ctx.show_as(node_name)
        ctx.save_for_backward(noise)
        return (x * noise).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (noise,) = ctx.saved_tensors
        return (grad * noise).astype(grad.dtype, copy=False)


class NoiseAffine(Op):
    """z = x * scale + shift, with constant arrays (a dropout mask) that broadcast to x"""

    _backward_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, *, scale, shift=None):
        ctx.save_for_backward(scale)
        out = x * scale
        return out if shift is None else out + shift

    @staticmethod
    def backward(ctx, grad):
        (scale,) = ctx.saved_tensors
        return grad * scale


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(input, alpha)`` with SELU's fixed ``alpha ~ 1.6733``, ``scale ~ 1.0507``."""
    _floating(input, "elu_cpu")
    return _maybe_inplace(input, inplace, lambda x: ScaledElu.apply(
        x, alpha=_SELU_ALPHA, scale=_SELU_SCALE))


def selu_(input: Tensor) -> Tensor:
    """In-place :func:`selu`."""
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Raises:
        RuntimeError: ``alpha == 0`` (torch's "ZeroDivisionError" message).
    """
    if alpha == 0:  # checked before the dtype, as torch does
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    _floating(input, "elu_cpu")
    return _maybe_inplace(input, inplace, lambda x: Celu.apply(
        x, alpha=alpha, input_scale=1.0 / alpha))


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`celu`."""
    return celu(input, alpha, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu``."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu``."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh`` (bounds in either order, as torch's)."""
    return _hardtanh(input, min_val, max_val, True)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    _floating(input, "hardswish_cpu")
    return _maybe_inplace(input, inplace, Hardswish.apply)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``; the gradient is ``1/6`` strictly inside ``(-3, 3)``."""
    _floating(input, "hardsigmoid_cpu")
    return _maybe_inplace(input, inplace, Hardsigmoid.apply)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)`` (a composition, as in torch)."""
    return input / (_ops.abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)`` (a composition, as in torch)."""
    return input - _ops.tanh(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Shrink towards zero by ``lambd``; zero inside ``[-lambd, lambd]``.

    Raises:
        RuntimeError: ``lambd`` negative.
    """
    _floating(input, "softshrink_check")
    dt = input._data.dtype
    if lambd < 0 or lambd > np.finfo(dt).max:
        raise RuntimeError(f"lambda must be in range [0, {np.finfo(dt).max:g}] for input "
                           f"dtype {_TORCH_WORD.get(dt.name, dt.name)}, but found {lambd:g}")
    return Softshrink.apply(input, lambd=lambd)


_TORCH_WORD = {"float32": "Float", "float64": "Double", "float16": "Half"}


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value`` (integer inputs too, as in torch)."""
    check_kernel(input, "threshold_cpu", REAL)
    return _maybe_inplace(input, inplace,
                          lambda x: Threshold.apply(x, threshold=threshold, value=value))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place :func:`threshold`."""
    return _threshold(input, threshold, value, inplace=True)


_threshold = threshold  # threshold_'s argument of the same name hides the function


def rrelu_noise(x, lower, upper, generator=None):
    """The slopes torch's CPU ``rrelu_with_noise`` draws in training: a float64 uniform (53
    bits of two words) for each element ``<= 0``, in C order, as ``lower + u (upper -
    lower)`` with the bounds first rounded to the input's precision, then rounded to it
    itself; 1 for the other elements (nan included), which draw nothing."""
    t = x.dtype.type
    lo, hi = float(t(lower)), float(t(upper))
    neg = x <= 0
    u = _sampling.uniform01(_random._gen(generator), int(np.count_nonzero(neg)), np.float64)
    noise = np.ones(x.shape, x.dtype)
    noise[neg] = u * (hi - lo) + lo
    return noise


def _rrelu(input, lower, upper, training, inplace, generator=None):
    """``torch.rrelu`` / ``rrelu_``: ``input * noise``, one node (``RreluWithNoiseBackward0``,
    ``...1`` in place) in training and eval alike, as torch's."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    x = input._data
    if training:
        if x.dtype not in (np.float32, np.float64):
            raise NotImplementedError(f"\"rrelu_with_noise_out_cpu\" not implemented for "
                                      f"'{type_name(x.dtype)}'")
        noise = rrelu_noise(x, lower, upper, generator)
    else:
        _floating(input, "leaky_relu_cpu")
        # float16: torch's leaky_relu reads the slope as float32, each product rounded once
        noise = np.where(x > 0, 1, (lower + upper) / 2).astype(
            np.float32 if x.dtype is HALF else x.dtype)
    name = "RreluWithNoiseBackward1" if inplace else "RreluWithNoiseBackward0"
    return _maybe_inplace(input, inplace,
                          lambda t: RreluWithNoise.apply(t, noise=noise, node_name=name))


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: in training, each element ``<= 0`` gets its own slope drawn
    from ``U(lower, upper)`` (torch's draws after the same seed); otherwise the slope is
    ``(lower + upper) / 2``. The gradient is the slope (1 for positive elements).

    Raises:
        RuntimeError: ``lower > upper``.
        NotImplementedError: an integer input (or, in training, a float16 one), as torch.
    """
    return _rrelu(input, lower, upper, training, inplace)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, inplace=True)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """``softmax((logits + g) / tau)`` with Gumbel(0, 1) noise ``g`` from ember's generator: a
    differentiable sample of ``Categorical(logits=logits)``. With ``hard``, the value is the
    one-hot argmax and the gradient the soft sample's (straight-through)."""
    from ... import _creation

    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -_creation.empty_like(logits).exponential_().log()
    y_soft = _ops.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = _creation.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


_ALPHA = 1.7580993408473766  # SELU's -scale * alpha: the value a dropped unit saturates to


def _noise_dropout(input, p, training, inplace, *, feature, alpha):
    """torch's ``_dropout_impl``: the mask is per element, or per (sample, channel) with
    ``feature``; ``alpha`` keeps SELU's mean and variance (``x * a * m + b``)."""
    _check_p(p)
    x = input._data
    if p == 0 or not training or x.size == 0:
        return input
    if feature and x.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{type_name(x.dtype)}")
    if p == 1:  # torch multiplies by zero (so alpha dropout gives zeros too)
        scale, shift = np.zeros((), x.dtype), None
    else:
        check_mask_dtype(x.dtype)
        shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else x.shape
        mask = keep_mask(_random.default_generator, shape, p).astype(np.float64)
        if alpha:
            a = 1.0 / np.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
            shift = ((mask - 1) * (_ALPHA * a) + _ALPHA * a * p).astype(x.dtype)
            scale = (mask * a).astype(x.dtype)
        else:
            scale, shift = mask.astype(x.dtype) * dropout_scale(x.dtype, p), None
    return _maybe_inplace(input, inplace,
                          lambda t: NoiseAffine.apply(t, scale=scale, shift=shift))


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units take SELU's negative saturation value and
    an affine map restores zero mean and unit variance. The identity unless ``training``."""
    return _noise_dropout(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """:func:`alpha_dropout` of whole channels (one draw per ``(N, C)`` entry)."""
    return _noise_dropout(input, p, training, inplace, feature=True, alpha=True)


def _feature_dropout(input, p, training, inplace):
    return _noise_dropout(input, p, training, inplace, feature=True, alpha=False)


def _unbatched(input, p, training, inplace):
    """Feature dropout of an input without its batch dimension: add it, drop, remove it."""
    if inplace:  # the new view is changed in place, and so ``input`` with it
        _feature_dropout(_ops.unsqueeze(input, 0), p, training, True)
        return input
    return _ops.squeeze(_feature_dropout(_ops.unsqueeze(input, 0), p, training, False), 0)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` input with probability ``p``,
    scaling the rest by ``1 / (1 - p)``.

    Raises:
        RuntimeError: input not 2-D or 3-D.
    """
    _check_p(p)
    ndim = input.dim()
    if ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    if ndim == 2:
        return _unbatched(input, p, training, inplace)
    return _feature_dropout(input, p, training, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` input. As in torch, a 3-D input is taken as
    ``(N, C, L)`` (with a warning), and other ranks are deprecated (a warning)."""
    _check_p(p)
    ndim = input.dim()
    if ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input; other ranks are
    deprecated (a warning)."""
    _check_p(p)
    ndim = input.dim()
    if ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {ndim}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    if ndim != 5:
        return _unbatched(input, p, training, inplace)
    return _feature_dropout(input, p, training, inplace)

