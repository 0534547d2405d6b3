"""Seeded generators for the stateful ``nn`` layer fuzzer (``test_fuzz_layers_oracle.py``).

Each generator takes a ``numpy.random.Generator`` and returns a :class:`LayerCase`: how to build
the module in a library (``build(lib)``, with ``lib`` = ember or torch), and how to draw the
arguments of one forward call (``inputs(rng)``, a list of :class:`Arr` and plain values). The
constructor options are mostly valid, sometimes not: torch decides, and ember must then raise
what torch raises. Inputs are small and awkward on purpose: non-square shapes, batch size 2,
repeated ids.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tests.oracle._fuzz_functional_cases import Arr, ch, fl


@dataclass
class LayerCase:
    """One module: its class name, constructor, forward-argument generator and float dtype.

    ``inputs(rng, now)`` draws one forward call's arguments for the module's dtype ``now``
    (which a cast step may have changed; the runner casts the float arrays to it).
    """

    name: str
    build: object
    inputs: object
    dtype: object = np.float64
    options: dict = field(default_factory=dict)
    # False where ember's graph is not torch's one node (U4-U5 in test_fuzz_layers_oracle.py):
    # the runner then leaves out in-place updates under a pending graph and second backwards
    one_node: bool = True


def _dt(rng):
    return np.float32 if rng.random() < 0.35 else np.float64


def _lib_dtype(lib, dt):
    return getattr(lib, np.dtype(dt).name)


def _module(name, args, kw, dt, how):
    """A builder: ``lib.nn.<name>(*args, **kw)``, in ``dt`` through the ``dtype=`` factory
    argument, ``.double()``/``.float()``, or ``.to(dtype)``."""
    def build(lib):
        if how == "factory":
            return getattr(lib.nn, name)(*args, **kw, dtype=_lib_dtype(lib, dt))
        mod = getattr(lib.nn, name)(*args, **kw)
        if how == "to":
            return mod.to(_lib_dtype(lib, dt))
        return mod.double() if dt == np.float64 else mod.float()
    return build


def _how(rng):
    return ch(rng, "factory", "cast", "to")


def _lead(rng):
    return ch(rng, (), (2,), (2, 3), (1,))


# ---------------------------------------------------------------- affine layers

def linear(rng):
    """Linear(in, out, bias) on (*, in) inputs."""
    dt, fin, fout = _dt(rng), ch(rng, 1, 3, 4), ch(rng, 2, 5)
    kw = {"bias": bool(rng.random() < 0.7)}
    if rng.random() < 0.04:
        fout = -1

    def inputs(r, now):
        f = fin if r.random() > 0.05 else fin + 1
        return [fl(r, _lead(r) + (f,), dt)]
    return LayerCase("Linear", _module("Linear", (fin, fout), kw, dt, _how(rng)), inputs, dt, kw)


def bilinear(rng):
    """Bilinear(in1, in2, out, bias) on (N, in1), (N, in2) or unbatched pairs."""
    dt, a, b, out = _dt(rng), ch(rng, 1, 2, 3), ch(rng, 2, 4), ch(rng, 1, 3)
    kw = {"bias": bool(rng.random() < 0.7)}

    def inputs(r, now):
        lead = ch(r, (2,), (3,), (2, 2))
        second = lead if r.random() > 0.05 else (lead[0] + 1,) + lead[1:]
        return [fl(r, lead + (a,), dt), fl(r, second + (b,), dt)]
    return LayerCase("Bilinear", _module("Bilinear", (a, b, out), kw, dt, _how(rng)), inputs, dt,
                     kw, one_node=False)


# ---------------------------------------------------------------- embeddings

def _ids(r, n, shape, bad=0.04):
    t = r.integers(0, min(n, 3) if r.random() < 0.5 else n, shape).astype(np.int64)
    if r.random() < bad and t.size:
        t.flat[0] = ch(r, n, -1)
    return Arr(t, False)


def embedding(rng):
    """Embedding: padding_idx (negative too), max_norm (renormalises in place),
    scale_grad_by_freq, from_pretrained with freeze."""
    dt, n, d = _dt(rng), ch(rng, 4, 6), ch(rng, 2, 3)
    kw = {}
    if rng.random() < 0.5:
        kw["padding_idx"] = int(rng.integers(-n, n))
        if rng.random() < 0.05:
            kw["padding_idx"] = ch(rng, n, -n - 1)
    if rng.random() < 0.4:
        kw["max_norm"] = ch(rng, 1.0, 0.5, 2.0)
        if rng.random() < 0.3:
            kw["norm_type"] = ch(rng, 1.0, 3.0)
    if rng.random() < 0.4:
        kw["scale_grad_by_freq"] = True
    if rng.random() < 0.4:
        weights = rng.standard_normal((n, d) if rng.random() > 0.04 else (n,)).astype(dt)
        kw["freeze"] = bool(rng.random() < 0.5)

        def build(lib):
            return lib.nn.Embedding.from_pretrained(lib.tensor(weights.copy()), **kw)
    else:
        build = _module("Embedding", (n, d), kw, dt, _how(rng))

    def inputs(r, now):
        return [_ids(r, n, ch(r, (), (5,), (2, 3), (3, 2)))]
    return LayerCase("Embedding", build, inputs, dt, kw)


def _sorted_counts_agree(ids):
    """Whether torch 2.13's CPU embedding_bag ``scale_grad_by_freq`` gets these ids right: it
    divides the k-th smallest distinct id's gradient by the count of ``sorted(ids)[k]``
    (pytorch#190063), ember by the id's own count, as documented (a deliberate difference, see
    ``tests/dropin/test_workloads_sequence_packed.py``)."""
    srt = np.sort(ids.reshape(-1))
    uniq, counts = np.unique(srt, return_counts=True)
    return np.array_equal(counts, counts[np.searchsorted(uniq, srt[:uniq.size])])


def _bag_ids(r, n, shape, freq):
    ids = _ids(r, n, shape)
    for _ in range(20):  # with scale_grad_by_freq: ids where torch's bug does not bite
        if not freq or _sorted_counts_agree(ids.data):
            return ids
        ids = _ids(r, n, shape)
    return Arr(r.permutation(n)[:int(np.prod(shape))].reshape(shape).astype(np.int64), False)


def embedding_bag(rng):
    """EmbeddingBag: sum/mean/max, 2-d input or 1-d with offsets, per_sample_weights,
    padding_idx, include_last_offset."""
    dt, n, d = _dt(rng), ch(rng, 5, 7), ch(rng, 2, 3)
    kw = {"mode": ch(rng, "sum", "mean", "max")}
    if rng.random() < 0.4:
        kw["padding_idx"] = int(rng.integers(-n, n))
    if rng.random() < 0.3:
        kw["max_norm"] = ch(rng, 1.0, 2.0)
    if rng.random() < 0.3 and kw["mode"] != "max":
        kw["scale_grad_by_freq"] = True
    last = bool(rng.random() < 0.3)
    kw["include_last_offset"] = last
    freq = kw.get("scale_grad_by_freq", False)
    build = _module("EmbeddingBag", (n, d), kw, dt, _how(rng))

    def inputs(r, now):
        psw = kw["mode"] == "sum" and r.random() < 0.4
        if r.random() < 0.5 and not last:
            ids = _bag_ids(r, n, ch(r, (2, 3), (3, 2), (2, 1)), freq)
            extra = {}
        else:
            ids = _bag_ids(r, n, (int(r.integers(3, 7)),), freq)
            size = ids.data.shape[0]
            cuts = np.sort(r.integers(0, size + 1, ch(r, 1, 2, 3)))
            cuts[0] = 0
            if last:
                # a last offset short of the input: torch's float64 kernel runs the last bag to
                # the end; its float32 sum/mean kernel reads uninitialised memory (not compared)
                short = now == np.float64 and r.random() < 0.3
                cuts = np.append(cuts, r.integers(cuts[-1], size + 1) if short else size)
            extra = {"offsets": Arr(cuts.astype(np.int64), False)}
        if psw:
            extra["per_sample_weights"] = fl(r, ids.data.shape, dt)
        return [ids, extra]
    return LayerCase("EmbeddingBag", build, inputs, dt, kw)


# ---------------------------------------------------------------- dropout and activations

def dropout(rng, same_stream=True):
    """Dropout with p = 0, 1 or in between, inplace or not."""
    dt = _dt(rng)
    p = ch(rng, 0.0, 1.0, 0.3, 0.5) if same_stream else ch(rng, 0.0, 1.0)
    if rng.random() < 0.05:
        p = ch(rng, -0.1, 1.5)
    kw = {"p": p, "inplace": bool(rng.random() < 0.4)}

    def inputs(r, now):
        return [fl(r, ch(r, (2, 3), (3,), (2, 1, 4)), dt)]
    return LayerCase("Dropout", lambda lib: lib.nn.Dropout(**kw), inputs, dt, kw)


def activation(rng):
    """ReLU, GELU('tanh'/'none'), SiLU, Softmax/LogSoftmax(dim), Tanh, Sigmoid."""
    dt = _dt(rng)
    name = ch(rng, "ReLU", "GELU", "SiLU", "Softmax", "LogSoftmax", "Tanh", "Sigmoid")
    kw = {}
    if name in ("ReLU", "SiLU") and rng.random() < 0.4:
        kw["inplace"] = True
    if name == "GELU":
        kw["approximate"] = ch(rng, "tanh", "none", "tanh")
    if name in ("Softmax", "LogSoftmax"):
        kw["dim"] = ch(rng, 0, 1, -1, None)

    def inputs(r, now):
        return [fl(r, ch(r, (2, 3), (3, 2, 4), (2,)), dt)]
    return LayerCase(name, lambda lib: getattr(lib.nn, name)(**kw), inputs, dt, kw)


# ---------------------------------------------------------------- normalisation

def batch_norm(rng):
    """BatchNorm1d/2d: momentum None, affine off, no running stats, (N,C) and (N,C,L)."""
    dt, C = _dt(rng), ch(rng, 2, 3)
    name = ch(rng, "BatchNorm1d", "BatchNorm1d", "BatchNorm2d")
    kw = {"momentum": ch(rng, 0.1, None, 0.5), "affine": bool(rng.random() < 0.7),
          "track_running_stats": bool(rng.random() < 0.75)}
    if rng.random() < 0.3:
        kw["eps"] = ch(rng, 1e-3, 0.1)

    def inputs(r, now):
        n = ch(r, 2, 3, 1, 2)
        if name == "BatchNorm2d":
            shape = (n, C, ch(r, 1, 2), ch(r, 3, 1))
        else:
            shape = ch(r, (n, C), (n, C, ch(r, 1, 4)))
        if r.random() < 0.06:  # a wrong rank or channel count
            shape = ch(r, shape[1:], shape + (2,), shape[:1] + (C + 1,) + shape[2:])
        return [fl(r, shape, dt)]
    return LayerCase(name, _module(name, (C,), kw, dt, _how(rng)), inputs, dt, kw)


def layer_norm(rng):
    """LayerNorm over the last one or two dims, elementwise_affine, bias=False."""
    dt = _dt(rng)
    shape = ch(rng, (3,), (2, 3), (4,))
    kw = {"elementwise_affine": bool(rng.random() < 0.7), "bias": bool(rng.random() < 0.7)}
    if rng.random() < 0.3:
        kw["eps"] = ch(rng, 1e-3, 0.1)
    arg = shape[0] if len(shape) == 1 and rng.random() < 0.5 else list(shape)

    def inputs(r, now):
        lead = ch(r, (), (2,), (2, 1))
        if r.random() < 0.04:  # the normalized shape does not end the input's
            return [fl(r, lead + shape[:-1] + (shape[-1] + 1,), dt)]
        return [fl(r, lead + shape, dt)]
    return LayerCase("LayerNorm", _module("LayerNorm", (arg,), kw, dt, _how(rng)), inputs, dt,
                     kw)


def group_norm(rng):
    """GroupNorm(G, C, affine) on (N, C, *)."""
    dt, G = _dt(rng), ch(rng, 1, 2, 3)
    C = G * ch(rng, 1, 2)
    if rng.random() < 0.05:
        C += 1
    kw = {"affine": bool(rng.random() < 0.7)}
    if rng.random() < 0.3:
        kw["eps"] = ch(rng, 1e-3, 0.1)

    def inputs(r, now):
        # (a group of two values in float32 is ill-conditioned: the input gradient is a
        # difference of nearly equal terms, and torch and ember both miss the float64 one by
        # ~1e-5 in different directions; float64 covers those groups)
        shape = ch(r, (2, C), (2, C, 3), (1, C, 2, 3))
        if now == np.float32 and C // G * int(np.prod(shape[2:])) < 3:
            shape = (2, C, 3)
        return [fl(r, shape, dt)]
    return LayerCase("GroupNorm", _module("GroupNorm", (G, C), kw, dt, _how(rng)), inputs, dt,
                     kw)


def instance_norm(rng):
    """InstanceNorm1d: affine, track_running_stats, momentum, batched and unbatched."""
    dt, C = _dt(rng), ch(rng, 2, 3)
    kw = {"affine": bool(rng.random() < 0.5), "track_running_stats": bool(rng.random() < 0.5),
          "momentum": ch(rng, 0.1, 0.5)}

    def inputs(r, now):
        shape = ch(r, (2, C, 4), (C, 3), (1, C, 2))
        if r.random() < 0.05:  # another channel count, or a 4-d input
            shape = ch(r, shape[:-2] + (C + 1, 3), (1,) + shape)
        return [fl(r, shape, dt)]
    return LayerCase("InstanceNorm1d", _module("InstanceNorm1d", (C,), kw, dt, _how(rng)),
                     inputs, dt, kw)


# ---------------------------------------------------------------- losses

def _red(rng):
    return ch(rng, "mean", "sum", "none") if rng.random() > 0.04 else "bogus"


def _loss(name, kw, buffers):
    def build(lib):
        extra = {k: lib.tensor(v.copy()) for k, v in buffers.items()}
        return getattr(lib.nn, name)(**kw, **extra)
    return build


def cross_entropy(rng):
    """CrossEntropyLoss / NLLLoss: weight, ignore_index, label_smoothing, soft targets."""
    dt, C = _dt(rng), ch(rng, 3, 4)
    name = ch(rng, "CrossEntropyLoss", "NLLLoss")
    kw, bufs = {"reduction": _red(rng)}, {}
    if rng.random() < 0.4:
        bufs["weight"] = rng.uniform(0.5, 2.0, C).astype(dt)
    if rng.random() < 0.5:
        kw["ignore_index"] = ch(rng, 0, C - 1, -1)
    if name == "CrossEntropyLoss" and rng.random() < 0.4:
        kw["label_smoothing"] = ch(rng, 0.1, 0.25)
    soft = name == "CrossEntropyLoss" and rng.random() < 0.3

    def inputs(r, now):
        lead = ch(r, (2,), (3,), (2,), ())
        spatial = ch(r, (), (), (2,)) if lead else ()
        shape = lead + (C,) + spatial
        if soft:
            p = r.uniform(0, 1, shape)
            return [fl(r, shape, dt), Arr((p / p.sum(axis=len(lead), keepdims=True)).astype(dt),
                                          bool(r.random() < 0.5))]
        t = r.integers(0, C, lead + spatial).astype(np.int64)
        if "ignore_index" in kw and t.size:
            t[r.random(t.shape) < 0.3] = kw["ignore_index"]
        if r.random() < 0.04 and t.size:
            t.flat[0] = C
        return [fl(r, shape, dt), Arr(t, False)]
    # (the class weight's version is not checked at backward: U5)
    return LayerCase(name, _loss(name, kw, bufs), inputs, dt, dict(kw, **bufs),
                     one_node="weight" not in bufs)


def regression_loss(rng):
    """MSELoss and L1Loss, target requiring grad or not."""
    dt, name = _dt(rng), ch(rng, "MSELoss", "L1Loss")
    kw = {"reduction": _red(rng)}

    def inputs(r, now):
        shape = ch(r, (2, 3), (3,), (2, 1, 2))
        return [fl(r, shape, dt), fl(r, shape, dt, grad=bool(r.random() < 0.5))]
    return LayerCase(name, _loss(name, kw, {}), inputs, dt, kw)


def bce_with_logits(rng):
    """BCEWithLogitsLoss with weight and pos_weight buffers."""
    dt = _dt(rng)
    kw, bufs = {"reduction": _red(rng)}, {}
    shape = ch(rng, (2, 3), (3, 2))
    if rng.random() < 0.4:
        bufs["weight"] = rng.uniform(0.5, 2, ch(rng, shape, shape[-1:])).astype(dt)
    if rng.random() < 0.5:
        bufs["pos_weight"] = rng.uniform(0.5, 2, shape[-1:]).astype(dt)

    def inputs(r, now):
        return [fl(r, shape, dt), fl(r, shape, dt, 0, 1, grad=bool(r.random() < 0.5))]
    return LayerCase("BCEWithLogitsLoss", _loss("BCEWithLogitsLoss", kw, bufs), inputs, dt,
                     dict(kw, **bufs), one_node=not bufs)  # (U5)


GENERATORS = {
    "linear": linear, "bilinear": bilinear, "embedding": embedding,
    "embedding_bag": embedding_bag, "dropout": dropout, "activation": activation,
    "batch_norm": batch_norm, "layer_norm": layer_norm, "group_norm": group_norm,
    "instance_norm": instance_norm, "cross_entropy": cross_entropy,
    "regression_loss": regression_loss, "bce_with_logits": bce_with_logits,
}

__all__ = ["GENERATORS", "LayerCase"]
