"""Multinomial, Geometric, NegativeBinomial, Cauchy, HalfNormal, HalfCauchy, StudentT, Chi2,
Gumbel, Pareto, Weibull, ContinuousBernoulli, MixtureSameFamily and LowRankMultivariateNormal,
without torch.

Densities, CDFs and entropies against closed forms written here (``math.lgamma``); pmfs
summing to one; sample moments on large draws against the ``mean``/``variance`` properties
(a few standard errors); ``icdf`` inverting ``cdf``; LowRankMultivariateNormal against the
MultivariateNormal of the same covariance; KL divergences against Monte Carlo estimates;
gradients of densities, entropies, KLs and reparameterised samples by finite differences.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.distributions import (
    Categorical,
    Cauchy,
    Chi2,
    ContinuousBernoulli,
    Gamma,
    Geometric,
    Gumbel,
    HalfCauchy,
    HalfNormal,
    Independent,
    LowRankMultivariateNormal,
    MixtureSameFamily,
    Multinomial,
    MultivariateNormal,
    NegativeBinomial,
    Normal,
    Pareto,
    StudentT,
    Weibull,
    kl_divergence,
)

# edge parameters give nan, as in torch (which warns nothing); NumPy warns on the way
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

EULER = 0.57721566490153286060
X = np.array([0.3, 1.2, 2.5, 4.0])


def t64(a, grad=False):
    return ember.tensor(np.asarray(a, np.float64), requires_grad=grad)


def close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(a.detach().numpy() if hasattr(a, "detach") else a),
                               b, rtol=rtol, atol=atol)


# --- closed forms ----------------------------------------------------------------------------
def test_cauchy_and_half_cauchy_closed_forms():
    d = Cauchy(t64(0.5), t64(2.0))
    z = (X - 0.5) / 2.0
    close(d.log_prob(t64(X)), -np.log(math.pi * 2.0 * (1 + z ** 2)))
    close(d.cdf(t64(X)), np.arctan(z) / math.pi + 0.5)
    close(d.entropy(), math.log(4 * math.pi * 2.0))
    close(d.icdf(d.cdf(t64(X))), X, rtol=1e-9)
    assert math.isnan(float(d.mean)) and math.isinf(float(d.variance))
    h = HalfCauchy(t64(2.0))
    close(h.log_prob(t64(X)), np.log(2 / (math.pi * 2.0 * (1 + (X / 2) ** 2))))
    close(h.cdf(t64(X)), 2 / math.pi * np.arctan(X / 2))
    close(h.icdf(h.cdf(t64(X))), X, rtol=1e-9)
    assert float(HalfCauchy(t64(2.0), validate_args=False).log_prob(t64(-1.0))) == -math.inf


def test_half_normal_closed_forms():
    s = 1.7
    d = HalfNormal(t64(s))
    close(d.log_prob(t64(X)), 0.5 * math.log(2 / math.pi) - math.log(s) - X ** 2 / (2 * s * s))
    close(d.cdf(t64(X)), np.array([math.erf(x / (s * math.sqrt(2))) for x in X]))
    close(d.entropy(), 0.5 * math.log(math.pi * s * s / 2) + 0.5)
    close(d.icdf(d.cdf(t64(X))), X, rtol=1e-8)
    close(d.mean, s * math.sqrt(2 / math.pi))
    close(d.variance, s * s * (1 - 2 / math.pi))


def test_student_t_and_chi2_closed_forms():
    df, loc, sc = 4.5, 0.3, 1.4
    d = StudentT(t64(df), t64(loc), t64(sc))
    y = (X - loc) / sc
    want = (math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
            - math.log(sc) - (df + 1) / 2 * np.log1p(y * y / df))
    close(d.log_prob(t64(X)), want)
    close(d.variance, sc * sc * df / (df - 2))
    v = StudentT(t64([0.5, 1.5, 3.0])).variance.numpy()
    assert math.isnan(v[0]) and math.isinf(v[1]) and v[2] == pytest.approx(3.0)
    assert math.isnan(StudentT(t64([0.8])).mean.numpy()[0])
    # Cauchy is StudentT(1)
    close(StudentT(t64(1.0), t64(loc), t64(sc)).entropy(), Cauchy(t64(loc), t64(sc)).entropy())
    c = Chi2(t64(3.0))
    close(c.log_prob(t64(X)), Gamma(t64(1.5), t64(0.5)).log_prob(t64(X)).numpy())
    close(c.df, 3.0)
    assert float(c.mean) == 3.0 and float(c.variance) == 6.0


def test_gumbel_pareto_weibull_closed_forms():
    loc, sc = 0.4, 1.3
    g = Gumbel(t64(loc), t64(sc))
    z = (X - loc) / sc
    close(g.log_prob(t64(X)), -math.log(sc) - z - np.exp(-z))
    close(g.cdf(t64(X)), np.exp(-np.exp(-z)), rtol=1e-9)
    close(g.icdf(g.cdf(t64(X))), X, rtol=1e-8)
    close(g.entropy(), math.log(sc) + EULER + 1)
    xm, a = 0.25, 2.5
    p = Pareto(t64(xm), t64(a))
    close(p.log_prob(t64(X)), math.log(a) + a * math.log(xm) - (a + 1) * np.log(X))
    close(p.cdf(t64(X)), 1 - (xm / X) ** a, rtol=1e-9)
    close(p.mean, a * xm / (a - 1))
    assert math.isinf(float(Pareto(t64(1.0), t64(0.5)).mean))
    lam, k = 1.5, 1.8
    w = Weibull(t64(lam), t64(k))
    close(w.log_prob(t64(X)), math.log(k / lam) + (k - 1) * np.log(X / lam) - (X / lam) ** k,
          rtol=1e-9)
    close(w.cdf(t64(X)), 1 - np.exp(-(X / lam) ** k), rtol=1e-9)
    close(w.mean, lam * math.gamma(1 + 1 / k), rtol=1e-12)
    close(w.variance, lam ** 2 * (math.gamma(1 + 2 / k) - math.gamma(1 + 1 / k) ** 2),
          rtol=1e-10)
    close(w.mode, lam * ((k - 1) / k) ** (1 / k))


@pytest.mark.parametrize("p", [0.1, 0.4995, 0.5, 0.8])
def test_continuous_bernoulli_by_quadrature(p):
    d = ContinuousBernoulli(t64(p))
    n = 20001
    xs = np.linspace(0, 1, n)
    dens = d.log_prob(t64(xs)).exp().numpy()
    wts = np.full(n, 1.0 / (n - 1))
    wts[[0, -1]] /= 2
    assert (wts * dens).sum() == pytest.approx(1.0, abs=1e-7)
    mean = (wts * dens * xs).sum()
    assert float(d.mean) == pytest.approx(mean, abs=1e-6)
    assert float(d.variance) == pytest.approx((wts * dens * (xs - mean) ** 2).sum(), abs=1e-6)
    assert float(d.entropy()) == pytest.approx(-(wts * dens * np.log(dens)).sum(), abs=1e-6)
    x = t64([0.1, 0.35, 0.9])
    close(d.icdf(d.cdf(x)), x.numpy(), rtol=1e-6)
    cdf = np.cumsum(wts * dens)[[2000, 7000, 18000]] - (wts * dens)[[2000, 7000, 18000]] / 2
    close(d.cdf(x), cdf, rtol=0, atol=1e-3)  # near p = 1/2 torch's cdf is the uniform one


def test_discrete_pmfs_sum_to_one():
    ks = t64(np.arange(400.0))
    for d in (Geometric(t64(0.2)), Geometric(logits=t64(0.7)),
              NegativeBinomial(t64(3.5), t64(0.6)), NegativeBinomial(t64(2.0), logits=t64(-0.4))):
        lp = d.log_prob(ks)
        assert float(lp.exp().sum()) == pytest.approx(1.0, abs=1e-9)
        mean = float((lp.exp() * ks).sum())
        assert mean == pytest.approx(float(d.mean), rel=1e-8)
        var = float((lp.exp() * (ks - mean) ** 2).sum())
        assert var == pytest.approx(float(d.variance), rel=1e-7)
        if isinstance(d, Geometric):
            ent = -float((lp.exp() * lp).sum())
            assert ent == pytest.approx(float(d.entropy()), rel=1e-8)
    p = 0.3
    close(Geometric(t64(p)).log_prob(t64([0.0, 3.0])), [math.log(p), 3 * math.log(1 - p)
                                                         + math.log(p)])
    close(NegativeBinomial(t64(0.0), t64(0.5)).log_prob(t64(0.0)), 0.0)


def test_multinomial_closed_forms():
    probs = np.array([0.2, 0.5, 0.3])
    d = Multinomial(6, t64(probs))
    x = np.array([1.0, 3.0, 2.0])
    want = (math.lgamma(7) - sum(math.lgamma(v + 1) for v in x) + (x * np.log(probs)).sum())
    close(d.log_prob(t64(x)), want)
    # entropy by enumerating every count vector
    vals = [(i, j, 6 - i - j) for i in range(7) for j in range(7 - i)]
    lp = d.log_prob(t64(vals)).numpy()
    assert np.exp(lp).sum() == pytest.approx(1.0, abs=1e-12)
    close(d.entropy(), -(np.exp(lp) * lp).sum(), rtol=1e-9)
    close(d.mean, 6 * probs)
    close(d.variance, 6 * probs * (1 - probs))
    ember.manual_seed(0)
    s = Multinomial(9, t64(np.full((2, 4), 0.25))).sample((5,))
    assert tuple(s.shape) == (5, 2, 4) and (s.sum(-1).numpy() == 9).all()


def test_mixture_closed_forms():
    w = np.array([0.3, 0.7])
    loc, sc = np.array([-1.0, 2.0]), np.array([0.5, 1.5])
    d = MixtureSameFamily(Categorical(t64(w)), Normal(t64(loc), t64(sc)))
    dens = sum(w[i] * np.exp(-(X - loc[i]) ** 2 / (2 * sc[i] ** 2)) / (sc[i] * math.sqrt(
        2 * math.pi)) for i in range(2))
    close(d.log_prob(t64(X)), np.log(dens), rtol=1e-9)
    close(d.mean, (w * loc).sum())
    close(d.variance, (w * (sc ** 2 + loc ** 2)).sum() - (w * loc).sum() ** 2, rtol=1e-10)
    cdf = sum(w[i] * 0.5 * (1 + np.array([math.erf(v) for v in (X - loc[i]) / (
        sc[i] * math.sqrt(2))])) for i in range(2))
    close(d.cdf(t64(X)), cdf, rtol=1e-9)
    mv = MixtureSameFamily(Categorical(t64(w)), Independent(
        Normal(t64([[0.0, 1.0], [2.0, 3.0]]), t64([[1.0, 1.0], [0.5, 0.5]])), 1))
    assert tuple(mv.event_shape) == (2,) and tuple(mv.sample((3,)).shape) == (3, 2)


def test_lowrank_matches_full_mvn():
    rs = np.random.RandomState(1)
    loc, W, D = rs.randn(2, 4), rs.randn(2, 4, 2), rs.uniform(0.5, 2, (2, 4))
    lr = LowRankMultivariateNormal(t64(loc), t64(W), t64(D))
    cov = W @ W.transpose(0, 2, 1) + np.stack([np.diag(d) for d in D])
    full = MultivariateNormal(t64(loc), covariance_matrix=t64(cov))
    x = t64(rs.randn(3, 2, 4))
    close(lr.log_prob(x), full.log_prob(x).numpy(), rtol=1e-9)
    close(lr.entropy(), full.entropy().numpy(), rtol=1e-10)
    close(lr.covariance_matrix, cov, rtol=1e-12)
    close(lr.precision_matrix, np.linalg.inv(cov), rtol=1e-8, atol=1e-10)
    close(lr.scale_tril, np.linalg.cholesky(cov), rtol=1e-9, atol=1e-12)
    close(lr.variance, np.diagonal(cov, axis1=-2, axis2=-1))
    q = LowRankMultivariateNormal(t64(loc[::-1].copy()), t64(W * 0.5), t64(D + 0.2))
    qcov = q.covariance_matrix.numpy()
    fq = MultivariateNormal(q.loc, covariance_matrix=t64(qcov))
    want = kl_divergence(full, fq).numpy()
    close(kl_divergence(lr, q), want, rtol=1e-8)
    close(kl_divergence(full, q), want, rtol=1e-8)
    close(kl_divergence(lr, fq), want, rtol=1e-8)


# --- sampling --------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: HalfNormal(t64([0.7, 2.0])), lambda: StudentT(t64([5.0, 9.0]), t64(0.5), t64(2.0)),
    lambda: Chi2(t64([1.5, 4.0])), lambda: Gumbel(t64([0.5, -1.0]), t64([1.0, 2.0])),
    lambda: Pareto(t64([1.0, 0.5]), t64([5.0, 6.0])), lambda: Weibull(t64([1.0, 2.0]),
                                                                    t64([0.8, 3.0])),
    lambda: Geometric(t64([0.3, 0.7])), lambda: NegativeBinomial(t64([2.5, 10.0]),
                                                                 t64([0.4, 0.8])),
    lambda: Multinomial(5, t64([0.1, 0.6, 0.3])),
    lambda: MixtureSameFamily(Categorical(t64([0.3, 0.7])), Normal(t64([-1.0, 2.0]),
                                                                   t64([0.5, 1.0]))),
    lambda: LowRankMultivariateNormal(t64([0.0, 1.0]), t64([[1.0], [0.5]]), t64([0.5, 1.0])),
], ids=["half_normal", "student_t", "chi2", "gumbel", "pareto", "weibull", "geometric",
        "negbin", "multinomial", "mixture", "lowrank"])
def test_sample_moments(make):
    ember.manual_seed(3)
    d = make()
    n = 40000
    s = d.sample((n,)).numpy()
    assert s.shape == (n,) + tuple(d.batch_shape) + tuple(d.event_shape)
    mean, var = d.mean.detach().numpy(), d.variance.detach().numpy()
    se = np.sqrt(var / n)
    assert (np.abs(s.mean(0) - mean) < 5 * se + 1e-12).all(), (s.mean(0), mean)
    assert (np.abs(s.var(0) / var - 1) < 0.12).all(), (s.var(0), var)


# --- KL: zero at p == q, Monte Carlo otherwise ------------------------------------------------
KL_PAIRS = [
    (lambda: Cauchy(t64(0.3), t64(1.2)), lambda: Cauchy(t64(-0.5), t64(2.0))),
    (lambda: Geometric(t64(0.3)), lambda: Geometric(t64(0.6))),
    (lambda: Gumbel(t64(0.3), t64(1.2)), lambda: Gumbel(t64(-0.5), t64(2.0))),
    (lambda: HalfNormal(t64(1.2)), lambda: HalfNormal(t64(2.0))),
    (lambda: Pareto(t64(1.2), t64(3.0)), lambda: Pareto(t64(1.0), t64(2.0))),
    (lambda: Pareto(t64(1.2), t64(3.0)), lambda: Normal(t64(1.0), t64(2.0))),
    (lambda: Gumbel(t64(0.3), t64(1.2)), lambda: Normal(t64(1.0), t64(2.0))),
    (lambda: Normal(t64(1.0), t64(0.7)), lambda: Gumbel(t64(0.3), t64(1.2))),
    (lambda: ContinuousBernoulli(t64(0.2)), lambda: ContinuousBernoulli(t64(0.7))),
    (lambda: ContinuousBernoulli(t64(0.2)), lambda: Normal(t64(0.3), t64(1.2))),
]


@pytest.mark.parametrize("i", range(len(KL_PAIRS)))
def test_kl_monte_carlo(i):
    make_p, make_q = KL_PAIRS[i]
    p, q = make_p(), make_q()
    assert abs(float(kl_divergence(p, make_p()))) < 1e-12
    ember.manual_seed(5)
    x = p.sample((200000,))
    diff = (p.log_prob(x) - q.log_prob(x)).numpy()
    est, se = diff.mean(), diff.std() / math.sqrt(len(diff))
    assert abs(float(kl_divergence(p, q)) - est) < 5 * se + 1e-3


def test_kl_infinite_supports():
    assert math.isinf(float(kl_divergence(Normal(t64(0.0), t64(1.0)), Pareto(t64(1.0),
                                                                            t64(2.0)))))
    assert math.isinf(float(kl_divergence(Pareto(t64(0.5), t64(2.0)), Pareto(t64(1.0),
                                                                            t64(2.0)))))


# --- gradients -------------------------------------------------------------------------------
GRAD_CASES = {
    "cauchy": (lambda a, b: Cauchy(a, b).log_prob(t64(X)).sum() + Cauchy(a, b).entropy()),
    "half_cauchy": (lambda a, b: HalfCauchy(b).log_prob(t64(X)).sum()),
    "half_normal": (lambda a, b: HalfNormal(b).log_prob(t64(X)).sum()
                    + HalfNormal(b).cdf(t64(X)).sum()),
    "student_t": (lambda a, b: StudentT(b + 2, a, b).log_prob(t64(X)).sum()
                  + StudentT(b + 2, a, b).entropy()),
    "gumbel": (lambda a, b: Gumbel(a, b).log_prob(t64(X)).sum() + Gumbel(a, b).cdf(t64(X))
               .sum()),
    "pareto": (lambda a, b: Pareto(b * 0.1, b + 1).log_prob(t64(X)).sum()
               + Pareto(b * 0.1, b + 1).entropy()),
    "weibull": (lambda a, b: Weibull(b, b + 0.5).log_prob(t64(X)).sum()
                + Weibull(b, b + 0.5).entropy() + Weibull(b, b + 0.5).mean),
    "geometric": (lambda a, b: Geometric(logits=a).log_prob(t64([0.0, 2.0, 5.0])).sum()
                  + Geometric(logits=a).entropy()),
    "negbin": (lambda a, b: NegativeBinomial(b, logits=a).log_prob(t64([0.0, 2.0, 5.0])).sum()),
    "multinomial": (lambda a, b: Multinomial(3, logits=ember.stack([a, b, a * b]))
                    .log_prob(t64([1.0, 2.0, 0.0]))),
    "mixture": (lambda a, b: MixtureSameFamily(Categorical(logits=ember.stack([a, b])),
                                               Normal(ember.stack([a, -b]), ember.stack(
                                                   [b, b + 1]))).log_prob(t64(X)).sum()),
    "cont_bern": (lambda a, b: ContinuousBernoulli(logits=a).log_prob(t64([0.2, 0.9])).sum()
                  + ContinuousBernoulli(logits=a).entropy() + ContinuousBernoulli(logits=b).mean),
    "kl_cont_bern": (lambda a, b: kl_divergence(ContinuousBernoulli(logits=a),
                                                ContinuousBernoulli(logits=b))),
    "kl_gumbel": (lambda a, b: kl_divergence(Gumbel(a, b), Gumbel(b, a * a + 0.5))),
    "kl_pareto": (lambda a, b: kl_divergence(Pareto(b * 0.1, b + 2), Pareto(b * 0.05, b))),
    "lowrank": (lambda a, b: LowRankMultivariateNormal(
        ember.stack([a, b]), ember.stack([a, b]).unsqueeze(-1), ember.stack([b, b + 1]))
        .log_prob(t64([0.3, -0.2]))),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients(name):
    assert gradcheck(GRAD_CASES[name], (t64(0.4, True), t64(1.3, True)))


@pytest.mark.parametrize("make", [
    lambda a, b: Cauchy(a, b), lambda a, b: HalfNormal(b), lambda a, b: Gumbel(a, b),
    lambda a, b: Pareto(b, b + 1), lambda a, b: Weibull(b, b + 0.5),
    lambda a, b: StudentT(3.0, a, b), lambda a, b: ContinuousBernoulli(logits=a),
    lambda a, b: LowRankMultivariateNormal(ember.stack([a, b]),
                                           ember.stack([a, b]).unsqueeze(-1),
                                           ember.stack([b, b + 1])),
], ids=["cauchy", "half_normal", "gumbel", "pareto", "weibull", "student_t", "cont_bern",
                              "lowrank"])
def test_rsample_gradients(make):
    def fn(a, b):
        ember.manual_seed(11)
        return make(a, b).rsample((3,))
    # (StudentT's df is fixed: its gradient goes through torch's approximate implicit gamma
    # gradient, which finite differences only match to a few percent)
    assert gradcheck(fn, (t64(0.4, True), t64(1.3, True)))


def test_validation_and_shapes():
    with pytest.raises(ValueError, match="to be positive"):
        Geometric(t64([0.0]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        NegativeBinomial(t64(2.0))
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        Multinomial(t64(3.0), t64([0.5, 0.5]))
    with pytest.raises(ValueError, match="cov_factor must be a batch"):
        LowRankMultivariateNormal(t64([0.0, 0.0]), t64([[1.0]]), t64([1.0, 1.0]))
    with pytest.raises(ValueError, match="does not equal"):
        MixtureSameFamily(Categorical(t64([0.5, 0.5])), Normal(t64([0.0, 1.0, 2.0]), 1.0))
    with pytest.raises(ValueError, match="support"):
        Pareto(t64(2.0), t64(1.0)).log_prob(t64(1.0))
    for d in (Cauchy(t64([0.0, 1.0]), 1.0), HalfCauchy(t64([1.0, 2.0])),
              StudentT(t64([3.0, 4.0])), Weibull(t64([1.0, 2.0]), 2.0),
              NegativeBinomial(3.0, t64([0.2, 0.4]))):
        e = d.expand((3, 2))
        assert tuple(e.batch_shape) == (3, 2) and tuple(e.sample((4,)).shape) == (4, 3, 2)
    e = LowRankMultivariateNormal(t64([0.0, 0.0]), t64([[1.0], [0.5]]), t64([1.0, 1.0]))
    assert tuple(e.expand((5,)).rsample((2,)).shape) == (2, 5, 2)
