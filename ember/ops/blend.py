"""Blends of several tensors, each one node: lerp, addcmul, addcdiv."""
from __future__ import annotations

import numpy as np

from .. import _arg_errors
from .._dtype import c_type_name
from .._tensor import Tensor
from ..autograd.function import Op
from ._opmath import HALF, fma32, half_mul, opmath
from ._shape_utils import check_broadcast, operands, sum_to_shape, type_name
from .elementwise import _shape


def _lerp(x, y, w):
    diff = y - x
    return np.where(np.abs(w) < 0.5, x + w * diff, y - diff * (1 - w))


def _lerp_fused(x, y, w):
    # torch's float16 lerp: in float32, with its kernel's fused multiply-adds
    w = np.asarray(w, np.float32)
    diff = y - x
    return np.where(np.abs(w) < 0.5, fma32(w, diff, x), fma32(-diff, 1 - w, y))


class Lerp(Op):
    """z = x + w * (y - x), computed as torch does (from y's side when w >= 0.5)"""

    @staticmethod
    def forward(ctx, x, y, w):
        # a number weight needs neither x nor y (torch saves them only for a tensor weight, so
        # changing them in place later is fine)
        ctx.save_for_backward(*((x, y) if isinstance(w, np.ndarray) else (None, None)), w)
        ctx.shapes = (_shape(x), _shape(y), _shape(w))
        ctx.show_as("LerpBackward1" if isinstance(w, np.ndarray) else "LerpBackward0")
        if x.dtype is HALF:  # torch: in float32 (a number weight read as float32)
            return opmath(_lerp_fused, x, y, w)
        return _lerp(x, y, w).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, y, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        sx, sy, sw = ctx.shapes
        if grad.dtype is HALF and not isinstance(w, np.ndarray):  # torch: grad * number
            gx = sum_to_shape(half_mul(grad, 1 - w), sx) if need[0] else None
            gy = sum_to_shape(half_mul(grad, w), sy) if need[1] else None
            return gx, gy, None
        gx = sum_to_shape(grad * (1 - w), sx) if need[0] else None
        gy = sum_to_shape(grad * w, sy) if need[1] else None
        gw = sum_to_shape(grad * (y - x), sw) if len(need) > 2 and need[2] else None
        return gx, gy, gw


def lerp(input, end, weight):
    """``input + weight * (end - input)`` (``weight`` a number or a tensor).

    Raises:
        RuntimeError: ``end`` (or a tensor ``weight`` with dims) of another dtype than
            ``input``, or shapes that do not broadcast.
        NotImplementedError: integer or bool tensors (torch has no such kernel).
    """
    tensor_weight = isinstance(weight, Tensor)
    if not isinstance(end, Tensor) and _arg_errors.called_as_method():
        raise lerp_arguments_error("lerp", (end, weight), {})
    if not isinstance(end, Tensor):
        raise TypeError(
            f"lerp() received an invalid combination of arguments - got (Tensor, "
            f"{type(end).__name__}, {type(weight).__name__}), but expected one of:\n"
            " * (Tensor input, Tensor end, Tensor weight, *, Tensor out = None)\n"
            " * (Tensor input, Tensor end, Number weight, *, Tensor out = None)\n")
    _check_same_dtype(input, end, "end")
    if tensor_weight and weight._data.ndim:  # torch checks the dtypes first
        _check_same_dtype(input, weight, "weight")
    check_broadcast(input._data.shape, end._data.shape)
    if tensor_weight and weight._data.ndim:
        check_broadcast(np.broadcast_shapes(input._data.shape, end._data.shape),
                        weight._data.shape)
    elif tensor_weight and weight._data.dtype != input._data.dtype:
        from .. import _dtype  # a 0-d weight takes part in torch's type promotion

        rt = _dtype.result_type(input, end, weight)
        input, end, weight = (t if t._data.dtype == rt.np else t.to(rt)
                              for t in (input, end, weight))
    if input._data.dtype.kind not in "fc":
        kernel = "lerp_kernel_tensor" if tensor_weight else "lerp_kernel_scalar"
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{type_name(input._data.dtype)}'")
    x, y = operands(input, end)
    return Lerp.apply(x, y, weight if tensor_weight else float(weight))


def lerp_arguments_error(name, args, kwargs):
    """torch's TypeError for the Tensor method ``name`` (``lerp``, ``lerp_``) called with an
    ``end`` that is not a Tensor. NOTE: torch marks every argument of its Number-weight form
    as the one that did not match, even a valid number."""
    type_of = _arg_errors.type_name
    given = [type_of(a) for a in args] + [f"{k}={type_of(v)}" for k, v in kwargs.items()]
    listed = [("end", type_of(a), a) if i == 0 else ("weight", type_of(a), a)
              for i, a in enumerate(args)]
    listed += [(k, f"{k}={type_of(kwargs[k])}", kwargs[k]) for k in ("end", "weight")
               if k in kwargs]
    lines = []
    for form in ("Tensor", "Number"):
        marks = [text if isinstance(value, Tensor) and (param == "end" or form == "Tensor")
                 else f"!{text}!" for param, text, value in listed]
        lines.append(f" * (Tensor end, {form} weight)\n      didn't match because some of the "
                     f"arguments have invalid types: ({_joined(marks, args)})\n")
    return TypeError(f"{name}() received an invalid combination of arguments - got "
                     f"({_joined(given, args)}), but expected one of:\n" + "".join(lines))


def _joined(items, args):
    """torch's argument list: ``a, b``, or ``a, b, `` when all are keywords."""
    return ", ".join(items) if args else "".join(f"{i}, " for i in items)


def lerp_(self, *args, **kwargs):
    """In-place ``lerp``; returns self."""
    end = args[0] if args else kwargs.get("end")
    if not isinstance(end, Tensor):
        raise lerp_arguments_error("lerp_", args, kwargs)
    return self._inplace(lerp, *args, **kwargs)


Tensor.lerp_ = lerp_


def _check_same_dtype(input, other, name):
    if other._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected dtype {c_type_name(input._data.dtype)} for `{name}` but "
                           f"got dtype {c_type_name(other._data.dtype)}")


def _addc(x, t1, t2, value, divide):
    value = np.float32(value)
    # torch's kernel: x + value * t1 / t2, and value * t1 * t2 + x fused (one rounding)
    return x + value * t1 / t2 if divide else fma32(value * t1, t2, x)


class Addcmul(Op):
    """z = x + value * t1 * t2 (``divide``: x + value * t1 / t2)"""

    @staticmethod
    def forward(ctx, x, t1, t2, *, value=1, divide=False):
        ctx.save_for_backward(t1, t2)
        ctx.shapes, ctx.value, ctx.divide = (x.shape, t1.shape, t2.shape), value, divide
        if divide:
            ctx.show_as("AddcdivBackward0")
        if not x.shape == t1.shape == t2.shape:  # torch's order: x with t1, then with t2
            check_broadcast(check_broadcast(x.shape, t1.shape), t2.shape)
        if x.dtype is HALF and t1.dtype is HALF and t2.dtype is HALF:
            # torch: x + value * t1 * t2 (or / t2) in float32, value read as float32
            return opmath(_addc, x, t1, t2, value, divide)
        if x.dtype.kind in "iuc":  # torch: value cast to the dtype (truncated), then
            if x.dtype.kind != "c":  # x + (value * t1) * t2, wrapping as C's casts
                value = np.asarray(int(value)).astype(x.dtype)
            return x + (value * t1 / t2 if divide else value * t1 * t2)
        part = t1 / t2 if divide else t1 * t2
        return x + value * part if value != 1 else x + part

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        need, v = ctx.needs_input_grad, ctx.value
        sx, s1, s2 = ctx.shapes
        gx = sum_to_shape(grad, sx) if need[0] else None
        if grad.dtype is HALF and type(v) is not np.ndarray:  # torch's formulas op by op
            if ctx.divide:  # grad * (value / t2), -grad * (value * t1 / (t2 * t2))
                g1 = sum_to_shape(grad * (HALF.type(v) / t2), s1) if need[1] else None
                g2 = sum_to_shape(-grad * (half_mul(t1, v) / (t2 * t2)), s2) if need[2] \
                    else None
            else:  # grad * (t2 * value), grad * (t1 * value)
                g1 = sum_to_shape(grad * half_mul(t2, v), s1) if need[1] else None
                g2 = sum_to_shape(grad * half_mul(t1, v), s2) if need[2] else None
            return gx, g1, g2
        if ctx.divide:
            g1 = sum_to_shape(grad * v / t2, s1) if need[1] else None
            g2 = sum_to_shape(-grad * v * t1 / (t2 * t2), s2) if need[2] else None
        else:
            g1 = sum_to_shape(grad * v * t2, s1) if need[1] else None
            g2 = sum_to_shape(grad * v * t1, s2) if need[2] else None
        return gx, g1, g2


def _addc_operands(name, input, tensor1, tensor2):
    """The three tensors in their result dtype, as torch's (the number ``value`` takes no
    part: an int16 tensor plus float16 ones is float16)."""
    _arg_errors.check_tensors(name, input=input, tensor1=tensor1, tensor2=tensor2)
    dtype = input._data.dtype
    if tensor1._data.dtype is dtype and tensor2._data.dtype is dtype and dtype.kind != "b":
        return input, tensor1, tensor2
    from .. import _dtype

    rt = _dtype.result_type(input, tensor1, tensor2)
    if rt is _dtype.bool_:
        raise NotImplementedError(f'"{name}_cpu_out" not implemented for \'Bool\'')
    from .elementwise import to_dtype

    return tuple(t if t._data.dtype == rt.np else to_dtype(t, rt)
                 for t in (input, tensor1, tensor2))


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``, one node."""
    return Addcmul.apply(*_addc_operands("addcmul", input, tensor1, tensor2), value=value)


_INTEGER_ADDCDIV = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
    "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
    "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
    "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
    "addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
    "tensor2), for all dtypes.")


def _integral(t):
    kind = t._data.dtype.kind if isinstance(t, Tensor) else np.asarray(t).dtype.kind
    return kind in "biu"


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``, one node.

    Raises:
        RuntimeError: ``tensor1`` and ``tensor2`` both of integer (or bool) dtypes, as torch.
    """
    _arg_errors.check_tensors("addcdiv", input=input, tensor1=tensor1, tensor2=tensor2)
    if _integral(tensor1) and _integral(tensor2):
        raise RuntimeError(_INTEGER_ADDCDIV)
    return Addcmul.apply(*_addc_operands("addcdiv", input, tensor1, tensor2), value=value,
                         divide=True)
