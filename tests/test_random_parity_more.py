"""torch's numbers without torch: ``poisson`` and ``Poisson.sample`` (ATen's
``sample_poisson``), rrelu's training slopes (``rrelu_with_noise``), and the incomplete gamma
functions behind ``special.gammainc``/``gammaincc``, ``Gamma.cdf`` and ``Chi2.cdf``
(``calc_igamma``).

The fixed values below are torch 2.13's outputs (CPU, float32/float64), printed once and
copied here; ``tests/oracle/test_random_parity_more_oracle.py`` compares with torch live.
The rest checks properties and gradients (finite differences, float64).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck
from ember.distributions import Chi2, Gamma, Poisson

RATES = [0.0, 0.5, 3.0, 9.99, 10.0, 25.0, 1e4]
# torch.manual_seed(2024); torch.poisson(torch.tensor(RATES, dtype=d)); torch.rand(2, float64)
TORCH_POISSON = [0.0, 0.0, 4.0, 9.0, 14.0, 25.0, 9964.0]
TORCH_POISSON_RAND_AFTER = [0.9431483345377562, 0.6194139550814256]

RRELU_X = [[-1.5, 0.5, -0.25], [0.0, -3.0, 2.0]]
# torch.manual_seed(7); F.rrelu(torch.tensor(RRELU_X, dtype=d), training=True);
# then torch.rand(1, dtype=float64)
TORCH_RRELU = {
    "float32": [-0.27480638, 0.5, -0.045504883, 0.0, -0.7854303, 2.0],
    "float64": [-0.2748063843457512, 0.5, -0.04550488091936279, 0.0, -0.7854302691176258,
                2.0],
}
TORCH_RRELU_RAND_AFTER = 0.9225293674529872

# one point per path of calc_igamma: P's series, Q's series (1 < x <= 1.1), Q's fraction,
# Temme's expansion (20 < a < 200 and a > 200), the Lanczos prefix (a ~ x), a = 1
IG_A = [0.5, 2.0, 3.0, 25.0, 150.0, 1000.0, 1.0]
IG_X = [0.2, 1.05, 7.0, 24.0, 100.0, 1010.0, 0.75]
# torch.special.gammainc / gammaincc(torch.tensor(IG_A, dtype=d), torch.tensor(IG_X, dtype=d))
TORCH_GAMMAINC = {
    "float32": [0.47291067, 0.2826276, 0.97036386, 0.44599885, 1.8842287e-06, 0.62767917,
                0.52763337],
    "float64": [0.47291074313446185, 0.28262761432213157, 0.9703638361194782,
                0.4459987765587104, 1.8842104660386844e-06, 0.6276789446814572,
                0.5276334472589851],
}
TORCH_GAMMAINCC = {
    "float32": [0.52708936, 0.7173724, 0.029636158, 0.55400115, 0.9999981, 0.3723209,
                0.47236663],
    "float64": [0.5270892568655381, 0.7173723856778684, 0.029636163880521777,
                0.5540012234412895, 0.999998115789534, 0.37232105531854276,
                0.4723665527410149],
}
# torch.distributions.Gamma([2., 9.], [.5, 3.]).cdf([3., 2.5]) in float64;
# torch.distributions.Chi2([3., 40.]).cdf([2., 45.]) in float32
TORCH_GAMMA_CDF = [0.4421745996289252, 0.33803288085851696]
TORCH_CHI2_CDF = [0.42759326, 0.72945565]


def _exact(actual, expected, dtype):
    assert np.array_equal(np.asarray(actual), np.asarray(expected, dtype))


# --- poisson ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_poisson_draws_torchs_numbers_and_leaves_its_generator_state(dtype):
    ember.manual_seed(2024)
    out = ember.poisson(ember.tensor(RATES, dtype=getattr(ember, dtype)))
    assert out.dtype == getattr(ember, dtype)
    _exact(out.numpy(), TORCH_POISSON, dtype)
    _exact(ember.rand(2, dtype=ember.float64).numpy(), TORCH_POISSON_RAND_AFTER, np.float64)


def test_poisson_sample_is_torch_poisson_on_the_expanded_rate():
    rate = ember.tensor([[0.3], [12.0]])
    ember.manual_seed(5)
    sample = Poisson(rate).sample((3,))
    ember.manual_seed(5)
    direct = ember.poisson(rate.expand(3, 2, 1))
    assert sample.shape == (3, 2, 1) and not sample.requires_grad
    assert np.array_equal(sample.numpy(), direct.numpy())


def test_poisson_generator_argument_and_default_stream_are_separate():
    rates = ember.tensor([2.0, 40.0, 0.7])
    a = ember.poisson(rates, generator=ember.Generator().manual_seed(1))
    b = ember.poisson(rates, generator=ember.Generator().manual_seed(1))
    ember.manual_seed(1)
    c = ember.poisson(rates)
    assert np.array_equal(a.numpy(), b.numpy()) and np.array_equal(a.numpy(), c.numpy())


def test_poisson_moments_and_edges():
    ember.manual_seed(0)
    rates = np.repeat([0.0, 0.8, 6.0, 30.0], 4000)
    draws = ember.poisson(ember.tensor(rates, dtype=ember.float64)).numpy().reshape(4, -1)
    assert (draws[0] == 0).all() and (draws >= 0).all() and (draws == np.round(draws)).all()
    for lam, d in zip([0.8, 6.0, 30.0], draws[1:]):
        assert abs(d.mean() - lam) < 5 * math.sqrt(lam / d.size)
        assert abs(d.var() / lam - 1) < 0.1
    # an infinite rate draws C's (int64_t) of an overflowing float: INT64_MIN, as torch
    assert ember.poisson(ember.tensor([math.inf])).item() == -2.0 ** 63


@pytest.mark.parametrize("rate", [-1.0, math.nan])
def test_poisson_rejects_negative_and_nan_rates(rate):
    with pytest.raises(RuntimeError, match="invalid Poisson rate, expected rate to be "
                                           "non-negative"):
        ember.poisson(ember.tensor([1.0, rate]))


def test_poisson_integer_rates_and_gradient():
    with pytest.raises(NotImplementedError, match='"poisson_cpu" not implemented for \'Long\''):
        ember.poisson(ember.tensor([1, 2]))
    rate = ember.tensor([1.0, 20.0], requires_grad=True)
    out = ember.poisson(rate)
    assert type(out.grad_fn).__name__ == "PoissonBackward0"
    out.sum().backward()
    assert (rate.grad.numpy() == 0).all()


# --- rrelu -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rrelu_training_draws_torchs_slopes(dtype):
    ember.manual_seed(7)
    out = F.rrelu(ember.tensor(RRELU_X, dtype=getattr(ember, dtype)), training=True)
    _exact(out.numpy().ravel(), TORCH_RRELU[dtype], dtype)
    assert ember.rand(1, dtype=ember.float64).item() == TORCH_RRELU_RAND_AFTER


def test_rrelu_draws_one_uniform_per_non_positive_element_only():
    x = np.array([-1.0, 2.0, 0.0, math.nan, 3.0, -0.5])
    gen = ember.Generator().manual_seed(3)
    out = ember.rrelu(ember.tensor(x), 0.1, 0.6, training=True, generator=gen).numpy()
    ref = ember.Generator().manual_seed(3)
    u = ember.rand(3, dtype=ember.float64, generator=ref).numpy()  # 53-bit uniforms
    slopes = u * (0.6 - 0.1) + 0.1
    assert np.array_equal(out[[0, 2, 5]], x[[0, 2, 5]] * slopes)
    assert out[1] == 2.0 and out[4] == 3.0 and math.isnan(out[3])
    assert gen.get_state().numpy().tobytes() == ref.get_state().numpy().tobytes()


def test_rrelu_eval_inplace_and_node_names():
    x = ember.tensor([-2.0, 1.0], requires_grad=True)
    y = F.rrelu(x, 0.2, 0.4)
    assert np.allclose(y.detach().numpy(), [-0.6, 1.0])
    assert type(y.grad_fn).__name__ == "RreluWithNoiseBackward0"
    z = F.rrelu(x.clone(), training=True, inplace=True)
    assert type(z.grad_fn).__name__ == "RreluWithNoiseBackward1"
    with pytest.raises(NotImplementedError, match="rrelu_with_noise_out_cpu"):
        F.rrelu(ember.tensor([-1.0], dtype=ember.float16), training=True)
    with pytest.raises(RuntimeError, match="Lower bound should be less than"):
        ember.rrelu(x, 0.5, 0.1, training=True)


def test_rrelu_training_gradient_matches_finite_differences():
    x = np.random.default_rng(4).uniform(-2, 2, (3, 5))
    x = np.where(np.abs(x) < 0.05, 0.3, x)

    def fn(t):  # the same slopes on every call
        return ember.rrelu(t, 0.1, 0.5, training=True,
                           generator=ember.Generator().manual_seed(9))

    assert gradcheck(fn, (ember.tensor(x, requires_grad=True),))
    assert gradcheck(lambda t: F.rrelu(t, 0.1, 0.5), (ember.tensor(x, requires_grad=True),))


# --- incomplete gamma ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gammainc_and_gammaincc_are_torchs_numbers(dtype):
    d = getattr(ember, dtype)
    a, x = ember.tensor(IG_A, dtype=d), ember.tensor(IG_X, dtype=d)
    _exact(ember.special.gammainc(a, x).numpy(), TORCH_GAMMAINC[dtype], dtype)
    _exact(ember.special.gammaincc(a, x).numpy(), TORCH_GAMMAINCC[dtype], dtype)
    _exact(ember.igamma(a, x).numpy(), TORCH_GAMMAINC[dtype], dtype)


def test_gammainc_closed_forms_and_edges():
    x = np.linspace(0.05, 30, 50)
    one = ember.tensor(np.ones_like(x))
    p = ember.special.gammainc(one, ember.tensor(x)).numpy()  # P(1, x) = 1 - exp(-x)
    assert np.allclose(p, -np.expm1(-x), rtol=1e-13, atol=0)
    half = ember.special.gammainc(ember.tensor(np.full_like(x, 0.5)), ember.tensor(x)).numpy()
    assert np.allclose(half, [math.erf(math.sqrt(v)) for v in x], rtol=1e-13, atol=0)
    a = ember.tensor([0.0, 0.0, 2.0, -1.0, math.inf, 3.0, math.nan])
    v = ember.tensor([1.0, 0.0, 0.0, 1.0, 5.0, math.inf, 0.0])
    assert np.array_equal(ember.special.gammainc(a, v).numpy(),
                          [1.0, math.nan, 0.0, math.nan, 0.0, 1.0, 0.0], equal_nan=True)
    assert np.array_equal(ember.special.gammaincc(a, v).numpy(),
                          [0.0, math.nan, 1.0, math.nan, 1.0, 0.0, 1.0], equal_nan=True)


def test_gammainc_gradient_reaches_other_only():
    a = ember.tensor([0.7, 2.5, 30.0, 250.0], dtype=ember.float64)
    x = ember.tensor([0.4, 3.0, 28.0, 260.0], dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda v: ember.special.gammainc(a, v), (x,))
    assert gradcheck(lambda v: ember.special.gammaincc(a, v), (x,))
    assert type(ember.special.gammainc(a, x).grad_fn).__name__ == "IgammaBackward0"
    a.requires_grad_()
    for fn, name in ((ember.special.gammainc, "igamma"), (ember.special.gammaincc, "igammac")):
        with pytest.raises(NotImplementedError,
                           match=f"the derivative for '{name}: input' is not implemented."):
            fn(a, x).sum().backward()


def test_gammainc_argument_errors():
    with pytest.raises(TypeError, match="special_gammainc\\(\\): argument 'other' \\(position "
                                        "2\\) must be Tensor, not float"):
        ember.special.gammainc(ember.tensor([1.0]), 2.0)
    with pytest.raises(NotImplementedError, match='"igamma_cpu" not implemented for \'Long\''):
        ember.special.gammainc(ember.tensor([1]), ember.tensor([2]))


def test_gamma_and_chi2_cdf_are_torchs_numbers():
    g = Gamma(ember.tensor([2.0, 9.0], dtype=ember.float64),
              ember.tensor([0.5, 3.0], dtype=ember.float64))
    _exact(g.cdf(ember.tensor([3.0, 2.5], dtype=ember.float64)).numpy(), TORCH_GAMMA_CDF,
           np.float64)
    _exact(Chi2(ember.tensor([3.0, 40.0])).cdf(ember.tensor([2.0, 45.0])).numpy(),
           TORCH_CHI2_CDF, np.float32)
    x = np.linspace(0.1, 12, 30)  # Chi2(2) is Exponential(1/2)
    cdf = Chi2(ember.tensor(2.0, dtype=ember.float64)).cdf(ember.tensor(x)).numpy()
    assert np.allclose(cdf, -np.expm1(-x / 2), rtol=1e-13) and (np.diff(cdf) > 0).all()


def test_gamma_cdf_gradient_and_validation():
    rate = ember.tensor([0.5, 2.0], dtype=ember.float64, requires_grad=True)
    value = ember.tensor([1.5, 0.8], dtype=ember.float64, requires_grad=True)
    conc = ember.tensor([2.0, 3.5], dtype=ember.float64)
    assert gradcheck(lambda r, v: Gamma(conc, r).cdf(v), (rate, value))
    with pytest.raises(NotImplementedError, match="'igamma: input'"):
        Gamma(conc.requires_grad_(), rate).cdf(value).sum().backward()
    with pytest.raises(ValueError, match="Expected value argument"):
        Gamma(conc.detach(), rate, validate_args=True).cdf(ember.tensor([-1.0, 1.0]))
