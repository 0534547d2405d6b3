"""One separable resize pass along one axis, fast: ``TapPass``.

Output ``j`` of a pass is a sum over its taps ``x[index[j, k]] * weight[j, k]``, added in a
fixed order with fixed roundings (``ops``, below), so a pass built from torch's taps gives
torch's values to the bit. Speed comes from three things: the outputs are split into
groups that share their op sequence, and each group's regular run (outputs ``P`` apart
reading inputs ``q`` apart, in ``p`` phases) reads strided views instead of gathering; the
work goes in blocks of leading rows small enough that the float64 temporaries of a float32
fused multiply-add stay in cache; and passes are built once per (size, scale) and cached
by their callers.

An op is ``(k, kind)`` on the running sum ``acc`` (in the input's float type):

- ``"copy"``: ``acc = v_k`` (nearest); ``"zero"``: ``acc = 0``;
- ``"mul"``: ``acc = v_k * w_k``;
- ``"add"``: ``acc = acc + v_k * w_k``, the product rounded first;
- ``"fma"``: ``acc = v_k * w_k + acc`` with one rounding for float32 (through float64,
  where the product is exact), two for float64 (``_interpolate_taps.fma``'s rule).
"""
from __future__ import annotations

import math

import numpy as np

_F32, _F64 = np.float32, np.float64
_BLOCK = 1 << 15  # output elements per block: a few float64 buffers of it fit in L2
_MAX_PERIOD = 8


def generic_ops(k):
    """torch's separable kernels without antialias: ``v1 w1``, then ``v0 w0``, ``v2 w2``, ...
    fused onto it (one tap: ``v0 w0``)."""
    if k == 1:
        return (0, "mul"),
    return ((1, "mul"), (0, "fma")) + tuple((j, "fma") for j in range(2, k))


def plain_ops(k):
    """A sum in any order (the gradients): ``v0 w0 + v1 w1 + ...``, each step rounded."""
    return ((0, "mul"),) + tuple((j, "add") for j in range(1, k))


def _longest_run(good):
    """``(start, stop)`` of the longest run of True in ``good`` ((0, 0) if none)."""
    if not good.any():
        return 0, 0
    edges = np.diff(np.concatenate(([0], good.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    i = int(np.argmax(stops - starts))
    return int(starts[i]), int(stops[i])


def _regular(rows, index):
    """The longest regular stretch of a group: ``(lo, hi, p, P, q)`` such that for
    ``lo <= t < hi - p``, ``rows[t + p] = rows[t] + P`` and ``index[t + p] = index[t] + q``;
    None when no such stretch covers half the group."""
    m = len(rows)
    best = None
    for p in range(1, min(_MAX_PERIOD, m // 4) + 1):
        mid = (m - p) // 2
        big_p, q = rows[mid + p] - rows[mid], index[mid + p, 0] - index[mid, 0]
        if big_p < 1 or q < 1:
            continue
        good = (rows[p:] - rows[:-p] == big_p) & np.all(index[p:] - index[:-p] == q, axis=1)
        lo, hi = _longest_run(good)
        if hi > lo and (best is None or hi - lo + p > best[1] - best[0]):
            best = (lo, hi + p, p, int(big_p), int(q))
    if best is None or best[1] - best[0] < max(m // 2, 2):
        return None
    return best


class _Piece:
    """Outputs ``out_sel`` of a pass (a slice, or an index array), reading ``srcs[k]`` (a slice
    or an index array) for tap ``k``, with weights ``w[k]`` shaped to broadcast."""

    __slots__ = ("out_sel", "srcs", "w", "w64", "ops", "count")

    def __init__(self, out_sel, srcs, weights, ops, inner, dtype, count):
        self.out_sel, self.srcs, self.count = out_sel, srcs, count
        shape = (-1,) if inner == 1 else (-1, 1)
        self.w = [np.ascontiguousarray(w, dtype).reshape(shape) for w in weights]
        self.w64 = [w.astype(_F64) for w in self.w]
        # a plain sum's taps of weight 1 (nearest's gradient) need no multiply
        self.ops = tuple((k, kind + "1" if kind in ("mul", "add") and ops == plain_ops(len(ops))
                          and np.all(self.w[k] == 1) else kind) for k, kind in ops)


def _sel(start, count, step):
    return slice(int(start), int(start) + step * (count - 1) + 1, step)


class TapPass:
    """A pass of ``o`` outputs over an axis of ``n`` inputs.

    Args:
        n: input size along the axis.
        index, weight: ``(o, K)`` taps (weight None for ``copy``).
        groups: ``[(rows, ops, taps)]``: the output rows that share an op sequence and read
            their first ``taps`` taps; every output in exactly one group.
        dtype: the float type the weights are applied in.
    """

    def __init__(self, n, index, weight, groups, dtype):
        self.n, self.o, self.dtype = n, index.shape[0], np.dtype(dtype)
        self._spec = (index, weight, groups)
        self._built = {}
        kinds = {kind for _, ops, _ in groups for _, kind in ops}
        self._copies = kinds <= {"copy", "zero"}  # no temporaries: no need for blocks

    def _pieces(self, inner):
        """The pieces for rows of ``inner`` trailing elements: (regular, irregular)."""
        if inner in self._built:
            return self._built[inner]
        index, weight, groups = self._spec
        regular, irregular = [], []
        for rows, ops, k in groups:
            rows = np.asarray(rows)
            idx = index[rows, :k]
            wts = [weight[rows, j] for j in range(k)] if weight is not None else []
            found = _regular(rows, idx) if len(rows) >= 8 else None
            rest = np.ones(len(rows), bool)
            if found is not None:
                lo, hi, p, big_p, q = found
                rest[lo:hi] = False
                for r in range(p):
                    t = np.arange(lo + r, hi, p)
                    out_sel = _sel(rows[t[0]], len(t), big_p)
                    srcs = [_sel(idx[t[0], j], len(t), q) for j in range(k)]
                    regular.append(_Piece(out_sel, srcs, [w[t] for w in wts], ops, inner,
                                          self.dtype, len(t)))
            if rest.any():
                sel = rows[rest]
                out_sel = sel
                if np.all(np.diff(sel) == 1):
                    out_sel = slice(int(sel[0]), int(sel[-1]) + 1)
                irregular.append(_Piece(out_sel, [idx[rest, j] for j in range(k)],
                                        [w[rest] for w in wts], ops, inner, self.dtype,
                                        len(sel)))
        self._built[inner] = regular, irregular
        return regular, irregular

    def __call__(self, x, axis):
        """Apply the pass along ``axis`` of ``x`` (float of ``dtype``); a new array."""
        shape = x.shape
        lead, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
        xs = x.reshape((lead, self.n) if inner == 1 else (lead, self.n, inner))
        out = np.empty(xs.shape[:1] + (self.o,) + xs.shape[2:], x.dtype)
        regular, irregular = self._pieces(inner)
        with np.errstate(all="ignore"):  # inf * 0 is torch's nan too, without a warning
            self._apply(xs, out, regular, irregular, lead, inner)
        return out.reshape(shape[:axis] + (self.o,) + shape[axis + 1:])

    def _apply(self, xs, out, regular, irregular, lead, inner):
        wide = xs.dtype == _F32
        blocked = list(regular)
        for piece in irregular:  # small ones in one go
            if piece.count * inner * lead > _BLOCK and not self._copies:
                blocked.append(piece)
            else:
                _run(piece, xs, out, wide)
        if blocked:
            step = max(1, lead if self._copies else _BLOCK // (self.o * inner))
            for s in range(0, lead, step):
                for piece in blocked:
                    _run(piece, xs[s:s + step], out[s:s + step], wide)


def _read(x, src):
    return x[:, src] if isinstance(src, slice) else np.take(x, src, axis=1)


def _run(piece, x, out, wide):
    """Piece ``piece`` of the pass on the leading rows ``x`` into ``out``."""
    acc = None
    last = len(piece.ops) - 1
    direct = isinstance(piece.out_sel, slice)
    target = out[:, piece.out_sel] if direct else None
    for step, (k, kind) in enumerate(piece.ops):
        into = target if step == last and direct else None
        if kind == "zero":
            acc = np.zeros((), out.dtype)
            if into is not None:
                into[...] = acc
                return
        elif kind == "copy":
            acc = _read(x, piece.srcs[k])
            if into is not None:
                into[...] = acc
                return
        elif kind == "mul1":
            acc = _read(x, piece.srcs[k])
            if into is not None:
                into[...] = acc
                return
            acc = acc.copy()
        elif kind == "add1":
            acc = np.add(acc, _read(x, piece.srcs[k]), out=into if into is not None else acc)
        elif kind == "mul":
            acc = np.multiply(_read(x, piece.srcs[k]), piece.w[k], out=into)
        elif kind == "add":
            prod = np.multiply(_read(x, piece.srcs[k]), piece.w[k])
            acc = np.add(acc, prod, out=into if into is not None else acc)
        elif wide:
            # float32 taps times float64 weights: exact products, in float64
            prod = np.multiply(_read(x, piece.srcs[k]), piece.w64[k])
            acc = np.add(prod, acc, out=into if into is not None else acc, casting="same_kind")
        else:
            prod = np.multiply(_read(x, piece.srcs[k]), piece.w[k])
            acc = np.add(prod, acc, out=into if into is not None else prod)
    if not direct:
        out[:, piece.out_sel] = acc


def transposed(n, index, weight, dtype, count=None):
    """The pass of the transpose of the taps' ``(o, n)`` map (each input's outputs summed
    in any order): a ``TapPass`` of ``n`` outputs over ``o`` inputs. Only the first
    ``count[j]`` taps of output ``j`` count, when given (a non-finite gradient then reaches
    only the inputs torch's backward kernel multiplies it with)."""
    o, k = index.shape
    keep = np.ones((o, k), bool) if count is None else np.arange(k) < count[:, None]
    rows = index[keep]
    order = np.argsort(rows, kind="stable")
    cols = np.broadcast_to(np.arange(o)[:, None], (o, k))[keep][order]
    vals = weight[keep][order]
    rows = rows[order]
    counts = np.bincount(rows, minlength=n)
    width = max(int(counts.max()), 1)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    slot = np.arange(len(rows)) - starts[rows]
    t_index = np.zeros((n, width), np.int64)
    t_weight = np.zeros((n, width), dtype)
    t_index[rows, slot] = cols
    t_weight[rows, slot] = vals
    groups = [(np.flatnonzero(counts == c), plain_ops(c), c) for c in np.unique(counts) if c]
    empty = np.flatnonzero(counts == 0)
    if len(empty):  # inputs no output reads get a zero gradient
        groups.append((empty, ((0, "zero"),), 1))
    return TapPass(o, t_index, t_weight, groups, dtype)


def tap_pass(n, index, weight, dtype):
    """The forward pass of torch's separable kernels without antialias (``generic_ops``)."""
    k = index.shape[1]
    return TapPass(n, index, weight, [(np.arange(index.shape[0]), generic_ops(k), k)], dtype)


def nearest_pass(n, index, dtype):
    """The forward pass copying input ``index[j]`` to output ``j``."""
    return TapPass(n, index[:, None], None, [(np.arange(len(index)), ((0, "copy"),), 1)],
                   dtype)


class CornerSum:
    """torch's channels-last kernel (``_interpolate_taps.resample_channels_last``): each
    output the sum over its 2**nd corners of the corner's value times the product of its
    per-axis weights (rounded left to right), added right to left for the channels its
    vector loop takes, left to right for the rest; as two passes over the flattened
    spatial axis (faster here than gathering one axis at a time)."""

    def __init__(self, spatial, taps, dtype):
        nd = len(taps)
        index, weight = [], []
        for corner in np.ndindex(*(2,) * nd):
            flat = taps[0][0][:, corner[0]]
            w = taps[0][1][:, corner[0]]
            for a in range(1, nd):
                flat = np.add.outer(flat * spatial[a], taps[a][0][:, corner[a]])
                w = np.multiply.outer(w, taps[a][1][:, corner[a]])
            index.append(flat.ravel())
            weight.append(w.ravel())
        index, weight = np.stack(index, 1), np.stack(weight, 1)
        n = math.prod(spatial)
        self.size = tuple(len(t[0]) for t in taps)
        self.passes = (tap_pass(n, index[:, ::-1], weight[:, ::-1], dtype),
                       tap_pass(n, index, weight, dtype))

    def __call__(self, x, vector):
        """The resized ``x`` (N, C, *spatial), its first ``vector`` channels summed right to
        left."""
        n, c = x.shape[:2]
        flat = x.reshape(n, c, math.prod(x.shape[2:]))
        if vector in (0, c):
            out = self.passes[0 if vector else 1](flat, 2)
        else:
            out = np.concatenate([self.passes[0](flat[:, :vector], 2),
                                  self.passes[1](flat[:, vector:], 2)], axis=1)
        return out.reshape((n, c) + self.size)


def apply_passes(x, passes):
    """``passes`` (one per trailing axis; None copies that axis) applied to ``x``, the last
    axis first, as torch's separable kernels nest their loops."""
    for axis in range(x.ndim - 1, x.ndim - len(passes) - 1, -1):
        if passes[axis - x.ndim] is not None:
            x = passes[axis - x.ndim](x, axis)
    return np.ascontiguousarray(x)


def frozen(*arrays):
    """Mark cached arrays (lists of them) read-only, so that no caller changes a shared one."""
    for group in arrays:
        for a in group:
            if isinstance(a, np.ndarray):
                a.flags.writeable = False
    return arrays
