"""ember.fft against torch.fft: values and dtypes (odd and even lengths, padded and trimmed,
non-square inputs, every norm), errors, node names, and gradients of real losses, including
the one-sided ones (rfft, irfft, hfft, ihfft) where a wrong doubling would show."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.fft  # noqa: F401  (the lazily loaded module)

NORMS = [None, "ortho", "forward"]
RNG = np.random.default_rng(5)
X = RNG.standard_normal((4, 5)).astype(np.float32)
Z = (RNG.standard_normal((4, 5)) + 1j * RNG.standard_normal((4, 5))).astype(np.complex64)


def one_dim_cases():
    cases = []
    for norm in NORMS:
        for n in (None, 3, 8):
            cases += [("fft", "x", n, -1, norm), ("fft", "z", n, 0, norm),
                      ("ifft", "x", n, -1, norm), ("ifft", "z", n, -1, norm),
                      ("rfft", "x", n, 0, norm), ("irfft", "z", n, -1, norm),
                      ("hfft", "z", n, 0, norm), ("ihfft", "x", n, -1, norm)]
    return cases


def n_dim_cases():
    cases = []
    for norm in NORMS:
        for s in (None, (3, 6), (-1, 7)):
            cases += [("fft2", "z", s, norm), ("fft2", "x", s, norm), ("ifftn", "x", s, norm),
                      ("rfft2", "x", s, norm), ("irfftn", "z", s, norm), ("hfft2", "z", s, norm),
                      ("ihfftn", "x", s, norm)]
    # the other spellings of the same transforms, once each
    return cases + [(name, which, (3, 6), None) for name, which in (
        ("ifft2", "z"), ("fftn", "z"), ("rfftn", "x"), ("irfft2", "z"), ("hfftn", "z"),
        ("ihfft2", "x"))]


def _inputs(m, which, dtype=None):
    data = X if which == "x" else Z
    if dtype is not None:
        data = data.astype(dtype)
    return m.tensor(data)


def _check_values(torch, name, which, **kw):
    want = getattr(torch.fft, name)(_inputs(torch, which), **kw)
    got = getattr(ember.fft, name)(_inputs(ember, which), **kw)
    assert got.dtype.name == str(want.dtype)[6:] and got.shape == want.shape
    assert got.is_conj() == want.is_conj()
    np.testing.assert_allclose(got.resolve_conj().numpy(), want.resolve_conj().numpy(),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda m: m.fft.fftn(m.arange(24.0).reshape(2, 3, 4), dim=(0, 2)),
    lambda m: m.fft.fftn(m.arange(24.0).reshape(2, 3, 4), s=(5, 2)),
    lambda m: m.fft.rfftn(m.arange(24.0).reshape(2, 3, 4), dim=(2, 0)),
    lambda m: m.fft.irfftn(m.ones(2, 3, 4, dtype=m.complex128), dim=(1, 0), s=(3, 5)),
    lambda m: m.fft.fft(m.arange(7)), lambda m: m.fft.ifft(m.tensor([True, False, True])),
    lambda m: m.fft.fft(m.ones(3, dtype=m.float64)), lambda m: m.fft.fftn(m.ones(2, 3), dim=()),
    lambda m: m.fft.hfft(m.ones(4, dtype=m.complex128), n=5, norm="ortho"),
    lambda m: m.fft.ihfftn(m.arange(12.0).reshape(3, 4), dim=0),
])
def test_dims_and_dtypes(torch, call):
    want, got = call(torch), call(ember)
    assert got.dtype.name == str(want.dtype)[6:] and got.shape == want.shape
    np.testing.assert_allclose(got.resolve_conj().numpy(), want.resolve_conj().numpy(),
                               rtol=1e-6, atol=1e-6)


ERRORS = {
    "half": lambda m: m.fft.fft(m.ones(4, dtype=m.float16)),
    "zero_dim": lambda m: m.fft.fft(m.tensor(1.0)),
    "n0": lambda m: m.fft.fft(m.ones(3), n=0), "n_neg": lambda m: m.fft.rfft(m.ones(3), n=-1),
    "dim": lambda m: m.fft.fft(m.ones(2, 3), dim=2),
    "norm": lambda m: m.fft.ifft(m.ones(3), norm="bad"),
    "norm_case": lambda m: m.fft.fftn(m.ones(3), norm="Ortho"),
    "unique": lambda m: m.fft.fftn(m.ones(2, 3), dim=(0, -2)),
    "s_and_dim": lambda m: m.fft.fftn(m.ones(2, 3), s=(3,), dim=(0, 1)),
    "s_long": lambda m: m.fft.fftn(m.ones(2, 3), s=(3, 4, 5)),
    "s_neg": lambda m: m.fft.fftn(m.ones(2, 3), s=(-2, 3)),
    "fft2_1d": lambda m: m.fft.fft2(m.ones(3)),
    "rfft_complex": lambda m: m.fft.rfft(m.ones(3, dtype=m.complex64)),
    "rfftn_complex": lambda m: m.fft.rfftn(m.ones(3, dtype=m.complex64)),
    "rfft2_complex": lambda m: m.fft.rfft2(m.ones(2, 3, dtype=m.complex128)),
    "ihfft_complex": lambda m: m.fft.ihfft(m.ones(3, dtype=m.complex64)),
    "ihfftn_complex": lambda m: m.fft.ihfftn(m.ones(2, 3, dtype=m.complex64)),
    "irfft_one": lambda m: m.fft.irfft(m.ones(1, dtype=m.complex64)),
    "hfft_one": lambda m: m.fft.hfft(m.ones(1, dtype=m.complex64)),
    "irfftn_one": lambda m: m.fft.irfftn(m.ones(2, 1, dtype=m.complex64)),
    "rfftn_no_dims": lambda m: m.fft.rfftn(m.ones(2, 3), dim=()),
    "irfftn_no_dims": lambda m: m.fft.irfftn(m.ones(2, 3), dim=()),
    "empty": lambda m: m.fft.fft(m.ones(0)),
    "dim_tuple": lambda m: m.fft.fft(m.ones(3), dim=(0,)),
    "fftfreq_int": lambda m: m.fft.fftfreq(5, dtype=m.int64),
    "fftfreq_complex": lambda m: m.fft.fftfreq(4, dtype=m.complex64),
    "fftfreq_neg": lambda m: m.fft.fftfreq(-1),
    "rfftfreq_neg": lambda m: m.fft.rfftfreq(-4),
    "conj_numpy": lambda m: m.fft.ihfft(m.ones(3)).numpy(),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(torch, name):
    def run(m):
        try:
            ERRORS[name](m)
        except Exception as e:  # noqa: BLE001  (compared below)
            return e
        return None

    want, got = run(torch), run(ember)
    assert want is not None and got is not None, (want, got)
    assert type(got).__name__ == type(want).__name__
    assert str(got).split("\n")[0] == str(want).split("\n")[0]


def test_node_names(torch):
    def names(m):
        r = m.tensor(X, requires_grad=True)
        c = m.tensor(Z, requires_grad=True)
        F = m.fft
        return [type(t.grad_fn).__name__ for t in (
            F.fft(r), F.rfft(r), F.irfft(c), F.hfft(c), F.ihfft(r), F.fft(c), F.fftshift(r),
            F.fft(r, n=8), F.ifft(r), F.ifft(c), F.fftn(r), F.rfftn(r), F.irfftn(c), F.hfftn(c),
            F.ihfftn(r), F.fft2(c), F.ihfft2(r))]

    assert names(ember) == names(torch)


@pytest.mark.parametrize("n, d", [(5, 1.0), (6, 0.3), (1, 2.0), (0, 1.0), (4, 0.0), (9, -0.5),
                                  (-1, 1.0)])
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_frequencies(torch, n, d, dtype):
    for fn in ("fftfreq", "rfftfreq") if n >= 0 else ("rfftfreq",):
        kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
        want = getattr(torch.fft, fn)(n, d, **kw)
        kw = {} if dtype is None else {"dtype": getattr(ember, dtype)}
        got = getattr(ember.fft, fn)(n, d, **kw)
        assert got.dtype.name == str(want.dtype)[6:]
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert str(got.numpy()) == str(want.numpy())  # signed zeros too


@pytest.mark.parametrize("shape, dim", [((5,), None), ((2, 3), None), ((2, 3), 1), ((4, 5), (0,)),
                                        ((3, 4, 2), (-1, 0)), ((3, 4), [1, 0])])
def test_shifts(torch, shape, dim):
    for fn in ("fftshift", "ifftshift"):
        a = np.arange(int(np.prod(shape))).reshape(shape)
        want = getattr(torch.fft, fn)(torch.tensor(a), dim)
        got = getattr(ember.fft, fn)(ember.tensor(a), dim)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


# --- gradients ---------------------------------------------------------------------------------
GX = RNG.standard_normal((4, 5))
GZ = RNG.standard_normal((4, 5)) + 1j * RNG.standard_normal((4, 5))
W = RNG.standard_normal((8, 9)) + 1j * RNG.standard_normal((8, 9))


def _loss(m, y):
    w = m.tensor(W[:y.shape[0], :y.shape[1]] if y.ndim == 2 else W[0, :y.shape[0]])
    if y.is_complex():
        return (y * w).abs().sum() + (y.real ** 2).sum() + (y * w).imag.sum()
    return (y * w.real).sum() + (y ** 3).sum()


def _grads(m, fn):
    x = m.tensor(GX, requires_grad=True)
    z = m.tensor(GZ, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = _loss(m, fn(m, x, z))
    loss.backward()
    return loss.item(), [None if t.grad is None else t.grad.numpy() for t in (x, z)]


def _compare(torch, fn):
    (want_loss, want), (got_loss, got) = _grads(torch, fn), _grads(ember, fn)
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-10)
    for g, t in zip(got, want):
        assert (g is None) == (t is None)
        if g is not None:
            assert g.dtype == t.dtype
            np.testing.assert_allclose(g, t, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name, which, n, dim, norm", one_dim_cases())
def test_one_dim_transforms(torch, name, which, n, dim, norm):
    """float32 values and dtypes, then float64 gradients."""
    _check_values(torch, name, which, n=n, dim=dim, norm=norm)
    _compare(torch, lambda m, x, z: getattr(m.fft, name)(x if which == "x" else z, n=n, dim=dim,
                                                         norm=norm).resolve_conj())


@pytest.mark.parametrize("name, which, s, norm", n_dim_cases())
def test_n_dim_transforms(torch, name, which, s, norm):
    """float32 values and dtypes, then float64 gradients."""
    _check_values(torch, name, which, s=s, norm=norm)
    _compare(torch, lambda m, x, z: getattr(m.fft, name)(x if which == "x" else z, s=s,
                                                         norm=norm).resolve_conj())


@pytest.mark.parametrize("n", [6, 7])
def test_rfft_abs_sum_gradient(torch, n):
    _compare(torch, lambda m, x, z: m.fft.rfft(x, n=n).abs().sum(0)[:, None])
    _compare(torch, lambda m, x, z: m.fft.irfft(z, n=n).sum(1, keepdim=True) * 0
             + m.fft.irfft(z * m.fft.rfftfreq(8), n=n))
    _compare(torch, lambda m, x, z: m.fft.hfft(m.fft.ihfft(x, n=n), n=n))


def test_chain_through_shifts_and_frequencies(torch):
    _compare(torch, lambda m, x, z: m.fft.ifftshift(m.fft.fftshift(m.fft.fft2(z)) * 2j)
             * m.fft.fftfreq(5))


# --- stft / istft --------------------------------------------------------------------------------
def _hann(m, n):
    return m.tensor(np.hanning(n + 1)[:-1])


STFT_CASES = {
    "rect": lambda m, x: x.stft(8, return_complex=True),
    "hann": lambda m, x: x.stft(8, window=_hann(m, 8), return_complex=True),
    "hop_win": lambda m, x: x.stft(8, 3, 6, _hann(m, 6), return_complex=True),
    "short_rect": lambda m, x: x.stft(8, win_length=5, return_complex=True),
    "no_center": lambda m, x: x.stft(8, center=False, return_complex=True),
    "two_sided": lambda m, x: x.stft(8, onesided=False, return_complex=True),
    "normalized": lambda m, x: x.stft(7, normalized=True, window=_hann(m, 7),
                                      return_complex=True),
    "constant": lambda m, x: x.stft(8, pad_mode="constant", return_complex=True),
    "replicate": lambda m, x: x.stft(6, pad_mode="replicate", return_complex=True),
    "batch": lambda m, x: x.reshape(2, 10).stft(8, 2, return_complex=True),
    "pairs": lambda m, x: x.stft(8, return_complex=False),
    "complex": lambda m, x: (x * (1 + 2j)).stft(8, 3, return_complex=True),
}


@pytest.mark.parametrize("name", list(STFT_CASES))
def test_stft(torch, name):
    data = RNG.standard_normal(20)

    def run(m):
        x = m.tensor(data, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = STFT_CASES[name](m, x)
        w = m.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
        ((y.abs() * w).sum() if y.is_complex() else (y * w).sum()).backward()
        return y.detach().numpy(), x.grad.numpy()

    (want, want_grad), (got, got_grad) = run(torch), run(ember)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-10)
    np.testing.assert_allclose(got_grad, want_grad, atol=1e-9)


ISTFT_CASES = {
    "hann": lambda m, s: s.istft(8, 2, window=_hann(m, 8)),
    "length": lambda m, s: s.istft(8, 2, window=_hann(m, 8), length=18),
    "longer": lambda m, s: s.istft(8, 2, window=_hann(m, 8), length=25),
    "normalized": lambda m, s: s.istft(8, 2, window=_hann(m, 8), normalized=True),
    "rect": lambda m, s: s.istft(8, 2),
    "hop_win": lambda m, s: s.istft(8, 2, 6, _hann(m, 6)),
}


@pytest.mark.parametrize("name", list(ISTFT_CASES))
def test_istft(torch, name):
    data = RNG.standard_normal((5, 11)) + 1j * RNG.standard_normal((5, 11))

    def run(m):
        s = m.tensor(data, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = ISTFT_CASES[name](m, s)
        (y * m.tensor(np.cos(np.arange(y.shape[-1])))).sum().backward()
        return y.detach().numpy(), s.grad.numpy()

    (want, want_grad), (got, got_grad) = run(torch), run(ember)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-10)
    np.testing.assert_allclose(got_grad, want_grad, atol=1e-9)


STFT_ERRORS = {
    "return_complex": lambda m, x: x.stft(8),
    "win_length": lambda m, x: x.stft(8, win_length=9, return_complex=True),
    "window_size": lambda m, x: x.stft(8, window=m.ones(5), return_complex=True),
    "hop": lambda m, x: x.stft(8, hop_length=0, return_complex=True),
    "n_fft": lambda m, x: x.stft(50, center=False, return_complex=True),
    "dims": lambda m, x: x.reshape(2, 2, 5).stft(4, return_complex=True),
    "ints": lambda m, x: m.arange(20).stft(8, return_complex=True, center=False),
    "onesided_complex": lambda m, x: (x * 1j).stft(8, onesided=True, return_complex=True),
    "istft_real": lambda m, x: x.reshape(4, 5).istft(8),
    "istft_freq": lambda m, x: x.stft(8, return_complex=True).istft(7, window=m.ones(7)),
    "istft_two_sided": lambda m, x: x.stft(8, return_complex=True).istft(8, onesided=False),
    "istft_hop": lambda m, x: x.stft(8, return_complex=True).istft(8, hop_length=9),
    "istft_window": lambda m, x: x.stft(8, return_complex=True).istft(8, window=m.ones(7)),
    "istft_envelope": lambda m, x: x.stft(8, 2, window=m.hann_window(8), return_complex=True)
    .istft(8, 2, window=m.hann_window(8), center=False),
    "istft_empty": lambda m, x: m.ones(0, 3, dtype=m.complex64).istft(8),
    "istft_4d": lambda m, x: m.ones(2, 2, 5, 3, dtype=m.complex64).istft(8),
}


@pytest.mark.parametrize("name", list(STFT_ERRORS))
def test_stft_errors(torch, name):
    def run(m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                STFT_ERRORS[name](m, m.arange(20.0))
            except RuntimeError as e:
                return str(e)
        return None

    want = run(torch)
    assert want is not None and run(ember) == want
