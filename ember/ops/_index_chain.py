"""``x[index]`` recorded as torch records it: one node per view op it applies.

torch reads a subscript left to right (its ``applySlicing``). Each int is a ``select``,
each slice that does not keep a whole dim is a ``slice``, and each None is an
``unsqueeze``. Each of these is a view with its own node. The index tensors come last,
as one ``index`` on the result. So ``x[1:, 2]`` is ``SelectBackward0`` after
``SliceBackward0``, and ``x[0, idx]`` is ``IndexBackward0`` after ``SelectBackward0``.
A subscript that is a single op is recorded by ``indexing.getitem`` as one node.
"""
from __future__ import annotations

import numpy as np

_FULL = slice(None)


def _keeps_whole_dim(item, size):
    """torch skips a slice in a tuple when it starts at 0 with step 1 and stops at the end
    or past it (a negative start is not normalised first)."""
    return item.start in (None, 0) and item.step in (None, 1) and (
        item.stop is None or item.stop >= size)


def _width(item):
    if isinstance(item, np.ndarray):
        return item.ndim if item.dtype == np.bool_ else 1
    return 0 if item is None or item is Ellipsis or isinstance(item, (bool, np.bool_)) else 1


def _steps(index, shape):
    """``(views, advanced)``: the view ops torch applies, as ``(dim, item, node name)`` on
    the tensor as it is at that point, and the index tensors as ``(dim, item)`` on the
    result of the views."""
    views, advanced, dim, src = [], [], 0, 0
    for item in index:
        if item is Ellipsis:
            skipped = len(shape) - sum(_width(i) for i in index)
            dim, src = dim + skipped, src + skipped
        elif item is None:
            views.append((dim, None, "UnsqueezeBackward0"))
            dim += 1
        elif isinstance(item, (bool, np.bool_)):  # a new dim, indexed by [0] (True) or []
            views.append((dim, None, "UnsqueezeBackward0"))
            advanced.append((dim, np.zeros(int(item), np.int64)))
            dim += 1
        elif isinstance(item, np.ndarray):
            advanced.append((dim, item))
            dim, src = dim + _width(item), src + _width(item)
        elif isinstance(item, slice):
            if not _keeps_whole_dim(item, shape[src]):
                views.append((dim, item, "SliceBackward0"))
            dim, src = dim + 1, src + 1
        else:
            views.append((dim, item, "SelectBackward0"))
            src += 1
    return views, advanced


def is_chain(index, shape):
    """Whether torch records ``x[index]`` (``x`` of ``shape``) as more than one node."""
    if type(index) is not tuple:
        if not isinstance(index, (bool, np.bool_)):
            return False
        index = (index,)  # a new dim, then an index: two nodes
    elif sum(item is not Ellipsis and not (type(item) is slice and item == _FULL)
             for item in index) + sum(isinstance(item, (bool, np.bool_)) for item in index) < 2:
        return False
    views, advanced = _steps(index, shape)
    return len(views) + bool(advanced) > 1


def record(input, index, getitem):
    """``input[index]`` recorded op by op (``getitem``: indexing's, for each single op)."""
    getitem(input.detach(), index)  # torch's errors, for the subscript as a whole
    index = index if type(index) is tuple else (index,)
    views, advanced = _steps(index, input._data.shape)
    out = input
    for dim, item, name in views:
        out = getitem(out, (_FULL,) * dim + (item, Ellipsis), name)
    if advanced:
        out = getitem(out, tensor_index(advanced, out._data.ndim), "IndexBackward0")
    return out



def split(index, shape):
    """``(views, advanced)``: ``x[index]`` as ``x[views]`` (the view ops, a tuple for
    ``getitem``) indexed by ``tensor_index(advanced, ndim)`` (torch's ``t[index] = v`` is
    ``index_put_`` into the view ``t[views]``)."""
    index = index if type(index) is tuple else (index,)
    views = []
    for item in index:
        if isinstance(item, np.ndarray):
            views += [_FULL] * _width(item)
        else:
            views.append(None if isinstance(item, (bool, np.bool_)) else item)
    return tuple(views), _steps(index, shape)[1]


def tensor_index(advanced, ndim):
    """The subscript of ``ndim`` dims holding the index tensors ``advanced`` at their dims."""
    rest = [_FULL] * ndim
    for dim, item in reversed(advanced):
        rest[dim:dim + _width(item)] = [item]
    return tuple(rest)
