"""More of torch's math on real tensors: vector products (inner, mv, ger, vdot), renorm,
the sign family (sgn, fix, positive, angle), frexp, prelu and hardshrink, the infinity tests,
(the complex-number functions: complex_ops.py).

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).
"""
from __future__ import annotations

import math

import numpy as np

from .. import _arg_errors, return_types
from .._tensor import Tensor, _wrap
from ..autograd.function import Op
from . import complex_ops
from ._shape_utils import type_name, wrap_dim
from .compare import greater, greater_equal, less, less_equal, not_equal  # noqa: F401
from .elementwise import _float_input, sign_nan_zero, trunc
from .linalg import matmul
from .shape import reshape

__all__ = ["inner", "mv", "ger", "vdot", "renorm", "sgn", "fix", "positive", "angle", "frexp",
           "prelu", "hardshrink", "isposinf", "isneginf", "resolve_neg", "is_neg",
           "is_signed", "is_inference", "get_device", "greater", "greater_equal", "less",
           "less_equal", "not_equal"]
TENSOR_METHODS: tuple[str, ...] = (
    "inner", "mv", "ger", "vdot", "renorm", "sgn", "fix", "positive", "angle", "frexp", "prelu",
    "hardshrink", "isposinf", "isneginf", "resolve_neg", "is_neg", "is_signed", "is_inference",
    "get_device")


# --- ops -----------------------------------------------------------------------------------
class Sgn(Op):
    """z = sgn(x): -1, 0 or 1 (gradient 0)"""

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "c":  # x / |x|: its gradient needs x (ops/_complex_grad.py)
            ctx.save_for_backward(x)
        return sign_nan_zero(x)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


class Angle(Op):
    """z = pi where x < 0, else 0 (nan stays nan); gradient 0 for real x"""

    @staticmethod
    def forward(ctx, x):
        return np.where(np.isnan(x), x, np.where(x < 0, x.dtype.type(math.pi), 0)).astype(
            x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


class Frexp(Op):
    """(m, e) = x as m * 2**e with 0.5 <= |m| < 1; dm/dx = 2**-e"""

    @staticmethod
    def forward(ctx, x):
        m, e = np.frexp(x)
        ctx.save_for_backward(e)
        return m, e.astype(np.int32)

    @staticmethod
    def backward(ctx, grad, grad_exponent):
        (e,) = ctx.saved_tensors
        return np.ldexp(grad, -e).astype(grad.dtype, copy=False)


def outside_band(x, lambd):
    """Where ``x`` is not in ``[-lambd, lambd]`` (NaN included, as in torch's shrink ops)."""
    return ~((x >= -lambd) & (x <= lambd))


class Hardshrink(Op):
    """z = x where x is outside [-lambd, lambd] (NaN included), else 0"""

    @staticmethod
    def forward(ctx, x, *, lambd):
        keep = outside_band(x, lambd)
        ctx.save_for_backward(keep)
        return np.where(keep, x, x.dtype.type(0))

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return np.where(keep, grad, 0).astype(grad.dtype, copy=False)


class Prelu(Op):
    """z = x where x > 0, else w * x (w broadcast over the channel dim)"""

    _backward_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, w, *, w_view):
        ww = w.reshape(w_view)
        ctx.save_for_backward(x, w)
        ctx.w_view = w_view
        return np.where(x > 0, x, ww * x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gw = None
        if need[0]:
            gx = np.where(x > 0, grad, w.reshape(ctx.w_view) * grad).astype(grad.dtype,
                                                                           copy=False)
        if need[1]:
            part = np.where(x > 0, 0, x * grad)
            lead = part.ndim - len(ctx.w_view)
            axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(ctx.w_view)
                                              if s == 1)
            gw = part.sum(axis=axes).reshape(w.shape).astype(w.dtype, copy=False)
        return gx, gw


def _vector_norm(x, p, axes):
    a = np.abs(x)
    if p == math.inf:
        return a.max(axis=axes, keepdims=True) if x.size else np.zeros(
            [1 if i in axes else n for i, n in enumerate(x.shape)], x.dtype)
    if p == 1:
        return a.sum(axis=axes, keepdims=True)
    if p == 2:
        return np.sqrt((x * x).sum(axis=axes, keepdims=True))
    return (a ** p).sum(axis=axes, keepdims=True) ** (1 / p)


def _norm_backward(g, x, p, norm, axes):
    """torch's ``norm_backward``: the gradient of ``norm`` (keepdim) given its gradient ``g``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 1:
            return np.sign(x) * g
        if p == 2:
            return np.where(norm == 0, 0, x * (g / norm))
        if p == math.inf:
            mask = np.abs(x) == norm
            return np.sign(x) * mask * (g / mask.sum(axis=axes, keepdims=True))
        scaled = (np.where(x == 0, 0, np.sign(x) * np.abs(x) ** (p - 1)) if p < 1
                  else x * np.abs(x) ** (p - 2))
        return scaled * np.where(norm == 0, 0, g / norm ** (p - 1))


class Renorm(Op):
    """z = each slice along ``dim`` scaled down to p-norm ``maxnorm`` when its norm is above
    it: x * maxnorm / (norm + 1e-7)"""

    @staticmethod
    def forward(ctx, x, *, p, dim, maxnorm):
        axes = tuple(i for i in range(x.ndim) if i != dim)
        wide = x.astype(np.float32) if x.dtype == np.float16 else x  # torch: float32 norms
        if wide.dtype.kind == "c":  # a complex slice's norm is its moduli's (real)
            wide = np.abs(wide)
        norm = _vector_norm(wide, p, axes).astype(wide.dtype, copy=False)
        t = wide.dtype.type
        factor = np.where(norm > t(maxnorm), t(maxnorm) / (norm + t(1e-7)), t(1))
        ctx.save_for_backward(x, norm)
        ctx.p, ctx.axes, ctx.maxnorm = p, axes, maxnorm
        return (x * factor.astype(x.dtype, copy=False)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, norm = ctx.saved_tensors
        axes, maxnorm = ctx.axes, ctx.maxnorm
        if x.dtype == np.float16:  # in float32, rounded once (torch's renorm_backward)
            x = x.astype(np.float32)
        if x.dtype.kind == "c":  # the norm is real: Re(conj(x) grad), as torch's renorm_backward
            gsum = (np.conj(x) * grad).real.sum(axis=axes, keepdims=True)
        else:
            gsum = (x * grad).sum(axis=axes, keepdims=True)
        nb = _norm_backward(gsum, x, ctx.p, norm, axes)
        invnorm = 1 / (norm + 1e-7)
        factor = invnorm * maxnorm
        return np.where(norm > maxnorm, factor * grad - factor * invnorm * nb,
                        grad).astype(grad.dtype, copy=False)


# --- products ---------------------------------------------------------------------------------
def _same_dtype(a: Tensor, b: Tensor, message: str) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(message)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims of both (a product when either is 0-d); the result
    has shape ``input.shape[:-1] + other.shape[:-1]``.

    Raises:
        RuntimeError: the last dims differ, or the dtypes do.
    """
    _arg_errors.check_tensors("inner", input=input, other=other)
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    a, b = input._data.shape, other._data.shape
    if a[-1] != b[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(a)} and {list(b)}")
    _same_dtype(input, other, "both inputs should have same dtype")
    k, m, n = a[-1], math.prod(a[:-1]), math.prod(b[:-1])
    if input._data.dtype == np.bool_ and (m * n == 1 or k * m * n):
        # torch's tensordot reaches dot for a 1 x 1 result, mm otherwise (skipped when empty)
        kernel = "dot" if m * n == 1 else "addmm_impl_cpu_"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    flat = matmul(reshape(input, m, k), reshape(other, n, k).t())
    return reshape(flat, a[:-1] + b[:-1])


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product of a 2-D ``input`` and a 1-D ``vec``.

    Raises:
        RuntimeError: the ranks, sizes or dtypes do not fit (torch's messages).
    """
    _arg_errors.check_tensors("mv", input=input, vec=vec)
    a, v = input._data, vec._data
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {v.ndim}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat "
                           f"({a.shape[0]}x{a.shape[1]}), vec ({v.shape[0]})")
    _same_dtype(input, vec, f"addmv input tensors must have the same dtype, but got "
                f"{type_name(v.dtype)}, {type_name(a.dtype)}, and {type_name(v.dtype)}")
    return matmul(input, vec, node_name="MvBackward0")


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors (``torch.outer``'s older name).

    Raises:
        RuntimeError: an argument is not 1-D.
    """
    from .elementwise import mul

    _arg_errors.check_tensors("ger", input=input, vec2=vec2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got "
                               f"{t._data.ndim}-D")
    return mul(reshape(input, -1, 1), vec2)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """Dot product of two 1-D tensors (the first conjugated: a plain dot for real ones).

    Raises:
        RuntimeError: not both 1-D, sizes or dtypes that differ.
    """
    _arg_errors.check_tensors("vdot", input=input, other=other)
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    _same_dtype(input, other, f"dot : expected both vectors to have same dtype, but found "
                f"{type_name(a.dtype)} and {type_name(b.dtype)}")
    if a.shape != b.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.size}] and src "
                           f"[{b.size}] to have the same number of elements, but got {a.size} "
                           f"and {b.size} elements respectively")
    if a.dtype == np.bool_:
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")
    return matmul(complex_ops.conj_physical(input), other, node_name="VdotBackward0")


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to it
    (``maxnorm / (norm + 1e-7)``); the others unchanged.

    Raises:
        RuntimeError: ``p <= 0``, ``maxnorm < 0``, a non-float input or fewer than 2 dims.
    """
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    x = input._data
    if x.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    d = wrap_dim(dim, x.ndim)
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(x.dtype)}")
    return Renorm.apply(input, p=float(p), dim=d, maxnorm=float(maxnorm))


# --- signs -------------------------------------------------------------------------------------
def sgn(input: Tensor) -> Tensor:
    """The sign of each element (``x / |x|`` for complex numbers: ``sign`` for real ones)."""
    if input._data.dtype == np.bool_:
        return input.clone()
    return Sgn.apply(input)


def fix(input: Tensor) -> Tensor:
    """Round toward zero (``torch.trunc``'s other name).

    Raises:
        NotImplementedError: a bool input.
    """
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"trunc_vml_cpu\" not implemented for 'Bool'")
    return trunc(input)


def positive(input: Tensor) -> Tensor:
    """``+input``: the input itself.

    Raises:
        RuntimeError: a bool input (torch refuses unary plus on bools).
    """
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def angle(input: Tensor) -> Tensor:
    """The argument of each element: pi for negative numbers, 0 otherwise (nan stays nan);
    integers give the default float dtype; complex numbers their argument in (-pi, pi]."""
    if input._data.dtype.kind == "c":
        return complex_ops.angle(input)
    return Angle.apply(_float_input(input))


def frexp(input: Tensor):
    """``(mantissa, exponent)`` with ``input = mantissa * 2 ** exponent`` and
    ``0.5 <= |mantissa| < 1`` (int32 exponents), as ``torch.frexp``'s named tuple.

    Raises:
        RuntimeError: a non-float input.
    """
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return return_types.frexp(Frexp.apply(input))


# --- activations ------------------------------------------------------------------------------
def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0.

    Raises:
        NotImplementedError: a non-float input.
    """
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"hardshrink_cpu\" not implemented for "
                                  f"'{type_name(input._data.dtype)}'")
    return Hardshrink.apply(input, lambd=lambd)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, else ``weight * x``: one slope for all, or one per channel
    (dim 1).

    Raises:
        RuntimeError: ``weight`` not 0-D/1-D, its size neither 1 nor the channel count, or
            dtypes that differ.
        NotImplementedError: a non-float input.
    """
    _arg_errors.check_tensors("prelu", input=input, weight=weight)
    if weight._data.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight._data.ndim}")
    x_dt, w_dt = input._data.dtype, weight._data.dtype
    if x_dt != w_dt:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {type_name(x_dt)} and "
                           f"{type_name(w_dt)}")
    nd = input._data.ndim
    channels = input._data.shape[1] if nd >= 2 else 1
    n = weight._data.size
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {n} and channel size = {channels}.")
    if x_dt.kind != "f":
        raise NotImplementedError(f"\"prelu_cpu\" not implemented for '{type_name(x_dt)}'")
    w_view = (channels,) + (1,) * (nd - 2) if n != 1 else ()
    return Prelu.apply(input, weight, w_view=w_view)


# --- tests ------------------------------------------------------------------------------------
def _bool_where(input: Tensor, fn) -> Tensor:
    x = input._data
    return _wrap(np.asarray(fn(x)) if x.dtype.kind == "f" else np.zeros(x.shape, bool))


def _no_complex(name: str, input: Tensor) -> None:
    if input._data.dtype.kind == "c":
        raise RuntimeError(f"{name} does not support complex inputs.")


def isposinf(input: Tensor) -> Tensor:
    """True where an element is +inf (never for integer tensors)."""
    _no_complex("isposinf", input)
    return _bool_where(input, np.isposinf)


def isneginf(input: Tensor) -> Tensor:
    """True where an element is -inf (never for integer tensors)."""
    _no_complex("isneginf", input)
    return _bool_where(input, np.isneginf)


def resolve_neg(input: Tensor) -> Tensor:
    """The input itself: ember tensors never carry a lazy negation bit."""
    return input


def is_neg(input: Tensor) -> bool:
    """False: ember tensors never carry a lazy negation bit."""
    return False


def is_signed(input: Tensor) -> bool:
    """True for dtypes that hold negative numbers (floats, complex and signed integers)."""
    return input._data.dtype.kind in "fic"


def is_inference(input: Tensor) -> bool:
    """True for a tensor made inside ``inference_mode`` (or a view of one)."""
    return input._inference


def get_device(input: Tensor) -> int:
    """-1, torch's answer for a CPU tensor."""
    return -1


# --- comparisons in the input's dtype: what the in-place forms (``eq_``, ``lt_`` ...) write ---
_COMPARISONS = {"eq": (np.equal, "Eq"), "ne": (np.not_equal, "Ne"), "lt": (np.less, "Lt"),
                "le": (np.less_equal, "Le"), "gt": (np.greater, "Gt"),
                "ge": (np.greater_equal, "Ge")}


class CompareAs(Op):
    """z = (x op y) as x's dtype (gradient 0 for both)"""

    @staticmethod
    def forward(ctx, x, y, *, ufunc, node_name, common):
        ctx.show_as(node_name)
        ctx.y_meta = np.shape(y), np.asarray(y).dtype
        # compared in torch's common dtype: a number wraps into a narrower integer dtype
        # (uint8 < -2 compares with 254), a wider float rounds to a narrower one
        out = ufunc(x.astype(common, copy=False), np.asarray(y).astype(common, copy=False))
        return np.asarray(out).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        return (np.zeros_like(grad) if need[0] else None,
                np.zeros(*ctx.y_meta) if need[1] else None)


def compare_as_input(name: str):
    """The out-of-place function ``x.<name>_(y)`` writes back: ``x <name> y`` in x's dtype,
    recorded as torch's ``<Name>Backward0`` (a number) or ``<Name>Backward1`` (a tensor)."""
    ufunc, node = _COMPARISONS[name]

    def op(input, other):
        from .. import _dtype
        from ._shape_utils import py_scalar

        other = py_scalar(other)
        y = other._data if isinstance(other, Tensor) else np.asarray(other)
        if isinstance(other, Tensor) and y.shape != input._data.shape:
            from ._shape_utils import check_broadcast

            check_broadcast(input._data.shape, y.shape)
        common = _dtype.result_type(input, other)
        if common.is_complex and name not in ("eq", "ne"):  # complex numbers have no order
            raise NotImplementedError(
                f'"{name}_cpu" not implemented for \'{type_name(common.np)}\'')
        suffix = "1" if isinstance(other, Tensor) else "0"
        return CompareAs.apply(input, other if isinstance(other, Tensor) else y, ufunc=ufunc,
                               node_name=f"{node}Backward{suffix}", common=common.np)

    op.__name__ = name
    return op
