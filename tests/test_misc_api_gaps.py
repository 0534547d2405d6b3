"""Small torch API gaps, without torch: ``linalg.lu``/``lu_solve``/``tensorinv``/
``tensorsolve``, ``Tensor.orgqr``, ``nn.utils.fusion``, ``skip_init``/``Module.to_empty``,
``utils.hooks.RemovableHandle``, ``nn.attention.sdpa_kernel`` and ``nn.SyncBatchNorm``.
Gradients by finite differences (``ember.autograd.gradcheck``)."""
from __future__ import annotations

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck
from tests.helpers import assert_close, to_numpy


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, size=shape)


def _well_conditioned(*shape, seed=0):
    return _rand(*shape, seed=seed) + 4 * np.eye(shape[-1])


# --- linalg.lu ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 3), (2, 3, 5), (1, 1)])
def test_lu_reconstructs_input(shape):
    a = ember.tensor(_rand(*shape))
    P, L, U = ember.linalg.lu(a)
    k = min(shape[-2:])
    assert L.shape == (*shape[:-2], shape[-2], k) and U.shape == (*shape[:-2], k, shape[-1])
    assert P.shape == (*shape[:-2], shape[-2], shape[-2])
    assert_close(P @ L @ U, a, atol=1e-12, rtol=1e-12)
    assert_close(ember.tril(L, -1) + ember.eye(shape[-2], k, dtype=L.dtype), L)
    assert_close(ember.triu(U), U)
    assert (np.abs(to_numpy(L)) <= 1 + 1e-12).all()  # partial pivoting


def test_lu_named_tuple_and_p_gets_no_gradient():
    a = ember.tensor(_rand(3, 3), requires_grad=True)
    out = ember.linalg.lu(a)
    assert out.__match_args__ == ("P", "L", "U")
    assert not out.P.requires_grad and out.P.grad_fn is None
    assert type(out.L.grad_fn).__name__ == "LinalgLuBackward0"


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 3), (3, 5)])
def test_lu_gradient_matches_finite_differences(shape):
    a = ember.tensor(_rand(*shape, seed=1), requires_grad=True)
    assert gradcheck(lambda x: ember.linalg.lu(x).L, (a,))
    assert gradcheck(lambda x: ember.linalg.lu(x).U, (a,))


def test_lu_empty_and_errors():
    P, L, U = ember.linalg.lu(ember.zeros(2, 0, 3))
    assert P.shape == (2, 0, 0) and L.shape == (2, 0, 0) and U.shape == (2, 0, 3)
    with pytest.raises(RuntimeError, match="Expected tensor with 2 or more dimensions"):
        ember.linalg.lu(ember.zeros(3))
    with pytest.raises(NotImplementedError, match="lu_cpu"):
        ember.linalg.lu(ember.zeros(3, 3, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="LU without pivoting is not implemented on the CPU"):
        ember.linalg.lu(ember.eye(3), pivot=False)


# --- linalg.lu_solve ----------------------------------------------------------------------------
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_solves_each_form(left, adjoint):
    a = ember.tensor(_well_conditioned(2, 3, 3))
    b = ember.tensor(_rand(2, 3, 3, seed=2))
    LU, piv = ember.linalg.lu_factor(a)
    x = ember.linalg.lu_solve(LU, piv, b, left=left, adjoint=adjoint)
    op = a.mT if adjoint else a
    assert_close(op @ x if left else x @ op, b, atol=1e-10, rtol=1e-10)


def test_lu_solve_broadcasts_batches():
    a = ember.tensor(_well_conditioned(1, 3, 3))
    LU, piv = ember.linalg.lu_factor(a)
    b = ember.tensor(_rand(4, 3, 2, seed=3))
    x = ember.linalg.lu_solve(LU, piv, b)
    assert x.shape == (4, 3, 2)
    assert_close(a @ x, b, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("left,adjoint,b_shape", [(True, False, (2, 3, 2)), (True, True, (3, 2)),
                                                  (False, False, (2, 2, 3)),
                                                  (False, True, (1, 2, 3))])
def test_lu_solve_gradient_matches_finite_differences(left, adjoint, b_shape):
    LU, piv = ember.linalg.lu_factor(ember.tensor(_well_conditioned(2, 3, 3)))
    LU = LU.detach().requires_grad_()
    b = ember.tensor(_rand(*b_shape, seed=4), requires_grad=True)
    assert gradcheck(lambda lu, rhs: ember.linalg.lu_solve(lu, piv, rhs, left=left,
                                                           adjoint=adjoint), (LU, b))


def test_lu_solve_errors():
    LU, piv = ember.linalg.lu_factor(ember.tensor(_well_conditioned(3, 3)).float())
    b = ember.randn(3, 2)
    with pytest.raises(RuntimeError, match="pivots should be a Tensor of scalar type"):
        ember.linalg.lu_solve(LU, piv.long(), b)
    with pytest.raises(RuntimeError, match="Expected LU and B to have the same dtype"):
        ember.linalg.lu_solve(LU, piv, b.double())
    with pytest.raises(RuntimeError, match=r"equation AX = B \(3x3 and 2x3\)"):
        ember.linalg.lu_solve(LU, piv, b.mT)
    with pytest.raises(RuntimeError, match=r"equation XA = B \(3x3 and 3x2\)"):
        ember.linalg.lu_solve(LU, piv, b, left=False)
    with pytest.raises(RuntimeError, match="B must have at least 2 dimensions"):
        ember.linalg.lu_solve(LU, piv, ember.randn(3))
    with pytest.raises(RuntimeError, match="greater or equal to 1"):
        ember.linalg.lu_solve(LU, ember.zeros_like(piv), b)
    with pytest.raises(RuntimeError, match="smaller or equal to LU.size"):
        ember.linalg.lu_solve(LU, ember.full_like(piv, 9), b)
    with pytest.raises(RuntimeError, match="Number of pivots per batch"):
        ember.linalg.lu_solve(LU, piv[:2], b)
    with pytest.raises(RuntimeError, match="square matrices"):
        ember.linalg.lu_solve(ember.randn(3, 4), piv, b)


# --- tensorinv, tensorsolve -----------------------------------------------------------------------
def test_tensorinv_inverts_under_tensordot():
    a = ember.tensor(_well_conditioned(24, 24).reshape(4, 6, 8, 3))
    inv = ember.linalg.tensorinv(a, ind=2)
    assert inv.shape == (8, 3, 4, 6)
    assert_close(ember.tensordot(a, inv, dims=2), ember.eye(24, dtype=a.dtype).reshape(4, 6, 4, 6),
                 atol=1e-10, rtol=0)


def test_tensorinv_errors():
    with pytest.raises(RuntimeError, match="strictly positive integer for 'ind', but got 0"):
        ember.linalg.tensorinv(ember.randn(2, 2), ind=0)
    with pytest.raises(RuntimeError, match=r"but got 18 != 2"):
        ember.linalg.tensorinv(ember.randn(2, 3, 6), ind=1)
    with pytest.raises(TypeError, match="must be int, not float"):
        ember.linalg.tensorinv(ember.randn(2, 2), ind=1.0)
    with pytest.raises(ember.linalg.LinAlgError, match="^inv: The diagonal element 1 is zero"):
        ember.linalg.tensorinv(ember.zeros(2, 2, 2, 2))


@pytest.mark.parametrize("dims", [None, (0, 2)])
def test_tensorsolve_solves_and_has_gradient(dims):
    a = ember.tensor(_well_conditioned(12, 12).reshape(3, 4, 4, 3), requires_grad=True)
    b = ember.tensor(_rand(3, 4, seed=5), requires_grad=True)
    x = ember.linalg.tensorsolve(a, b, dims=dims)
    assert x.shape == ((3, 4) if dims else (4, 3))
    moved = a.movedim((0, 2), (2, 3)) if dims else a
    # B is read flat: A's leading dims need only hold as many elements as B
    assert_close(moved.reshape(12, 12) @ x.reshape(12), b.reshape(12), atol=1e-10, rtol=1e-10)
    assert gradcheck(lambda m, rhs: ember.linalg.tensorsolve(m, rhs, dims=dims), (a, b))


def test_tensorsolve_size_mismatch():
    with pytest.raises(RuntimeError, match=r"prod\(self.shape\[other.ndim:\]\).*6 != 8"):
        ember.linalg.tensorsolve(ember.randn(2, 3, 6), ember.randn(2, 4))


# --- Tensor.orgqr -------------------------------------------------------------------------------
def test_tensor_orgqr_is_householder_product():
    a, tau = ember.tensor(_rand(2, 4, 3)), ember.tensor(_rand(2, 3, seed=6))
    assert_close(a.orgqr(tau), ember.linalg.householder_product(a, tau))


# --- nn.utils.fusion ----------------------------------------------------------------------------
def _bn_with_stats(bn_cls, c):
    bn = bn_cls(c)
    with ember.no_grad():
        bn.running_mean.copy_(ember.randn(c))
        bn.running_var.copy_(ember.rand(c) + 0.5)
        bn.weight.copy_(ember.randn(c))
        bn.bias.copy_(ember.randn(c))
    return bn.eval()


@pytest.mark.parametrize("conv_cls,bn_cls,x_shape,transpose", [
    (nn.Conv1d, nn.BatchNorm1d, (2, 3, 7), False),
    (nn.Conv2d, nn.BatchNorm2d, (2, 3, 6, 5), False),
    (nn.ConvTranspose2d, nn.BatchNorm2d, (2, 3, 4, 4), True),
])
def test_fuse_conv_bn_eval_matches_the_pair(conv_cls, bn_cls, x_shape, transpose):
    ember.manual_seed(0)
    conv = conv_cls(3, 4, 3).eval()
    bn = _bn_with_stats(bn_cls, 4)
    fused = nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
    assert type(fused) is conv_cls and fused is not conv
    assert isinstance(fused.weight, nn.Parameter) and fused.weight.requires_grad
    x = ember.randn(*x_shape)
    assert_close(fused(x), bn(conv(x)), atol=1e-5, rtol=1e-5)


def test_fuse_without_conv_bias_gives_bias_without_grad():
    conv = nn.Conv2d(3, 4, 1, bias=False).eval()
    fused = nn.utils.fuse_conv_bn_eval(conv, _bn_with_stats(nn.BatchNorm2d, 4))
    assert fused.bias is not None and not fused.bias.requires_grad


def test_fuse_linear_bn_eval_matches_the_pair_and_checks():
    ember.manual_seed(0)
    lin = nn.Linear(5, 4).eval()
    bn = _bn_with_stats(nn.BatchNorm1d, 4)
    x = ember.randn(3, 5)
    assert_close(nn.utils.fuse_linear_bn_eval(lin, bn)(x), bn(lin(x)), atol=1e-5, rtol=1e-5)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(5, 4), bn)
    with pytest.raises(AssertionError, match="linear.out_features=4 and bn.num_features=3"):
        nn.utils.fuse_linear_bn_eval(lin, _bn_with_stats(nn.BatchNorm1d, 3))


# --- skip_init, to_empty ------------------------------------------------------------------------
def test_skip_init_builds_module_without_drawing_random_numbers():
    ember.manual_seed(0)
    m = nn.utils.skip_init(nn.Linear, 3, 4, bias=False)
    after = ember.rand(3)
    ember.manual_seed(0)
    assert_close(after, ember.rand(3))
    assert m.weight.shape == (4, 3) and m.bias is None and isinstance(m.weight, nn.Parameter)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int)
    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        nn.utils.skip_init(nn.Module)


def test_to_empty_keeps_parameters_and_replaces_buffers():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    w, rm = m[0].weight, m[1].running_mean
    m[0].weight.grad = ember.ones(2, 3)
    assert m.to_empty(device="cpu") is m
    assert m[0].weight is w and m[0].weight.requires_grad
    assert m[1].running_mean is not rm and m[1].running_mean.shape == (2,)
    assert m[1].num_batches_tracked.dtype == ember.int64
    assert m[0].weight.grad.shape == (2, 3)
    with pytest.raises(TypeError):
        m.to_empty()
    with pytest.raises(RuntimeError):
        m.to_empty(device="cuda")


def test_to_empty_without_recurse_leaves_children():
    m = nn.Sequential(nn.Linear(2, 2))
    m.register_buffer("own", ember.ones(2))
    own, child_data = m.own, m[0].weight._data
    m.to_empty(device="cpu", recurse=False)
    assert m.own is not own and m[0].weight._data is child_data


# --- utils.hooks --------------------------------------------------------------------------------
def test_removable_handle_is_shared_and_removes():
    from ember.utils.hooks import RemovableHandle

    m = nn.Linear(2, 2)
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    h1 = m.register_forward_hook(lambda *a: None)
    h2 = opt.register_step_pre_hook(lambda *a: None)
    assert isinstance(h1, RemovableHandle) and isinstance(h2, RemovableHandle)
    assert h2.id > h1.id  # one counter, as in torch
    with h1:
        assert len(m._forward_hooks) == 1
    assert len(m._forward_hooks) == 0
    h2.remove()
    h2.remove()


def test_tensor_and_node_hooks_return_the_shared_handle():
    from ember.utils.hooks import RemovableHandle

    x = ember.ones(2, requires_grad=True)
    y = x * 3
    handles = [x.register_hook(lambda g: g * 2), y.register_hook(lambda g: g + 1),
               y.grad_fn.register_hook(lambda gi, go: None),
               y.grad_fn.register_prehook(lambda go: None),
               x.register_post_accumulate_grad_hook(lambda t: None)]
    assert all(isinstance(h, RemovableHandle) for h in handles)
    assert [h.id for h in handles] == sorted(h.id for h in handles)
    with handles[1]:  # removed on exit, as a module hook's handle is
        y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [12.0, 12.0]  # (1 + 1) * 3 * 2
    y.sum().backward()
    assert x.grad.tolist() == [18.0, 18.0]
    handles[0].remove()
    handles[0].remove()


def test_removable_handle_extra_dict_and_pickle():
    from ember.utils.hooks import RemovableHandle

    hooks, extra = OrderedDict(), OrderedDict()  # (a plain dict takes no weak reference)
    h = RemovableHandle(hooks, extra_dict=extra)
    hooks[h.id] = extra[h.id] = "x"
    clone = pickle.loads(pickle.dumps((h, hooks)))[0]
    assert clone.id == h.id and RemovableHandle.next_id > h.id
    copy.deepcopy(h)
    h.remove()
    assert hooks == {} and extra == {}


def test_warn_if_has_hooks():
    from ember.utils import hooks

    t = ember.ones(2, requires_grad=True)
    t.register_hook(hooks.unserializable_hook(lambda g: g))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hooks.warn_if_has_hooks(t)
    t.register_hook(lambda g: g)
    with pytest.warns(UserWarning, match="will not be serialized"):
        hooks.warn_if_has_hooks(t)


# --- nn.attention -------------------------------------------------------------------------------
def _qkv(*shape_q, kv_len=5, vdim=None):
    q = ember.randn(*shape_q)
    k = ember.randn(*shape_q[:-2], kv_len, shape_q[-1])
    v = ember.randn(*shape_q[:-2], kv_len, vdim or shape_q[-1])
    return q, k, v


def test_sdp_backend_values():
    from ember.nn.attention import SDPBackend

    assert [int(b) for b in SDPBackend] == [-1, 0, 1, 2, 3, 4]
    assert SDPBackend.MATH.name == "MATH" and repr(SDPBackend.MATH) == "<SDPBackend.MATH: 0>"


def test_sdpa_kernel_sets_and_restores_switches():
    from ember.backends import cuda
    from ember.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel([SDPBackend.MATH, SDPBackend.EFFICIENT_ATTENTION]) as ctx:
        assert ctx == {}
        assert cuda.math_sdp_enabled() and cuda.mem_efficient_sdp_enabled()
        assert not cuda.flash_sdp_enabled() and not cuda.cudnn_sdp_enabled()
    assert cuda.flash_sdp_enabled() and cuda.cudnn_sdp_enabled()
    with pytest.raises(AssertionError, match="got str"):
        with sdpa_kernel("math"):
            pass


def test_sdpa_kernel_flash_runs_4d_and_equals_math():
    from ember.nn.attention import SDPBackend, sdpa_kernel

    q, k, v = _qkv(2, 3, 4, 8)
    expected = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        got = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert_close(got, expected)


@pytest.mark.parametrize("shape,kw,reason", [
    ((3, 4, 8), {}, "4 dimensional"),
    ((2, 3, 4, 8), {"dropout_p": 0.5}, "non-zero dropout"),
    ((2, 3, 4, 8), {"vdim": 6}, "same last dimension"),
])
def test_sdpa_kernel_flash_only_unsupported_inputs_raise(shape, kw, reason):
    from ember.nn.attention import SDPBackend, sdpa_kernel

    q, k, v = _qkv(*shape, vdim=kw.pop("vdim", None))
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="No available kernel.  Aborting execution."):
            nn.functional.scaled_dot_product_attention(q, k, v, **kw)
    messages = [str(w.message) for w in seen]
    assert messages[0] == "Flash attention kernel not used because:"
    assert reason in messages[1]


def test_sdpa_kernel_without_cpu_kernel_raises():
    from ember.nn.attention import SDPBackend, sdpa_kernel

    q, k, v = _qkv(2, 3, 4, 8)
    with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION]):
        with pytest.raises(RuntimeError, match="No viable backend"):
            nn.functional.scaled_dot_product_attention(q, k, v)


# --- SyncBatchNorm ------------------------------------------------------------------------------
def test_sync_batchnorm_is_batchnorm_on_one_process():
    ember.manual_seed(0)
    x = ember.randn(4, 3, 5, 2)
    sbn, bn = nn.SyncBatchNorm(3), nn.BatchNorm2d(3)
    assert_close(sbn(x), bn(x))
    assert_close(sbn.running_var, bn.running_var)
    sbn.eval()
    bn.eval()
    assert_close(sbn(x), bn(x))
    with pytest.raises(ValueError, match="expected at least 2D input"):
        sbn(ember.randn(3))
    with pytest.raises(ValueError, match="channels should be non-zero"):
        nn.SyncBatchNorm(0)(ember.randn(2, 0))


def test_convert_sync_batchnorm_shares_parameters():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Sequential(nn.BatchNorm2d(2)))
    bn = m[1]
    bn.eval()
    out = nn.SyncBatchNorm.convert_sync_batchnorm(m)
    assert out is m and type(m[1]) is nn.SyncBatchNorm and type(m[2][0]) is nn.SyncBatchNorm
    assert m[1].weight is bn.weight and m[1].running_mean is bn.running_mean
    assert not m[1].training
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm3d(2, affine=False))
    assert type(single) is nn.SyncBatchNorm and single.weight is None
