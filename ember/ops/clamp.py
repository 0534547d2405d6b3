"""Clamping and selection: clamp/clip, maximum/minimum (fmax/fmin), where."""
from __future__ import annotations

import numpy as np

from .. import _arg_errors, _dtype
from .._tensor import Tensor
from ..autograd.function import Op
from ._out import write_out
from ._shape_utils import check_broadcast, operands, sum_to_shape, type_name
from .elementwise import _bshape_check, _shape, to_dtype


class Clamp(Op):
    """z = min(max(x, lo), hi); gradient passes where lo <= x <= hi"""

    @staticmethod
    def forward(ctx, x, lo, hi, *, node_name=None):
        ctx.save_for_backward(x, lo, hi)
        if node_name:
            ctx.show_as(node_name)
        out = x
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        return out if out is not x else x.copy()

    @staticmethod
    def backward(ctx, grad):
        x, lo, hi = ctx.saved_tensors
        mask = np.ones(x.shape, dtype=bool)
        if lo is not None:
            mask &= x >= lo
        if hi is not None:
            mask &= x <= hi
        zero = grad.dtype.type(0)  # torch selects (where), so a nan gradient stops here too
        gx = np.where(mask, grad, zero) if ctx.needs_input_grad[0] else None
        glo = ghi = None
        # crossed bounds (lo > hi) give hi everywhere, so hi takes the whole gradient (torch)
        crossed = hi is not None and lo is not None and hi < lo
        if isinstance(lo, np.ndarray) and ctx.needs_input_grad[1]:
            glo = sum_to_shape(np.where((x < lo) & ~crossed, grad, zero), lo.shape)
        if isinstance(hi, np.ndarray) and ctx.needs_input_grad[2]:
            ghi = sum_to_shape(np.where((x > hi) | crossed, grad, zero), hi.shape)
        return gx, glo, ghi


class Maximum(Op):
    """z = max(x, y) (``largest=False``: min); ties split the gradient equally, as in torch"""

    @staticmethod
    def forward(ctx, x, y, *, largest=True):
        _bshape_check(x, y)
        ctx.save_for_backward(x, y)
        ctx.largest = largest
        if not largest:
            ctx.show_as("MinimumBackward0")
        return np.maximum(x, y) if largest else np.minimum(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        w = ((x > y) if ctx.largest else (x < y)) + 0.5 * (x == y)  # the share x gets
        gx = sum_to_shape(grad * w, x.shape) if ctx.needs_input_grad[0] else None
        gy = sum_to_shape(grad * (1 - w), y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


class Fmax(Op):
    """z = fmax(x, y) (``largest=False``: fmin): NaN loses to a number; x takes ties and the
    gradient where y is NaN, as in torch"""

    @staticmethod
    def forward(ctx, x, y, *, largest=True):
        _bshape_check(x, y)
        ctx.save_for_backward(x, y)
        ctx.largest = largest
        if not largest:
            ctx.show_as("FminBackward0")
        return np.fmax(x, y) if largest else np.fmin(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            w = ((x >= y) if ctx.largest else (x <= y)) | np.isnan(y)  # where x is chosen
        gx = sum_to_shape(grad * w, x.shape) if ctx.needs_input_grad[0] else None
        gy = sum_to_shape(grad * ~w, y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


class Where(Op):
    """z = x where cond else y"""

    @staticmethod
    def forward(ctx, cond, x, y):
        if not cond.shape == np.shape(x) == np.shape(y):
            check_broadcast(check_broadcast(cond.shape, np.shape(x)), np.shape(y))
        ctx.save_for_backward(cond)
        ctx.x_shape, ctx.y_shape = _shape(x), _shape(y)
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        zero = np.zeros((), grad.dtype)
        gx = sum_to_shape(np.where(cond, grad, zero), ctx.x_shape) if ctx.needs_input_grad[1] \
            else None
        gy = sum_to_shape(np.where(cond, zero, grad), ctx.y_shape) if ctx.needs_input_grad[2] \
            else None
        return None, gx, gy


def _bound(v, like):
    if v is None:
        return v
    if isinstance(v, Tensor):
        return to_dtype(v, like.dtype)
    from .._creation import checked_value  # (_creation imports the ops through _tensor)

    return checked_value(v, like._data.dtype)  # wraps or raises as torch's C++ cast


def clamp(input, min=None, max=None, *, node_name=None):  # noqa: A002
    """Limit values to [min, max] (either may be None, a number, or a tensor).

    ``node_name`` (ember's own): the recorded node's name, torch's by default."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if (min is not None and max is not None and isinstance(min, Tensor) != isinstance(max, Tensor)
            and node_name is None):
        raise TypeError(f"clamp() received an invalid combination of arguments - got (Tensor, "
                        f"{type(min).__name__}, {type(max).__name__}), but expected both bounds "
                        "Tensors or both numbers")
    if node_name is None and input._data.dtype.kind == "c":  # before the shapes, as torch
        raise NotImplementedError("clamp is not supported for complex types")
    shape = input._data.shape
    for bound in (min, max):
        if isinstance(bound, Tensor):  # torch checks shapes before dtypes, in this order
            shape = check_broadcast(shape, bound._data.shape)
    if node_name is None and input._data.dtype.kind == "f" and (
            isinstance(min, complex) or isinstance(max, complex)):
        from .._creation import checked_value  # torch converts the bounds to double first

        min, max = (checked_value(b, np.dtype(np.float64)) if isinstance(b, complex) else b
                    for b in (min, max))
    rt = _dtype.result_type(input, *(b for b in (min, max) if b is not None))
    if rt._category == 3:
        # clamp_min/clamp_max with a tensor bound run torch's maximum/minimum kernels
        kernel = {"ClampMinBackward1": "maximum", "ClampMaxBackward1": "minimum"}.get(node_name)
        if kernel is not None:
            raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{type_name(rt.np)}\'')
        raise NotImplementedError("clamp is not supported for complex types")
    if rt is _dtype.bool_ and isinstance(min, Tensor) and isinstance(max, Tensor):
        raise NotImplementedError('"clamp_cpu" not implemented for \'Bool\'')
    if rt is _dtype.bool_ and not isinstance(min, Tensor) and not isinstance(max, Tensor):
        kernel = "clamp" if min is not None and max is not None else (
            "clamp_min" if min is not None else "clamp_max")
        raise NotImplementedError(f'"{kernel}_scalar_cpu" not implemented for \'Bool\'')
    if rt.np != input._data.dtype:  # e.g. an int tensor clamped to 0.5 becomes float32
        input = to_dtype(input, rt)
    if node_name is None:
        tensor_bound = isinstance(min, Tensor) or isinstance(max, Tensor)
        node_name = "ClampBackward0" if tensor_bound else "ClampBackward1"
    return Clamp.apply(input, _bound(min, input), _bound(max, input), node_name=node_name)


clip = clamp


def clamp_min(input, min):  # noqa: A002
    """Limit values from below."""
    return clamp(input, min=min, node_name="ClampMinBackward1" if isinstance(min, Tensor) else
                 "ClampMinBackward0")


def clamp_max(input, max):  # noqa: A002
    """Limit values from above."""
    return clamp(input, max=max, node_name="ClampMaxBackward1" if isinstance(max, Tensor) else
                 "ClampMaxBackward0")


def _clamp_inplace(fn):
    def method(self, *args, **kwargs):
        bounds = [b for b in (*args, *kwargs.values()) if b is not None]
        numbers = (bool, int, float, complex) if fn is clamp else (bool, int, float)
        if self._data.dtype.kind in "biu" and bounds and all(
                isinstance(b, numbers) for b in bounds):
            # torch converts number bounds to self's dtype first, naming it as C++ does
            rt = _dtype.result_type(self, *bounds)
            if rt._category > _dtype.from_numpy(self._data.dtype)._category:
                raise RuntimeError(f"result type {type_name(rt.np)} can't be cast to the desired "
                                   f"output type {_dtype.c_type_name(self._data.dtype)}")
        return self._inplace(fn, *args, **kwargs)

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``; returns self."
    return method


for _fn in (clamp, clamp_min, clamp_max):
    setattr(Tensor, _fn.__name__ + "_", _clamp_inplace(_fn))
Tensor.clip_ = Tensor.clamp_


def _tensors(name, input, other):
    """Both operands as tensors of their result dtype; torch takes no Python numbers here."""
    _arg_errors.check_tensors(name, input=input, other=other)  # positions after self: methods
    x, y = operands(input, other)
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"{name} not implemented for complex tensors.")
    return x, y


def maximum(input, other):
    """Elementwise maximum of two tensors (NaN wins)."""
    return Maximum.apply(*_tensors("maximum", input, other))


def minimum(input, other):
    """Elementwise minimum of two tensors (NaN wins)."""
    return Maximum.apply(*_tensors("minimum", input, other), largest=False)


def fmax(input, other, *, out=None):
    """Elementwise maximum that ignores NaN (NaN only where both are NaN)."""
    result = Fmax.apply(*_tensors("fmax", input, other))
    return write_out("fmax", result, out, (input, other))


def fmin(input, other, *, out=None):
    """Elementwise minimum that ignores NaN."""
    result = Fmax.apply(*_tensors("fmin", input, other), largest=False)
    return write_out("fmin", result, out, (input, other))


_WHERE_FORMS = ("(Tensor condition)",
                "(Tensor condition, Tensor input, Tensor other, *, Tensor out = None)",
                "(Tensor condition, Number self, Tensor other)",
                "(Tensor condition, Tensor input, Number other)",
                "(Tensor condition, Number self, Number other)")


def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` holds, else ``other``; one argument: ``nonzero`` tuple.
    With ``out``, both must be tensors whose result dtype is ``out``'s (torch's rules)."""
    if out is not None:
        _arg_errors.check_tensors("where", condition=condition, input=input, other=other)
        want = _dtype.result_type(input, other).np  # checked before the shapes, as torch
        if want != out._data.dtype:
            raise RuntimeError(f"Expected out type to be {type_name(want)} but "
                               f"got {type_name(out._data.dtype)}")
        result = where(condition, input, other)
        return write_out("where", result, out, (condition, input, other))
    if input is None or other is None:
        if input is None and other is None:
            from .indexing import nonzero

            return nonzero(condition, as_tuple=True)
        if input is None:  # ``other`` alone can only have come by name
            raise _arg_errors.invalid_combination("where", (condition,), {"other": other},
                                                  _WHERE_FORMS)
        raise _arg_errors.invalid_combination("where", (condition, input), expected=_WHERE_FORMS)
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype == np.uint8:  # deprecated in torch, still accepted
        cond = cond.astype(bool)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {type_name(cond.dtype)}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        d = _dtype.result_type(input, other).np  # two numbers: int64, float32 or bool
        return Where.apply(cond, np.asarray(input, d), np.asarray(other, d))
    x, y = operands(input, other)
    if not isinstance(x, Tensor):
        x = np.asarray(x, y._data.dtype)
    elif not isinstance(y, Tensor):
        y = np.asarray(y, x._data.dtype)
    return Where.apply(cond, x, y)
