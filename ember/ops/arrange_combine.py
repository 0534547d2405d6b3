"""Arranging several tensors together: broadcast_tensors, meshgrid, cartesian_prod,
combinations, the atleast_* and *stack helpers, vander, kron and tensordot.

Each is a composition of existing ops, in the order torch composes them, so that gradients
and (mostly) the recorded node names follow torch's. Exported through ``arrange.py``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _arg_errors, _dtype
from .._tensor import Tensor, _wrap
from ._shape_utils import check_broadcast, wrap_dim
from .shape import Reshape, cat, expand, flip, permute, reshape, stack, unsqueeze


def _tensor_list(tensors):
    """Varargs or one list/tuple of tensors, as a list."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    _arg_errors.check_tensor_list(tensors)
    return list(tensors)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views; unchanged ones as they are).

    Raises:
        RuntimeError: shapes that do not broadcast.
    """
    tensors = _tensor_list(tensors)
    shape = ()
    for t in tensors:
        shape = check_broadcast(shape, t._data.shape)
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


def _atleast(tensors, one):
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return one(tensors[0])
    return tuple(one(t) for t in _tensor_list(tensors))


def _at_least_2d(t):
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, 1, 1)
    return unsqueeze(t, 0) if nd == 1 else t


def _at_least_3d(t):
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, 1, 1, 1)
    if nd == 1:
        return unsqueeze(unsqueeze(t, 0), -1)
    return unsqueeze(t, -1) if nd == 2 else t


def atleast_2d(*tensors):
    """Each tensor with at least two dims (a 1-D ``(n,)`` becomes ``(1, n)``); a view or the
    tensor itself. Several tensors (or one list) give a tuple."""
    return _atleast(tensors, _at_least_2d)


def atleast_3d(*tensors):
    """Each tensor with at least three dims (``(n,)`` -> ``(1, n, 1)``, ``(m, n)`` ->
    ``(m, n, 1)``); a view or the tensor itself. Several tensors (or one list) give a tuple."""
    return _atleast(tensors, _at_least_3d)


def _non_empty(tensors, name):
    if isinstance(tensors, Tensor):
        raise _arg_errors.must_be(name, "tensors", 1, "tuple of Tensors", tensors)
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


def column_stack(tensors):
    """Join along dim 1, 0-D and 1-D tensors taken as columns."""
    tensors = _non_empty(tensors, "column_stack")
    cols = [reshape(t, t._data.size, 1) if t._data.ndim <= 1 else t for t in tensors]
    return cat(cols, 1)


def dstack(tensors):
    """Join along dim 2 (depth), after ``atleast_3d``."""
    tensors = _non_empty(tensors, "dstack")
    return cat([_at_least_3d(t) for t in tensors], 2)


def row_stack(tensors):
    """Join along dim 0 (rows), after ``atleast_2d``; torch's alias of ``vstack``."""
    if isinstance(tensors, Tensor):
        raise _arg_errors.must_be("row_stack", "tensors", 1, "tuple of Tensors", tensors)
    tensors = _non_empty(tensors, "vstack")
    return cat([_at_least_2d(t) for t in tensors], 0)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids: output ``i`` is input ``i`` expanded along every other input's dim.

    Args:
        tensors: 0-D or 1-D tensors of one dtype, as varargs or one list.
        indexing: ``"ij"`` (matrix, the default, with torch's warning when not given) or
            ``"xy"`` (Cartesian: the first two dims swapped).

    Returns:
        a tuple of views (expanded), one per input.

    Raises:
        RuntimeError: no tensors, mixed dtypes, an input with more than one dim, or another
            ``indexing``.
    """
    tensors = _tensor_list(tensors)
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    for t in tensors[1:]:
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        tensors[0], tensors[1] = tensors[1], tensors[0]
    shape = tuple(t._data.size for t in tensors)
    k = len(tensors)
    grids = [expand(reshape(t, *((1,) * i + (-1,) + (1,) * (k - i - 1))), shape)
             for i, t in enumerate(tensors)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _check_1d(t):
    if t._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")


def cartesian_prod(*tensors):
    """All tuples of one element from each 1-D tensor, as rows (one input: returned as is).

    Raises:
        RuntimeError: an input that is not 1-D, or none at all.
    """
    tensors = _tensor_list(tensors)
    for t in tensors:
        _check_1d(t)
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(tensors, indexing="ij")
    return stack([g.flatten() for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of a 1-D tensor's elements (as ``itertools.combinations``,
    or ``combinations_with_replacement``), as rows.

    Raises:
        RuntimeError: an input that is not 1-D, or a negative ``r``.
    """
    _check_1d(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _wrap(np.empty((0,), input._data.dtype))
    from .indexing import masked_select

    n = input._data.shape[0]
    idx = np.indices((n,) * r)  # torch: a mask over the meshgrid of r copies, then select
    mask = np.ones((n,) * r, bool)
    for a, b in zip(idx[:-1], idx[1:]):
        mask &= (a <= b) if with_replacement else (a < b)
    grids = meshgrid([input] * r, indexing="ij")
    return stack([masked_select(g, _wrap(mask)) for g in grids], 1)


def vander(x, N=None, increasing=False):
    """Vandermonde matrix: column ``j`` is ``x ** (N - 1 - j)`` (``x ** j`` if ``increasing``);
    integer and bool inputs give int64.

    Raises:
        RuntimeError: ``x`` is not 1-D, or ``N`` is negative.
    """
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._data.shape[0]
    if N is None:
        N = n
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    from .._creation import ones
    from .cumulative import cumprod

    dt = _dtype.promote_types(x.dtype, _dtype.int64)
    result = ones(n, N, dtype=dt)
    if N > 1:
        # torch fills columns 1.. with x, then cumprods them in place (a CopySlices node)
        xs = x.to(dt) if x.dtype != dt else x
        result[:, 1:] = cumprod(expand(unsqueeze(xs, 1), n, N - 1), 1)
    return result if increasing else flip(result, (1,))


def kron(input, other):
    """Kronecker product: every element of ``input`` times a block equal to ``other``."""
    from .elementwise import mul

    _arg_errors.check_tensors("kron", input=input, other=other)
    a, b = input._data, other._data
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    prod = mul(reshape(input, [v for s in sa for v in (s, 1)]),
               reshape(other, [v for s in sb for v in (1, s)]))
    return Reshape.apply(prod, shape=tuple(p * q for p, q in zip(sa, sb)),
                         node_name="UnsafeViewBackward0")


def _dim_list(d, position=0):
    if isinstance(d, Tensor):
        d = d.tolist()
    if isinstance(d, (int, np.integer)):  # torch's argument parser wants a list here
        name = "dims_other" if position else "dims_self"
        raise TypeError(f"tensordot(): argument '{name}' (position {3 + position}) must be tuple "
                        f"of ints, not int")
    return [int(v) for v in d]


def tensordot(a, b, dims=2, out=None):
    """Sum of products over ``dims`` of ``a`` and ``b``.

    Args:
        a, b: tensors of one dtype.
        dims: an int ``k`` (the last ``k`` dims of ``a`` against the first ``k`` of ``b``), or
            a pair of dim lists (``([1, 2], [0, 1])``).

    Returns:
        ``a``'s free dims followed by ``b``'s.

    Raises:
        RuntimeError: mismatched sizes or dtypes, bad ``dims``.
    """
    if not isinstance(dims, (tuple, list, Tensor, int, np.integer)):
        raise RuntimeError(f"tensordot expects dims to be int or tuple[list[int], list[int]] or "
                           f"list[list[int]] containing two lists, but got dims={dims}")
    if isinstance(dims, Tensor):
        if dims._data.size > 1:
            dims_a, dims_b = _dim_list(dims[0]), _dim_list(dims[1])
        else:
            k = int(dims.item())
            if k < 0:
                raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
            dims_a, dims_b = list(range(-k, 0)), list(range(k))
    elif isinstance(dims, (int, np.integer)):
        dims = int(dims)
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a._data.ndim, b._data.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(-dims, 0)), list(range(dims))
    else:
        dims_a, dims_b = (_dim_list(d, i) for i, d in enumerate(dims))
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    na, nb = a._data.ndim, b._data.ndim
    wa, wb = [wrap_dim(d, na) for d in dims_a], [wrap_dim(d, nb) for d in dims_b]
    for w in (wa, wb):
        if len(set(w)) != len(w):
            dup = next(d for d in w if w.count(d) > 1)
            raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    for da, db, ia, ib in zip(dims_a, dims_b, wa, wb):
        sa, sb = a._data.shape[ia], b._data.shape[ib]
        if sb == 1 and sa != 1:  # a broadcast dim is summed right away, as torch does
            a = a.sum(ia, keepdim=True)
        elif sa == 1 and sb != 1:
            b = b.sum(ib, keepdim=True)
        elif sa != sb:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa} in "
                               f"dim {da} and second has size {sb} in dim {db}")
    from .linalg import mm

    free_a = [d for d in range(na) if d not in wa]
    free_b = [d for d in range(nb) if d not in wb]
    size_a = [a._data.shape[d] for d in free_a]
    size_b = [b._data.shape[d] for d in free_b]
    inner = math.prod(a._data.shape[d] for d in wa)
    ma = reshape(permute(a, free_a + wa), math.prod(size_a), inner)
    mb = reshape(permute(b, wb + free_b), inner, math.prod(size_b))
    prod = mm(ma, mb)
    r = reshape(prod, tuple(size_a + size_b))
    if out is not None:
        from .._compat import _write_out

        return _write_out("tensordot", r, out, (a, b))
    return r
