"""ember's extra top-level functions against torch: broadcast_shapes, unravel_index, the
trapezoid rules, gradient, window functions, creation helpers, chain_matmul, and the
torch-namespace spellings of nn.functional ops (ATen's argument orders, int reductions)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

torch = pytest.importorskip("torch")


def _arr(shape, seed=0, low=None, dtype=np.float32):
    a = np.random.default_rng(seed).standard_normal(shape)
    if low is not None:
        a = np.abs(a) + low
    return a.astype(dtype)


def _run(src, arrays, lib, grad=False):
    """Evaluate ``src`` with ``torch`` bound to ``lib`` and ``a0, a1, ...`` the arrays."""
    scope = {"torch": lib}
    for i, a in enumerate(arrays):
        t = lib.tensor(a)
        if grad and t.is_floating_point():
            t.requires_grad_()
        scope[f"a{i}"] = t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = eval(src, scope)  # noqa: S307
    return out, [scope[f"a{i}"] for i in range(len(arrays))]


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _compare(src, arrays, grad=True, rtol=None, atol=None):
    eo, ein = _run(src, arrays, ember, grad)
    to, tin = _run(src, arrays, torch, grad)
    eo, to = _flat(eo), _flat(to)
    assert len(eo) == len(to)
    for a, b in zip(eo, to):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], (a.dtype, b.dtype)
        assert_close(a, b, rtol=rtol, atol=atol, msg=src)
    if not grad:
        return
    weights = [np.random.default_rng(9).standard_normal(tuple(b.shape)) for b in to]
    diff = [i for i, b in enumerate(to) if b.requires_grad]
    if not diff:
        return
    sum((eo[i] * ember.tensor(weights[i], dtype=eo[i].dtype)).sum() for i in diff).backward()
    sum((to[i] * torch.tensor(weights[i], dtype=to[i].dtype)).sum() for i in diff).backward()
    for x, y in zip(ein, tin):
        if y.requires_grad and y.grad is not None:
            assert_close(x.grad, y.grad, rtol=rtol, atol=atol, msg=f"grad of {src}")


# --- shapes and indices ------------------------------------------------------------------------

@pytest.mark.parametrize("shapes", [((2, 1), (3,)), (2, (3, 1)), (), ((0, 1), (1, 3)),
                                    ([1, 4], (2, 1)), ((2,), (3,)), ((-1,), (3,)),
                                    ((2, 3), (1, 1, 3), 1)])
def test_broadcast_shapes(shapes):
    def run(lib):
        try:
            return tuple(lib.broadcast_shapes(*shapes)), None
        except Exception as e:  # noqa: BLE001
            return None, (type(e), str(e))

    assert run(ember) == run(torch)


@pytest.mark.parametrize("indices, shape", [([4, 1], (2, 3)), (5, (2, 3)), (-1, (2, 3)),
                                            (6, (2, 3)), ([[7], [3]], (2, 2, 2)), (4, 5),
                                            (0, ())])
def test_unravel_index(indices, shape):
    e = ember.unravel_index(ember.tensor(indices), shape)
    t = torch.unravel_index(torch.tensor(indices), shape)
    assert len(e) == len(t)
    for a, b in zip(e, t):
        assert str(a.dtype) == "ember.int64"
        assert_close(a, b)


@pytest.mark.parametrize("call", ["unravel_index(lib.tensor(1.0), (2, 3))",
                                  "unravel_index(lib.tensor(True), (2, 3))",
                                  "unravel_index(lib.tensor(4), (-1, 5))"])
def test_unravel_index_errors(call):
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            eval(f"lib.{call}", {"lib": lib})  # noqa: S307
        if lib is ember:
            etype, emsg = info.type, str(info.value)
    assert etype is info.type and emsg == str(info.value).replace("torch.", "ember.")


# --- integration ------------------------------------------------------------------------------

TRAPEZOID = [
    ("torch.trapezoid(a0)", [_arr((5,))]),
    ("torch.trapezoid(a0, dx=0.5, dim=0)", [_arr((4, 3))]),
    ("torch.trapezoid(a0, a1)", [_arr((3, 5)), np.sort(_arr((5,), 1))]),
    ("torch.trapezoid(a0, a1, dim=0)", [_arr((4, 3)), np.sort(_arr((4, 3), 1), 0)]),
    ("torch.trapezoid(a0, a1)", [_arr((2, 3, 4)), np.sort(_arr((3, 4), 2), 1)]),
    ("torch.trapz(a0, a1)", [_arr((3, 5)), np.sort(_arr((5,), 1))]),
    ("torch.trapz(a0, dx=2.0)", [_arr((3, 5), dtype=np.float64)]),
    ("torch.trapezoid(a0)", [np.arange(6).reshape(2, 3)]),
    ("torch.trapezoid(a0, a1)", [np.array([1, 2, 3]), np.array([1, 2, 4])]),
    ("torch.trapezoid(a0)", [np.ones((2, 0), np.float32)]),
    ("torch.cumulative_trapezoid(a0)", [_arr((3, 5))]),
    ("torch.cumulative_trapezoid(a0, dx=0.25, dim=0)", [_arr((4, 2))]),
    ("torch.cumulative_trapezoid(a0, a1)", [_arr((3, 5)), np.sort(_arr((5,), 1))]),
    ("torch.cumulative_trapezoid(a0)", [np.array([1, 2, 3])]),
    ("torch.cumulative_trapezoid(a0)", [np.ones((2, 0), np.float32)]),
]


@pytest.mark.parametrize("src, arrays", TRAPEZOID, ids=[s for s, _ in TRAPEZOID])
def test_trapezoid_rules(src, arrays):
    _compare(src, arrays)


@pytest.mark.parametrize("src, arrays", [
    ("torch.trapezoid(a0, a1)", [np.ones((2, 3)), np.ones(2)]),
    ("torch.trapezoid(a0)", [np.array(1.0)]),
    ("torch.trapezoid(a0, dim=2)", [np.ones((2, 3))]),
])
def test_trapezoid_errors(src, arrays):
    with pytest.raises(Exception) as t_info:
        _run(src, arrays, torch)
    with pytest.raises(t_info.type) as e_info:
        _run(src, arrays, ember)
    assert str(e_info.value) == str(t_info.value)


GRADIENT = [
    ("torch.gradient(a0)", [_arr((6,))]),
    ("torch.gradient(a0, edge_order=2)", [_arr((6,))]),
    ("torch.gradient(a0, spacing=0.5)", [_arr((4, 5))]),
    ("torch.gradient(a0, spacing=[2.0, 3.0], edge_order=2)", [_arr((4, 5))]),
    ("torch.gradient(a0, dim=1)", [_arr((3, 4, 5))]),
    ("torch.gradient(a0, dim=[0, -1], spacing=[1.5, 0.5])", [_arr((3, 4, 5))]),
    ("torch.gradient(a0, spacing=(a1,))", [_arr((6,)), np.cumsum(_arr((6,), 1, low=0.1))]),
    ("torch.gradient(a0, spacing=(a1,), edge_order=2)",
     [_arr((6,)), np.cumsum(_arr((6,), 1, low=0.1))]),
    ("torch.gradient(a0, spacing=(a1, a2), edge_order=2)",
     [_arr((4, 5), dtype=np.float64), np.cumsum(_arr((4,), 1, low=0.1, dtype=np.float64)),
      np.cumsum(_arr((5,), 2, low=0.1, dtype=np.float64))]),
    ("torch.gradient(a0)", [np.array([1, 2, 4, 8])]),
]


@pytest.mark.parametrize("src, arrays", GRADIENT, ids=[s for s, _ in GRADIENT])
def test_gradient(src, arrays):
    _compare(src, arrays, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("src", ["torch.gradient(a0)", "torch.gradient(a1, edge_order=2)",
                                 "torch.gradient(a2, edge_order=3)",
                                 "torch.gradient(a2, spacing=[1.0, 2.0])",
                                 "torch.gradient(a3, spacing=[2., 3., 4.])",
                                 "torch.gradient(a3, spacing=[2.], dim=[0, 1])"])
def test_gradient_errors(src):
    arrays = [np.ones(1), np.ones(2), np.ones(3), np.ones((3, 4))]
    with pytest.raises(Exception) as t_info:
        _run(src, arrays, torch)
    with pytest.raises(t_info.type) as e_info:
        _run(src, arrays, ember)
    assert str(e_info.value) == str(t_info.value)


# --- windows ------------------------------------------------------------------------------------

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("length", [0, 1, 2, 5, 12, 33])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_windows(name, length, periodic, dtype):
    e = getattr(ember, name)(length, periodic, dtype=getattr(ember, dtype))
    t = getattr(torch, name)(length, periodic, dtype=getattr(torch, dtype))
    assert str(e.dtype).split(".")[-1] == dtype and tuple(e.shape) == tuple(t.shape)
    assert_close(e, t, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)


def test_window_options_and_errors():
    assert_close(ember.hamming_window(9, False, 0.6, 0.3), torch.hamming_window(9, False, 0.6, 0.3))
    assert_close(ember.kaiser_window(9, False, 5.0), torch.kaiser_window(9, False, 5.0),
                 rtol=1e-5, atol=1e-6)
    assert ember.hann_window(4).dtype == ember.float32
    assert ember.hann_window(4, requires_grad=True).requires_grad
    for name in WINDOWS:
        with pytest.raises(RuntimeError, match=f"{name} requires non-negative window_length, got "
                                               "window_length=-1"):
            getattr(ember, name)(-1)
        with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
            getattr(ember, name)(4, dtype=ember.int64)


# --- creation and small utilities -------------------------------------------------------------

def test_scalar_tensor_empty_strided_and_predicates():
    for value in (3, 2.5, True):
        e, t = ember.scalar_tensor(value), torch.scalar_tensor(value)
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        assert_close(e, t)
    assert ember.scalar_tensor(3, dtype=ember.int64).dtype == ember.int64
    for size, stride in (((2, 3), (1, 2)), ((2, 3), (3, 1)), ((4,), (2,)), ((0, 2), (2, 1))):
        e, t = ember.empty_strided(size, stride), torch.empty_strided(size, stride)
        assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    for size, stride in (((2, 3), (1,)), ((2, 3), (-1, 1))):
        with pytest.raises(RuntimeError) as t_info:
            torch.empty_strided(size, stride)
        with pytest.raises(RuntimeError, match=str(t_info.value).replace("[", r"\[")
                           .replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
            ember.empty_strided(size, stride)
    for data in ([1, 2], [], [[0.5]], [0]):
        try:
            expected = torch.is_nonzero(torch.tensor(data))
        except RuntimeError as err:
            with pytest.raises(RuntimeError, match=str(err)):
                ember.is_nonzero(ember.tensor(data))
        else:
            assert ember.is_nonzero(ember.tensor(data)) == expected
    assert ember.is_same_size(ember.ones(2, 3), ember.zeros(2, 3))
    assert not ember.is_same_size(ember.ones(2, 3), ember.zeros(3, 2))


@pytest.mark.parametrize("kwargs", [dict(dtype="int16"), dict(dtype="int8"),
                                    dict(dtype="int16", count=2, offset=2),
                                    dict(dtype="float32", offset=4),
                                    dict(dtype="int16", offset=1),
                                    dict(dtype="int16", count=5), dict(dtype="int16", offset=8)])
def test_frombuffer(kwargs):
    raw = bytes(range(1, 9))

    def run(lib):
        opts = dict(kwargs, dtype=getattr(lib, kwargs["dtype"]))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return lib.frombuffer(bytearray(raw), **opts).tolist(), None
        except Exception as e:  # noqa: BLE001
            return None, (type(e), str(e))

    assert run(ember) == run(torch)


def test_frombuffer_shares_memory_and_warns_on_read_only_buffers():
    buf = bytearray(8)
    t = ember.frombuffer(buf, dtype=ember.int32)
    buf[0] = 7
    assert t[0].item() == 7
    with pytest.warns(UserWarning, match="The given buffer is not writable"):
        ember.frombuffer(b"\x01\x02", dtype=ember.int8)
    with pytest.raises(ValueError, match=r"both buffer length \(0\) and count \(-1\)"):
        ember.frombuffer(bytearray(0), dtype=ember.int16)


def test_chain_matmul():
    _compare("torch.chain_matmul(a0, a1, a2)", [_arr((2, 3)), _arr((3, 4), 1), _arr((4, 2), 2)])
    _compare("torch.chain_matmul(a0)", [_arr((2, 3))])
    with pytest.warns(UserWarning, match="torch.chain_matmul is deprecated"):
        ember.chain_matmul(ember.ones(2, 2), ember.ones(2, 2))
    for call, msg in (("chain_matmul()", "chain_matmul(): Expected one or more matrices"),
                      ("chain_matmul(lib.ones(2, 3, 3), lib.ones(3, 4))",
                       "Tensor dimension is 3, expected 2 instead."),
                      ("chain_matmul(lib.ones(2, 3), lib.ones(4, 4))",
                       "multi_dot(): tensors 0 and 1 with shapes [2, 3] and [4, 4] cannot be "
                       "multiplied")):
        for lib in (ember, torch):
            with pytest.raises(RuntimeError) as info, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                eval(f"lib.{call}", {"lib": lib})  # noqa: S307
            assert str(info.value) == msg


def test_small_utilities():
    x = ember.ones(2, requires_grad=True)
    assert not ember.detach(x * 2).requires_grad
    assert ember.typename(ember.ones(2)) == torch.typename(torch.ones(2))
    assert ember.typename(ember.ones(2).double()) == "torch.DoubleTensor"
    assert ember.typename(3) == torch.typename(3) == "int"
    assert ember.typename(ember.nn.Linear(2, 2)) == "ember.nn.modules.linear.Linear"
    assert ember.get_device(ember.ones(1)) == torch.get_device(torch.ones(1)) == -1
    assert ember.is_warn_always_enabled() is False
    ember.set_warn_always(True)
    assert ember.is_warn_always_enabled() is True
    ember.set_warn_always(False)


# --- nn.functional ops under torch's top-level names ------------------------------------------

NN = [
    ("torch.conv1d(a0, a1, a2, 2, 1)", [_arr((2, 4, 9)), _arr((6, 4, 3), 1), _arr((6,), 2)]),
    ("torch.conv2d(a0, a1, None, 1, 'same', 1, 2)", [_arr((1, 4, 6, 6)), _arr((4, 2, 3, 3), 1)]),
    ("torch.conv3d(a0, a1)", [_arr((1, 2, 4, 4, 4)), _arr((3, 2, 2, 2, 2), 1)]),
    ("torch.conv_transpose1d(a0, a1, a2, 2, 1, 1)",
     [_arr((2, 4, 5)), _arr((4, 3, 3), 1), _arr((3,), 2)]),
    ("torch.conv_transpose2d(a0, a1, None, 2)", [_arr((1, 2, 3, 3)), _arr((2, 3, 2, 2), 1)]),
    ("torch.conv_transpose3d(a0, a1)", [_arr((1, 2, 3, 3, 3)), _arr((2, 2, 2, 2, 2), 1)]),
    ("torch.dropout(a0, 0.3, False)", [_arr((3, 4))]),
    ("torch.alpha_dropout(a0, 0.3, False)", [_arr((3, 4))]),
    ("torch.feature_alpha_dropout(a0, 0.3, False)", [_arr((3, 4))]),
    ("torch.feature_dropout(a0, 0.3, False)", [_arr((3, 4))]),
    ("torch.dropout(a0, 1.0, True)", [_arr((3, 4))]),
    ("torch.layer_norm(a0, (4,), a1, a2, 1e-3, True)", [_arr((3, 4)), _arr((4,), 1),
                                                          _arr((4,), 2)]),
    ("torch.group_norm(a0, 2, a1, a2)", [_arr((2, 4, 3)), _arr((4,), 1), _arr((4,), 2)]),
    ("torch.instance_norm(a0, a1, a2, None, None, True, 0.1, 1e-5, False)",
     [_arr((2, 3, 5)), _arr((3,), 1), _arr((3,), 2)]),
    ("torch.batch_norm(a0, a1, a2, None, None, True, 0.1, 1e-5, False)",
     [_arr((4, 3)), _arr((3,), 1), _arr((3,), 2)]),
    ("torch.rms_norm(a0, [4], a1)", [_arr((3, 4)), _arr((4,), 1)]),
    ("torch.rms_norm(a0, (2, 4), None, 1e-3)", [_arr((3, 2, 4))]),
    ("torch.embedding(a0, a1)", [_arr((5, 3)), np.array([[0, 4], [2, 2]])]),
    ("torch.embedding(a0, a1, 2)", [_arr((5, 3)), np.array([0, 2, 2, 1])]),
    ("torch.bilinear(a0, a1, a2, a3)",
     [_arr((4, 3)), _arr((4, 2), 1), _arr((5, 3, 2), 2), _arr((5,), 3)]),
    ("torch.pixel_shuffle(a0, 2)", [_arr((1, 8, 2, 3))]),
    ("torch.pixel_unshuffle(a0, 2)", [_arr((1, 2, 4, 6))]),
    ("torch.channel_shuffle(a0, 3)", [_arr((2, 6, 2))]),
    ("torch.native_channel_shuffle(a0, 2)", [_arr((1, 6, 2, 2))]),
    ("torch.max_pool1d(a0, 2)", [_arr((2, 3, 8))]),
    ("torch.max_pool1d(a0, 3, 2, 1, 1, True)", [_arr((2, 3, 8))]),
    ("torch.max_pool1d_with_indices(a0, 2)", [_arr((2, 3, 8))]),
    ("torch.max_pool2d(a0, (2, 2), (1, 2))", [_arr((1, 2, 5, 6))]),
    ("torch.max_pool3d(a0, 2)", [_arr((1, 2, 4, 4, 4))]),
    ("torch.avg_pool1d(a0, 3, 2, 1, False, False)", [_arr((2, 3, 8))]),
    ("torch.adaptive_avg_pool1d(a0, 3)", [_arr((2, 3, 8))]),
    ("torch.adaptive_max_pool1d(a0, 3)", [_arr((2, 3, 8))]),
    ("torch.selu(a0)", [_arr((3, 4))]),
    ("torch.celu(a0, 0.7)", [_arr((3, 4))]),
    ("torch.rrelu(a0)", [_arr((3, 4))]),
    ("torch.rrelu(a0, 0.1, 0.2)", [_arr((3, 4))]),
    ("torch.threshold(a0, 0.1, 20.0)", [_arr((3, 4))]),
    ("torch.pdist(a0)", [_arr((4, 3))]),
    ("torch.pdist(a0, 1.5)", [_arr((4, 3))]),
    ("torch.pairwise_distance(a0, a1, 3.0, 1e-6, True)", [_arr((4, 3)), _arr((4, 3), 1)]),
    ("torch.cosine_similarity(a0, a1, 0)", [_arr((4, 3)), _arr((4, 3), 1)]),
    ("torch.kl_div(a0, a1)", [-_arr((3, 4), low=0.1), _arr((3, 4), 1, low=0.1)]),
    ("torch.kl_div(a0, a1, 1)", [-_arr((3, 4), low=0.1), _arr((3, 4), 1, low=0.1)]),
    ("torch.kl_div(a0, a1, 2, log_target=True)", [-_arr((3, 4), low=0.1), _arr((3, 4), 1)]),
    ("torch.cosine_embedding_loss(a0, a1, a2)",
     [_arr((3, 4)), _arr((3, 4), 1), np.array([1.0, -1.0, 1.0], np.float32)]),
    ("torch.cosine_embedding_loss(a0, a1, a2, 0.2, 1)",
     [_arr((3, 4)), _arr((3, 4), 1), np.array([1.0, -1.0, 1.0], np.float32)]),
    ("torch.hinge_embedding_loss(a0, a1)", [_arr((3, 4)), np.sign(_arr((3, 4), 1))]),
    ("torch.hinge_embedding_loss(a0, a1, 0.5, 2)", [_arr((3, 4)), np.sign(_arr((3, 4), 1))]),
    ("torch.margin_ranking_loss(a0, a1, a2)", [_arr((5,)), _arr((5,), 1), np.sign(_arr(5, 2))]),
    ("torch.margin_ranking_loss(a0, a1, a2, 0.1, 1)",
     [_arr((5,)), _arr((5,), 1), np.sign(_arr(5, 2))]),
    ("torch.triplet_margin_loss(a0, a1, a2)", [_arr((3, 4)), _arr((3, 4), 1), _arr((3, 4), 2)]),
    ("torch.triplet_margin_loss(a0, a1, a2, 0.5, 1.0, 1e-6, True, 2)",
     [_arr((3, 4)), _arr((3, 4), 1), _arr((3, 4), 2)]),
    ("torch.poisson_nll_loss(a0, a1, True, False, 1e-8, 1)",
     [_arr((3, 4)), _arr((3, 4), 1, low=0.0)]),
    ("torch.poisson_nll_loss(a0, a1, False, True, 1e-6, 0)",
     [_arr((3, 4), low=0.1), _arr((3, 4), 1, low=0.5)]),
    ("torch.binary_cross_entropy_with_logits(a0, a1)", [_arr((3, 4)), _arr((3, 4), 1, low=0) % 1]),
    ("torch.binary_cross_entropy_with_logits(a0, a1, a2, a3, 1)",
     [_arr((3, 4)), _arr((3, 4), 1, low=0) % 1, _arr((4,), 2, low=0.1), _arr((4,), 3, low=0.1)]),
    ("torch.ctc_loss(a0, a1, a2, a3)", [_arr((6, 2, 4)), np.array([[1, 2, 2], [3, 1, 0]]),
                                        np.array([6, 5]), np.array([3, 2])]),
    ("torch.ctc_loss(a0, a1, a2, a3, 0, 1)", [_arr((6, 2, 4)), np.array([[1, 2, 2], [3, 1, 0]]),
                                              np.array([6, 5]), np.array([3, 2])]),
    ("torch.ctc_loss(a0, a1, a2, a3, 3, 2, True)",
     [_arr((4, 2, 4)), np.array([[1, 2, 2], [0, 1, 0]]), np.array([4, 2]), np.array([3, 3])]),
    ("torch.constant_pad_nd(a0, (1, -1, 2, 0), 5.0)", [_arr((2, 3, 4))]),
    ("torch.grid_sampler(a0, a1, 0, 0, False)", [_arr((1, 2, 4, 4)), _arr((1, 3, 3, 2), 1) / 2]),
    ("torch.grid_sampler(a0, a1, 1, 1, True)", [_arr((1, 2, 4, 4)), _arr((1, 3, 3, 2), 1) / 2]),
    ("torch.affine_grid_generator(a0, [2, 3, 4, 5], False)", [_arr((2, 2, 3))]),
]


# torch has no derivative for these (or refuses one for an argument)
NO_GRAD = {"torch.native_channel_shuffle(a0, 2)",
           "torch.binary_cross_entropy_with_logits(a0, a1, a2, a3, 1)"}


@pytest.mark.parametrize("src, arrays", NN, ids=[s for s, _ in NN])
def test_nn_ops_under_torch_names(src, arrays):
    _compare(src, arrays, grad=src not in NO_GRAD, rtol=1e-4, atol=1e-5)


def test_batch_norm_updates_running_statistics_like_torch():
    x = _arr((6, 3))
    stats = {}
    for lib in (ember, torch):
        mean, var = lib.zeros(3), lib.ones(3)
        out = lib.batch_norm(lib.tensor(x), None, None, mean, var, True, 0.3, 1e-5, False)
        stats[lib] = (out, mean, var)
    for a, b in zip(stats[ember], stats[torch]):
        assert_close(a, b)


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("include_last_offset", [False, True])
def test_embedding_bag_returns_torchs_four_tensors(mode, padding_idx, include_last_offset):
    w = np.arange(12.0, dtype=np.float32).reshape(4, 3)
    offsets = [0, 2, 2, 5] if include_last_offset else [0, 2, 2]
    res = {}
    for lib in (ember, torch):
        res[lib] = lib.embedding_bag(lib.tensor(w), lib.tensor([0, 2, 1, 3, 3]),
                                     lib.tensor(offsets), False, mode, False, None,
                                     include_last_offset, padding_idx)
    for a, b in zip(res[ember], res[torch]):
        assert_close(a, b)


def test_feature_dropout_zeroes_whole_channels():
    ember.manual_seed(0)
    out = ember.feature_dropout(ember.ones(8, 16, 5), 0.5, True)
    per_channel = out.numpy().reshape(8, 16, 5)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(-1) == per_channel.max(-1)).all()
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        ember.feature_dropout(ember.ones(3), 0.5, True)
    with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1"):
        ember.dropout(ember.ones(3), 1.5, True)


def test_vmap_is_exported_at_top_level():
    out = ember.vmap(lambda r: r.sum())(ember.ones(3, 2))
    assert_close(out, torch.vmap(lambda r: r.sum())(torch.ones(3, 2)))
