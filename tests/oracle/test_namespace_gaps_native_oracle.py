"""The ATen-level gaps against torch: ``binomial``, ``convolution``, ``conv_tbc``, the
``native_*`` normalisations and dropout, ``segment_reduce`` and ``histogramdd``: values,
dtypes, draws after the same seed, gradients and errors."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.helpers import assert_close
from tests.oracle.test_namespace_gaps_oracle import _arr, _check, _error, _same_error

torch = pytest.importorskip("torch")
LIBS = (ember, torch)


def _mkl_bernoulli() -> bool:
    """torch draws Bernoulli masks from MKL's own stream on Intel processors."""
    try:
        with open("/proc/cpuinfo") as f:
            intel = "GenuineIntel" in f.read(4096)
    except OSError:
        intel = False
    return intel and torch.backends.mkl.is_available()


# --- binomial ---------------------------------------------------------------------------------
def test_binomial_draws_equal_torch_after_the_same_seed():
    count = np.array([[5.0, 10.0, 30.0], [3.0, 0.0, 100.0]], np.float32)
    prob = np.array([[0.3, 0.9, 0.5], [0.1, 0.5, 0.95]], np.float32)
    for dtype in ("float32", "float64"):
        outs = []
        for lib in LIBS:
            lib.manual_seed(3)
            c, p = (lib.tensor(a.astype(dtype)) for a in (count, prob))
            outs.append((lib.binomial(c, p), lib.binomial(c, p[0]),
                         lib.binomial(c, p, lib.Generator().manual_seed(5))))
        for e, t in zip(*outs):
            assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
            assert e.tolist() == t.tolist()


def test_binomial_errors_and_missing_derivative():
    c, p = np.array([5.0, 10.0], np.float32), np.array([0.3, 0.6], np.float32)
    _same_error(lambda T: T.binomial(T.tensor(c).long(), T.tensor(p)))
    _same_error(lambda T: T.binomial(T.tensor(c), T.tensor(p).long()))
    _same_error(lambda T: T.binomial(T.tensor(c).double(), T.tensor(p)))
    _same_error(lambda T: T.binomial(T.tensor(c), T.tensor([0.5, 0.5, 0.5])))
    for lib in LIBS:
        assert lib.binomial(lib.tensor(c), lib.tensor(p, requires_grad=True)).requires_grad
    _same_error(lambda T: T.binomial(T.tensor(c), T.tensor(p, requires_grad=True)).sum()
                .backward())


# --- convolutions -----------------------------------------------------------------------------
CONVS = {
    "2d_groups": ((2, 4, 5, 6), (6, 2, 3, 3), 6, "[1, 1], [0, 0], [1, 1], False, [0, 0], 2"),
    "2d_one_value_lists": ((2, 4, 5, 6), (6, 2, 3, 3), 6, "[1], [1], [1], False, [0], 2"),
    "2d_strided": ((2, 4, 5, 6), (6, 2, 3, 3), None, "[2, 1], [1, 0], [1, 2], False, [0, 0], 2"),
    "2d_transposed": ((2, 4, 5, 6), (4, 3, 3, 3), 6, "[2, 2], [1, 1], [1, 1], True, [1, 0], 2"),
    "1d": ((2, 4, 7), (6, 2, 3), 6, "[1], [0], [2], False, [0], 2"),
    "3d": ((1, 2, 3, 4, 5), (3, 2, 2, 2, 2), 3, "[1, 1, 1], [0, 0, 1], [1, 1, 1], False, "
                                                "[0, 0, 0], 1"),
}


@pytest.mark.parametrize("name", sorted(CONVS))
def test_convolution_matches_torch(name):
    xs, ws, bias, rest = CONVS[name]
    arrays = [_arr(xs), _arr(ws, seed=1)] + ([_arr((bias,), seed=2)] if bias else [])
    src = f"torch.convolution(x, w, {'b' if bias else 'None'}, {rest})"
    _check(lambda T, x, w, b=None: eval(src, {"torch": T, "x": x, "w": w, "b": b}),  # noqa: S307
           arrays, rtol=1e-4, atol=1e-5)


def test_convolution_errors_match_torch():
    x, w = _arr((2, 4, 5, 6)), _arr((6, 2, 3, 3))
    for rest in ("[1, 1, 1], [0, 0], [1, 1], False, [0, 0], 2",
                 "[1, 1], [0, 0], [1, 1], False, [0, 0], 1",
                 "[1, 1], [-1, 0], [1, 1], False, [0, 0], 2",
                 "[0, 1], [0, 0], [1, 1], False, [0, 0], 2"):
        _same_error(lambda T, r=rest: eval(f"T.convolution(x, w, None, {r})",  # noqa: S307
                                           {"T": T, "x": T.tensor(x), "w": T.tensor(w)}))
    _same_error(lambda T: T.convolution(T.tensor(x[0]), T.tensor(w), None, [1, 1], [0, 0],
                                        [1, 1], False, [0, 0], 2))
    _same_error(lambda T: T.convolution(T.tensor(x), T.tensor(w), None, 1, 1, 1, False, 0, 2),
                message=False)


@pytest.mark.parametrize("pad", [0, 2, -1])
def test_conv_tbc_matches_torch(pad):
    arrays = [_arr((7, 2, 4)), _arr((3, 4, 5), seed=1), _arr((5,), seed=2)]
    _check(lambda T, x, w, b: T.conv_tbc(x, w, b, pad), arrays, rtol=1e-4, atol=1e-5)
    _check(lambda T, x, w, b: T.nn.functional.conv_tbc(x, w, b, pad), arrays, rtol=1e-4,
           atol=1e-5)


def test_conv_tbc_errors_match_torch():
    x, w, b = _arr((7, 2, 4)), _arr((3, 4, 5)), _arr((5,))
    for xa, wa, ba, pad in ((x[0], w, b, 0), (x, w[0], b, 0), (x, w, b[:, None], 0),
                            (x, w[:, :3], b, 0), (x, w, b[:4], 0), (x[:2], w, b, -1)):
        _same_error(lambda T, args=(xa, wa, ba), pad=pad: T.conv_tbc(
            *(T.tensor(a) for a in args), pad))
    _same_error(lambda T: T.conv_tbc(T.tensor(x), T.tensor(w), None))
    e, t = (lib.conv_tbc(lib.tensor(x[:2]), lib.tensor(w), lib.tensor(b), 0) for lib in LIBS)
    assert tuple(e.shape) == tuple(t.shape) == (0, 2, 5)


# --- native normalisations and dropout ---------------------------------------------------------
def test_native_layer_norm_matches_torch():
    x, w, b = _arr((2, 3, 4)), _arr((4,), seed=1), _arr((4,), seed=2)
    _check(lambda T, x, w, b: T.native_layer_norm(x, [4], w, b, 1e-5), [x, w, b], rtol=1e-4,
           atol=1e-5)
    _check(lambda T, x: T.native_layer_norm(x, (3, 4), None, None, 1e-3), [x], rtol=1e-4,
           atol=1e-5)
    _same_error(lambda T: T.native_layer_norm(T.tensor(x), [5], None, None, 1e-5))


def test_native_batch_norm_matches_torch_and_updates_running_stats():
    x, w = _arr((2, 3, 4)), _arr((3,), seed=1)
    for training in (True, False):
        running = {lib: (lib.zeros(3), lib.ones(3) * 2) for lib in LIBS}
        outs = _check(lambda T, x, w, t=training, r=running: T.native_batch_norm(
            x, w, w, *r[T], t, 0.3, 1e-5), [x, w], rtol=1e-4, atol=1e-5)
        assert tuple(outs[0][1].shape) == tuple(outs[1][1].shape) == ((3,) if training else (0,))
        for e, t in zip(running[ember], running[torch]):
            assert_close(e, t)
    _check(lambda T, x: T.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5), [x],
           rtol=1e-4, atol=1e-5)


def test_native_group_norm_matches_torch_with_gradients_through_the_statistics():
    x, w = _arr((2, 6, 3)), _arr((6,), seed=1)
    _check(lambda T, x, w: T.native_group_norm(x, w, w, 2, 6, 3, 2, 1e-5), [x, w], rtol=1e-4,
           atol=1e-5)
    _check(lambda T, x: T.native_group_norm(x.reshape(2, 6, 3, 1), None, None, 2, 6, 3, 3,
                                            1e-5), [x], rtol=1e-4, atol=1e-5)
    for args in ((None, None, 2, 6, 4, 3), (None, None, 2, 6, 3, 4), (None, None, 2, 6, 3, 0),
                 (w[:5], None, 2, 6, 3, 3), (None, w[:5], 2, 6, 3, 3)):
        _same_error(lambda T, a=args: T.native_group_norm(
            T.tensor(x), *(T.tensor(v) if isinstance(v, np.ndarray) else v for v in a), 1e-5))


def test_native_dropout_outputs_follow_torch():
    x = _arr((4, 5))
    for lib in LIBS:
        out, mask = lib.native_dropout(lib.tensor(x, requires_grad=True), 0.3, True)
        assert mask.dtype == lib.bool and out.requires_grad and not mask.requires_grad
        kept = mask.numpy()
        assert_close(out.detach().numpy()[kept], x[kept] * np.float32(1 / 0.7))
        assert (out.detach().numpy()[~kept] == 0).all()
        out, mask = lib.native_dropout(lib.tensor(x), 0.3, False)
        assert mask.all() and (out == lib.tensor(x)).all()
        empty = lib.tensor(x[:0])
        assert lib.native_dropout(empty, 0.5, True)[0] is empty
    _same_error(lambda T: T.native_dropout(T.tensor(x), 1.5, True))
    assert _error(lambda: ember.native_dropout(ember.tensor(x), -0.5, False)) is None


@pytest.mark.skipif(_mkl_bernoulli(), reason="torch draws masks from MKL's stream on Intel")
def test_native_dropout_draws_torch_mask_and_gradient():
    x = _arr((4, 5))
    for p, train in ((0.3, True), (0.0, None), (1.0, True)):
        for lib in LIBS:
            lib.manual_seed(1)
        _check(lambda T, x, p=p, t=train: T.native_dropout(x, p, t), [x])


# --- segment_reduce ---------------------------------------------------------------------------
DATA = np.array([[1.0, 2.0], [3.0, 2.0], [3.0, 6.0], [0.0, 8.0], [0.5, -1.0], [0.0, 2.0],
                 [4.0, 2.0]], np.float32)
SEGMENTS = {"lengths": "lengths=T.tensor([3, 0, 2, 2])",
            "offsets": "offsets=T.tensor([0, 3, 3, 5, 7])"}


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "amin", "prod"])
@pytest.mark.parametrize("initial", [None, 3.0])
@pytest.mark.parametrize("by", sorted(SEGMENTS))
def test_segment_reduce_matches_torch_with_ties_and_zeros(reduce, initial, by):
    src = f"T.segment_reduce(x, '{reduce}', {SEGMENTS[by]}, initial={initial})"
    _check(lambda T, x: eval(src, {"T": T, "x": x}), [DATA])  # noqa: S307


def test_segment_reduce_along_a_later_axis_matches_torch():
    x = DATA.T.copy()
    _check(lambda T, x: T.segment_reduce(x, "max", lengths=T.tensor([[2, 5], [4, 3]]), axis=1),
           [x])
    _check(lambda T, x: T.segment_reduce(x.reshape(7, 2, 1), "mean", lengths=T.tensor([5, 2]),
                                         axis=-3), [DATA])


def test_segment_reduce_errors_match_torch():
    for kwargs in ("lengths=T.tensor([2, 2])", "lengths=T.tensor([2, -1, 6])", "",
                   "indices=T.tensor([0, 1])", "lengths=T.tensor([7.0])", "lengths=L, axis=2",
                   "offsets=T.tensor([[0, 7]])", "lengths=L, reduce_='foo'"):
        reduce = "'foo'" if "reduce_" in kwargs else "'sum'"
        kwargs = kwargs.replace(", reduce_='foo'", "")
        _same_error(lambda T, k=kwargs, r=reduce: eval(  # noqa: S307
            f"T.segment_reduce(x, {r}, {k})", {"T": T, "x": T.tensor(DATA),
                                               "L": T.tensor([7])}))
    _same_error(lambda T: T.segment_reduce(T.tensor(DATA).long(), "sum",
                                           lengths=T.tensor([7])))


# --- histogramdd ------------------------------------------------------------------------------
POINTS = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.5, 0.7]], np.float32)
HISTS = [
    "T.histogramdd(x, bins=[3, 3], weight=T.tensor([1.0, 2.0, 4.0, 8.0, 1.0]))",
    "T.histogramdd(x, bins=(2, 3), density=True)",
    "T.histogramdd(x, 2, range=[0.0, 1.0, 0.0, 1.0])",
    "T.histogramdd(x, [T.tensor([0.0, 1.0, 3.0]), T.tensor([0.0, 0.5, 2.0])])",
    "T.histogramdd(x.reshape(1, 5, 2), 2)",
    "T.histogramdd(T.ones(3, 2), 2)",
    "T.histogramdd(T.empty(0, 2), 2)",
    "T.histogramdd(x, [T.tensor([3.0, 1.0]), T.tensor([0.0, 2.0])])",
    "T.histogramdd(x / 0, 2, range=[0.0, 1.0, 0.0, 1.0])",
    "T.histogramdd(T.tensor(np.random.default_rng(1).standard_normal((4, 50, 3), "
    "np.float32)), bins=[7, 5, 6], density=True)",
    "T.histogramdd(x.double(), 4, weight=T.linspace(0, 1, 5, dtype=T.float64))",
]


@pytest.mark.parametrize("src", HISTS)
def test_histogramdd_matches_torch(src):
    e, t = (eval(src, {"T": lib, "x": lib.tensor(POINTS), "np": np}) for lib in LIBS)  # noqa: S307
    assert type(e).__name__ == type(t).__name__ == "histogramdd"
    assert isinstance(e.bin_edges, tuple) and len(e.bin_edges) == len(t.bin_edges)
    assert str(e.hist.dtype).split(".")[-1] == str(t.hist.dtype).split(".")[-1]
    assert_close(e.hist, t.hist)
    for a, b in zip(e.bin_edges, t.bin_edges):
        assert_close(a, b)


def test_histogramdd_errors_match_torch():
    for src in ("T.histogramdd(x, [2])", "T.histogramdd(x, [0, 2])",
                "T.histogramdd(x, 2, range=[0.0, 1.0])", "T.histogramdd(x[0], 2)",
                "T.histogramdd(x.long(), 2)", "T.histogramdd(x, 2, range=[1.0, 0.0, 0.0, 1.0])",
                "T.histogramdd(x, 2, range=[0.0, float('inf'), 0.0, 1.0])",
                "T.histogramdd(x, 2, weight=T.ones(4))",
                "T.histogramdd(x, 2, weight=T.ones(5).double())",
                "T.histogramdd(x, [T.tensor([0.0, 1.0]).double(), T.tensor([0.0, 1.0])])",
                "T.histogramdd(x, [T.tensor([0.0, 1.0])])",
                "T.histogramdd(x, [T.tensor([0.0, 1.0]), T.tensor([[0.0, 1.0]])])",
                "T.histogramdd(x, [T.tensor([0.0, 1.0]), T.tensor([])])"):
        _same_error(lambda T, s=src: eval(s, {"T": T, "x": T.tensor(POINTS)}))  # noqa: S307
