"""More ways to arrange tensors: torch functions that reorder, repeat, combine or pick elements.

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).
Here: repeat_interleave, take, the diagonals (diag, diagonal, diag_embed, trace), block_diag,
rot90, diff, flipud/fliplr and tile; the functions that combine several tensors (meshgrid,
broadcast_tensors, the *stack family, kron, tensordot, ...) are in ``arrange_combine.py``.
"""
from __future__ import annotations

import numpy as np

from .. import _arg_errors, _dtype
from .._memory_format import contiguous_format
from .._tensor import Tensor, _wrap
from ..autograd.function import Op
from ._shape_utils import type_name, wrap_dim
from .arrange_combine import (
    atleast_2d,
    atleast_3d,
    broadcast_tensors,
    cartesian_prod,
    column_stack,
    combinations,
    dstack,
    kron,
    meshgrid,
    row_stack,
    tensordot,
    vander,
)
from .indexing import narrow
from .shape import _as_view, _sizes, cat, flatten, flip, repeat, unsqueeze

__all__ = [
    "repeat_interleave", "take", "diag", "diagonal", "diag_embed", "trace", "block_diag",
    "rot90", "diff", "flipud", "fliplr", "tile",
    "broadcast_tensors", "atleast_2d", "atleast_3d", "column_stack", "dstack", "row_stack",
    "cartesian_prod", "combinations", "meshgrid", "vander", "kron", "tensordot",
]
TENSOR_METHODS: tuple[str, ...] = (
    "repeat_interleave", "take", "diag", "diagonal", "diag_embed", "trace", "rot90", "kron",
    "diff", "flipud", "fliplr", "tile",
)


def _writeable_diagonal(a, offset, axis1, axis2):
    """``np.diagonal`` as a view that can be written when ``a`` can (NumPy's is read-only)."""
    d = np.diagonal(a, offset, axis1, axis2)
    if a.flags.writeable:
        d.flags.writeable = True
    return d


# --- ops -----------------------------------------------------------------------------------
class Take(Op):
    """z = x.flatten()[index]; duplicate indices accumulate their gradients"""

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.x_shape, ctx.index = x.shape, index
        return x.reshape(-1)[index]

    @staticmethod
    def backward(ctx, grad):
        g = np.zeros(int(np.prod(ctx.x_shape)), grad.dtype)
        np.add.at(g, ctx.index, grad)
        return g.reshape(ctx.x_shape)


class Diagonal(Op):
    """z = the ``offset`` diagonal of x over dims (dim1, dim2), appended as the last dim"""

    @staticmethod
    def forward(ctx, x, *, offset, dim1, dim2, copy=False):
        ctx.x_shape, ctx.args = x.shape, (offset, dim1, dim2)
        if copy:  # torch.diag of a matrix: a copy, named so
            ctx.show_as("DiagonalBackward0_copy")
            return np.diagonal(x, offset, dim1, dim2).copy()
        return _writeable_diagonal(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad):
        g = np.zeros(ctx.x_shape, grad.dtype)
        _writeable_diagonal(g, *ctx.args)[...] = grad
        return g


class DiagEmbed(Op):
    """z = zeros with x's last dim written on the ``offset`` diagonal of dims (dim1, dim2)"""

    @staticmethod
    def forward(ctx, x, *, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        n = x.shape[-1] + abs(offset)
        shape = list(x.shape[:-1])
        for d in sorted((dim1, dim2)):
            shape.insert(d, n)
        out = np.zeros(shape, x.dtype)
        _writeable_diagonal(out, offset, dim1, dim2)[...] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        return np.diagonal(grad, *ctx.args).copy()


class Trace(Op):
    """z = sum of the main diagonal of the matrix x"""

    @staticmethod
    def forward(ctx, x):
        ctx.x_shape, ctx.x_dtype = x.shape, x.dtype
        return np.asarray(np.trace(x, dtype=np.int64 if x.dtype.kind in "iu" else x.dtype))

    @staticmethod
    def backward(ctx, grad):
        return (np.eye(*ctx.x_shape, dtype=ctx.x_dtype) * grad).astype(ctx.x_dtype)


class BlockDiag(Op):
    """z = the matrices x_1, ..., x_k on the diagonal of a zero matrix"""

    @staticmethod
    def forward(ctx, *xs, dtype):
        rows = sum(x.shape[0] for x in xs)
        cols = sum(x.shape[1] for x in xs)
        out = np.zeros((rows, cols), dtype)
        spans, r, c = [], 0, 0
        for x in xs:
            out[r:r + x.shape[0], c:c + x.shape[1]] = x
            spans.append((r, c, x.shape, x.dtype))
            r, c = r + x.shape[0], c + x.shape[1]
        ctx.spans = spans
        return out

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad[r:r + s[0], c:c + s[1]].astype(dt) if need else None
                     for (r, c, s, dt), need in zip(ctx.spans, ctx.needs_input_grad))


class Rot90(Op):
    """z = x rotated by k quarter turns in the plane of ``dims``"""

    @staticmethod
    def forward(ctx, x, *, k, dims):
        ctx.k, ctx.dims = k, dims
        return np.rot90(x, k, dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return np.rot90(grad, -ctx.k, ctx.dims).copy()


# --- wrappers ------------------------------------------------------------------------------
def _check_repeats_dtype(r):
    if r.dtype not in (np.int32, np.int64):  # torch's kernel has loops for these only
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for "
                                  f"'{type_name(r.dtype)}'")


def _check_int_repeats(r):
    _check_repeats_dtype(r)
    if r.size and r.min() < 0:
        raise RuntimeError("repeats can not be negative")


def _check_repeats_given(input, dim, output_size, method):
    """torch's parser error for no ``repeats``: the method always needs them, the function
    (where ``input`` is the repeats) takes no ``dim`` then."""
    if method or dim is not None:
        given = {k: v for k, v in (("output_size", output_size), ("dim", dim)) if v is not None}
        forms = ("(Tensor repeats, int dim = None, *, int output_size = None)",
                 "(int repeats, int dim = None, *, int output_size = None)") if method else (
            "(Tensor input, Tensor repeats, int dim = None, *, int output_size = None)",
            "(Tensor repeats, *, int output_size = None)",
            "(Tensor input, int repeats, int dim = None, *, int output_size = None)")
        raise _arg_errors.invalid_combination("repeat_interleave", () if method else (input,),
                                              given, forms)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or each slice along ``dim``) ``repeats`` times.

    Args:
        input: the tensor; alone (``torch.repeat_interleave(repeats)``) it is the repeats of a
            1-D integer tensor and the result is ``0, ..., 0, 1, ..., 1, ...`` (index ``i``
            ``repeats[i]`` times), in its dtype.
        repeats: an int, or an integer tensor with one count per slice (or one for all).
        dim: the dim to repeat along; None flattens the input first.
        output_size: the known length of the result along ``dim`` (checked).

    Raises:
        RuntimeError: negative repeats, or a repeats tensor of the wrong size.
    """
    if repeats is None:
        _check_repeats_given(input, dim, output_size, _arg_errors.called_as_method())
        r = input._data
        _check_repeats_dtype(r)
        if r.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        _check_int_repeats(r)
        return _wrap(np.repeat(np.arange(r.shape[0], dtype=r.dtype), r))
    if isinstance(repeats, (list, tuple)):
        raise TypeError(f"repeat_interleave() received an invalid combination of arguments - "
                        f"got ({type(repeats).__name__}, ...), but expected repeats to be an "
                        f"int or a Tensor")
    if dim is None:
        input, d = flatten(input), 0
    else:
        d = wrap_dim(dim, input._data.ndim)
    shp = input._data.shape
    n = shp[d] if shp else 1
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        _check_int_repeats(r)
        r = r.reshape(-1)
        if r.size == 1:
            r = np.broadcast_to(r, (n,))
        elif r.size != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {r.size} and input.size({d}) = {n}")
        index = np.repeat(np.arange(n), r)
        if output_size is not None and output_size != index.size:
            raise RuntimeError("allocated size does not match required size")
        from .indexing import index_select

        return index_select(input, d, _wrap(index))
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    if output_size is not None and output_size != n * repeats:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {n * repeats} "
                           f"but got {output_size}")
    if not shp:
        input, d = input.reshape(1), 0
        shp = (1,)
    # torch's graph: unsqueeze -> expand -> clone -> view
    wide = unsqueeze(input, d + 1).expand(*shp[:d + 1], repeats, *shp[d + 1:])
    return flatten(wide.clone(memory_format=contiguous_format), d, d + 1)


def take(input, index):
    """The elements of ``input`` (read as 1-D) at ``index``, in ``index``'s shape.

    Raises:
        RuntimeError: ``index`` is not int64.
        IndexError: an index outside ``[-numel, numel)``.
    """
    _arg_errors.check_tensors("take", input=input, index=index)
    idx = index._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{type_name(idx.dtype)}")
    numel = input._data.size
    if idx.size:
        bad = idx[(idx < -numel) | (idx >= numel)]
        if bad.size:
            raise IndexError(f"out of range: tried to access index {int(bad[0])} on a tensor of "
                             f"{numel} elements.")
    return Take.apply(input, index=idx)


def _diagonal_dims(nd, dim1, dim2):
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset`` diagonal over dims ``dim1`` and ``dim2``, as a new last dim (a view).

    Raises:
        RuntimeError: ``dim1`` and ``dim2`` name the same dim.
    """
    d1, d2 = _diagonal_dims(input._data.ndim, dim1, dim2)
    return _as_view(Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2), input)


def diag(input, diagonal=0):
    """A 1-D input as the ``diagonal`` of a square matrix; a matrix's ``diagonal`` (a copy).

    Raises:
        RuntimeError: the input is not 1-D or 2-D.
    """
    nd = input._data.ndim
    if nd == 1:
        return DiagEmbed.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    if nd == 2:
        return Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1, copy=True)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensor whose diagonals (over ``dim1``, ``dim2`` of the result) hold ``input``'s last dim.

    Raises:
        RuntimeError: ``dim1`` and ``dim2`` name the same dim.
    """
    d1, d2 = _diagonal_dims(input._data.ndim + 1, dim1, dim2)
    return DiagEmbed.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def trace(input):
    """Sum of a matrix's main diagonal (integer inputs give int64).

    Raises:
        RuntimeError: the input is not a matrix.
        NotImplementedError: a bool input.
    """
    x = input._data
    if x.dtype == np.bool_:  # the kernel's dispatch comes before its check of the rank
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return Trace.apply(input)


def block_diag(*tensors):
    """The tensors (0-D, 1-D as one row, or 2-D) along the diagonal of a zero matrix; dtypes
    promote as in ``cat``.

    Raises:
        RuntimeError: an input with more than 2 dims.
    """
    _arg_errors.check_tensor_list(tensors)
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t._data.ndim} dimensions")
    if not tensors:
        return _wrap(np.zeros((1, 0), _dtype.get_default_dtype().np))
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = _dtype.promote_types(dt, t.dtype)
    mats = [t if t._data.ndim == 2 else t.reshape(1, -1) for t in tensors]
    return BlockDiag.apply(*mats, dtype=dt.np)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by ``k`` quarter turns, from the first of ``dims`` towards the second.

    Raises:
        RuntimeError: ``dims`` is not two different dims, or the input has fewer than 2 dims.
    """
    dims = list(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    axes = (wrap_dim(dims[0], nd), wrap_dim(dims[1], nd))
    if axes[0] == axes[1]:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    return Rot90.apply(input, k=int(k) % 4, dims=axes)


def flipud(input):
    """Reverse the order of the rows (dim 0)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def fliplr(input):
    """Reverse the order of the columns (dim 1)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def tile(input, *dims):
    """Repeat the tensor ``dims`` times along each dim; missing leading dims count as 1.
    ``torch.tile`` takes one sequence, ``Tensor.tile`` also varargs."""
    if len(dims) != 1 or isinstance(dims[0], int):
        if not dims:
            raise _arg_errors.missing("tile", "dims")
        if not _arg_errors.called_as_method():
            raise (_arg_errors.must_be("tile", "dims", 2, "tuple of ints", dims[0])
                   if len(dims) == 1 else _arg_errors.takes_positional("tile", 2, len(dims) + 1))
    dims = _sizes(dims, "tile", "dims")
    nd = input._data.ndim
    dims = (1,) * (nd - len(dims)) + dims
    lead = len(dims) - nd
    shape = [r * s for r, s in zip(dims, (1,) * lead + input._data.shape)]
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {shape}")
    return repeat(input, dims)


def _check_diff_operand(name, t, input, d):
    if t._data.ndim != input._data.ndim:
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for i, (a, b) in enumerate(zip(input._data.shape, t._data.shape)):
        if i != d and a != b:
            raise RuntimeError(f"diff expects the shape of tensor to prepend or append to match "
                               f"that of input except along the differencing dimension; "
                               f"input.size({i}) = {a}, but got tensor.size({i}) = {b}")


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``x[i+1] - x[i]``; xor for bool), after
    joining ``prepend`` and ``append`` to the input along ``dim``.

    Raises:
        RuntimeError: a 0-D input, a negative ``n``, or ``prepend``/``append`` of another shape.
    """
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, nd)
    parts = [input]
    for name, t in (("prepend", prepend), ("append", append)):
        if t is not None:
            _check_diff_operand(name, t, input, d)
            parts.insert(0 if name == "prepend" else len(parts), t)
    x = cat(parts, d) if len(parts) > 1 else input
    if n == 0:
        return x.clone()
    for _ in range(min(n, x._data.shape[d])):
        length = x._data.shape[d] - 1
        hi, lo = narrow(x, d, 1, length), narrow(x, d, 0, length)
        if x._data.dtype == np.bool_:
            from .compare import logical_xor

            x = logical_xor(hi, lo)
        else:
            x = hi - lo
    return x
