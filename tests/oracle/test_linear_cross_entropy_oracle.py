"""``linear_cross_entropy``, ``LinearCrossEntropyLoss``, ``LinearCrossEntropyOptions`` and
``grouped_mm`` against torch 2.13: values, gradients, node names, warnings and errors, on the
reference path (``options=None``) and the chunked one.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

REDUCTIONS = ["mean", "sum", "none"]
# None: the reference path; dicts: LinearCrossEntropyOptions(**d) (chunks of 4, and "auto")
OPTIONS = [None, {"batch_chunk_size": 4}, {}]
N, F, C = 11, 6, 9


def arrays(seed=0, n=N, f=F, c=C):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, f)).astype(np.float32)
    w = rng.standard_normal((c, f)).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    cw = rng.uniform(0.2, 2.0, c).astype(np.float32)
    t = rng.integers(0, c, n)
    t[[1, 6]] = 3                                     # repeated classes
    return x, w, b, cw, t


def run(lib, x, w, t, *, bias=None, cw=None, options=None, seed=5, **kw):
    """Loss, gradients of input / weight / bias for a random upstream gradient, node name."""
    X = lib.tensor(x, requires_grad=True)
    W = lib.tensor(w, requires_grad=True)
    B = None if bias is None else lib.tensor(bias, requires_grad=True)
    opts = None if options is None else lib.nn.LinearCrossEntropyOptions(**options)
    out = lib.nn.functional.linear_cross_entropy(
        X, W, lib.tensor(t), linear_bias=B, weight=None if cw is None else lib.tensor(cw),
        options=opts, **kw)
    g = np.random.default_rng(seed).uniform(0.5, 1.5, tuple(out.shape)).astype(x.dtype)
    out.backward(lib.tensor(g))
    return out, X.grad, W.grad, None if B is None else B.grad, type(out.grad_fn).__name__


def compare(torch, *args, names=True, **kw):
    got, want = run(ember, *args, **kw), run(torch, *args, **kw)
    for a, e in zip(got[:4], want[:4]):
        if e is None:
            assert a is None
        else:
            assert_close(a, e, rtol=1e-4, atol=1e-5)
    if names:
        assert got[4] == want[4]


def outcome(fn, lib):
    """``('ok', value)`` or ``(exception type name, message)``; warnings recorded too."""
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        try:
            res = ("ok", fn(lib))
        except Exception as e:  # noqa: BLE001  (compared with torch's)
            res = (type(e).__name__, str(e).replace("torch.", "ember."))
    return res, [str(w.message).replace("torch.", "ember.") for w in ws]


def same_outcome(torch, fn, *, explained=False):
    """Same value or same error as torch; ``explained``: ember's message may go on after
    torch's (ember explains the freed-graph error)."""
    (got, gw), (want, ww) = outcome(fn, ember), outcome(fn, torch)
    assert gw == ww
    assert got[0] == want[0], (got, want)
    if got[0] == "ok":
        assert_close(got[1], want[1], rtol=1e-4, atol=1e-5)
    elif explained:
        assert got[1].startswith(want[1]), (got, want)
    else:
        assert got[1] == want[1]
    return got


# --- values and gradients -------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", OPTIONS, ids=["reference", "chunk4", "auto"])
@pytest.mark.parametrize("case", ["plain", "bias_weight", "ignore", "ignore_in_range"])
def test_matches_torch(torch, reduction, options, case):
    x, w, b, cw, t = arrays()
    kw = {}
    if case == "bias_weight":
        kw = dict(bias=b, cw=cw)
    elif case == "ignore":
        t[[0, 7]] = -100                              # the default ignore_index
        kw = dict(cw=cw)
    elif case == "ignore_in_range":
        kw = dict(ignore_index=3, bias=b)
    compare(torch, x, w, t, reduction=reduction, options=options, names=options is not None,
            **kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", OPTIONS, ids=["reference", "chunk4", "auto"])
def test_unbatched_input(torch, reduction, options):
    x, w, b, _, t = arrays()
    compare(torch, x[2], w, t[2], bias=b, reduction=reduction, options=options,
            names=options is not None)


@pytest.mark.parametrize("chunk", [1, 3, 11, 50])
def test_chunk_sizes_float64(torch, chunk):
    x, w, b, cw, t = (a.astype(np.float64) if a.dtype == np.float32 else a for a in arrays(3))
    t[4] = -100
    compare(torch, x, w, t, bias=b, cw=cw, options={"batch_chunk_size": chunk})


def test_float16_chunked_accumulates_in_float32(torch):
    x, w, b, _, t = (a.astype(np.float16) if a.dtype == np.float32 else a for a in arrays(4))
    got, want = run(ember, x, w, t, options={}), run(torch, x, w, t, options={})
    assert got[0].dtype == ember.float16
    for a, e in zip(got[:3], want[:3]):
        assert_close(a, e, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_probability_targets_and_smoothing(torch, reduction, smoothing):
    x, w, b, cw, _ = arrays(1)
    probs = np.random.default_rng(2).dirichlet(np.ones(C), N).astype(np.float32)
    compare(torch, x, w, probs, bias=b, cw=cw, reduction=reduction, label_smoothing=smoothing,
            names=False)
    t = arrays(1)[4]
    compare(torch, x, w, t, cw=cw, reduction=reduction, label_smoothing=smoothing, names=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_k_dimensional_loss(torch, reduction):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    w = rng.standard_normal((3, 2, 4)).astype(np.float32)
    b = rng.standard_normal((3, 2)).astype(np.float32)
    t = rng.integers(0, 3, (5, 2))
    compare(torch, x, w, t, bias=b, reduction=reduction, names=False)
    probs = rng.dirichlet(np.ones(3), (5, 2)).transpose(0, 2, 1).astype(np.float32)
    compare(torch, x, w, probs, reduction=reduction, names=False)


def test_empty_batch(torch):
    x, w, _, _, t = arrays()
    for reduction in REDUCTIONS:
        for options in OPTIONS[:2]:
            same_outcome(torch, lambda T, r=reduction, o=options: T.nn.functional.
                         linear_cross_entropy(T.tensor(x[:0]), T.tensor(w), T.tensor(t[:0]),
                                              reduction=r, options=None if o is None else
                                              T.nn.LinearCrossEntropyOptions(**o)))


def test_all_ignored_mean_is_nan(torch):
    x, w, _, _, t = arrays()
    t[:] = -100
    same_outcome(torch, lambda T: T.nn.functional.linear_cross_entropy(
        T.tensor(x), T.tensor(w), T.tensor(t), options=T.nn.LinearCrossEntropyOptions()))


# --- the chunked node -----------------------------------------------------------------------
def test_chunked_node_names_and_edges(torch):
    x, w, b, cw, t = arrays()
    for lib in (torch, ember):
        X, W = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        B = lib.tensor(b, requires_grad=True)
        o = lib.nn.LinearCrossEntropyOptions()
        names = []
        for kw in (dict(), dict(linear_bias=B), dict(linear_bias=B, weight=lib.tensor(cw))):
            for red in REDUCTIONS:
                fn = lib.nn.functional.linear_cross_entropy(X, W, lib.tensor(t), reduction=red,
                                                            options=o, **kw).grad_fn
                names.append((fn.name(), [e[0] is None for e in fn.next_functions]))
        un = lib.nn.functional.linear_cross_entropy(X[0], W, lib.tensor(t[0]), options=o)
        names.append((un.grad_fn.name(), un.grad_fn.next_functions[0][0].name()))
        if lib is torch:
            want = names
    assert names[:-1] == want[:-1]
    assert names[-1][0] == want[-1][0] == "SqueezeBackward1"
    assert names[-1][1] == want[-1][1]


def test_second_backward(torch):
    x, w, _, _, t = arrays()

    def twice(T, allow, reduction, retain):
        X = T.tensor(x, requires_grad=True)
        opts = T.nn.LinearCrossEntropyOptions(allow_retain_graph=allow)
        loss = T.nn.functional.linear_cross_entropy(X, T.tensor(w), T.tensor(t), options=opts,
                                                    reduction=reduction).sum()
        loss.backward(retain_graph=retain)
        loss.backward()
        return X.grad

    for allow in (False, True):
        for reduction in REDUCTIONS:
            for retain in (False, True):
                same_outcome(torch, lambda T, a=allow, r=reduction, k=retain: twice(T, a, r, k),
                             explained=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_create_graph_gradients_match_torch(torch, reduction):
    """torch's chunked gradients come back detached under create_graph; ember's are the same
    numbers, and can be differentiated again (checked without torch in tests/nn)."""
    x, w, b, _, t = arrays(2)
    res = []
    for lib in (torch, ember):
        X, W = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        B = lib.tensor(b, requires_grad=True)
        out = lib.nn.functional.linear_cross_entropy(
            X, W, lib.tensor(t), linear_bias=B, reduction=reduction,
            options=lib.nn.LinearCrossEntropyOptions(batch_chunk_size=3))
        res.append(lib.autograd.grad(out.sum(), (X, W, B), create_graph=True))
    for a, e in zip(res[1], res[0]):
        assert_close(a, e, rtol=1e-4, atol=1e-5)
    assert all(g.requires_grad for g in res[1])


def test_class_weight_gets_no_gradient_on_chunked_path(torch):
    x, w, _, cw, t = arrays()
    for lib in (torch, ember):
        CW = lib.tensor(cw, requires_grad=True)
        lib.nn.functional.linear_cross_entropy(
            lib.tensor(x, requires_grad=True), lib.tensor(w), lib.tensor(t), weight=CW,
            options=lib.nn.LinearCrossEntropyOptions()).backward()
        assert CW.grad is None


# --- warnings and errors --------------------------------------------------------------------
def _lce(x, w, t, **kw):
    def call(T):
        conv = {k: (T.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        if isinstance(conv.get("options"), dict):
            conv["options"] = T.nn.LinearCrossEntropyOptions(**conv["options"])
        return T.nn.functional.linear_cross_entropy(T.tensor(x), T.tensor(w), T.tensor(t),
                                                    **conv)
    return call


def test_fallback_warnings(torch):
    x, w, b, _, t = arrays()
    probs = np.full((N, C), 1 / C, np.float32)
    rng = np.random.default_rng(0)
    wk, bk = rng.standard_normal((C, 2, F)).astype(np.float32), np.ones((C, 2), np.float32)
    tk = rng.integers(0, C, (N, 2))
    cases = [_lce(x, w, t, options={}, label_smoothing=0.1),
             _lce(x, w, probs, options={}),
             _lce(x, wk, tk, linear_bias=bk, options={}),          # K-dimensional bias
             _lce(x, wk, tk, options={"batch_chunk_size": 2}, reduction="sum"),
             _lce(x, w, t.astype(np.int32), options={}),
             _lce(x, w, t, options={}, reduction="foo")]
    for fn in cases:
        same_outcome(torch, fn)


def test_errors(torch):
    x, w, b, cw, t = arrays()
    bad_t = t.copy()
    bad_t[5] = C + 2
    neg_t = t.copy()
    neg_t[2] = -3
    probs = np.full((N, C), 1 / C, np.float32)
    rng = np.random.default_rng(0)
    wk = rng.standard_normal((C, 2, F)).astype(np.float32)
    cases = [
        _lce(x[None], w, t), _lce(x, w[0], t), _lce(x, w[:, :4], t),
        _lce(x, w, t, linear_bias=b[:4]), _lce(x[0], wk, t[:2].reshape(2)),
        _lce(x, w, probs, ignore_index=1),
        _lce(x, w, bad_t, options={}), _lce(x, w, neg_t, options={"batch_chunk_size": 4}),
        _lce(x, w, bad_t, options={}, reduction="none"), _lce(x, w, bad_t),
        _lce(x, w, t, weight=cw[:3], options={}), _lce(x, w, t, weight=cw[:3]),
        _lce(x, w, t[:7], options={"batch_chunk_size": 4}), _lce(x, w, t[:7]),
        _lce(x, w, np.concatenate([t, t[:3]]), options={}),
        _lce(x, w, t[0], options={}), _lce(x[0], w, t[:1], options={}),
        _lce(x.astype(np.float64), w, t, options={}), _lce(x.astype(np.float64), w, t),
        _lce(x, w, t, options={"acc_dtype": "float64"}),
        _lce(x, w, t, options={"batch_chunk_size": 3, "chunking_method": "aspect_ratio"}),
    ]
    for fn in cases:
        same_outcome(torch, fn)


def test_acc_dtype_mismatch(torch):
    x, w, _, _, t = arrays()
    for lib in (torch, ember):
        opts = lib.nn.LinearCrossEntropyOptions(acc_dtype=lib.float64)
        with pytest.raises(RuntimeError) as info:
            lib.nn.functional.linear_cross_entropy(lib.tensor(x), lib.tensor(w), lib.tensor(t),
                                                   options=opts)
        msg = str(info.value).replace("torch.", "ember.")
    assert msg == ("linear_cross_entropy supports float32 acc_dtype with float16/bfloat16 "
                   "inputs, but got ember.float64 acc_dtype and ember.float32 inputs.")


# --- options --------------------------------------------------------------------------------
def test_options_repr_validation_and_adjust(torch):
    for lib in (torch, ember):
        assert repr(lib.nn.LinearCrossEntropyOptions()) == (
            "LinearCrossEntropyOptions(allow_retain_graph=False, batch_chunk_size=None, "
            "chunking_method='auto', acc_policy='auto', acc_dtype=None)")
    for kw in [dict(acc_policy="x"), dict(chunking_method="foo"),
               dict(chunking_method="aspect_ratio:0"), dict(batch_chunk_size=0),
               dict(batch_chunk_size=2.0)]:
        same_outcome(torch, lambda T, k=kw: T.nn.LinearCrossEntropyOptions(**k))
    with pytest.raises(ValueError, match="acc_dtype must be one of"):
        ember.nn.LinearCrossEntropyOptions(acc_dtype=ember.int32)
    sizes = [(4096, 256, 32000), (100, 16, 1000), (7, 64, 10), (1, 3, 5), (33, 8, 8)]
    options = [dict(), dict(chunking_method="aspect_ratio"), dict(chunking_method="aspect_ratio:4"),
               dict(batch_chunk_size=5), dict(chunking_method=None), dict(acc_policy="balanced")]
    for n, f, c in sizes:
        for kw in options:
            for dt in ("float32", "float16", "float64"):
                got = ember.nn.LinearCrossEntropyOptions(**kw)._adjust(
                    n, f, c, getattr(ember, dt), ember.device("cpu"))
                want = torch.nn.LinearCrossEntropyOptions(**kw)._adjust(
                    n, f, c, getattr(torch, dt), torch.device("cpu"))
                assert repr(got).replace("ember.", "torch.") == repr(want)


# --- the module -----------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("out_features", [(), (2,)])
def test_module_matches_torch(torch, bias, out_features):
    cw = np.linspace(0.5, 1.5, C).astype(np.float32)
    mods = []
    for lib in (torch, ember):
        lib.manual_seed(3)
        mods.append(lib.nn.LinearCrossEntropyLoss(F, C, out_features=out_features, bias=bias,
                                                  weight=lib.tensor(cw), ignore_index=2))
    tm, em = mods
    assert list(em.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v)
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert repr(em) == repr(tm)
    x = np.random.default_rng(0).standard_normal((N, F)).astype(np.float32)
    t = np.random.default_rng(1).integers(0, C, (N, *out_features))
    outs = []
    for lib, m in ((torch, tm), (ember, em)):
        X = lib.tensor(x, requires_grad=True)
        out = m(X, lib.tensor(t))
        out.backward()
        outs.append((out, X.grad, m.linear.weight.grad))
    for a, e in zip(outs[1], outs[0]):
        assert_close(a, e, rtol=1e-4, atol=1e-5)


def test_module_with_options_and_repr(torch):
    mods = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        mods.append(lib.nn.LinearCrossEntropyLoss(
            F, C, bias=True, reduction="sum",
            options=lib.nn.LinearCrossEntropyOptions(batch_chunk_size=4)))
    assert repr(mods[1]) == repr(mods[0])
    x, _, _, _, t = arrays()
    outs = []
    for lib, m in zip((torch, ember), mods):
        out = m(lib.tensor(x), lib.tensor(t))
        out.backward()
        outs.append((out, m.linear.weight.grad, m.linear.bias.grad, out.grad_fn.name()))
    for a, e in zip(outs[1][:3], outs[0][:3]):
        assert_close(a, e, rtol=1e-4, atol=1e-5)
    assert outs[1][3] == outs[0][3]


def test_module_constructor_errors(torch):
    for kw in [dict(weight=np.ones(3, np.float32)), dict(label_smoothing=1.5),
               dict(label_smoothing=-0.1)]:
        def make(T, kw=kw):
            k = {n: (T.tensor(v) if isinstance(v, np.ndarray) else v) for n, v in kw.items()}
            return T.nn.LinearCrossEntropyLoss(4, C, **k)
        (got, _), (want, _) = outcome(make, ember), outcome(make, torch)
        assert got == want


# --- grouped_mm -----------------------------------------------------------------------------
GROUPED = [  # (shape a, shape b, offsets, rows / cols / groups torch fills)
    ((3, 4, 8), (3, 8, 12), None),
    ((10, 8), (3, 8, 12), [2, 5, 9]),
    ((10, 8), (3, 8, 12), [5, 2, 10]),                # decreasing: an empty group
    ((3, 4, 8), (8, 16), [3, 7, 16]),
    ((4, 16), (16, 12), [3, 7, 16]),
    ((4, 16), (16, 12), [4, 4, 16]),
]


def _grouped(lib, a, b, offs, g):
    A, B = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
    O = None if offs is None else lib.tensor(np.array(offs, np.int32))
    out = lib.nn.functional.grouped_mm(A, B, offs=O)
    out.backward(lib.tensor(g))
    return out, A.grad, B.grad, out.grad_fn.name(), out.stride()


@pytest.mark.parametrize("sa,sb,offs", GROUPED)
def test_grouped_mm_matches_torch(torch, sa, sb, offs):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(sa).astype(np.float32)
    b = rng.standard_normal(sb).astype(np.float32)
    shape = tuple(torch.nn.functional.grouped_mm(
        torch.tensor(a), torch.tensor(b),
        offs=None if offs is None else torch.tensor(offs, dtype=torch.int32)).shape)
    g = rng.standard_normal(shape).astype(np.float32)
    got, want = _grouped(ember, a, b, offs, g), _grouped(torch, a, b, offs, g)
    assert got[3:] == want[3:]
    # torch leaves what no group covers uninitialized: compare the covered part
    end = None if offs is None else max(offs)
    cover = {(2, 3): np.s_[:end], (3, 2): np.s_[:], (2, 2): np.s_[:]}.get((len(sa), len(sb)),
                                                                         np.s_[:])
    assert_close(got[0][cover], want[0][cover], rtol=1e-4, atol=1e-5)
    if len(sa) == 2 and len(sb) == 3:
        assert_close(got[1][:end], want[1][:end], rtol=1e-4, atol=1e-5)
        assert_close(got[2], want[2], rtol=1e-4, atol=1e-5)
        assert not got[0].detach().numpy()[end:].any()    # ember: zeros there
    elif len(sa) == 2:                               # 2D x 2D: the contraction grouped
        assert_close(got[1][:, :end], want[1][:, :end], rtol=1e-4, atol=1e-5)
        assert_close(got[2][:end], want[2][:end], rtol=1e-4, atol=1e-5)
    else:
        assert_close(got[1], want[1], rtol=1e-4, atol=1e-5)
        assert_close(got[2], want[2], rtol=1e-4, atol=1e-5)


def test_grouped_mm_padded_output_strides(torch):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4, 8)).astype(np.float32)
    b = rng.standard_normal((3, 8, 8)).astype(np.float32)
    outs = [lib.nn.functional.grouped_mm(lib.tensor(a), lib.tensor(b)[..., :6])
            for lib in (torch, ember)]
    assert outs[1].stride() == outs[0].stride() == (32, 8, 1)
    assert_close(outs[1], outs[0], rtol=1e-4, atol=1e-5)


def test_grouped_mm_double_backward(torch):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((10, 8)).astype(np.float32)
    b = rng.standard_normal((3, 8, 12)).astype(np.float32)
    g = rng.standard_normal((10, 12)).astype(np.float32)
    res = []
    for lib in (torch, ember):
        A, B = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = lib.nn.functional.grouped_mm(A, B, offs=lib.tensor(np.array([3, 7, 10], np.int32)))
        ga, gb = lib.autograd.grad(out, (A, B), lib.tensor(g), create_graph=True)
        (ga * ga).sum().backward(inputs=[B])
        res.append((ga, gb, B.grad))
    for x, y in zip(res[1], res[0]):
        assert_close(x, y, rtol=1e-4, atol=1e-4)


def test_grouped_mm_errors(torch):
    rng = np.random.default_rng(0)

    def r(*s, dtype=np.float32):
        return rng.standard_normal(s).astype(dtype)

    i32 = np.array([2, 5, 9], np.int32)
    cases = [
        (r(3, 4, 8, dtype=np.float64), r(3, 8, 12), {}), (r(3, 4, 8), r(3, 8, 12).astype(int), {}),
        (r(1, 3, 4, 8), r(3, 8, 12), {}), (r(8), r(3, 8, 12), {"offs": i32}),
        (r(3, 4, 8), r(3, 6, 12), {}), (r(3, 4, 5), r(3, 5, 12), {}),
        (r(3, 4, 8), r(3, 8, 6), {}), (r(10, 8), r(3, 8, 12), {}),
        (r(3, 4, 8), r(3, 8, 12), {"offs": i32}), (r(10, 8), r(3, 8, 12), {"offs": i32[None]}),
        (r(10, 8), r(3, 8, 12), {"offs": i32.astype(np.int64)}),
        (r(3, 4, 8), r(3, 8, 12), {"bias": r(12)}), (r(10, 8), r(3, 8, 12), {"offs": i32[:2]}),
        (r(3, 4, 8), r(4, 8, 12), {}), (r(3, 4, 8), r(3, 8, 12), {"out_dtype": "float64"}),
        (r(4, 12), r(11, 12), {"offs": np.array([3, 7, 12], np.int32)}),
        (r(3, 4, 8), r(3, 8, 12).astype(np.float16), {}),
        (r(10, 8), r(3, 8, 12).astype(np.float16), {"offs": i32}),
        (r(3, 1, 8), r(3, 8, 1), {}),
    ]
    for a, b, kw in cases:
        def call(T, a=a, b=b, kw=kw):
            k = {n: (T.tensor(v) if isinstance(v, np.ndarray) else getattr(T, v))
                 for n, v in kw.items()}
            return T.nn.functional.grouped_mm(T.tensor(a), T.tensor(b), **k)
        (got, _), (want, _) = outcome(call, ember), outcome(call, torch)
        assert got[0] == want[0], (got, want)
        if got[0] != "ok":
            assert got[1] == want[1]
