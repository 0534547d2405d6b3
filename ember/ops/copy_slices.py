"""In-place ops on views, as torch records them: ``CopySlices`` and ``AsStridedBackward0``.

A view shares its base's memory. When an in-place op changes a view of a tensor that is part
of a graph, the *base* changed too, so both get new history:

- the base's ``grad_fn`` becomes ``CopySlices``: the gradient of the old base is the incoming
  gradient with the view's region zeroed (those values were overwritten), and the gradient
  of the op's result is the incoming gradient's region;
- the op itself ran out of place on a copy of the view's old values, taken from the old
  base through ``AsStridedBackward0``;
- the view's ``grad_fn`` becomes ``AsStridedBackward0`` of the new base.

A view made before its base changed in place is refreshed the same way when it is next used
(``refresh_view``), so its gradient flows through the base's new history.

A view of another dtype (``z.real``, ``view_as_real(z)`` of a complex ``z``, ``view_as_complex``
of a real tensor) maps through ``PairRegion``, which counts a complex element as its (real,
imaginary) pair.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Op, _record


def _byte_bounds(a: np.ndarray) -> tuple[int, int]:
    """First and one-past-last byte addresses ``a`` spans (NumPy's ``byte_bounds``)."""
    low = high = a.__array_interface__["data"][0]
    for n, stride in zip(a.shape, a.strides):
        if n > 1:
            if stride < 0:
                low += (n - 1) * stride
            else:
                high += (n - 1) * stride
    return low, high + a.dtype.itemsize


def _may_repeat(view: np.ndarray) -> bool:
    """Whether two of ``view``'s elements may be one memory element (an expand's stride 0,
    overlapping windows): then gradients scattered into the base must be summed. Checked by
    strides: sorted, each dim must step over everything the smaller ones span."""
    span = view.dtype.itemsize
    for stride, n in sorted((abs(s), n) for s, n in zip(view.strides, view.shape) if n > 1):
        if stride < span:
            return True
        span = stride * (n - 1) + span
    return False


class Region:
    """Where a view's elements sit inside its base, to move gradients between the two.

    Works on byte offsets and strides, so any NumPy view (slices, transposes, diagonals,
    expands) maps exactly; ``overlap`` views (stride 0, overlapping windows) sum their
    gradients.
    """

    def __init__(self, base: np.ndarray, view: np.ndarray):
        if base.dtype.itemsize != view.dtype.itemsize:
            raise NotImplementedError(
                f"in-place change of a view with dtype {view.dtype} of a base with dtype "
                f"{base.dtype} is not supported")
        low, high = _byte_bounds(base)
        self.base_shape, self.base_strides = base.shape, base.strides
        self.view_shape, self.view_strides = view.shape, view.strides
        self.dtype = base.dtype
        self.n = (high - low) // base.dtype.itemsize
        self.base_offset = base.__array_interface__["data"][0] - low
        self.view_offset = view.__array_interface__["data"][0] - low
        self.overlap = _may_repeat(view)

    def _layout(self, fill=None):
        """A buffer laid out like the base, and the base's and the view's arrays over it."""
        buf = np.zeros(self.n, self.dtype) if fill is None else np.empty(self.n, self.dtype)
        full = np.ndarray(self.base_shape, self.dtype, buf, self.base_offset, self.base_strides)
        if fill is not None:
            full[...] = fill
        view = np.ndarray(self.view_shape, self.dtype, buf, self.view_offset,
                          self.view_strides)
        return buf, full, view

    def take(self, grad: np.ndarray) -> np.ndarray:
        """The view's region of a base-shaped gradient, as a new array."""
        _, _, view = self._layout(fill=grad)
        return view.copy()

    def without(self, grad: np.ndarray) -> np.ndarray:
        """A copy of a base-shaped gradient with the view's region zeroed."""
        _, full, view = self._layout(fill=grad)
        view[...] = 0
        return np.array(full)

    def scatter(self, grad: np.ndarray) -> np.ndarray:
        """A base-shaped zero gradient with ``grad`` (view-shaped) added at the region."""
        buf, full, view = self._layout()
        if self.overlap:
            size = self.dtype.itemsize
            positions = np.lib.stride_tricks.as_strided(
                np.arange(self.n)[self.view_offset // size:], self.view_shape,
                tuple(s // size * np.dtype(np.intp).itemsize for s in self.view_strides))
            np.add.at(buf, positions, grad)
        else:
            view[...] = grad
        return np.array(full)


def _pairs(a: np.ndarray) -> np.ndarray:
    """A complex array's memory as ``(..., 2)`` (real, imaginary) pairs; a real array itself."""
    if a.dtype.kind != "c":
        return a
    real = a.real
    return np.lib.stride_tricks.as_strided(real, a.shape + (2,), a.strides + (real.itemsize,))


def _unpair(pairs: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``(..., 2)`` pairs as a complex array of ``dtype`` (a copy); real ``pairs`` as they are."""
    if dtype.kind != "c":
        return pairs
    out = np.empty(pairs.shape[:-1], dtype)
    out.real, out.imag = pairs[..., 0], pairs[..., 1]
    return out


class PairRegion(Region):
    """A ``Region`` between a complex array and a real view of its parts (``real``, ``imag``,
    ``view_as_real``), or a real array and a complex view of it (``view_as_complex``).

    Both sides count in real elements, a complex one as its (real, imaginary) pair; the
    gradient of a complex side, ``dL/dRe + 1j * dL/dIm``, is that pair too, so gradients move
    between the two as between real arrays.
    """

    def __init__(self, base: np.ndarray, view: np.ndarray):
        self.base_dtype, self.view_dtype = base.dtype, view.dtype
        pair_base, pair_view = _pairs(base), _pairs(view)
        if pair_base.dtype != pair_view.dtype:
            raise NotImplementedError(
                f"in-place change of a view with dtype {view.dtype} of a base with dtype "
                f"{base.dtype} is not supported")
        super().__init__(pair_base, pair_view)

    def take(self, grad: np.ndarray) -> np.ndarray:
        """The view's region of a base-shaped gradient, in the view's dtype."""
        pairs = _pairs(np.asarray(grad, self.base_dtype))
        return _unpair(super().take(pairs), self.view_dtype)

    def without(self, grad: np.ndarray) -> np.ndarray:
        """A copy of a base-shaped gradient with the view's region zeroed."""
        pairs = _pairs(np.asarray(grad, self.base_dtype))
        return _unpair(super().without(pairs), self.base_dtype)

    def scatter(self, grad: np.ndarray) -> np.ndarray:
        """A base-shaped zero gradient with ``grad`` (view-shaped) added at the region."""
        pairs = _pairs(np.asarray(grad, self.view_dtype))
        return _unpair(super().scatter(pairs), self.base_dtype)


def region_of(base: np.ndarray, view: np.ndarray) -> Region:
    """The ``Region`` of ``view`` in ``base``; a ``PairRegion`` when one of them is complex and
    the other real."""
    if base.dtype.itemsize == view.dtype.itemsize:
        return Region(base, view)
    return PairRegion(base, view)


class AsStrided(Op):
    """The view's elements of its base: forward hands back the view's own array (``copy``:
    a snapshot of it); backward scatters the gradient into a zero base."""

    _backward_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, base, *, view, region, copy=False, node_name=None):
        ctx.region = region
        if node_name:
            ctx.show_as(node_name)
        return view.copy() if copy else view

    @staticmethod
    def backward(ctx, grad):
        return ctx.region.scatter(grad)


class CopySlices(Op):
    """The base after ``result`` was written into the view's region (the write happens here)."""

    _backward_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, result, *, view, region):
        np.copyto(view, result, casting="unsafe")  # the caller checked the dtypes
        ctx.region = region
        return base

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        return (ctx.region.without(grad) if need[0] else None,
                ctx.region.take(grad) if need[1] else None)


def _view_node(base, view, region):
    """A fresh ``AsStridedBackward0`` node for ``view``, fed by ``base``'s current history;
    named after ``view_as_real``/``view_as_complex`` for a view those made, which torch
    replays from the base rather than as a strided view of it."""
    options = {"view": view._data, "region": region,
               "node_name": view.__dict__.get("_replay_name")}
    return _record(AsStrided, (base,), (base._data,), options).grad_fn  # even under no_grad


def move_retain_hook(old, old_nr, new, new_nr):
    """Move a ``retain_grad`` hook from a tensor's old node to its new one, as torch does when
    an in-place change gives the tensor a new ``grad_fn`` (other hooks stay where they are)."""
    table = old._tensor_hooks if old is not None else None
    hooks = table.get(old_nr) if table else None
    moved = [h for h in hooks or () if getattr(h, "_retain", False)]
    if not moved or new is None:
        return
    hooks[:] = [h for h in hooks if not getattr(h, "_retain", False)]
    if new._tensor_hooks is None:
        new._tensor_hooks = {}
    new._tensor_hooks.setdefault(new_nr, []).extend(moved)


def inplace_on_view(view, fn, args, kwargs, check_values):
    """``view = fn(view, *args)`` for a view whose base is (or becomes) part of a graph.

    ``fn`` runs out of place on a snapshot of the view's values taken from the old base;
    ``CopySlices`` writes the result into the view's memory and becomes the base's history;
    the view becomes ``AsStridedBackward0`` of the new base. ``check_values(view, array)``
    raises torch's errors for results that cannot be written into the view. Returns ``fn``'s
    out-of-place result.
    """
    base = view._base
    region = region_of(base._data, view._data)
    if region.overlap and view._data.size:  # expanded, overlapping windows: elements shared
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")
    snapshot = AsStrided.apply(base, view=view._data, region=region, copy=True)
    out = fn(snapshot, *args, **kwargs)
    check_values(view, out._data)
    old_fn, old_nr = base._grad_fn, base._output_nr
    new_base = CopySlices.apply(base, out, view=view._data, region=region)
    # new_base requires grad unless nothing could (an integer base takes no gradient)
    base.grad_fn, base._output_nr, base._rg = new_base.grad_fn, 0, new_base._rg
    if old_fn is not None and old_fn._tensor_hooks:
        move_retain_hook(old_fn, old_nr, base._grad_fn, 0)
    return out


def refresh_view(view):
    """Give a view whose base changed in place since the view was made the base's new history
    (``AsStridedBackward0`` of the base), as torch regenerates a view's ``grad_fn``."""
    base = view._base
    if (view._no_grad_view or view._multi_view is not None) and (
            base._rg or view._grad_fn is not None):
        from .._inplace import view_rebase_message

        raise RuntimeError(view_rebase_message(view, indirect=True))
    view._view_version = view._vc[0]
    if base._rg and not view._no_grad_view:  # views made under no_grad keep no history
        old_fn, old_nr = view._grad_fn, view._output_nr
        view.grad_fn = _view_node(base, view, region_of(base._data, view._data))
        view._output_nr = 0
        view._rg = True
        if old_fn is not None and old_fn._tensor_hooks:
            move_retain_hook(old_fn, old_nr, view._grad_fn, 0)
