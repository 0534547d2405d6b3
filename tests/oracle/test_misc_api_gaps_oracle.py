"""Small torch API gaps against torch: ``linalg.lu``/``lu_solve``/``tensorinv``/
``tensorsolve`` (values, gradients, errors; batched, non-square and broadcast inputs),
``Tensor.orgqr``, ``nn.utils.fusion``, ``skip_init``/``to_empty``, ``utils.hooks``,
``nn.attention.sdpa_kernel`` and ``nn.SyncBatchNorm``. Skipped without torch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close, to_numpy

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, size=shape)


def _both(torch, a, requires_grad=False):
    a = np.asarray(a)
    return (ember.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the type and message are what is compared)
        return type(e).__name__, str(e).split(" (Triggered internally")[0]
    return None


def _same_error(ember_fn, torch_fn):
    got, want = _error(ember_fn), _error(torch_fn)
    assert want is not None, "torch raised nothing"
    if want[0] == "_LinAlgError":
        want = ("LinAlgError", want[1])
    assert got == want


# --- linalg.lu ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (3, 2, 4), (2, 1, 3, 3), (0, 3), (3, 0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lu_matches_torch(torch, shape, dtype):
    e, t = _both(torch, _rand(*shape).astype(dtype), requires_grad=True)
    out, ref = ember.linalg.lu(e), torch.linalg.lu(t)
    for name in ("P", "L", "U"):
        got, want = getattr(out, name), getattr(ref, name)
        assert got.dtype == (ember.float32 if dtype == "float32" else ember.float64)
        assert_close(got, want, atol=1e-5 if dtype == "float32" else 1e-12)
        assert got.requires_grad == want.requires_grad
    if e.numel() == 0:
        return
    w = _rand(*ref.L.shape, seed=1).astype(dtype)
    (out.L * ember.tensor(w)).sum().add((out.U * out.U).sum()).backward()
    (ref.L * torch.tensor(w)).sum().add((ref.U * ref.U).sum()).backward()
    assert_close(e.grad, t.grad, atol=1e-4 if dtype == "float32" else 1e-10, rtol=1e-4)
    assert type(out.L.grad_fn).__name__ == type(ref.L.grad_fn).__name__


@pytest.mark.parametrize("make", [
    lambda m: m.linalg.lu(m.zeros(3)),
    lambda m: m.linalg.lu(m.zeros(3, 3, dtype=m.int32)),
    lambda m: m.linalg.lu(m.eye(3), pivot=False),
    lambda m: m.linalg.lu(m.zeros(3), pivot=False),
])
def test_lu_errors_match_torch(torch, make):
    _same_error(lambda: make(ember), lambda: make(torch))


# --- linalg.lu_solve ----------------------------------------------------------------------------
@pytest.mark.parametrize("a_shape,b_shape,left,adjoint", [
    ((3, 3), (3, 2), True, False),
    ((2, 3, 3), (2, 3, 4), True, True),
    ((2, 3, 3), (3, 4), True, False),          # B broadcast over LU's batch
    ((1, 3, 3), (4, 3, 2), True, True),        # LU broadcast over B's batch
    ((2, 3, 3), (5, 1, 4, 3), False, False),
    ((2, 3, 3), (2, 2, 3), False, True),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lu_solve_matches_torch(torch, a_shape, b_shape, left, adjoint, dtype):
    a = (_rand(*a_shape) + 4 * np.eye(a_shape[-1])).astype(dtype)
    t_lu, t_piv = torch.linalg.lu_factor(torch.tensor(a))
    e_lu = ember.tensor(t_lu.numpy(), requires_grad=True)
    t_lu = t_lu.clone().requires_grad_()
    e_piv = ember.tensor(t_piv.numpy())
    e_b, t_b = _both(torch, _rand(*b_shape, seed=3).astype(dtype), requires_grad=True)
    got = ember.linalg.lu_solve(e_lu, e_piv, e_b, left=left, adjoint=adjoint)
    want = torch.linalg.lu_solve(t_lu, t_piv, t_b, left=left, adjoint=adjoint)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_close(got, want, atol=tol, rtol=tol)
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__
    w = _rand(*want.shape, seed=4).astype(dtype)
    (got * ember.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()
    assert_close(e_lu.grad, t_lu.grad, atol=tol * 10, rtol=tol * 10)
    assert_close(e_b.grad, t_b.grad, atol=tol * 10, rtol=tol * 10)


def test_lu_factor_then_solve_matches_torch_solve(torch):
    a = _rand(2, 4, 4) + 4 * np.eye(4)
    b = _rand(2, 4, 3, seed=1)
    lu, piv = ember.linalg.lu_factor(ember.tensor(a))
    assert_close(ember.linalg.lu_solve(lu, piv, ember.tensor(b)),
                 torch.linalg.solve(torch.tensor(a), torch.tensor(b)), atol=1e-12, rtol=1e-12)


def _lu_parts(m, lu_shape=(3, 3), dtype="float32"):
    a = m.tensor((_rand(*lu_shape) + 4 * np.eye(lu_shape[-1])).astype(dtype))
    return m.linalg.lu_factor(a)


@pytest.mark.parametrize("make", [
    lambda m: m.linalg.lu_solve(*_lu_parts(m), m.zeros(3, 2, dtype=m.float64)),
    lambda m: m.linalg.lu_solve(_lu_parts(m)[0], _lu_parts(m)[1].long(), m.zeros(3, 2)),
    lambda m: m.linalg.lu_solve(*_lu_parts(m), m.zeros(2, 3)),
    lambda m: m.linalg.lu_solve(*_lu_parts(m), m.zeros(3, 2), left=False),
    lambda m: m.linalg.lu_solve(*_lu_parts(m), m.zeros(3)),
    lambda m: m.linalg.lu_solve(_lu_parts(m)[0], _lu_parts(m)[1][:2], m.zeros(3, 2)),
    lambda m: m.linalg.lu_solve(*_lu_parts(m, (2, 3, 3)), m.zeros(3, 3, 2)),
    lambda m: m.linalg.lu_solve(_lu_parts(m, (2, 3, 3))[0], _lu_parts(m)[1], m.zeros(3, 2)),
    lambda m: m.linalg.lu_solve(_lu_parts(m)[0], m.zeros(3, dtype=m.int32), m.zeros(3, 2)),
    lambda m: m.linalg.lu_solve(_lu_parts(m)[0], m.full((3,), 5, dtype=m.int32),
                                m.zeros(3, 2)),
    lambda m: m.linalg.lu_solve(m.zeros(3, 4), m.ones(3, dtype=m.int32), m.zeros(3, 2)),
    lambda m: m.linalg.lu_solve(m.zeros(3), m.ones(3, dtype=m.int32), m.zeros(3, 2)),
    lambda m: m.linalg.lu_solve(m.zeros(3, 3, dtype=m.int32), m.ones(3, dtype=m.int32),
                                m.zeros(3, 2, dtype=m.int32)),
])
def test_lu_solve_errors_match_torch(torch, make):
    _same_error(lambda: make(ember), lambda: make(torch))


# --- tensorinv, tensorsolve -----------------------------------------------------------------------
@pytest.mark.parametrize("shape,ind", [((4, 6, 8, 3), 2), ((24, 8, 3), 1), ((2, 3, 6), 2)])
def test_tensorinv_matches_torch(torch, shape, ind):
    e, t = _both(torch, _rand(*shape), requires_grad=True)
    got, want = ember.linalg.tensorinv(e, ind=ind), torch.linalg.tensorinv(t, ind=ind)
    assert_close(got, want, atol=1e-9, rtol=1e-9)
    w = _rand(*want.shape, seed=1)
    (got * ember.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()
    assert_close(e.grad, t.grad, atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("a_shape,b_shape,dims", [
    ((2, 3, 6), (2, 3), None), ((2, 3, 6), (2, 3), (0, 2)), ((3, 4, 4, 3), (3, 4), None),
    ((3, 4, 4, 3), (3, 4), (0, 2)), ((2, 3, 6), (3, 2), None), ((6, 2, 3), (2, 3), (0,)),
    ((6, 2, 3), (2, 3), [-3]),
])
def test_tensorsolve_matches_torch(torch, a_shape, b_shape, dims):
    n = int(np.prod(b_shape))
    a = (_rand(n, n) + 4 * np.eye(n)).reshape(a_shape)
    e_a, t_a = _both(torch, a, requires_grad=True)
    e_b, t_b = _both(torch, _rand(*b_shape, seed=2), requires_grad=True)
    got = ember.linalg.tensorsolve(e_a, e_b, dims=dims)
    want = torch.linalg.tensorsolve(t_a, t_b, dims=dims)
    assert_close(got, want, atol=1e-10, rtol=1e-10)
    w = _rand(*want.shape, seed=3)
    (got * ember.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()
    assert_close(e_a.grad, t_a.grad, atol=1e-10, rtol=1e-8)
    assert_close(e_b.grad, t_b.grad, atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("make", [
    lambda m: m.linalg.tensorinv(m.ones(4, 6, 8, 3), ind=0),
    lambda m: m.linalg.tensorinv(m.ones(4, 6, 8, 3), ind=1),
    lambda m: m.linalg.tensorinv(m.ones(4, 2, 2), ind=3),
    lambda m: m.linalg.tensorinv(m.zeros(2, 2, 2, 2)),
    lambda m: m.linalg.tensorinv(m.zeros(2, 2, 2, 2, dtype=m.int32)),
    lambda m: m.linalg.tensorsolve(m.ones(2, 3, 6), m.ones(2, 4)),
    lambda m: m.linalg.tensorsolve(m.ones(2, 3, 5), m.ones(2, 3)),
    lambda m: m.linalg.tensorsolve(m.ones(6, 6), m.ones(())),
    lambda m: m.linalg.tensorsolve(m.ones(6, 3, 2), m.ones(6), dims=(5,)),
    lambda m: m.linalg.tensorsolve(m.ones(6, 3, 2), m.ones(6), dims=0),
    lambda m: m.linalg.tensorsolve(m.ones(6, 3, 2), m.ones(6), dims=(0,)),
    lambda m: m.linalg.tensorsolve(m.zeros(2, 3, 6), m.ones(2, 3)),
    lambda m: m.linalg.tensorsolve(m.ones(2, 3, 6), m.ones(2, 3, dtype=m.float64)),
])
def test_tensor_solver_errors_match_torch(torch, make):
    _same_error(lambda: make(ember), lambda: make(torch))


# --- Tensor.orgqr -------------------------------------------------------------------------------
def test_tensor_orgqr_matches_torch(torch):
    e_a, t_a = _both(torch, _rand(2, 5, 3), requires_grad=True)
    e_t, t_t = _both(torch, _rand(2, 2, seed=1) / 4, requires_grad=True)
    got, want = e_a.orgqr(e_t), t_a.orgqr(t_t)
    assert_close(got, want, atol=1e-12, rtol=1e-12)
    got.sum().backward()
    want.sum().backward()
    assert_close(e_a.grad, t_a.grad, atol=1e-10, rtol=1e-10)
    assert_close(e_t.grad, t_t.grad, atol=1e-10, rtol=1e-10)


# --- nn.utils.fusion ----------------------------------------------------------------------------
def _pair(torch, e_mod, t_mod):
    t_mod.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in e_mod.state_dict().items()})
    return e_mod, t_mod


def _bn_pair(torch, kind, c):
    e_bn, t_bn = _pair(torch, getattr(ember.nn, kind)(c), getattr(torch.nn, kind)(c))
    for bn, m in ((e_bn, ember), (t_bn, torch)):
        with m.no_grad():
            bn.running_mean.copy_(m.tensor(_rand(c, seed=1), dtype=m.float32))
            bn.running_var.copy_(m.tensor(_rand(c, seed=2) ** 2 + 0.5, dtype=m.float32))
            bn.weight.copy_(m.tensor(_rand(c, seed=3), dtype=m.float32))
            bn.bias.copy_(m.tensor(_rand(c, seed=4), dtype=m.float32))
    return e_bn.eval(), t_bn.eval()


@pytest.mark.parametrize("conv,bn,transpose,bias,x_shape", [
    ("Conv1d", "BatchNorm1d", False, True, (2, 3, 7)),
    ("Conv2d", "BatchNorm2d", False, False, (2, 3, 5, 6)),
    ("Conv3d", "BatchNorm3d", False, True, (1, 3, 4, 4, 4)),
    ("ConvTranspose2d", "BatchNorm2d", True, True, (2, 3, 4, 4)),
])
def test_fuse_conv_bn_eval_matches_torch(torch, conv, bn, transpose, bias, x_shape):
    e_conv, t_conv = _pair(torch, getattr(ember.nn, conv)(3, 4, 3, bias=bias),
                           getattr(torch.nn, conv)(3, 4, 3, bias=bias))
    e_bn, t_bn = _bn_pair(torch, bn, 4)
    e_conv.eval()
    t_conv.eval()
    got = ember.nn.utils.fuse_conv_bn_eval(e_conv, e_bn, transpose=transpose)
    want = torch.nn.utils.fuse_conv_bn_eval(t_conv, t_bn, transpose=transpose)
    for name in ("weight", "bias"):
        assert_close(getattr(got, name), getattr(want, name), atol=1e-6, rtol=1e-6)
        assert getattr(got, name).requires_grad == getattr(want, name).requires_grad
    x = _rand(*x_shape, seed=5).astype("float32")
    assert_close(got(ember.tensor(x)), want(torch.tensor(x)), atol=1e-5, rtol=1e-5)
    assert_close(got(ember.tensor(x)), e_bn(e_conv(ember.tensor(x))), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("bias,features", [(True, 4), (False, 4), (True, 1)])
def test_fuse_linear_bn_eval_matches_torch(torch, bias, features):
    e_lin, t_lin = _pair(torch, ember.nn.Linear(5, 4, bias=bias), torch.nn.Linear(5, 4, bias=bias))
    e_bn, t_bn = _bn_pair(torch, "BatchNorm1d", features)
    e_lin.eval()
    t_lin.eval()
    got = ember.nn.utils.fuse_linear_bn_eval(e_lin, e_bn)
    want = torch.nn.utils.fuse_linear_bn_eval(t_lin, t_bn)
    for name in ("weight", "bias"):
        assert_close(getattr(got, name), getattr(want, name), atol=1e-6, rtol=1e-6)
        assert getattr(got, name).requires_grad == getattr(want, name).requires_grad


def test_fuse_weights_functions_match_torch(torch):
    arrays = [_rand(4, 3, 3, 3), _rand(4, seed=1), _rand(4, seed=2), _rand(4, seed=3) ** 2 + 0.1,
              _rand(4, seed=4), _rand(4, seed=5)]
    e = [ember.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    got = ember.nn.utils.fuse_conv_bn_weights(e[0], None, e[2], e[3], 1e-3, None, e[5])
    want = torch.nn.utils.fuse_conv_bn_weights(t[0], None, t[2], t[3], 1e-3, None, t[5])
    for g, w in zip(got, want):
        assert type(g) is ember.nn.Parameter and g.requires_grad == w.requires_grad
        assert_close(g, w, atol=1e-12, rtol=1e-12)
    got = ember.nn.utils.fuse_linear_bn_weights(e[0][:, :, 0, 0], e[1], e[2], e[3], 1e-5, e[4],
                                                e[5])
    want = torch.nn.utils.fuse_linear_bn_weights(t[0][:, :, 0, 0], t[1], t[2], t[3], 1e-5, t[4],
                                                 t[5])
    for g, w in zip(got, want):
        assert_close(g, w, atol=1e-12, rtol=1e-12)


def test_fusion_errors_match_torch(torch):
    for m in (ember, torch):
        m.manual_seed(0)
    _same_error(lambda: ember.nn.utils.fuse_linear_bn_eval(ember.nn.Linear(2, 3),
                                                           ember.nn.BatchNorm1d(3).eval()),
                lambda: torch.nn.utils.fuse_linear_bn_eval(torch.nn.Linear(2, 3),
                                                           torch.nn.BatchNorm1d(3).eval()))
    _same_error(lambda: ember.nn.utils.fuse_linear_bn_eval(ember.nn.Linear(2, 3).eval(),
                                                           ember.nn.BatchNorm1d(2).eval()),
                lambda: torch.nn.utils.fuse_linear_bn_eval(torch.nn.Linear(2, 3).eval(),
                                                           torch.nn.BatchNorm1d(2).eval()))
    _same_error(lambda: ember.nn.utils.fuse_conv_bn_eval(
        ember.nn.Conv2d(2, 3, 1).eval(), ember.nn.BatchNorm2d(3, track_running_stats=False).eval()),
        lambda: torch.nn.utils.fuse_conv_bn_eval(
            torch.nn.Conv2d(2, 3, 1).eval(),
            torch.nn.BatchNorm2d(3, track_running_stats=False).eval()))


# --- skip_init, to_empty ------------------------------------------------------------------------
def test_skip_init_leaves_the_random_stream_as_torch(torch):
    for m in (ember, torch):
        m.manual_seed(3)
    e = ember.nn.utils.skip_init(ember.nn.Linear, 4, 2)
    t = torch.nn.utils.skip_init(torch.nn.Linear, 4, 2)
    assert e.weight.shape == t.weight.shape and e.bias.shape == t.bias.shape
    assert type(e.weight) is ember.nn.Parameter and e.weight.requires_grad
    assert_close(ember.rand(5), torch.rand(5))
    _same_error(lambda: ember.nn.utils.skip_init(ember.nn.Module),
                lambda: torch.nn.utils.skip_init(torch.nn.Module))
    _same_error(lambda: ember.nn.utils.skip_init(dict), lambda: torch.nn.utils.skip_init(dict))


def test_to_empty_identity_semantics_match_torch(torch):
    def facts(m, nn):
        mod = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
        w, rm = mod[0].weight, mod[1].running_mean
        mod[0].weight.grad = m.ones(2, 3)
        out = mod.to_empty(device="cpu")
        return (out is mod, mod[0].weight is w, mod[1].running_mean is rm,
                type(mod[0].weight).__name__, mod[0].weight.requires_grad,
                tuple(mod[0].weight.grad.shape), str(mod[1].num_batches_tracked.dtype)[-5:])

    assert facts(ember, ember.nn) == facts(torch, torch.nn)


# --- utils.hooks --------------------------------------------------------------------------------
def test_removable_handle_interface_matches_torch(torch):
    from collections import OrderedDict

    from torch.utils.hooks import RemovableHandle as TorchHandle

    from ember.utils.hooks import RemovableHandle

    results = []
    for cls in (RemovableHandle, TorchHandle):
        hooks, extra_a, extra_b = OrderedDict(), OrderedDict(), OrderedDict()
        h = cls(hooks, extra_dict=[extra_a, extra_b])
        first = h.id
        hooks[h.id] = extra_a[h.id] = extra_b[h.id] = 1
        with h as same:
            assert same is h
        h2 = cls(hooks, extra_dict=extra_a)
        results.append((len(hooks), len(extra_a), len(extra_b), h2.id - first,
                        len(h.extra_dict_ref), len(h2.extra_dict_ref),
                        len(h.__getstate__())))
    assert results[0] == results[1]


# --- nn.attention -------------------------------------------------------------------------------
def test_sdp_backend_matches_torch(torch):
    from torch.nn.attention import SDPBackend as TorchBackend

    from ember.nn.attention import SDPBackend

    assert [(b.name, int(b)) for b in SDPBackend] == sorted(
        ((n, int(b)) for n, b in TorchBackend.__members__.items()), key=lambda p: p[1])
    assert str(SDPBackend.FLASH_ATTENTION) == str(TorchBackend.FLASH_ATTENTION)
    assert repr(SDPBackend.MATH) == repr(TorchBackend.MATH)


_SDPA_CASES = [  # (name of the backends, q, k, v shapes, keyword arguments)
    (["FLASH_ATTENTION"], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {}),
    (["FLASH_ATTENTION"], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {"is_causal": True}),
    (["FLASH_ATTENTION"], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {"dropout_p": 0.5}),
    (["FLASH_ATTENTION"], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), {}),
    (["FLASH_ATTENTION"], (3, 4, 8), (3, 5, 8), (3, 5, 8), {}),
    (["FLASH_ATTENTION"], (2, 3, 4, 8), (1, 3, 5, 8), (1, 3, 5, 8), {}),
    (["FLASH_ATTENTION"], (2, 4, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8), {}),
    (["FLASH_ATTENTION"], (2, 4, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8), {"enable_gqa": True}),
    (["FLASH_ATTENTION"], (2, 4, 4, 8), (2, 2, 5, 8), (2, 1, 5, 8), {"enable_gqa": True}),
    (["FLASH_ATTENTION"], (2, 3, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8), {"enable_gqa": True}),
    (["FLASH_ATTENTION"], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {"mask": (4, 5)}),
    (["FLASH_ATTENTION"], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {"mask": (2, 1, 4, 5)}),
    (["FLASH_ATTENTION"], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {"mask": (3, 4, 5)}),
    (["FLASH_ATTENTION"], (2, 3, 0, 8), (2, 3, 5, 8), (2, 3, 5, 8), {}),
    (["EFFICIENT_ATTENTION"], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {}),
    (["EFFICIENT_ATTENTION", "MATH"], (3, 4, 8), (3, 5, 8), (3, 5, 8), {}),
    (["CUDNN_ATTENTION", "FLASH_ATTENTION"], (3, 4, 8), (3, 5, 8), (3, 5, 8), {}),
    (["ERROR"], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {}),
    ([], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {}),
    (["OVERRIDEABLE"], (2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {"is_causal": True,
                                                                   "mask": (4, 5)}),
]


def _sdpa_run(m, names, shapes, kw):
    from importlib import import_module

    attention = import_module(f"{m.__name__}.nn.attention")
    kw = dict(kw)
    q, k, v = (m.tensor(_rand(*s, seed=i).astype("float32")) for i, s in enumerate(shapes))
    if "mask" in kw:
        kw["attn_mask"] = m.tensor(_rand(*kw.pop("mask"), seed=7).astype("float32"))
    backends = [getattr(attention.SDPBackend, n) for n in names]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with attention.sdpa_kernel(backends):
            try:
                kw.get("dropout_p") and m.manual_seed(0)
                out = ("ok", to_numpy(m.nn.functional.scaled_dot_product_attention(q, k, v,
                                                                                     **kw)))
            except RuntimeError as e:
                out = ("error", str(e))
    messages = [str(w.message).split(" (Triggered internally")[0] for w in seen
                if "kernel" in str(w.message) or "fused" in str(w.message).lower()
                or "mask shapes" in str(w.message) or "Flash" in str(w.message)]
    return out, messages


@pytest.mark.parametrize("names,q,k,v,kw", _SDPA_CASES)
def test_sdpa_kernel_choice_matches_torch_cpu(torch, names, q, k, v, kw):
    (kind, got), got_warn = _sdpa_run(ember, names, (q, k, v), kw)
    (want_kind, want), want_warn = _sdpa_run(torch, names, (q, k, v), kw)
    assert kind == want_kind and got_warn == want_warn
    if kind == "ok":
        assert_close(got, want, atol=1e-5, rtol=1e-5)
    else:
        assert got == want


def test_sdpa_kernel_restores_switches_like_torch(torch):
    from ember.backends import cuda
    from ember.nn.attention import SDPBackend, sdpa_kernel

    def state(b):
        return (b.flash_sdp_enabled(), b.math_sdp_enabled(), b.mem_efficient_sdp_enabled(),
                b.cudnn_sdp_enabled())

    for sdpa, backend, switches in ((sdpa_kernel, SDPBackend, cuda),
                                    (torch.nn.attention.sdpa_kernel,
                                     torch.nn.attention.SDPBackend, torch.backends.cuda)):
        with sdpa([backend.MATH, backend.CUDNN_ATTENTION], set_priority=True):
            inside = state(switches)
        after = state(switches)
        if sdpa is sdpa_kernel:
            ours = (inside, after)
    assert ours == (inside, after)


# --- SyncBatchNorm ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_sync_batchnorm_matches_torch(torch, shape, momentum):
    e_bn = ember.nn.SyncBatchNorm(3, momentum=momentum)
    t_bn = torch.nn.SyncBatchNorm(3, momentum=momentum)
    assert repr(e_bn) == repr(t_bn)
    assert list(e_bn.state_dict()) == list(t_bn.state_dict())
    e_x, t_x = _both(torch, _rand(*shape).astype("float32"), requires_grad=True)
    for _ in range(2):
        got, want = e_bn(e_x), t_bn(t_x)
    assert_close(got, want, atol=1e-5, rtol=1e-5)
    (got * got).sum().backward()
    (want * want).sum().backward()
    assert_close(e_x.grad, t_x.grad, atol=1e-4, rtol=1e-4)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert_close(getattr(e_bn, name), getattr(t_bn, name), atol=1e-6, rtol=1e-6)
    e_bn.eval()
    t_bn.eval()
    assert_close(e_bn(e_x), t_bn(t_x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("make", [
    lambda m: m.nn.SyncBatchNorm(3)(m.ones(3)),
    lambda m: m.nn.SyncBatchNorm(0)(m.ones(2, 0)),
])
def test_sync_batchnorm_errors_match_torch(torch, make):
    _same_error(lambda: make(ember), lambda: make(torch))


def test_convert_sync_batchnorm_matches_torch(torch):
    def describe(m):
        model = m.nn.Sequential(m.nn.Conv2d(2, 3, 1), m.nn.BatchNorm2d(3, momentum=None),
                                m.nn.Sequential(m.nn.BatchNorm1d(4, affine=False)),
                                m.nn.BatchNorm3d(2, bias=False))
        model[1].eval()
        params = [id(p) for p in model.parameters()]
        buffers = [id(b) for b in model.buffers()]
        out = m.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return (out is model, repr(out), [id(p) for p in out.parameters()] == params,
                [id(b) for b in out.buffers()] == buffers,
                [mod.training for mod in out.modules()], list(out.state_dict()))

    assert describe(ember) == describe(torch)
    single = (ember.nn.SyncBatchNorm.convert_sync_batchnorm(ember.nn.BatchNorm1d(2)),
              torch.nn.SyncBatchNorm.convert_sync_batchnorm(torch.nn.BatchNorm1d(2)))
    assert repr(single[0]) == repr(single[1])


def test_legacy_sdp_kernel_matches_torch(torch):
    def run(m):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with m.backends.cuda.sdp_kernel(enable_math=False, enable_cudnn=False):
                inside = [b.name for b in m.nn.attention._cur_sdpa_kernel_backends()]
        after = [b.name for b in m.nn.attention._cur_sdpa_kernel_backends()]
        return inside, after, [w.category.__name__ for w in seen]

    assert run(ember) == run(torch)
