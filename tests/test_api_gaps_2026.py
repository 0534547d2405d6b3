"""Torch-free checks of the 2026 top-level API gaps: finite-difference gradients of ``ormqr``
and the ``*_copy`` views, the algebra of ``geqrf``/``ormqr`` (Q R = A, Q^H Q = I), and the
behaviour of ``accelerator``, ``version``, ``functional``, the autocast state, ``mps``/``xpu``,
``set_default_tensor_type`` and ``from_file`` (expected messages are torch 2.13's)."""
from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from tests.helpers import assert_close


def _rand(shape, seed, complex_=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if complex_:
        x = x + 1j * rng.standard_normal(shape)
    return ember.tensor(x, requires_grad=True)


# --- geqrf / ormqr -------------------------------------------------------------------------
@pytest.mark.parametrize("complex_", [False, True], ids=["float64", "complex128"])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("a_shape", [(5, 3), (2, 4, 4), (3, 5), (4, 1)])
def test_ormqr_gradients_pass_gradcheck(complex_, left, transpose, a_shape):
    m, k = a_shape[-2], min(a_shape[-2:])
    a = _rand(a_shape, 0, complex_)
    tau = _rand(a_shape[:-2] + (k,), 1, complex_)
    c = _rand(a_shape[:-2] + ((m, 2) if left else (3, m)), 2, complex_)
    assert gradcheck(lambda a, t, c: ember.ormqr(a, t, c, left, transpose), (a, tau, c),
                     eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("shape", [(5, 3), (4, 4), (2, 6, 2), (3, 3, 3)])
@pytest.mark.parametrize("complex_", [False, True])
def test_geqrf_then_ormqr_rebuilds_the_matrix(shape, complex_):
    x = _rand(shape, 3, complex_).detach()
    a, tau = ember.geqrf(x)
    r = ember.triu(a)  # (m, n): R on top, zeros below
    assert_close(ember.view_as_real(ember.ormqr(a, tau, r)) if complex_ else
                 ember.ormqr(a, tau, r), ember.view_as_real(x) if complex_ else x,
                 rtol=1e-10, atol=1e-10)
    q = ember.linalg.householder_product(a, tau) if shape[-2] >= shape[-1] else None
    if q is not None:  # the same Q as householder_product's
        eye = ember.eye(shape[-2], dtype=x.dtype).expand(*shape[:-2], shape[-2], shape[-2])
        full_q = ember.ormqr(a, tau, eye)
        got, want = full_q[..., : shape[-1]], q
        assert_close(ember.view_as_real(got) if complex_ else got,
                     ember.view_as_real(want) if complex_ else want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("left", [True, False])
def test_ormqr_transpose_undoes_ormqr(left):
    x = _rand((2, 5, 3), 4).detach()
    a, tau = ember.geqrf(x)
    c = _rand((2, 5, 4) if left else (2, 4, 5), 5).detach()
    back = ember.ormqr(a, tau, ember.ormqr(a, tau, c, left, False), left, True)
    assert_close(back, c, rtol=1e-10, atol=1e-10)
    # the right product is the left one conjugate-transposed
    if not left:
        flipped = ember.ormqr(a, tau, c.mT, True, True).mT
        assert_close(ember.ormqr(a, tau, c, False, False), flipped, rtol=1e-10, atol=1e-10)


def test_geqrf_r_has_the_qr_magnitudes_and_tau_the_lapack_range():
    x = _rand((6, 4), 6).detach()
    a, tau = ember.geqrf(x)
    _, r = ember.linalg.qr(x)
    assert_close(ember.triu(a[:4]).abs(), r.abs(), rtol=1e-10, atol=1e-10)
    assert ((tau >= 1.0) & (tau <= 2.0)).all()  # real reflectors: tau = 2 / (v^T v)
    assert a.shape == (6, 4) and tau.shape == (4,) and tau.dtype == ember.float64


def test_geqrf_float32_stays_float32_and_has_no_derivative():
    x = ember.randn(4, 3, requires_grad=True)
    a, tau = x.geqrf()
    assert a.dtype == tau.dtype == ember.float32 and type(a.grad_fn).__name__ == "GeqrfBackward0"
    with pytest.raises(NotImplementedError, match="the derivative for 'geqrf' is not"):
        tau.sum().backward()


def test_geqrf_ormqr_reject_what_torch_rejects():
    with pytest.raises(RuntimeError, match="torch.geqrf: input must have at least 2 dimensions"):
        ember.geqrf(ember.ones(3))
    with pytest.raises(NotImplementedError, match="\"geqrf_cpu\" not implemented for 'Long'"):
        ember.geqrf(ember.ones(2, 2, dtype=ember.int64))
    a, t, c = ember.ones(5, 3), ember.ones(3), ember.ones(5, 2)
    with pytest.raises(RuntimeError, match=r"other.shape\[-1\] must be equal to input.shape"):
        ember.ormqr(a, t, c, left=False)
    with pytest.raises(RuntimeError, match="input has dtypeFloat and other has dtype Double"):
        ember.ormqr(a, t, c.double())


# --- the *_copy views ----------------------------------------------------------------------
def test_view_as_real_copy_passes_gradcheck_also_through_conj():
    z = _rand((2, 3), 7, complex_=True)
    assert gradcheck(ember.view_as_real_copy, (z,))
    assert gradcheck(lambda z: ember.view_as_real_copy(z.conj()), (z,))


def test_neg_view_and_reshape_alias_copies_pass_gradcheck():
    x = _rand((2, 3), 8)
    assert gradcheck(ember._neg_view_copy, (x,))
    assert gradcheck(lambda x: ember._reshape_alias_copy(x, (3, 2), (2, 1)), (x,))


def test_reshape_alias_copy_gradient_is_a_reshape_whatever_the_strides():
    x = ember.arange(6.0, requires_grad=True).reshape(2, 3).detach().requires_grad_()
    out = ember._reshape_alias_copy(x, (3, 2), (1, 3))
    assert out.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]  # values read with the strides
    (out * ember.arange(6.0).reshape(3, 2)).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]  # torch's formula: reshape


def test_view_as_real_copy_is_a_copy():
    z = ember.tensor([1 + 2j, 3 - 4j])
    r = ember.view_as_real_copy(z)
    r[0, 0] = 10.0
    assert r.tolist() == [[10.0, 2.0], [3.0, -4.0]] and z[0].item() == 1 + 2j


def test_view_as_complex_copy_refuses_autograd_like_torch():
    p = ember.ones(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="view_as_complex_copy does not support automatic "
                                           "differentiation for outputs with complex dtype."):
        ember.view_as_complex_copy(p)
    with ember.no_grad():
        assert ember.view_as_complex_copy(p).tolist() == [1 + 1j] * 3
    with pytest.raises(RuntimeError, match="Tensor must have a last dimension of size 2"):
        ember.view_as_complex_copy(ember.ones(3, requires_grad=True))


# --- accelerator, version, functional, device modules ---------------------------------------
def test_accelerator_reports_no_accelerator():
    acc = ember.accelerator
    device = acc.current_accelerator().type if acc.is_available() else "cpu"
    assert device == "cpu" and acc.device_count() == 0 and acc.current_accelerator(True) is None
    acc.set_device_index(-1)  # a negative index is a no-op
    with acc.device_index(None):
        pass
    for fn in (acc.current_device_index, acc.synchronize, acc.memory_allocated, acc.Graph):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is "
                                               "available."):
            fn()
    with pytest.raises(RuntimeError, match="Accelerator expected"):
        acc.synchronize("cpu")
    with pytest.warns(FutureWarning, match="Use `current_device_index` instead."), \
            pytest.raises(RuntimeError):
        acc.current_device_idx()


def test_version_and_torch_version():
    assert ember.version.cuda is None and ember.version.hip is None and not ember.version.debug
    v = ember.__version__
    assert v == "0.1.0" and v >= (0, 1) and v < "0.10" and v > "0.1.0rc1" and v < (0, 1, 0, 1)
    tv = ember.torch_version.TorchVersion
    assert tv("2.1.0") < "2.10.0" and tv("1.0.dev1") < "1.0a1"
    assert tv("1.0a1") < "1.0" and tv("1.0") < "1.0.post1" and tv("1.0") == (1, 0, 0)
    assert tv("1.0+cpu") > "1.0" and tv("parrot") > "apple"  # strings that are no version


def test_functional_reexports_the_top_level_functions():
    import ember.functional as F

    assert F.einsum is ember.einsum and F.stft is ember.stft and F.lu is ember.lu
    assert F.meshgrid(ember.arange(2), ember.arange(3), indexing="ij")[1].shape == (2, 3)


def test_device_modules_and_get_device_module():
    assert not ember.mps.is_available() and ember.mps.device_count() == 0
    assert not ember.xpu.is_available() and ember.xpu.memory_allocated() == 0
    with pytest.raises(RuntimeError, match="Cannot execute deviceSynchronize"):
        ember.mps.synchronize()
    with pytest.raises(RuntimeError, match="Cannot execute acquireEvent"):
        ember.mps.Event()
    with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
        ember.xpu.current_device()
    assert ember.get_device_module() is ember.cpu and ember.get_device_module("mps") is ember.mps
    assert ember.get_device_module(ember.device("cuda", 0)) is ember.cuda
    with pytest.raises(RuntimeError, match="Device 'meta' does not have a corresponding module"):
        ember.get_device_module("meta")
    with pytest.raises(RuntimeError, match="device string: foo"):
        ember.get_device_module("foo")


# --- autocast state ------------------------------------------------------------------------
def test_autocast_region_sets_dtype_enabled_cache_and_nesting():
    assert ember.get_autocast_dtype("cpu") == ember.bfloat16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autocast("cpu", dtype=ember.float16, cache_enabled=False):
            assert ember.get_autocast_dtype("cpu") == ember.float16
            assert ember.is_autocast_enabled("cpu") and not ember.is_autocast_enabled()
            assert not ember.is_autocast_cache_enabled()
            assert ember.autocast_increment_nesting() == 2
            assert ember.autocast_decrement_nesting() == 1
    assert ember.get_autocast_dtype("cpu") == ember.bfloat16
    assert not ember.is_autocast_enabled("cpu") and ember.is_autocast_cache_enabled()


def test_autocast_state_setters_and_deprecated_spellings():
    try:
        ember.set_autocast_enabled("cpu", True)
        ember.set_autocast_dtype("cpu", ember.float16)
        with pytest.warns(DeprecationWarning, match=r"torch.get_autocast_cpu_dtype\(\) is "
                                                    r"deprecated. Please use"):
            assert ember.get_autocast_cpu_dtype() == ember.float16
        with pytest.warns(DeprecationWarning, match="is_autocast_cpu_enabled"):
            assert ember.is_autocast_cpu_enabled()
    finally:
        ember.set_autocast_enabled("cpu", False)
        ember.set_autocast_dtype("cpu", ember.bfloat16)
    with pytest.raises(RuntimeError, match="unknown device type for autocast"):
        ember.is_autocast_enabled("meta")
    with pytest.raises(TypeError, match="argument 'enabled' \\(position 2\\) must be bool"):
        ember.set_autocast_enabled("cpu", 1)


def test_autocast_state_is_per_thread():
    seen = []
    ember.set_autocast_dtype("cpu", ember.float16)
    try:
        thread = threading.Thread(target=lambda: seen.append(ember.get_autocast_dtype("cpu")))
        thread.start()
        thread.join()
    finally:
        ember.set_autocast_dtype("cpu", ember.bfloat16)
    assert seen == [ember.bfloat16]


# --- set_default_tensor_type and from_file -------------------------------------------------
def test_set_default_tensor_type_changes_the_default_dtype():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ember.set_default_tensor_type(ember.DoubleTensor)
        assert ember.get_default_dtype() == ember.float64 and ember.tensor([1.5]).dtype == \
            ember.float64
        ember.set_default_tensor_type("torch.FloatTensor")
    assert ember.get_default_dtype() == ember.float32
    with pytest.raises(TypeError, match="only floating-point types are supported"):
        ember.set_default_tensor_type(ember.LongTensor)
    with pytest.raises(TypeError, match="type torch.cuda.FloatTensor not available"):
        ember.set_default_tensor_type("torch.cuda.FloatTensor")


def test_from_file_reads_and_shares_bytes(tmp_path):
    path = tmp_path / "x.bin"
    data = np.arange(6, dtype=np.float64)
    data.tofile(path)
    x = ember.from_file(str(path), size=6, dtype=ember.float64)
    assert x.tolist() == data.tolist() and x.dtype == ember.float64
    assert ember.from_file(str(path), size=3, dtype=ember.int32).tolist() == \
        data.view(np.int32)[:3].tolist()
    shared = ember.from_file(str(path), shared=True, size=6, dtype=ember.float64)
    shared.mul_(2.0)
    assert np.fromfile(path, np.float64).tolist() == (2 * data).tolist()
    with pytest.raises(RuntimeError, match="is smaller than the required mapping size <56>"):
        ember.from_file(str(path), size=7, dtype=ember.float64)
