"""``torch.distributions`` as RL and VAE code uses it, run under ember and torch.

Values and gradients of ``log_prob``/``entropy``/``cdf``/``kl_divergence`` must agree with
torch; samples come from different generators, so they are compared by shape, dtype and
statistics. The workloads (REINFORCE, a Gaussian actor-critic, a VAE's KL) are plain
PyTorch functions ``run(T, ...)`` run with ``T = ember`` and ``T = torch``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.distributions import (
    Bernoulli,
    Categorical,
    Distribution,
    Normal,
    Uniform,
    kl_divergence,
    register_kl,
)

torch = pytest.importorskip("torch")

RS = np.random.RandomState(0)
LOC = RS.randn(3, 4).astype(np.float32)
SCALE = RS.uniform(0.3, 2.0, (3, 4)).astype(np.float32)
VALUE = RS.randn(5, 3, 4).astype(np.float32)
LOGITS = RS.randn(3, 5).astype(np.float32)
PROBS = RS.dirichlet(np.ones(5), 3).astype(np.float32)
ACTIONS = RS.randint(0, 5, (7, 3))
P01 = RS.uniform(0.05, 0.95, (6,)).astype(np.float32)
COIN = (RS.rand(4, 6) < 0.5).astype(np.float32)


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _close(e, t, rtol=1e-4, atol=1e-5, msg=""):
    np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=atol, err_msg=msg)


def _grads(T, fn, *arrays):
    """``fn``'s outputs and the gradient of their weighted sum for each input."""
    xs = [T.tensor(a, requires_grad=True) for a in arrays]
    outs = fn(T, *xs)
    total = sum((o * T.tensor(np.linspace(-1, 1, o.numel(), dtype=np.float32))
                 .reshape(o.shape).to(o.dtype)).sum() for o in outs)
    total.backward()
    return [o.detach() for o in outs] + [x.grad for x in xs]


def _same(fn, *arrays, rtol=1e-4, atol=1e-5):
    for e, t in zip(_grads(ember, fn, *arrays), _grads(torch, fn, *arrays), strict=True):
        _close(e, t, rtol=rtol, atol=atol)


# --- values and gradients ------------------------------------------------------------------
def normal_fns(T, loc, scale):
    d = T.distributions.Normal(loc, scale)
    v = T.tensor(VALUE)
    return [d.log_prob(v), d.entropy(), d.cdf(v), d.icdf(T.sigmoid(v)), d.mean, d.stddev,
            d.variance, d.mode, d.perplexity()]


def categorical_logits_fns(T, logits):
    d = T.distributions.Categorical(logits=logits)
    return [d.log_prob(T.tensor(ACTIONS)), d.entropy(), d.probs, d.logits,
            d.log_prob(T.tensor(2))]


def categorical_probs_fns(T, probs):
    d = T.distributions.Categorical(probs=probs * 3)  # unnormalised on purpose
    return [d.log_prob(T.tensor(ACTIONS)), d.entropy(), d.probs, d.logits]


def bernoulli_fns(T, p):
    d1 = T.distributions.Bernoulli(probs=p)
    d2 = T.distributions.Bernoulli(logits=T.log(p) - T.log1p(-p))
    v = T.tensor(COIN)
    return [d1.log_prob(v), d1.entropy(), d1.logits, d1.variance, d2.log_prob(v),
            d2.entropy(), d2.probs]


def uniform_fns(T, low, width):
    d = T.distributions.Uniform(low, low + width)
    v = T.tensor(np.float32(0.3)) * width + low
    return [d.log_prob(v), d.entropy(), d.cdf(v), d.icdf(T.tensor(0.25)), d.mean, d.stddev]


def independent_fns(T, loc, scale):
    d = T.distributions.Independent(T.distributions.Normal(loc, scale), 1)
    return [d.log_prob(T.tensor(VALUE)), d.entropy(), d.mean, d.variance]


@pytest.mark.parametrize("fn, arrays", [
    (normal_fns, (LOC, SCALE)),
    (categorical_logits_fns, (LOGITS,)),
    (categorical_probs_fns, (PROBS,)),
    (bernoulli_fns, (P01,)),
    (uniform_fns, (LOC[0], SCALE[0])),
    (independent_fns, (LOC, SCALE)),
], ids=["normal", "categorical_logits", "categorical_probs", "bernoulli", "uniform",
        "independent"])
def test_values_and_gradients_match_torch(fn, arrays):
    _same(fn, *arrays)


def kl_fns(T, loc, scale, logits, p):
    D = T.distributions
    p_norm, q_norm = D.Normal(loc, scale), D.Normal(T.zeros_like(loc), T.ones_like(scale))
    cat_p = D.Categorical(logits=logits)
    cat_q = D.Categorical(logits=logits.flip(-1) * 0.5)
    ber_p, ber_q = D.Bernoulli(probs=p), D.Bernoulli(probs=p.flip(0) * 0.5 + 0.2)
    uni_p, uni_q = D.Uniform(loc[0], loc[0] + scale[0]), D.Uniform(loc[0] - 1, loc[0] + 3)
    ind = D.kl_divergence(D.Independent(p_norm, 1), D.Independent(q_norm, 1))
    return [D.kl_divergence(p_norm, q_norm), D.kl_divergence(q_norm, p_norm),
            D.kl_divergence(cat_p, cat_q), D.kl_divergence(ber_p, ber_q),
            D.kl_divergence(uni_p, uni_q), ind]


def test_kl_divergence_matches_torch():
    _same(kl_fns, LOC, SCALE, LOGITS, P01)


def test_kl_divergence_edge_cases_match_torch():
    def run(T):
        D = T.distributions
        p = T.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
        q = T.tensor([[0.5, 0.0, 0.5], [0.1, 0.1, 0.8]])
        uni = D.kl_divergence(D.Uniform(T.tensor([0., 0.]), T.tensor([1., 2.])),
                              D.Uniform(T.tensor([0.5, -1.]), T.tensor([1., 3.])))
        return [D.kl_divergence(D.Categorical(probs=p), D.Categorical(probs=q)),
                D.kl_divergence(D.Categorical(probs=q), D.Categorical(probs=p)),
                D.kl_divergence(D.Bernoulli(probs=T.tensor([0., 1., .5])),
                                D.Bernoulli(probs=T.tensor([.5, .5, 1.]))), uni]

    for e, t in zip(run(ember), run(torch)):
        _close(e, t)


def test_kl_divergence_unregistered_pair_and_register_kl():
    with pytest.raises(NotImplementedError, match="No KL.*Normal and q type Categorical"):
        kl_divergence(Normal(0., 1.), Categorical(logits=ember.zeros(3)))

    class Wide(Normal):
        """A Normal subclass with its own (made-up) KL."""

    @register_kl(Wide, Normal)
    def _kl_wide(p, q):
        return ember.tensor(42.0)

    assert kl_divergence(Wide(0., 1.), Normal(0., 1.)).item() == 42.0
    assert kl_divergence(Normal(0., 1.), Wide(0., 2.)).item() == pytest.approx(
        torch.distributions.kl_divergence(torch.distributions.Normal(0., 1.),
                                          torch.distributions.Normal(0., 2.)).item())


@pytest.mark.parametrize("name", ["normal", "categorical", "bernoulli", "uniform", "kl"])
def test_gradcheck_float64(name):
    rs = np.random.RandomState(11)

    def t64(a):
        return ember.tensor(np.asarray(a, np.float64), requires_grad=True)

    value = ember.tensor(rs.randn(2, 3))
    if name == "normal":
        fn = lambda m, s: (Normal(m, s).log_prob(value) + Normal(m, s).entropy()  # noqa: E731
                           + Normal(m, s).cdf(value))
        args = (t64(rs.randn(3)), t64(rs.uniform(0.5, 2, 3)))
    elif name == "categorical":
        acts = ember.tensor(rs.randint(0, 4, (5, 2)))
        fn = lambda lg: (Categorical(logits=lg).log_prob(acts).sum(0)  # noqa: E731
                         + Categorical(logits=lg).entropy())
        args = (t64(rs.randn(2, 4)),)
    elif name == "bernoulli":
        coin = ember.tensor((rs.rand(3) < 0.5).astype(np.float64))
        fn = lambda p: Bernoulli(probs=p).log_prob(coin) + Bernoulli(probs=p).entropy()  # noqa: E731
        args = (t64(rs.uniform(0.1, 0.9, 3)),)
    elif name == "uniform":
        fn = lambda lo, w: (Uniform(lo, lo + w).log_prob(lo + 0.4 * w)  # noqa: E731
                            + Uniform(lo, lo + w).entropy())
        args = (t64(rs.randn(3)), t64(rs.uniform(0.5, 2, 3)))
    else:
        fn = lambda m, s, lg: (kl_divergence(Normal(m, s), Normal(m.flip(0), s * 2)).sum()  # noqa: E731
                               + kl_divergence(Categorical(logits=lg),
                                               Categorical(logits=lg.flip(-1))).sum())
        args = (t64(rs.randn(3)), t64(rs.uniform(0.5, 2, 3)), t64(rs.randn(2, 4)))
    assert ember.autograd.gradcheck(fn, args)


# --- shapes ---------------------------------------------------------------------------------
SHAPES = r"""
D.Normal(0., 1.)
D.Normal(L.zeros(3), 1.)
D.Normal(L.zeros(3, 1), L.ones(2))
D.Normal(L.tensor(0.), L.tensor(1.))
D.Uniform(0., L.ones(2, 3))
D.Categorical(logits=L.zeros(4))
D.Categorical(probs=L.ones(2, 3, 5))
D.Bernoulli(probs=0.3)
D.Bernoulli(logits=L.zeros(2, 2))
D.Independent(D.Normal(L.zeros(2, 3), L.ones(2, 3)), 1)
D.Independent(D.Normal(L.zeros(2, 3), L.ones(2, 3)), 2)
D.Normal(L.zeros(3), 1.).expand((4, 3))
D.Categorical(logits=L.zeros(5)).expand((2, 3))
D.Independent(D.Normal(L.zeros(3), L.ones(3)), 1).expand((2,))
D.Bernoulli(probs=L.tensor([0.3, 0.6])).expand((3, 2))
D.Uniform(L.zeros(2), 1.).expand((2, 2))
"""


@pytest.mark.parametrize("expr", SHAPES.strip().splitlines())
def test_shapes_and_reprs_match_torch(expr):
    got = {}
    for L in (ember, torch):
        d = eval(expr, {"L": L, "D": L.distributions})
        samples = [d.sample(), d.sample((2,)), d.sample(L.Size([4, 1]))]
        got[L.__name__] = (tuple(d.batch_shape), tuple(d.event_shape),
                           [tuple(s.shape) for s in samples], str(samples[0].dtype)[6:],
                           repr(d).replace("torch.Size", "ember.Size"))
        assert type(d.batch_shape).__name__ == "Size"
        if d.has_rsample:
            assert tuple(d.rsample((3,)).shape) == (3,) + got[L.__name__][0] + got[L.__name__][1]
    assert got["ember"] == got["torch"]


def test_support_and_enumerate_support_match_torch():
    out = {}
    for L in (ember, torch):
        D = L.distributions
        c, b = D.Categorical(logits=L.zeros(2, 3)), D.Bernoulli(probs=L.full((2,), 0.5))
        out[L.__name__] = (repr(c.support), repr(b.support), repr(D.Normal(0., 1.).support),
                           repr(D.Independent(D.Normal(L.zeros(2), 1.), 1).support),
                           c.enumerate_support().tolist(), c.enumerate_support(False).tolist(),
                           b.enumerate_support().tolist(), b.mode.tolist(),
                           D.Bernoulli(probs=L.tensor([0.2, 0.5, 0.8])).mode.tolist(),
                           c.mode.tolist(), str(c.mean), c.has_enumerate_support,
                           D.Categorical.has_enumerate_support, D.Normal.has_rsample,
                           D.Uniform(0., 2.).mode.isnan().item(), D.Uniform(0., 2.).variance.item())
    np.testing.assert_equal(out["ember"], out["torch"])


# --- argument validation ---------------------------------------------------------------------
ERRORS = r"""
D.Normal(L.tensor([0., 1.]), L.tensor([1., -2.]))
D.Normal(0., 0.)
D.Normal(L.tensor([float('nan')]), L.tensor([1.]))
D.Normal(L.zeros(2), L.ones(3))
D.Normal(L.zeros(2), L.ones(2)).log_prob(0.5)
D.Normal(L.zeros(2), L.ones(2)).log_prob(L.zeros(3))
D.Categorical()
D.Categorical(probs=L.ones(3), logits=L.zeros(3))
D.Categorical(logits=L.tensor(1.))
D.Categorical(probs=L.tensor(1.))
D.Categorical(probs=L.tensor([0.5, -0.5, 1.0]))
D.Categorical(logits=L.zeros(3)).log_prob(L.tensor([3]))
D.Categorical(logits=L.zeros(3)).log_prob(L.tensor([-1]))
D.Categorical(logits=L.zeros(3)).log_prob(L.tensor([0.5]))
D.Categorical(logits=L.zeros(2, 3)).log_prob(L.tensor([0, 1, 2]))
D.Bernoulli(probs=L.tensor([1.5]))
D.Bernoulli()
D.Bernoulli(probs=0.5).log_prob(L.tensor(2.))
D.Uniform(1., 0.)
D.Uniform(L.zeros(2), L.tensor([1., 0.]))
D.Uniform(0., 1.).log_prob(L.tensor(1.5))
D.Independent(D.Normal(L.zeros(2), 1.), 2)
D.Normal("a", 1.)
D.kl_divergence(D.Normal(0., 1.), D.Categorical(logits=L.zeros(2)))
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
    d = Normal(ember.tensor([0.]), ember.tensor([-1.]), validate_args=False)
    assert d.scale.item() == -1.0
    u = Uniform(0., 1., validate_args=False)
    lp = u.log_prob(ember.tensor([0.5, 1.5]))
    tu = torch.distributions.Uniform(0., 1., validate_args=False)
    _close(lp, tu.log_prob(torch.tensor([0.5, 1.5])))
    Distribution.set_default_validate_args(False)
    try:
        Normal(0., -1.)
    finally:
        Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        Normal(0., -1.)
    with pytest.raises(ValueError):
        Distribution.set_default_validate_args("yes")


# --- sampling: shapes, dtypes, statistics, reparameterised gradients --------------------------
def test_normal_samples_have_the_right_statistics_and_rsample_gradients():
    loc = ember.tensor([0.5, -2.0], requires_grad=True)
    scale = ember.tensor([1.0, 0.25], requires_grad=True)
    d = Normal(loc, scale)
    s = d.sample((20000,))
    assert s.shape == (20000, 2) and s.dtype == ember.float32 and not s.requires_grad
    np.testing.assert_allclose(s.mean(0).numpy(), [0.5, -2.0], atol=0.03)
    np.testing.assert_allclose(s.std(0).numpy(), [1.0, 0.25], rtol=0.03)
    r = d.rsample((500,))
    assert r.requires_grad and r.grad_fn is not None
    r.sum().backward()
    eps = (r.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(loc.grad.numpy(), [500.0, 500.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-4, atol=1e-3)
    assert Normal(ember.zeros(2, dtype=ember.float64), 1.).sample().dtype == ember.float64


def test_categorical_bernoulli_uniform_sample_statistics():
    probs = ember.tensor([[0.1, 0.6, 0.3], [0.8, 0.1, 0.1]])
    s = Categorical(probs=probs).sample((20000,))
    assert s.shape == (20000, 2) and s.dtype == ember.int64
    freq = np.stack([np.bincount(s.numpy()[:, i], minlength=3) / 20000 for i in range(2)])
    np.testing.assert_allclose(freq, probs.numpy(), atol=0.015)
    b = Bernoulli(logits=ember.tensor([-1.0, 2.0])).sample((20000,))
    assert b.dtype == ember.float32 and set(np.unique(b.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(b.mean(0).numpy(), [1 / (1 + math.e), 1 / (1 + math.e ** -2)],
                               atol=0.015)
    low = ember.tensor([-1.0, 2.0], requires_grad=True)
    u = Uniform(low, ember.tensor([1.0, 2.5]))
    x = u.rsample((20000,))
    assert ((x.detach() >= low.detach()) & (x.detach() < 2.5)).all()
    np.testing.assert_allclose(x.detach().mean(0).numpy(), [0.0, 2.25], atol=0.02)
    x.sum().backward()
    # d/dlow of low + U (high - low) is 1 - U
    np.testing.assert_allclose(low.grad.numpy(), 20000 - ((x.detach() - low.detach())
                               / ember.tensor([2.0, 0.5])).sum(0).numpy(), rtol=1e-3)


def test_manual_seed_reproduces_ember_streams():
    def draw():
        return (ember.randn(3, 4), ember.rand(5), ember.randint(0, 10, (6,)),
                ember.nn.Linear(4, 2).weight.detach(), ember.randperm(7),
                ember.nn.functional.dropout(ember.ones(8), 0.5),
                Normal(ember.zeros(3), 1.).rsample((2,)),
                Categorical(logits=ember.zeros(4)).sample((5,)))

    ember.manual_seed(1234)
    a = draw()
    ember.manual_seed(1234)
    b = draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    ember.manual_seed(4321)
    c = draw()
    assert not np.array_equal(a[0].numpy(), c[0].numpy())
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    np.testing.assert_array_equal(ember.randn(4, generator=g1).numpy(),
                                  ember.randn(4, generator=g2).numpy())


# --- workloads --------------------------------------------------------------------------------
def _init(T, model, init):
    if init is not None:
        model.load_state_dict({k: T.tensor(v) for k, v in init.items()})
        return init
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def run_reinforce(T, episodes, use_probs, init=None, gamma=0.99):
    nn = T.nn
    policy = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 3))
    init = _init(T, policy, init)
    optimizer = T.optim.Adam(policy.parameters(), lr=1e-2)
    losses, entropies = [], []
    for states, actions, rewards in episodes:
        logits = policy(T.tensor(states))
        if use_probs:
            dist = T.distributions.Categorical(probs=T.softmax(logits, dim=-1))
        else:
            dist = T.distributions.Categorical(logits=logits)
        log_probs = dist.log_prob(T.tensor(actions))
        returns, g = [], 0.0
        for r in reversed(rewards.tolist()):
            g = r + gamma * g
            returns.insert(0, g)
        returns = T.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + 1e-8)
        entropy = dist.entropy().mean()
        loss = -(log_probs * returns).sum() - 0.01 * entropy
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        entropies.append(entropy.item())
    return dict(init=init, losses=losses, entropies=entropies, grad=policy[0].weight.grad)


@pytest.mark.parametrize("use_probs", [False, True], ids=["logits", "probs"])
def test_reinforce_policy_gradient_matches_torch(use_probs):
    rs = np.random.RandomState(12)
    episodes = [(rs.randn(n, 4).astype(np.float32), rs.randint(0, 3, n),
                 rs.randn(n).astype(np.float32)) for n in (9, 14, 6, 11, 8)]
    torch.manual_seed(0)
    t = run_reinforce(torch, episodes, use_probs)
    e = run_reinforce(ember, episodes, use_probs, init=t["init"])
    _close(e["losses"], t["losses"])
    _close(e["entropies"], t["entropies"])
    _close(e["grad"], t["grad"], rtol=1e-3)


def run_actor_critic(T, batches, init=None):
    nn, F = T.nn, T.nn.functional

    class ActorCritic(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 32), nn.ReLU())
            self.mu = nn.Linear(32, 2)
            self.log_std = nn.Parameter(T.zeros(2) - 0.5)
            self.value = nn.Linear(32, 1)

        def forward(self, s):
            h = self.body(s)
            dist = T.distributions.Normal(self.mu(h), self.log_std.exp().expand(s.shape[0], 2))
            return T.distributions.Independent(dist, 1), self.value(h).squeeze(-1)

    model = ActorCritic()
    init = _init(T, model, init)
    optimizer = T.optim.Adam(model.parameters(), lr=3e-3)
    out = []
    for states, actions, returns, old_log_probs in batches:
        dist, value = model(T.tensor(states))
        log_prob = dist.log_prob(T.tensor(actions))
        advantage = T.tensor(returns) - value.detach()
        ratio = T.exp(log_prob - T.tensor(old_log_probs))
        clipped = T.clamp(ratio, 0.8, 1.2)
        policy_loss = -T.min(ratio * advantage, clipped * advantage).mean()
        value_loss = F.mse_loss(value, T.tensor(returns))
        loss = policy_loss + 0.5 * value_loss - 0.01 * dist.entropy().mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        out.append([policy_loss.item(), value_loss.item(), dist.entropy().mean().item()])
    return dict(init=init, out=out, log_std=model.log_std.detach().clone())


def test_gaussian_actor_critic_matches_torch():
    rs = np.random.RandomState(13)
    batches = [(rs.randn(16, 3).astype(np.float32), rs.randn(16, 2).astype(np.float32),
                rs.randn(16).astype(np.float32), (rs.randn(16) - 2.5).astype(np.float32))
               for _ in range(6)]
    torch.manual_seed(0)
    t = run_actor_critic(torch, batches)
    e = run_actor_critic(ember, batches, init=t["init"])
    _close(e["out"], t["out"], rtol=2e-4)
    _close(e["log_std"], t["log_std"])


def test_vae_kl_through_distributions_equals_the_closed_form():
    rs = np.random.RandomState(14)
    mu, logvar = rs.randn(8, 3).astype(np.float32), rs.randn(8, 3).astype(np.float32)
    got = {}
    for T in (ember, torch):
        m, lv = T.tensor(mu, requires_grad=True), T.tensor(logvar, requires_grad=True)
        q = T.distributions.Normal(m, T.exp(0.5 * lv))
        prior = T.distributions.Normal(T.zeros_like(m), T.ones_like(lv))
        kl = T.distributions.kl_divergence(q, prior).sum()
        closed = -0.5 * T.sum(1 + lv - m.pow(2) - lv.exp())
        kl.backward()
        got[T.__name__] = (kl, closed, m.grad, lv.grad)
    e, t = got["ember"], got["torch"]
    assert e[0].item() == pytest.approx(e[1].item(), rel=1e-5)
    for a, b in zip(e, t):
        _close(a, b)


def test_gumbel_softmax_samples_the_categorical_and_passes_soft_gradients():
    F = ember.nn.functional
    logits = ember.tensor([[1.0, 0.0, -1.0, 0.5]]).expand(4000, 4)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).numpy(), 1.0, rtol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True)
    assert set(np.unique(hard.numpy())) == {0.0, 1.0} and (hard.sum(-1) == 1).all()
    freq = np.bincount(hard.argmax(-1).numpy(), minlength=4) / 4000
    np.testing.assert_allclose(freq, ember.softmax(logits[0], -1).numpy(), atol=0.03)
    # straight-through: the hard sample's gradient is the soft sample's (same noise)
    x = ember.tensor(np.random.RandomState(15).randn(3, 5).astype(np.float32),
                     requires_grad=True)
    w = ember.arange(5.0)
    grads = []
    for hard in (False, True):
        ember.manual_seed(3)
        y = F.gumbel_softmax(x, tau=0.7, hard=hard, dim=1)
        x.grad = None
        (y * w).sum().backward()
        grads.append((y.detach().argmax(1), x.grad.clone()))
    np.testing.assert_array_equal(grads[0][0].numpy(), grads[1][0].numpy())
    np.testing.assert_allclose(grads[0][1].numpy(), grads[1][1].numpy(), rtol=1e-5, atol=1e-6)
    with pytest.warns(UserWarning, match="deprecated"):
        F.gumbel_softmax(x, eps=1e-5)

    def seeded(a):  # the same noise on every call, so finite differences apply
        ember.manual_seed(3)
        return F.gumbel_softmax(a, tau=0.7, dim=0)

    x64 = ember.tensor(np.random.RandomState(16).randn(4, 2), requires_grad=True)
    assert ember.autograd.gradcheck(seeded, (x64,))
    ember.manual_seed(0)
    torch.manual_seed(0)
    assert F.gumbel_softmax(x, hard=True).shape == torch.nn.functional.gumbel_softmax(
        torch.tensor(x.detach().numpy()), hard=True).shape


def test_seeded_samples_follow_the_generator_stream_like_torch():
    """Each sampler draws through the same primitive as torch's (normal_, multinomial,
    bernoulli, rand), so when ember's generator reproduces torch's stream the samples agree."""
    ember.manual_seed(0)
    torch.manual_seed(0)
    if not np.array_equal(ember.randn(4).numpy(), torch.randn(4).numpy()):
        pytest.skip("ember's generator does not reproduce torch's stream")
    got = []
    for L in (ember, torch):
        L.manual_seed(5)
        D = L.distributions
        got.append([D.Normal(L.zeros(3), L.ones(3)).rsample((2,)),
                    D.Normal(L.zeros(3), L.ones(3)).sample(),
                    D.Categorical(logits=L.zeros(2, 4)).sample((3,)),
                    D.Bernoulli(probs=L.full((5,), 0.5)).sample(),
                    D.Uniform(L.zeros(3), L.ones(3)).rsample()])
    for e, t in zip(*got):
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_expanded_distributions_score_like_torch():
    def run(T):
        D = T.distributions
        v = T.tensor(VALUE[:, :2, :3])
        dists = [D.Normal(T.tensor(LOC[0, :3]), T.tensor(SCALE[0, :3])).expand((2, 3)),
                 D.Categorical(logits=T.tensor(LOGITS[0, :4])).expand((2, 3)),
                 D.Bernoulli(logits=T.tensor(LOC[0, :3])).expand((2, 3))]
        values = [v, T.tensor(ACTIONS[:2, :3] % 4), T.tensor(COIN[:2, :3])]
        return [d.log_prob(x) for d, x in zip(dists, values)] + [d.entropy() for d in dists]

    for e, t in zip(run(ember), run(torch), strict=True):
        assert e.shape == t.shape
        _close(e, t)
