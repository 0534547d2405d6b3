"""Reductions: sum, mean, var/std, prod, max/min, softmax family, all/any (norm: vector_norm.py)."""
from __future__ import annotations

import builtins

import numpy as np

from .. import _arg_errors, _dtype, return_types
from .._tensor import Tensor, _wrap
from ..autograd.function import Op
from . import _opmath
from ._empty_reductions import complex_extreme, refuse_complex
from ._opmath import HALF
from ._out import write_out
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


_add_reduce = np.add.reduce


def _dims(dim, x, keepdim):
    axes = wrap_dims(dim, x.ndim)
    if axes is not None and x.ndim == 0:
        axes = None
    return axes


def _acc(x):
    """``x`` as torch's CPU kernels read it: float16 is accumulated in float32."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _sum_array(x, axes, keepdim, dtype=None):
    """np.sum with torch's dtypes: ``x`` is cast to ``dtype`` first, float16 sums in float32."""
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    if x.dtype == np.float16:
        out = np.asarray(np.sum(x, axis=axes, keepdims=keepdim, dtype=np.float32))
        with np.errstate(over="ignore"):  # past 65504: inf, silently (torch)
            return _contiguous(out.astype(x.dtype))
    out = np.asarray(np.sum(x, axis=axes, keepdims=keepdim))
    return _contiguous(out.astype(x.dtype, copy=False))  # torch returns contiguous results


class Sum(Op):
    """z = sum of x over ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False, dtype=None):
        if dim is None and dtype is None and x.dtype.kind == "f" and x.dtype != np.float16:
            ctx.x_shape, ctx.axes, ctx.keepdim = x.shape, None, keepdim
            return np.asarray(_add_reduce(x, None, x.dtype, None, keepdim))
        axes = _dims(dim, x, keepdim)
        ctx.x_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if dim is not None:
            ctx.show_as("SumBackward1")  # torch's name when dims are given
        return _sum_array(x, axes, keepdim, dtype)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back_copy(grad, ctx.x_shape, ctx.axes, ctx.keepdim)


class Mean(Op):
    """z = mean of x over ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False, dtype=None):
        axes = _dims(dim, x, keepdim)
        ctx.x_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if dim is not None:
            ctx.show_as("MeanBackward1")  # torch's name when dims are given
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        ctx.n = n
        if n:
            result = np.asarray(_add_reduce(_acc(x), axis=axes, keepdims=keepdim) / n)
        else:  # NaN, as torch, without NumPy's "Mean of empty slice" warning
            result = np.asarray(np.sum(_acc(x), axis=axes, keepdims=keepdim) * np.nan)
        result = result.astype(dtype or x.dtype)  # a narrower dtype= rounds the mean only
        return _contiguous(result)  # torch returns contiguous results

    @staticmethod
    def backward(ctx, grad):
        g = _expand_back_copy(grad, ctx.x_shape, ctx.axes, ctx.keepdim)
        if ctx.n:
            if g.dtype is HALF:  # torch's grad / n: n read as float32, rounded once
                return (g / np.float32(ctx.n)).astype(HALF)
            g *= np.asarray(1.0 / ctx.n, dtype=grad.dtype)
        return g


class Var(Op):
    """z = sum((x - mean)**2) / (N - correction) over ``dim`` (``std``: its square root)"""

    @staticmethod
    def forward(ctx, x, *, dim=None, correction=1, keepdim=False, std=False):
        axes = _dims(dim, x, keepdim)
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        x_in, x_dtype, x = x, x.real.dtype, _acc(x)  # complex x: a real variance
        if n:
            mean = _add_reduce(x, axis=axes, keepdims=True) / n  # NumPy's warnings: silenced
        else:  # NaN, without NumPy's "Mean of empty slice" warning
            mean = np.sum(x, axis=axes, keepdims=True) * np.nan
        centred = x - mean
        ctx.axes, ctx.keepdim, ctx.x_shape, ctx.std = axes, keepdim, x.shape, std
        ctx.denom = n - correction if n > correction else 0
        # the backward's divisor is the true n - correction, negative ones included (torch)
        ctx.dof, ctx.full = n - correction, dim is None or x.ndim == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            sq = centred * centred if centred.dtype.kind != "c" else np.abs(centred) ** 2
            out = np.sum(sq, axis=axes, keepdims=keepdim) / ctx.denom
        if std:
            out = np.sqrt(out)
            ctx.show_as("StdBackward0")
        out = np.asarray(out).astype(x_dtype, copy=False)
        out = _contiguous(out)  # torch returns contiguous results
        # float16: x and its float16 mean, for torch's x - mean in the backward formula
        ctx.mean = mean.astype(HALF) if x_in.dtype is HALF else None
        kept = centred if ctx.mean is None else x_in  # as torch: x, and std's result only
        ctx.save_for_backward(x_in, kept, out) if std else ctx.save_for_backward(x_in, kept)
        return out

    @staticmethod
    def backward(ctx, grad):
        centred, out = ctx.saved_tensors[1], ctx.saved_tensors[2] if ctx.std else None
        g = _kept_shape(grad, ctx.x_shape, ctx.axes, ctx.keepdim)  # broadcasts with centred
        if ctx.mean is not None:  # float16 (``centred`` is x): torch's formula, op by op
            s = _kept_shape(out, ctx.x_shape, ctx.axes, ctx.keepdim) if ctx.std else None
            return _opmath.var_grad_half(g, s, centred, ctx.mean, ctx.dof, ctx.full)
        if ctx.std:  # d std = d var / (2 std); 0 where std is 0, as torch
            s = _kept_shape(out, ctx.x_shape, ctx.axes, ctx.keepdim)
            with np.errstate(divide="ignore", invalid="ignore"):
                g = np.where(s == 0, 0, g / (2 * s))
        if ctx.dof <= 0 and ctx.full:  # torch: infinite, NaN where x is at its mean
            return (g * np.where(centred == 0, np.nan, np.inf)).astype(grad.dtype, copy=False)
        with np.errstate(divide="ignore"):
            factor = np.float64(2.0) / ctx.dof  # inf for a zero dof, as torch's 2 / 0
        return (g * centred * factor).astype(grad.dtype, copy=False)


class Prod(Op):
    """z = product of x over ``dim`` (zeros handled exactly)"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False, dtype=None):
        axes = _dims(dim, x, keepdim)
        ctx.axes, ctx.keepdim = axes, keepdim
        if dim is not None:
            ctx.show_as("ProdBackward1")  # torch's name when a dim is given
        if dtype is None and x.dtype.kind in "biu":
            dtype = np.int64  # torch's integer products (NumPy would give uint64 for uint8)
        result = np.asarray(np.multiply.reduce(x, axis=axes, keepdims=keepdim, dtype=dtype))
        result = _contiguous(result.astype(dtype or x.dtype, copy=False))
        ctx.save_for_backward(x, result)  # torch saves the result too: it sees it changed
        return result

    @staticmethod
    def backward(ctx, grad):
        x = ctx.saved_tensors[0]
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
            raise RuntimeError(f"{'max' if largest else 'min'}(): Expected reduction dim to be "
                               "specified for input.numel() == 0. Specify the reduction dim with "
                               "the 'dim' argument.")
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
            raise IndexError(f"{'max' if largest else 'min'}(): Expected reduction dim {axis} "
                             "to have non-zero size.")
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
        if not x.size:  # torch names the dims as given
            _check_nonempty("amax" if largest else "amin", x, axes, RuntimeError,
                            (dim,) if isinstance(dim, (int, np.integer)) else dim)
        out = (np.max if largest else np.min)(x, axis=axes, keepdims=True)
        ctx.axes, ctx.keepdim, ctx.kept_shape = axes, keepdim, out.shape
        if not largest:
            ctx.show_as("AminBackward0")
        result = out if keepdim else (out.reshape(()) if axes is None else out.squeeze(axes))
        result = _contiguous(result)  # torch returns contiguous results
        ctx.save_for_backward(x, result)  # the result itself: torch sees it changed in place
        return result

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors[0], ctx.saved_tensors[1].reshape(ctx.kept_shape)
        mask = x == out
        count = mask.sum(axis=ctx.axes, keepdims=True)
        g = grad if ctx.keepdim else grad.reshape(out.shape)
        return (mask * (g / count)).astype(grad.dtype)


def _check_nonempty(name, x, axes, all_error=IndexError, shown=None):
    """torch's errors for max-like reductions over no elements (``shown``: dims as given)."""
    if x.size:
        return
    if axes is None:
        raise all_error(f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
                        + (" Specify the reduction dim with the 'dim' argument."
                           if all_error is RuntimeError else ""))
    for a in axes if shown is None else shown:
        if x.shape[a] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


class Softmax(Op):
    """z = exp(x - max) / sum(exp(x - max)) along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim):
        axis = wrap_dim(dim, x.ndim)
        ctx.axis = axis
        if x.size == 0:
            ctx.save_for_backward(x)
            return x.copy()
        f = _acc(x)
        e = np.exp(f - f.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        e = _contiguous(e.astype(x.dtype, copy=False))  # torch returns contiguous results
        ctx.save_for_backward(e)
        return e

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        if grad.dtype == np.float16:  # in float32, rounded once (torch's kernel)
            o = out.astype(np.float32)
            gy = grad.astype(np.float32) * o
            gy -= o * gy.sum(axis=ctx.axis, keepdims=True)
            return gy.astype(np.float16)
        gy = grad * out
        gy -= out * gy.sum(axis=ctx.axis, keepdims=True)
        return gy


class LogSoftmax(Op):
    """z = x - logsumexp(x) along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim):
        axis = wrap_dim(dim, x.ndim)
        ctx.axis = axis
        if x.size == 0:
            ctx.save_for_backward(x)
            return x.copy()
        f = _acc(x)
        shifted = f - f.max(axis=axis, keepdims=True)
        out = _opmath.log_softmax_shifted(shifted, axis, x.dtype is HALF)  # float16: torch's
        out = _contiguous(out.astype(x.dtype, copy=False))  # torch returns contiguous results
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        if grad.dtype == np.float16:  # in float32, rounded once (torch's kernel)
            g = grad.astype(np.float32)
            gx = g - np.exp(out.astype(np.float32)) * g.sum(axis=ctx.axis, keepdims=True)
            return gx.astype(np.float16)
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


class Logsumexp(Op):
    """z = log(sum(exp(x))) over ``dim``, shifted by the max for stability"""

    @staticmethod
    def forward(ctx, x, *, dim, keepdim=False):
        axes = _dims(dim, x, keepdim)
        x_dtype, x = x.dtype, _acc(x)
        # complex x: shifted by the largest real part, as torch (the log stays principal)
        m = np.max(x.real, axis=axes, keepdims=True) if x.size else np.zeros((1,) * x.ndim,
                                                                               x.real.dtype)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore", over="ignore"):
            total = np.sum(np.exp(x - m), axis=axes, keepdims=True)
            if x_dtype == np.float16:  # torch rounds the sum to float16: inf past 65504
                total = total.astype(np.float16)
            out = (np.log(total) + m).astype(x_dtype)
        ctx.axes, ctx.keepdim, ctx.kept_shape = axes, keepdim, out.shape
        if not keepdim:
            out = _contiguous(out.reshape(()) if axes is None else out.squeeze(axes))
        ctx.save_for_backward(x, out)  # the result itself: torch sees it changed in place
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors[0], ctx.saved_tensors[1].reshape(ctx.kept_shape)
        g = grad if ctx.keepdim else grad.reshape(out.shape)
        x = x.astype(HALF) if grad.dtype is HALF else x  # float16: each op rounds, as torch
        return (g * np.exp(x - out)).astype(grad.dtype, copy=False)


# --- wrappers ---------------------------------------------------------------------------
def _dim_arg(dim, axis):
    return axis if dim is None and axis is not None else dim


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A001
    """Sum over ``dim`` (all elements by default); integer and bool inputs sum to int64."""
    if dim is None and axis is None and dtype is None and not keepdim and not keepdims:
        x = input._data
        if x.dtype.kind == "f" and x.dtype != np.float16:
            if input._rg:
                return Sum.apply(input)
            return _wrap(np.asarray(_add_reduce(x, None)))
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
        return _wrap(_sum_array(input._data, _dims(dim, input._data, keepdim), keepdim, np_dtype))
    return Sum.apply(input, dim=dim, keepdim=keepdim, dtype=np_dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Mean over ``dim``; float dtypes only, as in torch."""
    dim = _dim_arg(dim, axis)
    keepdim = keepdims if keepdims is not None else keepdim
    narrow = None
    if dtype is not None:
        to = _dtype.convert(dtype)
        if not (to.is_floating_point or to.is_complex):
            raise RuntimeError(
                "mean(): could not infer output dtype. Optional dtype must be either a floating "
                f"point or complex dtype. Got: {type_name(to.np)}")
        if input._data.dtype.kind == "f" and to.np.itemsize < input._data.dtype.itemsize:
            narrow = to.np  # computed in the input's precision, then rounded (torch)
        else:
            input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {type_name(input._data.dtype)}")
    if dim == () or dim == []:
        dim = None
    return Mean.apply(input, dim=dim, keepdim=keepdim, dtype=narrow)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over ``dim`` (one dim or all)."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod() received an invalid combination of arguments - got "
                        f"(dim={type(dim).__name__}), but expected dim to be an int")
    np_dtype = None
    if dtype is not None:
        input = input.to(dtype)
        np_dtype = input._data.dtype
    return Prod.apply(input, dim=dim, keepdim=keepdim, dtype=np_dtype)


def max(input, dim=None, keepdim=False, *, other=None, out=None):  # noqa: A001
    """Largest element; with ``dim`` a ``(values, indices)`` pair; with a tensor, ``maximum``."""
    if isinstance(dim, Tensor) or other is not None:
        from .clamp import maximum

        result = maximum(input, dim if other is None else other)
    elif input._data.dtype.kind == "c":
        refuse_complex(max, "max", dim, input)
    elif dim is None:
        result = MaxAll.apply(input, largest=True)
    else:
        result = return_types.max(MaxDim.apply(input, dim=dim, keepdim=keepdim, largest=True))
    return write_out("max", result, out, (input,))


def min(input, dim=None, keepdim=False, *, other=None, out=None):  # noqa: A001
    """Smallest element; with ``dim`` a ``(values, indices)`` pair; with a tensor, ``minimum``."""
    if isinstance(dim, Tensor) or other is not None:
        from .clamp import minimum

        result = minimum(input, dim if other is None else other)
    elif input._data.dtype.kind == "c":
        refuse_complex(min, "min", dim, input)
    elif dim is None:
        result = MaxAll.apply(input, largest=False)
    else:
        result = return_types.min(MaxDim.apply(input, dim=dim, keepdim=keepdim, largest=False))
    return write_out("min", result, out, (input,))


def amax(input, dim=(), keepdim=False):
    """Max over one or several dims; ties share the gradient."""
    if input._data.dtype.kind == "c":
        return complex_extreme(amax, "max_values_cpu", input, dim, keepdim)
    return Amax.apply(input, dim=dim, keepdim=keepdim, largest=True)


def amin(input, dim=(), keepdim=False):
    """Min over one or several dims; ties share the gradient."""
    if input._data.dtype.kind == "c":
        return complex_extreme(amin, "min_values_cpu", input, dim, keepdim)
    return Amax.apply(input, dim=dim, keepdim=keepdim, largest=False)


def _arg_extreme(name, find, input, dim, keepdim):
    x = input._data
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'dim' (position 2) must be int, not "
                        f"{type(dim).__name__}")
    if x.dtype.kind in "bc":
        kind = "bool" if x.dtype.kind == "b" else "complex"
        raise RuntimeError(f"{name}(): does not support {kind} input")
    if dim is None:
        _check_nonempty(name, x, None)
        out = np.asarray(find(x), np.int64)
        return _wrap(out.reshape((1,) * x.ndim) if keepdim else out)
    axis = wrap_dim(dim, x.ndim)
    if not x.ndim:
        return _wrap(np.zeros((), np.int64))
    _check_nonempty(name, x, (axis,))
    return _wrap(np.asarray(find(x, axis=axis, keepdims=keepdim), np.int64))


def argmax(input, dim=None, keepdim=False):
    """Index of the largest element (of the flattened tensor when ``dim`` is None)."""
    return _arg_extreme("argmax", np.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest element."""
    return _arg_extreme("argmin", np.argmin, input, dim, keepdim)


def _softmax_input(input, dtype, kernel=None, dim=None):
    np_dtype = input._data.dtype if dtype is None else _dtype.convert(dtype).np
    if np_dtype.kind != "f":
        if kernel:  # torch has no integer softmax kernels (logsumexp promotes instead)
            last = wrap_dim(dim, input._data.ndim) == builtins.max(input._data.ndim - 1, 0)
            if not input._data.size:  # torch returns an empty input as is, in any dtype
                return _wrap(np.empty(input._data.shape, np_dtype))
            name = f"{kernel}_lastdim_kernel_impl" if last else f"{kernel}_kernel_impl"
            raise NotImplementedError(f'"{name}" not implemented for \'{type_name(np_dtype)}\'')
        if np_dtype.kind == "c":
            return input
        return input.to(_dtype.get_default_dtype())
    return input if dtype is None else input.to(dtype)


def softmax(input, dim=None, dtype=None, *, _stacklevel=3, out=None):
    """exp(x) normalised to sum to 1 along ``dim`` (required: only ``F.softmax`` infers it)."""
    if dim is None:
        raise _arg_errors.missing("softmax", "dim")
    x = _softmax_input(input, dtype, "softmax", dim)
    result = Softmax.apply(x, dim=dim) if x._data.dtype.kind == "f" else x  # else empty
    return write_out("softmax", result, out, (input,))


def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3, out=None):
    """log(softmax(x)) along ``dim`` (required), computed stably."""
    if dim is None:
        raise _arg_errors.missing("log_softmax", "dim")
    x = _softmax_input(input, dtype, "log_softmax", dim)
    result = LogSoftmax.apply(x, dim=dim) if x._data.dtype.kind == "f" else x  # else empty
    return write_out("log_softmax", result, out, (input,))


def logsumexp(input, dim=None, keepdim=False):
    """log(sum(exp(x))) over ``dim`` (required, as torch's)."""
    return Logsumexp.apply(_softmax_input(input, None),
                           dim=_arg_errors.required("logsumexp", "dim", dim), keepdim=keepdim)


def _logical_axes(input, dim):
    """Axes for all/any/count_nonzero: ``()`` reduces nothing (torch), a 0-d input takes dim 0."""
    x = input._data
    if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) == 0:
        return ()
    axes = wrap_dims(dim, x.ndim)
    return None if x.ndim == 0 else axes


def all(input, dim=None, keepdim=False, *, out=None):  # noqa: A001
    """True where all elements (along ``dim``) are non-zero."""
    axes = _logical_axes(input, dim)
    result = _wrap(_like_uint8(np.all(input._data, axis=axes, keepdims=keepdim), input))
    return write_out("all", result, out, (input,))


def any(input, dim=None, keepdim=False, *, out=None):  # noqa: A001
    """True where any element (along ``dim``) is non-zero."""
    axes = _logical_axes(input, dim)
    result = _wrap(_like_uint8(np.any(input._data, axis=axes, keepdims=keepdim), input))
    return write_out("any", result, out, (input,))


def _like_uint8(out, input):
    """torch's all/any return uint8 for uint8 input (bool otherwise)."""
    return np.asarray(out, np.uint8 if input._data.dtype == np.uint8 else np.bool_)


def count_nonzero(input, dim=None):
    """Number of non-zero elements (along ``dim``)."""
    axes = wrap_dims(dim, input._data.ndim)  # checks ``dim`` against 0-d's range too
    if input._data.ndim == 0:
        axes = None
    return _wrap(np.asarray(np.count_nonzero(input._data, axis=axes), dtype=np.int64))


from .vector_norm import norm  # noqa: E402,F401  (ember.norm; in its own file for length)
