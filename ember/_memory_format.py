"""torch's memory formats: how a copy lays out its elements (``clone``, ``contiguous``)."""
from __future__ import annotations

import numpy as np


class memory_format:  # noqa: N801  (torch's class name)
    """A layout request: ``contiguous_format`` (row-major), ``preserve_format`` (the input's
    own layout), ``channels_last`` (4-D, channels innermost) or ``channels_last_3d`` (5-D)."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"ember.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


def copy_in(a: np.ndarray, fmt) -> np.ndarray:
    """A copy of ``a`` laid out as ``fmt`` asks (None: preserve ``a``'s layout)."""
    if fmt is None or fmt is preserve_format:
        # torch keeps the input's order of dims; an expanded one (elements shared by a
        # stride 0) gets the order torch's infer_dense_strides sorts its strides into
        if 0 in a.strides and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)):
            return _dense_like(a)
        return a.copy(order="K")
    if fmt is contiguous_format:
        return np.array(a, order="C")
    last = {channels_last: 4, channels_last_3d: 5}.get(fmt)
    if last is None:
        raise TypeError(f"memory_format must be an ember.memory_format, got {fmt!r}")
    if a.ndim != last:
        raise RuntimeError(f"required rank {last} tensor to use {fmt.name} format")
    to_last = (0, *range(2, last), 1)
    # (np.array, not ascontiguousarray: that one hands back ``a`` itself when it already is)
    return np.array(a.transpose(to_last), order="C").transpose(np.argsort(to_last))


def _dense_like(a: np.ndarray) -> np.ndarray:
    """A copy of ``a`` in torch's ``infer_dense_strides`` order: TensorIterator's sort of the
    strides, where a stride of 0 leaves two dims in their order."""
    from .ops._index_layout import _allocation_strides, _iterator_order

    strides = _allocation_strides(a.shape, _iterator_order(a.shape, [
        [s // a.itemsize for s in a.strides]]))
    order = sorted(range(a.ndim), key=lambda d: -strides[d])  # slowest dim first
    out = np.empty([a.shape[d] for d in order], a.dtype).transpose(np.argsort(order))
    out[...] = a
    return out


def is_laid_out(a: np.ndarray, fmt) -> bool:
    """Whether ``a``'s elements lie without gaps in the order ``fmt`` names."""
    if fmt is None or fmt is contiguous_format or fmt is preserve_format:
        return a.flags.c_contiguous
    last = {channels_last: 4, channels_last_3d: 5}.get(fmt)
    if last is None or a.ndim != last:
        return False
    return a.transpose((0, *range(2, last), 1)).flags.c_contiguous


def joined_layout(xs, out: np.ndarray) -> np.ndarray:
    """``out`` (NumPy's concatenation of ``xs``, in their order of dims) in the layout of
    torch's ``cat``: channels_last when every input is 4-D channels_last, else row-major."""
    if out.flags.c_contiguous:
        return out
    if out.ndim == 4 and all(not x.flags.c_contiguous and is_laid_out(x, channels_last)
                             for x in xs):
        return copy_in(out, channels_last)
    return np.ascontiguousarray(out)
