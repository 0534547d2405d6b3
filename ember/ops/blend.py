"""Blends of several tensors, each one node: lerp, addcmul, addcdiv."""
from __future__ import annotations

import numpy as np

from .._dtype import c_type_name
from .._tensor import Tensor
from ..autograd.function import Op
from ._shape_utils import check_broadcast, operands, sum_to_shape, type_name
from .elementwise import _shape


class Lerp(Op):
    """z = x + w * (y - x), computed as torch does (from y's side when w >= 0.5)"""

    @staticmethod
    def forward(ctx, x, y, w):
        ctx.save_for_backward(x, y, w)
        ctx.shapes = (_shape(x), _shape(y), _shape(w))
        ctx.show_as("LerpBackward1" if isinstance(w, np.ndarray) else "LerpBackward0")
        diff = y - x
        return np.where(np.abs(w) < 0.5, x + w * diff, y - diff * (1 - w)).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, y, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        sx, sy, sw = ctx.shapes
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
    if not isinstance(end, Tensor):
        raise TypeError(
            f"lerp() received an invalid combination of arguments - got (Tensor, "
            f"{type(end).__name__}, {type(weight).__name__}), but expected one of:\n"
            " * (Tensor input, Tensor end, Tensor weight, *, Tensor out = None)\n"
            " * (Tensor input, Tensor end, Number weight, *, Tensor out = None)\n")
    _check_same_dtype(input, end, "end")
    check_broadcast(input._data.shape, end._data.shape)
    if tensor_weight and weight._data.ndim:
        _check_same_dtype(input, weight, "weight")
        check_broadcast(np.broadcast_shapes(input._data.shape, end._data.shape),
                        weight._data.shape)
    if input._data.dtype.kind not in "fc":
        kernel = "lerp_kernel_tensor" if tensor_weight else "lerp_kernel_scalar"
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{type_name(input._data.dtype)}'")
    x, y = operands(input, end)
    return Lerp.apply(x, y, weight if tensor_weight else float(weight))


def _check_same_dtype(input, other, name):
    if other._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected dtype {c_type_name(input._data.dtype)} for `{name}` but "
                           f"got dtype {c_type_name(other._data.dtype)}")


class Addcmul(Op):
    """z = x + value * t1 * t2 (``divide``: x + value * t1 / t2)"""

    @staticmethod
    def forward(ctx, x, t1, t2, *, value=1, divide=False):
        ctx.save_for_backward(t1, t2)
        ctx.shapes, ctx.value, ctx.divide = (x.shape, t1.shape, t2.shape), value, divide
        if divide:
            ctx.show_as("AddcdivBackward0")
        if t1.shape != t2.shape:
            check_broadcast(t1.shape, t2.shape)
        part = t1 / t2 if divide else t1 * t2
        if x.shape != part.shape:
            check_broadcast(x.shape, part.shape)
        return x + value * part if value != 1 else x + part

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        need, v = ctx.needs_input_grad, ctx.value
        sx, s1, s2 = ctx.shapes
        gx = sum_to_shape(grad, sx) if need[0] else None
        if ctx.divide:
            g1 = sum_to_shape(grad * v / t2, s1) if need[1] else None
            g2 = sum_to_shape(-grad * v * t1 / (t2 * t2), s2) if need[2] else None
        else:
            g1 = sum_to_shape(grad * v * t2, s1) if need[1] else None
            g2 = sum_to_shape(grad * v * t1, s2) if need[2] else None
        return gx, g1, g2


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``, one node."""
    return Addcmul.apply(input, tensor1, tensor2, value=value)


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
    if _integral(tensor1) and _integral(tensor2):
        raise RuntimeError(_INTEGER_ADDCDIV)
    return Addcmul.apply(input, tensor1, tensor2, value=value, divide=True)
