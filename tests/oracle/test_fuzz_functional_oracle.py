"""Seeded differential fuzzer: ``ember.nn.functional`` against ``torch.nn.functional``.

For every function a generator draws random (mostly valid, sometimes invalid) arguments; the
same float64 or float32 inputs go through both libraries, and the outputs (values, shapes,
dtypes), every differentiable input's gradient for a random upstream gradient, in-place updates
of the inputs (running statistics), and, when torch raises, the exception type and the first
line of its message must agree.
"""
from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import ember
from tests.oracle._fuzz_functional_cases import (
    GENERATORS,
    Arr,
    Case,
    ch,
    dtype,
    first_line,
    fl,
    ints,
    np_of,
    tol,
)

torch = pytest.importorskip("torch")

SEEDS = 10


# ---------------------------------------------------------------- losses and distances

def red(rng):
    """A loss reduction, now and then an unknown one."""
    return ch(rng, "none", "mean", "sum") if rng.random() > 0.03 else "bogus"


def _class_target(rng, C, tshape, ignore):
    t = rng.integers(0, C, tshape).astype(np.int64)
    if ignore is not None and t.size:
        t[rng.random(tshape) < 0.3] = ignore
    if rng.random() < 0.04 and t.size:
        t.flat[0] = ch(rng, C, -1)
    return Arr(t, False)


def cross_entropy(rng):
    """F.cross_entropy / nll_loss: class or probability targets, K-dim, weights, smoothing."""
    dt, C, N = dtype(rng), ch(rng, 2, 3, 5), ch(rng, 1, 3)
    name = ch(rng, "cross_entropy", "nll_loss")
    lead = () if rng.random() < 0.1 else (N,)
    spatial = ch(rng, (), (), (2,), (2, 3)) if lead else ()
    shape, tshape = lead + (C,) + spatial, lead + spatial
    kw = {"reduction": red(rng)}
    if name == "cross_entropy" and rng.random() < 0.3:
        p = rng.uniform(0, 1, shape)
        target = Arr((p / p.sum(axis=len(lead), keepdims=True)).astype(dt), rng.random() < 0.5)
    else:
        ignore = ch(rng, None, -100, int(rng.integers(0, C)))
        if ignore is not None:
            kw["ignore_index"] = ignore
        target = _class_target(rng, C, tshape, ignore)
    if rng.random() < 0.4:
        kw["weight"] = fl(rng, (C,), dt, 0.5, 2.0, grad=bool(rng.random() < 0.5))
    if name == "cross_entropy" and rng.random() < 0.4:
        kw["label_smoothing"] = ch(rng, 0.1, 0.3)
    return Case(name, (fl(rng, shape, dt), target), kw)


def binary_cross_entropy(rng):
    """F.binary_cross_entropy(_with_logits) with weight / pos_weight."""
    dt = dtype(rng)
    shape = tuple(int(v) for v in rng.integers(1, 4, ch(rng, 0, 1, 2)))
    kw = {"reduction": red(rng)}
    y = fl(rng, shape, dt, 0, 1, grad=bool(rng.random() < 0.5))
    if rng.random() < 0.4:
        kw["weight"] = fl(rng, shape[-1:] if rng.random() < 0.5 else shape, dt, 0.5, 2,
                          grad=bool(rng.random() < 0.5))
    if rng.random() < 0.5:
        return Case("binary_cross_entropy", (fl(rng, shape, dt, 0.05, 0.95), y), kw)
    if rng.random() < 0.5:
        kw["pos_weight"] = fl(rng, shape[-1:], dt, 0.5, 2, grad=bool(rng.random() < 0.5))
    return Case("binary_cross_entropy_with_logits", (fl(rng, shape, dt), y), kw)


def pointwise_loss(rng):
    """kl_div, huber, smooth_l1, soft_margin, poisson_nll, margin_ranking, hinge_embedding."""
    dt = dtype(rng)
    shape = tuple(int(v) for v in rng.integers(1, 4, ch(rng, 0, 1, 2)))
    kw = {"reduction": red(rng)}
    x = fl(rng, shape, dt)
    y = fl(rng, shape, dt, grad=bool(rng.random() < 0.5))
    sign = Arr(np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(dt), False)
    name = ch(rng, "kl_div", "huber_loss", "smooth_l1_loss", "soft_margin_loss",
              "poisson_nll_loss", "margin_ranking_loss", "hinge_embedding_loss")
    if name == "kl_div":
        kw["log_target"] = bool(rng.random() < 0.5)
        if not kw["log_target"]:
            y = fl(rng, shape, dt, 0.01, 1, grad=y.grad)
        kw["reduction"] = ch(rng, kw["reduction"], "batchmean")
    elif name == "huber_loss":
        kw["delta"] = ch(rng, 1.0, 0.5, 2.0)
    elif name == "smooth_l1_loss":
        kw["beta"] = ch(rng, 1.0, 0.5, 0.0)
    elif name == "soft_margin_loss":
        y = sign
    elif name == "poisson_nll_loss":
        kw.update(log_input=bool(rng.random() < 0.5), full=bool(rng.random() < 0.5),
                  eps=ch(rng, 1e-8, 0.1))
        if not kw["log_input"]:
            x = fl(rng, shape, dt, 0.1, 3)
        y = fl(rng, shape, dt, 0, 4, grad=y.grad)
    elif name == "margin_ranking_loss":
        kw["margin"] = ch(rng, 0.0, 0.5)
        return Case(name, (x, fl(rng, shape, dt), sign), kw)
    else:
        kw["margin"] = ch(rng, 1.0, 0.5)
        y = sign
    if rng.random() < 0.05:  # the other float dtype, or a target that only broadcasts
        # (torch's huber_loss backward fails on mixed dtypes, "Found dtype Float but expected
        # Double": not reproduced)
        other = Arr(y.data.astype(np.float32 if dt == np.float64 else np.float64), y.grad)
        y = ch(rng, other if name != "huber_loss" else y,
               Arr(np.atleast_1d(y.data)[..., :1].copy(), y.grad))
    return Case(name, (x, y), kw)


def margin_loss(rng):
    """multilabel_margin, multilabel_soft_margin, multi_margin."""
    dt, C = dtype(rng), ch(rng, 2, 3, 4)
    lead = () if rng.random() < 0.15 else (ch(rng, 1, 3),)
    x = fl(rng, lead + (C,), dt)
    kw = {"reduction": red(rng)}
    name = ch(rng, "multilabel_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss")
    if name == "multilabel_margin_loss":
        t = np.full(lead + (C,), -1, dtype=np.int64)
        for row in t.reshape(-1, C):
            n = int(rng.integers(0, C + 1))
            row[:n] = rng.permutation(C)[:n]
        return Case(name, (x, Arr(t, False)), kw)
    if rng.random() < 0.4:
        kw["weight"] = fl(rng, (C,), dt, 0.5, 2, grad=False)
    if name == "multilabel_soft_margin_loss":
        return Case(name, (x, Arr((rng.random(lead + (C,)) < 0.5).astype(dt), False)), kw)
    kw.update(p=ch(rng, 1, 2), margin=ch(rng, 1.0, 0.5))
    if lead:
        return Case(name, (x, _class_target(rng, C, lead, None)), kw)
    return Case(name, (x, Arr(np.asarray(rng.integers(0, C)), False)), kw)


def _distance(lib, name):
    F = lib.nn.functional
    if name == "pairwise":
        return F.pairwise_distance
    return lambda a, b: 1.0 - F.cosine_similarity(a, b)


def _triplet_with_distance(lib, a, p, n, *, dist=None, **kw):
    fn = None if dist is None else _distance(lib, dist)
    return lib.nn.functional.triplet_margin_with_distance_loss(a, p, n, distance_function=fn, **kw)


def embedding_loss(rng):
    """cosine_embedding, triplet_margin, triplet_margin_with_distance."""
    dt, D = dtype(rng), ch(rng, 2, 3)
    lead = () if rng.random() < 0.15 else (ch(rng, 1, 3),)
    a, b = fl(rng, lead + (D,), dt), fl(rng, lead + (D,), dt)
    kw = {"reduction": red(rng), "margin": ch(rng, 0.0, 0.5, 1.0)}
    name = ch(rng, "cosine_embedding_loss", "triplet_margin_loss", "triplet_with_distance")
    if name == "cosine_embedding_loss":
        y = np.where(rng.random(lead) < 0.5, -1, 1).astype(np.int64)
        return Case(name, (a, b, Arr(y, False)), kw)
    kw["swap"] = bool(rng.random() < 0.5)
    c = fl(rng, lead + (D,), dt)
    if name == "triplet_margin_loss":
        kw.update(p=ch(rng, 1, 2, 3), eps=ch(rng, 1e-6, 0.1))
        return Case(name, (a, b, c), kw)
    return Case(_triplet_with_distance, (a, b, c), dict(kw, dist=ch(rng, None, "pairwise", "cos")))


def gaussian_nll(rng):
    """F.gaussian_nll_loss with full/broadcast variance shapes."""
    dt = dtype(rng)
    shape = (ch(rng, 1, 3),) + tuple(int(v) for v in rng.integers(1, 4, ch(rng, 0, 1)))
    vshape = ch(rng, shape, shape[:-1] + (1,), shape[:-1])
    var = fl(rng, vshape, dt, 0.2, 2, grad=bool(rng.random() < 0.7))
    if rng.random() < 0.05:
        var.data.flat[0] = -1.0
    return Case("gaussian_nll_loss", (fl(rng, shape, dt), fl(rng, shape, dt), var),
                {"full": bool(rng.random() < 0.5), "eps": ch(rng, 1e-6, 0.5),
                 "reduction": red(rng)})


def _ctc(lib, x, targets, il, tl, *, softmax, **kw):
    F = lib.nn.functional
    lp = F.log_softmax(x, -1) if softmax else x
    return F.ctc_loss(lp, targets, il, tl, **kw)


def ctc_loss(rng):
    """F.ctc_loss with padded or concatenated targets and every reduction."""
    dt, T, C = dtype(rng), int(rng.integers(3, 8)), int(rng.integers(2, 5))
    lead = () if rng.random() < 0.1 else (int(rng.integers(1, 4)),)
    n = lead[0] if lead else 1
    blank = ch(rng, 0, C - 1)
    labels = [c for c in range(C) if c != blank]
    tl = rng.integers(0, min(T, 4) + 1, n)
    il = rng.integers(max(1, T - 2), T + 1, n)
    seqs = [rng.choice(labels, int(k)) for k in tl]
    if lead and rng.random() < 0.4:
        targets = np.concatenate(seqs + [np.zeros(0)]).astype(np.int64)
    else:
        S = int(max(tl.max(), 1))
        targets = np.array([np.pad(s, (0, S - len(s)), constant_values=labels[0])
                            for s in seqs]).astype(np.int64).reshape(lead + (S,))
    as_tuple, as_tensor = (lambda v: tuple(int(a) for a in v)), (lambda v: Arr(v, False))
    form = ch(rng, (as_tuple, as_tuple), (as_tensor, as_tensor))
    if rng.random() < 0.1:  # invalid: plain ints, or a tensor with a tuple
        form = ch(rng, (lambda v: int(v[0]),) * 2, (as_tensor, as_tuple))
    il, tl = form[0](il.astype(np.int64)), form[1](tl.astype(np.int64))
    x = fl(rng, (T,) + lead + (C,), dt)
    if rng.random() < 0.5:
        x = Arr(np.log(np.exp(x.data) / np.exp(x.data).sum(-1, keepdims=True)), True)
        return Case(_ctc, (x, Arr(targets, False), il, tl),
                    dict(softmax=False, blank=blank, reduction=red(rng),
                         zero_infinity=bool(rng.random() < 0.5)))
    return Case(_ctc, (x, Arr(targets, False), il, tl),
                dict(softmax=True, blank=blank, reduction=red(rng),
                     zero_infinity=bool(rng.random() < 0.5)))


def distance(rng):
    """cosine_similarity, pairwise_distance, pdist."""
    dt = dtype(rng)
    name = ch(rng, "cosine_similarity", "pairwise_distance", "pdist")
    if name == "pdist":
        return Case(name, (fl(rng, (int(rng.integers(1, 5)), ch(rng, 1, 3)), dt),),
                    {"p": ch(rng, 1.0, 2.0, 3.0, 0.5, float("inf"))})
    shape = tuple(int(v) for v in rng.integers(1, 4, ch(rng, 1, 2, 3)))
    other = tuple(1 if rng.random() < 0.2 else s for s in shape)
    if name == "cosine_similarity":
        return Case(name, (fl(rng, shape, dt), fl(rng, other, dt)),
                    {"dim": int(rng.integers(-len(shape), len(shape))), "eps": ch(rng, 1e-8, 0.5)})
    return Case(name, (fl(rng, shape, dt), fl(rng, other, dt)),
                {"p": ch(rng, 1.0, 2.0, 3.0, float("inf")), "eps": ch(rng, 1e-6, 0.1),
                 "keepdim": bool(rng.random() < 0.5)})


def one_hot(rng):
    """F.one_hot with and without num_classes."""
    shape = tuple(int(v) for v in rng.integers(0, 4, ch(rng, 0, 1, 2)))
    n = ch(rng, -1, 3, 5, 2)
    return Case("one_hot", (ints(rng, 0, 4, shape),), {"num_classes": n})


LOSSES = {
    "cross_entropy": cross_entropy, "binary_cross_entropy": binary_cross_entropy,
    "pointwise_loss": pointwise_loss, "margin_loss": margin_loss,
    "embedding_loss": embedding_loss, "gaussian_nll": gaussian_nll, "ctc_loss": ctc_loss,
    "distance": distance, "one_hot": one_hot,
}
ALL = {**GENERATORS, **LOSSES}


# ---------------------------------------------------------------- the runner

def _to(lib, v, leaves, inputs):
    if isinstance(v, Arr):
        t = lib.tensor(v.data.copy())
        if v.grad and v.data.dtype.kind == "f":
            t.requires_grad_(True)
            leaves.append(t)
        else:
            inputs.append(t)
        return t
    if isinstance(v, (list, tuple)):
        return type(v)(_to(lib, a, leaves, inputs) for a in v)
    if isinstance(v, dict):
        return {k: _to(lib, a, leaves, inputs) for k, a in v.items()}
    return v


def _execute(lib, case):
    leaves, inputs = [], []
    args = _to(lib, case.args, leaves, inputs)
    kwargs = _to(lib, case.kwargs, leaves, inputs)
    fn = getattr(lib.nn.functional, case.fn) if isinstance(case.fn, str) else case.fn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(lib, *args, **kwargs) if not isinstance(case.fn, str) else fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the exception is what is compared
            return exc, leaves, inputs
    return (list(out) if isinstance(out, (tuple, list)) else [out]), leaves, inputs


def _same_error(e, t, what):
    if not isinstance(e, Exception):
        return [f"{what}: torch raised {type(t).__name__}: {first_line(t)}; ember did not"]
    if type(e).__name__ != type(t).__name__ or first_line(e) != first_line(t):
        return [f"{what}: torch raised {type(t).__name__}: {first_line(t)!r}; ember raised "
                f"{type(e).__name__}: {first_line(e)!r}"]
    return []


def _compare(e, t, what, tol_dt=None, grad=False):
    if e is None or t is None:
        if t is None and e is not None and not np.all(np_of(e) == 0):
            return [f"{what}: torch has None, ember nonzero"]
        return [f"{what}: torch has a value, ember None"] if e is None and t is not None else []
    te, tt = str(e.dtype).split(".")[-1], str(t.dtype).split(".")[-1]
    if te != tt:
        return [f"{what}: dtype {te} != torch {tt}"]
    if tuple(e.shape) != tuple(t.shape):
        return [f"{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"]
    a, b = np_of(e), np_of(t)
    if a.dtype.kind in "fc":
        ok = np.allclose(a, b, equal_nan=True, **tol(tol_dt or t.dtype, grad))
    else:
        ok = np.array_equal(a, b)
    return [] if ok else [f"{what}: values differ, max |diff| "
                          f"{np.nanmax(np.abs(a.astype(float) - b.astype(float)), initial=0)}"]


def check_case(case, seed=0):
    """Run one case on both libraries; return a list of discrepancies (empty when they agree)."""
    t_out, t_leaves, t_inputs = _execute(torch, case)
    e_out, e_leaves, e_inputs = _execute(ember, case)
    if isinstance(t_out, Exception):
        return _same_error(e_out, t_out, "call")
    if isinstance(e_out, Exception):
        return [f"call: ember raised {type(e_out).__name__}: {first_line(e_out)}; torch did not"]
    if len(e_out) != len(t_out):
        return [f"{len(e_out)} outputs, torch {len(t_out)}"]
    problems = []
    for i, (e, t) in enumerate(zip(e_out, t_out)):
        if case.shape_only:
            if tuple(e.shape) != tuple(t.shape) or str(e.dtype)[6:] != str(t.dtype)[6:]:
                problems.append(f"output {i}: {e.shape} {e.dtype} != torch {t.shape} {t.dtype}")
        else:
            problems += _compare(e, t, f"output {i}")
    for i, (e, t) in enumerate(zip(e_inputs, t_inputs)):
        problems += _compare(e, t, f"non-differentiable input {i} after the call")
    if problems or case.shape_only:
        return problems
    rng = np.random.default_rng(seed)
    pairs = [(e, t, rng.standard_normal(tuple(t.shape))) for e, t in zip(e_out, t_out)
             if t.requires_grad]
    if not pairs:
        return [f"output {i} requires grad in ember, not in torch" for i, e in enumerate(e_out)
                if e.requires_grad and t_out[i].dtype.is_floating_point]
    if not all(e.requires_grad for e, _, _ in pairs):
        return ["an output does not require grad in ember"]
    res = []
    for lib, ps in ((torch, [(t, g) for _, t, g in pairs]), (ember, [(e, g) for e, _, g in pairs])):
        try:
            grads = [lib.tensor(g.astype(str(o.dtype).split(".")[-1])) for o, g in ps]
            lib.autograd.backward([o for o, _ in ps], grads)
            res.append(None)
        except Exception as exc:  # noqa: BLE001
            res.append(exc)
    if isinstance(res[0], Exception):
        return _same_error(res[1], res[0], "backward")
    if isinstance(res[1], Exception):
        return [f"backward: ember raised {type(res[1]).__name__}: {first_line(res[1])}"]
    # a gradient that went through float32 (an output or another input) has its precision
    f32 = any(t.dtype == torch.float32 for t in t_out + t_leaves)
    for i, (e, t) in enumerate(zip(e_leaves, t_leaves)):
        problems += _compare(e.grad, t.grad, f"gradient of input {i}",
                             torch.float32 if f32 else t.dtype, True)
    return problems


def describe(case):
    """A short text of the case: the function, array shapes and dtypes, and the options."""
    def show(v):
        if isinstance(v, Arr):
            return f"Arr{v.data.shape}{v.data.dtype}{'' if v.grad else '[nograd]'}"
        if isinstance(v, (list, tuple)):
            return type(v)(show(a) for a in v)
        return v
    name = case.fn if isinstance(case.fn, str) else case.fn.__name__
    return f"{name}{show(case.args)} {dict((k, show(v)) for k, v in case.kwargs.items())}"


def case_for(name, seed):
    """The seeded case ``seed`` of generator ``name``."""
    rng = np.random.default_rng([zlib.crc32(name.encode()), seed])
    return ALL[name](rng), rng


@pytest.mark.parametrize("name", sorted(ALL))
def test_functional_matches_torch(name):
    failures = []
    for seed in range(SEEDS):
        case, rng = case_for(name, seed)
        ember.manual_seed(seed)
        torch.manual_seed(seed)
        problems = check_case(case, seed)
        if problems:
            failures.append(f"seed {seed}: {describe(case)}: {problems}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- regressions (minimised cases)

def _a(shape, dt=np.float64, grad=True):
    return fl(np.random.default_rng(len(shape)), shape, dt, grad=grad)


def _ids(values):
    return Arr(np.asarray(values, dtype=np.int64), False)


def _index_select(lib, x, index):
    return lib.index_select(x, 0, index)


REGRESSIONS = {
    # torch runs 1-d transposed convolutions as 2-d: its messages name a unit height
    "conv_transpose1d_output_padding_message": Case(
        "conv_transpose1d", (_a((1, 1, 6)), _a((1, 1, 2)), None),
        {"stride": 2, "output_padding": 2}),
    "conv_transpose1d_output_too_small_message": Case(
        "conv_transpose1d", (_a((1, 1, 4)), _a((1, 2, 1)), None), {"padding": 2}),
    # option lengths are checked before channels; 'same' has its own words
    "conv1d_padding_length_before_channels": Case(
        "conv1d", (_a((1, 2, 5)), _a((1, 1, 2)), None), {"padding": (0, 0)}),
    "conv_transpose2d_stride_length_before_channels": Case(
        "conv_transpose2d", (_a((1, 3, 5, 5)), _a((2, 1, 2, 2)), None), {"stride": (1, 1, 1)}),
    "conv2d_negative_padding_before_channels": Case(
        "conv2d", (_a((1, 2, 5, 5)), _a((1, 1, 2, 2)), None), {"padding": -1, "stride": 0}),
    "conv_transpose2d_negative_output_padding_before_channels": Case(
        "conv_transpose2d", (_a((1, 3, 5, 5)), _a((2, 1, 2, 2)), None),
        {"output_padding": -1, "stride": 0}),
    "conv3d_invalid_padding_string_before_channels": Case(
        "conv3d", (_a((2, 2, 4, 4, 3)), _a((1, 1, 1, 2, 3)), None), {"padding": "bogus"}),
    "conv1d_same_stride_length": Case(
        "conv1d", (_a((1, 2, 5)), _a((1, 1, 2)), None), {"padding": "same", "stride": (1, 1)}),
    "conv2d_same_dilation_length": Case(
        "conv2d", (_a((1, 1, 5, 5)), _a((1, 1, 2, 2)), None),
        {"padding": "same", "dilation": (1, 1, 1)}),
    "conv3d_same_even_kernel_channel_message": Case(
        "conv3d", (_a((2, 3, 5, 2, 5)), _a((1, 2, 1, 2, 3)), None), {"padding": "same"}),
    # K-dim input runs through nll_loss2d
    "nll_loss_kdim_weight_requires_grad": Case(
        "nll_loss", (_a((3, 2, 2, 3)), _ids(np.zeros((3, 2, 3)))), {"weight": _a((2,))}),
    "cross_entropy_kdim_weight_requires_grad": Case(
        "cross_entropy", (_a((3, 5, 2)), _ids(np.zeros((3, 2)))), {"weight": _a((5,))}),
    # an empty index's backward
    "pdist_one_row_backward": Case("pdist", (_a((1, 3)),)),
    "index_select_empty_backward": Case(_index_select, (_a((3, 2)), _ids(np.zeros(0)))),
    # torch's CPU flash kernel applies is_causal on top of attn_mask; math refuses both
    "sdpa_causal_and_bool_mask_4d": Case(
        "scaled_dot_product_attention", (_a((1, 2, 3, 4)), _a((1, 2, 5, 4)), _a((1, 2, 5, 4))),
        {"is_causal": True, "attn_mask": Arr(np.random.default_rng(1).random((3, 5)) < 0.6,
                                             False)}),
    "sdpa_causal_and_float_mask_4d": Case(
        "scaled_dot_product_attention", (_a((1, 1, 2, 4)), _a((1, 1, 3, 4)), _a((1, 1, 3, 4))),
        {"is_causal": True, "attn_mask": _a((1, 1, 2, 3), grad=False)}),
    "sdpa_causal_and_mask_3d_raises": Case(
        "scaled_dot_product_attention", (_a((1, 2, 4)), _a((1, 2, 4)), _a((1, 2, 4))),
        {"is_causal": True, "attn_mask": _a((2, 2), grad=False)}),
    # the gradient of a full-shape float mask was scaled along with the query's
    "sdpa_full_float_mask_gradient": Case(
        "scaled_dot_product_attention", (_a((3, 4)), _a((3, 4)), _a((3, 3))),
        {"attn_mask": _a((3, 3))}),
    # torch adds the mask to the scores in place: it may not widen them
    "sdpa_mask_wider_than_scores": Case(
        "scaled_dot_product_attention", (_a((2, 1, 1)), _a((2, 2, 1)), _a((2, 2, 3))),
        {"attn_mask": _a((2, 2), grad=False)}),
    # the mask's dtype is validated first (bool, float32 or the query's), float32 always passes
    "sdpa_float32_mask_on_float64_query": Case(
        "scaled_dot_product_attention", (_a((2, 3, 4)), _a((2, 3, 4)), _a((2, 3, 4))),
        {"attn_mask": _a((3, 3), np.float32)}),
    "sdpa_int_mask_with_is_causal": Case(
        "scaled_dot_product_attention", (_a((2, 1)), _a((1, 1)), _a((1, 2))),
        {"attn_mask": _ids([[1], [0]]), "is_causal": True}),
    # lengths: both sequences or both tensors
    "ctc_int_lengths": Case(_ctc, (_a((5, 4)), _ids([1, 2]), 5, 2), {"softmax": True}),
    "ctc_tensor_and_tuple_lengths": Case(
        _ctc, (_a((5, 1, 4)), _ids([[1, 2]]), _ids([5]), (2,)), {"softmax": True}),
    # negative pads that leave a negative size (but not all): torch's allocation fails
    "pad_replicate_negative_size": Case(
        "pad", (_a((2, 4, 2, 3)), (1, -2, -2, -1)), {"mode": "replicate"}),
    "pad_reflect_2d_negative_size": Case(
        "pad", (_a((1, 2, 2, 3)), (1, -2, -2, -1)), {"mode": "reflect"}),
    "pad_reflect_3d_negative_size": Case(
        "pad", (_a((2, 2, 3, 3, 3)), (-2, -2, 0, 0, -3, -3)), {"mode": "reflect"}),
    # a bad id: the fast path (float32, sum/mean, no padding_idx) words it apart
    "embedding_bag_bad_id_float64": Case(
        "embedding_bag", (_ids([1, 10, 2, 3]), _a((10, 3))), {"offsets": _ids([0, 2])}),
    "embedding_bag_bad_id_padding_idx": Case(
        "embedding_bag", (_ids([1, 10, 2, 3]), _a((10, 3), np.float32)),
        {"offsets": _ids([0, 2]), "padding_idx": 1}),
    "embedding_bag_bad_id_fast_path": Case(
        "embedding_bag", (_ids([1, 10, 2, 3]), _a((10, 3), np.float32)),
        {"offsets": _ids([0, 2])}),
    # an empty adaptive pooling: forward fine, backward refused
    "adaptive_avg_pool1d_zero_output_backward": Case("adaptive_avg_pool1d", (_a((2, 1, 3)), 0)),
    "adaptive_avg_pool2d_zero_output_backward": Case(
        "adaptive_avg_pool2d", (_a((2, 3, 4)), (2, 0))),
    "adaptive_max_pool2d_zero_output_backward": Case(
        "adaptive_max_pool2d", (_a((2, 1, 3, 4)), 0), {"return_indices": True}),
    # torch's global average (output 1) is a mean over the last two dims, of any rank
    "adaptive_avg_pool2d_global_of_5d": Case("adaptive_avg_pool2d", (_a((1, 2, 1, 4, 2)), 1)),
    "adaptive_max_pool2d_output_size_length": Case(
        "adaptive_max_pool2d", (_a((1, 2, 7, 4)), (2, 2, 2))),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression_matches_torch(name):
    case = REGRESSIONS[name]
    assert not check_case(case), check_case(case)
