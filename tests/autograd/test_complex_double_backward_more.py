"""Second derivatives through complex tensors without torch: the FFTs, var/std, angle, polar,
sgn, abs and the norms, casts, and the ops whose complex gradient was missing. Each is
checked by ``gradgradcheck`` on complex128 inputs (finite differences of the first
derivatives ember computes, real and imaginary parts nudged separately)."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradgradcheck

C = ember.complex128


def _z(*shape, seed=0):
    rng = np.random.default_rng(seed + sum(shape))
    a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return ember.tensor(a, dtype=C, requires_grad=True)


def _matrix(n=3):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)) + 2 * np.eye(n)
    return ember.tensor(a, dtype=C, requires_grad=True)


def _conv(z):
    w = (z * z)[None].expand(2, 3, 4)[:, :, :2] * z[None, :, :1]
    return F.conv1d(z[None], w, z[0, :2], padding=1)


CASES = {
    "fft": lambda z: ember.fft.fft(z, n=5, norm="ortho"),
    "ifft2": lambda z: ember.fft.ifft2(z * z),
    "fftn with s": lambda z: ember.fft.fftn(z, s=(4, 3), norm="forward"),
    "irfft": lambda z: ember.fft.irfft(z) ** 2,
    "irfft odd n": lambda z: ember.fft.irfft(z, n=7) * ember.fft.irfft(z, n=7),
    "irfftn": lambda z: ember.fft.irfftn(z * z, s=(3, 5)),
    "hfft": lambda z: ember.fft.hfft(z, n=5).sin(),
    "hfft2": lambda z: ember.fft.hfft2(z) ** 3,
    "rfft of real": lambda z: ember.fft.rfft((z.real * z.imag), n=6),
    "rfft2 of real": lambda z: ember.fft.rfft2(z.imag ** 2),
    "ihfft of real": lambda z: ember.fft.ihfft(z.real * z.imag),
    "ihfftn of real": lambda z: ember.fft.ihfftn(z.real ** 2, s=(3, 5)),
    "abs": lambda z: z.abs() ** 3,
    "sgn": lambda z: z.sgn() * z.real,
    "angle": lambda z: z.angle() * z.abs(),
    "polar": lambda z: ember.polar(z.real.exp(), z.imag * 2),
    "polar of abs and angle": lambda z: ember.polar(z.abs() ** 2, z.angle()),
    "var": lambda z: z.var(1) ** 2,
    "std": lambda z: z.std(0, keepdim=True) * z,
    "var_mean": lambda z: ember.var_mean(z, 1)[0] * ember.var_mean(z, 1)[1],
    "vector_norm 2": lambda z: ember.linalg.vector_norm(z, dim=1),
    "vector_norm 3": lambda z: ember.linalg.vector_norm(z, 3, dim=0) ** 2,
    "vector_norm 1.5": lambda z: ember.linalg.vector_norm(z, 1.5),
    "vector_norm 1": lambda z: ember.linalg.vector_norm(z, 1, dim=1) * z[:, 0],
    "matrix_norm fro": lambda z: ember.linalg.matrix_norm(z) * z,
    "casts": lambda z: (z * z).real.to(C) * z + (z.imag ** 2).to(C),
    "acos and acosh": lambda z: z.acos() + z.acosh(),
    "cov": lambda z: ember.cov(z),
    "pow with complex exponents": lambda z: 2 ** z + z ** (z * 0.1),
    "addmv and addr": lambda z: ember.addmv(z[:, 0], z, z[0]) + ember.addr(
        z[:, 0], z[:, 1], z[0, :3], alpha=1j)[:, 0],
    "cross": lambda z: ember.linalg.cross(z[:, :3], z[:, 1:] * z[:, :3]),
    "conv1d": _conv,
    "unbind and index_copy": lambda z: (z * z).index_copy(0, ember.tensor([2, 0, 1]), z * 2)
    * z.unbind(1)[1][:, None],
    "masked_scatter": lambda z: (z * z).masked_scatter(ember.tensor([[True, False] * 2] * 3),
                                                       z.exp()),
    "unfold": lambda z: (z * z).unfold(1, 2, 1),
}
MATRIX = {
    "matrix_norm nuc": lambda a: ember.linalg.matrix_norm(a, "nuc"),
    "matrix_norm 2": lambda a: ember.linalg.matrix_norm(a, 2),
    "svdvals": lambda a: ember.linalg.svdvals(a) ** 2,
    "slogdet": lambda a: ember.linalg.slogdet(a)[1] * ember.linalg.slogdet(a)[0],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_second_derivatives(name):
    assert gradgradcheck(CASES[name], (_z(3, 4),))


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_complex_matrix_second_derivatives(name):
    assert gradgradcheck(MATRIX[name], (_matrix(),))


def test_polar_second_derivatives_in_both_inputs():
    rng = np.random.default_rng(1)
    r = ember.tensor(rng.uniform(0.5, 2, (2, 3)), requires_grad=True)
    t = ember.tensor(rng.standard_normal((1, 3)), requires_grad=True)
    assert gradgradcheck(lambda r, t: ember.polar(r, t) ** 2, (r, t))


def test_fft_of_real_input_second_derivatives():
    x = ember.tensor(np.random.default_rng(2).standard_normal((2, 6)), requires_grad=True)
    assert gradgradcheck(lambda x: ember.fft.rfft(x ** 2, norm="ortho"), (x,))
    assert gradgradcheck(lambda x: ember.fft.fft(x * x.sin(), dim=0), (x,))


def test_second_derivative_of_sgn_and_angle_at_zero_is_nan():
    """sgn and angle have no derivative at 0: their gradient is 0 there and its derivative
    NaN, as torch's."""
    for f in (ember.sgn, ember.angle):
        z = ember.tensor([0j, 1 + 1j], requires_grad=True)
        (g,) = ember.autograd.grad((f(z) * ember.tensor([1 + 2j, 1j])).real.sum()
                                   if f is ember.sgn else f(z).sum(), z, create_graph=True)
        assert g[0].item() == 0
        (gg,) = ember.autograd.grad(g.real.sum() + g.imag.sum(), z)
        assert np.isnan(gg[0].item().real) and np.isfinite(gg[1].item().real)


def test_two_norm_second_derivative_at_a_zero_entry():
    """The 2-norm is smooth at a zero entry of a nonzero vector: its second derivative there
    is |v| / norm-like, not 0 (a norm of the magnitudes would give 0)."""
    z = ember.tensor([3 + 4j, 0j], requires_grad=True)
    (g,) = ember.autograd.grad(ember.linalg.vector_norm(z), z, create_graph=True)
    (gg,) = ember.autograd.grad((g * ember.tensor([0j, 1 + 0j])).real.sum(), z)
    np.testing.assert_allclose(gg.numpy(), [0, 1 / 5], atol=1e-15)
    z = ember.tensor([0j, 0j], requires_grad=True)  # a zero vector: 0, as for real ones
    (g,) = ember.autograd.grad(ember.linalg.vector_norm(z), z, create_graph=True)
    (gg,) = ember.autograd.grad(g.real.sum(), z)
    np.testing.assert_array_equal(gg.numpy(), [0, 0])
