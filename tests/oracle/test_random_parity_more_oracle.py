"""``poisson``, rrelu's training slopes and the incomplete gamma functions against torch,
number for number: the same draws after the same seed (and the generator left in the same
state), and igamma/igammac bit for bit on every path of ATen's ``calc_igamma``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import distributions as ed

torch = pytest.importorskip("torch")
TF = torch.nn.functional
td = torch.distributions

DTYPES = ["float32", "float64"]


def _same(e, t):
    e = e.detach().numpy() if hasattr(e, "detach") else np.asarray(e)
    t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    assert e.dtype == t.dtype and e.shape == t.shape
    assert np.array_equal(e, t, equal_nan=True), np.flatnonzero(~((e == t) | np.isnan(t)))


def _state_same():
    """Both default generators in the same state (their next words agree)."""
    _same(ember.rand(4, dtype=ember.float64), torch.rand(4, dtype=torch.float64))


def _both(seed, fn):
    """``fn(lib)`` after ``lib.manual_seed(seed)`` for ember and torch."""
    ember.manual_seed(seed)
    e = fn(ember)
    torch.manual_seed(seed)
    t = fn(torch)
    return e, t


# --- poisson ---------------------------------------------------------------------------------

RATES = np.array([0.0, 1e-3, 0.1, 1.0, 3.5, 9.99, 10.0, 12.5, 100.0, 1e4, 1e7, 1e12, 1e15,
                  1e20, 1e30, math.inf])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 3, 29])
def test_poisson_matches_torch_draw_for_draw(dtype, seed):
    rates = np.tile(RATES, 6).astype(dtype)
    e, t = _both(seed, lambda m: m.poisson(m.tensor(rates)))
    _same(e, t)
    _state_same()


def test_poisson_strided_and_generator_inputs():
    base = np.random.default_rng(1).uniform(0, 30, (5, 4))
    e, t = _both(4, lambda m: m.poisson(m.tensor(base).t()))
    _same(e, t)
    e, t = _both(4, lambda m: m.poisson(m.tensor(base[:1]).expand(3, 4)))
    _same(e, t)
    ge, gt = ember.Generator().manual_seed(8), torch.Generator().manual_seed(8)
    _same(ember.poisson(ember.tensor(base), generator=ge),
          torch.poisson(torch.tensor(base), generator=gt))
    _same(ember.rand(3, generator=ge), torch.rand(3, generator=gt))


def test_poisson_nan_rate_fails_where_torch_does():
    rates = [2.0, 40.0, math.nan, 1.0]
    for m in (ember, torch):
        m.manual_seed(2)
        with pytest.raises(RuntimeError, match="invalid Poisson rate"):
            m.poisson(m.tensor(rates))
    _state_same()  # the draws made before the nan were taken from both generators


@pytest.mark.parametrize("dist", ["poisson", "poisson_batch"])
def test_poisson_distribution_sample(dist):
    rate = [0.4, 3.0, 15.0, 400.0] if dist == "poisson" else [[0.2], [30.0]]
    e, t = _both(6, lambda m: (ed if m is ember else td).Poisson(m.tensor(rate)).sample((5,)))
    _same(e, t)
    _state_same()


# --- rrelu -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bounds", [(1 / 8, 1 / 3), (0.1, 0.9), (0.3, 0.3)])
def test_rrelu_training_output_noise_and_gradient(dtype, bounds):
    x = np.random.default_rng(0).normal(size=(6, 17)).astype(dtype)
    x[0, :3] = [0.0, -0.0, math.nan]
    out = {}
    for m, fn in ((ember, F.rrelu), (torch, TF.rrelu)):
        m.manual_seed(11)
        leaf = m.tensor(x, requires_grad=True)
        y = fn(leaf, *bounds, training=True)
        y.backward(m.ones_like(y))
        out[m] = (y, leaf.grad)
    _same(out[ember][0], out[torch][0])
    _same(out[ember][1], out[torch][1])
    _state_same()


def test_rrelu_inplace_strided_module_and_generator():
    x = np.random.default_rng(1).normal(size=(5, 6)).astype(np.float32)
    e, t = _both(2, lambda m: (F if m is ember else TF).rrelu(m.tensor(x.T.copy()).t(),
                                                              training=True, inplace=True))
    _same(e, t)
    e, t = _both(3, lambda m: m.nn.RReLU(0.05, 0.5)(m.tensor(x)))
    _same(e, t)
    e, t = _both(4, lambda m: m.rrelu_(m.tensor(x), training=True))
    _same(e, t)
    ge, gt = ember.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    _same(ember.rrelu(ember.tensor(x), training=True, generator=ge),
          torch.rrelu(torch.tensor(x), training=True, generator=gt))
    for m in (ember, torch):  # eval: the mean slope, and the same node
        leaf = m.tensor(x, requires_grad=True)
        assert type(m.rrelu(leaf).grad_fn).__name__ == "RreluWithNoiseBackward0"
    _same(F.rrelu(ember.tensor(x), 0.2, 0.7), TF.rrelu(torch.tensor(x), 0.2, 0.7))


# --- incomplete gamma ------------------------------------------------------------------------

def _grid(n=1500, seed=0):
    """Points on every path: the series, Q's series and fraction, the Lanczos prefix (a
    near x, below and above 200) and Temme's expansion (20 < a < 200, a > 200)."""
    rng = np.random.default_rng(seed)
    a = np.concatenate([10 ** rng.uniform(-2, 3.5, n)] * 3)
    x = np.concatenate([a[:n] * rng.uniform(0.5, 1.5, n), 10 ** rng.uniform(-2, 3.5, n),
                        a[:n] * rng.uniform(0.9, 1.1, n)])
    return a, x


EDGES = np.array([0.0, -0.0, -1.0, 1e-30, 1e-8, 0.3, 0.5, 1.0, 1.05, 1.1, 2.0, 20.0, 20.5,
                  200.0, 250.0, 1e4, 1e30, math.inf, math.nan])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_bit_for_bit(dtype, name):
    a, x = _grid()
    ea, ex = np.meshgrid(EDGES, EDGES)
    a, x = np.concatenate([a, ea.ravel()]), np.concatenate([x, ex.ravel()])
    a, x = a.astype(dtype), x.astype(dtype)
    _same(getattr(ember, name)(ember.tensor(a), ember.tensor(x)),
          getattr(torch, name)(torch.tensor(a), torch.tensor(x)))


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_special_names_broadcasting_and_dtype_promotion(name):
    a = np.array([[0.5], [3.0], [60.0]], np.float32)
    x = np.array([0.1, 2.5, 58.0, 300.0])
    e = getattr(ember.special, name)(ember.tensor(a), ember.tensor(x))
    t = getattr(torch.special, name)(torch.tensor(a), torch.tensor(x))
    _same(e, t)
    e = getattr(ember.special, name)(ember.tensor(a), ember.tensor(x, dtype=ember.float16))
    t = getattr(torch.special, name)(torch.tensor(a), torch.tensor(x, dtype=torch.float16))
    _same(e, t)


@pytest.mark.parametrize("dtype", DTYPES)
def test_igamma_gradients(dtype):
    a, x = _grid(200, seed=3)
    keep = (a > 0.05) & (x > 0.05)
    a, x = a[keep].astype(dtype), x[keep].astype(dtype)
    grads = {}
    for m in (ember, torch):
        leaf = m.tensor(x, requires_grad=True)
        (m.special.gammainc(m.tensor(a), leaf) - m.special.gammaincc(m.tensor(a), leaf)
         ).sum().backward()
        grads[m] = leaf.grad.numpy()
    # torch's formula runs op by op in the dtype, so lgamma(a)'s rounding (large for large
    # a) shows in its gradient; ember rounds the same steps, through other libm functions
    rtol = 1e-4 if dtype == "float32" else 1e-11
    np.testing.assert_allclose(grads[ember], grads[torch], rtol=rtol, atol=1e-30)
    for m in (ember, torch):
        with pytest.raises(NotImplementedError, match="the derivative for 'igamma: input'"):
            m.igamma(m.tensor(a, requires_grad=True), m.tensor(x)).sum().backward()


@pytest.mark.parametrize("dtype", DTYPES)
def test_gamma_and_chi2_cdf(dtype):
    rng = np.random.default_rng(7)
    conc, rate = rng.uniform(0.2, 300, 40).astype(dtype), rng.uniform(0.1, 4, 40).astype(dtype)
    value = (conc / rate * rng.uniform(0.3, 2, 40)).astype(dtype)
    _same(ed.Gamma(ember.tensor(conc), ember.tensor(rate)).cdf(ember.tensor(value)),
          td.Gamma(torch.tensor(conc), torch.tensor(rate)).cdf(torch.tensor(value)))
    _same(ed.Chi2(ember.tensor(conc)).cdf(ember.tensor(value)),
          td.Chi2(torch.tensor(conc)).cdf(torch.tensor(value)))
    grads = {}
    for m, lib in ((ember, ed), (torch, td)):
        r, v = m.tensor(rate, requires_grad=True), m.tensor(value, requires_grad=True)
        lib.Gamma(m.tensor(conc), r).cdf(v).sum().backward()
        grads[m] = (r.grad.numpy(), v.grad.numpy())
    rtol = 1e-4 if dtype == "float32" else 1e-11  # as in test_igamma_gradients
    for ge, gt in zip(grads[ember], grads[torch]):
        np.testing.assert_allclose(ge, gt, rtol=rtol, atol=1e-30)
