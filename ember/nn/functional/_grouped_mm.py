"""``grouped_mm``: one matrix product per group, groups cut by offsets (torch 2.13, CPU).

The four layouts of torch's CPU fallback (``aten/src/ATen/native/GroupedMMUtils.h``), with
``offs[i]`` the end of group ``i`` along the jagged dimension:

- 3D x 3D, no offsets: ``out[i] = a[i] @ b[i]`` (a batched matmul);
- 2D x 3D: rows of ``a`` grouped, ``out[s:e] = a[s:e] @ b[i]``;
- 3D x 2D: columns of ``b`` grouped, ``out[:, s:e] = a[i] @ b[:, s:e]``;
- 2D x 2D: the contraction grouped, ``out[i] = a[:, s:e] @ b[s:e]``.

The gradient of each layout is the product of another layout (2D x 3D needs a 2D x 3D and a
2D x 2D, and so on), so backward calls the same op and is differentiable again. Parts of the
output that no group covers are zero (torch leaves them uninitialized), and the output's
last-dim stride is padded to 16 bytes as torch pads it.
"""
from __future__ import annotations

import numpy as np

from ..._tensor import Tensor
from ...autograd.function import Op
from ...ops._shape_utils import type_name
from ._affine import _c10_name

__all__ = ["grouped_mm"]

_FLOATS = ("float32", "float16")  # torch: Float32, BFloat16 or Float16 (ember has no bfloat16)


def _bounds(offs):
    """``(group, start, stop)`` per group, clamped as ATen's ``slice`` clamps them."""
    start = 0
    for i, end in enumerate(offs.tolist()):
        yield i, start, max(start, end)
        start = end


def _forward(a, b, offs):
    """The grouped product of arrays ``a`` and ``b`` (any layout, no checks)."""
    if offs is None:
        return np.matmul(a, b)
    g = len(offs)
    if a.ndim == 2 and b.ndim == 3:
        out = np.zeros((a.shape[0], b.shape[-1]), a.dtype)
        for i, s, e in _bounds(offs):
            out[s:e] = a[s:e] @ b[i]
    elif a.ndim == 3:
        out = np.zeros((a.shape[1], b.shape[1]), a.dtype)
        for i, s, e in _bounds(offs):
            out[:, s:e] = a[i] @ b[:, s:e]
    else:
        out = np.zeros((g, a.shape[0], b.shape[1]), a.dtype)
        for i, s, e in _bounds(offs):
            x, y = a[:, s:e], b[s:e]
            if x.shape[1] != y.shape[0]:
                raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                                   f"({x.shape[0]}x{x.shape[1]} and {y.shape[0]}x{y.shape[1]})")
            out[i] = x @ y
    return out


def _t(x):
    return x.swapaxes(-1, -2)


class GroupedMm(Op):
    """out = grouped product of mat_a and mat_b, groups cut by ``offs``"""

    @staticmethod
    def forward(ctx, a, b, *, offs=None):
        ctx.save_for_backward(a, b)
        ctx.offs = offs
        return _padded(_forward(a, b, offs))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need, offs = ctx.needs_input_grad, ctx.offs
        ga = _forward(grad, _t(b), offs) if need[0] else None
        gb = _forward(_t(a), grad, offs) if need[1] else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad):
        """The same formulas with the op itself, so they can be differentiated again."""
        from ...autograd._double_backward import saved_tensors

        a, b = saved_tensors(ctx)
        need, offs = ctx.needs_input_grad, ctx.offs
        ga = GroupedMm.apply(grad, b.transpose(-1, -2), offs=offs) if need[0] else None
        gb = GroupedMm.apply(a.transpose(-1, -2), grad, offs=offs) if need[1] else None
        return ga, gb


def _strides(t):
    """torch's strides (in elements) of ``t``; an empty tensor counts as contiguous."""
    a = t._data
    if a.size == 0:
        st, step = [], 1
        for n in reversed(a.shape):
            st.append(step)
            step *= max(n, 1)
        return tuple(reversed(st))
    return tuple(s // a.itemsize for s in a.strides)


def _check_strides(t):
    """ATen's ``check_valid_strides_and_return_transposed``: row- or column-major, with
    the leading stride a multiple of 16 bytes."""
    st, sizes = _strides(t), t.shape
    align = 16 // t._data.itemsize
    if st[-2] == 1 and st[-1] >= max(1, sizes[-2]):
        lead = st[-1]
    elif st[-1] == 1 and st[-2] >= max(1, sizes[-1]):
        lead = st[-2]
    else:
        raise RuntimeError(f"Invalid strides/sizes, got {list(st)} for strides and "
                           f"{list(sizes)} for sizes")
    if lead % align:
        raise RuntimeError("strides should be multiple of 16 bytes")


def _padded(out):
    """``out`` laid out as torch's ``create_grouped_gemm_output_tensor``: the last dim's
    stride rounded up to 16 bytes."""
    align = 16 // out.itemsize
    n = out.shape[-1]
    padded = -(-n // align) * align
    if padded == n:
        return out
    buf = np.zeros(out.shape[:-1] + (padded,), out.dtype)
    buf[..., :n] = out
    return buf[..., :n]


def _validate(mat_a, mat_b, offs, bias, out_dtype):
    """torch's ``_grouped_mm_validate_inputs``, ``_resolve_grouped_mm_out_dtype`` and the
    size checks of its output allocation, in its order."""
    for name, m in (("mat_a", mat_a), ("mat_b", mat_b)):
        if m._data.dtype.name not in _FLOATS:
            word = type_name(m._data.dtype)
            raise RuntimeError(f"Expected {name} to be Float32, BFloat16 or Float16 matrix, "
                               f"got {word}")
    for name, m in (("mat_a", mat_a), ("mat_b", mat_b)):
        if m.dim() not in (2, 3):
            raise RuntimeError(f"{name} has to be 2 or 3d")
    a2, b2 = mat_a.dim() == 2, mat_b.dim() == 2
    if (not a2 or not b2) and mat_a.shape[-1] != mat_b.shape[-2]:
        raise RuntimeError("contraction dimension of mat_a and mat_b must match")
    _check_strides(mat_a)
    _check_strides(mat_b)
    if (offs is not None) != (a2 or b2):
        raise RuntimeError("Have to provide offsets if there is a 2d matrix, or no offset if "
                           "both matrices are 3d")
    if offs is not None:
        if offs.dim() != 1:
            raise RuntimeError("offs has to be 1D")
        if offs._data.dtype != np.int32:
            raise RuntimeError("Offsets have to be int32")
    if bias is not None:
        raise RuntimeError("Bias not supported yet")
    if out_dtype is not None and out_dtype.np != mat_a._data.dtype:
        raise RuntimeError("Grouped gemm output dtype must match `mat_a` dtype")
    if a2 != b2:
        groups = mat_b.shape[0] if a2 else mat_a.shape[0]
        if offs.shape[0] != groups:
            raise RuntimeError("matrix batch sizes have to match")
    elif not a2 and mat_a.shape[0] != mat_b.shape[0]:
        raise RuntimeError("batched dimension has to match")
    da, db = mat_a._data.dtype, mat_b._data.dtype
    if da != db:  # what the product into an output of mat_a's dtype raises
        if not a2 and not b2:
            raise RuntimeError(f"Expected out tensor to have dtype {_c10_name(db)}, but got "
                               f"{_c10_name(da)} instead")
        if offs.shape[0]:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{_c10_name(da)} != {_c10_name(db)}")


def grouped_mm(mat_a: Tensor, mat_b: Tensor, *, offs: Tensor | None = None,
               bias: Tensor | None = None, out_dtype=None) -> Tensor:
    """Matrix products over groups that share shapes but have jagged sizes (MoE layers).

    Args:
        mat_a: left operand, 2D (its jagged dim cut by ``offs``) or 3D (one matrix per group).
        mat_b: right operand, 2D or 3D likewise.
        offs: 1-D int32 ends of the groups along the jagged dim; required when an operand is
            2D, forbidden when both are 3D. Entries past the last offset are ignored.
        bias: not supported (as in torch).
        out_dtype: must be ``mat_a``'s dtype when given.

    Returns:
        3D x 3D ``(G, M, N)``; 2D x 3D ``(M, N)``; 3D x 2D ``(M, N)``; 2D x 2D ``(G, M, N)``.
        Rows (or columns) that no group covers are zero.

    Raises:
        RuntimeError: torch's CPU messages for dtypes (float32 / float16 only), ranks,
            strides that are not 16-byte aligned, offsets and mismatched sizes.
    """
    _validate(mat_a, mat_b, offs, bias, out_dtype)
    return GroupedMm.apply(mat_a, mat_b, offs=None if offs is None else offs._data)
