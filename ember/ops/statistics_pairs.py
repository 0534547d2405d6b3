"""Functions of two tensors or of rows against rows: dist, cdist, cross, cov and corrcoef."""
from __future__ import annotations

import warnings

import numpy as np

from .. import _arg_errors
from .._tensor import Tensor
from ..autograd.function import Op
from ._shape_utils import check_broadcast, operands, sum_to_shape, type_name, wrap_dim

__all__ = ["dist", "cdist", "cross", "linalg_cross", "cov", "corrcoef"]


def _p_norm(d, p, axis):
    """The p-norm of ``d`` along ``axis`` (all of it when None), as torch's ``norm``
    (float16 summed in float32; callers round the result back)."""
    a = np.abs(d.astype(np.float32) if d.dtype == np.float16 else d)
    if p == np.inf:
        return np.max(a, axis=axis) if a.size else np.zeros(np.sum(a, axis=axis).shape, a.dtype)
    if p == -np.inf:
        return np.min(a, axis=axis)
    if p == 0:
        return np.sum(a != 0, axis=axis).astype(d.dtype)
    if p == 1:
        return np.sum(a, axis=axis)
    if p == 2:
        return np.sqrt(np.sum(a * a, axis=axis))
    return np.sum(a ** p, axis=axis) ** (1.0 / p)


def _p_norm_grad(d, norm, grad, p, share_ties):
    """d norm / d d times ``grad`` (``norm`` and ``grad`` broadcast against ``d``), with
    torch's conventions: 0 where the norm is 0; for p = inf the largest |d| get the
    gradient, shared among ties (``dist``) or each in full (``cdist``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 0:
            return np.zeros(d.shape, grad.dtype)
        if p == 1:
            return np.sign(d) * grad
        if p in (np.inf, -np.inf):
            mask = np.abs(d) == norm
            if share_ties:
                return np.sign(d) * mask * (grad / mask.sum())  # dist: one norm of all
            return np.sign(d) * mask * grad
        if p == 2:
            return np.where(norm == 0, 0, d * grad / norm)
        if p < 1:
            scaled = np.where(d == 0, 0, np.sign(d) * np.abs(d) ** (p - 1))
            return scaled * grad * norm ** (1 - p)
        scaled = np.sign(d) * np.abs(d) ** (p - 1)
        return np.where(norm == 0, 0, scaled * grad / norm ** (p - 1))


class Dist(Op):
    """z = ||x - y||_p over all elements (x, y broadcast)"""

    @staticmethod
    def forward(ctx, x, y, *, p=2.0):
        d = x - y
        out = np.asarray(_p_norm(d, p, None), x.dtype)
        ctx.save_for_backward(d, out)
        ctx.p, ctx.x_shape, ctx.y_shape = p, np.shape(x), np.shape(y)
        return out

    @staticmethod
    def backward(ctx, grad):
        d, out = ctx.saved_tensors
        g = _p_norm_grad(d, out, grad, ctx.p, True).astype(grad.dtype)
        gx = sum_to_shape(g, ctx.x_shape) if ctx.needs_input_grad[0] else None
        gy = sum_to_shape(-g, ctx.y_shape) if ctx.needs_input_grad[1] else None
        return gx, gy


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast); float results only, as in torch."""
    _arg_errors.check_tensors("dist", input=input, other=other)
    if any(isinstance(v, Tensor) and v._data.dtype == np.bool_ for v in (input, other)):
        return input - other  # raises torch's error for subtracting bools
    x, y = operands(input, other)
    check_broadcast(x._data.shape, y._data.shape)
    if x._data.dtype.kind == "c":
        from .vector_norm import norm

        return norm(x - y, p)
    if x._data.dtype.kind != "f":
        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {type_name(x._data.dtype)} instead.")
    return Dist.apply(x, y, p=float(p))


class Cdist(Op):
    """z[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p"""

    @staticmethod
    def forward(ctx, x1, x2, *, p=2.0):
        d = x1[..., :, None, :] - x2[..., None, :, :]
        out = np.ascontiguousarray(_p_norm(d, p, -1)).astype(x1.dtype, copy=False)
        ctx.save_for_backward(d, out)
        ctx.p, ctx.shapes = p, (x1.shape, x2.shape)
        return out

    @staticmethod
    def backward(ctx, grad):
        d, out = ctx.saved_tensors
        g = _p_norm_grad(d, out[..., None], grad[..., None], ctx.p, False).astype(grad.dtype)
        g1 = sum_to_shape(g.sum(-2), ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        g2 = sum_to_shape(-g.sum(-3), ctx.shapes[1]) if ctx.needs_input_grad[1] else None
        return g1, g2


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between each row of ``x1`` (``(*, P, M)``) and each row of ``x2``
    (``(*, R, M)``): a ``(*, P, R)`` tensor, batch dims broadcast.

    ember always computes the differences directly; torch switches to a matrix-product
    formula for p = 2 with more than 25 rows, which can differ in the last bits.
    """
    _arg_errors.check_tensors("cdist", x1=x1, x2=x2)
    a, b = x1._data, x2._data
    if a.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} "
                           f"X2: {b.shape[-1]}")
    for name, arr in (("X1", a), ("X2", b)):
        if arr.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{type_name(arr.dtype)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    check_broadcast(a.shape[:-2], b.shape[:-2])
    return Cdist.apply(x1, x2, p=float(p))


class Cross(Op):
    """z = x × y along ``dim`` (x, y broadcast)"""

    _backward_name = "LinalgCrossBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, y, *, dim):
        ctx.save_for_backward(x, y)
        ctx.axis = dim
        xb, yb = np.broadcast_arrays(x, y)
        return np.ascontiguousarray(np.cross(xb, yb, axis=dim))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        a = ctx.axis
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = sum_to_shape(np.cross(np.broadcast_to(y, grad.shape), grad, axis=a), x.shape)
        if ctx.needs_input_grad[1]:
            gy = sum_to_shape(np.cross(grad, np.broadcast_to(x, grad.shape), axis=a), y.shape)
        return gx, gy


def linalg_cross(input, other, *, dim=-1):
    """``torch.linalg.cross``: the cross product of 3-vectors along ``dim`` (broadcast)."""
    x, y = input._data, other._data
    if x.ndim != y.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = wrap_dim(dim, x.ndim)
    if x.shape[d] != 3 or y.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{x.shape[d]} and {y.shape[d]}")
    check_broadcast(x.shape, y.shape)
    if x.dtype == np.bool_:  # the kernel's dispatch on input's dtype comes before its check
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected scalar type {type_name(x.dtype)} but found "
                           f"{type_name(y.dtype)}")
    return Cross.apply(input, other, dim=d)


def cross(input, other, dim=None):
    """The cross product along ``dim``; without ``dim``, along the first dim of size 3 (with
    torch's deprecation warning)."""
    _arg_errors.check_tensors("cross", input=input, other=other)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross."
                      "\nThe default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=2)
        sizes = input._data.shape
        if 3 not in sizes:
            raise RuntimeError("no dimension of size 3 in input")
        dim = sizes.index(3)
    return linalg_cross(input, other, dim=dim)


# --- covariance ---------------------------------------------------------------------------
def _weights_check(w, kind, n, floating):
    a = w._data
    if a.ndim > 1:
        raise RuntimeError(f"cov(): expected {kind} to have one or fewer dimensions but got "
                           f"{kind} with {a.ndim} dimensions")
    ok = a.dtype.kind == "f" if floating else a.dtype.kind in "iu"
    if not ok:
        want = "floating point" if floating else "integral"
        raise RuntimeError(f"cov(): expected {kind} to have {want} dtype but got {kind} with "
                           f"{type_name(a.dtype)} dtype")
    if a.size != n:
        raise RuntimeError(f"cov(): expected {kind} to have the same numel as there are "
                           f"observations in the input but got {a.size} != {n}")
    if n and a.min() < 0:
        raise RuntimeError(f"cov(): {kind} cannot be negative")


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows of ``input`` (variables) over its columns (observations), as a
    composition of differentiable ops (torch's own is one too).

    Args:
        correction: subtracted from the number (or weighted count) of observations.
        fweights: integer frequency of each observation.
        aweights: float importance of each observation.
    """
    x = input._data
    if x.ndim > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {x.ndim} dimensions")
    if x.dtype == np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    rows = input.reshape(1, -1) if x.ndim < 2 else input
    n = rows.shape[1]
    w = None
    if fweights is not None:
        _weights_check(fweights, "fweights", n, False)
        w = fweights
    if aweights is not None:
        _weights_check(aweights, "aweights", n, True)
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = n
        avg = rows.sum(1) / n
    else:
        w_sum = w.sum()
        if float(w_sum.item()) == 0:
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        avg = (rows * w).sum(1) / w_sum
    if w is None or correction == 0:
        norm = w_sum - correction
    elif aweights is None:
        norm = w_sum - correction
    else:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    if float(norm.item() if isinstance(norm, Tensor) else norm) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm = norm * 0
    centred = rows - avg.unsqueeze(1)
    c = centred @ (centred if w is None else centred * w).t().conj()  # torch's: conjugated
    return (c / norm).squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input``, clipped to [-1, 1]."""
    from .indexing import getitem

    if input._data.ndim > 2:
        raise RuntimeError("corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {input._data.ndim} dimensions")
    c = cov(input)
    if c._data.ndim == 0:
        return c / c  # nan for a zero, nan or inf variance, 1 otherwise
    k = np.arange(c.shape[0])
    from .._tensor import _wrap

    std = getitem(c, (_wrap(k), _wrap(k))).sqrt()
    c = c / std.reshape(-1, 1)
    c = c / std.reshape(1, -1)
    if c._data.dtype.kind == "c":  # torch clips the real and imaginary parts separately
        from .complex_ops import complex as complex_
        from .complex_ops import imag, real

        return complex_(real(c).clip(-1, 1), imag(c).clip(-1, 1))
    return c.clip(-1, 1)
