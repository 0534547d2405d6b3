"""Seeded random argument generators for the ``nn.functional`` differential fuzzer.

Each generator takes a ``numpy.random.Generator`` and returns a :class:`Case`: the function (a
name in ``nn.functional`` or a callable ``fn(lib, *args, **kwargs)`` run with ``lib`` = ember or
torch), its arguments and keyword arguments, where every array is an :class:`Arr` that the runner
turns into a tensor of each library. Arguments are mostly valid, sometimes not: the oracle
decides, and ember must then raise what torch raises.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Arr:
    """An input array; ``grad`` marks a float input whose gradient is compared."""

    data: np.ndarray
    grad: bool = True


@dataclass
class Case:
    """One call: ``fn(*args, **kwargs)`` on both libraries."""

    fn: object
    args: tuple
    kwargs: dict = field(default_factory=dict)
    shape_only: bool = False


def ch(rng, *opts):
    """One of ``opts``, uniformly."""
    return opts[int(rng.integers(len(opts)))]


def dtype(rng):
    """float64 mostly, float32 sometimes."""
    return np.float32 if rng.random() < 0.25 else np.float64


def fl(rng, shape, dt, lo=None, hi=None, grad=True):
    """A float array: standard normal, or uniform on [lo, hi)."""
    a = rng.standard_normal(shape) if lo is None else rng.uniform(lo, hi, shape)
    return Arr(np.asarray(a, dtype=dt), grad)


def ints(rng, lo, hi, shape):
    """An int64 array on [lo, hi)."""
    return Arr(rng.integers(lo, hi, shape).astype(np.int64), False)


def dims(rng, lo, hi, *counts):
    """A shape of ``ch(counts)`` sizes on [lo, hi)."""
    return tuple(int(v) for v in rng.integers(lo, hi, ch(rng, *counts)))


def sp(rng, d, lo, hi):
    """A size argument: an int or a tuple of ``d`` ints on [lo, hi]."""
    if rng.random() < 0.5:
        return int(rng.integers(lo, hi + 1))
    return tuple(int(v) for v in rng.integers(lo, hi + 1, d))


def spoil(rng, kw, *bad, p=0.08):
    """Sometimes (probability ``p``) set one option to an invalid value from the ``bad``
    (key, value) pairs."""
    if bad and rng.random() < p:
        key, value = bad[int(rng.integers(len(bad)))]
        kw[key] = value
    return kw


def odd_rank(rng, x, p=0.04):
    """Sometimes an input of one rank too many (an invalid call)."""
    return Arr(x.data[None], x.grad) if rng.random() < p else x


def batch(rng, lead=True):
    """A leading batch shape: () (unbatched) sometimes, else (N,)."""
    return () if (lead and rng.random() < 0.15) else (int(rng.integers(1, 3)),)


# ---------------------------------------------------------------- convolutions

def _conv(rng, d, transposed):
    dt = dtype(rng)
    groups = ch(rng, 1, 1, 2, 3)
    cin, cout = groups * ch(rng, 1, 2), groups * ch(rng, 1, 2)
    wc = cin // groups
    if rng.random() < 0.06:
        cin += 1
    k = tuple(int(v) for v in rng.integers(1, 4, d))
    size = tuple(int(v) for v in rng.integers(2 if d == 3 else 3, (5 if d == 3 else 8) + 1, d))
    x = fl(rng, batch(rng) + (cin,) + size, dt)
    w = fl(rng, ((cin // groups * groups, cout // groups) if transposed else (cout, wc)) + k, dt)
    b = fl(rng, (cout,), dt) if rng.random() < 0.6 else None
    x = odd_rank(rng, x)
    if rng.random() < 0.03:
        w = Arr(w.data.astype(np.float32 if dt == np.float64 else np.float64))
    kw = {"groups": groups}
    if rng.random() < 0.6:
        kw["stride"] = sp(rng, d, 1, 3)
    if rng.random() < 0.4:
        kw["dilation"] = sp(rng, d, 1, 2)
    # (no zero dilation for transposed: torch's oneDNN kernel words that error its own way)
    spoil(rng, kw, ("stride", 0), ("dilation", 0 if not transposed else 1), ("groups", 0),
          ("stride", (1,) * (d + 1)),
          ("padding", -1), ("padding", "bogus" if not transposed else -1),
          ("output_padding" if transposed else "padding", (0,) * (d + 1)))
    if transposed:
        if rng.random() < 0.6:
            kw["padding"] = sp(rng, d, 0, 2)
        if rng.random() < 0.5:
            kw["output_padding"] = sp(rng, d, 0, 2)
        if dt == np.float32 and any(o <= 0 for o in _transposed_sizes(size, k, kw)):
            # torch's oneDNN kernel (float32; a batch or groups) lets an empty output through,
            # or fails in its own words, where its other kernels say "Output size is too small"
            kw["padding"] = 0
        return Case(f"conv_transpose{d}d", (x, w, b), kw)
    if rng.random() < 0.7:
        kw.setdefault("padding", ch(rng, "same", "valid", sp(rng, d, 0, 2)))
    return Case(f"conv{d}d", (x, w, b), kw)


def _transposed_sizes(size, k, kw):
    def each(v):
        return [v] * len(size) if isinstance(v, int) else list(v)
    s, p, op, dl = (each(kw.get(a, dflt)) for a, dflt in
                    (("stride", 1), ("padding", 0), ("output_padding", 0), ("dilation", 1)))
    if not all(len(v) == len(size) for v in (s, p, op, dl)):
        return []
    return [(n - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + o_ + 1
            for n, s_, p_, d_, k_, o_ in zip(size, s, p, dl, k, op)]


def _conv_module(lib, x, w, b, *, d, cin, cout, k, **kw):
    m = getattr(lib.nn, f"Conv{d}d")(cin, cout, k, bias=b is not None, **kw)
    return m._conv_forward(x, w, b)


def conv_module(rng):
    """A ConvNd module's forward with a padding_mode (through ``_conv_forward``)."""
    dt, d = dtype(rng), ch(rng, 1, 2, 3)
    groups = ch(rng, 1, 1, 2)
    cin, cout = groups * ch(rng, 1, 2), groups * ch(rng, 1, 2)
    k = tuple(int(v) for v in rng.integers(1, 4, d))
    size = tuple(int(v) for v in rng.integers(2 if d == 3 else 3, (4 if d == 3 else 7) + 1, d))
    x = fl(rng, batch(rng) + (cin,) + size, dt)
    w = fl(rng, (cout, cin // groups) + k, dt)
    b = fl(rng, (cout,), dt) if rng.random() < 0.6 else None
    kw = dict(d=d, cin=cin, cout=cout, k=k, groups=groups,
              padding_mode=ch(rng, "zeros", "reflect", "replicate", "circular"),
              padding=ch(rng, "same", "valid", sp(rng, d, 0, 3)))
    if rng.random() < 0.4:
        kw["stride"] = sp(rng, d, 1, 2)
    if rng.random() < 0.4:
        kw["dilation"] = sp(rng, d, 1, 2)
    return Case(_conv_module, (x, w, b), kw)


# ---------------------------------------------------------------- pooling

def _pool_input(rng, d, dt, lo=3, hi=8):
    size = tuple(int(v) for v in rng.integers(lo, hi + 1, d))
    return fl(rng, batch(rng) + (ch(rng, 1, 2),) + size, dt)


def _max_pool(rng, d):
    x = _pool_input(rng, d, dtype(rng))
    kw = {"kernel_size": sp(rng, d, 1, 3), "ceil_mode": bool(rng.random() < 0.5),
          "return_indices": bool(rng.random() < 0.5)}
    if rng.random() < 0.6:
        kw["stride"] = sp(rng, d, 1, 3)
    if rng.random() < 0.5:
        kw["padding"] = sp(rng, d, 0, 1 if rng.random() < 0.9 else 2)
    if rng.random() < 0.4:
        kw["dilation"] = sp(rng, d, 1, 2)
    spoil(rng, kw, ("kernel_size", 0), ("stride", 0), ("padding", -1), ("dilation", 0),
          ("kernel_size", (2,) * (d + 1)))
    return Case(f"max_pool{d}d", (odd_rank(rng, x),), kw)


def _avg_pool(rng, d):
    x = _pool_input(rng, d, dtype(rng))
    kw = {"kernel_size": sp(rng, d, 1, 3), "ceil_mode": bool(rng.random() < 0.5),
          "count_include_pad": bool(rng.random() < 0.5)}
    if rng.random() < 0.6:
        kw["stride"] = sp(rng, d, 1, 3)
    if rng.random() < 0.5:
        kw["padding"] = sp(rng, d, 0, 1 if rng.random() < 0.9 else 2)
    if d == 2 and rng.random() < 0.4:
        kw["divisor_override"] = ch(rng, 1, 2, 3, 0)
    spoil(rng, kw, ("kernel_size", 0), ("stride", 0), ("padding", -1),
          ("kernel_size", (2,) * (d + 1)))
    return Case(f"avg_pool{d}d", (odd_rank(rng, x),), kw)


def _adaptive(rng, d, kind):
    x = _pool_input(rng, d, dtype(rng), 1, 7)
    out = sp(rng, d, 1, 8)
    if d == 2 and isinstance(out, tuple) and rng.random() < 0.3:
        out = (None, out[1])
    kw = {"return_indices": bool(rng.random() < 0.5)} if kind == "max" else {}
    if rng.random() < 0.06:
        out = ch(rng, -1, (2,) * (d + 1), 0)
    return Case(f"adaptive_{kind}_pool{d}d", (odd_rank(rng, x), out), kw)


def _lp_pool(rng, d):
    x = _pool_input(rng, d, dtype(rng))
    kw = {"ceil_mode": bool(rng.random() < 0.3)}
    if rng.random() < 0.6:
        kw["stride"] = sp(rng, d, 1, 3)
    # (torch's lp_pool1d takes an int kernel_size only: a tuple fails on ``mul``)
    k = int(rng.integers(1, 4)) if d == 1 else sp(rng, d, 1, 3)
    return Case(f"lp_pool{d}d", (x, ch(rng, 1, 2, 3, 1.5), k), kw)


# ---------------------------------------------------------------- shape ops

def pad(rng):
    """F.pad in every mode, with negative pads."""
    dt = dtype(rng)
    mode = ch(rng, "constant", "reflect", "replicate", "circular")
    nd = ch(rng, 1, 2, 3)
    ndim = nd + ch(rng, 1, 2) if mode != "constant" else nd + ch(rng, 0, 1, 2)
    shape = tuple(int(v) for v in rng.integers(2, 5, ndim))
    pads = [int(v) for v in rng.integers(-2, 4, 2 * int(rng.integers(1, nd + 1)))]
    if mode == "circular":  # torch reads past the input when a pad exceeds the cropped size
        for i in range(0, len(pads), 2):
            n = shape[-1 - i // 2] - max(-pads[i], 0) - max(-pads[i + 1], 0)
            pads[i], pads[i + 1] = min(pads[i], max(n, 0)), min(pads[i + 1], max(n, 0))
    if mode in ("reflect", "replicate"):  # torch's backward of an empty output is uninitialised
        for i in range(0, len(pads), 2):
            if shape[-1 - i // 2] + pads[i] + pads[i + 1] == 0:
                pads[i + 1] += 1
    pads = tuple(pads)
    kw = {"mode": mode}
    if mode == "constant" and rng.random() < 0.5:
        kw["value"] = float(rng.standard_normal())
    return Case("pad", (fl(rng, shape, dt), pads), kw)


def unfold(rng):
    """F.unfold (im2col)."""
    x = fl(rng, batch(rng) + (ch(rng, 1, 2),) + tuple(int(v) for v in rng.integers(2, 7, 2)),
           dtype(rng))
    return Case("unfold", (x, sp(rng, 2, 1, 3)),
                {"dilation": sp(rng, 2, 1, 2), "padding": sp(rng, 2, 0, 1),
                 "stride": sp(rng, 2, 1, 2)})


def fold(rng):
    """F.fold (col2im) with a mostly matching block count."""
    k, dil, pd, st = (tuple(int(v) for v in rng.integers(a, b + 1, 2))
                      for a, b in ((1, 3), (1, 2), (0, 1), (1, 2)))
    out = tuple(int(v) for v in rng.integers(3, 7, 2))
    blocks = [(out[i] + 2 * pd[i] - dil[i] * (k[i] - 1) - 1) // st[i] + 1 for i in range(2)]
    L = max(blocks[0], 0) * max(blocks[1], 0) + (1 if rng.random() < 0.1 else 0)
    C = ch(rng, 1, 2)
    x = fl(rng, batch(rng) + (C * k[0] * k[1], L), dtype(rng))
    return Case("fold", (x, out, k), {"dilation": dil, "padding": pd, "stride": st})


def pixel_shuffle(rng):
    """F.pixel_shuffle / pixel_unshuffle."""
    r, dt = ch(rng, 1, 2, 3), dtype(rng)
    lead = tuple(int(v) for v in rng.integers(1, 3, ch(rng, 0, 1, 2)))
    if rng.random() < 0.5:
        c = ch(rng, 1, 2) * r * r + (1 if rng.random() < 0.1 else 0)
        return Case("pixel_shuffle", (fl(rng, lead + (c, 2, 3), dt), r))
    hw = (2 * r, r + (1 if rng.random() < 0.1 else 0))
    return Case("pixel_unshuffle", (fl(rng, lead + (ch(rng, 1, 2),) + hw, dt), r))


# ---------------------------------------------------------------- normalisation

def group_norm(rng):
    """F.group_norm with optional affine parameters."""
    dt = dtype(rng)
    C = ch(rng, 2, 4, 6)
    spatial, groups = dims(rng, 1, 4, 0, 1, 2), ch(rng, 1, 2, 3)
    if C // groups * int(np.prod(spatial)) < 4:
        # a value or two per group: float32's cancellation leaves mostly rounding noise
        dt = np.float64
    x = fl(rng, (ch(rng, 1, 2), C) + spatial, dt)
    w = fl(rng, (C,), dt) if rng.random() < 0.6 else None
    # (torch's backward fails for a bias without a weight: "tensor does not have a device")
    b = fl(rng, (C,), dt) if w is not None and rng.random() < 0.6 else None
    return Case("group_norm", (x, groups), {"weight": w, "bias": b, "eps": ch(rng, 1e-5, 0.1)})


def instance_norm(rng):
    """F.instance_norm, with or without running statistics."""
    dt = dtype(rng)
    C = ch(rng, 1, 3)
    x = fl(rng, (ch(rng, 1, 2), C) + tuple(int(v) for v in rng.integers(2, 4, ch(rng, 1, 2))), dt)
    kw = {"use_input_stats": bool(rng.random() < 0.8), "momentum": ch(rng, 0.1, 0.5),
          "eps": ch(rng, 1e-5, 0.1)}
    if rng.random() < 0.5:
        kw["running_mean"] = fl(rng, (C,), dt, grad=False)
        kw["running_var"] = fl(rng, (C,), dt, 0.5, 2.0, grad=False)
    if rng.random() < 0.5:
        kw["weight"], kw["bias"] = fl(rng, (C,), dt), fl(rng, (C,), dt)
    return Case("instance_norm", (x,), kw)


def layer_norm(rng):
    """F.layer_norm over 1 to all trailing dims, sometimes a mismatched shape."""
    dt = dtype(rng)
    shape = tuple(int(v) for v in rng.integers(1, 4, ch(rng, 1, 2, 3)))
    ns = shape[len(shape) - int(rng.integers(1, len(shape) + 1)):]
    if rng.random() < 0.08:
        ns = ns[:-1] + (ns[-1] + 1,)
    ns = ch(rng, ns, list(ns), ns[-1] if len(ns) == 1 else ns)
    nst = (ns,) if isinstance(ns, int) else tuple(ns)
    if int(np.prod(nst)) == 1:
        dt = np.float64  # (as in group_norm: nothing but rounding noise in float32)
    w = fl(rng, nst, dt) if rng.random() < 0.6 else None
    b = fl(rng, nst, dt) if rng.random() < 0.6 else None
    return Case("layer_norm", (fl(rng, shape, dt), ns, w, b), {"eps": ch(rng, 1e-5, 0.1)})


def local_response_norm(rng):
    """F.local_response_norm on 3- to 5-d input."""
    shape = (ch(rng, 1, 2), ch(rng, 1, 3, 5)) + dims(rng, 1, 4, 1, 2, 3)
    return Case("local_response_norm", (fl(rng, shape, dtype(rng)), ch(rng, 1, 2, 3, 5)),
                {"alpha": ch(rng, 1e-4, 0.5), "beta": ch(rng, 0.75, 1.5), "k": ch(rng, 1.0, 2.0)})


def normalize(rng):
    """F.normalize over any dim with any p."""
    shape = tuple(int(v) for v in rng.integers(1, 4, ch(rng, 1, 2, 3)))
    return Case("normalize", (fl(rng, shape, dtype(rng)),),
                {"p": ch(rng, 1, 2, 3, 0.5, float("inf")),
                 "dim": int(rng.integers(-len(shape) - 1, len(shape) + 1)),
                 "eps": ch(rng, 1e-12, 0.5)})


def embedding_bag(rng):
    """F.embedding_bag: 2-d bags or 1-d input with offsets, every mode and option."""
    dt, V, D = dtype(rng), ch(rng, 3, 5), ch(rng, 1, 3)
    mode = ch(rng, "sum", "mean", "max")
    kw = {"mode": mode}
    if rng.random() < 0.5:
        x = ints(rng, 0, V, (ch(rng, 1, 3), ch(rng, 1, 4)))
    else:
        n = int(rng.integers(0, 7))
        x = ints(rng, 0, V, (n,))
        cuts = np.sort(rng.integers(0, n + 1, int(rng.integers(0, 3))))
        offs = np.concatenate([[0], cuts]).astype(np.int64)
        if rng.random() < 0.3:
            kw["include_last_offset"] = True
            offs = np.concatenate([offs, [n]]).astype(np.int64)
        kw["offsets"] = Arr(offs, False)
    if rng.random() < 0.3 + 0.5 * (mode == "sum"):
        kw["per_sample_weights"] = fl(rng, x.data.shape, dt)
    if rng.random() < 0.4:
        kw["padding_idx"] = int(rng.integers(-V, V))
    if rng.random() < 0.05 and x.data.size:
        # (torch's float32 fast path words a bad id past the first bag, or a negative one,
        # as an internal assertion, "Expected i < index_size ...")
        if dt == np.float64:
            x.data.flat[-1] = ch(rng, V, -1)
        else:
            x.data.flat[0] = V
    if rng.random() < 0.05 and "offsets" in kw and kw["offsets"].data.size:
        kw["offsets"].data[0] = 1
    return Case("embedding_bag", (x, fl(rng, (V, D), dt)), kw)


# ---------------------------------------------------------------- activations, softmax

def softmax_family(rng):
    """softmax / log_softmax / softmin over any dim, sometimes with dtype=."""
    shape = tuple(int(v) for v in rng.integers(1, 4, ch(rng, 0, 1, 2, 3)))
    name, x = ch(rng, "softmax", "log_softmax", "softmin"), fl(rng, shape, dtype(rng))
    kw = {"dim": int(rng.integers(-max(len(shape), 1), max(len(shape), 1)))}
    if rng.random() < 0.05:
        kw["dim"] = ch(rng, max(len(shape), 1), -max(len(shape), 1) - 1)
    if rng.random() < 0.4:
        return Case(_with_dtype, (name, x), dict(kw, dtype=ch(rng, "float32", "float64")))
    return Case(name, (x,), kw)


def _with_dtype(lib, name, x, dtype=None, **kw):
    return getattr(lib.nn.functional, name)(x, dtype=getattr(lib, dtype), **kw)


def gumbel_softmax(rng):
    """F.gumbel_softmax: shapes, dtypes and one-hot rows only (it samples)."""
    shape = tuple(int(v) for v in rng.integers(1, 4, ch(rng, 1, 2, 3)))
    return Case("gumbel_softmax", (fl(rng, shape, dtype(rng)),),
                {"tau": ch(rng, 0.5, 1.0), "hard": bool(rng.random() < 0.5),
                 "dim": int(rng.integers(-len(shape), len(shape)))}, shape_only=True)


def activation(rng):
    """glu, hardtanh, rrelu (eval), celu, elu, threshold, softplus."""
    dt = dtype(rng)
    shape = tuple(int(v) for v in rng.integers(1, 4, ch(rng, 0, 1, 2)))
    x = fl(rng, shape, dt, -3, 3)
    name = ch(rng, "glu", "hardtanh", "rrelu", "celu", "elu", "threshold", "softplus")
    if name == "glu":
        shape = shape + (ch(rng, 2, 4, 3),)
        return Case("glu", (fl(rng, shape, dt),),
                    {"dim": int(rng.integers(-len(shape), len(shape)))})
    kw = {
        "hardtanh": lambda: {"min_val": ch(rng, -1.0, -0.5, 0.3),
                             "max_val": ch(rng, 1.0, 2.0, 0.2)},
        "rrelu": lambda: {"lower": ch(rng, 0.1, 0.125), "upper": ch(rng, 0.3, 1 / 3),
                          "training": False},
        "celu": lambda: {"alpha": ch(rng, 1.0, 0.5, 2.0, 0.0)},
        "elu": lambda: {"alpha": ch(rng, 1.0, 0.5, 2.0)},
        "threshold": lambda: {"threshold": ch(rng, 0.1, -0.5), "value": ch(rng, 0.0, 2.0)},
        "softplus": lambda: {"beta": ch(rng, 1.0, 0.5, 2.0, -1.0),
                             "threshold": ch(rng, 20.0, 1.0, 0.5)},
    }[name]()
    if name != "softplus" and rng.random() < 0.3:
        return Case(_inplace, (name, x), kw)
    return Case(name, (x,), kw)


def _inplace(lib, name, x, **kw):
    """The activation with ``inplace=True`` on a non-leaf copy of ``x``."""
    return getattr(lib.nn.functional, name)(x * 1, inplace=True, **kw)


def sdpa(rng):
    """F.scaled_dot_product_attention with masks, is_causal and scale (dropout 0)."""
    dt = dtype(rng)
    lead = tuple(int(v) for v in rng.integers(1, 3, ch(rng, 0, 1, 2)))
    L, S, E, Ev = (int(v) for v in rng.integers(1, 5, 4))
    q, k, v = fl(rng, lead + (L, E), dt), fl(rng, lead + (S, E), dt), fl(rng, lead + (S, Ev), dt)
    kw = {"is_causal": bool(rng.random() < 0.3)}
    if rng.random() < 0.5:
        mshape = ch(rng, (L, S), (1, S), (L, 1), lead + (L, S))
        kw["attn_mask"] = (Arr(rng.random(mshape) < 0.7, False) if rng.random() < 0.5
                           else fl(rng, mshape, dt, grad=bool(rng.random() < 0.5)))
        if rng.random() < 0.05:
            kw["attn_mask"] = ch(rng, ints(rng, 0, 2, mshape), Arr(np.zeros((L + 1, S), dt)))
    if rng.random() < 0.4:
        kw["scale"] = ch(rng, 0.5, 2.0)
    if rng.random() < 0.3:
        kw["dropout_p"] = 0.0
    return Case("scaled_dot_product_attention", (q, k, v), kw)


GENERATORS = {
    "conv1d": lambda r: _conv(r, 1, False), "conv2d": lambda r: _conv(r, 2, False),
    "conv3d": lambda r: _conv(r, 3, False),
    "conv_transpose1d": lambda r: _conv(r, 1, True),
    "conv_transpose2d": lambda r: _conv(r, 2, True),
    "conv_module": conv_module,
    "max_pool1d": lambda r: _max_pool(r, 1), "max_pool2d": lambda r: _max_pool(r, 2),
    "avg_pool1d": lambda r: _avg_pool(r, 1), "avg_pool2d": lambda r: _avg_pool(r, 2),
    "adaptive_avg_pool1d": lambda r: _adaptive(r, 1, "avg"),
    "adaptive_avg_pool2d": lambda r: _adaptive(r, 2, "avg"),
    "adaptive_max_pool1d": lambda r: _adaptive(r, 1, "max"),
    "adaptive_max_pool2d": lambda r: _adaptive(r, 2, "max"),
    "lp_pool1d": lambda r: _lp_pool(r, 1), "lp_pool2d": lambda r: _lp_pool(r, 2),
    "pad": pad, "unfold": unfold, "fold": fold, "pixel_shuffle": pixel_shuffle,
    "group_norm": group_norm, "instance_norm": instance_norm, "layer_norm": layer_norm,
    "local_response_norm": local_response_norm, "normalize": normalize,
    "embedding_bag": embedding_bag, "softmax": softmax_family, "gumbel_softmax": gumbel_softmax,
    "activation": activation, "sdpa": sdpa,
}


# --- comparing (shared by the functional and layer fuzzers) -------------------------------
def np_of(t):
    """``t``'s values as a NumPy array (None stays None)."""
    return t.detach().numpy() if t is not None else None


def tol(dt, grad=False):
    """Comparison tolerances for results of dtype ``dt`` (gradients a little looser)."""
    if "float32" in str(dt):
        return dict(rtol=1e-4, atol=3e-5 if grad else 1e-5)
    return dict(rtol=1e-7, atol=1e-9)


def first_line(exc):
    """The first line of an exception's message (what the fuzzers compare)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""
