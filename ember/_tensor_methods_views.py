"""Tensor methods that change a tensor's shape in place, and the legacy constructors.

- ``t_``, ``transpose_``, ``swapaxes_``, ``swapdims_``, ``squeeze_``, ``unsqueeze_`` and
  ``as_strided_`` turn the tensor into the matching view of its own memory, as torch's
  in-place view ops do (same storage, new sizes and strides, one more version); with a
  gradient, the view's node (torch's ``TBackward1``, ``SqueezeBackward4`` ...) becomes the
  tensor's ``grad_fn``.
- ``resize_``/``resize_as_`` reshape the tensor over its storage, growing the storage when
  it is too small; ``resize``/``resize_as`` are torch's deprecated out-of-place forms.
- ``new`` (torch's legacy constructor), ``new_empty_strided``, ``set_`` and ``is_set_to``.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import _arg_errors, _creation, _dtype, ops
from ._layout import check_layout
from ._tensor import Tensor, _wrap
from .autograd import grad_mode
from .autograd.function import Op
from .ops import strided
from .ops._shape_utils import wrap_dim
from .ops._storage import offset_in, storage_root, strided_over
from .ops.shape import _sizes

DETACH_VIEW_ERROR = (
    "Can't detach views in-place. Use detach() instead. If you are using "
    "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, "
    "gradients are views of DDP buckets, and hence detach_() cannot be called on these "
    "gradients. To fix this error, please refer to the Optimizer.zero_grad() function in "
    "torch/optim/optimizer.py as the solution.")


def grad_sink(view):
    """torch's view made under no_grad of a tensor that requires grad requires grad too (it
    follows its base) yet stays a leaf whose ``.grad`` nothing fills: what is computed from it
    records a graph whose gradient for it ends in a sink (torch's edge to nowhere)."""
    from .autograd.function import AccumulateGrad

    view._rg = True
    d = view._data
    view._accum = AccumulateGrad(_wrap(np.broadcast_to(np.zeros((), d.dtype), d.shape)))


# --- in-place view ops ------------------------------------------------------------------------
def _view_inplace(self, name, view_fn, node_name):
    """Make ``self`` the view ``view_fn(self)`` of its own memory; recorded as ``node_name``
    when grad mode is on and self requires grad."""
    self._check_inplace(overlap=False)
    if grad_mode.state.enabled and self.requires_grad:
        alias = _wrap(self._data, True)
        alias._grad_fn, alias._output_nr, alias._vc = self.grad_fn, self._output_nr, self._vc
        out = view_fn(alias)
        if out is not alias and out._grad_fn is not None:
            out._grad_fn.show_as(node_name)
            self._grad_fn, self._output_nr = out._grad_fn, 0
    else:
        with grad_mode.no_grad():
            out = view_fn(_wrap(self._data))
    self._data = out._data
    self._bump(name)
    if self._base is not None:  # the new version is this change itself: no refresh from base
        self._view_version = self._vc[0]
    return self


def t_(self):
    """Transpose this (at most 2-D) tensor in place; returns self.

    Raises:
        RuntimeError: more than 2 dims.
    """
    if self._data.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is "
                           f"{self._data.ndim}D")
    return _view_inplace(self, "t_", ops.t, "TBackward1")


def transpose_(self, dim0, dim1):
    """Swap dims ``dim0`` and ``dim1`` in place (a view of the same memory); returns self."""
    nd = self._data.ndim
    wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    return _view_inplace(self, "transpose_", lambda t: ops.transpose(t, dim0, dim1),
                         "TransposeBackward1")


def squeeze_(self, dim=None):
    """Remove size-1 dims (all, or those in ``dim``) in place; returns self."""
    name = ("SqueezeBackward3" if dim is None else
            "SqueezeBackward4" if isinstance(dim, int) else "SqueezeBackward5")
    return _view_inplace(self, "squeeze_", lambda t: ops.squeeze(t, dim), name)


def unsqueeze_(self, dim):
    """Insert a size-1 dim at ``dim`` in place; returns self."""
    wrap_dim(dim, self._data.ndim + 1)
    return _view_inplace(self, "unsqueeze_", lambda t: ops.unsqueeze(t, dim),
                         "UnsqueezeBackward1")


def as_strided_(self, size, stride, storage_offset=None):
    """Take the given sizes and strides (in elements) over this tensor's storage in place,
    from ``storage_offset`` (by default where the tensor starts); returns self.

    Raises:
        RuntimeError: the view would leave the storage.
    """
    a = self._data
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} and "
                           f"{len(stride)}")
    root = storage_root(a)
    offset = offset_in(a, root) if storage_offset is None else int(storage_offset)
    item, have = a.itemsize, root.nbytes // a.itemsize
    last = offset + sum((n - 1) * s for n, s in zip(size, stride) if n > 0)
    if min(size, default=1) > 0 and last + 1 > have:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{(last + 1) * item} are out of bounds for storage of size "
                           f"{have * item}")
    view = strided_over(root, size, stride, offset)

    def make(t):
        if t._rg:
            from .ops.copy_slices import _byte_bounds

            (low, high), (v_low, v_high) = _byte_bounds(t._data), _byte_bounds(view)
            if view.size and (v_low < low or v_high > high):
                raise NotImplementedError("as_strided_ over memory outside the tensor's own "
                                          "elements has no gradient in ember")
        return strided._view(t, view, "AsStridedBackward0")

    return _view_inplace(self, "as_strided_", make, "AsStridedBackward1")


def _is_view(self):
    """Whether this tensor is a view of another (torch's ``Tensor._is_view``)."""
    return self._base is not None


Tensor._is_view = _is_view
Tensor.t_ = t_
Tensor.transpose_ = transpose_
Tensor.swapaxes_ = Tensor.swapdims_ = transpose_
Tensor.squeeze_ = squeeze_
Tensor.unsqueeze_ = unsqueeze_
Tensor.as_strided_ = as_strided_


# --- resize -----------------------------------------------------------------------------------
def _contiguous_strides(shape, itemsize):
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def resize_(self, *sizes, memory_format=None):
    """Give this tensor the shape ``sizes`` over its storage (row-major), keeping the values
    it holds in storage order; the storage grows (new elements uninitialised) when too small.
    The same shape leaves the tensor as it is. Returns self.

    Raises:
        RuntimeError: the tensor requires grad, or a size is negative.

    Note: a grown storage is new memory: other tensors that shared the old one keep it (in
    torch they see the grown storage).
    """
    if self._rg:
        raise RuntimeError("cannot resize variables that require grad")
    shape = _sizes(sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError("numel: integer multiplication overflow")
    a = self._data
    if shape != a.shape:
        root = storage_root(a)
        offset = offset_in(a, root)
        need = offset + int(np.prod(shape, dtype=np.int64))
        if need > root.nbytes // a.itemsize:
            grown = np.empty(need, a.dtype)
            old = root.reshape(-1) if root.flags.c_contiguous else root.ravel(order="K")
            grown[:old.size] = old
            root = grown
        self._data = strided_over(root, shape, _contiguous_strides(shape, 1), offset)
    self._bump("resize_")
    return self


@_arg_errors.method
def resize_as_(self, the_template, *, memory_format=None):
    """``resize_`` to ``the_template``'s shape; returns self."""
    _arg_errors.check_tensors("resize_as_", input=self, the_template=the_template)
    return resize_(self, the_template._data.shape)


class Resize(Op):
    """z = x with a new shape of the same size (torch's deprecated ``Tensor.resize``)"""

    _backward_name = "ResizeBackward"

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.x_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.x_shape)


def resize(self, *sizes):
    """Deprecated out-of-place resize (warns, as torch): a reshape to ``sizes``, which must
    hold as many elements.

    Raises:
        RuntimeError: the number of elements differs.
    """
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    return _resize(self, _sizes(sizes))


def resize_as(self, tensor):
    """Deprecated out-of-place ``resize`` to ``tensor``'s shape (warns, as torch)."""
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return _resize(self, tuple(tensor._data.shape))


def _resize(self, shape):
    n = int(np.prod(shape, dtype=np.int64))
    if n != self._data.size:
        raise RuntimeError(
            f"requested resize to {'x'.join(map(str, shape))} ({n} elements in total), but the "
            f"given tensor has a size of {'x'.join(map(str, self._data.shape))} "
            f"({self._data.size} elements). autograd's resize can only change the shape of a "
            "given tensor, while preserving the number of elements. ")
    return Resize.apply(self, shape=shape)


Tensor.resize_ = resize_
Tensor.resize_as_ = resize_as_
Tensor.resize = resize
Tensor.resize_as = resize_as


# --- legacy constructors -------------------------------------------------------------------------
_NEW_FORMS = (" * (*, torch.device device = None)\n * (torch.Storage storage)\n"
              " * (Tensor other)\n * (tuple of ints size, *, torch.device device = None)\n"
              " * (object data, *, torch.device device = None)\n")


def _options(np_dtype) -> str:
    from ._tensor_methods_more import cpp_name

    return (f"TensorOptions(dtype={cpp_name(np_dtype)}, device=cpu, layout=Strided, "
            "requires_grad=false (default), pinned_memory=false (default), "
            "memory_format=(nullopt))")


def new(self, *args, **kwargs):
    """torch's legacy constructor, with this tensor's dtype: ``x.new()`` (empty),
    ``x.new(2, 3)`` or ``x.new(torch.Size(...))`` (uninitialised), ``x.new([1, 2])`` (from
    data; a tuple is data too, as in torch), ``x.new(other)`` (``other`` itself, sharing
    memory; its dtype must match). Only ``device`` may be given as a keyword.

    Raises:
        TypeError: other keywords, a number that is not an int, or ``other`` of another dtype.
        RuntimeError: a negative size.
    """
    from ._backend import check_device
    from ._size import Size

    check_device(kwargs.pop("device", None))
    if kwargs:
        names = {_dtype.dtype: "torch.dtype"}
        got = ", ".join([type(a).__name__ for a in args]
                        + [f"{k}={names.get(type(v), type(v).__name__)}"
                           for k, v in kwargs.items()])
        raise TypeError(f"new() received an invalid combination of arguments - got ({got}), but "
                        f"expected one of:\n{_NEW_FORMS}")
    dtype = self.dtype
    if not args:
        return _creation.empty(0, dtype=dtype)
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Tensor):
            if a._data.dtype != self._data.dtype:
                raise TypeError(f"expected {_options(self._data.dtype)} (got "
                                f"{_options(a._data.dtype)})")
            return a.detach()
        if isinstance(a, Size):
            args = tuple(a)
        elif isinstance(a, float):
            raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
        elif not isinstance(a, (int, np.integer)):
            return _creation.tensor(a, dtype=dtype)
    shape = tuple(int(s) for s in args)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(shape)}: {list(shape)}")
    return _creation.empty(*shape, dtype=dtype)


def new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                      requires_grad=False, pin_memory=False):
    """An uninitialised tensor with the given sizes and strides (in elements) over a storage
    just large enough, this tensor's dtype by default."""
    if layout is not None:
        check_layout(layout)
    from ._backend import check_device

    check_device(device)
    d = _dtype.convert(dtype).np if dtype is not None else self._data.dtype
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} and "
                           f"{len(stride)}")
    n = 0 if 0 in size else 1 + sum((k - 1) * s for k, s in zip(size, stride))
    return _wrap(strided_over(np.empty(n, d), size, stride, 0), bool(requires_grad))


def set_(self, source=None, storage_offset=0, size=None, stride=None):
    """Make this tensor use ``source``'s memory with its sizes and strides (or ``size`` and
    ``stride`` from ``storage_offset``), or become empty (no argument); returns self.

    Raises:
        NotImplementedError: a ``Storage`` source (ember has no Storage objects).
    """
    self._check_inplace(overlap=False)
    if source is None:
        self._data = np.empty(0, self._data.dtype)
    elif isinstance(source, Tensor):
        if source.is_sparse:  # torch's error: a sparse tensor has no storage to share
            from .sparse._coo import could_not_run

            raise NotImplementedError(could_not_run("set_.source_Tensor"))
        if source._data.dtype != self._data.dtype:
            raise RuntimeError(f"Could not set tensor of type {source.dtype} to a tensor of "
                               f"type {self.dtype}")
        self._data = source._data
        if size is not None:
            shape = _sizes((size,))
            strides = _contiguous_strides(shape, 1) if stride is None else stride
            root = storage_root(source._data)
            self._data = strided_over(root, shape, strides, storage_offset)
    else:
        raise NotImplementedError("set_ takes a Tensor or nothing in ember (no Storage objects)")
    self._bump("set_")
    return self


@_arg_errors.method
def is_set_to(self, tensor) -> bool:
    """True when both tensors use the same memory with the same sizes, strides and start."""
    _arg_errors.check_tensors("is_set_to", input=self, tensor=tensor)
    a, b = self._data, tensor._data
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)


Tensor.new = new
Tensor.new_empty_strided = new_empty_strided
Tensor.set_ = set_
Tensor.is_set_to = is_set_to
