"""Vector norms: ``norm`` (torch.norm) as one ``linalg.vector_norm`` node."""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from ..autograd.function import Op
from ._opmath import HALF
from ._shape_utils import type_name, wrap_dim
from .reduce import _acc, _contiguous, _dims


class VectorNorm(Op):
    """z = (sum |x|^p)^(1/p) over ``dim``; p = 2, 1, inf (max |x|), 0 (count) or any other"""

    _backward_name = "LinalgVectorNormBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, p=2.0, dim=None, keepdim=False):
        axes = _dims(dim, x, keepdim)
        f = _acc(x)  # float16 is summed in float32, as torch's norm kernel does
        a = np.abs(f)
        if p == 2:
            out = np.sqrt(np.sum(f * f if f.dtype.kind != "c" else a * a, axis=axes,
                                 keepdims=True))
        elif p == 1:
            out = np.sum(a, axis=axes, keepdims=True)
        elif p == float("inf"):
            out = np.max(a, axis=axes, keepdims=True)
        elif p == -float("inf"):
            out = np.min(a, axis=axes, keepdims=True)
        elif p == 0:
            out = np.sum(a != 0, axis=axes, keepdims=True).astype(x.real.dtype)
        else:
            out = np.sum(a ** p, axis=axes, keepdims=True) ** (1.0 / p)
        out = out.astype(x.real.dtype, copy=False)  # complex x: a real norm
        ctx.p, ctx.axes, ctx.kept_shape = p, axes, out.shape
        result = out if keepdim else (out.reshape(()) if axes is None else out.squeeze(axes))
        result = _contiguous(result)  # torch returns contiguous results
        ctx.save_for_backward(x, result)  # the result itself: torch sees it changed in place
        return result

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        out = out.reshape(ctx.kept_shape)
        g = grad.reshape(out.shape)
        p = ctx.p
        if p == 1:
            return g * _sign(x)
        if p == 0:
            return None  # a count: no gradient (torch leaves .grad unset too)
        if abs(p) == float("inf"):  # the largest (smallest) |x| share the gradient
            hit = np.abs(x) == out
            return g * _sign(x) * hit / hit.sum(axis=ctx.axes, keepdims=True)
        # d/dx = x |x|^(p-2) / norm^(p-1); 0 where the norm is 0, as torch
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2 and g.dtype is HALF:  # torch's grad * (x / norm), each op in float16
                return g * np.where(out == 0, HALF.type(0), x / out)
            scale = np.where(out == 0, 0, g / out ** (p - 1))
            if p == 2:
                return scale * x
            return np.where(x == 0, 0, scale * x * np.abs(x) ** (p - 2)).astype(x.dtype)


def _sign(x):
    """sign(x); x / |x| (0 at 0) for complex x, as torch's sgn."""
    if x.dtype.kind != "c":
        return np.sign(x)
    a = np.abs(x)
    return np.where(a == 0, 0, x / np.where(a == 0, 1, a))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (2-norm / Frobenius by default); one node, as torch's
    ``linalg.vector_norm``. ``p='nuc'`` is ``linalg.matrix_norm(input, 'nuc', dim)`` (over
    all dims when ``dim`` is None), as in torch."""
    if p is None or (p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2)):
        p = 2.0
    elif isinstance(p, str):  # 'nuc' (or 'fro' over more dims): torch's matrix_norm call
        from ._linalg_norms import matrix_norm

        dims = list(range(input._data.ndim)) if dim is None else dim
        return matrix_norm(input, p, dims, keepdim, dtype=dtype)
    x_dtype = input._data.dtype
    if x_dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(x_dtype)}")
    if dtype is not None:
        to = _dtype.convert(dtype)
        if x_dtype.kind == "c" and not to.is_complex:
            raise RuntimeError("linalg.vector_norm: dtype should be complex for complex inputs, "
                               f"but got {type_name(to.np)}")
        if _dtype.promote_types(_dtype.from_numpy(x_dtype), to) != to:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({type_name(x_dtype)}) "
                               "should be convertible without narrowing to the specified dtype "
                               f"({type_name(to.np)})")
        input = input.to(dtype)
    if p < 0 or p == math.inf:
        _check_identity(input._data.shape, float(p), dim)
    return VectorNorm.apply(input, p=float(p), dim=dim, keepdim=keepdim)


def _check_identity(shape, p, dim):
    """torch's error for a norm without an identity (a min or max: ``p`` negative or inf)
    taken over an empty dim."""
    name = str(int(p)) if p.is_integer() else str(p)
    if dim is None:
        if 0 in shape:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on an empty "
                               "tensor because the operation does not have an identity")
        return
    for d in ((dim,) if isinstance(dim, int) else dim):
        if shape and shape[wrap_dim(d, len(shape))] == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on the "
                               f"dimension {d}because this dimension is empty and the operation "
                               "does not have an identity")
