"""More of torch's shape functions: the NumPy-style splits (hsplit, vsplit, dsplit), the
split variants (split_with_sizes and the ``unsafe_*`` ones), moveaxis, narrow_copy, diagflat,
sum_to_size, msort and argwhere.

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).
"""
from __future__ import annotations

import numpy as np

from .. import _arg_errors
from .._tensor import Tensor
from ..autograd.function import Op
from ._shape_utils import wrap_dim
from .arrange import DiagEmbed
from .indexing import getitem, nonzero
from .shape import Split, _as_view, _multi_views, _sizes, cat, movedim, reshape
from .sort import sort

__all__ = ["moveaxis", "hsplit", "vsplit", "dsplit", "split_with_sizes", "unsafe_split",
           "unsafe_chunk", "unsafe_split_with_sizes", "narrow_copy", "diagflat", "msort",
           "argwhere"]
TENSOR_METHODS: tuple[str, ...] = (*__all__, "broadcast_to")


class SplitWithSizes(Split):
    """(z_1, ..., z_k) = pieces of x of the given sizes along ``dim``"""

    _backward_name = "SplitWithSizesBackward0"


class UnsafeSplit(Split):
    """``split`` whose pieces are not tracked as views (torch's ``unsafe_split``)"""

    _backward_name = "UnsafeSplitBackward0"


class UnsafeSplitWithSizes(Split):
    """``split_with_sizes`` whose pieces are not tracked as views"""

    _backward_name = "UnsafeSplitWithSizesBackward0"


class NarrowCopy(Op):
    """z = a copy of x[start:start + length] along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, dim, start, length):
        ctx.x_shape, ctx.key = x.shape, (slice(None),) * dim + (slice(start, start + length),)
        return np.array(x[ctx.key])

    @staticmethod
    def backward(ctx, grad):
        g = np.zeros(ctx.x_shape, grad.dtype)
        g[ctx.key] = grad
        return g


# --- sizes ------------------------------------------------------------------------------
def moveaxis(input: Tensor, source, destination) -> Tensor:
    """Alias of :func:`movedim` (NumPy's name)."""
    return movedim(input, source, destination)


def _need_dims(input: Tensor, name: str = "split") -> None:
    if input._data.ndim == 0:
        raise RuntimeError(f"{name} expects at least a 1-dimensional tensor")


def even_split_sizes(input: Tensor, split_size: int, dim: int) -> tuple:
    """``(dim, sizes)`` of splitting ``input`` into ``split_size``s (the last may be smaller),
    after torch's checks in its order."""
    _need_dims(input)
    if split_size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got "
                           f"split_size={split_size}")
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if split_size == 0 and n > 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {n}")
    if split_size == 0:
        return d, [0]
    return d, [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])


def checked_split_sizes(input: Tensor, sizes, dim: int) -> tuple:
    """``(dim, sizes)`` for splitting ``input`` into pieces of the given ``sizes``."""
    _need_dims(input)
    d = wrap_dim(dim, input._data.ndim)
    return d, _checked_sizes(input._data.shape[d], sizes, d)


def _checked_sizes(n: int, sizes, d: int) -> list:
    sizes = [int(s) for s in sizes]
    for s in sizes:
        if s < 0:
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return sizes


def _pieces(op, input: Tensor, sizes, d: int, views: str | None):
    outs = op.apply(input, sizes=sizes, dim=d)
    if views is None:  # torch's unsafe_*: the pieces share memory but are not views
        return outs
    return _multi_views(tuple(_as_view(o, input) for o in outs), views)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Pieces of the given sizes along ``dim`` (views, like :func:`split` with a list).

    Raises:
        RuntimeError: the sizes are negative or do not add up to the size of ``dim``.
    """
    if isinstance(split_sizes, int):
        raise _arg_errors.must_be("split_with_sizes", "split_sizes", 2, "tuple of ints",
                                  split_sizes)
    d, sizes = checked_split_sizes(input, split_sizes, dim)
    return _pieces(SplitWithSizes, input, sizes, d, "SplitWithSizes")


def unsafe_split(input: Tensor, split_size: int, dim: int = 0) -> tuple:
    """:func:`split` into pieces of ``split_size`` that are not tracked as views (torch lets
    them be changed in place; they still share the input's memory)."""
    d, sizes = even_split_sizes(input, int(split_size), dim)
    return _pieces(UnsafeSplit, input, sizes, d, None)


def unsafe_split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """:func:`split_with_sizes` whose pieces are not tracked as views."""
    if isinstance(split_sizes, int):
        raise _arg_errors.must_be("unsafe_split_with_sizes", "split_sizes", 2, "tuple of ints",
                                  split_sizes)
    d, sizes = checked_split_sizes(input, split_sizes, dim)
    return _pieces(UnsafeSplitWithSizes, input, sizes, d, None)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """:func:`chunk` whose pieces are not tracked as views.

    Raises:
        RuntimeError: ``chunks`` is not positive.
    """
    _need_dims(input, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if n == 0:  # torch: ``chunks`` empty pieces
        return _pieces(UnsafeSplitWithSizes, input, [0] * chunks, d, None)
    return unsafe_split(input, -(-n // chunks), d)


class Unbind(Op):
    """(z_0, ..., z_{n-1}) = the slices of x along ``dim``; dx = the grads stacked there"""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.axis = dim
        lead = (slice(None),) * dim
        # the Ellipsis keeps 0-d pieces of a 1-d x arrays viewing x (torch's views)
        return tuple(x[lead + (i, Ellipsis)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return np.stack(grads, axis=ctx.axis)


def section_bounds(indices_or_sections, n: int) -> list:
    """``tensor_split``'s piece boundaries along a dim of size ``n``: ``k`` sections as even
    as can be (the first ones one longer), or cuts at the given indices (a tensor too)."""
    if isinstance(indices_or_sections, Tensor):  # a 0-d count or a 1-d list of indices
        t = indices_or_sections
        indices_or_sections = int(t.item()) if t.dim() == 0 else t.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        return [0] + [int(b) for b in np.cumsum(sizes)]
    return [0] + [int(i) for i in indices_or_sections] + [n]


def roll_arguments(input: Tensor, shifts, dims) -> dict:
    """``roll``'s shifts and dims checked as torch does: one shift per dim, or a single shift
    with no dims (the tensor is rolled flattened)."""
    shifts = tuple(shifts) if isinstance(shifts, (list, tuple)) else (shifts,)
    dims = () if dims is None else tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if len(shifts) != len(dims) and not (len(shifts) == 1 and not dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    if not dims:
        return {"shifts": int(shifts[0]), "dims": None}
    nd = input._data.ndim
    if nd == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    return {"shifts": tuple(int(s) for s in shifts), "dims": tuple(wrap_dim(d, nd) for d in dims)}


# --- NumPy-style splits -----------------------------------------------------------------------
def _np_split(name: str, input: Tensor, indices_or_sections, dim: int, min_dims: int) -> tuple:
    """torch's h/v/dsplit: ``tensor_split`` along ``dim``, sections that divide it evenly."""
    nd = input._data.ndim
    if nd < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {nd} dimensions!")
    n = input._data.shape[dim]
    lead = (slice(None),) * dim
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k < 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        if k == 0 or n % k:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {n} is not divisible by the split_size "
                               f"{k}!")
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    return tuple(getitem(input, lead + (slice(a, max(a, b)),), "SliceBackward0")
                 for a, b in zip(bounds[:-1], bounds[1:]))


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along dim 1 (dim 0 of a 1-D tensor) into equal sections or at the given indices.

    Raises:
        RuntimeError: a 0-d input, or sections that do not divide the dim evenly.
    """
    dim = 0 if input._data.ndim == 1 else 1
    return _np_split("hsplit", input, indices_or_sections, dim, 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along dim 0 (the input needs at least 2 dims) into equal sections or at indices."""
    return _np_split("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along dim 2 (the input needs at least 3 dims) into equal sections or at indices."""
    return _np_split("dsplit", input, indices_or_sections, 2, 3)


# --- copies and reductions ----------------------------------------------------------------
def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """A copy of :meth:`narrow`'s view: ``length`` elements of ``dim`` from ``start``.

    Raises:
        RuntimeError: the range leaves the dim (or ``dim`` is out of range, torch's wording).
    """
    if type(input._data) is not np.ndarray and type(input) is not Tensor:  # sparse
        return input.narrow_copy(dim, start, length)
    nd = input._data.ndim
    if not -nd <= dim < nd:
        raise RuntimeError("Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, "
                           "but got false.  (Could this error message be improved?  If so, "
                           "please report an enhancement request to PyTorch.)")
    d = dim % nd
    n, start, length = input._data.shape[d], int(start), int(length)
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow_copy(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return NarrowCopy.apply(input, dim=d, start=start, length=length)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the flattened input on its ``offset`` diagonal."""
    flat = reshape(input, -1) if input._data.ndim != 1 else input
    return DiagEmbed.apply(flat, offset=int(offset), dim1=0, dim2=1)


def sum_to_size(input: Tensor, *size) -> Tensor:
    """Sum ``input`` down to ``size`` (which must broadcast to the input's shape), as the
    gradient of a broadcast is; the input itself when nothing needs summing.

    Raises:
        RuntimeError: ``size`` does not expand to the input's shape.
    """
    size = _sizes(size, "sum_to_size")
    shape = input._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != t for s, t in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    dims = list(range(lead)) + [lead + i for i, s in enumerate(size)
                                if s == 1 and shape[lead + i] != 1]
    out = input.sum(dims, keepdim=True) if dims else input
    return out.view(size) if lead > 0 else out


def msort(input: Tensor) -> Tensor:
    """The values sorted along dim 0 (``sort(input, dim=0).values``)."""
    return sort(input, dim=0).values


def argwhere(input: Tensor) -> Tensor:
    """Indices of the non-zero elements, one row per element (``nonzero``)."""
    return nonzero(input)


def hstack(tensors):
    """Stack along dim 1 (dim 0 for 1-D tensors)."""
    if isinstance(tensors, Tensor):
        raise _arg_errors.must_be("hstack", "tensors", 1, "tuple of Tensors", tensors)
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors):
    """Stack as rows."""
    if isinstance(tensors, Tensor):
        raise _arg_errors.must_be("vstack", "tensors", 1, "tuple of Tensors", tensors)
    return cat([t.reshape(1, -1) if t.dim() == 1 else t for t in tensors], 0)
