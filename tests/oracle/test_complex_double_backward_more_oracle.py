"""More second derivatives through complex tensors against torch: the FFTs, var/std, angle,
polar, sgn, abs and the vector and matrix norms, dtype casts, and the ops whose complex
gradient was missing (addmv and friends, cross, convolution, unbind, index_copy, the
scatters). Each loss is real; its gradient, taken with create_graph=True, is weighed by a
fixed complex v and differentiated again."""
import warnings

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(11)


def _cz(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


Z = _cz(3, 4)
W = _cz(3, 4)
V = _cz(3, 4)
A = _cz(3, 3) + 2 * np.eye(3)
WA = _cz(3, 3)
VA = _cz(3, 3)
ZERO = Z.copy()  # with zeros: single entries, and a whole row
ZERO[0, 1] = ZERO[1, 3] = 0
ZERO[2, :] = 0


def _c(lib, a):
    return lib.tensor(a, dtype=lib.complex128)


def _loss(lib, out, w=W):
    """A real loss of an output: Re(sum(out * w)) plus |out|^2, with w cut to out's shape."""
    out = out if out.is_complex() else out.to(lib.complex128)
    shape = tuple(out.shape)
    w = np.resize(w.ravel(), shape) if shape else w.ravel()[0]
    return (out * _c(lib, w)).real.sum() + (out * out.conj()).real.sum() * 0.3


def _scatter(lib, z):
    y = (z * z).clone()
    y[0, 1:3] = z[1, :2] * 3
    return y


def _conv(lib, z):
    w = (z * z)[None].expand(2, 3, 4)[:, :, :2] * z[None, :, :1]
    return lib.nn.functional.conv1d(z[None], w, z[0, :2], padding=1)


FFT = {
    "fft": lambda m, z: _loss(m, m.fft.fft(z)),
    "fft n and norm": lambda m, z: _loss(m, m.fft.fft(z, n=6, dim=0, norm="ortho")),
    "ifft trimmed": lambda m, z: _loss(m, m.fft.ifft(z, n=3, norm="forward")),
    "fft2": lambda m, z: _loss(m, m.fft.fft2(z, norm="forward")),
    "ifftn": lambda m, z: _loss(m, m.fft.ifftn(z, s=(4, 5))),
    "fft of fft": lambda m, z: _loss(m, m.fft.fft(m.fft.fft(z) ** 2)),
    "irfft": lambda m, z: _loss(m, m.fft.irfft(z)) + (m.fft.irfft(z, n=5) ** 3).sum(),
    "irfft odd n": lambda m, z: _loss(m, m.fft.irfft(z, n=7, norm="ortho")),
    "irfftn": lambda m, z: _loss(m, m.fft.irfftn(z, s=(3, 5))),
    "irfft2 dims": lambda m, z: _loss(m, m.fft.irfft2(z, dim=(1, 0))),
    "hfft": lambda m, z: _loss(m, m.fft.hfft(z, n=9)),
    "hfftn": lambda m, z: _loss(m, m.fft.hfftn(z, s=(2, 7), norm="ortho")),
    "rfft of real": lambda m, z: _loss(m, m.fft.rfft(z.real * z.imag, n=6)),
    "rfft2 of abs": lambda m, z: _loss(m, m.fft.rfft2(z.abs(), s=(4, 6))),
    "fft of real": lambda m, z: _loss(m, m.fft.fft(z.real ** 2, norm="ortho")),
    "ihfft of real": lambda m, z: _loss(m, m.fft.ihfft(z.real ** 2)),
    "ihfftn of real": lambda m, z: _loss(m, m.fft.ihfftn(z.real * z.imag, s=(3, 5))),
    "abs of fft": lambda m, z: m.fft.fft2(z).abs().pow(2).sum(),
    "stft": lambda m, z: _loss(m, m.stft(z.flatten().real * z.flatten().imag, 4, hop_length=2,
                                          window=m.hann_window(4, dtype=m.float64),
                                          return_complex=True)),
}
PHASE = {
    "abs": lambda m, z: _loss(m, z.abs()) + (z.abs() ** 3).sum(),
    "sgn": lambda m, z: _loss(m, z.sgn()),
    "angle": lambda m, z: _loss(m, z.angle()) + (z.angle() ** 2).sum(),
    "polar of abs and angle": lambda m, z: _loss(m, m.polar(z.abs(), z.angle())),
    "polar of parts": lambda m, z: _loss(m, m.polar(z.real.exp(), z.imag * 2)),
    "polar negative abs": lambda m, z: _loss(m, m.polar(-z.real ** 2, z.imag)),
    "var": lambda m, z: _loss(m, z.var(1)) + z.var() ** 2,
    "var correction 0": lambda m, z: _loss(m, m.var(z, 0, correction=0, keepdim=True)),
    "std": lambda m, z: _loss(m, z.std(0)) + z.std() ** 3,
    "var_mean": lambda m, z: _loss(m, m.var_mean(z, 1)[0]) + _loss(m, m.var_mean(z, 1)[1]),
    "std_mean": lambda m, z: _loss(m, m.std_mean(z, 0)[0] * m.std_mean(z, 0)[1]),
    "vector_norm 2": lambda m, z: _loss(m, m.linalg.vector_norm(z, dim=1)),
    "vector_norm 1": lambda m, z: _loss(m, m.linalg.vector_norm(z, 1, dim=1)),
    "vector_norm 3": lambda m, z: _loss(m, m.linalg.vector_norm(z, 3, dim=0, keepdim=True)),
    "vector_norm 0.5": lambda m, z: _loss(m, m.linalg.vector_norm(z, 0.5)),
    "vector_norm inf": lambda m, z: _loss(m, m.linalg.vector_norm(z, float("inf"), dim=0)),
    "matrix_norm fro": lambda m, z: _loss(m, m.linalg.matrix_norm(z)),
    "matrix_norm 1": lambda m, z: _loss(m, m.linalg.matrix_norm(z, 1)),
    "matrix_norm inf": lambda m, z: _loss(m, m.linalg.matrix_norm(z, -float("inf"))),
    "norm": lambda m, z: _loss(m, z.norm(dim=1)) + m.norm(z, 3),
    "dist": lambda m, z: _loss(m, m.dist(z, _c(m, W))),
    "normalize": lambda m, z: _loss(m, m.nn.functional.normalize(z, dim=1)),
    "l1_loss": lambda m, z: m.nn.functional.l1_loss(z * z, _c(m, W)),
    "casts": lambda m, z: _loss(m, (z * z).to(m.complex64).to(m.complex128)
                                * (z.real ** 2).to(m.complex128)),
    "real and imag": lambda m, z: _loss(m, z.real * z + z.imag ** 2),
    "acos and acosh": lambda m, z: _loss(m, z.acos() + z.acosh()),
    "cov": lambda m, z: _loss(m, m.cov(z)),
    "pow with complex exponents": lambda m, z: _loss(m, 2 ** z + z ** (z * 0.1)),
    "addmv, addr, addbmm, baddbmm": lambda m, z: _loss(
        m, m.addmv(z[:, 0], z, z[0]) + m.addr(z[:, :3], z[:, 0], z[0, :3], alpha=1j)
        + m.addbmm(z[:, :3], z[None], z.mT[None]) + m.baddbmm(z[None, :, :3], z[None],
                                                             z.mT[None], beta=0.5)[0]),
    "cross": lambda m, z: _loss(m, m.linalg.cross(z[:, :3], z[:, 1:] * z[:, :3])),
    "conv1d": lambda m, z: _loss(m, _conv(m, z)),
    "unbind and index_copy": lambda m, z: _loss(
        m, (z * z).index_copy(0, m.tensor([2, 0, 1]), z * 2) * z.unbind(1)[1][:, None]),
    "masked_scatter": lambda m, z: _loss(m, (z * z).masked_scatter(m.tensor(Z.real > 0),
                                                                     z.exp())),
    "unfold and setitem": lambda m, z: _loss(m, (z * z).unfold(1, 2, 1)) + _loss(m, _scatter(m, z)),
    "as_strided": lambda m, z: _loss(m, (z * z).as_strided((2, 2), (1, 2))),
    "diagonal_scatter": lambda m, z: _loss(m, m.diagonal_scatter((z * z)[:, :3], z[0, :3] * 2)),
}
MATRIX = {
    "matrix_norm nuc": lambda m, a: _loss(m, m.linalg.matrix_norm(a, "nuc"), WA),
    "matrix_norm 2": lambda m, a: _loss(m, m.linalg.matrix_norm(a, 2), WA),
    "svdvals": lambda m, a: _loss(m, m.linalg.svdvals(a), WA),
    "eigvalsh": lambda m, a: _loss(m, m.linalg.eigvalsh(a + a.mH), WA),
    "slogdet": lambda m, a: _loss(m, m.linalg.slogdet(a)[1] * m.linalg.slogdet(a)[0], WA),
    "cond": lambda m, a: _loss(m, m.linalg.cond(a), WA),
}


def _second(lib, loss, start, v):
    z = _c(lib, start).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (g,) = lib.autograd.grad(loss(lib, z), z, create_graph=True)
        (gg,) = lib.autograd.grad((g * _c(lib, v)).real.sum(), z)
    return g.detach().resolve_conj().numpy(), gg.resolve_conj().numpy()


def _compare(torch, loss, start, v):
    for ours, theirs in zip(_second(ember, loss, start, v), _second(torch, loss, start, v)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", sorted(FFT))
def test_fft_second_derivatives_match_torch(torch, name):
    _compare(torch, FFT[name], Z, V)


@pytest.mark.parametrize("name", sorted(PHASE))
def test_second_derivatives_match_torch(torch, name):
    _compare(torch, PHASE[name], Z, V)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix_second_derivatives_match_torch(torch, name):
    _compare(torch, MATRIX[name], A, VA)


@pytest.mark.parametrize("name", ["abs", "sgn", "angle", "polar of parts", "var", "std",
                                  "vector_norm 3", "vector_norm inf", "fft"])
def test_second_derivatives_at_zeros_match_torch(torch, name):
    """Entries (and a whole row) at 0, where sgn and angle have torch's NaN second
    derivatives."""
    _compare(torch, {**PHASE, **FFT}[name], ZERO, V)


def test_two_norm_is_smooth_at_a_zero_entry_as_torch(torch):
    """A zero entry of a nonzero vector: the second derivative there is finite (the norm is
    not taken of the magnitudes, whose kink at 0 would give 0). A whole zero vector is
    ember's 0 where torch has NaN, as for real vectors (ember/ops/derivatives/reduce.py)."""
    _compare(torch, PHASE["vector_norm 2"], ZERO[:2], V[:2])
    _compare(torch, PHASE["matrix_norm fro"], ZERO[:2], V[:2])


def test_second_derivatives_in_single_precision_match_torch(torch):
    def loss(m, z):
        z = z.to(m.complex64)
        return (m.fft.fft(z.sgn() * z.abs() ** 2) * _c(m, W).to(m.complex64)).real.sum() \
            + m.linalg.vector_norm(z, 3) + z.var()

    for ours, theirs in zip(_second(ember, loss, Z, V), _second(torch, loss, Z, V)):
        np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", ["abs", "sgn", "angle", "polar of parts", "std",
                                  "vector_norm 3", "fft of fft", "irfft", "rfft of real"])
def test_third_derivatives_match_torch(torch, name):
    loss = {**PHASE, **FFT}[name]

    def third(lib):
        z = _c(lib, Z).requires_grad_()
        (g,) = lib.autograd.grad(loss(lib, z), z, create_graph=True)
        (gg,) = lib.autograd.grad((g * _c(lib, V)).real.sum(), z, create_graph=True)
        (ggg,) = lib.autograd.grad((gg * _c(lib, W)).real.sum(), z)
        return ggg.resolve_conj().numpy()

    np.testing.assert_allclose(third(ember), third(torch), rtol=1e-9, atol=1e-10)


def test_var_without_degrees_of_freedom_has_torch_gradient(torch):
    """A real infinity made complex (inf + 0j), not inf * (1 + 0j) = inf + nanj."""
    def grad(lib):
        z = _c(lib, Z[0]).requires_grad_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.var(z, correction=4).backward()
        return z.grad.numpy()

    np.testing.assert_array_equal(grad(ember), grad(torch))


REFUSED = {
    "select_scatter": lambda lib, z: lib.select_scatter(z * z, z[0], 0, 1),
    "slice_scatter": lambda lib, z: lib.slice_scatter(z * z, z[:1], 0, 0, 1),
    "scatter_reduce": lambda lib, z: (z * z).scatter_reduce(1, lib.tensor([[0, 0], [1, 1]]), z,
                                                            "sum"),
    "index_reduce": lambda lib, z: (z * z).index_reduce(0, lib.tensor([0, 1]), z, "prod"),
    "embedding": lambda lib, z: lib.nn.functional.embedding(lib.tensor([0, 1]), z * z),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_ops_torch_refuses_to_differentiate_on_complex(torch, case):
    for lib in (ember, torch):
        z = _c(lib, Z[:2, :2]).requires_grad_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match=f"{case} does not support automatic "
                                                   "differentiation for outputs with complex"):
                REFUSED[case](lib, z)


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex64"])
def test_vector_norm_dtype_of_a_complex_input_errors_as_torch(torch, dtype):
    messages = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as info:
            lib.linalg.vector_norm(_c(lib, Z), dtype=getattr(lib, dtype))
        messages.append(str(info.value).splitlines()[0])
    assert messages[0] == messages[1]


def test_vector_norm_of_complex_input_matches_torch(torch):
    for p in (2, 1, 3, 0, 0.5, float("inf"), -float("inf")):
        ours = ember.linalg.vector_norm(_c(ember, ZERO), p, dim=1)
        theirs = torch.linalg.vector_norm(_c(torch, ZERO), p, dim=1)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    z = _c(ember, Z).to(ember.complex64)
    assert ember.linalg.vector_norm(z, dtype=ember.complex128).dtype == ember.float64
