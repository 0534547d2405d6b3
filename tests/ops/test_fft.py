"""ember.fft without torch: values and dtypes against numpy.fft, torch's errors, and gradients
of real losses checked by finite differences (complex inputs along both parts), for odd and
even lengths, padded and trimmed signals and every norm."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.fft as F
from tests.ops.test_complex import check_grad

NORMS = [None, "backward", "ortho", "forward"]
RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5))
Z = RNG.standard_normal((4, 5)) + 1j * RNG.standard_normal((4, 5))


def _np_norm(norm):
    return "backward" if norm is None else norm


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n", [None, 3, 8])
@pytest.mark.parametrize("name, data, dim", [
    ("fft", X, -1), ("fft", Z, 0), ("ifft", X, 1), ("ifft", Z, -1), ("rfft", X, 0),
    ("irfft", Z, -1), ("hfft", Z, 0), ("ihfft", X, -1)])
def test_one_dim_transforms_match_numpy(name, data, dim, n, norm):
    got = getattr(F, name)(ember.tensor(data), n=n, dim=dim, norm=norm).resolve_conj()
    want = getattr(np.fft, name)(data, n=n, axis=dim, norm=_np_norm(norm))
    assert got.dtype.name == want.dtype.name
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("s", [None, (3, 6), (-1, 7)])
@pytest.mark.parametrize("name, data", [
    ("fft2", Z), ("ifft2", X), ("fftn", X), ("ifftn", Z), ("rfft2", X), ("rfftn", X),
    ("irfft2", Z), ("irfftn", Z)])
def test_n_dim_transforms_match_numpy(name, data, s, norm):
    got = getattr(F, name)(ember.tensor(data), s=s, norm=norm)
    np_s = None if s is None else tuple(data.shape[-2 + i] if v == -1 else v
                                        for i, v in enumerate(s))
    if name.startswith("irfft") and s is not None and s[-1] == -1:
        np_s = (np_s[0], 2 * (data.shape[-1] - 1))
    want = getattr(np.fft, name)(data, s=np_s, axes=(-2, -1), norm=_np_norm(norm))
    assert got.dtype.name == want.dtype.name
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


def test_hermitian_n_dim_transforms_are_their_definitions():
    z, x = ember.tensor(Z), ember.tensor(X)
    # hfftn: the real fftn of the Hermitian signal whose one-sided half is z
    full = np.fft.irfftn(np.conj(Z), norm="forward")
    np.testing.assert_allclose(F.hfftn(z).numpy(), full, atol=1e-12)
    np.testing.assert_allclose(F.hfft2(z, s=(3, 6)).numpy(),
                               np.fft.irfftn(np.conj(Z[:3, :4]), s=(3, 6), axes=(0, 1),
                                             norm="forward"),
                               atol=1e-12)
    np.testing.assert_allclose(F.ihfftn(x).resolve_conj().numpy(),
                               np.fft.ifftn(X)[..., :3], atol=1e-12)
    np.testing.assert_allclose(F.ihfft2(x, norm="ortho").numpy(),
                               np.fft.ifftn(X, norm="ortho")[..., :3], atol=1e-12)


@pytest.mark.parametrize("make, dtype", [
    (lambda: ember.ones(4), "complex64"),
    (lambda: ember.ones(4, dtype=ember.float64), "complex128"),
    (lambda: ember.arange(4), "complex64"), (lambda: ember.ones(4, dtype=ember.bool), "complex64"),
    (lambda: ember.ones(4, dtype=ember.complex64), "complex64")])
def test_output_dtypes(make, dtype):
    assert F.fft(make()).dtype.name == dtype and F.fftn(make()).dtype.name == dtype
    if not make().is_complex():
        assert F.rfft(make()).dtype.name == dtype
    assert F.irfft(make()).dtype.name == {"complex64": "float32", "complex128": "float64"}[dtype]


def test_inverse_transforms_round_trip():
    x = ember.randn(3, 8, dtype=ember.float64)
    for norm in NORMS:
        np.testing.assert_allclose(F.ifft(F.fft(x, norm=norm), norm=norm).real.numpy(),
                                   x.numpy(), atol=1e-12)
        np.testing.assert_allclose(F.irfft(F.rfft(x, norm=norm), n=8, norm=norm).numpy(),
                                   x.numpy(), atol=1e-12)
        np.testing.assert_allclose(F.irfftn(F.rfftn(x, norm=norm), s=(3, 8), norm=norm).numpy(),
                                   x.numpy(), atol=1e-12)
        np.testing.assert_allclose(F.hfft(F.ihfft(x, norm=norm), n=8, norm=norm).numpy(),
                                   x.numpy(), atol=1e-12)


def test_out_argument():
    out = ember.empty(3, dtype=ember.complex64)
    result = F.fft(ember.ones(3), out=out)
    assert result is out and out.tolist() == [3 + 0j, 0j, 0j]


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.fft(ember.ones(4, dtype=ember.float16)), RuntimeError, "Unsupported dtype Half"),
    (lambda: F.fft(ember.tensor(1.0)), IndexError, "tensor has no dimensions"),
    (lambda: F.fft(ember.ones(3), n=0), RuntimeError, r"Invalid number of data points \(0\)"),
    (lambda: F.fft(ember.ones(0)), RuntimeError, r"Invalid number of data points \(0\)"),
    (lambda: F.fft(ember.ones(3), norm="bad"), RuntimeError, 'Invalid normalization mode: "bad"'),
    (lambda: F.fft(ember.ones(3), dim=(0,)), TypeError, "argument 'dim' must be int, not tuple"),
    (lambda: F.fftn(ember.ones(2, 3), dim=(0, -2)), RuntimeError, "FFT dims must be unique"),
    (lambda: F.fftn(ember.ones(2, 3), s=(3,), dim=(0, 1)), RuntimeError, "same length"),
    (lambda: F.fftn(ember.ones(2, 3), s=(1, 2, 3)), RuntimeError, "Got shape with 3 values"),
    (lambda: F.rfft(ember.ones(3, dtype=ember.complex64)), RuntimeError,
     "rfft expects a real input tensor, but got ComplexFloat"),
    (lambda: F.rfft2(ember.ones(2, 3, dtype=ember.complex64)), RuntimeError,
     "rfftn expects a real-valued input tensor"),
    (lambda: F.ihfft(ember.ones(3, dtype=ember.complex64)), RuntimeError, "ihfft expects a real"),
    (lambda: F.irfft(ember.ones(1, dtype=ember.complex64)), RuntimeError, "data points \\(0\\)"),
    (lambda: F.rfftn(ember.ones(2, 3), dim=()), RuntimeError, "must transform at least one axis"),
    (lambda: F.fftfreq(4, dtype=ember.int64), RuntimeError, "requires a floating point"),
    (lambda: F.fftfreq(-1), RuntimeError, "negative dimension -1"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("n, d", [(5, 1.0), (6, 0.3), (1, 2.0), (0, 1.0)])
def test_frequencies_match_numpy(n, d):
    want = np.fft.fftfreq(n, d) if n else np.zeros(0)
    np.testing.assert_allclose(F.fftfreq(n, d, dtype=ember.float64).numpy(), want)
    np.testing.assert_allclose(F.rfftfreq(n, d, dtype=ember.float64).numpy(),
                               np.fft.rfftfreq(n, d) if n else [np.nan])  # torch's 0 * inf
    assert F.fftfreq(n, d).dtype is ember.float32
    assert F.fftfreq(3, requires_grad=True).requires_grad


@pytest.mark.parametrize("shape, dim", [((5,), None), ((2, 3), None), ((2, 3), 1), ((4, 5), (0,)),
                                        ((3, 4), (-1, 0))])
def test_shifts_match_numpy(shape, dim):
    a = np.arange(int(np.prod(shape))).reshape(shape)
    np.testing.assert_array_equal(F.fftshift(ember.tensor(a), dim).numpy(),
                                  np.fft.fftshift(a, dim))
    np.testing.assert_array_equal(F.ifftshift(ember.tensor(a), dim).numpy(),
                                  np.fft.ifftshift(a, dim))
    t = ember.tensor(a, dtype=ember.float64)
    assert ember.equal(F.ifftshift(F.fftshift(t, dim), dim), t)


# --- gradients ---------------------------------------------------------------------------------
RX = ember.tensor(RNG.standard_normal((3, 5)))
RZ = ember.tensor(RNG.standard_normal((3, 5)) + 1j * RNG.standard_normal((3, 5)))
WEIGHTS = ember.tensor(RNG.standard_normal((8, 9)) + 1j * RNG.standard_normal((8, 9)))


def _loss(y):
    """A real loss that weighs every output differently (a missing conj or a wrongly doubled
    one-sided entry changes its gradient)."""
    w = WEIGHTS[:y.shape[0], :y.shape[1]] if y.ndim == 2 else WEIGHTS[0, :y.shape[0]]
    if y.is_complex():
        return (y * w).abs().sum() + (y.real ** 2).sum() + (y * w).imag.sum()
    return (y * w.real).sum() + (y ** 3).sum()


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("n", [None, 4, 7])
@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "ihfft", "fft_c", "ifft_c", "irfft",
                                  "hfft"])
def test_one_dim_gradients(name, n, norm):
    fn = getattr(F, name.removesuffix("_c"))
    data = RZ if name.endswith("_c") or name in ("irfft", "hfft") else RX
    dim = 0 if name in ("rfft", "hfft", "fft_c") else -1
    check_grad(lambda t: _loss(fn(t, n=n, dim=dim, norm=norm).resolve_conj()), data)


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("s", [None, (2, 6), (4, -1)])
@pytest.mark.parametrize("name", ["fft2", "ifftn_real", "rfft2", "irfftn", "hfft2", "ihfftn"])
def test_n_dim_gradients(name, s, norm):
    fn = getattr(F, name.removesuffix("_real"))
    data = RX if name in ("ifftn_real", "rfft2", "ihfftn") else RZ
    check_grad(lambda t: _loss(fn(t, s=s, norm=norm).resolve_conj()), data)


@pytest.mark.parametrize("n", [6, 7])
def test_rfft_gradient_is_the_one_sided_spectrums(n):
    """|rfft(x)| summed: only the stored half counts, unlike the same loss on fft(x)."""
    x = ember.randn(n, dtype=ember.float64)
    check_grad(lambda t: F.rfft(t).abs().sum(), x)
    check_grad(lambda t: F.irfft(F.rfft(t) * ember.arange(n // 2 + 1), n=n).pow(2).sum(), x)
    a = x.detach().requires_grad_()
    F.rfft(a).abs().sum().backward()
    b = x.detach().requires_grad_()
    F.fft(b).abs().sum().backward()
    assert not np.allclose(a.grad.numpy(), b.grad.numpy())


def test_shift_gradients():
    check_grad(lambda t: _loss(F.fftshift(t, dim=0) * ember.arange(5.0)), RZ)
    check_grad(lambda t: _loss(F.ifftshift(F.fft(t))), RX)


def test_complex_to_real_gradient_ignores_what_the_transform_ignores():
    """irfft reads only the real part of the zero-frequency (and, for even n, the Nyquist)
    entry: the gradient of their imaginary part is 0, as in torch."""
    z = ember.tensor(RNG.standard_normal(4) + 1j * RNG.standard_normal(4), requires_grad=True)
    (F.irfft(z, n=6) * ember.arange(1.0, 7.0, dtype=ember.float64)).sum().backward()
    assert z.grad[0].imag.item() == 0 and z.grad[3].imag.item() == 0
    check_grad(lambda t: (F.irfft(t, n=6) * ember.arange(1.0, 7.0, dtype=ember.float64)).sum(),
               z.detach())


# --- stft / istft --------------------------------------------------------------------------------
def _hann(n):
    return ember.tensor(np.hanning(n + 1)[:-1])


@pytest.mark.parametrize("n_fft, hop, win, center", [
    (8, 2, 8, True), (7, 3, 7, True), (8, 2, 6, True), (6, None, None, True), (8, 3, 8, False),
    (6, 2, 6, False)])
def test_istft_inverts_stft(n_fft, hop, win, center):
    x = ember.randn(2, 23, dtype=ember.float64)
    # without centring, the window must not vanish at the ends (the envelope is divided by)
    window = _hann(win or n_fft) if center else ember.ones(win, dtype=ember.float64)
    spec = x.stft(n_fft, hop, win, window, center=center, return_complex=True)
    assert spec.shape[:2] == (2, n_fft // 2 + 1) and spec.dtype is ember.complex128
    length = 23 if center else None
    back = spec.istft(n_fft, hop, win, window, center=center, length=length)
    n = back.shape[-1]
    start = 0 if center else n_fft // 2  # without centring, the ends lack full overlap
    np.testing.assert_allclose(back.numpy()[:, start:n - start], x.numpy()[:, start:n - start],
                               atol=1e-12)


def test_stft_frames_are_windowed_ffts():
    x = ember.randn(20, dtype=ember.float64)
    spec = x.stft(8, 4, window=_hann(8), center=False, return_complex=True, onesided=False)
    frames = np.stack([x.numpy()[i * 4:i * 4 + 8] * np.hanning(9)[:-1] for i in range(4)])
    np.testing.assert_allclose(spec.numpy(), np.fft.fft(frames, axis=-1).T, atol=1e-12)
    normalized = x.stft(8, 4, window=_hann(8), center=False, normalized=True,
                        return_complex=True)
    np.testing.assert_allclose(normalized.numpy(), np.fft.rfft(frames, axis=-1).T / np.sqrt(8),
                               atol=1e-12)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        pairs = x.stft(8, 4, center=False, return_complex=False)
    assert pairs.shape == (5, 4, 2)


@pytest.mark.parametrize("pad_mode", ["reflect", "constant"])
def test_stft_gradients(pad_mode):
    x = ember.randn(14, dtype=ember.float64)
    check_grad(lambda t: _loss(t.stft(6, 2, window=_hann(6), pad_mode=pad_mode,
                                      return_complex=True)), x)
    z = ember.randn(12, dtype=ember.complex128)
    check_grad(lambda t: _loss(t.stft(5, 2, return_complex=True)), z)


def test_istft_gradients():
    spec = ember.randn(5, 6, dtype=ember.complex128)
    check_grad(lambda s: (s.istft(8, 2, window=_hann(8)) * ember.arange(10.0)).sum(), spec)
    with pytest.warns(UserWarning, match="padded with zeros in the tail"):
        check_grad(lambda s: s.istft(8, 2, window=_hann(8), length=15).pow(2).sum(), spec)


@pytest.mark.parametrize("call, match", [
    (lambda x: x.stft(8), "requires the return_complex parameter"),
    (lambda x: x.stft(8, win_length=9, return_complex=True), "0 < win_length <= n_fft"),
    (lambda x: x.stft(8, hop_length=0, return_complex=True), "expected hop_length > 0"),
    (lambda x: x.stft(50, center=False, return_complex=True), "expected 0 < n_fft < 20"),
    (lambda x: x.stft(8, window=ember.ones(5), return_complex=True), "1D window tensor"),
    (lambda x: x.istft(8), "istft requires a complex-valued input"),
    (lambda x: x.stft(8, return_complex=True, window=_hann(8), hop_length=2).istft(
        8, hop_length=2, window=_hann(8), center=False), "window overlap add min"),
    (lambda x: x.stft(8, return_complex=True).istft(7), "match n_fft / 2 \\+ 1"),
])
def test_stft_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call(ember.arange(20.0, dtype=ember.float64))
