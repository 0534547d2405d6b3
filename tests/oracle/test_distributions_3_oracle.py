"""Multinomial, Geometric, NegativeBinomial, Cauchy, HalfNormal, HalfCauchy, StudentT, Chi2,
Gumbel, Pareto, Weibull, ContinuousBernoulli, MixtureSameFamily and LowRankMultivariateNormal
against torch.

Each check is a plain function ``fn(T, *params)`` run with ``T = ember`` and ``T = torch``
after the same ``manual_seed``: samples (torch's numbers), ``log_prob``, ``entropy``, moments,
``cdf``/``icdf``, ``kl_divergence`` and the gradients of all of them; then shapes,
``expand`` and validation errors.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

# edge parameters give nan, as in torch (which warns nothing); NumPy warns on the way
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

RS = np.random.RandomState(7)
LOC = RS.randn(3, 2).astype(np.float32)
POS = RS.uniform(0.4, 3.0, (3, 2)).astype(np.float32)
POS2 = RS.uniform(0.4, 3.0, (3, 2)).astype(np.float32)
BIG = RS.uniform(2.5, 6.0, (3, 2)).astype(np.float32)
P01 = RS.uniform(0.1, 0.9, (3, 2)).astype(np.float32)
PROBS = RS.uniform(0.1, 1.0, (2, 4)).astype(np.float32)
U01 = RS.uniform(0.05, 0.95, (3, 2)).astype(np.float32)
MLOC = RS.randn(2, 3).astype(np.float32)
WF = RS.randn(2, 3, 2).astype(np.float32)
DG = RS.uniform(0.5, 2.0, (2, 3)).astype(np.float32)
COV = (lambda a: (a @ a.T + np.eye(3)).astype(np.float32))(RS.randn(3, 3))


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _run(T, fn, arrays, seed, grads):
    T.manual_seed(seed)
    xs = [T.tensor(a, requires_grad=grads) for a in arrays]
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


def _same(fn, *arrays, rtol=2e-5, atol=1e-5, seed=0, grads=True):
    got = _run(ember, fn, arrays, seed, grads)
    want = _run(torch, fn, arrays, seed, grads)
    assert len(got) == len(want)
    for i, (e, t) in enumerate(zip(got, want)):
        assert tuple(e.shape) == tuple(t.shape), (i, e.shape, t.shape)
        assert str(e.dtype)[6:] == str(t.dtype)[6:], (i, e.dtype, t.dtype)
        np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=atol, err_msg=f"output {i}")


def _moments(d, *names):
    return [getattr(d, n) for n in names]


# --- continuous, reparameterised -----------------------------------------------------------------
def _cauchy(T, loc, scale):
    d = T.distributions.Cauchy(loc, scale)
    x = d.rsample((4,))
    u = T.tensor(U01, dtype=loc.dtype)
    return [x, d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(u), d.mode, d.mean, d.variance]


def _half_normal(T, scale):
    d = T.distributions.HalfNormal(scale)
    x = d.rsample((4,))
    u = T.tensor(U01)
    return [x, d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(u),
            *_moments(d, "mean", "mode", "variance", "stddev")]


def _half_cauchy(T, scale):
    d = T.distributions.HalfCauchy(scale)
    x = d.rsample((4,))
    u = T.tensor(U01)
    return [x, d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(u), d.mode, d.mean, d.variance]


def _student_t(T, df, loc, scale):
    d = T.distributions.StudentT(df, loc, scale)
    x = d.rsample((3,))
    return [x, d.log_prob(x), d.entropy(), d.mean, d.mode, d.variance]


def _chi2(T, df):
    d = T.distributions.Chi2(df)
    x = d.rsample((3,))
    return [x, d.log_prob(x), d.entropy(), d.mean, d.mode, d.variance, d.df]


def _gumbel(T, loc, scale):
    d = T.distributions.Gumbel(loc, scale)
    x = d.rsample((4,))
    return [x, d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(T.tensor(U01)),
            *_moments(d, "mean", "mode", "variance", "stddev")]


def _pareto(T, scale, alpha):
    d = T.distributions.Pareto(scale, alpha)
    x = d.rsample((4,))
    return [x, d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(T.tensor(U01)),
            *_moments(d, "mean", "mode", "variance")]


def _weibull(T, scale, conc):
    d = T.distributions.Weibull(scale, conc)
    x = d.rsample((4,))
    return [x, d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(T.tensor(U01)),
            *_moments(d, "mean", "mode", "variance")]


def _cont_bern(T, p):
    d = T.distributions.ContinuousBernoulli(p)
    x = d.rsample((3,))
    e = T.distributions.ContinuousBernoulli(logits=p - 0.5)
    return [x, d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(T.tensor(U01[:, :1])),
            d.mean, d.variance, e.log_prob(x), e.entropy(), e.mean]


def _lowrank(T, loc, w, dg):
    d = T.distributions.LowRankMultivariateNormal(loc, w, dg)
    x = d.rsample((3,))
    return [x, d.log_prob(x), d.entropy(), d.mean, d.variance, d.covariance_matrix,
            d.precision_matrix, d.scale_tril]


@pytest.mark.parametrize("fn,arrays", [
    (_cauchy, (LOC, POS)), (_half_normal, (POS,)), (_half_cauchy, (POS,)),
    (_student_t, (BIG, LOC, POS)), (_student_t, (np.float32([0.7, 1.5, 3.0]), LOC[0, :1],
                                                 POS[0, :1])),
    (_chi2, (POS,)), (_gumbel, (LOC, POS)), (_pareto, (POS, BIG)),
    (_weibull, (POS, POS2)), (_lowrank, (MLOC, WF, DG)),
    (_cont_bern, (np.float32([0.05, 0.4995, 0.5, 0.7, 0.97]),))],
    ids=["cauchy", "half_normal", "half_cauchy", "student_t", "student_t_heavy", "chi2",
         "gumbel", "pareto", "weibull", "lowrank_mvn", "continuous_bernoulli"])
def test_reparameterised(fn, arrays):
    _same(fn, *arrays, rtol=1e-4, atol=1e-4)


def test_pareto_heavy_tails_values():
    # alpha < 1: inf mean and variance. Values only: ember's clamp backward lets the nan of
    # 0 * inf through where torch's masks it to 0.
    _same(_pareto, POS, P01, rtol=1e-4, atol=1e-4, grads=False)


def test_float64_and_scalar_params():
    _same(_cauchy, LOC.astype(np.float64), POS.astype(np.float64), rtol=1e-10, atol=1e-10)
    _same(_weibull, POS.astype(np.float64), POS2.astype(np.float64), rtol=1e-9, atol=1e-9)
    _same(lambda T: [T.distributions.Gumbel(0.5, 2.0).sample((5,)),
                     T.distributions.Cauchy(0.0, 1.0).sample((3,)),
                     T.distributions.StudentT(3.0).sample((3,))], grads=False)


# --- discrete --------------------------------------------------------------------------------
def _geometric(T, p):
    d = T.distributions.Geometric(p)
    x = d.sample((5,))
    return [x, d.log_prob(x), d.entropy(), d.mean, d.mode, d.variance]


def _geometric_logits(T, logits):
    d = T.distributions.Geometric(logits=logits)
    x = d.sample((5,))
    return [x, d.log_prob(x), d.entropy(), d.mean, d.variance, d.probs]


def _negbin(T, n, p):
    d = T.distributions.NegativeBinomial(n, p)
    x = d.sample((4,))
    return [x, d.log_prob(x), d.mean, d.mode, d.variance, d.logits]


def _negbin_logits(T, n, logits):
    d = T.distributions.NegativeBinomial(n, logits=logits)
    x = d.sample((4,))
    return [x, d.log_prob(x), d.mean, d.variance, d.probs]


def _multinomial(T, probs):
    d = T.distributions.Multinomial(7, probs)
    x = d.sample((3,))
    return [x, d.log_prob(x), d.entropy(), d.mean, d.variance, d.probs, d.logits]


def _multinomial_logits(T, logits):
    d = T.distributions.Multinomial(5, logits=logits)
    x = d.sample()
    return [x, d.log_prob(x), d.entropy(), d.mean]


@pytest.mark.parametrize("fn,arrays", [
    (_geometric, (P01,)), (_geometric_logits, (LOC,)), (_negbin, (BIG, P01)),
    (_negbin, (np.float32([0.0, 2.0, 30.0]), np.float32([0.5, 0.9, 0.2]))),
    (_negbin_logits, (POS, LOC)), (_multinomial, (PROBS,)),
    (_multinomial_logits, (LOC,))],
    ids=["geometric", "geometric_logits", "negbin", "negbin_edge", "negbin_logits",
         "multinomial", "multinomial_logits"])
def test_discrete(fn, arrays):
    _same(fn, *arrays, rtol=1e-4, atol=1e-4)


def test_multinomial_log_prob_of_zero_prob_category():
    def fn(T, p):
        d = T.distributions.Multinomial(5, probs=p)
        return [d.log_prob(T.tensor([2.0, 0.0, 3.0]))]
    _same(fn, np.float32([0.5, 0.0, 0.5]))


# --- mixtures --------------------------------------------------------------------------------
def _mixture_normal(T, w, loc, scale):
    d = T.distributions.MixtureSameFamily(T.distributions.Categorical(w),
                                          T.distributions.Normal(loc, scale))
    x = d.sample((4,))
    return [x, d.log_prob(x), d.cdf(x), d.mean, d.variance]


def _mixture_mvn(T, w, loc, dg):
    comp = T.distributions.Independent(T.distributions.Normal(loc, dg), 1)
    d = T.distributions.MixtureSameFamily(T.distributions.Categorical(logits=w), comp)
    x = d.sample((2,))
    return [x, d.log_prob(x), d.mean, d.variance]


def test_mixture_same_family():
    _same(_mixture_normal, P01, LOC, POS)
    _same(_mixture_mvn, LOC[0], MLOC, DG)

    def shared(T, w, loc, scale):  # one mixture for the whole batch (torch can't sample it)
        d = T.distributions.MixtureSameFamily(T.distributions.Categorical(w),
                                              T.distributions.Normal(loc, scale))
        x = T.tensor(LOC[:, 0])
        return [d.log_prob(x), d.cdf(x), d.mean, d.variance]
    _same(shared, P01[0], LOC, POS)
    for T in (ember, torch):
        d = T.distributions.MixtureSameFamily(
            T.distributions.Categorical(T.tensor(P01[0])),
            T.distributions.Normal(T.tensor(LOC), T.tensor(POS)))
        with pytest.raises(RuntimeError, match="same number of dimensions"):
            d.sample()


def test_mixture_shapes_and_errors():
    for T in (ember, torch):
        D = T.distributions
        d = D.MixtureSameFamily(D.Categorical(T.tensor(P01)),
                                D.Normal(T.tensor(LOC), T.tensor(POS)))
        assert tuple(d.batch_shape) == (3,) and tuple(d.event_shape) == ()
        e = d.expand((4, 3))
        assert tuple(e.batch_shape) == (4, 3)
        assert tuple(e.sample().shape) == (4, 3)
    for T in (ember, torch):
        D = T.distributions
        with pytest.raises(ValueError, match="needs to be an"):
            D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(T.tensor(LOC), T.tensor(POS)))
        with pytest.raises(ValueError, match="does not equal"):
            D.MixtureSameFamily(D.Categorical(T.tensor(PROBS[0, :3])),
                                D.Normal(T.tensor(LOC), T.tensor(POS)))
    e = ember.distributions.MixtureSameFamily(
        ember.distributions.Categorical(ember.tensor(P01[0])),
        ember.distributions.Normal(ember.tensor(LOC), ember.tensor(POS)))
    t = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.tensor(P01[0])),
        torch.distributions.Normal(torch.tensor(LOC), torch.tensor(POS)))
    assert repr(e.support) == repr(t.support)


# --- kl ------------------------------------------------------------------------------------
def _kl(make_p, make_q):
    def fn(T, *xs):
        return [T.distributions.kl_divergence(make_p(T, *xs), make_q(T, *xs))]
    return fn


KL_CASES = {
    "cauchy": (lambda T, a, b, c: T.distributions.Cauchy(a, b),
               lambda T, a, b, c: T.distributions.Cauchy(b, c)),
    "geometric": (lambda T, a, b, c: T.distributions.Geometric(T.sigmoid(a)),
                  lambda T, a, b, c: T.distributions.Geometric(T.sigmoid(b))),
    "gumbel": (lambda T, a, b, c: T.distributions.Gumbel(a, b),
               lambda T, a, b, c: T.distributions.Gumbel(c, b + c)),
    "half_normal": (lambda T, a, b, c: T.distributions.HalfNormal(b),
                    lambda T, a, b, c: T.distributions.HalfNormal(c)),
    "pareto": (lambda T, a, b, c: T.distributions.Pareto(b + c, c + 2),
               lambda T, a, b, c: T.distributions.Pareto(b, c)),
    "pareto_exp": (lambda T, a, b, c: T.distributions.Pareto(b, c + 1.2),
                   lambda T, a, b, c: T.distributions.Exponential(c)),
    "pareto_gamma": (lambda T, a, b, c: T.distributions.Pareto(b, c + 1.2),
                     lambda T, a, b, c: T.distributions.Gamma(b, c)),
    "pareto_normal": (lambda T, a, b, c: T.distributions.Pareto(b, c + 2.2),
                      lambda T, a, b, c: T.distributions.Normal(a, c)),
    "exp_gumbel": (lambda T, a, b, c: T.distributions.Exponential(b),
                   lambda T, a, b, c: T.distributions.Gumbel(a, c)),
    "gamma_gumbel": (lambda T, a, b, c: T.distributions.Gamma(b, c),
                     lambda T, a, b, c: T.distributions.Gumbel(a, c)),
    "gumbel_normal": (lambda T, a, b, c: T.distributions.Gumbel(a, b),
                      lambda T, a, b, c: T.distributions.Normal(a * 2, c)),
    "normal_gumbel": (lambda T, a, b, c: T.distributions.Normal(a, b),
                      lambda T, a, b, c: T.distributions.Gumbel(a * 2, c + 1)),
    "uniform_gumbel": (lambda T, a, b, c: T.distributions.Uniform(a, a + b),
                       lambda T, a, b, c: T.distributions.Gumbel(a * 2, c)),
    "uniform_pareto": (lambda T, a, b, c: T.distributions.Uniform(b, b + c),
                       lambda T, a, b, c: T.distributions.Pareto(b * 0.9, c)),
    "infinite": (lambda T, a, b, c: T.distributions.Gumbel(a, b),
                 lambda T, a, b, c: T.distributions.Pareto(b, c)),
    "pareto_uniform": (lambda T, a, b, c: T.distributions.Pareto(b, c),
                       lambda T, a, b, c: T.distributions.Uniform(a, a + b)),
    "normal_pareto": (lambda T, a, b, c: T.distributions.Normal(a, b),
                      lambda T, a, b, c: T.distributions.Pareto(b, c)),
    "cb_cb": (lambda T, a, b, c: T.distributions.ContinuousBernoulli(T.sigmoid(a)),
              lambda T, a, b, c: T.distributions.ContinuousBernoulli(logits=b - c)),
    "cb_normal": (lambda T, a, b, c: T.distributions.ContinuousBernoulli(T.sigmoid(a)),
                  lambda T, a, b, c: T.distributions.Normal(a, b)),
    "cb_exp": (lambda T, a, b, c: T.distributions.ContinuousBernoulli(T.sigmoid(a)),
               lambda T, a, b, c: T.distributions.Exponential(b)),
    "cb_uniform": (lambda T, a, b, c: T.distributions.ContinuousBernoulli(T.sigmoid(a)),
                   lambda T, a, b, c: T.distributions.Uniform(a - b, a + c)),
    "uniform_cb": (lambda T, a, b, c: T.distributions.Uniform(T.sigmoid(a) * 0.5,
                                                              T.sigmoid(a) * 0.5 + 0.3),
                   lambda T, a, b, c: T.distributions.ContinuousBernoulli(T.sigmoid(b))),
    "beta_cb": (lambda T, a, b, c: T.distributions.Beta(b, c),
                lambda T, a, b, c: T.distributions.ContinuousBernoulli(T.sigmoid(a))),
    "normal_cb": (lambda T, a, b, c: T.distributions.Normal(a, b),
                  lambda T, a, b, c: T.distributions.ContinuousBernoulli(T.sigmoid(a))),
    "beta_pareto": (lambda T, a, b, c: T.distributions.Beta(b, c),
                    lambda T, a, b, c: T.distributions.Pareto(b, c)),
}


@pytest.mark.parametrize("name", sorted(KL_CASES))
def test_kl(name):
    _same(_kl(*KL_CASES[name]), LOC, POS, POS2, rtol=1e-4, atol=1e-4)


def _lr(T, loc, w, dg):
    return T.distributions.LowRankMultivariateNormal(loc, w, dg)


def _mvn(T, loc, w, dg):
    return T.distributions.MultivariateNormal(loc * 0.5, scale_tril=T.linalg.cholesky(
        T.tensor(COV) + w[0] @ w[0].mT))


@pytest.mark.parametrize("pair", ["lr_lr", "mvn_lr", "lr_mvn"])
def test_kl_lowrank(pair):
    def q_lr(T, loc, w, dg):
        return T.distributions.LowRankMultivariateNormal(loc.flip(0), w * 0.5, dg + 0.3)
    make = {"lr_lr": (_lr, q_lr), "mvn_lr": (_mvn, q_lr), "lr_mvn": (_lr, _mvn)}[pair]
    _same(_kl(*make), MLOC, WF, DG, rtol=1e-4, atol=1e-4)


# --- validation, shapes --------------------------------------------------------------------
ERROR_CASES = [
    lambda T: T.distributions.Cauchy(T.tensor([0.0]), T.tensor([-1.0])),
    lambda T: T.distributions.HalfNormal(T.tensor([0.0])),
    lambda T: T.distributions.StudentT(T.tensor([-1.0])),
    lambda T: T.distributions.Chi2(T.tensor([0.0])),
    lambda T: T.distributions.Gumbel(T.tensor([0.0]), T.tensor([0.0])),
    lambda T: T.distributions.Pareto(T.tensor([1.0]), T.tensor([-2.0])),
    lambda T: T.distributions.Weibull(T.tensor([1.0]), T.tensor([0.0])),
    lambda T: T.distributions.Geometric(T.tensor([0.0])),
    lambda T: T.distributions.Geometric(T.tensor([1.5])),
    lambda T: T.distributions.Geometric(),
    lambda T: T.distributions.ContinuousBernoulli(T.tensor([1.5]), validate_args=True),
    lambda T: T.distributions.ContinuousBernoulli(T.tensor([0.5])).log_prob(T.tensor([1.5])),
    lambda T: T.distributions.NegativeBinomial(T.tensor([2.0]), T.tensor([1.0])),
    lambda T: T.distributions.NegativeBinomial(T.tensor([-2.0]), T.tensor([0.5])),
    lambda T: T.distributions.Multinomial(T.tensor(3), T.tensor([0.5, 0.5])),
    lambda T: T.distributions.Multinomial(3, T.tensor([-0.5, 0.5])),
    lambda T: T.distributions.LowRankMultivariateNormal(T.zeros(()), T.zeros(3, 1), T.ones(3)),
    lambda T: T.distributions.LowRankMultivariateNormal(T.zeros(3), T.zeros(3), T.ones(3)),
    lambda T: T.distributions.LowRankMultivariateNormal(T.zeros(3), T.zeros(2, 1), T.ones(3)),
    lambda T: T.distributions.LowRankMultivariateNormal(T.zeros(3), T.zeros(3, 1), T.ones(2)),
    lambda T: T.distributions.LowRankMultivariateNormal(T.zeros(2, 3), T.zeros(3, 3, 1),
                                                        T.ones(3)),
    lambda T: T.distributions.Pareto(T.tensor([2.0]), T.tensor([1.0])).log_prob(
        T.tensor([1.0])),
    lambda T: T.distributions.HalfNormal(T.tensor([2.0])).log_prob(T.tensor([-1.0])),
    lambda T: T.distributions.Geometric(T.tensor([0.5])).log_prob(T.tensor([1.5])),
    lambda T: T.distributions.Multinomial(3, T.tensor([0.5, 0.5])).log_prob(
        T.tensor([2.0, 2.0])),
    lambda T: T.distributions.NegativeBinomial(2.0, T.tensor([0.5])).log_prob(
        T.tensor([-1.0])),
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


def test_reprs_and_supports():
    for name, args in [("Cauchy", (0.0, 1.0)), ("HalfNormal", (1.0,)), ("Gumbel", (0.0, 1.0)),
                       ("StudentT", (3.0,)), ("Geometric", (0.3,)), ("Weibull", (1.0, 2.0)),
                       ("Chi2", (2.0,)), ("Pareto", (1.0, 2.0))]:
        e = getattr(ember.distributions, name)(*[ember.tensor(a) for a in args])
        t = getattr(torch.distributions, name)(*[torch.tensor(a) for a in args])
        assert repr(e) == repr(t), name
        assert repr(e.support) == repr(t.support), name
        assert e.has_rsample == t.has_rsample, name
    e = ember.distributions.NegativeBinomial(2.0, ember.tensor([0.5]))
    t = torch.distributions.NegativeBinomial(2.0, torch.tensor([0.5]))
    assert repr(e.arg_constraints["probs"]) == repr(t.arg_constraints["probs"])


def test_expand_matches():
    def fn(T, loc, scale):
        D = T.distributions
        out = []
        for d in (D.Cauchy(loc[0], scale[0]), D.HalfNormal(scale[0]), D.HalfCauchy(scale[0]),
                  D.Gumbel(loc[0], scale[0]), D.Pareto(scale[0], scale[0] + 1),
                  D.Weibull(scale[0], scale[0] + 1), D.StudentT(scale[0] + 2, loc[0]),
                  D.Chi2(scale[0]), D.Geometric(T.sigmoid(loc[0])),
                  D.NegativeBinomial(scale[0], T.sigmoid(loc[0]))):
            e = d.expand((3, 2))
            x = e.sample()
            out += [x, e.log_prob(x)]
        return out
    _same(fn, LOC, POS, rtol=1e-4, atol=1e-4)
