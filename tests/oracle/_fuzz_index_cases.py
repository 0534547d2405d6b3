"""Seeded random index expressions and index-op calls for the indexing fuzzer
(``test_fuzz_indexing_oracle.py``), and the code that runs one case in ember and in torch.

An index is a list of plain descriptors (``("int", -1)``, ``("idx", array, "int32")`` ...)
built into each library's objects by ``build``, so that one draw gives the same index to
both and prints as readable Python (``show``).
"""
from __future__ import annotations

import numpy as np

import ember

WEIGHT_NOTE = "gradients are of (out * w).sum() with w = 1.5 + cos(arange(numel))"


# --- index descriptors ------------------------------------------------------------------
def build(lib, desc):
    """The index ``desc`` (a tuple of descriptors, or ``("bare", d)``) as ``lib``'s objects."""
    if desc[0] == "bare":
        return _one(lib, desc[1])
    return tuple(_one(lib, d) for d in desc)


def _one(lib, d):
    kind = d[0]
    if kind in ("int", "bool", "float"):
        return d[1]
    if kind == "slice":
        return slice(*d[1:])
    if kind == "none":
        return None
    if kind == "ell":
        return Ellipsis
    if kind == "list":
        return d[1]
    # "mask", "idx", "t0": tensors
    return lib.tensor(d[1], dtype=getattr(lib, d[2]))


def show(desc):
    """``desc`` as the Python text of the subscript."""
    if desc[0] == "bare":
        return _show_one(desc[1])
    return ", ".join(_show_one(d) for d in desc) + ("," if len(desc) == 1 else "")


def _show_one(d):
    kind = d[0]
    if kind == "slice":
        return ":".join("" if v is None else str(v) for v in d[1:])
    if kind == "none":
        return "None"
    if kind == "ell":
        return "..."
    if kind in ("mask", "idx", "t0"):
        return f"tensor({np.asarray(d[1]).tolist()}, dtype={d[2]})"
    return repr(d[1])


def _bshape(rng, shape):
    """A shape that broadcasts to ``shape``: some leading dims dropped, some set to 1."""
    s = list(shape[rng.integers(0, len(shape) + 1) if rng.random() < 0.3 else 0:])
    return tuple(1 if rng.random() < 0.25 else n for n in s)


def rand_index(rng, shape):
    """A random (mostly valid) index into a tensor of ``shape``."""
    ndim = len(shape)
    n_use = int(rng.integers(0, ndim + 1))
    ell = rng.random() < 0.25
    if not ell and n_use == 0:
        n_use = min(1, ndim)
    bshape = [(), (1,), (2,), (3,), (2, 2), (1, 3), (2, 1, 2)][rng.integers(0, 7)]
    items, pos, any_mask = [], 0, False
    while pos < n_use:
        n = shape[pos]
        r = rng.random()
        if r < 0.22:
            items.append(("int", int(rng.integers(-n, n))) if n else ("slice", None, None, None))
            pos += 1
        elif r < 0.45:
            lo, hi = -n - 2, n + 3
            start = None if rng.random() < 0.3 else int(rng.integers(lo, hi))
            stop = None if rng.random() < 0.3 else int(rng.integers(lo, hi))
            step = [None, 1, 2, 3][rng.integers(0, 4)]
            items.append(("slice", start, stop, step))
            pos += 1
        elif r < 0.58 and not any_mask:
            k = int(rng.integers(1, n_use - pos + 1))
            items.append(("mask", rng.random(shape[pos:pos + k]) < 0.5, "bool"))
            any_mask, pos = True, pos + k
        elif r < 0.85:
            s = bshape if not any_mask else [(), (1,)][rng.integers(0, 2)]
            s = _bshape(rng, s)
            vals = rng.integers(-n, n, size=s) if n else np.zeros(s, np.int64)
            if len(s) == 1 and rng.random() < 0.3:
                items.append(("list", vals.tolist()))
            elif not s and rng.random() < 0.5:
                items.append(("t0", vals, ["int64", "int32"][rng.integers(0, 2)]))
            else:
                items.append(("idx", vals, ["int64", "int32"][rng.integers(0, 2)]))
            pos += 1
        else:
            items.append(("slice", None, None, None))
            pos += 1
    if ell:
        items.insert(int(rng.integers(0, len(items) + 1)), ("ell",))
    for _ in range(int(rng.integers(0, 3)) if rng.random() < 0.3 else 0):
        extra = ("none",) if rng.random() < 0.8 else ("bool", bool(rng.random() < 0.7))
        items.insert(int(rng.integers(0, len(items) + 1)), extra)
    if len(items) == 1 and rng.random() < 0.6:
        return ("bare", items[0])
    return tuple(items)


def rand_bad_index(rng, shape):
    """An index torch refuses: out of range, wrong mask shape, too many, float, bad dtype."""
    ndim = len(shape)
    d = int(rng.integers(0, ndim)) if ndim else 0
    n = shape[d] if ndim else 0
    lead = tuple(("slice", None, None, None) for _ in range(d))
    kind = rng.integers(0, 8)
    if kind == 0 or not ndim:
        bad = n + int(rng.integers(0, 3)) if rng.random() < 0.5 else -n - 1 - int(
            rng.integers(0, 3))
        return lead + (("int", bad),)
    if kind == 1:
        vals = rng.integers(0, n + 1, size=3)
        vals[rng.integers(0, 3)] = n + int(rng.integers(0, 2)) if rng.random() < 0.5 else -n - 1
        return lead + (("idx", vals, "int64"),)
    if kind == 2:  # a mask of the wrong size
        mshape = list(shape[d:d + 1 + int(rng.integers(0, ndim - d))])
        mshape[int(rng.integers(0, len(mshape)))] += 1
        return lead + (("mask", rng.random(mshape) < 0.5, "bool"),)
    if kind == 3:  # too many indices
        return tuple(("int", 0) if k else ("slice", None, None, None) for k in range(ndim + 1))
    if kind == 4:
        return lead + (("float", 1.0 if rng.random() < 0.5 else 0.5),)
    if kind == 5:
        return lead + (("idx", np.zeros(2, np.float32), "float32"),)
    if kind == 6:
        return lead + (("idx", np.zeros(2, np.int16), "int16"),)
    return lead + (("mask", rng.random(shape[d:]) < 0.5, "bool"),
                   ("int", 0))  # a full mask and then an index too many


# --- running one case in a library ------------------------------------------------------
def err(e):
    """An exception as ``("error", type name, first line of the message)``."""
    return ("error", type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else "")


def weights(shape):
    """The fixed cotangent used for gradients: 1.5 + cos(arange(numel)) in ``shape``."""
    n = int(np.prod(shape)) if len(shape) else 1
    return (1.5 + np.cos(np.arange(n))).reshape(shape)


def as_np(t):
    """A tensor's values as a NumPy array."""
    return np.asarray(t.detach().numpy() if t.requires_grad else t.numpy())


def dtype_name(t):
    """``float32`` for both ``torch.float32`` and ``ember.float32``."""
    return str(t.dtype).split(".")[-1]


def summary(t, names=True):
    """What gets compared of an output tensor: its values, shape, dtype and grad_fn's name."""
    node = None if t.grad_fn is None or not names else type(t.grad_fn).__name__
    return ("tensor", as_np(t), tuple(t.shape), dtype_name(t), node)


def run(lib, fn, arrays, grad=(), names=True):
    """``fn(lib, *tensors)`` on tensors made from ``arrays`` (those at positions ``grad``
    require grad); returns the outputs' summaries and then the inputs' gradients of
    ``sum(out * w)``, or the error."""
    ts = [lib.tensor(a, requires_grad=k in grad) if isinstance(a, np.ndarray) else a
          for k, a in enumerate(arrays)]
    try:
        out = fn(lib, *ts)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        rec = [summary(o, names) for o in outs]
        if grad:
            loss = sum((o * lib.tensor(weights(tuple(o.shape)), dtype=o.dtype)).sum()
                       for o in outs if o.requires_grad)
            loss.backward()
            rec += [("grad", None if ts[k].grad is None else as_np(ts[k].grad)) for k in grad]
    except Exception as e:  # noqa: BLE001 - any exception is compared with torch's
        return [err(e)]
    return rec


def diff(a, b, rtol=1e-6, atol=1e-9):
    """None when the records agree, else a line saying how they differ."""
    if len(a) != len(b) or any(x[0] != y[0] for x, y in zip(a, b)):
        return f"ember {short(a)} vs torch {short(b)}"
    for x, y in zip(a, b):
        if x[0] == "error":
            if x[1:] != y[1:]:
                return f"error ember {x[1:]} vs torch {y[1:]}"
        elif x[0] == "tensor":
            if x[2:] != y[2:]:
                return f"shape/dtype ember {x[2:]} vs torch {y[2:]}"
            if not np.allclose(x[1], y[1], rtol=rtol, atol=atol, equal_nan=True):
                return f"values ember {x[1].tolist()} vs torch {y[1].tolist()}"
        elif x[0] == "grad":
            if (x[1] is None) != (y[1] is None):
                return f"grad ember {x[1]} vs torch {y[1]}"
            if x[1] is not None and (x[1].shape != y[1].shape or not np.allclose(
                    x[1], y[1], rtol=rtol, atol=atol)):
                return f"grad ember {x[1].tolist()} vs torch {y[1].tolist()}"
        elif x != y:
            return f"{x[0]} ember {x[1:]} vs torch {y[1:]}"
    return None


def short(rec):
    """A record list in a line."""
    return [r if r[0] == "error" else (r[0],) + tuple(r[2:]) for r in rec]


def compare(torch, fn, arrays, grad=(), names=True, **tol):
    """Run ``fn`` in ember and torch; None when they agree, else the difference (``names``:
    the outputs' grad_fn names too)."""
    return diff(run(ember, fn, arrays, grad, names), run(torch, fn, arrays, grad, names), **tol)


# --- index-op calls ---------------------------------------------------------------------
def _ints(rng, n, size, low=None):
    """``size`` random indices into a dim of ``n`` (duplicates; negative from ``low``)."""
    return rng.integers(-n if low is None else low, n, size=size) if n else np.zeros(size, int)


def _unique_along(rng, shape, dim, n):
    """An index of ``shape`` whose entries along ``dim`` are distinct values in [0, n)."""
    moved = list(shape)
    k = moved.pop(dim)
    rows = [rng.permutation(n)[:k] for _ in range(int(np.prod(moved)))]
    return np.moveaxis(np.array(rows, np.int64).reshape(moved + [k]), -1, dim)


def _index_shape(rng, shape, dim, unique):
    """An index shape for gather/scatter: no larger than ``shape`` apart from ``dim``."""
    out = [int(rng.integers(1, n + 1)) if n else 0 for n in shape]
    if not unique:
        out[dim] = int(rng.integers(1, 5))
    return tuple(out)


def rand_op_case(rng):
    """A random index-op call: ``(text, fn(lib, *tensors), arrays, positions needing grad)``."""
    nd = int(rng.integers(1, 4))
    shape = tuple(int(rng.integers(1, 5)) for _ in range(nd))
    x = rng.standard_normal(shape)
    dim = int(rng.integers(-nd, nd))
    d = dim % nd
    idt = [np.int64, np.int32][rng.integers(0, 2)]
    op = OPS[rng.integers(0, len(OPS))]
    text, fn, arrays, grad = op(rng, x, shape, dim, d, idt)
    ints = [k for k, a in enumerate(arrays) if a.dtype.kind == "i" and a.size]
    # an index out of range: the same error as torch's (but torch's take_along_dim with a dim
    # does not check its indices: it reads outside the input)
    if ints and rng.random() < 0.1 and "take_along_dim(x, i, " not in text:
        a = arrays[ints[rng.integers(0, len(ints))]]
        a.reshape(-1)[rng.integers(0, a.size)] = [7, -9][rng.integers(0, 2)]
        text += " (index out of range)"
    return text, fn, arrays, grad


def _gather(rng, x, shape, dim, d, idt):
    ishape = _index_shape(rng, shape, d, False)
    i = rng.integers(0, shape[d], size=ishape).astype(idt)
    return f"gather(x, {dim}, i)", lambda m, x, i: m.gather(x, dim, i), [x, i], (0,)


def _scatter(rng, x, shape, dim, d, idt):
    kind = ["src", "value", "add", "multiply", "inplace"][rng.integers(0, 5)]
    ishape = _index_shape(rng, shape, d, kind in ("src", "inplace"))
    if kind in ("src", "inplace"):
        i = _unique_along(rng, ishape, d, shape[d]).astype(idt)
    else:
        i = rng.integers(0, shape[d], size=ishape).astype(idt)
    # NOTE: torch's ScatterBackward0 fails for a src larger than the index (its gradient has
    # the index's shape), so only the reduce forms, without gradients, get a larger src
    bigger = kind in ("add", "multiply")
    src = rng.standard_normal(tuple(n + int(bigger and rng.random() < 0.5) for n in ishape))
    if kind == "src":
        return f"scatter(x, {dim}, i, src)", lambda m, x, i, s: m.scatter(x, dim, i, s), \
            [x, i, src], (0, 2)
    if kind == "inplace":
        return f"(x*1).scatter_({dim}, i, src)", lambda m, x, i, s: (x * 1).scatter_(
            dim, i, s), [x, i, src], (0, 2)
    if kind == "value":
        return f"scatter(x, {dim}, i, value=2.5)", lambda m, x, i: m.scatter(
            x, dim, i, value=2.5), [x, i], (0,)
    return f"x.scatter({dim}, i, src, reduce={kind!r})", lambda m, x, i, s: x.scatter(
        dim, i, s, reduce=kind), [x, i, src], ()


def _scatter_add(rng, x, shape, dim, d, idt):
    ishape = _index_shape(rng, shape, d, False)
    i = rng.integers(0, shape[d], size=ishape).astype(idt)
    src = rng.standard_normal(ishape)
    return f"scatter_add(x, {dim}, i, src)", lambda m, x, i, s: m.scatter_add(x, dim, i, s), \
        [x, i, src], (0, 2)


def _scatter_reduce(rng, x, shape, dim, d, idt):
    ishape = _index_shape(rng, shape, d, False)
    i = rng.integers(0, shape[d], size=ishape).astype(np.int64)
    src = rng.standard_normal(ishape)
    red = ["sum", "prod", "mean", "amax", "amin"][rng.integers(0, 5)]
    inc = bool(rng.random() < 0.5)
    return (f"scatter_reduce(x, {dim}, i, src, {red!r}, include_self={inc})",
            lambda m, x, i, s: m.scatter_reduce(x, dim, i, s, red, include_self=inc),
            [x, i, src], (0, 2))


def _index_select(rng, x, shape, dim, d, idt):
    i = _ints(rng, shape[d], int(rng.integers(0, 6)), low=0).astype(idt)
    if rng.random() < 0.2:
        i = i[:1].reshape(()) if i.size else np.array(0, idt)
    return f"index_select(x, {dim}, i)", lambda m, x, i: m.index_select(x, dim, i), [x, i], (0,)


def _index_add_copy_fill(rng, x, shape, dim, d, idt):
    kind = ["add", "copy", "fill", "fill_t"][rng.integers(0, 4)]
    if kind == "copy":
        i = rng.permutation(shape[d])[:int(rng.integers(1, shape[d] + 1))].astype(np.int64)
    else:
        # NOTE: torch's gradient of a tensor ``value`` fails on negative indices (fill_t)
        i = _ints(rng, shape[d], int(rng.integers(1, 6)), low=None if kind == "fill" else 0)
        i = i.astype(idt if kind == "add" else np.int64)
    src = rng.standard_normal(shape[:d] + (i.size,) + shape[d + 1:])
    if kind == "add":
        alpha = [1, 2, -0.5][rng.integers(0, 3)]
        return f"index_add(x, {dim}, i, src, alpha={alpha})", lambda m, x, i, s: m.index_add(
            x, dim, i, s, alpha=alpha), [x, i, src], (0, 2)
    if kind == "copy":
        return f"(x*1).index_copy_({dim}, i, src)", lambda m, x, i, s: (x * 1).index_copy_(
            dim, i, s), [x, i, src], (0, 2)
    if kind == "fill":
        return f"index_fill(x, {dim}, i, -1.5)", lambda m, x, i: m.index_fill(
            x, dim, i, -1.5), [x, i], (0,)
    return f"x.index_fill({dim}, i, v0d)", lambda m, x, i, v: x.index_fill(dim, i, v), \
        [x, i, np.array(3.0)], (0, 2)


def _index_put(rng, x, shape, dim, d, idt):
    k = int(rng.integers(1, len(shape) + 1))
    acc = bool(rng.random() < 0.6)
    bshape = [(), (1,), (2,), (3,), (2, 3)][rng.integers(0, 5)]
    if acc:
        idx = [np.asarray(_ints(rng, shape[j], bshape)).astype(idt) for j in range(k)]
    else:  # distinct positions: which write wins is undefined in torch
        n, want = int(np.prod(shape[:k])), int(np.prod(bshape, dtype=int))
        flat = rng.permutation(n)[:want]
        flat = flat.reshape(bshape) if flat.size == want else flat[:1]
        idx = [np.asarray(a).astype(idt) for a in np.unravel_index(flat, shape[:k])]
    region = np.broadcast_shapes(*[a.shape for a in idx]) + shape[k:]
    vals = rng.standard_normal(region[rng.integers(0, len(region) + 1):])
    inplace = rng.random() < 0.5

    def fn(m, x, v, *i):
        if inplace:
            return (x * 1).index_put_(tuple(i), v, accumulate=acc)
        return m.index_put(x, tuple(i), v, accumulate=acc)
    return f"index_put{'_' if inplace else ''}(x, {k} indices, v, accumulate={acc})", fn, \
        [x, vals] + idx, (0, 1)


def _masked(rng, x, shape, dim, d, idt):
    kind = ["fill", "fill_t", "scatter", "select"][rng.integers(0, 4)]
    mshape = shape[rng.integers(0, len(shape)):] if rng.random() < 0.4 else shape
    mask = rng.random(mshape) < 0.5
    if kind == "fill":
        return "masked_fill(x, mask, 0.5)", lambda m, x, k: m.masked_fill(x, k, 0.5), \
            [x, mask], (0,)
    if kind == "fill_t":
        return "x.masked_fill(mask, v0d)", lambda m, x, k, v: x.masked_fill(k, v), \
            [x, mask, np.array(-2.0)], (0, 2)
    if kind == "select":
        return "masked_select(x, mask)", lambda m, x, k: m.masked_select(x, k), [x, mask], (0,)
    src = rng.standard_normal((int(np.prod(shape)) + int(rng.integers(0, 3)),))
    src = src.reshape(-1, 1) if src.size % 1 == 0 and rng.random() < 0.3 else src
    return "masked_scatter(x, mask, src)", lambda m, x, k, s: m.masked_scatter(x, k, s), \
        [x, mask, src], (0, 2)


def _take(rng, x, shape, dim, d, idt):
    n = int(np.prod(shape))
    kind = ["take", "along", "along_none", "put", "put_acc"][rng.integers(0, 5)]
    if kind == "take":
        i = _ints(rng, n, tuple(int(rng.integers(1, 4)) for _ in range(rng.integers(0, 3))))
        return "take(x, i)", lambda m, x, i: m.take(x, i), [x, i], (0,)
    if kind == "along":
        ishape = tuple(1 if (j != d and rng.random() < 0.3) else s for j, s in enumerate(shape))
        ishape = ishape[:d] + (int(rng.integers(1, 5)),) + ishape[d + 1:]
        i = _ints(rng, shape[d], ishape, low=0)
        return f"take_along_dim(x, i, {dim})", lambda m, x, i: m.take_along_dim(x, i, dim), \
            [x, i], (0,)
    if kind == "along_none":
        i = _ints(rng, n, (int(rng.integers(1, 5)),), low=0)
        return "take_along_dim(x, i)", lambda m, x, i: m.take_along_dim(x, i), [x, i], (0,)
    acc = kind == "put_acc"
    i = _ints(rng, n, int(rng.integers(1, 6))) if acc else rng.permutation(n)[
        :int(rng.integers(1, n + 1))] - (n if rng.random() < 0.5 else 0)
    src = rng.standard_normal(i.shape)
    return f"(x*1).put_(i, src, accumulate={acc})", lambda m, x, i, s: (x * 1).put_(
        i, s, accumulate=acc), [x, i, src], (0, 2)


def _nonzero(rng, x, shape, dim, d, idt):
    a = [x > 0.3, np.round(x).astype(np.int64), (x > 0).astype(np.float32)][rng.integers(0, 3)]
    kind = ["nonzero", "tuple", "where"][rng.integers(0, 3)]
    if kind == "nonzero":
        return "nonzero(a)", lambda m, a: m.nonzero(a), [a], ()
    if kind == "tuple":
        return "nonzero(a, as_tuple=True)", lambda m, a: m.nonzero(a, as_tuple=True), [a], ()
    return "where(a)", lambda m, a: m.where(a), [a], ()


OPS = [_gather, _scatter, _scatter_add, _scatter_reduce, _index_select, _index_add_copy_fill,
       _index_put, _masked, _take, _nonzero]
