"""float16 pointwise ops compute in float32 and round once (torch's "opmath"), torch-free.

The oracle file (tests/oracle/test_float16_opmath_oracle.py) checks the bits against torch;
here the float16 results are checked against the float32 (or float64) formula rounded to
float16 once, which per-step float16 rounding misses by far (sinc lost up to 57%).
"""
import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.ops._opmath import HALF, fma32, half_mul, opmath
from ember.ops.pointwise_special import erf_as_float32

H = np.float16
F32 = np.float32
_rng = np.random.default_rng(7)
X = (_rng.standard_normal(512) * 3).astype(H)
P = (np.abs(X) + H(0.01)).astype(H)


def _ulps(a, b):
    a, b = np.asarray(a, H), np.asarray(b, H)
    far = np.abs(a.view(np.int16).astype(int) - b.view(np.int16).astype(int))
    return np.where(a == b, 0, far)  # +0 and -0 alike


def test_opmath_widens_float16_and_rounds_once():
    a = np.array([1.0, 2049.0, 3.0], H)
    calls = []

    def fn(x, c):
        calls.append((x.dtype, c))
        return x * c + F32(0.5)

    out = opmath(fn, a, 0.1)
    assert calls == [(np.dtype(F32), 0.1)]
    assert out.dtype == HALF
    np.testing.assert_array_equal(out, (a.astype(F32) * F32(0.1) + F32(0.5)).astype(H))
    pair = opmath(lambda x: (x, None), a)
    assert pair[0].dtype == HALF and pair[1] is None


def test_half_mul_reads_the_number_in_float32():
    g = np.array([1.0, 3.0, 1000.0], H)
    want = (g.astype(F32) * F32(0.1)).astype(H)
    np.testing.assert_array_equal(half_mul(g, 0.1), want)
    assert not np.array_equal(want, g * H(0.1))  # the float16 constant rounds differently


def test_fma32_rounds_once():
    a, b, c = F32(1 + 2 ** -12), F32(1 + 2 ** -12), F32(-1)
    assert fma32(a, b, c) == F32(2 ** -11 + 2 ** -24)  # a * b + c unrounded: 2^-11 + 2^-24
    assert a * b + c == F32(2 ** -11)                   # two roundings lose the last bit


# float16 op -> its formula on float32 values, rounded once (torch's float32 steps)
EXACT = {
    "deg2rad": (lambda T, a: T.deg2rad(a), lambda x: x * F32(math.pi / 180), X),
    "rad2deg": (lambda T, a: T.rad2deg(a), lambda x: x * F32(180 / math.pi), X),
    "leaky_relu": (lambda T, a: T.nn.functional.leaky_relu(a, 0.3),
                   lambda x: np.where(x > 0, x, x * F32(0.3)), X),
    "hardsigmoid": (lambda T, a: T.nn.functional.hardsigmoid(a),
                    lambda x: np.clip(x + 3, 0, 6) / F32(6), X),
    "hardswish": (lambda T, a: T.nn.functional.hardswish(a),
                  lambda x: x * np.clip(x + 3, 0, 6) / F32(6), X),
    "softshrink": (lambda T, a: T.nn.functional.softshrink(a, 0.3),
                   lambda x: np.where(x > F32(0.3), x - F32(0.3),
                                      np.where(x < -F32(0.3), x + F32(0.3), 0)), X),
    "rsqrt": (lambda T, a: T.rsqrt(a), lambda x: 1 / np.sqrt(x), P),
    "add_alpha": (lambda T, a: T.add(a, a.flip(0), alpha=0.3),
                  lambda x: x + F32(H(0.3)) * x[::-1], X),
    "lerp_tensor": (lambda T, a: a.lerp(a.flip(0), a.abs().clamp(max=0.4)),
                    lambda x: x + np.minimum(np.abs(x), F32(H(0.4))) * (x[::-1] - x), X),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_float16_equals_the_float32_formula_rounded_once(name):
    op, formula, x = EXACT[name]
    got = op(ember, ember.from_numpy(x.copy())).numpy()
    want = formula(x.astype(F32)).astype(H)
    assert got.dtype == HALF
    np.testing.assert_array_equal(got, want)


# transcendental ones: NumPy's float32 exp, sin, ... differ from torch's in the last ulp, so
# against the float64 value rounded to float16: at most one float16 ulp off anywhere
CLOSE = {
    "sinc": (lambda T, a: T.sinc(a), lambda x: np.where(x == 0, 1, np.sin(np.pi * x)
                                                        / (np.pi * x)), X),
    "silu": (lambda T, a: T.nn.functional.silu(a), lambda x: x / (1 + np.exp(-x)), X),
    "mish": (lambda T, a: T.nn.functional.mish(a),
             lambda x: x * np.tanh(np.log1p(np.exp(x))), X),
    "selu": (lambda T, a: T.nn.functional.selu(a),
             lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772
                                                      * np.expm1(x)), X),
    "logsigmoid": (lambda T, a: T.nn.functional.logsigmoid(a),
                   lambda x: np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))), X),
    "softplus": (lambda T, a: T.nn.functional.softplus(a, beta=2.0, threshold=3.0),
                 lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2), X),
    "gelu_tanh": (lambda T, a: T.nn.functional.gelu(a, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                   * (x + 0.044715 * x ** 3))), X / 2),
}


@pytest.mark.parametrize("name", sorted(CLOSE))
def test_float16_within_one_ulp_of_the_exact_value(name):
    op, formula, x = CLOSE[name]
    got = op(ember, ember.from_numpy(x.copy())).numpy()
    want = formula(x.astype(np.float64)).astype(F32).astype(H)
    assert got.dtype == HALF
    assert _ulps(got, want).max() <= 1
    assert (_ulps(got, want) == 0).mean() > 0.99


def test_sinc_float16_is_no_longer_far_off():
    x = np.array([1.9208984375, 1.9306640625, 0.5341796875], H)
    got = ember.sinc(ember.from_numpy(x)).numpy().astype(np.float64)
    exact = np.sin(np.pi * x.astype(np.float64)) / (np.pi * x.astype(np.float64))
    np.testing.assert_allclose(got, exact, rtol=1e-3)


def _grad(op, x, g):
    t = ember.from_numpy(x.copy()).requires_grad_()
    op(t).backward(ember.from_numpy(g.copy()))
    return t.grad.numpy()


def test_float16_gradients_are_the_float32_formula_rounded_once():
    g = _rng.standard_normal(X.size).astype(H)
    x32, g32 = X.astype(F32), g.astype(F32)
    f = ember.nn.functional
    np.testing.assert_array_equal(
        _grad(lambda t: f.leaky_relu(t, 0.3), X, g),
        np.where(x32 > 0, g32, g32 * F32(0.3)).astype(H))
    np.testing.assert_array_equal(
        _grad(ember.deg2rad, X, g), (g32 * F32(math.pi / 180)).astype(H))
    s = 1 / (1 + np.exp(-x32.astype(np.float64)))
    want = (g32 * s * (1 + x32 * (1 - s))).astype(F32).astype(H)
    assert _ulps(_grad(f.silu, X, g), want).max() <= 1
    # tanh's backward in float32: (1 - out^2) unrounded
    out = np.tanh(x32).astype(H).astype(F32)
    np.testing.assert_array_equal(_grad(ember.tanh, X, g), (g32 * (1 - out * out)).astype(H))


def test_hardswish_gradient_at_the_break_points():
    """0 from -3 down, 1 from 3 up (torch's), x / 3 + 1/2 strictly between."""
    for dt in (ember.float16, ember.float32, ember.float64):
        x = ember.tensor([-3.0, 3.0, -2.5, 2.5, -4.0, 4.0], dtype=dt, requires_grad=True)
        ember.nn.functional.hardswish(x).sum().backward()
        want = [0.0, 1.0, -2.5 / 3 + 0.5, 2.5 / 3 + 0.5, 0.0, 1.0]
        np.testing.assert_allclose(x.grad.numpy().astype(np.float64), want, rtol=1e-3)


def test_hardswish_gradcheck_float64_away_from_the_break_points():
    x = ember.tensor([-4.0, -2.0, -0.5, 0.7, 2.9, 3.5], dtype=ember.float64,
                     requires_grad=True)
    assert gradcheck(ember.nn.functional.hardswish, (x,))


def test_erf_as_float32_is_abramowitz_stegun():
    x = np.linspace(-4, 4, 4001).astype(F32)
    exact = np.vectorize(math.erf)(x.astype(np.float64))
    assert np.abs(erf_as_float32(x) - exact).max() < 5e-7  # 1.5e-7, plus float32's
    assert erf_as_float32(np.array([6e-8], F32))[0] == 0  # absolute error: tiny x goes to 0
    # and ember's float16 erf is it, rounded once
    h = X
    np.testing.assert_array_equal(ember.erf(ember.from_numpy(h)).numpy(),
                                  erf_as_float32(h.astype(F32)).astype(H))


def test_layer_norm_float16_weight_gradient_rounds_row_by_row():
    """torch's (single-threaded) kernel adds each row's contribution into a float16 buffer."""
    x = (_rng.standard_normal((40, 16)) * 3).astype(H)
    g = _rng.standard_normal((40, 16)).astype(H)
    w = ember.ones(16, dtype=ember.float16, requires_grad=True)
    b = ember.zeros(16, dtype=ember.float16, requires_grad=True)
    y = ember.nn.functional.layer_norm(ember.from_numpy(x), (16,), w, b)
    y.backward(ember.from_numpy(g))
    acc = np.zeros(16, F32)
    for row in g.astype(F32):
        acc = (acc + row).astype(H).astype(F32)
    np.testing.assert_array_equal(b.grad.numpy(), acc.astype(H))
    assert y.dtype == ember.float16 and w.grad.dtype == ember.float16


def test_float32_paths_unchanged_by_the_float16_branches():
    x = _rng.standard_normal(64).astype(F32)
    t = ember.from_numpy(x)
    np.testing.assert_array_equal(ember.deg2rad(t).numpy(), x * F32(math.pi / 180))
    np.testing.assert_array_equal(ember.nn.functional.leaky_relu(t, 0.3).numpy(),
                                  np.where(x > 0, x, x * F32(0.3)))
    assert ember.sinc(t).dtype == ember.float32
