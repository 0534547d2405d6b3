"""The distributions beyond Normal/Uniform/Categorical/Bernoulli against torch.

``MultivariateNormal``, ``Exponential``, ``Laplace``, ``Gamma``, ``Beta``, ``Dirichlet``,
``Poisson``, ``Binomial``, ``OneHotCategorical``, ``LogNormal``, ``RelaxedBernoulli``,
``RelaxedOneHotCategorical`` and the transforms: values and gradients of ``log_prob``,
``entropy``, moments, ``cdf``/``icdf`` and ``kl_divergence``; samples and ``rsample``
gradients after the same ``manual_seed`` (torch's numbers, gamma-based ones included);
shapes, reprs and validation errors. Each check is a plain function ``fn(T, *params)`` run
with ``T = ember`` and ``T = torch``.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RS = np.random.RandomState(0)
LOC = RS.randn(3, 2).astype(np.float32)
POS = RS.uniform(0.4, 3.0, (3, 2)).astype(np.float32)
POS2 = RS.uniform(0.4, 3.0, (3, 2)).astype(np.float32)
P01 = RS.uniform(0.1, 0.9, (3, 2)).astype(np.float32)
CONC = RS.uniform(0.3, 4.0, (2, 4)).astype(np.float32)
LOGITS = RS.randn(2, 4).astype(np.float32)
A = RS.randn(2, 3, 3)
COV = (A @ A.transpose(0, 2, 1) + 0.5 * np.eye(3)).astype(np.float32)
TRIL = np.linalg.cholesky(COV[0] + np.eye(3, dtype=np.float32)).astype(np.float32)
MLOC = RS.randn(4, 1, 3).astype(np.float32)
MVAL = RS.randn(5, 4, 2, 3).astype(np.float32)


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _run(T, fn, arrays, seed=0, grads=True):
    """``fn``'s outputs (after ``manual_seed(seed)``) and the gradient of a weighted sum of
    them for every input array."""
    T.manual_seed(seed)
    xs = [T.tensor(a, requires_grad=grads) for a in arrays]
    outs = fn(T, *xs)
    res = [o.detach() for o in outs]
    if grads:
        total = sum((o * T.tensor(np.linspace(-1, 1, o.numel()), dtype=o.dtype)
                     .reshape(o.shape)).sum() for o in outs if o.requires_grad)
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


# --- values and gradients ------------------------------------------------------------------
def mvn_fns(T, loc, cov, tril):
    D = T.distributions
    out = []
    for d in (D.MultivariateNormal(loc, cov), D.MultivariateNormal(loc, precision_matrix=cov),
              D.MultivariateNormal(loc, scale_tril=tril),
              D.MultivariateNormal(loc[0, 0], scale_tril=tril)):
        v = T.tensor(MVAL)
        out += [d.log_prob(v), d.entropy(), d.mean, d.variance, d.stddev, d.mode,
                d.covariance_matrix, d.precision_matrix, d.scale_tril]
    return out


def exponential_fns(T, rate, x):
    d = T.distributions.Exponential(rate)
    return [d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(T.sigmoid(x - 1)), d.mean, d.mode,
            d.stddev, d.variance]


def laplace_fns(T, loc, scale, x):
    d = T.distributions.Laplace(loc, scale)
    return [d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(T.sigmoid(x - 1)), d.mean, d.mode,
            d.stddev, d.variance]


def gamma_fns(T, conc, rate, x):
    d = T.distributions.Gamma(conc, rate)
    return [d.log_prob(x), d.entropy(), d.mean, d.mode, d.variance, d.stddev]


def beta_fns(T, c1, c0, p):
    d = T.distributions.Beta(c1, c0)
    return [d.log_prob(p), d.entropy(), d.mean, d.mode, d.variance, d.concentration1,
            d.concentration0]


def dirichlet_fns(T, conc):
    d = T.distributions.Dirichlet(conc)
    v = T.softmax(T.tensor(LOGITS, dtype=conc.dtype), -1)
    return [d.log_prob(v), d.entropy(), d.mean, d.mode, d.variance]


def poisson_fns(T, rate):
    d = T.distributions.Poisson(rate)
    k = T.tensor([[0., 1., 4.], [2., 7., 3.]]).reshape(3, 2)
    return [d.log_prob(k), d.mean, d.mode, d.variance]


def binomial_fns(T, p, logit):
    D = T.distributions
    d1, d2 = D.Binomial(7, probs=p), D.Binomial(T.tensor([[5.], [9.], [12.]]), logits=logit)
    k = T.tensor([[0., 5.], [3., 7.], [2., 4.]])
    return [d1.log_prob(k), d1.entropy(), d1.mean, d1.mode, d1.variance, d2.log_prob(k),
            d2.mean, d2.probs, d2.variance, d1.logits]


def onehot_fns(T, logits, probs):
    D = T.distributions
    d1, d2 = D.OneHotCategorical(logits=logits), D.OneHotCategorical(probs=probs)
    v = T.eye(4)[[1, 3]]
    return [d1.log_prob(v), d1.entropy(), d1.mean, d1.variance, d1.mode, d2.log_prob(v),
            d2.entropy(), d2.probs, d2.logits]


def lognormal_fns(T, loc, scale, x):
    d = T.distributions.LogNormal(loc, scale)
    return [d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(T.sigmoid(x - 1)), d.mean, d.mode,
            d.variance]


def relaxed_fns(T, p, logits, value):
    D = T.distributions
    temp = T.tensor(0.7)
    rb = D.RelaxedBernoulli(temp, probs=p)
    rl = D.RelaxedBernoulli(temp, logits=logits[:, :2])
    rc = D.RelaxedOneHotCategorical(temp, logits=logits)
    simplex = T.softmax(value, -1)
    return [rb.log_prob(T.sigmoid(value[:, :2].reshape(2, 2)).repeat(1, 1)[:1].expand(3, 2)),
            rl.log_prob(T.tensor([0.3, 0.8])), rc.log_prob(simplex), rb.probs, rl.probs]


X = RS.uniform(0.2, 3.0, (3, 2)).astype(np.float32)


@pytest.mark.parametrize("fn, arrays", [
    (mvn_fns, (MLOC, COV, TRIL)),
    (exponential_fns, (POS, X)),
    (laplace_fns, (LOC, POS, X)),
    (gamma_fns, (POS, POS2, X)),
    (beta_fns, (POS, POS2, P01)),
    (dirichlet_fns, (CONC,)),
    (poisson_fns, (POS * 3,)),
    (binomial_fns, (P01, LOC)),
    (onehot_fns, (LOGITS, np.abs(LOGITS) + 0.1)),
    (lognormal_fns, (LOC, POS, X)),
    (relaxed_fns, (P01, CONC, LOGITS)),
], ids=["mvn", "exponential", "laplace", "gamma", "beta", "dirichlet", "poisson", "binomial",
        "onehot", "lognormal", "relaxed"])
def test_values_and_gradients_match_torch(fn, arrays):
    _same(fn, *arrays)


@pytest.mark.parametrize("fn, arrays", [
    (mvn_fns, (MLOC, COV, TRIL)),
    (gamma_fns, (POS, POS2, X)),
    (beta_fns, (POS, POS2, P01)),
    (dirichlet_fns, (CONC,)),
    (binomial_fns, (P01, LOC)),
], ids=["mvn", "gamma", "beta", "dirichlet", "binomial"])
def test_float64_values_and_gradients_match_torch(fn, arrays):
    _same(fn, *[a.astype(np.float64) for a in arrays], rtol=1e-9, atol=1e-10)


def kl_fns(T, loc, pos, pos2, p01, conc, logits, cov, tril):
    D = T.distributions
    kl = D.kl_divergence
    n1, n2 = D.Normal(loc, pos), D.Normal(loc * 0.5, pos2)
    e1, e2 = D.Exponential(pos), D.Exponential(pos2)
    g1, g2 = D.Gamma(pos, pos2), D.Gamma(pos2, pos)
    b1, b2 = D.Beta(pos, pos2), D.Beta(pos2, pos)
    lp1, lp2 = D.Laplace(loc, pos), D.Laplace(-loc, pos2)
    po1, po2 = D.Poisson(pos), D.Poisson(pos2)
    u = D.Uniform(p01 * 0.5, p01 * 0.5 + 0.4)
    m1 = D.MultivariateNormal(loc[:, :1].expand(3, 3), cov[:1].expand(3, 3, 3))
    m2 = D.MultivariateNormal(loc[0, 0].expand(3) * 2, scale_tril=tril)
    return [kl(n1, n2), kl(e1, e2), kl(g1, g2), kl(b1, b2), kl(lp1, lp2), kl(po1, po2),
            kl(D.Dirichlet(conc), D.Dirichlet(conc.flip(-1))),
            kl(D.Binomial(6, probs=p01), D.Binomial(6, probs=p01.flip(0))),
            kl(D.OneHotCategorical(logits=logits), D.OneHotCategorical(logits=logits * 0.5)),
            kl(D.LogNormal(loc, pos), D.LogNormal(loc * 0.5, pos2)),
            kl(m1, m2), kl(m2, m1), kl(e1, g2), kl(g1, e2), kl(b1, e2), kl(b1, g2), kl(b1, n2),
            kl(e1, n2), kl(g1, n2), kl(lp1, n2), kl(n1, lp2), kl(u, n2), kl(u, e2), kl(u, g2),
            kl(u, b2), kl(D.Bernoulli(probs=p01), po2), kl(b1, D.Uniform(-0.5, 1.5)),
            kl(n1, e2), kl(e1, D.Uniform(0., 1.)), kl(po1, D.Binomial(3, probs=p01))]


def test_kl_divergence_matches_torch():
    _same(kl_fns, LOC, POS, POS2, P01, CONC, LOGITS, COV, TRIL, rtol=1e-4, atol=1e-5)


def test_kl_binomial_with_a_smaller_q_count_raises_like_torch():
    msgs = []
    for T in (ember, torch):
        D = T.distributions
        with pytest.raises(NotImplementedError) as info:
            D.kl_divergence(D.Binomial(3, probs=T.tensor(0.5)), D.Binomial(5, probs=T.tensor(0.5)))
        msgs.append(str(info.value))
        inf = D.kl_divergence(D.Binomial(T.tensor([5., 3.]), probs=T.tensor(0.5)),
                              D.Binomial(3, probs=T.tensor(0.4)))
        assert np.isinf(_np(inf)[0]) and np.isfinite(_np(inf)[1])
    assert msgs[0] == msgs[1]


# --- samples after the same seed -------------------------------------------------------------
def sample_fns(T, loc, pos, pos2, p01, conc, logits, cov, tril):
    D = T.distributions
    out = [
        D.MultivariateNormal(loc[0], scale_tril=tril[:2, :2]).rsample((5,)),
        D.MultivariateNormal(loc, cov[:1, :2, :2]).sample((2, 3)),
        D.MultivariateNormal(loc[0], precision_matrix=cov[0, :2, :2]).rsample((20,)),
        D.Exponential(pos).rsample((4,)),
        D.Laplace(loc, pos).rsample((4,)),
        D.Gamma(pos, pos2).rsample((6,)),
        D.Gamma(pos * 0.2, 1.0).rsample((5,)),
        D.Beta(pos, pos2).rsample((6,)),
        D.Dirichlet(conc).rsample((5,)),
        D.Poisson(pos * 8).sample((7,)),
        D.Binomial(T.tensor([[3.], [40.], [100.]]), probs=p01).sample((6,)),
        D.Binomial(25, logits=loc).sample((3,)),
        D.OneHotCategorical(logits=logits).sample((5,)),
        D.LogNormal(loc, pos).rsample((3,)),
        D.RelaxedBernoulli(T.tensor(0.5), probs=p01).rsample((3,)),
        D.RelaxedOneHotCategorical(T.tensor(0.5), logits=logits).rsample((3,)),
        D.Normal(loc, pos).rsample((3,)),
        T.rand(7),  # the stream continues alike
    ]
    return out


def test_samples_after_the_same_seed_are_torchs():
    _same(sample_fns, LOC, POS, POS2, P01, CONC, LOGITS, COV, TRIL, rtol=1e-5, atol=1e-6)


def test_float64_samples_after_the_same_seed_are_torchs():
    arrays = [a.astype(np.float64) for a in (LOC, POS, POS2, P01, CONC, LOGITS, COV, TRIL)]
    _same(sample_fns, *arrays, rtol=1e-12, atol=1e-12, seed=5, grads=False)


def test_reparameterised_gradients_match_torch():
    """rsample's gradients with respect to every parameter, through the reparameterisation
    (implicit for gamma, beta and Dirichlet)."""
    _same(sample_fns, LOC, POS, POS2, P01, CONC, LOGITS, COV, TRIL, rtol=1e-4, atol=1e-4,
          seed=3)


def test_many_gamma_and_dirichlet_draws_are_torchs():
    """Thousands of draws through every branch of the rejection samplers (and the gradient
    approximations' branches), in both precisions."""
    alpha = np.random.RandomState(1).uniform(0.01, 30.0, 3000)
    for dtype in (np.float32, np.float64):
        def fn(T, a):
            D = T.distributions
            return [D.Gamma(a, 1.0).rsample(), D.Dirichlet(a.reshape(-1, 3)).rsample(),
                    D.Beta(a[:1000], a[1000:2000]).rsample()]
        _same(fn, alpha.astype(dtype), rtol=2e-5 if dtype == np.float32 else 1e-9,
              atol=1e-6 if dtype == np.float32 else 1e-12)


# --- shapes, reprs, supports -------------------------------------------------------------------
SHAPES = r"""
D.MultivariateNormal(L.zeros(3), L.eye(3))
D.MultivariateNormal(L.zeros(2, 3), scale_tril=L.eye(3))
D.MultivariateNormal(L.zeros(3), precision_matrix=L.eye(3).expand(4, 1, 3, 3))
D.MultivariateNormal(L.zeros(3), L.eye(3)).expand((2, 5))
D.Exponential(2.)
D.Exponential(L.ones(2, 3)).expand((4, 2, 3))
D.Laplace(0., L.ones(2))
D.Gamma(L.ones(3), 2.)
D.Gamma(1., 1.).expand((2,))
D.Beta(0.5, 0.5)
D.Beta(L.ones(2), L.ones(3, 1))
D.Beta(L.ones(2), 2.).expand((3, 2))
D.Dirichlet(L.ones(4))
D.Dirichlet(L.ones(2, 4)).expand((3, 2))
D.Poisson(3.)
D.Poisson(L.ones(2, 2))
D.Binomial(10, probs=L.full((3,), 0.5))
D.Binomial(L.tensor([5., 10.]), logits=L.zeros(3, 2))
D.Binomial(10, probs=L.full((3,), 0.5)).expand((2, 3))
D.OneHotCategorical(logits=L.zeros(2, 4))
D.OneHotCategorical(probs=L.ones(4)).expand((3,))
D.LogNormal(0., 1.)
D.LogNormal(L.zeros(3), 1.).expand((2, 3))
D.RelaxedBernoulli(L.tensor(0.5), probs=L.full((3,), 0.3))
D.RelaxedOneHotCategorical(L.tensor(0.5), logits=L.zeros(2, 3))
D.TransformedDistribution(D.Normal(L.zeros(3), 1.), [D.AffineTransform(1., 2.), D.ExpTransform()])
D.TransformedDistribution(D.Normal(L.zeros(3), 1.), D.SigmoidTransform().inv)
D.TransformedDistribution(D.Uniform(L.zeros(2), 1.), [D.SigmoidTransform().inv, D.TanhTransform()])
"""


@pytest.mark.parametrize("expr", SHAPES.strip().splitlines())
def test_shapes_and_reprs_match_torch(expr):
    got = {}
    for L in (ember, torch):
        L.manual_seed(1)
        d = eval(expr, {"L": L, "D": L.distributions})
        samples = [d.sample(), d.sample((2,)), d.sample(L.Size([4, 1]))]
        got[L.__name__] = (tuple(d.batch_shape), tuple(d.event_shape),
                           [tuple(s.shape) for s in samples], str(samples[0].dtype)[6:],
                           repr(d).replace("torch.Size", "ember.Size"),
                           repr(d.support).replace("tensor", "T"), d.has_rsample,
                           d.has_enumerate_support, [_np(s).tolist() for s in samples])
        if d.has_rsample:
            assert tuple(d.rsample((3,)).shape) == (3,) + got[L.__name__][0] + got[L.__name__][1]
    e, t = got["ember"], got["torch"]
    assert e[:8] == t[:8]
    np.testing.assert_allclose(np.concatenate([np.ravel(s) for s in e[8]]),
                               np.concatenate([np.ravel(s) for s in t[8]]), rtol=1e-5, atol=1e-6)


def test_enumerate_support_and_transforms_match_torch():
    out = {}
    for L in (ember, torch):
        D = L.distributions
        b = D.Binomial(3, probs=L.tensor([0.2, 0.7]))
        oh = D.OneHotCategorical(logits=L.zeros(2, 3))
        t = D.ComposeTransform([D.AffineTransform(1., 2.), D.ExpTransform()])
        x = L.tensor([0.3, -1.2])
        y = t(x)
        s = D.SigmoidTransform()
        tanh = D.TanhTransform()
        pw = D.PowerTransform(L.tensor(2.))
        aff = D.AffineTransform(L.tensor([1., 2.]), L.tensor([-1., 3.]), event_dim=1)
        out[L.__name__] = [
            b.enumerate_support().tolist(), b.enumerate_support(False).tolist(),
            oh.enumerate_support().tolist(), oh.enumerate_support(False).shape,
            y.tolist(), t.inv(y).tolist(), t.log_abs_det_jacobian(x, y).tolist(),
            s(x).tolist(), s.inv(s(x)).tolist(), s.log_abs_det_jacobian(x, s(x)).tolist(),
            tanh.log_abs_det_jacobian(x, tanh(x)).tolist(), pw(L.tensor(3.)).item(),
            aff.log_abs_det_jacobian(x, aff(x)).tolist(), aff.sign.tolist(), t.sign,
            repr(t.domain), repr(t.codomain), repr(aff.domain), t.bijective,
            repr(t).replace("\n", " "), repr(s.inv), s.inv.inv is s, t == t.inv.inv,
            D.ExpTransform() == D.ExpTransform(), s.event_dim, t.inv.sign,
            D.identity_transform(x).tolist(), D.SoftmaxTransform()(x).tolist(),
        ]
    for e, t in zip(out["ember"], out["torch"]):
        if isinstance(t, list):
            np.testing.assert_allclose(e, t, rtol=1e-6)
        else:
            assert str(e) == str(t).replace("torch.Size", "ember.Size")


def test_class_hierarchy_and_exports_match_torch():
    names = ["Bernoulli", "Beta", "Binomial", "Categorical", "Dirichlet", "Exponential",
             "Gamma", "Independent", "Laplace", "LogNormal", "MultivariateNormal", "Normal",
             "OneHotCategorical", "OneHotCategoricalStraightThrough", "Poisson",
             "RelaxedBernoulli", "RelaxedOneHotCategorical", "TransformedDistribution",
             "Uniform"]
    for L in (ember, torch):
        D = L.distributions
        row = [(n, issubclass(getattr(D, n), D.ExponentialFamily),
                issubclass(getattr(D, n), D.TransformedDistribution),
                getattr(D, n).has_rsample if isinstance(getattr(D, n).has_rsample, bool) else None)
               for n in names]
        if L is ember:
            got = row
    assert got == row
    assert hasattr(ember.distributions.relaxed_bernoulli, "LogitRelaxedBernoulli")
    assert hasattr(ember.distributions.relaxed_categorical, "ExpRelaxedCategorical")
    for name in ["ExpTransform", "SigmoidTransform", "TanhTransform", "AffineTransform",
                 "PowerTransform", "AbsTransform", "SoftmaxTransform", "ComposeTransform",
                 "IndependentTransform", "identity_transform"]:
        assert hasattr(ember.distributions, name) and hasattr(ember.distributions.transforms, name)


def test_transform_cache_returns_the_same_objects():
    for L in (ember, torch):
        D = L.distributions
        t = D.ExpTransform().with_cache()
        x = L.tensor([0.5])
        y = t(x)
        assert t(x) is y and t.inv(y) is x
        with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
            D.ExpTransform(cache_size=2)


# --- argument validation -----------------------------------------------------------------------
ERRORS = r"""
D.MultivariateNormal(L.zeros(()), L.eye(2))
D.MultivariateNormal(L.zeros(2))
D.MultivariateNormal(L.zeros(2), L.eye(2), scale_tril=L.eye(2))
D.MultivariateNormal(L.zeros(2), L.ones(2))
D.MultivariateNormal(L.zeros(2), scale_tril=L.ones(2))
D.MultivariateNormal(L.zeros(2), precision_matrix=L.ones(2))
D.MultivariateNormal(L.zeros(2), L.tensor([[1., 2.], [2., 1.]]))
D.MultivariateNormal(L.zeros(2), L.tensor([[1., 0.5], [0.4, 1.]]))
D.MultivariateNormal(L.zeros(2), precision_matrix=L.tensor([[1., 2.], [2., 1.]]))
D.MultivariateNormal(L.zeros(2), scale_tril=L.tensor([[1., 1.], [0., 1.]]))
D.MultivariateNormal(L.zeros(2), scale_tril=L.tensor([[1., 0.], [0., -1.]]))
D.MultivariateNormal(L.zeros(4, 2), L.eye(2).expand(3, 2, 2))
D.MultivariateNormal(L.tensor([0., float('nan')]), L.eye(2))
D.MultivariateNormal(L.zeros(2), L.eye(2)).log_prob(L.zeros(3))
D.MultivariateNormal(L.zeros(2), L.eye(2)).log_prob(L.zeros(4, 3, 2).sum(-1))
D.Exponential(L.tensor([1., -1.]))
D.Exponential(0.)
D.Exponential(1.).log_prob(L.tensor(-1.))
D.Laplace(0., -1.)
D.Laplace(L.tensor([0.]), L.tensor([0.]))
D.Gamma(L.tensor([1., -1.]), 1.)
D.Gamma(1., 0.)
D.Gamma(1., 1.).log_prob(-1.)
D.Beta(0., 1.)
D.Beta(L.tensor([1.]), L.tensor([-2.]))
D.Beta(1., 1.).log_prob(L.tensor(1.5))
D.Dirichlet(L.tensor(1.))
D.Dirichlet(L.tensor([1., 0.]))
D.Dirichlet(L.ones(3)).log_prob(L.tensor([0.5, 0.6, 0.1]))
D.Dirichlet(L.ones(3)).log_prob(L.tensor([0.5, 0.5]))
D.Poisson(-1.)
D.Poisson(2.).log_prob(L.tensor(1.5))
D.Binomial(10)
D.Binomial(10, probs=L.tensor(0.5), logits=L.tensor(0.))
D.Binomial(L.tensor(2.5), probs=L.tensor(0.5))
D.Binomial(10, probs=L.tensor([1.5]))
D.Binomial(10, probs=L.tensor(0.5)).log_prob(L.tensor(11.))
D.Binomial(L.tensor([2., 3.]), probs=L.tensor(0.5)).entropy()
D.Binomial(L.tensor([2., 3.]), probs=L.tensor(0.5)).enumerate_support()
D.OneHotCategorical()
D.OneHotCategorical(probs=L.tensor([0.5, -0.5, 1.]))
D.OneHotCategorical(logits=L.zeros(3)).log_prob(L.tensor([1., 1., 0.]))
D.LogNormal(0., -1.)
D.LogNormal(0., 1.).log_prob(L.tensor(-1.))
D.RelaxedBernoulli(L.tensor(0.5))
D.RelaxedBernoulli(L.tensor(0.5), probs=L.tensor([1.5]))
D.RelaxedOneHotCategorical(L.tensor(0.5), probs=L.tensor([0.5, -0.5, 1.]))
D.TransformedDistribution(D.Normal(0., 1.), "exp")
D.TransformedDistribution(D.Normal(0., 1.), [D.ExpTransform(), 3])
D.TransformedDistribution(D.Normal(0., 1.), D.SoftmaxTransform())
D.ExpTransform().event_dim + D.ExpTransform().inv.sign + D.AbsTransform().sign
D.kl_divergence(*[D.MultivariateNormal(L.zeros(n), L.eye(n)) for n in (2, 3)])
D.kl_divergence(D.Gamma(1., 1.), D.Poisson(1.))
D.kl_divergence(D.Normal(0., 1.), D.Poisson(1.))
D.Poisson(2.).entropy()
"""


@pytest.mark.parametrize("expr", ERRORS.strip().splitlines())
def test_validation_errors_match_torch(expr):
    raised = {}
    for L in (ember, torch):
        with pytest.raises(Exception) as info:
            eval(expr, {"L": L, "D": L.distributions})
        raised[L.__name__] = (type(info.value).__name__,
                              str(info.value).replace("torch.Size", "ember.Size"))
    assert raised["ember"] == raised["torch"]


def test_validate_args_false_skips_checks():
    for L in (ember, torch):
        D = L.distributions
        assert D.Gamma(-1., 1., validate_args=False).concentration.item() == -1.0
        m = D.MultivariateNormal(L.zeros(2), scale_tril=L.tensor([[1., 0.], [0.5, 2.]]),
                                 validate_args=False)
        assert m.log_prob(L.zeros(3, 2)).shape == (3,)
        with pytest.raises(Exception) as info:
            D.MultivariateNormal(L.zeros(2), L.tensor([[1., 2.], [2., 1.]]), validate_args=False)
        assert type(info.value).__name__ in ("LinAlgError", "_LinAlgError")
