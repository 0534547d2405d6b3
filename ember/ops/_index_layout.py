"""The memory layout of torch's ``x[index]`` with index tensors.

NumPy lays a fancy-indexing result out in its own order: ``x[:, idx]`` has the indexed dim
outermost in memory, so the result is not contiguous. torch allocates the result as its
TensorIterator does. It sorts the result's dims by the strides of the source (with the
indexed dims at stride 0), then by the strides of the index tensors. So ``x[:, idx]`` of a
contiguous ``x`` is contiguous in torch, and ``.view`` works on it. ``laid_out`` gives a
NumPy result torch's strides.
"""
from __future__ import annotations

import numpy as np


def laid_out(arr, index, out):
    """``out`` (that is ``arr[index]``), copied into torch's strides where NumPy's differ."""
    if out.ndim < 2 or not out.size:
        return out
    items = index if type(index) is tuple else (index,)
    if out.flags.c_contiguous and arr.flags.c_contiguous and all(
            i is not None and (type(i) is not np.ndarray or i.flags.c_contiguous)
            for i in items):
        return out  # contiguous operands: torch's result is contiguous too
    strides = _torch_strides(arr, items, out.shape)
    if strides is None or all(a == b * out.itemsize for a, b, n in
                              zip(out.strides, strides, out.shape) if n > 1):
        return out
    order = sorted(range(out.ndim), key=lambda d: -strides[d])  # slowest dim first
    result = np.empty([out.shape[d] for d in order], out.dtype).transpose(np.argsort(order))
    result[...] = out
    return result


def _width(i):
    if isinstance(i, np.ndarray):
        return i.ndim if i.dtype == np.bool_ else 1
    return 0 if i is None or i is Ellipsis or isinstance(i, (bool, np.bool_)) else 1


def _torch_strides(arr, items, shape):
    """The strides (in elements) torch gives ``arr[items]``, or None for an index it does
    not model. torch first applies the ints, slices, None and ``...`` as views, left to
    right (``applySlicing``), then indexes the resulting source with the index tensors."""
    src_shape = list(arr.shape)
    src_strides = [s // arr.itemsize for s in arr.strides]
    advanced = []
    dim = 0
    for i in items:
        if i is Ellipsis:
            dim += arr.ndim - sum(_width(j) for j in items)
        elif i is None or isinstance(i, (bool, np.bool_)):
            inner = src_shape[dim] * src_strides[dim] if dim < len(src_shape) else 1
            src_shape.insert(dim, 1)
            src_strides.insert(dim, inner)
            if i is not None:  # True/False: a new dim, indexed by [0] or []
                advanced.append((dim, np.zeros(int(i), np.intp)))
            dim += 1
        elif isinstance(i, slice):
            start, stop, step = i.indices(src_shape[dim])
            src_shape[dim] = len(range(start, stop, step))
            src_strides[dim] *= step
            dim += 1
        elif isinstance(i, np.ndarray):
            for a in (np.nonzero(i) if i.dtype == np.bool_ else (i,)):
                advanced.append((dim, a))
                dim += 1
        elif isinstance(i, (int, np.integer)):
            del src_shape[dim], src_strides[dim]
        else:
            return None
    if not advanced:
        return None
    positions = [p for p, _ in advanced]
    if positions != list(range(positions[0], positions[0] + len(positions))):
        # apart: torch moves the indexed dims to the front (transposeToFront)
        order = positions + [d for d in range(len(src_shape)) if d not in positions]
        src_shape = [src_shape[d] for d in order]
        src_strides = [src_strides[d] for d in order]
        positions = list(range(len(positions)))
    index_shape = np.broadcast_shapes(*(a.shape for _, a in advanced))
    before, after = positions[0], positions[0] + len(positions)
    if tuple(src_shape[:before]) + index_shape + tuple(src_shape[after:]) != tuple(shape):
        return None
    operands = [src_strides[:before] + [0] * len(index_shape) + src_strides[after:]]
    ones_before, ones_after = (1,) * before, (1,) * (len(src_shape) - after)
    for _, a in advanced:
        expanded = np.broadcast_to(a, index_shape)  # (0 on broadcast dims, as torch's expand)
        strides = _view_strides(index_shape, [s // a.itemsize for s in expanded.strides],
                                ones_before + index_shape + ones_after)
        if strides is None:
            return None
        # the iterator reads a dim of size 1 that the result has longer at stride 0
        operands.append([0 if (d < before or d >= before + len(index_shape)) and n != 1 else s
                         for d, (s, n) in enumerate(zip(strides, shape))])
    return _allocation_strides(shape, _iterator_order(shape, operands))


def _view_strides(old_shape, old_strides, new_shape):
    """The strides torch's ``view`` gives a tensor reshaped from ``old_shape`` to
    ``new_shape`` (its ``computeStride``: dims are matched chunk by contiguous chunk, and a
    new dim of size 1 takes the stride its place in the chunk gives it), or None."""
    if not old_shape:
        return [1] * len(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    base = old_strides[-1]
    tensor_numel = view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1
                             and old_strides[tensor_d - 1] != tensor_numel * base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                base = old_strides[tensor_d - 1]
                tensor_numel = view_numel = 1
    return new_strides if view_d == -1 else None


def _iterator_order(shape, operands):
    """TensorIterator's dim order (fastest first): an insertion sort on the operands'
    strides, where a stride of 0 leaves the comparison to the next operand."""

    def should_swap(d0, d1):
        for strides in operands:
            s0, s1 = strides[d0], strides[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(len(shape) - 1, -1, -1))
    for i in range(1, len(shape)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm


def _allocation_strides(shape, perm):
    """Strides of a new tensor of ``shape`` whose dims lie in memory in ``perm`` order."""
    strides = [0] * len(shape)
    step = 1
    for d in perm:
        strides[d] = step
        step *= shape[d]
    return strides
