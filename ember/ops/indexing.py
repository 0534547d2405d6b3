"""Indexing ops: ``x[...]``, index_put (``x[i] = v``), gather/scatter, index_select,
masked_fill, one_hot, nonzero (sorting: sort.py; narrow/select/index_add: slicing.py)."""
from __future__ import annotations

import numpy as np

from .. import _arg_errors, _dtype
from .._tensor import Tensor, _mark_view, _wrap
from ..autograd.function import Op
from . import _index_chain as _chain
from . import index_misc as _im
from ._shape_utils import check_broadcast, sum_to_shape, wrap_dim
from .complex_ops import drop_imag
from .index_misc import index_error as _index_error


def normalize_index(index, tensor=None):
    """Turn tensors and lists inside an index into NumPy arrays, checking their dtypes.

    With ``tensor`` (a subscript ``tensor[index]``, not ``index_put``'s tuple), a 0-d integer
    tensor is read as an int (a select, so the result is a view) and a 0-d bool one as a
    Python bool, as torch does."""
    sub = tensor is not None
    try:
        if isinstance(index, tuple):
            return tuple(_one_index(i, sub) for i in index)
        return _one_index(index, sub)
    except _EmptyMask:  # (rare) NumPy takes an empty mask for a dim of any size; torch checks
        out = tuple(_one_index(i, 2) for i in index) if isinstance(index, tuple) else \
            _one_index(index, 2)
        msg = _im._mask_mismatch(*_im._after_basic(out, tensor._data.shape))
        if msg:
            raise IndexError(msg) from None
        return out


class _EmptyMask(Exception):
    """A subscript holds a bool mask with no elements."""


_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.int32), np.dtype(np.uint8), np.dtype(bool))


def _one_index(i, sub=False):
    if isinstance(i, Tensor):
        a = i._data
        if sub and not a.ndim and a.dtype.kind in "iub":
            return bool(a) if a.dtype.kind == "b" or a.dtype == np.uint8 else int(a)
    elif isinstance(i, (list, range)):
        a = np.asarray(i)
        if a.dtype.kind == "f" or (a.dtype == object):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if a.size == 0:
            a = a.astype(np.int64)
    elif isinstance(i, np.ndarray):
        a = i
    elif isinstance(i, (float, np.floating)):
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         "Variables are valid indices (got float)")
    else:
        return i
    if a.dtype not in _INDEX_DTYPES:  # torch refuses int8, int16 and the wider unsigned
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if a.dtype == np.uint8:
        a = a.astype(bool)
    elif sub is True and a.dtype == np.bool_ and not a.size:
        raise _EmptyMask
    return a


def _target(arr, index):
    """``(view, idx)`` such that ``view[idx]`` is torch's ``arr[index]``.

    torch applies ints (as selects), slices, None and ``...`` first and the tensor indices
    after; NumPy counts ints as advanced indices too, which moves dims to the front when ints
    and arrays mix (``x[0, :, idx]`` is (3, 2) in torch, (2, 3) in NumPy). Such an index is
    split in two steps: ``arr[basic]`` (a view) then ``[advanced]``.
    """
    if type(index) is not tuple:
        if not isinstance(index, (bool, np.bool_)):
            return arr, index
        index = (index,)
    bools = [isinstance(i, (bool, np.bool_)) for i in index]
    if not any(bools) and not any(isinstance(i, np.ndarray) for i in index):
        return arr, index
    ints = [isinstance(i, (int, np.integer)) and not b for i, b in zip(index, bools)]
    # NOTE: NumPy's ``...`` parts the arrays on its sides even when it stands for no dims
    # (torch's does not): written out as slices in the second step
    if not any(ints) and not any(bools) and not any(i is Ellipsis for i in index):
        return arr, index
    dims = [i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else
            0 if i is None or i is Ellipsis or b else 1 for i, b in zip(index, bools)]
    basic, advanced = [], []
    for i, is_int, is_bool, k in zip(index, ints, bools, dims):
        if isinstance(i, np.ndarray):
            basic += [slice(None)] * k
            advanced.append(i)
        elif i is Ellipsis:
            basic.append(i)
            advanced += [slice(None)] * (arr.ndim - sum(dims))
        elif is_bool:  # torch: a new dim, indexed by the tensor [0] (True) or [] (False)
            basic.append(None)
            advanced.append(np.zeros(1 if i else 0, np.intp))
        elif not is_int:  # slice, None: one output dim each
            basic.append(i)
            advanced.append(slice(None))
        else:
            basic.append(i)
    return arr[tuple(basic)], tuple(advanced)


def assign(arr, index, value, accumulate=False):
    """``arr[index] = value`` (added when ``accumulate``) with torch's reading of ``index``
    (see ``_target``)."""
    view, idx = _target(arr, index)
    value = drop_imag(np.asarray(value), arr.dtype) if np.iscomplexobj(value) else value
    if not accumulate and _is_basic(index):
        view[idx] = value  # (setitem words a shape error as torch's copy_)
        return
    if not accumulate:
        try:
            view[idx] = value
            return
        except (IndexError, ValueError):  # torch's errors, from what is below
            pass
    shape = _im._read(view, idx).shape
    v = np.asarray(value)
    try:
        # NOTE: NumPy 2.4's ufunc.at misreads values broadcast over the index dims (garbage
        # sums): it gets them at full size
        v = np.broadcast_to(v.reshape(_im.strip_ones(v.shape)), shape)
    except ValueError:
        raise _im.put_shape_error(v.shape, shape) from None
    if accumulate and v.size:
        np.add.at(view, idx, v)


def _is_basic(index):
    # a Python bool is an index tensor in torch (x[True] is a copy), not an int
    if isinstance(index, tuple):
        return all(i is None or i is Ellipsis or (isinstance(i, (int, slice, np.integer))
                                                  and type(i) is not bool) for i in index)
    return index is None or index is Ellipsis or (
        isinstance(index, (int, slice, np.integer)) and type(index) is not bool)


def accumulate_rows(num_rows, idx, g):
    """``out[idx[k]] += g[k]`` for a 1-D integer ``idx`` on axis 0, duplicates summed.

    Faster than ``np.add.at``: a sort and one ``np.add.reduceat`` (or a one-hot product
    when the table is small).
    """
    if idx.size == 0:  # (before the reshape: an empty g cannot infer its -1)
        return np.zeros((num_rows,) + g.shape[idx.ndim:], g.dtype)
    idx = idx.reshape(-1)
    g2 = g.reshape(idx.shape[0], -1)
    out = np.zeros((num_rows, g2.shape[1]), g.dtype)
    if num_rows * idx.size <= (1 << 20) and g.dtype.kind == "f":
        onehot = np.zeros((idx.size, num_rows), g.dtype)
        onehot[np.arange(idx.size), idx] = 1
        np.matmul(onehot.T, g2, out=out)
    else:
        order = np.argsort(idx, kind="stable")
        sidx = idx[order]
        starts = np.flatnonzero(np.r_[True, sidx[1:] != sidx[:-1]])
        out[sidx[starts]] = np.add.reduceat(g2[order], starts, axis=0)
    return out


class GetItem(Op):
    """z = x[index]; the gradient is scattered back (duplicate indices accumulate)"""

    _backward_name = "IndexBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, index, node_name=None):
        try:
            view, idx = _target(x, index)
            if _is_basic(idx):
                idx = idx if type(idx) is tuple else (idx,)
                if Ellipsis not in idx:
                    idx = idx + (Ellipsis,)  # all-int indices then give a 0-d view, not a copy
            out = _im.read(view, idx, x, index)
        except IndexError as e:
            raise _index_error(e, x.shape, index) from None
        ctx.x_shape, ctx.x_dtype, ctx.index = x.shape, x.dtype, index
        if node_name or _is_basic(index):
            ctx.show_as(node_name or _im._basic_index_node_name(index, x.shape))
        return out if isinstance(out, np.ndarray) else np.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        index = ctx.index
        if _is_basic(index):
            out = np.zeros(ctx.x_shape, grad.dtype)
            out[index] = grad
            return out
        if isinstance(index, np.ndarray) and index.dtype.kind in "iu" and len(ctx.x_shape):
            rows = accumulate_rows(ctx.x_shape[0], index, grad)
            return rows.reshape(ctx.x_shape)
        out = np.zeros(ctx.x_shape, grad.dtype)
        if grad.size:  # (an empty result may hold indices out of range)
            np.add.at(*_target(out, index), grad)
        return out


class IndexPut(Op):
    """z = x with z[index] = v; gradient to x outside index, to v (summed) from inside"""

    @staticmethod
    def forward(ctx, x, v, *, index, accumulate=False):
        out = x.copy()
        try:
            assign(out, index, v, accumulate)
        except IndexError as e:
            raise _index_error(e, x.shape, index) from None
        if ctx.needs_input_grad:  # recorded: index arrays may be the user's tensors' memory,
            index = _im.owned(index)  # changed in place before backward; keep them as they were
        ctx.index, ctx.v_shape, ctx.accumulate = index, np.shape(v), accumulate
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = grad.copy()
            if not ctx.accumulate:
                assign(gx, ctx.index, 0)
        if ctx.needs_input_grad[1]:
            view, idx = _target(grad, ctx.index)
            gv = sum_to_shape(_im._read(view, idx), ctx.v_shape)
        return gx, gv


class Gather(Op):
    """z[i][j] = x[i][index[i][j]] (for dim=1)"""

    @staticmethod
    def forward(ctx, x, index, *, dim):
        ctx.save_for_backward(index)
        ctx.x_shape, ctx.axis = x.shape, dim
        return np.take_along_axis(_narrow_to(x, index.shape, dim), index, dim)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        out = np.zeros(ctx.x_shape, grad.dtype)
        _scatter_add_into(out, ctx.axis, index, grad)
        return out, None


def _narrow_to(a, index_shape, axis):
    """``a`` cut to ``index_shape`` in every dim but ``axis`` (torch lets index be smaller)."""
    if all(s == n for d, (s, n) in enumerate(zip(index_shape, a.shape)) if d != axis):
        return a
    return a[tuple(slice(None) if d == axis else slice(0, s) for d, s in enumerate(index_shape))]


def _into_shape(part, shape):
    """``part`` written into the leading corner of a zero array of ``shape``."""
    if part.shape == shape:
        return part
    out = np.zeros(shape, part.dtype)
    out[tuple(slice(0, s) for s in part.shape)] = part
    return out


def _scatter_add_into(out, axis, index, src, wide=True):
    """``out[..., index, ...] += src`` along ``axis``; ``wide``: float16 summed in float32
    and rounded once, as torch's scatter_add (not its slice-by-slice ``index_add``)."""
    idx = list(np.indices(index.shape, sparse=True))
    idx[axis] = index
    part = src[tuple(slice(0, s) for s in index.shape)]
    if wide and out.dtype == np.float16:
        acc = out.astype(np.float32)
        np.add.at(acc, tuple(idx), part)
        out[...] = acc
        return
    np.add.at(out, tuple(idx), part)


class ScatterAdd(Op):
    """z = x with src added at ``index`` along ``dim``"""

    @staticmethod
    def forward(ctx, x, index, src, *, dim, wide=True, name=None):
        out = x.copy()
        _scatter_add_into(out, dim, index, src, wide)
        if name:  # index_add: torch's IndexAddBackward0
            ctx.show_as(name)
        ctx.save_for_backward(index)
        ctx.axis, ctx.src_shape = dim, src.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        gsrc = None
        if ctx.needs_input_grad[2]:
            part = np.take_along_axis(_narrow_to(grad, index.shape, ctx.axis), index, ctx.axis)
            gsrc = _into_shape(part, ctx.src_shape)
        return grad if ctx.needs_input_grad[0] else None, None, gsrc


class Scatter(Op):
    """z = x with src written at ``index`` along ``dim``"""

    @staticmethod
    def forward(ctx, x, index, src, *, dim, multiply=False, name=None):
        out = x.copy()
        if name:  # a value: torch's ScatterBackward1
            ctx.show_as(name)
        if np.ndim(src) == 0:
            src = np.broadcast_to(np.asarray(src, x.dtype), index.shape)
        part = src[tuple(slice(0, s) for s in index.shape)]
        if multiply:  # reduce="multiply": every write multiplies in
            idx = list(np.indices(index.shape, sparse=True))
            idx[dim] = index
            np.multiply.at(out, tuple(idx), part)
        else:
            np.put_along_axis(_narrow_to(out, index.shape, dim), index, part, dim)
        ctx.save_for_backward(index)
        ctx.axis, ctx.src_shape, ctx.multiply = dim, np.shape(src), multiply
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.multiply:
            raise RuntimeError("derivative for aten::scatter is not implemented")
        (index,) = ctx.saved_tensors
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            gx = grad.copy()
            np.put_along_axis(_narrow_to(gx, index.shape, ctx.axis), index, 0, ctx.axis)
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            part = np.take_along_axis(_narrow_to(grad, index.shape, ctx.axis), index, ctx.axis)
            gsrc = _into_shape(part, ctx.src_shape)
        return gx, None, gsrc


class IndexSelect(Op):
    """z = x[..., index, ...] along ``dim``"""

    @staticmethod
    def forward(ctx, x, index, *, dim):
        ctx.save_for_backward(index)
        ctx.x_shape, ctx.axis = x.shape, dim
        return np.take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        g = np.moveaxis(grad, ctx.axis, 0)
        rows = accumulate_rows(ctx.x_shape[ctx.axis], index, g)
        shape = (ctx.x_shape[ctx.axis],) + g.shape[1:]
        return np.moveaxis(rows.reshape(shape), 0, ctx.axis), None


class MaskedFill(Op):
    """z = x with ``value`` where mask is True"""

    @staticmethod
    def forward(ctx, x, mask, value, *, node_name=None):
        ctx.save_for_backward(mask)
        ctx.x_shape, ctx.value_shape = x.shape, np.shape(value)
        if node_name is not None:
            ctx.show_as(node_name)  # a tensor value: torch's MaskedFillBackward1
        return np.where(mask, np.asarray(value, x.dtype), x)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        gx = sum_to_shape(np.where(mask, 0, grad), ctx.x_shape) if ctx.needs_input_grad[0] \
            else None
        gv = None
        if ctx.needs_input_grad[2]:
            gv = np.asarray(np.where(mask, grad, 0).sum(), grad.dtype).reshape(ctx.value_shape)
        return gx, None, gv


# --- wrappers ---------------------------------------------------------------------------
def getitem(input, index, node_name=None):
    """``input[index]`` with ints, slices, None, Ellipsis, integer tensors and bool masks
    (``node_name``: the recorded node's, for ops built on a subscript)."""
    if not input._rg and (type(index) is slice or type(index) is int):
        # fast path for x[i] and x[a:b] (the DataLoader's per-sample reads)
        arr = input._data
        try:
            out = arr[index, ...] if type(index) is int else arr[index]  # ``...``: a 0-d view
        except IndexError as e:
            raise _index_error(e, arr.shape, index) from None
        t = _wrap(out if type(out) is np.ndarray else np.asarray(out))
        _mark_view(t, input)
        return t
    index = normalize_index(index, input)
    if not input._rg:
        try:
            view, idx = _target(input._data, index)
            if _is_basic(idx):  # (an int too: x[tensor(1)] is a select in torch, a view)
                idx = idx if type(idx) is tuple else (idx,)
                if Ellipsis not in idx:
                    idx = idx + (Ellipsis,)  # all-int indices then give a 0-d view, not a copy
            out = _im.read(view, idx, input._data, index)
        except IndexError as e:
            raise _index_error(e, input._data.shape, index) from None
        t = _wrap(out if isinstance(out, np.ndarray) else np.asarray(out))
        if _is_basic(index) and isinstance(out, np.ndarray):
            _mark_view(t, input)
        return t
    if _chain.is_chain(index, input._data.shape):  # (torch: one node per view op)
        return _chain.record(input, index, getitem)
    out = GetItem.apply(input, index=index, node_name=node_name)
    if _is_basic(index):
        _mark_view(out, input)
    return out


def index_put(input, index, values, accumulate=False):
    """A copy of ``input`` with ``input[index] = values`` (summed when ``accumulate``)."""
    if not isinstance(values, Tensor):
        values = _wrap(np.asarray(values, input._data.dtype))
    if isinstance(index, tuple) and len(index) and all(isinstance(i, Tensor) for i in index):
        index = normalize_index(index)
    if values._data.dtype != input._data.dtype and _im.check_put_dtype(
            input._data, index, values, accumulate):
        values = values.to(input.dtype)
    return IndexPut.apply(input, values, index=index, accumulate=accumulate)


def _check_index(index, name, input, dim, src=None):
    """gather/scatter's checks, in torch's words: dtype, rank, sizes and bounds (no negative
    indices). Returns ``(index array, wrapped dim)``."""
    if not isinstance(index, Tensor) or (index._data.dtype not in (np.int32, np.int64)
                                         and index._data.size):  # empty: any dtype, as torch
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    x, idx = input._data, index._data.astype(np.int64, copy=False)
    d = wrap_dim(dim, x.ndim)
    if isinstance(src, Tensor) and src._data.dtype != x.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if max(idx.ndim, 1) != max(x.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    ishape, xshape = idx.shape or (1,), x.shape or (1,)
    if name != "gather":
        _check_scatter_sizes(idx, x, d, src._data if isinstance(src, Tensor) else None, dim)
    for k, (a, b) in enumerate(zip(ishape, xshape)):
        if k != d and a > b:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(x.shape)} "
                               f"apart from dimension {d}")
    bad = (idx < 0) | (idx >= xshape[d])
    if bad.any():
        raise RuntimeError(f"index {int(idx[bad].flat[0])} is out of bounds for dimension {d} "
                           f"with size {xshape[d]}")
    return idx, d


def _check_scatter_sizes(idx, x, d, src, dim):
    """torch's scatter shape check: the index no larger than self (apart from ``dim``) nor
    than ``src``, which has the index's rank."""
    if not idx.ndim:
        return
    if src is not None:
        if src.ndim:
            wrap_dim(dim, src.ndim)  # torch reads src's size at dim first
        if max(src.ndim, 1) != idx.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src "
                               "tensor")
    too_big = any(a > b for k, (a, b) in enumerate(zip(idx.shape, x.shape or (1,))) if k != d)
    if src is not None and (too_big or any(a > b for a, b in zip(idx.shape, src.shape or (1,)))):
        raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                           f"{list(x.shape)} apart from dimension {d} and to be no larger size "
                           f"than src {list(src.shape)}")
    if too_big:
        raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                           f"{list(x.shape)} apart from dimension {d}")


def gather(input, dim, index, *, sparse_grad=False):
    """Values of ``input`` at ``index`` along ``dim``."""
    idx, d = _check_index(index, "gather", input, dim)
    if not input._data.ndim:
        return Gather.apply(input.reshape(1), idx.reshape(1).astype(np.int64), dim=0).reshape(
            idx.shape)
    if not idx.ndim:  # a 0-d index into a vector picks one value, 0-d as the index (as torch)
        return Gather.apply(input, idx.reshape(1).astype(np.int64), dim=d).reshape(())
    return Gather.apply(input, idx.astype(np.int64, copy=False), dim=d)


def scatter_add(input, dim, index, src):
    """``input`` with ``src`` added at ``index`` along ``dim``."""
    idx, d = _check_index(index, "scatter", input, dim, src)
    if not input._data.ndim:  # 0-d: as a one-element vector, back to 0-d
        one = src.reshape(1) if not src._data.ndim else src
        return scatter_add(input.reshape(1), 0, index.reshape(1), one).reshape(())
    if not idx.ndim:  # a 0-d index into a vector: as a one-element index (and src)
        return scatter_add(input, d, index.reshape(1), src.reshape(-1))
    return ScatterAdd.apply(input, idx.astype(np.int64, copy=False), src, dim=d)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``; ``reduce``:
    "add" or "multiply" combine with what is there instead."""
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if reduce is not None and isinstance(src, Tensor):
        _im.warn_scatter_reduce()
    s = src if src is not None else value
    idx, d = _check_index(index, "scatter", input, dim, s)
    if not input._data.ndim:  # 0-d: as a one-element vector, back to 0-d
        one = s.reshape(1) if isinstance(s, Tensor) and not s._data.ndim else s
        return scatter(input.reshape(1), 0, index.reshape(1), one, reduce=reduce).reshape(())
    if not idx.ndim:  # a 0-d index into a vector: as a one-element index (and src)
        one = s.reshape(-1) if isinstance(s, Tensor) else s
        return scatter(input, d, index.reshape(1), one, reduce=reduce)
    if not isinstance(s, Tensor):
        from .._creation import checked_value

        s = checked_value(s, input._data.dtype)
        if reduce == "add":
            s = _wrap(np.broadcast_to(s, idx.shape).copy())
    if reduce == "add":
        return scatter_add(input, dim, index, s)
    return Scatter.apply(input, idx.astype(np.int64, copy=False), s, dim=d,
                         multiply=reduce == "multiply", name=None if src is not None or reduce
                         else "ScatterBackward1")


def index_select(input, dim, index):
    """Rows (along ``dim``) picked by a 1-D integer ``index``."""
    if type(input._data) is not np.ndarray and type(input) is not Tensor:  # sparse
        return input.index_select(dim, index)
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    idx = index._data.reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        if d == 1:  # torch's kernel for dim 1 words it so
            raise RuntimeError(f"INDICES element is out of DATA bounds, id="
                               f"{int(idx[(idx < 0) | (idx >= n)][0])} axis_dim={n}")
        raise IndexError("index out of range in self")
    if not input._data.ndim:  # a 0-d input takes one index and stays 0-d (as torch)
        if idx.size != 1:
            raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                               f"{idx.size} value(s)")
        return IndexSelect.apply(input.reshape(1), idx, dim=0).reshape(())
    return IndexSelect.apply(input, idx, dim=d)




def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` is True (mask broadcasts)."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_dtype.c_type_name(m.dtype)}")  # the mask's C++ type
    try:
        np.broadcast_shapes(m.shape, input._data.shape)
    except ValueError:
        check_broadcast(m.shape, input._data.shape)  # torch's error (the mask is tensor a)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        if value._data.dtype != input._data.dtype:
            value = value.to(input.dtype)
    else:
        from .._creation import checked_value

        value = checked_value(value, input._data.dtype)  # torch's overflow error
        return MaskedFill.apply(input, m, value)
    return MaskedFill.apply(input, m, value, node_name="MaskedFillBackward1")


def masked_select(input, mask):
    """1-D tensor of the elements where ``mask`` is True."""
    _arg_errors.check_tensors("masked_select", input=input, mask=mask)
    m = mask._data
    if m.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    m = np.broadcast_to(m, check_broadcast(m.shape, input._data.shape))
    x = input.expand(m.shape) if input.shape != m.shape else input
    return GetItem.apply(x, index=normalize_index(m), node_name="MaskedSelectBackward0")


# the slicing wrappers live in slicing.py, one_hot and nonzero in index_misc.py (for length);
# ember.ops imports them from here
from .index_misc import nonzero, one_hot  # noqa: E402,F401
from .slicing import index_add, narrow, select, take_along_dim  # noqa: E402,F401
