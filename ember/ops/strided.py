"""Views by strides: ``unfold`` (sliding windows along a dim) and ``as_strided``.

Both hand back a NumPy view of the input's memory, so they share its version counter. Their
gradient scatters back through ``Region`` (``copy_slices.py``), summing where windows
overlap, so each input element gets the gradient of every window that holds it. Where the
input's own elements share memory (an expand), ``unfold`` sums by windows (``_Windows``) and
``as_strided`` splits each memory element's gradient among them, as torch does.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _mark_view
from ..autograd.function import Op
from ._shape_utils import wrap_dim
from ._storage import storage_root, strided_over
from .copy_slices import AsStrided, Region, _byte_bounds, _may_repeat

__all__ = ["as_strided", "unfold"]
TENSOR_METHODS = ("as_strided", "unfold")


class _StorageRegion(Region):
    """``as_strided``'s region, as torch's ``as_strided_backward`` sees it: the view may reach
    storage outside the input's elements (that part of the gradient is dropped), and where
    the input's own elements share memory (an expand), each gets an equal share of the
    gradient of that memory."""

    def __init__(self, base: np.ndarray, view: np.ndarray):
        super().__init__(base, view)
        (b_low, b_high), (v_low, v_high) = _byte_bounds(base), _byte_bounds(view)
        low = min(b_low, v_low) if view.size else b_low
        high = max(b_high, v_high) if view.size else b_high
        self.n = (high - low) // base.dtype.itemsize
        self.base_offset = base.__array_interface__["data"][0] - low
        self.view_offset = view.__array_interface__["data"][0] - low
        self.shared = _may_repeat(base)

    def scatter(self, grad: np.ndarray) -> np.ndarray:
        """The base-shaped gradient (shares split evenly where the base repeats memory)."""
        out = super().scatter(grad)
        if self.shared:
            size = self.dtype.itemsize
            positions = np.lib.stride_tricks.as_strided(
                np.arange(self.n)[self.base_offset // size:], self.base_shape,
                tuple(s // size * np.dtype(np.intp).itemsize for s in self.base_strides))
            count = np.zeros(self.n, np.intp)
            np.add.at(count, positions, 1)
            out /= count[positions]
        return out


class _Windows(Op):
    """z = windows of x along ``dim`` (``unfold``); backward sums each window's gradient into
    the elements it covers, whatever x's memory (torch's ``unfold_backward``)."""

    _backward_name = "UnfoldBackward0"

    @staticmethod
    def forward(ctx, x, *, view, dim, size, step):
        ctx.x_shape, ctx.dim, ctx.size, ctx.step = x.shape, dim, size, step
        return view

    @staticmethod
    def backward(ctx, grad):
        g = np.zeros(ctx.x_shape, grad.dtype)
        count = grad.shape[ctx.dim]
        for k in range(ctx.size):
            window = slice(k, k + ctx.step * (count - 1) + 1, ctx.step)
            g[(slice(None),) * ctx.dim + (window,)] += grad[..., k]
        return g


_Windows._complex_fn = _Windows  # backward only moves and sums: right for complex too (SAME)


def _view(input: Tensor, array: np.ndarray, node_name: str, region=Region) -> Tensor:
    """``array`` (a view of ``input``'s memory) as a Tensor recorded like torch's view."""
    from .shape import _as_view

    if not input._rg:
        from .._tensor import _wrap

        return _as_view(_wrap(array), input)
    out = AsStrided.apply(input, view=array, region=region(input._data, array),
                          node_name=node_name)
    return _as_view(out, input)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Windows of ``size`` elements every ``step`` along ``dimension``, as a new last dim:
    ``x.unfold(0, 3, 2)`` of ``arange(7)`` is ``[[0, 1, 2], [2, 3, 4], [4, 5, 6]]``."""
    a = input._data
    if a.ndim == 0:
        shape, strides, d = (), (), None
        n = 1
    else:
        d = wrap_dim(dimension, a.ndim)
        n = a.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d or 0} is {n} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if d is None:
        view = a.reshape(1)
    else:
        count = (n - size) // step + 1
        shape = a.shape[:d] + (count,) + a.shape[d + 1:] + (size,)
        strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1:] + (a.strides[d],)
        # writable, as torch's windows are (ops that would write overlapping windows refuse)
        view = np.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable)
        if input._rg and _may_repeat(a):  # (rare) the input's elements share memory
            from .shape import _as_view

            return _as_view(_Windows.apply(input, view=view, dim=d, size=size, step=step),
                            input)
    return _view(input, view, "UnfoldBackward0")


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view with the given ``size`` and ``stride`` (in elements) over the input's storage,
    starting ``storage_offset`` elements in (by default where the input starts)."""
    a = input._data
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} and "
                           f"{len(stride)}")
    item = a.itemsize
    root = storage_root(a)
    if root.dtype != a.dtype and root.flags.c_contiguous:  # (view_as_real/complex, .real,
        # .imag) the storage counted in the input's elements, as torch's
        root = root.reshape(-1).view(a.dtype)
    root_start = root.__array_interface__["data"][0]
    offset = (a.__array_interface__["data"][0] - root_start) // item \
        if storage_offset is None else int(storage_offset)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride) if n > 0)
    if min(size, default=1) > 0 and (last + 1) * item > root.nbytes:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{(last + 1) * item} are out of bounds for storage of size "
                           f"{root.nbytes}")
    view = strided_over(root, size, stride, offset)
    out = _view(input, view, "AsStridedBackward0", _StorageRegion)
    if out._base is None:  # a view of the storage, even where it does not meet the input's
        _mark_view(out, input)  # own elements (torch's)
    return out
