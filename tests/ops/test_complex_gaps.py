"""Complex inputs of ops that used to refuse them, checked without torch: values against
NumPy and gradients by finite differences (gradcheck nudges real and imaginary parts)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck


def _sample(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _leaf(arr):
    return ember.tensor(arr, requires_grad=True)


def test_logcumsumexp_complex_values():
    x = _sample((3, 4))
    want = np.log(np.cumsum(np.exp(x), axis=1))
    got = ember.logcumsumexp(ember.tensor(x), 1).numpy()
    np.testing.assert_allclose(np.exp(got), np.exp(want), rtol=1e-12)  # equal modulo 2 pi i
    np.testing.assert_allclose(got.real, want.real, rtol=1e-12)


def test_logcumsumexp_complex_large_values_stay_finite():
    x = np.array([800 + 1j, 801 - 2j, 799 + 0.5j])
    got = ember.logcumsumexp(ember.tensor(x), 0).numpy()
    assert np.isfinite(got).all()
    np.testing.assert_allclose(np.exp(got - 800), np.cumsum(np.exp(x - 800)), rtol=1e-12)


@pytest.mark.parametrize("fn, shape", [
    (lambda z: ember.logcumsumexp(z, 0), (3, 4)),
    (lambda z: ember.renorm(z, 2, 0, 1.0), (3, 4)),
    (lambda z: ember.renorm(z, 1, 1, 1.0), (3, 4)),
    (lambda z: ember.renorm(z, float("inf"), 1, 0.5), (3, 4)),
    (lambda z: ember.corrcoef(z), (3, 4)),
    (lambda z: ember.linalg.vander(z), (4,)),
    (lambda z: ember.norm(z, p="nuc"), (3, 4)),
    (lambda z: ember.nn.functional.conv_transpose1d(z, ember.tensor(_sample((2, 3, 3), 1)),
                                                    stride=2, padding=1), (1, 2, 5)),
    (lambda z: ember.nn.functional.conv2d(z, ember.tensor(_sample((3, 2, 3, 3), 2))),
     (1, 2, 4, 4)),
    (lambda z: z * 1, (3,)),
], ids=["logcumsumexp", "renorm2", "renorm1", "renorm_inf", "corrcoef", "vander", "nuc",
        "conv_transpose1d", "conv2d", "mul_one"])
def test_complex_gradients(fn, shape):
    z = _leaf(_sample(shape, 3))
    assert gradcheck(fn, (z,))


@pytest.mark.parametrize("fn, shape", [
    (lambda z: ember.logcumsumexp(z, 1), (2, 3)),
    (lambda z: ember.renorm(z, 2, 0, 1.0), (3, 4)),
    (lambda z: ember.renorm(z, 1, 1, 1.0), (3, 4)),
    (lambda z: ember.corrcoef(z), (2, 3)),
], ids=["logcumsumexp", "renorm2", "renorm1", "corrcoef"])
def test_complex_second_order(fn, shape):
    z = _leaf(_sample(shape, 4))
    assert gradgradcheck(fn, (z,))


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [True, False])
def test_triangular_solve_complex(upper, transpose):
    a = _sample((3, 3), 5) + 3 * np.eye(3)
    b = _sample((3, 2), 6)
    t = np.triu(a) if upper else np.tril(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = ember.triangular_solve(ember.tensor(b), ember.tensor(a), upper=upper,
                                   transpose=transpose)[0].numpy()
        np.testing.assert_allclose((t.T if transpose else t) @ x, b, atol=1e-12)
        assert gradcheck(lambda bb, aa: ember.triangular_solve(
            bb, aa, upper=upper, transpose=transpose)[0], (_leaf(b), _leaf(a)))


def test_corrcoef_complex_values():
    x = _sample((3, 5), 7)
    np.testing.assert_allclose(ember.corrcoef(ember.tensor(x)).numpy(), np.corrcoef(x),
                               atol=1e-12)


def test_norm_nuc_values():
    x = _sample((3, 4), 8)
    want = np.linalg.svd(x, compute_uv=False).sum()
    assert abs(ember.norm(ember.tensor(x), p="nuc").item() - want) < 1e-12
    assert abs(ember.norm(ember.tensor(x.real), "nuc", dim=(0, 1)).item()
               - np.linalg.svd(x.real, compute_uv=False).sum()) < 1e-12


def test_vander_complex_values():
    x = _sample((4,), 9)
    np.testing.assert_allclose(ember.linalg.vander(ember.tensor(x)).numpy(),
                               np.vander(x, increasing=True), rtol=1e-12)


def test_dropout_complex_mask_refused():
    x = ember.ones(2, 3, 4, dtype=ember.complex64)
    with pytest.raises(NotImplementedError, match="bernoulli_scalar_cpu_"):
        ember.nn.functional.dropout(x, 0.5)
    with pytest.raises(NotImplementedError, match="bernoulli_scalar_cpu_"):
        ember.nn.functional.dropout2d(x.unsqueeze(0), 0.5)
    assert ember.nn.functional.dropout(x, 0.5, training=False) is x


def test_bilinear_complex_refuses_gradient():
    a = ember.tensor(_sample((2, 3)), requires_grad=True)
    w = ember.tensor(_sample((4, 3, 3)))
    with pytest.raises(RuntimeError, match="_trilinear does not support"):
        ember.nn.functional.bilinear(a, a, w)
    with ember.no_grad():
        ember.nn.functional.bilinear(a, a, w)


def test_mul_gradient_keeps_positive_zero():
    w = _leaf(np.array([1 + 2j, 3 - 1j]))
    (g,) = ember.autograd.grad(w * 1, w, ember.tensor(np.array([1 + 0j, 2 + 0j])))
    assert not np.signbit(g.numpy().imag).any()


def test_empty_complex_views():
    z = ember.zeros(0, 3, dtype=ember.complex64)
    r = ember.zeros(0, 2)
    for v, base in ((z.real, z), (z.imag, z), (ember.view_as_real(z), z),
                    (ember.view_as_complex(r), r)):
        assert v._base is base and v._is_view()


def test_div_float16_double_backward_does_not_overflow():
    x = ember.tensor([3.0, 500.0], dtype=ember.float16, requires_grad=True)
    y = ember.tensor([300.0, 400.0], dtype=ember.float16, requires_grad=True)
    _, gy = ember.autograd.grad((x / y).sum(), [x, y], create_graph=True)
    gx2, gy2 = ember.autograd.grad(gy.sum(), [x, y])
    assert np.isfinite(gx2.numpy()).all() and np.isfinite(gy2.numpy()).all()
    assert gx2.numpy()[0] != 0


def test_complex_to_real_copy_warning():
    dst = ember.zeros(2)
    with pytest.warns(UserWarning, match="Casting complex values to real") as caught:
        dst.copy_(ember.tensor([1 + 1j, 2 - 1j]))
        dst[...] = ember.tensor([3 + 1j, 4 - 1j])
    assert all(w.category is UserWarning for w in caught)
    assert dst.tolist() == [3.0, 4.0]


def test_logaddexp_complex_values_and_gradient():
    x, y = _sample((3, 4), 10), _sample((3, 4), 11) * 3
    got = ember.logaddexp(ember.tensor(x), ember.tensor(y)).numpy()
    np.testing.assert_allclose(np.exp(got), np.exp(x) + np.exp(y), rtol=1e-12)
    assert gradcheck(ember.logaddexp, (_leaf(x), _leaf(y)))


def test_ldexp_complex_values_and_gradient():
    x = _sample((3, 4), 12)
    got = ember.ldexp(ember.tensor(x), ember.tensor([1, 2, -1, 0])).numpy()
    np.testing.assert_allclose(got, x * 2.0 ** np.array([1, 2, -1, 0]), rtol=1e-15)
    assert gradcheck(ember.ldexp, (_leaf(x), _leaf(_sample((4,), 13))))


def test_cholesky_complex_values_and_gradient():
    a = _sample((3, 3), 14)
    h = a @ a.conj().T + np.eye(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(ember.cholesky(ember.tensor(h)).numpy(),
                                   np.linalg.cholesky(h), atol=1e-12)
        assert gradcheck(lambda z: ember.cholesky(z @ z.mH + ember.eye(3)), (_leaf(a),))


def test_constant_pad_nd_complex_value():
    out = ember.constant_pad_nd(ember.tensor(_sample((2,), 15)), (1, 1), 1 - 2j)
    assert out.numpy()[0] == 1 - 2j and out.numpy()[-1] == 1 - 2j
    with pytest.raises(RuntimeError, match="value cannot be converted to type double"):
        ember.constant_pad_nd(ember.ones(2, dtype=ember.float64), (1, 1), 1j)


def test_div_complex_gradient():
    x, y = _leaf(_sample((3,), 16)), _leaf(_sample((3,), 17))
    assert gradcheck(lambda a, b: a / b, (x, y))
    assert gradgradcheck(lambda a, b: a / b, (x, y))
    _, gy = ember.autograd.grad(x / y, [x, y], ember.ones(3, dtype=ember.complex128),
                                create_graph=True)
    assert type(gy.grad_fn).__name__ == "MulBackward0"


def test_empty_matrix_inverse_and_ldl():
    inv, info = ember.linalg.inv_ex(ember.zeros(2, 0, 0))
    assert inv.shape == (2, 0, 0) and info.shape == (2,)
    ld, piv = ember.linalg.ldl_factor(ember.zeros(0, 0, dtype=ember.complex128))
    assert ld.shape == (0, 0) and piv.shape == (0,)


def test_masked_scatter_broadcasts_input_to_mask():
    x = _leaf(np.ones(4, complex))
    mask = ember.tensor([[True, False, True, True]] * 2)
    out = x.masked_scatter(mask, ember.tensor(_sample((8,), 18)))
    assert out.shape == (2, 4)
    np.testing.assert_array_equal(out.detach().numpy()[:, 1], [1, 1])
    assert gradcheck(lambda z: z.masked_scatter(mask, ember.ones(8, dtype=ember.complex128)),
                     (x,))


def test_conv_transpose_output_padding_up_to_dilation():
    x, w = _leaf(_sample((1, 2, 3, 3), 19)), _leaf(_sample((2, 1, 2, 2), 20))
    out = ember.nn.functional.conv_transpose2d(x, w, stride=2, output_padding=2, groups=2,
                                               dilation=3)
    assert out.shape == (1, 2, 10, 10)
    assert gradcheck(lambda a, b: ember.nn.functional.conv_transpose2d(
        a, b, stride=2, output_padding=2, groups=2, dilation=3), (x, w))
