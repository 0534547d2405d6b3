"""VonMises, Kumaraswamy, InverseGamma, GeneralizedPareto, Wishart and LKJCholesky against
torch.

Each check is a plain function ``fn(T, *params)`` run with ``T = ember`` and ``T = torch``
after the same ``manual_seed``: samples (torch's numbers, float32 and float64), ``log_prob``,
``entropy``, moments, ``cdf``/``icdf`` on batched parameters that broadcast, and the
gradients of all of them; then shapes, ``expand``, reprs, warnings and validation errors.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

# edge parameters give nan, as in torch (which warns nothing); NumPy warns on the way
pytestmark = [pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:Singular sample detected:UserWarning")]

RS = np.random.RandomState(11)
ANG = RS.uniform(-4.0, 4.0, (2, 3)).astype(np.float32)
KAPPA = np.array([0.05, 1.0, 4.0], np.float32)           # both Bessel branches
POS = RS.uniform(0.4, 3.0, (2, 3)).astype(np.float32)
POS_COL = RS.uniform(0.6, 4.0, (2, 1)).astype(np.float32)
BIG = RS.uniform(2.5, 6.0, (2, 3)).astype(np.float32)
U01 = RS.uniform(0.05, 0.95, (2, 3)).astype(np.float32)
LOC_COL = RS.randn(2, 1).astype(np.float32)
XI = np.array([0.3, 0.0, -0.4], np.float32)               # heavy tail, exponential, bounded
_A = RS.randn(2, 3, 3)
COV = (_A @ _A.transpose(0, 2, 1) + np.eye(3)).astype(np.float32)
DF = np.array([4.0, 5.5], np.float32)
ETA = np.array([0.5, 1.0, 3.0], np.float32)


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _run(T, fn, arrays, seed, grads, dtype):
    T.manual_seed(seed)
    dt = getattr(T, dtype)
    xs = [T.tensor(a, dtype=dt, requires_grad=grads) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = fn(T, *xs)
    res = [o.detach() for o in outs]
    if grads:
        total = 0
        for o in outs:
            if o.requires_grad:
                w = T.tensor(np.linspace(-1, 1, o.numel()), dtype=o.dtype).reshape(o.shape)
                total = total + T.where(T.isfinite(o), o * w, T.zeros_like(o)).sum()
        if not isinstance(total, int):
            total.backward()
        res += [x.grad if x.grad is not None else T.zeros(()) for x in xs]
    return res


def _same(fn, *arrays, rtol=2e-5, atol=1e-5, seed=0, grads=True, dtype="float32"):
    got = _run(ember, fn, arrays, seed, grads, dtype)
    want = _run(torch, fn, arrays, seed, grads, dtype)
    assert len(got) == len(want)
    for i, (e, t) in enumerate(zip(got, want)):
        assert tuple(e.shape) == tuple(t.shape), (i, e.shape, t.shape)
        assert str(e.dtype)[6:] == str(t.dtype)[6:], (i, e.dtype, t.dtype)
        np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=atol, err_msg=f"output {i}")


def _moments(d):
    return [d.mean, d.mode, d.variance]


# --- VonMises ------------------------------------------------------------------------------
def _von_mises(T, loc, kappa):
    d = T.distributions.VonMises(loc, kappa)
    x = d.sample((4,))
    return [x, d.log_prob(x), d.log_prob(loc + 0.3), d.mean, d.mode, d.variance, d.stddev]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_von_mises_matches(dtype):
    _same(_von_mises, ANG, KAPPA, dtype=dtype)


def test_von_mises_sampler_extremes_match():
    """Tiny concentrations take the Taylor branch of the proposal; large ones reject more."""
    def fn(T, loc, kappa):
        d = T.distributions.VonMises(loc, kappa)
        return [d.sample((50,)), d.expand((2, 4)).sample((3,))]
    _same(fn, np.array([0.0, 2.0, -3.0, 1.0], np.float32),
          np.array([1e-7, 1e-3, 60.0, 500.0], np.float32), seed=5, grads=False)


# --- Kumaraswamy, InverseGamma, GeneralizedPareto ---------------------------------------------
def _kumaraswamy(T, a, b):
    d = T.distributions.Kumaraswamy(a, b)
    x = d.rsample((3,))
    u = T.tensor(U01, dtype=a.dtype)
    return [x, d.log_prob(x), d.entropy(), d.cdf(x.detach()), d.icdf(u)] + _moments(d)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kumaraswamy_matches(dtype):
    _same(_kumaraswamy, POS, POS_COL, rtol=1e-4, atol=1e-5, dtype=dtype)


def test_kumaraswamy_mode_nan_below_one():
    _same(lambda T, a, b: [T.distributions.Kumaraswamy(a, b).mode],
          np.array([0.5, 2.0, 3.0], np.float32), np.array([2.0, 0.7, 4.0], np.float32))


def _inverse_gamma(T, alpha, rate):
    d = T.distributions.InverseGamma(alpha, rate)
    x = d.rsample((3,))
    # as in torch, the cdf has no derivative for the concentration
    cdf = T.distributions.InverseGamma(alpha.detach(), rate).cdf(x.detach())
    return [x, d.log_prob(x), d.entropy(), cdf] + _moments(d)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inverse_gamma_matches(dtype):
    alpha = np.concatenate([BIG[:, :2], POS[:, :1] * 0.5], 1)   # means and variances inf too
    _same(_inverse_gamma, alpha, POS_COL, rtol=1e-4, atol=1e-5, dtype=dtype)


def _generalized_pareto(T, loc, scale, xi):
    d = T.distributions.GeneralizedPareto(loc, scale, xi)
    x = d.rsample((3,))
    u = T.tensor(U01, dtype=loc.dtype)
    return [x, d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(u), d.log_cdf(x),
            d.log_survival_function(x)] + _moments(d)


def test_generalized_pareto_matches():
    _same(_generalized_pareto, LOC_COL, POS, XI, rtol=1e-4, atol=1e-5)


def test_generalized_pareto_float64_matches():
    """torch's ``log_prob``/``cdf`` raise for float64 ("Double did not match Float"); the rest
    is compared, and ember's float64 density against its float32 one."""
    def fn(T, loc, scale, xi):
        d = T.distributions.GeneralizedPareto(loc, scale, xi)
        u = T.tensor(U01, dtype=loc.dtype)
        return [d.rsample((3,)), d.entropy(), d.icdf(u)] + _moments(d)
    _same(fn, LOC_COL, POS, XI, rtol=1e-10, atol=1e-12, dtype="float64")
    args = [ember.tensor(a, dtype=ember.float64) for a in (LOC_COL, POS, XI)]
    d64 = ember.distributions.GeneralizedPareto(*args)
    d32 = ember.distributions.GeneralizedPareto(*[a.float() for a in args])
    x = d64.sample((5,))
    np.testing.assert_allclose(d64.log_prob(x).numpy(), d32.log_prob(x.float()).numpy(),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(d64.cdf(x).numpy(), d32.cdf(x.float()).numpy(), rtol=1e-4,
                               atol=1e-5)


def test_generalized_pareto_moments_nan_for_heavy_tails():
    _same(lambda T, loc, scale, xi: _moments(T.distributions.GeneralizedPareto(loc, scale, xi)),
          np.zeros(4, np.float32), np.ones(4, np.float32),
          np.array([1.5, 0.7, 0.2, -2.0], np.float32))


def test_generalized_pareto_support_matches():
    for xi in (0.5, -0.5):
        e = ember.distributions.GeneralizedPareto(ember.tensor([1.0]), ember.tensor([2.0]),
                                                  ember.tensor([xi]))
        t = torch.distributions.GeneralizedPareto(torch.tensor([1.0]), torch.tensor([2.0]),
                                                  torch.tensor([xi]))
        np.testing.assert_allclose(e.support.upper_bound.numpy(), t.support.upper_bound.numpy())
        v = np.array([0.5, 1.5, 4.0, 6.0], np.float32)
        np.testing.assert_array_equal(e.support.check(ember.tensor(v)).numpy(),
                                      t.support.check(torch.tensor(v)).numpy())


# --- Wishart -------------------------------------------------------------------------------
def _wishart_cov(T, df, cov):
    d = T.distributions.Wishart(df, covariance_matrix=cov)
    x = d.rsample()
    # torch cannot differentiate rsample((n,)) (its redraw mask changes in place), ember can
    y = d.sample((2,))
    return [x, d.log_prob(x.detach()), d.log_prob(y), d.entropy(), d.precision_matrix,
            d.scale_tril, y] + _moments(d)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_wishart_matches(dtype):
    _same(_wishart_cov, DF, COV, rtol=2e-4, atol=1e-4, dtype=dtype)


def test_wishart_precision_and_scale_tril_match():
    def fn(T, df, prec):
        d = T.distributions.Wishart(df, precision_matrix=prec)
        x = d.rsample()
        e = T.distributions.Wishart(3.5, scale_tril=d.scale_tril[0])
        y = e.sample((3,))
        return [x, d.log_prob(x.detach()), d.entropy(), d.covariance_matrix, y, e.log_prob(y)]
    _same(fn, DF[:, None], COV, rtol=2e-4, atol=1e-4, dtype="float64")


def test_wishart_broadcasts_df_against_matrix_batch():
    def fn(T, df, cov):
        d = T.distributions.Wishart(df, covariance_matrix=cov)
        x = d.sample()
        return [x, d.log_prob(x), d.entropy(), d.expand((4, 3, 2)).sample()]
    _same(fn, np.array([[3.0], [4.0], [6.0]], np.float32), COV, rtol=2e-4, atol=1e-4,
          grads=False)


def test_wishart_warns_as_torch():
    for T in (ember, torch):
        cov = T.eye(2)
        with pytest.warns(UserWarning, match="Low df values detected"):
            T.distributions.Wishart(T.tensor(1.5), covariance_matrix=cov)
        d = T.distributions.Wishart(T.tensor(3.0), covariance_matrix=cov)
        with pytest.warns(UserWarning, match="Singular sample detected"):
            d.sample()


# --- LKJCholesky ---------------------------------------------------------------------------
def _lkj(T, eta):
    d = T.distributions.LKJCholesky(4, eta)
    x = d.sample((2,))
    e = T.distributions.LKJCholesky(2, 0.7)
    y = e.sample((3,))
    return [x, d.log_prob(x), y, e.log_prob(y), d.expand((2, 3)).sample()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lkj_cholesky_matches(dtype):
    _same(_lkj, ETA, rtol=1e-4, atol=1e-5, dtype=dtype)


def test_lkj_cholesky_support_matches():
    for T in (ember, torch):
        T.manual_seed(1)
    x_e = ember.distributions.LKJCholesky(3, 2.0).sample((5,))
    x_t = torch.distributions.LKJCholesky(3, 2.0).sample((5,))
    bad = x_t.clone()
    bad[0, 2, 2] += 0.01
    bad[1, 0, 1] = 0.1
    s_e = ember.distributions.constraints.corr_cholesky
    s_t = torch.distributions.constraints.corr_cholesky
    np.testing.assert_array_equal(s_e.check(x_e).numpy(), s_t.check(x_t).numpy())
    np.testing.assert_array_equal(s_e.check(ember.tensor(bad.numpy())).numpy(),
                                  s_t.check(bad).numpy())


# --- kl: torch has no pair of its own for these; the generic ones apply -----------------------
def test_kl_through_generic_pairs_matches():
    def fn(T, df, cov, alpha):
        D = T.distributions
        p = D.Wishart(df, covariance_matrix=cov)                   # exponential family pair
        q = D.Wishart(df + 1.5, covariance_matrix=cov[[1, 0]])
        a = D.InverseGamma(alpha, T.tensor(1.5))                   # transformed pair
        b = D.InverseGamma(alpha.flip(-1), T.tensor(0.5))
        return [D.kl_divergence(p, q), D.kl_divergence(a, b)]
    _same(fn, DF, COV, BIG[0], rtol=1e-4, atol=1e-5, grads=False)
    for T in (ember, torch):
        D = T.distributions
        v = D.VonMises(T.tensor([0.0]), T.tensor([1.0]))
        with pytest.raises(NotImplementedError):
            D.kl_divergence(v, v)


# --- shapes, reprs, errors -------------------------------------------------------------------
def _makers(T):
    D = T.distributions
    return [D.VonMises(T.tensor([0.5, 1.0]), T.tensor(2.0)),
            D.Kumaraswamy(T.tensor([0.5, 1.0]), T.tensor(2.0)),
            D.InverseGamma(T.tensor([0.5, 1.0]), T.tensor(2.0)),
            D.GeneralizedPareto(T.tensor([0.5, 1.0]), T.tensor(2.0), T.tensor(0.1)),
            D.Wishart(T.tensor([3.0, 4.0]), covariance_matrix=T.eye(2)),
            D.LKJCholesky(3, T.tensor([0.5, 1.0]))]


def test_shapes_reprs_and_supports_match():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for e, t in zip(_makers(ember), _makers(torch)):
            name = type(t).__name__
            assert type(e).__name__ == name
            assert repr(e).replace("ember.", "torch.") == repr(t), name
            assert tuple(e.batch_shape) == tuple(t.batch_shape), name
            assert tuple(e.event_shape) == tuple(t.event_shape), name
            assert e.has_rsample == t.has_rsample, name
            assert sorted(e.arg_constraints) == sorted(t.arg_constraints), name
            if name != "GeneralizedPareto":  # its support depends on the parameters
                assert repr(e.support) == repr(t.support), name
            ex, tx = e.expand((3, 2)), t.expand((3, 2))
            assert tuple(ex.batch_shape) == tuple(tx.batch_shape) == (3, 2), name
            assert tuple(ex.sample((4,)).shape) == tuple(tx.sample((4,)).shape), name


ERROR_CASES = [
    lambda T: T.distributions.VonMises(T.tensor([0.0]), T.tensor([0.0])),
    lambda T: T.distributions.VonMises(T.tensor([0.0]), T.tensor([1.0])).log_prob([0.5]),
    lambda T: T.distributions.Kumaraswamy(T.tensor([-1.0]), T.tensor([1.0])),
    lambda T: T.distributions.Kumaraswamy(T.tensor([1.0]), T.tensor([1.0])).log_prob(
        T.tensor([1.5])),
    lambda T: T.distributions.InverseGamma(T.tensor([1.0]), T.tensor([0.0])),
    lambda T: T.distributions.InverseGamma(T.tensor([1.0]), T.tensor([1.0])).log_prob(
        T.tensor([-1.0])),
    lambda T: T.distributions.GeneralizedPareto(T.tensor([0.0]), T.tensor([-1.0]),
                                                T.tensor([0.1])),
    lambda T: T.distributions.GeneralizedPareto(T.tensor([0.0]), T.tensor([1.0]),
                                                T.tensor([-0.5])).log_prob(T.tensor([3.0])),
    lambda T: T.distributions.Wishart(T.tensor(3.0)),
    lambda T: T.distributions.Wishart(T.tensor(3.0), covariance_matrix=T.eye(2),
                                      scale_tril=T.eye(2)),
    lambda T: T.distributions.Wishart(T.tensor(3.0), covariance_matrix=T.ones(2)),
    lambda T: T.distributions.Wishart(T.tensor(0.5), covariance_matrix=T.eye(2)),
    lambda T: T.distributions.Wishart(2, covariance_matrix=T.eye(3)),
    lambda T: T.distributions.Wishart(T.tensor(3.0), covariance_matrix=-T.eye(2)),
    lambda T: T.distributions.Wishart(T.tensor(3.0), scale_tril=T.ones(2, 2)),
    lambda T: T.distributions.Wishart(T.tensor(3.0), covariance_matrix=T.eye(2)).log_prob(
        -T.eye(2)),
    lambda T: T.distributions.LKJCholesky(1, 1.0),
    lambda T: T.distributions.LKJCholesky(3, T.tensor([0.0])),
    lambda T: T.distributions.LKJCholesky(3, 1.0).log_prob(T.eye(3) * 2),
]


@pytest.mark.parametrize("i", range(len(ERROR_CASES)))
def test_errors_match_torch(i):
    with pytest.raises(Exception) as t_err:
        ERROR_CASES[i](torch)
    with pytest.raises(Exception) as e_err:
        ERROR_CASES[i](ember)
    assert type(e_err.value) is type(t_err.value)
    msg_e = str(e_err.value).replace("ember.", "torch.")
    msg_t = str(t_err.value)
    assert msg_e.split("\n")[0].split("(")[0] == msg_t.split("\n")[0].split("(")[0]
