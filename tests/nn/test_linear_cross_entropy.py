"""``linear_cross_entropy`` (reference and chunked), ``LinearCrossEntropyLoss`` and
``grouped_mm`` without torch: the chunked path equals the reference one, finite-difference
gradient checks in float64, and the chunked path's memory stays far below the logits'."""
from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import LinearCrossEntropyLoss, LinearCrossEntropyOptions
from ember.nn.functional._grouped_mm import GroupedMm
from tests.helpers import assert_close

REDUCTIONS = ["mean", "sum", "none"]


def inputs(n=10, f=5, c=7, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.standard_normal((n, f)).astype(dtype), requires_grad=True)
    w = ember.tensor(rng.standard_normal((c, f)).astype(dtype), requires_grad=True)
    b = ember.tensor(rng.standard_normal(c).astype(dtype), requires_grad=True)
    cw = ember.tensor(rng.uniform(0.3, 2.0, c).astype(dtype))
    t = rng.integers(0, c, n)
    t[[2, 5]] = 1                                   # a repeated class
    t[3] = -100                                     # an ignored row
    return x, w, b, cw, ember.tensor(t)


def loss_and_grads(options, reduction, *, chunk_input=None, **kw):
    x, w, b, cw, t = chunk_input or inputs()
    out = F.linear_cross_entropy(x, w, t, linear_bias=b, weight=cw, reduction=reduction,
                                 options=options, **kw)
    g = ember.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
    out.backward(g)
    return out, x.grad, w.grad, b.grad


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("chunk", [1, 3, 10, 64])
def test_chunked_equals_reference(reduction, chunk):
    ref = loss_and_grads(None, reduction)
    got = loss_and_grads(LinearCrossEntropyOptions(batch_chunk_size=chunk), reduction)
    for a, e in zip(got, ref):
        assert_close(a, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_chunked_equals_reference_ignore_index_in_range_and_unbatched(reduction):
    opts = LinearCrossEntropyOptions(batch_chunk_size=4)
    for kw in (dict(ignore_index=1), dict()):
        x, w, b, cw, t = inputs()
        t = ember.tensor(np.where(t.numpy() < 0, 0, t.numpy()))
        ref = loss_and_grads(None, reduction, chunk_input=(x, w, b, cw, t), **kw)
        got = loss_and_grads(opts, reduction, chunk_input=inputs()[:4] + (t,), **kw)
        for a, e in zip(got, ref):
            assert_close(a, e, rtol=1e-10, atol=1e-12)
    x, w, b, _, t = inputs()
    one = [F.linear_cross_entropy(x[4], w, t[4], linear_bias=b, reduction=reduction,
                                  options=o) for o in (None, opts)]
    assert one[1].shape == one[0].shape == ()
    assert_close(one[1], one[0], rtol=1e-12, atol=1e-12)


def test_float32_chunked_close_to_reference():
    x, w, b, cw, t = inputs(dtype=np.float32)
    ref = F.linear_cross_entropy(x, w, t, linear_bias=b, weight=cw)
    got = F.linear_cross_entropy(x, w, t, linear_bias=b, weight=cw,
                                 options=LinearCrossEntropyOptions())
    assert got.dtype == ember.float32
    assert_close(got, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_chunked_gradcheck_and_gradgradcheck(reduction):
    x, w, b, cw, t = inputs(n=7, f=3, c=4)
    opts = LinearCrossEntropyOptions(batch_chunk_size=3, allow_retain_graph=True)

    def fn(x, w, b):
        return F.linear_cross_entropy(x, w, t, linear_bias=b, weight=cw, reduction=reduction,
                                      options=opts)

    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


def test_reference_gradcheck_k_dimensional_and_probabilities():
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((5, 2, 3)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    t = ember.tensor(rng.integers(0, 5, (4, 2)))
    probs = ember.tensor(rng.dirichlet(np.ones(5), (4, 2)).transpose(0, 2, 1).copy())
    assert gradcheck(lambda x, w, b: F.linear_cross_entropy(x, w, t, linear_bias=b,
                                                            label_smoothing=0.1), (x, w, b))
    assert gradcheck(lambda x, w: F.linear_cross_entropy(x, w, probs, reduction="sum"), (x, w))


def test_value_by_hand():
    x, w, b, cw, t = inputs()
    logits = x.detach().numpy() @ w.detach().numpy().T + b.detach().numpy()
    lse = np.log(np.exp(logits).sum(1))
    tt = t.numpy()
    keep = tt != -100
    nll = lse[keep] - logits[keep, tt[keep]]
    wt = cw.numpy()[tt[keep]]
    want = (nll * wt).sum() / wt.sum()
    got = F.linear_cross_entropy(x, w, t, linear_bias=b, weight=cw,
                                 options=LinearCrossEntropyOptions(batch_chunk_size=3))
    assert abs(got.item() - want) < 1e-12


def test_chunked_node_and_second_backward():
    x, w, _, _, t = inputs()
    loss = F.linear_cross_entropy(x, w, t, options=LinearCrossEntropyOptions())
    assert loss.grad_fn.name() == ("GeneratedBackwardFor_torch_nn__linear_cross_entropy_"
                                   "batch_chunked_defaultBackward")
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="chunked backward called twice"):
        loss.backward()
    x.grad = None
    loss = F.linear_cross_entropy(x, w, t, options=LinearCrossEntropyOptions(
        allow_retain_graph=True))
    loss.backward()
    first = x.grad.numpy().copy()
    loss.backward()                                 # allowed: the gradients add up
    assert_close(x.grad, 2 * first)


def test_fallback_warns_and_matches_reference():
    x, w, b, _, t = inputs()
    t = ember.tensor(np.abs(t.numpy()) % 7)
    with pytest.warns(UserWarning, match="``options`` ignored"):
        got = F.linear_cross_entropy(x, w, t, label_smoothing=0.1,
                                     options=LinearCrossEntropyOptions())
    assert_close(got, F.linear_cross_entropy(x, w, t, label_smoothing=0.1))


def test_errors():
    x, w, b, _, t = inputs()
    with pytest.raises(RuntimeError, match="dimensionality 1 or 2, got 3"):
        F.linear_cross_entropy(x[None], w, t)
    with pytest.raises(RuntimeError, match=r"expected linear_bias shape \(7,\), got \(3,\)"):
        F.linear_cross_entropy(x, w, t, linear_bias=b[:3])
    bad = ember.tensor(np.where(t.numpy() < 0, 9, t.numpy()))
    with pytest.raises(RuntimeError, match="index 9 is out of bounds for dimension 1 with size 7"):
        F.linear_cross_entropy(x, w, bad, options=LinearCrossEntropyOptions())
    with pytest.raises(ValueError, match="invalid acc_policy"):
        LinearCrossEntropyOptions(acc_policy="fast")


def test_options_adjust_by_hand():
    adjust = LinearCrossEntropyOptions()._adjust(4096, 256, 32000, ember.float32,
                                                 ember.device("cpu"))
    # ceil(32000 / 256) = 125; ceil(4096 / 125) = 33 -> 64, halved by "aspect_ratio:2"
    assert adjust.batch_chunk_size == 32
    assert (adjust.acc_policy, adjust.chunking_method) == ("compact", "aspect_ratio:2")
    assert adjust.acc_dtype == ember.float32
    half = LinearCrossEntropyOptions()._adjust(4096, 256, 32000, ember.float16,
                                               ember.device("cpu"))
    assert (half.batch_chunk_size, half.acc_policy, half.acc_dtype) == (64, "accurate",
                                                                        ember.float32)
    assert LinearCrossEntropyOptions(batch_chunk_size=5)._adjust(
        3, 4, 10, ember.float64).batch_chunk_size == 3


def _peak(fn):
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_chunked_peak_memory_stays_far_below_the_logits():
    n, f, c = 512, 16, 4096
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((n, f), dtype=np.float32), requires_grad=True)
    w = ember.tensor(rng.standard_normal((c, f), dtype=np.float32) * 0.2, requires_grad=True)
    t = ember.tensor(rng.integers(0, c, n))
    logits_bytes = n * c * 4

    def step(options):
        def run():
            x.grad = w.grad = None
            F.linear_cross_entropy(x, w, t, options=options).backward()
        return run

    step(LinearCrossEntropyOptions())()             # first-call imports out of the way
    chunked = _peak(step(LinearCrossEntropyOptions()))
    reference = _peak(step(None))
    assert reference > logits_bytes                 # the measurement sees the logits
    assert chunked < logits_bytes / 8, (chunked, logits_bytes)
    forward_only = _peak(lambda: F.linear_cross_entropy(
        x.detach(), w.detach(), t, reduction="none", options=LinearCrossEntropyOptions()))
    assert forward_only < logits_bytes / 16


# --- the module -----------------------------------------------------------------------------
def test_module_parameters_repr_and_forward():
    m = LinearCrossEntropyLoss(5, 7, out_features=(2,), bias=True, ignore_index=3)
    assert tuple(m.linear.weight.shape) == (14, 5) and tuple(m.linear.bias.shape) == (14,)
    assert list(m.state_dict()) == ["linear.weight", "linear.bias"]
    assert repr(m) == ("LinearCrossEntropyLoss(\n  in_features=5, num_classes=7, "
                       "out_features=(2,), bias=True, reduction=mean, ignore_index=3, "
                       "label_smoothing=0.0, options=None\n  (linear): Linear(in_features=5, "
                       "out_features=14, bias=True)\n)")
    x = ember.randn(4, 5)
    t = ember.tensor(np.random.default_rng(0).integers(0, 7, (4, 2)))
    want = F.linear_cross_entropy(x, m.linear.weight.reshape(7, 2, 5), t,
                                  linear_bias=m.linear.bias.reshape(7, 2), ignore_index=3)
    assert_close(m(x, t), want)
    cw = ember.linspace(0.5, 1.5, 7)
    m2 = LinearCrossEntropyLoss(5, 7, weight=cw, options=LinearCrossEntropyOptions())
    assert list(m2.state_dict()) == ["weight", "linear.weight"]
    with pytest.raises(RuntimeError, match=r"expected weight shape to be \(7,\), got \(3,\)"):
        LinearCrossEntropyLoss(5, 7, weight=ember.ones(3))


# --- grouped_mm -----------------------------------------------------------------------------
LAYOUTS = [((3, 2, 4), (3, 4, 5), None), ((7, 4), (3, 4, 5), [2, 2, 6]),
           ((3, 2, 4), (4, 9), [3, 5, 9]), ((2, 9), (9, 3), [4, 6, 8])]


@pytest.mark.parametrize("sa,sb,offs", LAYOUTS)
def test_grouped_mm_gradcheck(sa, sb, offs):
    rng = np.random.default_rng(0)
    a = ember.tensor(rng.standard_normal(sa), requires_grad=True)
    b = ember.tensor(rng.standard_normal(sb), requires_grad=True)
    o = None if offs is None else np.array(offs, np.int32)

    def fn(a, b):
        return GroupedMm.apply(a, b, offs=o)

    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))


def test_grouped_mm_values_by_hand():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((9, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4, 8)).astype(np.float32)
    offs = ember.tensor(np.array([2, 2, 7], np.int32))
    out = F.grouped_mm(ember.tensor(a), ember.tensor(b), offs=offs).numpy()
    assert_close(out[:2], a[:2] @ b[0])
    assert_close(out[2:7], a[2:7] @ b[2])
    assert not out[7:].any()
    a2 = rng.standard_normal((3, 16)).astype(np.float32)
    b2 = rng.standard_normal((16, 4)).astype(np.float32)
    out2 = F.grouped_mm(ember.tensor(a2), ember.tensor(b2),
                        offs=ember.tensor(np.array([5, 16], np.int32))).numpy()
    assert_close(out2[1], a2[:, 5:] @ b2[5:], rtol=1e-5, atol=1e-5)


def test_grouped_mm_errors():
    a, b = ember.randn(3, 4, 8), ember.randn(3, 8, 12)
    with pytest.raises(RuntimeError, match="Expected mat_a to be Float32, BFloat16 or Float16 "
                                           "matrix, got Double"):
        F.grouped_mm(a.double(), b)
    with pytest.raises(RuntimeError, match="strides should be multiple of 16 bytes"):
        F.grouped_mm(ember.randn(3, 4, 5), ember.randn(3, 5, 12))
    with pytest.raises(RuntimeError, match="Have to provide offsets"):
        F.grouped_mm(ember.randn(10, 8), b)
    with pytest.raises(RuntimeError, match="Offsets have to be int32"):
        F.grouped_mm(ember.randn(10, 8), b, offs=ember.tensor([2, 5, 9]))
    with pytest.raises(RuntimeError, match="Bias not supported yet"):
        F.grouped_mm(a, b, bias=ember.randn(12))
