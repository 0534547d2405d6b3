"""Running sums and products along a dim: cumsum and cumprod, with their gradients."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Op
from ._shape_utils import wrap_dim


def _accumulator(x, promote):
    """The dtype a running op works in: torch gives int64 for integer and bool inputs (unless
    ``dtype=`` chose one), and keeps float dtypes."""
    return np.dtype(np.int64) if promote and x.dtype.kind in "iub" else x.dtype


_SCAN_ACC = {np.dtype(np.float16): np.float32, np.dtype(np.float32): np.float64,
             np.dtype(np.complex64): np.complex128}


def scan_acc(dtype):
    """The dtype torch's CPU scans run in (``acc_type<T, false>``): float32 for float16,
    float64 for float32, complex128 for complex64; other dtypes scan in themselves."""
    return _SCAN_ACC.get(np.dtype(dtype), dtype)


def _cumsum(a, axis):
    """``np.cumsum`` in torch's accumulation dtype, each running value rounded back."""
    acc = scan_acc(a.dtype)
    return np.add.accumulate(a, axis=axis, dtype=acc).astype(a.dtype, copy=False)


def _reverse_cumsum(a, axis):
    """``out[k] = sum(a[k:])`` along ``axis``."""
    return np.flip(_cumsum(np.flip(a, axis), axis), axis)


class Cumsum(Op):
    """z = running sum along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim, promote=True):
        ctx.axis = wrap_dim(dim, x.ndim)
        dtype = _accumulator(x, promote)
        if x.ndim == 0:
            return x.astype(dtype)
        return np.ascontiguousarray(_cumsum(x.astype(dtype, copy=False), ctx.axis))

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad
        return np.ascontiguousarray(_reverse_cumsum(grad, ctx.axis))


class Cumprod(Op):
    """z = running product along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim, promote=True):
        ctx.axis = wrap_dim(dim, x.ndim)
        dtype = _accumulator(x, promote)
        out = x.astype(dtype) if x.ndim == 0 else np.ascontiguousarray(np.multiply.accumulate(
            x, axis=ctx.axis, dtype=scan_acc(dtype)).astype(dtype, copy=False))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if x.ndim == 0:
            return grad.copy()
        axis = ctx.axis
        # x[k] feeds every out[j], j >= k: d out[j] / d x[k] = out[j] / x[k] while x[k] != 0
        zero = x == 0
        if not zero.any():
            return np.ascontiguousarray(_reverse_cumsum(grad * out, axis) / x)
        return _backward_with_zeros(grad, x, out, zero, axis)


def _backward_with_zeros(grad, x, out, zero, axis):
    """The cumprod gradient when some x are 0, without dividing by them. Along each line,
    with z the first zero: before z the quotient rule holds; at z the gradient is
    ``prod(x[:z]) * sum_j>=z grad[j] * prod(x[z+1:j+1])``; after z every product holding
    x[z] is 0, so is the gradient."""
    g, xs, o, zs = (np.moveaxis(a, axis, -1) for a in (grad, x, out, zero))
    n = xs.shape[-1]
    first = np.where(zs.any(-1), zs.argmax(-1), n)[..., None]      # index of the first zero
    position = np.arange(n)
    before = position < first
    safe_x = np.where(before, xs, 1)
    gx = np.where(before, _reverse_cumsum(g * o, -1) / safe_x, 0).astype(o.dtype)
    # at z: the products of x after z, with x up to z (itself included) read as 1
    after = np.where(position > first, xs, 1)
    after = np.cumprod(after, axis=-1, dtype=scan_acc(after.dtype)).astype(after.dtype)
    at_z = np.sum(np.where(position >= first, g * after, 0), axis=-1, keepdims=True)
    prefix = np.take_along_axis(o, np.maximum(first - 1, 0), axis=-1)
    prefix = np.where(first > 0, prefix, 1)
    gx = np.where(position == first, prefix * at_z, gx)
    return np.ascontiguousarray(np.moveaxis(gx, -1, axis)).astype(grad.dtype, copy=False)


def _refuse_bool(input, dim, dtype, kernel):
    """torch has no bool loop for running sums and products; an empty or 0-d input, which
    it copies, never reaches one."""
    from .._dtype import convert

    if convert(dtype).np == np.bool_:
        wrap_dim(dim, input._data.ndim)
        if input._data.ndim and input._data.size:
            raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``; integer and bool inputs give int64 unless ``dtype`` says.

    Raises:
        NotImplementedError: ``dtype`` is bool (and the input has elements along a dim).
    """
    if dtype is not None:
        _refuse_bool(input, dim, dtype, "cumsum_out_cpu")
        return Cumsum.apply(input.to(dtype), dim=dim, promote=False)
    return Cumsum.apply(input, dim=dim)


def cumprod(input, dim, *, dtype=None):
    """Running product along ``dim``; integer and bool inputs give int64 unless ``dtype``
    says. Its gradient is exact where inputs are 0 (no division by them).

    Raises:
        NotImplementedError: ``dtype`` is bool (and the input has elements along a dim).
    """
    if dtype is not None:
        _refuse_bool(input, dim, dtype, "cumprod_out_cpu")
        return Cumprod.apply(input.to(dtype), dim=dim, promote=False)
    return Cumprod.apply(input, dim=dim)
