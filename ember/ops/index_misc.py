"""``one_hot`` and ``nonzero``: index tensors built from values (no gradient); and the
subscript helpers of indexing.py: torch's node names and messages for ``x[index]``
(``index_error``), reads that let an index out of range into an empty result, and
index_put's value checks (shape, then dtype)."""
from __future__ import annotations

import re
import warnings

import numpy as np

from .._tensor import Tensor, _wrap
from ._index_layout import laid_out
from ._shape_utils import type_name


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last dim of size ``num_classes``."""
    if not isinstance(tensor, Tensor) or tensor._data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    idx = tensor._data
    if idx.size and idx.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if not idx.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    elif idx.size and idx.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(idx.shape + (num_classes,), np.int64)
    np.put_along_axis(out, idx[..., None], 1, -1)
    return _wrap(out)


def nonzero(input, *, as_tuple=False):
    """Indices of non-zero elements: an (n, ndim) int64 tensor, or a tuple of 1-D ones."""
    if not input._data.ndim:  # a 0-d input: one element, no dims (as_tuple: one dim)
        n = int(bool(input._data))
        return (_wrap(np.zeros(n, np.int64)),) if as_tuple else _wrap(np.zeros((n, 0), np.int64))
    nz = np.nonzero(input._data)
    if as_tuple:
        return tuple(_wrap(a.astype(np.int64)) for a in nz)
    return _wrap(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64))


_FULL = slice(None)


def _basic_index_node_name(index, shape):
    """torch's node name for ``x[index]`` without tensors (``x`` of ``shape``): the view op
    it applies last. In a tuple, torch skips a slice that keeps a whole dim (start 0, step
    1, stop at or past the end); when nothing is left, the result is an alias of ``x``."""
    if not isinstance(index, tuple):
        if isinstance(index, slice):
            return "SliceBackward0"  # x[:] too
        index = (index,)
    name, dim = "AliasBackward0", 0
    for i in index:
        if i is None:
            name = "UnsqueezeBackward0"
        elif i is Ellipsis:
            dim += len(shape) - sum(j is not None and j is not Ellipsis for j in index)
            continue
        elif not isinstance(i, slice):
            name = "SelectBackward0"
        elif i.start not in (None, 0) or i.step not in (None, 1) or (
                i.stop is not None and i.stop < shape[dim]):
            name = "SliceBackward0"
        dim += i is not None
    return name


# --- torch's words for a failed subscript ----------------------------------------------
def index_error(e, shape, index=()):
    """NumPy's IndexError for ``x[index]`` (``x`` of ``shape``) reworded as torch's."""
    msg = str(e)
    if "out of bounds" in msg:
        msg = _out_of_bounds(index, shape) or msg.replace("axis", "dimension")
    elif "boolean index did not match" in msg:
        msg = _mask_mismatch(*_after_basic(index, shape)) or msg
    elif msg.startswith("shape mismatch: indexing arrays"):
        shapes = ", ".join(str([int(n) for n in s.split(",") if n])
                           for s in re.findall(r"\(([\d,]*)\)", msg))
        msg = f"shape mismatch: indexing tensors could not be broadcast together with shapes " \
              f"{shapes}"
    elif msg.startswith("too many indices"):
        msg = _zero_dim_message(index) if not shape else None
        msg = msg or f"too many indices for tensor of dimension {len(shape)}"
    return IndexError(msg)


def _zero_dim_message(index):
    """torch's words for one bare int or slice into a 0-d tensor (``loss.data[0]``)."""
    if isinstance(index, slice):
        return "slice() cannot be applied to a 0-dim tensor."
    if isinstance(index, (int, np.integer)) and not isinstance(index, (bool, np.bool_)):
        if index:
            return f"index {index} is out of bounds for dimension 0 with size 0"
        return ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    return None


def _is_bool(i):
    return isinstance(i, (bool, np.bool_))


def _width(i):
    """How many dims of the indexed tensor ``i`` uses up."""
    if isinstance(i, np.ndarray) and i.dtype == np.bool_:
        return i.ndim
    return 0 if i is None or i is Ellipsis or _is_bool(i) else 1


def split_index(index, ndim):
    """``(basic, rest)``: torch's ``applySlicing`` part of ``index`` (ints, slices, None,
    bools as new dims) and the tensor indices left for the dims of its result."""
    items = index if isinstance(index, tuple) else (index,)
    basic, rest = [], []
    for i in items:
        if isinstance(i, np.ndarray):
            basic += [slice(None)] * _width(i)
            rest.append(i)
        elif _is_bool(i):
            basic.append(None)
            rest.append(np.zeros(int(i), np.intp))
        elif i is None or isinstance(i, slice):
            basic.append(i)
            rest.append(slice(None))
        elif i is Ellipsis:
            basic.append(i)
            rest += [slice(None)] * (ndim - sum(_width(j) for j in items))
        else:
            basic.append(i)
    return tuple(basic), tuple(rest)


def _after_basic(index, shape):
    """``(shape, index)`` once torch has applied the ints, slices, None and bools (its
    ``applySlicing``): what its mask check sees. The tensors keep their places."""
    basic, rest = split_index(index, len(shape))
    try:
        return np.broadcast_to(np.zeros((), np.int8), shape)[basic].shape, rest
    except IndexError:
        return shape, index if isinstance(index, tuple) else (index,)


def _mask_mismatch(shape, index):
    """torch's message for the first bool mask whose shape does not fit the dims it covers."""
    items = index if isinstance(index, tuple) else (index,)
    pos = 0
    for i in items:
        w = _width(i)
        if i is Ellipsis:
            pos += len(shape) - sum(_width(j) for j in items)
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
            for j, (a, b) in enumerate(zip(i.shape, shape[pos:pos + w])):
                if a != b:
                    return (f"The shape of the mask {list(i.shape)} at index {j} does not match "
                            f"the shape of the indexed tensor {list(shape)} at index {pos + j}")
        pos += w
    return None


def _out_of_bounds(index, shape):
    """torch's message for the index out of range it meets first: an int (a select, named
    by its place in the index), else an index tensor's value (named by the tensor's place
    among the index tensors), the first in the broadcast order."""
    items = index if isinstance(index, tuple) else (index,)
    used = sum(_width(i) for i in items)
    dim, tensors = 0, []
    for pos, i in enumerate(items):
        w = _width(i)
        if i is Ellipsis:
            dim += len(shape) - used
        elif _is_bool(i) or (isinstance(i, np.ndarray) and i.dtype == np.bool_):
            tensors += [None] * max(w, 1)
        elif isinstance(i, np.ndarray):
            tensors.append((i, shape[dim]) if dim < len(shape) else None)
        elif isinstance(i, (int, np.integer)) and dim < len(shape) and not (
                -shape[dim] <= i < shape[dim]):
            return f"index {i} is out of bounds for dimension {pos} with size {shape[dim]}"
        dim += w
    found = [(k, t[0], t[1]) for k, t in enumerate(tensors) if t is not None]
    try:
        arrays = np.broadcast_arrays(*[a for _, a, _ in found])
    except ValueError:
        return None
    bad = [((a < -n) | (a >= n)).reshape(-1) for a, (_, _, n) in zip(arrays, found)]
    if not bad or not np.any(bad):
        return None
    col = int(np.flatnonzero(np.any(bad, axis=0))[0])
    row = next(r for r, b in enumerate(bad) if b[col])
    k, _, n = found[row]
    if not n:
        return "index is out of bounds for dimension with size 0"
    return (f"index {int(arrays[row].reshape(-1)[col])} is out of bounds for dimension {k} "
            f"with size {n}")


# --- reading and writing at an index, as torch -----------------------------------------
def owned(index):
    """``index`` with its arrays copied."""
    if isinstance(index, np.ndarray):
        return index.copy()
    if isinstance(index, tuple):
        return tuple(i.copy() if isinstance(i, np.ndarray) else i for i in index)
    return index


def read(view, idx, arr, index):
    """``view[idx]``, that is ``arr[index]`` (``indexing._target``), as torch reads it: see
    ``_read``; a result of index arrays gets torch's memory layout (``_index_layout.py``)."""
    out = _read(view, idx)
    if type(out) is np.ndarray and out.ndim > 1 and any(
            type(i) is np.ndarray for i in (idx if type(idx) is tuple else (idx,))):
        return laid_out(arr, index, out)
    return out


def _read(view, idx):
    """``view[idx]``, where an index out of range is an error only when the result has
    elements: torch checks index values as it copies them."""
    try:
        return view[idx]
    except IndexError as e:
        err = e
    try:
        out = view[_clipped(view, idx)]
    except (IndexError, ValueError):
        raise err from None
    if out.size:
        raise err
    return out


def _clipped(view, idx):
    """``idx`` with its index arrays clipped into the range of the dims they index."""
    items = idx if type(idx) is tuple else (idx,)
    used = sum(_width(i) for i in items)
    clipped, dim = [], 0
    for i in items:
        if i is Ellipsis:
            dim += view.ndim - used
        elif isinstance(i, np.ndarray) and i.dtype != np.bool_ and dim < view.ndim:
            i = np.clip(i, -view.shape[dim], max(view.shape[dim] - 1, 0))
        clipped.append(i)
        dim += _width(i)
    return tuple(clipped)


def strip_ones(shape):
    """``shape`` without its leading 1s: torch drops them from a value it writes."""
    shape = tuple(shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


def put_shape_error(value_shape, shape):
    """index_put_'s error for a value that does not broadcast to the region it fills."""
    return RuntimeError(f"shape mismatch: value tensor of shape {list(strip_ones(value_shape))} "
                        f"cannot be broadcast to indexing result of shape {list(shape)}")


def check_put_dtype(arr, index, value, accumulate=False):
    """True when a tensor ``value`` of another dtype may be written at a tensor ``index``
    of ``arr`` (converted): torch's index_put_ refuses it (after the shape check), except for
    one element under a lone bool mask, which it hands to ``masked_fill_``."""
    from .indexing import _target

    items = index if type(index) is tuple else (index,)
    tensors = [i for i in items if isinstance(i, np.ndarray) or type(i) is bool]
    if not accumulate and value._data.size == 1 and len(tensors) == 1 and type(
            tensors[0]) is not bool and tensors[0].dtype == np.bool_:
        return True
    try:
        view, idx = _target(np.broadcast_to(np.zeros((), np.int8), arr.shape), index)
        shape = view[_clipped(view, idx)].shape
    except IndexError as e:
        raise index_error(e, arr.shape, index) from None
    try:
        np.broadcast_to(np.broadcast_to(np.int8(0), strip_ones(value._data.shape)), shape)
    except ValueError:
        raise put_shape_error(value._data.shape, shape) from None
    raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                       f"{type_name(arr.dtype)} for the destination and "
                       f"{type_name(value._data.dtype)} for the source.")


_WARNED = []


def warn_scatter_reduce():
    """torch's deprecation warning for scatter's ``reduce`` with a tensor src, once a process
    (its TORCH_WARN_ONCE)."""
    if not _WARNED:
        _WARNED.append(True)
        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and "
                      "will be removed in a future PyTorch release. Use torch.scatter_reduce "
                      "instead for more reduction options.", UserWarning, stacklevel=3)
