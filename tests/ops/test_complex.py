"""Complex tensors without torch: dtypes and promotion, creation, ops, torch's refusals, and
gradients checked by finite differences of real losses (torch's convention: a complex
tensor's gradient is dL/dRe + 1j * dL/dIm)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.autograd.function import Op

C128, F64 = ember.complex128, ember.float64


def numerical_grad(loss, inputs, eps=1e-6):
    """Central differences of the real ``loss(*inputs)`` for every element of every input:
    the real part from steps along Re, the imaginary part from steps along Im."""
    grads = []
    for t in inputs:
        flat = t._data.reshape(-1)
        g = np.zeros(flat.shape, t._data.dtype)
        steps = (1, 1j) if t.is_complex() else (1,)
        for k in range(flat.size):
            for step in steps:
                orig = flat[k]
                flat[k] = orig + eps * step
                plus = float(loss(*inputs).item())
                flat[k] = orig - eps * step
                minus = float(loss(*inputs).item())
                flat[k] = orig
                g[k] += (plus - minus) / (2 * eps) * (1j if step == 1j else 1)
        grads.append(g.reshape(t._data.shape))
    return grads


def check_grad(loss, *inputs, atol=1e-6, rtol=1e-5):
    """``loss(*inputs).backward()`` against ``numerical_grad`` (inputs in double precision)."""
    leaves = [t.detach().requires_grad_() for t in inputs]
    out = loss(*leaves)
    assert not out.is_complex() and out.numel() == 1
    out.backward()
    with ember.no_grad():
        expected = numerical_grad(loss, [t.detach() for t in leaves])
    for i, (t, e) in enumerate(zip(leaves, expected)):
        if t.grad is None:  # an input the loss does not use
            np.testing.assert_array_equal(e, 0, err_msg=f"input {i} got no gradient")
            continue
        assert t.grad.dtype == t.dtype, f"input {i}: gradient dtype {t.grad.dtype}"
        np.testing.assert_allclose(t.grad.numpy(), e, atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {i}")


def crandn(*shape, dtype=C128):
    return ember.randn(*shape, dtype=dtype)


# --- dtypes -------------------------------------------------------------------------------------
def test_dtype_attributes():
    assert ember.cfloat is ember.complex64 and ember.cdouble is ember.complex128
    assert ember.complex64.is_complex and not ember.float32.is_complex
    assert not ember.complex64.is_floating_point and ember.complex64.is_signed
    assert ember.complex64.to_real() is ember.float32 and C128.to_real() is F64
    assert ember.float32.to_real() is ember.float32
    assert ember.float64.to_complex() is C128 and ember.float32.to_complex() is ember.complex64
    with pytest.raises(RuntimeError, match="Unknown Complex ScalarType for Long"):
        ember.int64.to_complex()
    assert ember.complex64.itemsize == 8 and repr(C128) == "ember.complex128"


@pytest.mark.parametrize("a, b, want", [
    ("float64", "complex64", "complex128"), ("float16", "complex64", "complex64"),
    ("float32", "complex128", "complex128"), ("int64", "complex64", "complex64"),
    ("bool", "complex128", "complex128"), ("complex64", "complex128", "complex128"),
    ("uint8", "complex64", "complex64")])
def test_promote_types_puts_complex_above_floating_point(a, b, want):
    a, b = getattr(ember, a if a != "bool" else "bool"), getattr(ember, b)
    assert ember.promote_types(a, b) is getattr(ember, want)
    assert ember.promote_types(b, a) is getattr(ember, want)


def test_result_type_keeps_the_floating_precision_of_a_complex_scalar():
    f32, f64 = ember.ones(2), ember.ones(2, dtype=F64)
    assert ember.result_type(f64, 1j) is C128
    assert ember.result_type(f32, 1j) is ember.complex64
    assert ember.result_type(f32, ember.tensor(1j, dtype=C128)) is ember.complex64
    assert ember.result_type(f64, ember.tensor(1j)) is C128
    assert ember.result_type(ember.ones(2, dtype=ember.int64), 1j) is ember.complex64
    assert ember.result_type(ember.ones(2, dtype=ember.complex64), ember.tensor(2.5, dtype=F64)) \
        is ember.complex64
    assert (ember.arange(3) * 1j).dtype is ember.complex64
    assert (f64 * ember.tensor([1j])).dtype is C128


def test_python_complex_numbers_follow_the_default_dtype():
    assert ember.tensor(1 + 2j).dtype is ember.complex64
    assert ember.tensor([1, 2.5, 1j]).dtype is ember.complex64
    assert ember.full((2,), 1j).dtype is ember.complex64
    ember.set_default_dtype(ember.float64)
    assert ember.tensor(1j).dtype is C128 and ember.full((1,), 1j).dtype is C128
    assert ember.result_type(ember.ones(2), 1j) is C128


# --- creation and conversion ----------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda d: ember.zeros(2, 3, dtype=d), lambda d: ember.ones(2, 3, dtype=d),
    lambda d: ember.empty(2, 3, dtype=d), lambda d: ember.full((2, 3), 1 - 1j, dtype=d),
    lambda d: ember.zeros_like(ember.ones(2, 3), dtype=d),
    lambda d: ember.ones_like(ember.ones(2, 3, dtype=d)),
    lambda d: ember.randn(2, 3, dtype=d), lambda d: ember.rand(2, 3, dtype=d),
    lambda d: ember.randn_like(ember.ones(2, 3, dtype=d)), lambda d: ember.eye(2, 3, dtype=d)])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_creation_functions_make_complex_tensors(make, dtype):
    t = make(getattr(ember, dtype))
    assert t.dtype is getattr(ember, dtype) and t.shape == (2, 3) and t.is_complex()


def test_values_of_created_complex_tensors():
    np.testing.assert_array_equal(ember.full((2,), 1.5, dtype=ember.complex64).numpy(), 1.5)
    np.testing.assert_array_equal(ember.ones(2, dtype=C128).numpy(), [1 + 0j, 1 + 0j])
    np.testing.assert_array_equal(ember.tensor([[1, 2j]]).numpy(), [[1, 2j]])
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.full((2,), 1j, dtype=ember.float32)
    with pytest.raises(TypeError, match="must be real number, not complex"):
        ember.tensor([1j], dtype=ember.float32)
    with pytest.raises(NotImplementedError, match="arange_cpu.*ComplexFloat"):
        ember.arange(3, dtype=ember.complex64)


def test_randn_complex_has_parts_of_variance_one_half():
    z = ember.randn(20000, dtype=C128).numpy()
    assert abs(z.real.var() - 0.5) < 0.03 and abs(z.imag.var() - 0.5) < 0.03
    assert abs(np.mean(z.real * z.imag)) < 0.02 and abs(z.mean()) < 0.03
    ember.manual_seed(5)
    a = ember.randn(7, dtype=C128)
    ember.manual_seed(5)
    pairs = ember.randn(7, 2, dtype=F64) / np.sqrt(2)
    np.testing.assert_allclose(ember.view_as_real(a).numpy(), pairs.numpy(), rtol=1e-12)


def test_from_numpy_and_numpy_share_complex_memory():
    arr = np.array([1 + 2j, 3 - 1j], np.complex64)
    t = ember.from_numpy(arr)
    assert t.dtype is ember.complex64
    arr[0] = 5j
    assert t[0].item() == 5j and t.numpy() is arr
    assert ember.from_numpy(arr.astype(np.complex128)).dtype is C128
    with pytest.raises(TypeError, match="complex64, complex128"):
        ember.from_numpy(np.array([1], np.uint16))


def test_item_tolist_and_python_numbers():
    z = ember.tensor(1 + 2j)
    assert z.item() == 1 + 2j and type(z.item()) is complex
    assert ember.tensor([1j, 2]).tolist() == [1j, 2 + 0j]
    assert complex(z) == 1 + 2j
    assert float(ember.tensor(3 + 0j)) == 3.0


def test_to_complex_and_back():
    x = ember.tensor([1.5, -2.0])
    z = x.to(ember.complex64)
    assert z.dtype is ember.complex64 and z.tolist() == [1.5 + 0j, -2 + 0j]
    assert x.cdouble().dtype is C128 and z.cfloat() is z
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        r = ember.tensor([1 + 2j, 3 - 1j]).to(ember.float32)
    assert r.dtype is ember.float32 and r.tolist() == [1.0, 3.0]
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        assert ember.tensor([2 + 2j]).long().tolist() == [2]
    assert ember.tensor([1j]).type() == "torch.ComplexFloatTensor"


def test_repr_formats_real_and_imaginary_parts_separately():
    assert repr(ember.tensor([1 + 2j, 3 - 1j])) == "tensor([1.+2.j, 3.-1.j])"
    assert repr(ember.tensor(1 + 2j)) == "tensor(1.+2.j)"
    assert repr(ember.zeros(2, dtype=C128)) == "tensor([0.+0.j, 0.+0.j], dtype=ember.complex128)"
    assert repr(ember.tensor([0.5 + 1j])) == "tensor([0.5000+1.j])"
    text = repr(ember.tensor([1j], requires_grad=True))
    assert text == "tensor([0.+1.j], requires_grad=True)"


# --- ops ------------------------------------------------------------------------------------------
Z = np.array([[1 + 2j, 3 - 1j, -0.5j], [2.5 + 0.5j, -1 - 1j, 0.25 + 3j]])


@pytest.mark.parametrize("fn, twin", [
    (lambda z: z + z[0], lambda a: a + a[0]), (lambda z: z - 2.5, lambda a: a - 2.5),
    (lambda z: z * (1 - 2j), lambda a: a * (1 - 2j)),
    (lambda z: z / z[:, :1], lambda a: a / a[:, :1]),
    (lambda z: z ** 2, lambda a: a ** 2), (lambda z: z ** 0.5, lambda a: a ** 0.5),
    (lambda z: 2 ** z, lambda a: 2 ** a), (lambda z: -z, lambda a: -a),
    (lambda z: 1 / z, lambda a: 1 / a), (lambda z: z.exp(), np.exp), (lambda z: z.log(), np.log),
    (lambda z: z.sqrt(), np.sqrt), (lambda z: z.sin(), np.sin), (lambda z: z.cos(), np.cos),
    (lambda z: z.tanh(), np.tanh), (lambda z: z.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    (lambda z: z.reciprocal(), lambda a: 1 / a), (lambda z: z.square(), lambda a: a * a),
    (lambda z: z.sum(0), lambda a: a.sum(0)), (lambda z: z.mean(), np.mean),
    (lambda z: z.prod(1), lambda a: a.prod(1)), (lambda z: z.cumsum(1), lambda a: a.cumsum(1)),
    (lambda z: z.t() @ z, lambda a: a.T @ a), (lambda z: z.conj(), np.conj),
    (lambda z: z.abs(), np.abs), (lambda z: z.angle(), np.angle), (lambda z: z.sgn(), np.sign),
    (lambda z: z.logsumexp(1), lambda a: np.log(np.exp(a).sum(1))),
])
def test_ops_compute_numpys_complex_values(fn, twin):
    out = fn(ember.tensor(Z, dtype=C128)).resolve_conj()
    np.testing.assert_allclose(out.numpy(), twin(Z), rtol=1e-12, atol=1e-12)


def test_real_results_of_complex_inputs():
    z = ember.tensor(Z, dtype=ember.complex64)
    for out in (z.abs(), z.angle(), z.real, z.imag, z.var(), z.std(0),
                ember.linalg.vector_norm(z), ember.view_as_real(z)):
        assert out.dtype is ember.float32
    np.testing.assert_allclose(z.var().item(), np.var(Z, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(ember.linalg.vector_norm(z, 1).item(), np.abs(Z).sum(), rtol=1e-6)


def test_equality_works_but_ordering_is_refused():
    z = ember.tensor([1 + 2j, 3 - 1j])
    assert (z == ember.tensor([1 + 2j, 3])).tolist() == [True, False]
    assert (z != 3 - 1j).tolist() == [True, False]
    assert ember.equal(z, z.clone()) and ember.allclose(z, z + 1e-9)
    for compare in (lambda: z < z, lambda: z > 1, lambda: z.le(z), lambda: ember.ge(z, 0)):
        with pytest.raises(NotImplementedError, match="not implemented for 'ComplexFloat'"):
            compare()


def test_real_and_imag_are_views_that_write_through():
    z = ember.tensor([1 + 2j, 3 - 1j])
    z.real.mul_(2)
    z.imag[0] = 7
    assert z.tolist() == [2 + 7j, 6 - 1j]
    z.real = ember.tensor([5.0, 6.0])
    z.imag = 0.5
    assert z.tolist() == [5 + 0.5j, 6 + 0.5j]
    assert z.real.data_ptr() == z.data_ptr()
    x = ember.tensor([1.0, 2.0])
    assert x.real is x and ember.real(x) is x
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex"):
        _ = x.imag


def test_conjugation_family():
    z = ember.tensor([1 + 2j, 3 - 1j])
    c = z.conj()
    assert c.tolist() == [1 - 2j, 3 + 1j] and c.is_conj() and not z.is_conj()
    r = c.resolve_conj()
    assert not r.is_conj() and r.tolist() == c.tolist()
    assert not z.conj_physical().is_conj() and z.conj_physical().tolist() == c.tolist()
    assert not (c + 0).is_conj() and not c.clone().is_conj()
    x = ember.ones(2)
    assert x.conj() is x and x.resolve_conj() is x and not x.conj().is_conj()
    m = ember.tensor([[1 + 1j, 2j], [3, 4 - 1j], [0, 1]])
    for adjoint in (m.mH, m.H, m.adjoint()):
        assert adjoint.is_conj()
        np.testing.assert_array_equal(adjoint.resolve_conj().numpy(), m.numpy().conj().T)
    with pytest.raises(RuntimeError, match="conjugate bit set"):
        c.numpy()
    assert ember.vdot(z, z).item() == np.vdot(z.numpy(), z.numpy())
    assert ember.isreal(ember.tensor([1 + 0j, 1j])).tolist() == [True, False]
    assert ember.is_complex(z) and z.is_complex() and not ember.is_complex(x)


def test_view_as_real_and_view_as_complex_share_memory():
    z = ember.tensor([[1 + 2j, 3 - 1j]], dtype=C128)
    r = ember.view_as_real(z)
    assert r.shape == (1, 2, 2) and r.dtype is F64 and r.stride() == (4, 2, 1)
    r[0, 1, 1] = 9
    assert z[0, 1].item() == 3 + 9j
    back = ember.view_as_complex(r)
    assert back.dtype is C128 and back.tolist() == z.tolist() and back.data_ptr() == z.data_ptr()
    assert ember.view_as_real(ember.zeros(6, dtype=C128)[::2]).stride() == (4, 1)
    assert ember.view_as_complex(ember.ones(0, 2)).shape == (0,)


@pytest.mark.parametrize("call, error, match", [
    (lambda: ember.view_as_real(ember.ones(2)), RuntimeError, "only supported for complex"),
    (lambda: ember.view_as_real(ember.tensor([1j]).conj()), RuntimeError, "unresolved conj"),
    (lambda: ember.view_as_complex(ember.ones(3)), RuntimeError, "last dimension of size 2"),
    (lambda: ember.view_as_complex(ember.ones(2, 4)[:, ::2]), RuntimeError,
     "last dimension with stride 1"),
    (lambda: ember.view_as_complex(ember.ones(3, 3)[:, 1:]), RuntimeError,
     "stride divisible by 2"),
    (lambda: ember.view_as_complex(ember.ones(7)[1:].view(3, 2)), RuntimeError,
     "storage_offset divisible by 2"),
    (lambda: ember.view_as_complex(ember.ones(2, dtype=ember.int64)), RuntimeError,
     "half, float and double tensors, but got a tensor of scalar type: Long"),
    (lambda: ember.view_as_complex(ember.tensor(1.0)), RuntimeError, "one or more dimensions"),
    (lambda: ember.complex(ember.ones(2), ember.ones(2, dtype=F64)), RuntimeError,
     "Expected object of scalar type Float but got scalar type Double for second argument"),
    (lambda: ember.polar(ember.ones(2, dtype=ember.int64), ember.ones(2, dtype=ember.int64)),
     RuntimeError, "Half, Float or Double tensors but got Long and Long"),
    (lambda: ember.complex(ember.ones(2), 1.0), TypeError, "argument 'imag'"),
    (lambda: ember.complex(ember.ones(2), ember.ones(3)), RuntimeError, "must match"),
])
def test_conversion_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_complex_and_polar_build_from_real_parts():
    re, im = ember.tensor([[1.0], [2.0]]), ember.tensor([0.5, -1.0, 3.0])
    z = ember.complex(re, im)
    assert z.dtype is ember.complex64 and z.shape == (2, 3)
    np.testing.assert_array_equal(z.numpy(), re.numpy() + 1j * im.numpy())
    r, t = ember.tensor([1.0, 2.0], dtype=F64), ember.tensor([0.5, -2.0], dtype=F64)
    np.testing.assert_allclose(ember.polar(r, t).numpy(), r.numpy() * np.exp(1j * t.numpy()))


def test_shape_ops_and_indexing_keep_complex_values():
    z = ember.tensor(Z)
    np.testing.assert_array_equal(ember.cat([z, z.conj()]).numpy(), np.concatenate([Z, Z.conj()]))
    np.testing.assert_array_equal(ember.stack([z, z], 1).numpy(), np.stack([Z, Z], 1))
    np.testing.assert_array_equal(z.t().reshape(2, 3).numpy(), Z.T.reshape(2, 3))
    np.testing.assert_array_equal(z[:, [2, 0]].numpy(), Z[:, [2, 0]])
    np.testing.assert_array_equal(z[z.real > 0].numpy(), Z[Z.real > 0])
    np.testing.assert_array_equal(ember.where(z.imag > 0, z, 0).numpy(),
                                  np.where(Z.imag > 0, Z, 0))
    np.testing.assert_allclose(ember.mm(z, z.mT).numpy(), Z @ Z.T)


@pytest.mark.parametrize("call, error, match", [
    (lambda z: z.max(), NotImplementedError, '"max_all" not implemented'),
    (lambda z: z.max(0), RuntimeError, r"max\(\): does not support complex input"),
    (lambda z: z.min(), NotImplementedError, '"min_all" not implemented'),
    (lambda z: z.amax(), NotImplementedError, "max_values_cpu"),
    (lambda z: z.argmax(), RuntimeError, "argmax.*does not support complex input"),
    (lambda z: z.clamp(0, 1), NotImplementedError, "clamp is not supported for complex types"),
    (lambda z: z.clamp_min(0), NotImplementedError, "clamp is not supported"),
    (lambda z: ember.relu(z), NotImplementedError, "clamp is not supported for complex types"),
    (lambda z: ember.nn.functional.relu6(z), NotImplementedError, "clamp is not supported"),
    (lambda z: ember.nn.functional.gelu(z), NotImplementedError, "GeluKernelImpl"),
    (lambda z: z.sort(), RuntimeError, "Sort does not support complex dtypes on CPU"),
    (lambda z: z.topk(1), RuntimeError, "topk does not support complex dtypes"),
    (lambda z: z.floor(), NotImplementedError, "floor is not supported for complex inputs"),
    (lambda z: z.round(), NotImplementedError, "round_vml_cpu"),
    (lambda z: z.sign(), NotImplementedError, "Please use torch.sgn instead"),
    (lambda z: ember.maximum(z, z), RuntimeError, "maximum not implemented for complex"),
    (lambda z: z.softmax(0), NotImplementedError, "softmax_kernel_impl"),
    (lambda z: z.log_softmax(-1), NotImplementedError, "log_softmax_lastdim_kernel_impl"),
    (lambda z: ember.nn.functional.cross_entropy(z, ember.tensor([0, 1])),
     NotImplementedError, "log_softmax_lastdim_kernel_impl"),
    (lambda z: z.fmod(2), NotImplementedError, "fmod_cpu"),
    (lambda z: z // 2, NotImplementedError, "div_floor_cpu"),
    (lambda z: z.median(), NotImplementedError, "median_cpu"),
    (lambda z: z.cummax(0), NotImplementedError, "cummax_cpu"),
    (lambda z: ember.erf(z), NotImplementedError, "erf_vml_cpu"),
    (lambda z: ember.deg2rad(z), RuntimeError, "deg2rad is not supported for complex tensors"),
    (lambda z: ember.unique(z), NotImplementedError, '"unique" not implemented'),
    (lambda z: z.abs_(), RuntimeError, "In-place abs is not supported for complex tensors"),
    (lambda z: ember.isposinf(z), RuntimeError, "isposinf does not support complex inputs"),
    (lambda z: ember.nansum(z), RuntimeError, "nansum on CPU does not support complex"),
    (lambda z: z.exponential_(), RuntimeError, "dtype must be a floating point"),
])
def test_ops_torch_refuses_on_complex_raise_its_error(call, error, match):
    with pytest.raises(error, match=match):
        call(ember.tensor(Z, dtype=ember.complex64))


def test_random_fills_of_complex_tensors():
    z = ember.empty(4000, dtype=C128).normal_(1.0, 2.0).numpy()
    assert abs(z.mean() - (1 + 1j)) < 0.15 and abs(np.var(z) - 4.0) < 0.4
    u = ember.empty(1000, dtype=ember.complex64).uniform_(-1, 2).numpy()
    assert u.real.min() >= -1 and u.imag.max() < 2 and u.imag.min() < 0 < u.real.max()


# --- autograd -------------------------------------------------------------------------------------
GRAD_CASES = {
    "mul_conj": lambda z, w, x: (z * z.conj()[:, :1] * (2 - 1j)).abs().sum(),
    "mul_real_complex": lambda z, w, x: (z * x).real.sum() + (x * z).imag.pow(2).sum(),
    "add_sub_scalar": lambda z, w, x: ((z + 1j) - x * 0.5j).abs().sum(),
    "div": lambda z, w, x: (z / (z + 3) + 1 / z).abs().sum(),
    "pow": lambda z, w, x: (z ** 3).real.sum() + (z ** (0.5 + 1j)).imag.sum()
    + (2 ** z).abs().sum(),
    "pow_tensor_exponent": lambda z, w, x: (z ** (z * 0.1)).abs().sum(),
    "exp_log": lambda z, w, x: z.exp().real.sum() + ember.view_as_real(z.log()).pow(2).sum(),
    "sqrt_rsqrt": lambda z, w, x: z.sqrt().abs().sum() + z.rsqrt().real.sum(),
    "trig": lambda z, w, x: z.sin().imag.sum() + z.cos().real.sum() + z.tan().abs().sum(),
    "hyperbolic": lambda z, w, x: (z.tanh().abs() + z.sinh().real + z.cosh().imag).sum(),
    "inverse_trig": lambda z, w, x: (z.asin().abs() + z.atan().real + z.asinh().imag).sum(),
    "sigmoid": lambda z, w, x: (z.sigmoid().abs() + z.sigmoid().real).sum(),
    "log1p_expm1": lambda z, w, x: (z.log1p().imag + z.expm1().abs() + z.log2().real).sum(),
    "matmul": lambda z, w, x: (z @ w).abs().sum(),
    "matmul_vector": lambda z, w, x: (z @ w[:, 0]).abs().sum() + (w[:, 1] @ w[:, 0]).real,
    "bmm_einsum": lambda z, w, x: ember.einsum("ij,jk->ik", z, w).abs().sum()
    + ember.bmm(z[None], w[None]).imag.sum(),
    "linear_addmm": lambda z, w, x: ember.nn.functional.linear(z, w.mT).abs().sum()
    + ember.addmm(z[:, :2], z, w).real.sum(),
    "real_matrix_times_complex": lambda z, w, x: (x.to(C128) @ w).abs().sum(),
    "sum_mean": lambda z, w, x: (z.sum(0) * z.mean(1)[:1]).real.sum() + z.mean().imag,
    "prod_cumprod_cumsum": lambda z, w, x: z.prod(1).abs().sum() + z.cumprod(0).real.sum()
    + z.cumsum(1).imag.sum(),
    "var_std": lambda z, w, x: z.var(0).sum() + z.std(1).sum(),
    "logsumexp": lambda z, w, x: z.logsumexp(1).abs().sum(),
    "abs_angle_sgn": lambda z, w, x: (z.abs() + z.angle() + (z.sgn() * (1 + 2j)).real).sum(),
    "real_imag": lambda z, w, x: (z.real * z.imag).sum(),
    "conj": lambda z, w, x: (z.conj() * z[0]).imag.sum() + z.conj_physical().real.sum(),
    "view_as_real": lambda z, w, x: (ember.view_as_real(z) ** 2 * x[..., None]).sum(),
    "view_as_complex": lambda z, w, x: (ember.view_as_complex(ember.stack([x, x.exp()], -1))
                                        * z).abs().sum(),
    "complex_polar": lambda z, w, x: (ember.complex(x, x * 2) * z).abs().sum()
    + ember.polar(x.abs() + 0.5, x).mul(z).imag.sum(),
    "to_dtype": lambda z, w, x: (x.to(C128) * z).abs().sum() + ember.view_as_real(z).sum(),
    "shape_ops": lambda z, w, x: (z.t().reshape(2, 6)[:, 1:] * ember.cat([z, z])[:3].reshape(
        2, 6)[:, :5].flip(1)).abs().sum(),
    "index_stack_expand": lambda z, w, x: (ember.stack([z, z * 1j])[:, [0, 2]].abs().sum()
                                          + (z[:, None] * z[None, :]).real.sum()),
    "where_masked": lambda z, w, x: ember.where(x > 0, z, z * 1j).abs().sum()
    + z.masked_fill(x < 0, 2j).real.sum(),
    "vector_norm": lambda z, w, x: ember.linalg.vector_norm(z) + ember.linalg.vector_norm(w, 1),
    "mH": lambda z, w, x: (z.mH @ z).real.sum() + (w.adjoint() * 1j).imag.sum(),
    "lerp_addcmul": lambda z, w, x: (z.lerp(z * 1j, 0.3) + z.addcmul(z, z, value=0.5j)).abs().sum(),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradient_matches_finite_differences(name):
    ember.manual_seed(3)
    z, w = crandn(3, 4), crandn(4, 2)
    x = ember.randn(3, 4, dtype=F64)
    check_grad(GRAD_CASES[name], z, w, x)


def test_real_loss_through_complex_intermediates_gives_real_gradients():
    x = ember.randn(5, dtype=F64)
    check_grad(lambda x: (x * (1 + 2j)).exp().abs().sum() + x.to(C128).angle().sum(), x)
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x * (1 + 2j)).abs().sum().backward()
    assert x.grad.dtype is ember.float32
    np.testing.assert_allclose(x.grad.numpy(), [np.sqrt(5)] * 2, rtol=1e-6)


def test_leaf_gradients_follow_torchs_convention():
    z = ember.tensor([1 + 1j, 2 - 3j], dtype=C128, requires_grad=True)
    (z.abs() ** 2).sum().backward()  # |z|^2 = x^2 + y^2: gradient 2x + 2iy = 2z
    np.testing.assert_allclose(z.grad.numpy(), 2 * z.detach().numpy())
    z.grad = None
    (z * (2 + 1j)).real.sum().backward()  # Re(c z) = ax - by: gradient a - ib = conj(c)
    np.testing.assert_allclose(z.grad.numpy(), [2 - 1j, 2 - 1j])


def test_backward_of_a_complex_scalar_needs_an_explicit_gradient():
    z = ember.tensor([1 + 1j], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar "
                                           "outputs but got ember.complex64"):
        (z * 2).sum().backward()
    with pytest.raises(RuntimeError, match="only for real scalar outputs"):
        ember.autograd.grad((z * 2).sum(), z)
    (z * 2).sum().backward(ember.tensor(1 + 0j))
    assert z.grad.tolist() == [2 + 0j]
    assert "requires_grad=True" in repr(ember.zeros(1, dtype=C128).requires_grad_())


class _Twice(Op):
    """z = 2 x, an op with no complex rule"""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_op_without_a_complex_rule_refuses_to_record():
    z = ember.randn(4, dtype=C128, requires_grad=True)
    with pytest.raises(NotImplementedError, match="_Twice"):
        _Twice.apply(z * 1)
    with ember.no_grad():  # nothing recorded, nothing refused
        assert _Twice.apply(z * 1).shape == (4,)


def test_silu_of_complex_computes_but_refuses_gradients_as_torch():
    z = ember.tensor([1 + 2j, -1j], dtype=C128)
    s = ember.nn.functional.silu(z)
    np.testing.assert_allclose(s.numpy(), z.numpy() / (1 + np.exp(-z.numpy())))
    with pytest.raises(RuntimeError, match="silu does not support automatic differentiation"):
        ember.nn.functional.silu(z.requires_grad_())


def test_graph_features_work_on_complex_nodes():
    z = ember.tensor([1 + 2j, -1j], dtype=C128, requires_grad=True)
    y = z * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 1j)
    y.abs().sum().backward()  # y.grad holds the gradient after the hook, as torch's
    np.testing.assert_allclose(y.grad.numpy(), 1j * np.sign(y.detach().numpy()))
    np.testing.assert_allclose(z.grad.numpy(), 1j * np.sign(y.detach().numpy()) * 2)
    assert type((z * 2).grad_fn).__name__ == "MulBackward0"
    assert type(z.real.grad_fn).__name__ == "SelectBackward0"
    (g,) = ember.autograd.grad((z * z).abs().sum(), z, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * z.detach().numpy())


def test_in_place_ops_on_complex_tensors_in_a_graph():
    z = ember.randn(3, dtype=C128)

    def loss(z):
        y = z * 2
        y.mul_(1j)
        y[0] = z[1] * 3
        return y.abs().sum()

    check_grad(loss, z)


def test_no_numpy_complex_warning_leaks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = ember.randn(3, requires_grad=True)
        (x * (1 + 1j)).real.sum().backward()
        assert x.grad.dtype is ember.float32


def test_finfo_save_load_and_custom_functions_take_complex():
    assert ember.finfo(ember.complex64).bits == 32 and ember.finfo(C128).dtype == "float64"
    import io

    z = ember.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    buf = io.BytesIO()
    ember.save({"z": z}, buf)
    buf.seek(0)
    back = ember.load(buf)["z"]
    assert back.dtype is ember.complex64 and back.requires_grad and back.tolist() == z.tolist()

    class Rotate(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * (1 + 1j)

        @staticmethod
        def backward(ctx, grad):
            return (grad * (1 - 1j)).real

    x = ember.ones(2, requires_grad=True)
    y = Rotate.apply(x)
    assert y.requires_grad and y.is_complex()
    y.abs().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [np.sqrt(2)] * 2, rtol=1e-6)
