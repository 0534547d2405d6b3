"""``matmul`` recorded node for node as torch records it (ATen's ``_matmul_impl``).

torch has no matmul node: ``matmul`` is a composite of the kernels below it, and autograd
records those. ``dot``, ``mv`` and ``mm`` (1-D @ 1-D, 2-D @ 1-D, 2-D @ 2-D) are one node
each. The other shapes decompose:

- 1-D @ 2-D: ``x.unsqueeze(0).mm(y).squeeze_(0)`` (``SqueezeBackward4``, the in-place
  squeeze).
- one operand at least 3-D and the other at most 2-D, when torch *folds* (``should_fold``):
  the larger operand ``t1`` (``y.mT`` when ``y`` is the larger) has its batch folded into its
  rows, ``t1.reshape(rows, k)``, one ``mm`` (``mv`` for a vector) by the smaller operand
  (``x.t()`` for a 2-D ``x`` when ``y`` is the larger), and an ``_unsafe_view`` back to the
  batch shape; when the roles were swapped the result is ``.mT.contiguous()``. torch folds
  when the smaller operand requires grad (so that its gradient is one ``mm``, not a batch
  summed), else when that larger operand's batch dims can be folded without a copy (and
  never for a 2-D ``x``).
- otherwise: both operands ``expand`` to the broadcast batch, ``reshape`` to
  ``(batch, n, m)`` and ``(batch, m, p)`` (a vector ``y`` to ``(batch, m)`` then
  ``unsqueeze(2)``), one ``bmm``, ``squeeze(-1)`` for a vector ``y``, and an
  ``_unsafe_view`` to the result's shape.

``reshape`` records as torch's: ``ViewBackward0`` for contiguous data,
``ReshapeAliasBackward0`` for strided data it can still view, else a copy,
``UnsafeViewBackward0`` of ``CloneBackward0``. An operand that needs no gradient records no
node on its path. Each view shares its base's version counter, so that changing an operand
in place still makes backward refuse, as torch's does.

Only the recording path comes here (grad mode on, an operand requires grad): without a
graph to record, ``matmul`` stays one NumPy call.
"""
from __future__ import annotations

import math

import numpy as np

from .._memory_format import contiguous_format
from ._shape_utils import check_broadcast
from .elementwise import Clone
from .linalg import MatMul, Mm
from .shape import Reshape, _as_view, expand, squeeze, t, transpose, unsqueeze


def should_fold(a, b, small_requires_grad):
    """torch's ``should_fold`` for operands ``a @ b`` (arrays): run one ``mm``/``mv`` on the
    larger operand's rows (its batch folded in) rather than a ``bmm``.
    ``small_requires_grad``: the smaller operand (``b`` when ranks tie) requires grad."""
    dx, dy = a.ndim, b.ndim
    x_larger = dx >= dy
    if not (max(dx, dy) >= 3 and (dy if x_larger else dx) <= 2):
        return False
    if small_requires_grad:
        return True
    if dx == 2:  # the folded product would come out transposed and need a copy
        return False
    t1 = a if x_larger else b.swapaxes(-1, -2)  # y.mT
    if t1.size == 0:
        return True
    # only then is t1.view(-1, t1.size(-1)) a view: torch's test, strides of size-1 dims
    # included (in bytes here, which changes nothing)
    shape, st = t1.shape, t1.strides
    return all(st[i] == st[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def fold_error(t1_shape, t2_shape):
    """torch's error for the folded product, or None: ``mm`` or ``mv`` on ``t1``'s rows."""
    k1, k2 = t1_shape[-1], t2_shape[0]
    if k1 == k2:
        return None
    rows = math.prod(t1_shape[:-1])
    if len(t2_shape) == 1:
        return RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k1}), vec ({k2})")
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k1} and "
                        f"{k2}x{t2_shape[1]})")


def matmul_error(x, y):
    """torch's error for ``matmul(x, y)`` on the path its shapes (and requires_grad) take,
    or None when the shapes fit; ``x`` and ``y`` are Tensors of at least one dim."""
    return _error(x._data, y._data, x._rg, y._rg)


def _error(a, b, x_rg, y_rg):
    xs, ys = a.shape, b.shape
    dx, dy = len(xs), len(ys)
    if dx <= 2 and dy <= 2:
        return None  # dot, mv, mm: matmul's own checks already speak for them
    if should_fold(a, b, y_rg if dx >= dy else x_rg):
        if dy > dx:
            return fold_error(ys[:-2] + (ys[-1], ys[-2]), xs[::-1])
        return fold_error(xs, ys)
    if dx == 3 and dy == 3 and xs[0] != ys[0]:  # see recorded_matmul
        if xs[0] == 1 and x_rg:
            return _error(a[0], b, x_rg, y_rg)
        if ys[0] == 1 and y_rg:
            return _error(a, b[0], x_rg, y_rg)
    batch = check_broadcast(xs[:max(dx - 2, 0)], ys[:max(dy - 2, 0)])
    m1, m2 = xs[-1], (ys[-2] if dy > 1 else ys[0])
    if m1 == m2:
        return None
    n = math.prod(batch)
    return RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                        f"[{n}, {m1}] but got: [{n}, {m2}].")


def matmul_kernel(x, y):
    """The product kernel torch's ``matmul(x, y)`` runs under ``FlopCounterMode``:
    ``("mm" | "bmm", a_shape, b_shape, (0,), (1,))``, or None for ``dot`` and ``mv``.

    NOTE: under a dispatch mode every tensor is "subclass-like" to torch, which then drops a
    batch of one whether or not it requires grad (see recorded_matmul)."""
    return _kernel(x._data, y._data, x._rg, y._rg, True)


def _kernel(a, b, x_rg, y_rg, subclass_like=False):
    xs, ys = a.shape, b.shape
    dx, dy = len(xs), len(ys)
    if dy == 1 and dx <= 2:
        return None
    if dx <= 2 and dy == 2:
        return "mm", (xs if dx == 2 else (1,) + xs), ys, (0,), (1,)
    if should_fold(a, b, y_rg if dx >= dy else x_rg):
        t1, t2 = (xs, ys) if dx >= dy else (ys[:-2] + (ys[-1], ys[-2]), xs[::-1])
        if len(t2) == 1:
            return None
        return "mm", (math.prod(t1[:-1]), t1[-1]), t2, (0,), (1,)
    if dx == 3 and dy == 3 and xs[0] != ys[0]:  # see recorded_matmul
        if xs[0] == 1 and (x_rg or subclass_like):
            return _kernel(a[0], b, x_rg, y_rg, subclass_like)
        if ys[0] == 1 and (y_rg or subclass_like):
            return _kernel(a, b[0], x_rg, y_rg, subclass_like)
    n = math.prod(np.broadcast_shapes(xs[:max(dx - 2, 0)], ys[:max(dy - 2, 0)]))
    m, p = (ys[-2], ys[-1]) if dy > 1 else (ys[0], 1)
    return "bmm", (n, xs[-2] if dx > 1 else 1, xs[-1]), (n, m, p), (0,), (1,)


def recorded_matmul(x, y):
    """``x @ y`` recorded as torch records it, for 1-D @ 2-D and any product with an operand
    of 3 or more dims (``x``, ``y``: Tensors of one dtype, grad mode on, one requires grad).
    """
    xs, ys = x._data.shape, y._data.shape
    dx, dy = len(xs), len(ys)
    if dx == 1 and dy == 2:
        err = fold_error((1,) + xs, ys)
        if err is not None:
            raise err
        out = Reshape.apply(Mm.apply(unsqueeze(x, 0), y), shape=ys[1:],
                            node_name="SqueezeBackward4")
        out._vc[0] = 1  # torch squeezes mm's result in place: one version on
        return out
    if should_fold(x._data, y._data, (y if dx >= dy else x)._rg):
        return _folded(x, y)
    if dx == 3 and dy == 3 and xs[0] != ys[0]:
        # a batch of one that requires grad: torch drops it and multiplies again (so that
        # its gradient is one mm rather than a bmm summed over the batch)
        if xs[0] == 1 and x._rg:
            return recorded_matmul(squeeze(x, 0), y)
        if ys[0] == 1 and y._rg:
            return recorded_matmul(x, squeeze(y, 0))
    return _batched(x, y)


def _folded(x, y):
    """One ``mm``/``mv`` over the larger operand's rows."""
    swap = y._data.ndim > x._data.ndim
    if swap:
        t1 = transpose(y, -2, -1)
        t2 = t(x) if x._data.ndim == 2 else x
    else:
        t1, t2 = x, y
    s1, s2 = t1._data.shape, t2._data.shape
    err = fold_error(s1, s2)
    if err is not None:
        raise err
    rows = s1[:-1]
    folded = torch_reshape(t1, (math.prod(rows), s1[-1]))
    if len(s2) == 1:
        return _unsafe_view(MatMul.apply(folded, t2, node_name="MvBackward0"), rows)
    out = _unsafe_view(Mm.apply(folded, t2), rows + s2[1:])
    return transpose(out, -2, -1).contiguous() if swap else out


def _batched(x, y):
    """One ``bmm`` over the broadcast batch."""
    xs, ys = x._data.shape, y._data.shape
    dx, dy = len(xs), len(ys)
    n, m1 = (xs[-2] if dx > 1 else 1), xs[-1]
    m2, p = (ys[-2], ys[-1]) if dy > 1 else (ys[0], 1)
    batch = check_broadcast(xs[:max(dx - 2, 0)], ys[:max(dy - 2, 0)])
    b = math.prod(batch)
    x3 = torch_reshape(expand(x, *batch, n, m1), (b, n, m1))
    if dy == 1:
        y3 = unsqueeze(torch_reshape(expand(y, *batch, m2), (b, m2)), 2)
    else:
        y3 = torch_reshape(expand(y, *batch, m2, p), (b, m2, p))
    if m1 != m2:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {m1}] but got: [{b}, {m2}].")
    out = MatMul.apply(x3, y3, node_name="BmmBackward0")
    if dy == 1:
        out = squeeze(out, -1)
    return _unsafe_view(out, batch + ((n,) if dx > 1 else ()) + ((p,) if dy > 1 else ()))


def torch_reshape(x, shape):
    """``x.reshape(shape)`` recorded as torch's: a view (``ViewBackward0`` when ``x`` is
    contiguous, ``ReshapeAliasBackward0`` when strided), else a contiguous copy viewed
    (``UnsafeViewBackward0`` of ``CloneBackward0``)."""
    a = x._data
    if a.flags.c_contiguous:
        return _as_view(Reshape.apply(x, shape=shape, node_name="ViewBackward0"), x)
    try:
        a.view().shape = shape
    except AttributeError:  # NumPy cannot view it with that shape: torch copies
        return _unsafe_view(Clone.apply(x, memory_format=contiguous_format), shape)
    return _as_view(Reshape.apply(x, shape=shape, node_name="ReshapeAliasBackward0"), x)


def _unsafe_view(x, shape):
    """``_unsafe_view``: a reshape of fresh contiguous data, not recorded as a view."""
    return Reshape.apply(x, shape=shape, node_name="UnsafeViewBackward0")
