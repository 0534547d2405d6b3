"""Reductions: sum, mean, var/std, prod, max/min, softmax family, all/any."""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap
from ..autograd.function import Op
from ._shape_utils import type_name, wrap_dim, wrap_dims


def _contiguous(a):
    """``a`` in C order, as torch returns reductions (NumPy keeps the input's layout); a 0-d
    array stays 0-d, which ``np.ascontiguousarray`` would not do."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _kept_shape(grad, x_shape, axes, keepdim):
    """``grad`` with the reduced axes back in as size 1, ready to broadcast to ``x_shape``."""
    if axes is None:
        return grad.reshape((1,) * len(x_shape))
    if keepdim:
        return grad
    return grad.reshape(tuple(1 if i in axes else s for i, s in enumerate(x_shape)))


def _expand_back_copy(grad, x_shape, axes, keepdim):
    """``grad`` broadcast back over the reduced axes to ``x_shape``, as a new array."""
    out = np.empty(x_shape, grad.dtype)
    np.copyto(out, _kept_shape(grad, x_shape, axes, keepdim))
    return out


def _dims(dim, x, keepdim):
    axes = wrap_dims(dim, x.ndim)
    if axes is not None and x.ndim == 0:
        axes = None
    return axes


class Sum(Op):
    """z = sum of x over ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False, dtype=None):
        axes = _dims(dim, x, keepdim)
        ctx.x_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if dim is not None:
            ctx.show_as("SumBackward1")  # torch's name when dims are given
        out = np.sum(x, axis=axes, keepdims=keepdim, dtype=dtype)
        return _contiguous(out)  # torch returns contiguous results

    @staticmethod
    def backward(ctx, grad):
        return _expand_back_copy(grad, ctx.x_shape, ctx.axes, ctx.keepdim)


class Mean(Op):
    """z = mean of x over ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False):
        axes = _dims(dim, x, keepdim)
        ctx.x_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if dim is not None:
            ctx.show_as("MeanBackward1")  # torch's name when dims are given
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        ctx.n = n
        result = np.asarray(np.mean(x, axis=axes, keepdims=keepdim)).astype(x.dtype, copy=False)
        return _contiguous(result)  # torch returns contiguous results

    @staticmethod
    def backward(ctx, grad):
        g = _expand_back_copy(grad, ctx.x_shape, ctx.axes, ctx.keepdim)
        if ctx.n:
            g *= np.asarray(1.0 / ctx.n, dtype=grad.dtype)
        return g


class Var(Op):
    """z = sum((x - mean)**2) / (N - correction) over ``dim`` (``std``: its square root)"""

    @staticmethod
    def forward(ctx, x, *, dim=None, correction=1, keepdim=False, std=False):
        axes = _dims(dim, x, keepdim)
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        mean = np.mean(x, axis=axes, keepdims=True)
        centred = x - mean
        ctx.axes, ctx.keepdim, ctx.x_shape, ctx.std = axes, keepdim, x.shape, std
        ctx.denom = n - correction if n > correction else 0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.sum(centred * centred, axis=axes, keepdims=keepdim) / ctx.denom
        out = np.asarray(out).astype(x.dtype, copy=False)
        if std:
            out = np.sqrt(out)
            ctx.show_as("StdBackward0")
        out = _contiguous(out)  # torch returns contiguous results
        ctx.save_for_backward(centred, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        centred, out = ctx.saved_tensors
        g = _kept_shape(grad, ctx.x_shape, ctx.axes, ctx.keepdim)  # broadcasts with centred
        if ctx.std:  # d std = d var / (2 std); 0 where std is 0, as torch
            s = _kept_shape(out, ctx.x_shape, ctx.axes, ctx.keepdim)
            with np.errstate(divide="ignore", invalid="ignore"):
                g = np.where(s == 0, 0, g / (2 * s))
        return (g * centred * (2.0 / ctx.denom)).astype(grad.dtype, copy=False)


class Prod(Op):
    """z = product of x over ``dim`` (zeros handled exactly)"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False):
        axes = _dims(dim, x, keepdim)
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim = axes, keepdim
        # integer and bool products are int64 in torch (NumPy would give uint64 for uint8)
        dtype = np.int64 if x.dtype.kind in "biu" else None
        result = np.asarray(np.prod(x, axis=axes, keepdims=keepdim, dtype=dtype))
        return _contiguous(result)  # torch returns contiguous results

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        axes = ctx.axes
        if axes is None:
            flat = x.reshape(-1)
            g = _prod_others(flat, 0) * grad.reshape(())
            return g.reshape(x.shape)
        (axis,) = axes
        g = grad if ctx.keepdim else np.expand_dims(grad, axis)
        return _prod_others(x, axis) * g


def _prod_others(x, axis):
    """Product of all other elements along ``axis`` for each element (exclusive cumprods)."""
    x = np.moveaxis(x, axis, -1)
    ones = np.ones(x.shape[:-1] + (1,), x.dtype)
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], -1), -1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([x[..., 1:], ones], -1), -1), -1), -1)
    return np.moveaxis(left * right, -1, axis)


class MaxAll(Op):
    """z = max (or min) of all elements; the gradient is shared among ties"""

    _backward_name = "MaxBackward1"  # torch's name

    @staticmethod
    def forward(ctx, x, *, largest=True):
        if x.size == 0:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() "
                               "== 0. Specify the reduction dim with the 'dim' argument.")
        out = np.asarray(x.max() if largest else x.min())
        ctx.save_for_backward(x, out)
        if not largest:
            ctx.show_as("MinBackward1")
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        mask = x == out
        return mask * (grad / mask.sum()).astype(grad.dtype)


class MaxDim(Op):
    """(values, indices) = max (or min) along ``dim``; gradient to the chosen index"""

    _backward_name = "MaxBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, dim, keepdim=False, largest=True):
        axis = wrap_dim(dim, x.ndim)
        ctx.x_shape = x.shape
        if not largest:
            ctx.show_as("MinBackward0")
        if x.ndim == 0:
            return x.copy(), np.zeros((), np.int64)
        if x.shape[axis] == 0:
            raise IndexError(f"max(): Expected reduction dim {axis} to have non-zero size.")
        idx = np.argmax(x, axis=axis) if largest else np.argmin(x, axis=axis)
        idx = np.expand_dims(idx, axis)
        values = np.take_along_axis(x, idx, axis)
        ctx.axis, ctx.keepdim = axis, keepdim
        ctx.save_for_backward(idx)
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return values, idx.astype(np.int64)

    @staticmethod
    def backward(ctx, grad, grad_idx):
        if ctx.x_shape == ():
            return grad
        (idx,) = ctx.saved_tensors
        g = grad if ctx.keepdim else np.expand_dims(grad, ctx.axis)
        out = np.zeros(ctx.x_shape, grad.dtype)
        np.put_along_axis(out, idx, g, ctx.axis)
        return out


class Amax(Op):
    """z = max over ``dim``; ties share the gradient equally"""

    @staticmethod
    def forward(ctx, x, *, dim=(), keepdim=False, largest=True):
        axes = _dims(dim, x, keepdim) if dim not in ((), []) else None
        out = (np.max if largest else np.min)(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        if not largest:
            ctx.show_as("AminBackward0")
        result = out if keepdim else (out.reshape(()) if axes is None else out.squeeze(axes))
        return _contiguous(result)  # torch returns contiguous results

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        mask = x == out
        count = mask.sum(axis=ctx.axes, keepdims=True)
        g = grad if ctx.keepdim else grad.reshape(out.shape)
        return (mask * (g / count)).astype(grad.dtype)


class Softmax(Op):
    """z = exp(x - max) / sum(exp(x - max)) along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim):
        axis = wrap_dim(dim, x.ndim)
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        e = _contiguous(e)  # torch returns contiguous results
        ctx.save_for_backward(e)
        ctx.axis = axis
        return e

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        gy = grad * out
        gy -= out * gy.sum(axis=ctx.axis, keepdims=True)
        return gy


class LogSoftmax(Op):
    """z = x - logsumexp(x) along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim):
        axis = wrap_dim(dim, x.ndim)
        shifted = x - x.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        out = _contiguous(out)  # torch returns contiguous results
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


class Logsumexp(Op):
    """z = log(sum(exp(x))) over ``dim``, shifted by the max for stability"""

    @staticmethod
    def forward(ctx, x, *, dim, keepdim=False):
        axes = _dims(dim, x, keepdim)
        m = np.max(x, axis=axes, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
        m = np.where(np.isfinite(m), m, 0)
        out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        if keepdim:
            return out
        return _contiguous(out.reshape(()) if axes is None else out.squeeze(axes))

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        g = grad if ctx.keepdim else grad.reshape(out.shape)
        return g * np.exp(x - out)


# --- wrappers ---------------------------------------------------------------------------
def _dim_arg(dim, axis):
    return axis if dim is None and axis is not None else dim


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A001
    """Sum over ``dim`` (all elements by default); integer and bool inputs sum to int64."""
    if dim is None and axis is None and dtype is None and not keepdim and not keepdims:
        x = input._data
        if x.dtype.kind == "f":
            if input._rg:
                return Sum.apply(input)
            return _wrap(np.asarray(x.sum()))
    dim = _dim_arg(dim, axis)
    keepdim = keepdims if keepdims is not None else keepdim
    np_dtype = None
    if dtype is not None:
        np_dtype = _dtype.convert(dtype).np
    elif input._data.dtype.kind in "iub":
        np_dtype = np.int64
    if dim == () or dim == []:
        dim = None
    if not input._rg:
        total = np.sum(input._data, axis=_dims(dim, input._data, keepdim), keepdims=keepdim,
                       dtype=np_dtype)
        return _wrap(_contiguous(total))
    return Sum.apply(input, dim=dim, keepdim=keepdim, dtype=np_dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Mean over ``dim``; float dtypes only, as in torch."""
    dim = _dim_arg(dim, axis)
    keepdim = keepdims if keepdims is not None else keepdim
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {type_name(input._data.dtype)}")
    if dim == () or dim == []:
        dim = None
    return Mean.apply(input, dim=dim, keepdim=keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default; ``unbiased=False`` = 0)."""
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if input._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return Var.apply(input, dim=dim, correction=_correction(unbiased, correction), keepdim=keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim`` (see ``var``)."""
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if input._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return Var.apply(input, dim=dim, correction=_correction(unbiased, correction),
                     keepdim=keepdim, std=True)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``."""
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``."""
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over ``dim`` (one dim or all)."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod() received an invalid combination of arguments - got "
                        f"(dim={type(dim).__name__}), but expected dim to be an int")
    if dtype is not None:
        input = input.to(dtype)
    return Prod.apply(input, dim=dim, keepdim=keepdim)


_MaxResult = namedtuple("max", ["values", "indices"])
_MinResult = namedtuple("min", ["values", "indices"])


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001
    """Largest element; with ``dim`` a ``(values, indices)`` pair; with a tensor, ``maximum``."""
    if isinstance(dim, Tensor) or other is not None:
        from .clamp import maximum

        return maximum(input, dim if other is None else other)
    if dim is None:
        return MaxAll.apply(input, largest=True)
    return _MaxResult(*MaxDim.apply(input, dim=dim, keepdim=keepdim, largest=True))


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001
    """Smallest element; with ``dim`` a ``(values, indices)`` pair; with a tensor, ``minimum``."""
    if isinstance(dim, Tensor) or other is not None:
        from .clamp import minimum

        return minimum(input, dim if other is None else other)
    if dim is None:
        return MaxAll.apply(input, largest=False)
    return _MinResult(*MaxDim.apply(input, dim=dim, keepdim=keepdim, largest=False))


def amax(input, dim=(), keepdim=False):
    """Max over one or several dims; ties share the gradient."""
    return Amax.apply(input, dim=dim, keepdim=keepdim, largest=True)


def amin(input, dim=(), keepdim=False):
    """Min over one or several dims; ties share the gradient."""
    return Amax.apply(input, dim=dim, keepdim=keepdim, largest=False)


def argmax(input, dim=None, keepdim=False):
    """Index of the largest element (of the flattened tensor when ``dim`` is None)."""
    x = input._data
    if dim is None:
        out = np.asarray(np.argmax(x))
        return _wrap(out.reshape((1,) * x.ndim) if keepdim else out)
    axis = wrap_dim(dim, x.ndim)
    return _wrap(np.asarray(np.argmax(x, axis=axis, keepdims=keepdim) if x.ndim else 0, np.int64))


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest element."""
    x = input._data
    if dim is None:
        out = np.asarray(np.argmin(x))
        return _wrap(out.reshape((1,) * x.ndim) if keepdim else out)
    axis = wrap_dim(dim, x.ndim)
    return _wrap(np.asarray(np.argmin(x, axis=axis, keepdims=keepdim) if x.ndim else 0, np.int64))


def _softmax_input(input, dtype, kernel=None, dim=None):
    if dtype is not None:
        return input.to(dtype)
    if input._data.dtype.kind != "f":
        if kernel:  # torch has no integer softmax kernels (logsumexp promotes instead)
            last = wrap_dim(dim, input._data.ndim) == builtins.max(input._data.ndim - 1, 0)
            name = f"{kernel}_lastdim_kernel_impl" if last else f"{kernel}_kernel_impl"
            raise NotImplementedError(f'"{name}" not implemented for '
                                      f"'{type_name(input._data.dtype)}'")
        return input.to(_dtype.get_default_dtype())
    return input


def softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    """exp(x) normalised to sum to 1 along ``dim``."""
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1
    return Softmax.apply(_softmax_input(input, dtype, "softmax", dim), dim=dim)


def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    """log(softmax(x)) along ``dim``, computed stably."""
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1
    return LogSoftmax.apply(_softmax_input(input, dtype, "log_softmax", dim), dim=dim)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``."""
    return Logsumexp.apply(_softmax_input(input, None), dim=dim, keepdim=keepdim)


def all(input, dim=None, keepdim=False):  # noqa: A001
    """True where all elements (along ``dim``) are non-zero."""
    axes = wrap_dims(dim, input._data.ndim)
    return _wrap(_like_uint8(np.all(input._data, axis=axes, keepdims=keepdim), input))


def any(input, dim=None, keepdim=False):  # noqa: A001
    """True where any element (along ``dim``) is non-zero."""
    axes = wrap_dims(dim, input._data.ndim)
    return _wrap(_like_uint8(np.any(input._data, axis=axes, keepdims=keepdim), input))


def _like_uint8(out, input):
    """torch's all/any return uint8 for uint8 input (bool otherwise)."""
    return np.asarray(out, np.uint8 if input._data.dtype == np.uint8 else np.bool_)


def count_nonzero(input, dim=None):
    """Number of non-zero elements (along ``dim``)."""
    axes = wrap_dims(dim, input._data.ndim)
    return _wrap(np.asarray(np.count_nonzero(input._data, axis=axes), dtype=np.int64))


class VectorNorm(Op):
    """z = (sum |x|^p)^(1/p) over ``dim``; p = 2, 1, inf (max |x|), 0 (count) or any other"""

    _backward_name = "LinalgVectorNormBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, p=2.0, dim=None, keepdim=False):
        axes = _dims(dim, x, keepdim)
        a = np.abs(x)
        if p == 2:
            out = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
        elif p == 1:
            out = np.sum(a, axis=axes, keepdims=True)
        elif p == float("inf"):
            out = np.max(a, axis=axes, keepdims=True)
        elif p == 0:
            out = np.sum(a != 0, axis=axes, keepdims=True).astype(x.dtype)
        else:
            out = np.sum(a ** p, axis=axes, keepdims=True) ** (1.0 / p)
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.p, ctx.axes = p, axes
        result = out if keepdim else (out.reshape(()) if axes is None else out.squeeze(axes))
        return _contiguous(result)  # torch returns contiguous results

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        g = grad.reshape(out.shape)
        p = ctx.p
        if p == 1:
            return g * np.sign(x)
        if p == 0:
            return None  # a count: no gradient (torch leaves .grad unset too)
        if p == float("inf"):  # the largest |x| share the gradient
            hit = np.abs(x) == out
            return g * np.sign(x) * hit / hit.sum(axis=ctx.axes, keepdims=True)
        # d/dx = x |x|^(p-2) / norm^(p-1); 0 where the norm is 0, as torch
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(out == 0, 0, g / out ** (p - 1))
            if p == 2:
                return scale * x
            return np.where(x == 0, 0, scale * x * np.abs(x) ** (p - 2)).astype(x.dtype)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (2-norm / Frobenius by default); one node, as torch's
    ``linalg.vector_norm``."""
    if p in ("fro", None):
        p = 2.0
    elif p == "inf":
        p = float("inf")
    elif isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported p={p!r} (matrix norms are not implemented)")
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(input._data.dtype)}")
    return VectorNorm.apply(input, p=float(p), dim=dim, keepdim=keepdim)
