"""Seeded draws at the edges of their parameters, bit for bit against torch's CPU generator:
``uniform_``/``rand`` over negative, tiny, huge and degenerate bounds in float64, float32 and
half; ``randint``/``random_``/``randint_like`` for every dtype over ranges around 2**24, 2**28
(where torch switches to 64-bit draws), 2**31, 2**32, 2**33 and 2**62; ``normal_`` with large
and tiny ``std``; and the other samplers. Each case also checks both generators end in the same
state and that errors and warnings are torch's. The tests at the end need no torch: they check
the rounding helpers against exact arithmetic and the ranges the draws stay in.
"""
from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest

import ember
from ember import _sampling

FLOATS = ["float64", "float32", "float16"]
INTS = ["int64", "int32", "int16", "int8", "uint8", "bool"]

UNIFORM_BOUNDS = [
    (0, 1), (-1, 1), (-3.7, 2.1), (-2.5, -1.5), (0.1, 0.3), (1 / 3, 2 / 3), (1e-7, 1e-6),
    (-math.pi, math.e), (-1e-5, 7.3), (100, 100.001), (1, 1 + 2**-52), (1, 1.0000001),
    (0.7, 3000.1), (-0.1, 1000.7), (0, 1.0001), (-1e4, 3e4), (-60000, 5000), (2, 2),
    (-0.0, 0.0), (123456.789, 123456.7891), (-1e15, -1e15 + 3), (2**60, 2**60 + 2**8),
    (1e-300, 3e-300), (0, 1e-320), (-1e-310, 1e-310), (5e-41, 1e-40), (-1e308, 7e307),
    (0, 1.7e308), (-3e38, 3e38), (65504, 65504), (-8.98846567431158e307, 8.98846567431158e307),
    # rejected by torch: from > to, non-finite, a span wider than the dtype holds
    (1.5, 1.25), (1e-7, 1e-8), (math.nan, 1), (0, math.inf), (-math.inf, 0),
]


def _ranges():
    out = []
    for p in (8, 16, 24, 28, 31, 32, 33, 53, 62):
        for d in (-1, 0, 1):
            out += [(0, 2**p + d), (-(2 ** (p - 1)), 2 ** (p - 1) + d), (-(2**p) - 7, -3 + d)]
    return out + [(-(2**63), 2**63 - 1), (-(2**63), 0), (2**62, 2**63 - 1), (3, 4), (5, 5)]


def _bytes(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x).reshape(x.size, 1).view(np.uint8)


def _outcome(lib, seed, fn):
    """``fn(lib)`` after seeding: its values (or its error) and warnings, and the next draws."""
    lib.manual_seed(seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(lib).numpy()
        except Exception as e:  # noqa: BLE001 - the error itself is compared
            out = (type(e).__name__, str(e).split("\n")[0])
    notes = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return out, notes, lib.rand(3, dtype=lib.float64).numpy()


def _same(torch, fn, seed=5, ulps=0):
    """The same values (bit for bit, or within ``ulps`` units in the last place), errors,
    warnings and generator state in ember and torch."""
    e, e_notes, e_next = _outcome(ember, seed, fn)
    t, t_notes, t_next = _outcome(torch, seed, fn)
    if isinstance(t, tuple) or isinstance(e, tuple):
        assert e == t
    elif ulps:
        assert e.dtype == t.dtype and e.shape == t.shape
        real = (lambda a: a.view(a.real.dtype)) if e.dtype.kind == "c" else (lambda a: a)
        e_r, t_r = real(e), real(t)
        np.testing.assert_array_equal(np.isfinite(e_r), np.isfinite(t_r))
        finite = np.isfinite(t_r)
        want = np.abs(t_r[finite])
        gap = np.abs(e_r[finite].astype(np.float64) - t_r[finite])
        # ulps of the value, or of the largest value where mean + std * z cancels
        scale = (np.spacing(want) + np.spacing(want.max(initial=0))).astype(np.float64)
        assert (gap <= ulps * scale).all(), gap.max()
    else:
        assert e.dtype == t.dtype and e.shape == t.shape
        bad = np.flatnonzero((_bytes(e) != _bytes(t)).any(axis=1))  # -0.0 differs from 0.0
        assert bad.size == 0, (bad[:5], e.reshape(-1)[bad[:5]], t.reshape(-1)[bad[:5]])
    # torch appends "(Triggered internally at ...)" to its warnings
    assert len(e_notes) == len(t_notes) and all(b.startswith(a) for a, b in zip(e_notes, t_notes))
    np.testing.assert_array_equal(e_next, t_next)


# --- uniform_ --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bounds", UNIFORM_BOUNDS, ids=str)
def test_uniform_matches_torch_bit_for_bit(torch, dtype, bounds):
    lo, hi = bounds
    _same(torch, lambda m: m.empty(600, dtype=getattr(m, dtype)).uniform_(lo, hi))


@pytest.mark.parametrize("dtype", FLOATS)
def test_rand_forms_match_torch(torch, dtype):
    _same(torch, lambda m: m.rand(3000, dtype=getattr(m, dtype)))
    _same(torch, lambda m: m.rand_like(m.zeros(5, 7, dtype=getattr(m, dtype))))
    _same(torch, lambda m: m.empty(30, 20, dtype=getattr(m, dtype)).t().uniform_(-2.3, 7.1))
    _same(torch, lambda m: m.empty(0, dtype=getattr(m, dtype)).uniform_(2, 1))  # still checked
    g = {m: m.Generator().manual_seed(9) for m in (ember, torch)}
    _same(torch, lambda m: m.empty(50, dtype=getattr(m, dtype)).uniform_(-5, 3, generator=g[m]))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_uniform_matches_torch(torch, dtype):
    _same(torch, lambda m: m.empty(300, dtype=getattr(m, dtype)).uniform_(-0.3, 1.7))
    _same(torch, lambda m: m.rand(300, dtype=getattr(m, dtype)))


@pytest.mark.parametrize("dtype", FLOATS + ["int64", "int16", "uint8"])
def test_make_tensor_matches_torch(torch, dtype):
    from torch.testing import make_tensor as torch_make

    from ember.testing import make_tensor as ember_make

    for low, high in ((None, None), (-1e-3, 7.5), (0.5, 2e3), (3, 40)):
        def draw(m, low=low, high=high):
            make = ember_make if m is ember else torch_make
            return make((7, 9), dtype=getattr(m, dtype), device="cpu", low=low, high=high)

        _same(torch, draw)


# --- randint / random_ -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", INTS + FLOATS)
def test_randint_matches_torch_around_every_threshold(torch, dtype):
    for lo, hi in _ranges():
        _same(torch, lambda m, lo=lo, hi=hi: m.randint(lo, hi, (40,), dtype=getattr(m, dtype)))


@pytest.mark.parametrize("dtype", INTS + FLOATS)
def test_random_inplace_matches_torch(torch, dtype):
    def empty(m):
        return m.empty(40, dtype=getattr(m, dtype))

    for lo, hi in _ranges()[::2]:
        _same(torch, lambda m, lo=lo, hi=hi: empty(m).random_(lo, hi))
    _same(torch, lambda m: empty(m).random_())
    for to in (1, 2, 100, 2**24 + 1, 2**28, 2**31, 2**32, 2**33, 2**53, 2**62, 0, -5):
        _same(torch, lambda m, to=to: empty(m).random_(to))
    _same(torch, lambda m: m.empty(8, 5, dtype=getattr(m, dtype)).t().random_(-3, 90))
    _same(torch, lambda m: m.randint_like(m.zeros(30, dtype=getattr(m, dtype)), -3, 2**40))
    _same(torch, lambda m: m.randint_like(m.zeros(30, dtype=getattr(m, dtype)), 2))


def test_randint_draw_width_switches_at_2_to_the_28(torch):
    for span in (2**28 - 1, 2**28):
        for low in (0, -(2**27), -(2**40)):
            _same(torch, lambda m, s=span, lo=low: m.randint(lo, lo + s, (25,)))
    _same(torch, lambda m: m.randint(0, 2**28 + 1, (25,), dtype=m.float32))  # update_to


# --- normal_ and the other samplers ----------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [7, 16, 40, 1000])
def test_normal_matches_torch_with_large_and_tiny_std(torch, dtype, n):
    # float32 and half blocks of 16 use NumPy's float32 log/sin/cos, not torch's AVX2 ones
    ulps = 8 if dtype != "float64" and n >= 16 else 0
    for mean, std in ((0, 1), (3.5, 1e10), (-1e300, 1e300), (1e-30, 1e-35), (2.0, 0.3),
                      (0, 0), (1e15, 1e-300)):
        _same(torch, lambda m, a=mean, s=std: m.empty(n, dtype=getattr(m, dtype)).normal_(a, s),
              ulps=ulps)
    _same(torch, lambda m: m.empty(n, 2, dtype=getattr(m, dtype)).t().normal_(1.5, 3.25))
    _same(torch, lambda m: m.randn(n, dtype=getattr(m, dtype)), ulps=ulps)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [5, 40])
def test_normal_function_forms_match_torch(torch, dtype, n):
    mean, std = np.linspace(-3, 3, n), np.linspace(0.1, 7, n)

    def as_t(m, x):
        return m.tensor(x, dtype=getattr(m, dtype))

    ulps = 8 if dtype == "float32" and n >= 16 else 0  # see the test above
    _same(torch, lambda m: m.normal(2.5, 3.7, (n,), dtype=getattr(m, dtype)), ulps=ulps)
    _same(torch, lambda m: m.normal(as_t(m, mean), 3.7), ulps=ulps)
    _same(torch, lambda m: m.normal(-1.25, as_t(m, std)), ulps=ulps)
    _same(torch, lambda m: m.normal(as_t(m, mean), as_t(m, std)), ulps=ulps)
    _same(torch, lambda m: m.randn(n, dtype=m.complex64 if dtype == "float32" else m.complex128),
          ulps=ulps)


@pytest.mark.parametrize("dtype", FLOATS)
def test_other_samplers_match_torch_at_extreme_parameters(torch, dtype):
    def empty(m):
        return m.empty(400, dtype=getattr(m, dtype))

    for lam in (1.0, 1e-300, 1e300, 3.7, 1e-5):
        _same(torch, lambda m, v=lam: empty(m).exponential_(v))
    for p in (0.5, 1e-12, 1 - 1e-12, 0.3, 1e-300):
        _same(torch, lambda m, v=p: empty(m).geometric_(v))
    for median, sigma in ((0, 1), (1e10, 1e-10), (-3, 1e300), (2.5, 0.3)):
        _same(torch, lambda m, a=median, s=sigma: empty(m).cauchy_(a, s))
    for mean, std in ((1, 2), (0, 1e-10), (-5, 0.5), (700, 1), (0.3, 3)):
        _same(torch, lambda m, a=mean, s=std: empty(m).log_normal_(a, s),
              ulps=0 if dtype == "float64" else 4096)  # exp(normal): see the normal_ test


@pytest.mark.parametrize("p_dtype", ["float32", "float64"])
def test_bernoulli_and_multinomial_match_torch(torch, p_dtype):
    p = np.random.default_rng(0).uniform(0, 1, 300)
    p[:5] = [0, 1, 1e-9, 1 - 1e-9, 0.5]
    for self_dtype in ("float32", "float64", "float16", "int64", "uint8", "bool"):
        _same(torch, lambda m, d=self_dtype: m.empty(300, dtype=getattr(m, d)).bernoulli_(
            m.tensor(p, dtype=getattr(m, p_dtype))))
    _same(torch, lambda m: m.bernoulli(m.tensor(p, dtype=getattr(m, p_dtype))))
    w = np.random.default_rng(1).uniform(0, 1, (3, 50))
    w[0, :10] = 0
    w[1, 5] = 1e6
    for k, replacement in ((1, False), (1, True), (5, False), (20, True), (40, False),
                           (200, True)):
        _same(torch, lambda m, k=k, r=replacement: m.multinomial(
            m.tensor(w, dtype=getattr(m, p_dtype)), k, r))


def test_randperm_matches_torch(torch):
    for n in (0, 1, 2, 17, 2**16 + 3):
        _same(torch, lambda m, n=n: m.randperm(n))


# --- without torch: the rounding helpers and the ranges ----------------------------------------

def _round_to_float32(v: Fraction) -> np.float32:
    """The float32 nearest ``v`` (ties to even), from exact arithmetic."""
    f = np.float32(float(v))
    near = [f, np.nextafter(f, np.float32(np.inf)), np.nextafter(f, np.float32(-np.inf))]
    return min(near, key=lambda q: (abs(Fraction(float(q)) - v),
                                    int(np.array(q).view(np.uint32)) & 1))


def test_fma_rounds_once_like_exact_arithmetic():
    rng = np.random.default_rng(0)
    u = rng.integers(0, 2**53, 400) * 2.0**-53
    u[:6] = [0, 2**-53, 1 - 2**-53, 0.5, 0.25, 0.75]
    spiky = rng.integers(0, 2**20, 400) * 2.0**-20 + rng.integers(0, 2, 400) * 2.0**-53
    for a in (u, spiky, rng.standard_normal(400) * 1e3, np.ldexp(rng.random(400), -500)):
        for b, c in ((5.8, -3.7), (0.2, 0.1), (2.0**-52, 1.0), (1e300, -7e307), (3e-300, 1e-300),
                     (1e-310, -1e-310), (1.7e308, 0.0), (0.3, 2.0**60), (7.0, -3.5)):
            want = _sampling._fma_exact(a, b, c)
            got = _sampling.fma(a, b, c)
            np.testing.assert_array_equal(got, want, err_msg=f"b={b!r} c={c!r}")


def test_fma32_rounds_once_like_exact_arithmetic():
    rng = np.random.default_rng(1)
    a = (rng.integers(0, 2**24, 300) * 2.0**-24).astype(np.float32)
    for b, c in ((5.8, -3.7), (0.001, 100.0), (3e-39, 1e-40), (1e30, -1e30), (1.0, 2.0**-30)):
        got = _sampling.fma32(a, b, c)
        want = [_round_to_float32(Fraction(float(x)) * Fraction(float(np.float32(b))) +
                                  Fraction(float(np.float32(c)))) for x in a]
        np.testing.assert_array_equal(got, np.array(want, np.float32))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bounds", [(100, 100.001), (-3.7, 2.1), (1, 1 + 2**-52), (0, 1),
                                    (1e-7, 1.0000001e-7), (2, 2), (-60000, 5000)], ids=str)
def test_uniform_stays_in_from_to(dtype, bounds):
    lo, hi = bounds
    d = getattr(np, dtype)
    x = ember.empty(20000, dtype=getattr(ember, dtype)).uniform_(lo, hi).numpy()
    to = d(np.float32(hi)) if dtype != "float64" else hi
    low = d(np.float32(lo)) if dtype != "float64" else lo
    assert x.dtype == d
    if low == to:
        assert (x == low).all()
    else:  # a draw that rounds up to ``to`` is ``from`` instead
        assert (x >= low).all() and (x < to).all()


def test_uniform_rejects_bad_bounds_with_torchs_messages():
    with pytest.raises(RuntimeError, match=r"from=1\.5 > to=1\.25"):
        ember.empty(3).uniform_(1.5, 1.25)
    with pytest.raises(RuntimeError, match="from is out of bounds for float"):
        ember.empty(0).uniform_(math.nan, 1)
    with pytest.raises(RuntimeError, match="to is out of bounds for c10::Half"):
        ember.empty(2, dtype=ember.float16).uniform_(0, 1e5)
    with pytest.raises(RuntimeError, match=r"numeric_limits<Float>::max\(\)"):
        ember.empty(2).uniform_(-3e38, 3e38)


@pytest.mark.parametrize("span", [2**28 - 1, 2**28])
def test_randint_takes_one_word_below_2_to_the_28_and_two_from_it(span):
    gen = ember.Generator().manual_seed(3)
    ref = ember.Generator().manual_seed(3)
    x = ember.randint(-7, span - 7, (10,), generator=gen).numpy()
    words = _sampling.bits64(ref, 10) if span >= 2**28 else _sampling.bits32(ref, 10)
    np.testing.assert_array_equal(x, (words % np.uint64(span)).astype(np.int64) - 7)
    np.testing.assert_array_equal(_sampling.bits32(gen, 3), _sampling.bits32(ref, 3))


@pytest.mark.parametrize("dtype", INTS + FLOATS)
def test_randint_values_stay_in_range(dtype):
    info = {"bool": (0, 2), "uint8": (0, 256), "int8": (-128, 128), "float16": (-2048, 2049)}
    lo, hi = info.get(dtype, (-(2**15), 2**15))
    x = ember.randint(lo, hi, (4000,), dtype=getattr(ember, dtype)).numpy().astype(np.int64)
    assert x.min() >= lo and x.max() < hi and x.min() < lo + 64 and x.max() > hi - 64
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
        ember.randint(3, 3, (2,), dtype=getattr(ember, dtype))


def test_randint_float_bounds_move_inside_the_dtype_and_warn():
    gen, ref = ember.Generator().manual_seed(4), ember.Generator().manual_seed(4)
    with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
        x = ember.randint(0, 2**25, (300,), dtype=ember.float32, generator=gen).numpy()
    # float32(2**25 - 1) rounds up to ``to``: torch moves ``to`` down to 2**25 - 2 first
    np.testing.assert_array_equal(x, (_sampling.bits32(ref, 300) % np.uint64(2**25 - 2))
                                  .astype(np.float32))
    with pytest.raises(RuntimeError, match="to - 1 is out of bounds for c10::Half"):
        ember.randint(0, 70000, (2,), dtype=ember.float16)
    with pytest.raises(RuntimeError, match="from is out of bounds for bool"):
        ember.randint(-1, 1, (2,), dtype=ember.bool)
