"""Shape ops: reshape/view, permute/transpose, expand/repeat, squeeze/unsqueeze,
cat/stack/split/chunk, tril/triu, flip, roll."""
from __future__ import annotations

import math

import numpy as np

from .. import _arg_errors
from .._memory_format import joined_layout as _joined_layout
from .._tensor import Tensor, _buffer, _mark_view, _wrap
from ..autograd import grad_mode
from ..autograd.function import Op
from ._shape_utils import check_expand, check_movedim, sum_to_shape, type_name, wrap_dim
from ._shape_utils import size_one_strides as _size_one_strides
from ._shape_utils import sizes_arg as _sizes
from .indexing import getitem


def _as_view(out, base):
    """Share the version counter with ``base`` when NumPy returned a view."""
    owner = out._data.base
    if owner is not None:
        data = base._data
        if owner is data or owner is data.base or np.may_share_memory(out._data, data) or (
                not out._data.size and _buffer(out._data) is _buffer(data)):  # (empty: same buffer)
            _mark_view(out, base)
    return out


def _infer(shape, numel, src_shape):
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for i, s in enumerate(shape):
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {[*shape]}")
            known *= s
    if -1 in shape:
        if known == 0 and numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                               "because the unspecified dimension size -1 can be any value and "
                               "is ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Op):
    """z = x with a new shape"""

    _backward_name = "ViewBackward0"  # torch's name for reshape/view of contiguous data

    @staticmethod
    def forward(ctx, x, *, shape, node_name=None, alias=False):
        ctx.x_shape = x.shape
        out = x.reshape(shape)
        if node_name:
            ctx.show_as(node_name)
        elif not x.flags.c_contiguous:
            # torch's names for reshape of strided data: a copy, or (``alias``) a strided view
            if not np.may_share_memory(out, x):
                ctx.show_as("UnsafeViewBackward0")
            elif alias:
                ctx.show_as("ReshapeAliasBackward0")
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.x_shape)


class Permute(Op):
    """z = x with its dims reordered"""

    @staticmethod
    def forward(ctx, x, *, dims, node_name=None):
        ctx.dims = dims
        if node_name:
            ctx.show_as(node_name)
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(np.argsort(ctx.dims))


class Expand(Op):
    """z = x broadcast to a larger shape (a view)"""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.x_shape = x.shape
        out = np.broadcast_to(x, shape)
        if 1 in shape:
            out = _size_one_strides(x, out, shape)
        if x.flags.writeable and not out.flags.writeable:
            out.flags.writeable = True  # a view like torch's: fill_ and e[0] = v write through
        return out

    @staticmethod
    def backward(ctx, grad):
        return sum_to_shape(grad, ctx.x_shape)


class Repeat(Op):
    """z = x tiled ``repeats`` times along each dim"""

    @staticmethod
    def forward(ctx, x, *, repeats):
        ctx.x_shape, ctx.repeats = x.shape, repeats
        out = np.tile(x, repeats)  # (all-ones repeats: a copy in x's own layout)
        return out if out.flags.c_contiguous else np.ascontiguousarray(out)

    @staticmethod
    def backward(ctx, grad):
        reps = ctx.repeats
        shape = (1,) * (len(reps) - len(ctx.x_shape)) + ctx.x_shape
        split = []
        for r, s in zip(reps, shape):
            split += [r, s]
        g = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return g.reshape(ctx.x_shape)


class Cat(Op):
    """z = inputs joined along ``dim``"""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.sizes = [x.shape[dim] for x in xs]
        ctx.axis = dim
        return _joined_layout(xs, np.concatenate(xs, axis=dim))

    @staticmethod
    def backward(ctx, grad):
        bounds = np.cumsum(ctx.sizes)[:-1]
        parts = np.split(grad, bounds, axis=ctx.axis)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))


class Stack(Op):
    """z = inputs stacked along a new ``dim``"""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.axis = dim
        return np.ascontiguousarray(np.stack(xs, axis=dim))  # (transposed inputs: torch's too)

    @staticmethod
    def backward(ctx, grad):
        parts = np.moveaxis(grad, ctx.axis, 0)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))


class Split(Op):
    """(z_1, ..., z_k) = consecutive pieces of x along ``dim``"""

    @staticmethod
    def forward(ctx, x, *, sizes, dim):
        ctx.axis = dim
        bounds = np.cumsum(sizes)[:-1]
        return tuple(np.split(x, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return np.concatenate(grads, axis=ctx.axis)


class Tri(Op):
    """z = lower (tril) or upper (triu) triangle of x, the rest zero"""

    @staticmethod
    def forward(ctx, x, *, diagonal=0, upper=False):
        ctx.diagonal, ctx.upper = diagonal, upper
        ctx.show_as("TriuBackward0" if upper else "TrilBackward0")
        return np.triu(x, diagonal) if upper else np.tril(x, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return np.triu(grad, ctx.diagonal) if ctx.upper else np.tril(grad, ctx.diagonal)


class Flip(Op):
    """z = x reversed along ``dims``"""

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.dims).copy()


class Roll(Op):
    """z = x rolled by ``shifts`` along ``dims``"""

    @staticmethod
    def forward(ctx, x, *, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return np.roll(grad, neg, ctx.dims)


# --- wrappers --------------------------------------------------------------------------
def reshape(input, *shape):
    """Same data, new shape (a view when possible); one dim may be -1."""
    if not input._rg and shape and type(shape[0]) is int:
        # untracked fast path; NumPy's errors are re-raised in torch's words below
        try:
            if min(shape) >= -1:  # NumPy would take any negative size as -1
                return _as_view(_wrap(input._data.reshape(shape)), input)
        except (ValueError, TypeError):
            pass
    if not shape:
        raise _arg_errors.missing("reshape", "shape")
    shape = _infer(_sizes(shape, "reshape", "shape"), input._data.size, input._data.shape)
    if input._rg and not input._data.flags.c_contiguous:
        from .matmul_graph import torch_reshape  # a copy records torch's CloneBackward0 too
        return torch_reshape(input, shape)
    return _as_view(Reshape.apply(input, shape=shape, alias=True), input)


def view(input, *shape):
    """Same storage, new shape; raises when the layout makes that impossible (see reshape)."""
    if len(shape) == 1:
        if not isinstance(shape[0], (int, np.integer, tuple, list, Tensor)):
            return _view_as_dtype(input, shape[0])
    elif not shape:
        raise _arg_errors.invalid_combination("view", expected=("(torch.dtype dtype)",
                                                                "(tuple of ints size)"))
    shape = _infer(_sizes(shape), input._data.size, input._data.shape)
    if not input._data.flags.c_contiguous and input._data.size > 1:
        try:
            arr = input._data.view()
            arr.shape = shape
        except AttributeError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) "
                "instead.") from None
    return _as_view(Reshape.apply(input, shape=shape), input)


def _view_as_dtype(input, dtype):
    """The same bytes read as ``dtype`` (``x.view(torch.int32)``): no copy, no conversion, no
    gradient; it shares the version counter. A different element size changes the last dim."""
    from .. import _dtype

    a = input._data
    new = _dtype.convert(dtype).np
    old_name, new_name = type_name(a.dtype), type_name(new)
    if new.itemsize != a.itemsize:
        why = f"to view {old_name} as {new_name} (different element sizes)"
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {why}")
        if a.strides[-1] != a.itemsize and a.shape[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {why}, but got "
                               f"{a.strides[-1] // a.itemsize}")
        if new.itemsize > a.itemsize and (a.shape[-1] * a.itemsize) % new.itemsize:
            raise RuntimeError(f"self.size(-1) must be divisible by "
                               f"{new.itemsize // a.itemsize} {why}, but got {a.shape[-1]}")
    out = _wrap(a.view(new))
    out._vc = input._vc  # the same memory: in-place changes of either count for both
    return out


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one."""
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, 1)
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input  # nothing to merge: torch returns the tensor itself
    shp = input._data.shape
    return reshape(input, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes``."""
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    shp = input._data.shape
    sizes = given = tuple(sizes)
    try:
        sizes = _infer(sizes, shp[d], (shp[d],)) if -1 in sizes else sizes
    except RuntimeError as e:  # torch's rewording of infer_size's errors
        if "is invalid for input of size" not in str(e):
            raise RuntimeError(f"unflatten got an unexpected error:\n{e}") from None
        sizes = None
    if sizes is None or int(np.prod(sizes)) != shp[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(given)} don't multiply up to the "
                           f"size of dim {dim} ({shp[d]}) in the input tensor")
    return input.view(shp[:d] + sizes + shp[d + 1:])  # always a view: ViewBackward0, as torch


def squeeze(input, dim=None):
    """Remove size-1 dims (all, or those in ``dim``)."""
    shp = input._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
        name = "SqueezeBackward0"
    else:
        name = "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {wrap_dim(d, len(shp)) for d in dims}
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    return _as_view(Reshape.apply(input, shape=new, node_name=name), input)


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim``."""
    nd = input._data.ndim
    d = wrap_dim(dim, nd + 1)
    shp = input._data.shape
    return _as_view(Reshape.apply(input, shape=shp[:d] + (1,) + shp[d:],
                                  node_name="UnsqueezeBackward0"), input)


def permute(input, *dims):
    """Reorder dims."""
    if not dims:
        raise _arg_errors.missing("permute", "dims")
    dims = _sizes(dims, "permute", "dims")
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _as_view(Permute.apply(input, dims=dims), input)


def transpose(input, dim0, dim1, *, node_name="TransposeBackward0"):
    """Swap two dims (``node_name``, ember's own: the recorded node's name)."""
    if type(input._data) is not np.ndarray and type(input) is not Tensor:  # sparse
        return input.transpose(dim0, dim1)
    nd = input._data.ndim
    if nd == 0:
        return input
    order = list(range(nd))
    a, b = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    order[a], order[b] = order[b], order[a]
    return _as_view(Permute.apply(input, dims=tuple(order), node_name=node_name), input)


swapaxes = swapdims = transpose


def t(input):
    """Transpose a matrix (0-D and 1-D inputs come back as views of themselves)."""
    if type(input._data) is not np.ndarray and type(input) is not Tensor:  # sparse
        return input.t()
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    order = (1, 0) if input._data.ndim == 2 else tuple(range(input._data.ndim))
    return _as_view(Permute.apply(input, dims=order, node_name="TBackward0"), input)


def movedim(input, source, destination):
    """Move dims from ``source`` to ``destination``."""
    nd = input._data.ndim
    src = [wrap_dim(s, nd) for s in (source if isinstance(source, (tuple, list)) else [source])]
    dst = [wrap_dim(d, nd) for d in (destination if isinstance(destination, (tuple, list))
                                     else [destination])]
    check_movedim(source, destination, src, dst)
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


def expand(input, *sizes):
    """Broadcast to ``sizes`` (-1 keeps a dim) without copying."""
    if not sizes:
        raise _arg_errors.missing("expand", "size")
    sizes = _sizes(sizes, "expand")
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand(torch.{type_name(input._data.dtype)}Tensor{{{list(shp)}}}, "
                           f"size={list(sizes)}): the number of sizes provided ({len(sizes)}) "
                           "must be greater or equal to the number of dimensions in the tensor "
                           f"({len(shp)})")
    lead = len(sizes) - len(shp)
    if -1 in sizes[:lead]:
        raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
    target = tuple(shp[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    if target != shp:
        check_expand(shp, target, shown=sizes)
    return _as_view(Expand.apply(input, shape=tuple(target)), input)


def repeat(input, *repeats):
    """Tile the tensor ``repeats`` times along each dim."""
    if not repeats:
        raise _arg_errors.missing("repeat", "repeats")
    repeats = _sizes(repeats, "repeat", "repeats")
    if len(repeats) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return Repeat.apply(input, repeats=repeats)


def _check_same(tensors, name):
    if not tensors:
        if name == "stack":
            raise RuntimeError("stack expects a non-empty TensorList")
        raise ValueError(f"torch.{name}(): expected a non-empty list of Tensors")
    _arg_errors.check_tensor_list(tensors)


def cat(tensors, dim=0, *, axis=None, out=None):
    """Join tensors along an existing dim; dtypes promote as in torch."""
    from .. import _dtype
    from .elementwise import to_dtype

    if axis is not None:
        dim = axis
    if isinstance(tensors, Tensor):
        raise _arg_errors.must_be("cat", "tensors", 1, "tuple of Tensors", tensors)
    tensors = list(tensors)
    _check_same(tensors, "cat")
    # torch skips legacy empty 1-D tensors in cat
    tensors = [t for t in tensors if not (t._data.ndim == 1 and t._data.size == 0)] or tensors[:1]
    ref = tensors[0]._data
    d = wrap_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        a = t._data
        if a.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} "
                               f"and {a.ndim}")
        for j in range(ref.ndim):
            if j != d and a.shape[j] != ref.shape[j]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref.shape[j]} but got size {a.shape[j]} for "
                                   f"tensor number {i} in the list.")
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = _dtype.promote_types(dt, t.dtype)
    tensors = [to_dtype(t, dt) for t in tensors]
    r = Cat.apply(*tensors, dim=d)
    if out is not None:
        from .._compat import _write_out

        return _write_out("cat", r, out, tensors)
    return r


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Join same-shaped tensors along a new dim."""
    from .. import _dtype
    from .elementwise import to_dtype

    if isinstance(tensors, Tensor):
        raise _arg_errors.must_be("stack", "tensors", 1, "tuple of Tensors", tensors)
    tensors = list(tensors)
    _check_same(tensors, "stack")
    shp = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shp)} at entry 0 and {list(t._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(shp) + 1)
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = _dtype.promote_types(dt, t.dtype)
    tensors = [to_dtype(t, dt) for t in tensors]
    r = Stack.apply(*tensors, dim=d)
    if out is not None:
        from .._compat import _write_out

        return _write_out("stack", r, out, tensors)
    return r


def _multi_views(outs, name):
    """Mark the views an op returned together: torch refuses to change them in place (a
    view made under no_grad is refused as that instead)."""
    if not grad_mode.state.enabled:
        return outs
    for i, o in enumerate(outs):
        if o._base is not None:  # the multi-view meta replaces one inherited from a no_grad view
            o._multi_view, o._no_grad_view = (name, i), False
    return outs


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` (the last may be smaller) or of the given ``sections``."""
    from .shape_more import SplitWithSizes, _pieces, checked_split_sizes, even_split_sizes

    if not isinstance(split_size_or_sections, (int, np.integer)):  # torch's split_with_sizes
        d, sizes = checked_split_sizes(tensor, split_size_or_sections, dim)
        return _pieces(SplitWithSizes, tensor, sizes, d, "SplitWithSizes")
    d, sizes = even_split_sizes(tensor, int(split_size_or_sections), dim)
    outs = Split.apply(tensor, sizes=sizes, dim=d)
    return _multi_views(tuple(_as_view(o, tensor) for o in outs), "Split")


def tensor_split(input, indices_or_sections, dim=0):
    """numpy.array_split semantics."""
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    from .shape_more import section_bounds
    d = wrap_dim(dim, input._data.ndim)
    bounds, lead = section_bounds(indices_or_sections, input._data.shape[d]), (slice(None),) * d
    return tuple(getitem(input, lead + (slice(a, b),), "SliceBackward0")
                 for a, b in zip(bounds[:-1], bounds[1:]))


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller), like torch."""
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if n == 0:  # torch: ``chunks`` empty pieces
        return split(input, [0] * chunks, d)
    return split(input, -(-n // chunks), dim)


def unbind(input, dim=0):
    """All slices along ``dim``, each without that dim."""
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if input._data.shape[d] == 0:
        return ()
    from .shape_more import Unbind

    outs = Unbind.apply(input, dim=d)
    return _multi_views(tuple(_as_view(o, input) for o in outs), "Unbind")


def tril(input, diagonal=0):
    """Lower triangle (elements above ``diagonal`` zeroed)."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tri.apply(input, diagonal=diagonal, upper=False)


def triu(input, diagonal=0):
    """Upper triangle (elements below ``diagonal`` zeroed)."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Tri.apply(input, diagonal=diagonal, upper=True)


def flip(input, dims):
    """Reverse the order along ``dims`` (a sequence; ``Tensor.flip`` also takes varargs)."""
    if isinstance(dims, int):
        raise _arg_errors.must_be("flip", "dims", 2, "tuple of ints", dims)
    dims = tuple(dims)
    ndim = input._data.ndim
    axes = tuple(wrap_dim(d, ndim) for d in dims)
    for i, d in enumerate(axes):
        if d in axes[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return Flip.apply(input, dims=axes if ndim else ())


def roll(input, shifts, dims=None):
    """Shift elements cyclically (flattened first when ``dims`` is not given)."""
    from .shape_more import roll_arguments

    return Roll.apply(input, **roll_arguments(input, shifts, dims))


def atleast_1d(input):
    """At least one dimension."""
    return input.reshape(1) if input.dim() == 0 else input


def ravel(input):
    """Flattened to 1-D."""
    return reshape(input, -1)


__all__ = ["_wrap"]
