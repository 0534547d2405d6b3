"""The transforms of ``transforms_more``, ``biject_to``/``transform_to``, ``FisherSnedecor`` and
``LogisticNormal``, without torch.

Transforms: round trips ``x -> t(x) -> t.inv`` (and from the codomain back), shape inference
against the real shapes, ``log_abs_det_jacobian`` against the log-determinant of a
central-difference Jacobian in float64, finite-difference gradient checks of forward,
inverse and log-det, and caching. Registries: every registered constraint's transform lands
in the constraint's support (and ``biject_to``'s inverts). Distributions: densities and
moments against closed forms written here in NumPy, sample moments on large draws, pathwise
rsample gradients.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.distributions import (
    AffineTransform,
    CatTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    FisherSnedecor,
    IndependentTransform,
    LogisticNormal,
    LowerCholeskyTransform,
    Normal,
    PositiveDefiniteTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    biject_to,
    constraints,
    transform_to,
)
from ember.distributions.constraint_registry import ConstraintRegistry

lgamma = np.vectorize(math.lgamma)


def t64(a, grad=False):
    return ember.tensor(np.asarray(a, np.float64), requires_grad=grad)


def _corr_proj(y):
    d = y.shape[-1]
    return y[np.tril_indices(d, -1)]


# (id, transform, event shape of x, low, high, projection of one output event onto the
# coordinates its log-det is taken over)
BIJECTIONS = [
    ("reshape", ReshapeTransform((2, 3), (3, 2)), (2, 3), -2, 2, np.ravel),
    ("softplus", SoftplusTransform(), (4,), -5, 5, np.ravel),
    ("stick_breaking", StickBreakingTransform(), (3,), -3, 3, lambda y: y[:-1]),
    ("stick_breaking_k1", StickBreakingTransform(), (1,), -3, 3, lambda y: y[:-1]),
    ("corr_cholesky_2", CorrCholeskyTransform(), (1,), -1.5, 1.5, _corr_proj),
    ("corr_cholesky_4", CorrCholeskyTransform(), (6,), -1.5, 1.5, _corr_proj),
    ("cat", CatTransform([ExpTransform(), AffineTransform(1.0, -2.0), SoftplusTransform()],
                         dim=-1, lengths=[2, 1, 2]), (5,), -2, 2, np.ravel),
    ("cat_event", CatTransform([IndependentTransform(ExpTransform(), 1),
                                AffineTransform(0.5, 3.0, event_dim=1)], dim=-2,
                               lengths=[1, 2]), (3, 2), -2, 2, np.ravel),
    ("stack", StackTransform([ExpTransform(), TanhTransform(), SigmoidTransform()], dim=-1),
     (3,), -2, 2, np.ravel),
    ("stack_middle", StackTransform([ExpTransform(), SoftplusTransform()], dim=-2), (2, 3),
     -2, 2, np.ravel),
    ("cdf_normal", CumulativeDistributionTransform(Normal(t64(0.5), t64(2.0))), (3,), -3, 3,
     np.ravel),
]
IDS = [c[0] for c in BIJECTIONS]
BATCH = (2,)


def _x(case, seed=0, batch=BATCH):
    _, _, event, low, high, _ = case
    return np.random.RandomState(seed).uniform(low, high, batch + event)


@pytest.mark.parametrize("case", BIJECTIONS, ids=IDS)
def test_round_trip_and_shapes(case):
    t = case[1]
    for batch in [(), (3,), (2, 2)]:
        x = t64(_x(case, batch=batch))
        y = t(x)
        assert tuple(t.forward_shape(x.shape)) == tuple(y.shape)
        assert tuple(t.inverse_shape(y.shape)) == tuple(x.shape)
        np.testing.assert_allclose(t.inv(y).numpy(), x.numpy(), rtol=1e-9, atol=1e-9)
        if case[0] != "cat_event":  # torch's Cat constraint cannot check parts with events
            assert bool(t.codomain.check(y).all())
        np.testing.assert_allclose(t(t.inv(y)).numpy(), y.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case", BIJECTIONS, ids=IDS)
def test_log_abs_det_jacobian_matches_numerical_jacobian(case):
    t, event, proj = case[1], case[2], case[5]
    x = _x(case)
    ladj = t.log_abs_det_jacobian(t64(x), t(t64(x))).numpy()
    ladj = ladj.reshape(BATCH + (-1,)).sum(-1)
    h = 1e-6
    for b in range(BATCH[0]):
        def f(v, b=b):
            xb = x.copy()
            xb[b] = v.reshape(event)
            return proj(t(t64(xb)).numpy()[b]).ravel()
        v0 = x[b].ravel()
        cols = []
        for i in range(v0.size):
            e = np.zeros_like(v0)
            e[i] = h
            cols.append((f(v0 + e) - f(v0 - e)) / (2 * h))
        jac = np.stack(cols, axis=1)
        assert jac.shape[0] == jac.shape[1], jac.shape
        np.testing.assert_allclose(ladj[b], np.linalg.slogdet(jac)[1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", BIJECTIONS, ids=IDS)
def test_forward_inverse_and_log_det_pass_gradcheck(case):
    t = case[1]
    x = t64(_x(case), grad=True)
    y = t64(t(x).detach().numpy(), grad=True)
    assert gradcheck(lambda x: t(x), (x,))
    assert gradcheck(lambda y: t.inv(y), (y,))
    assert gradcheck(lambda x: t.log_abs_det_jacobian(x, t(x)), (x,))


def test_cdf_transform_gradcheck_through_distribution_parameters():
    x = t64(np.random.RandomState(0).uniform(-2, 2, (4,)))
    loc, scale = t64([0.3], grad=True), t64([1.7], grad=True)

    def fn(loc, scale):
        t = CumulativeDistributionTransform(Normal(loc, scale))
        return t(x), t.log_abs_det_jacobian(x, t(x))
    assert gradcheck(fn, (loc, scale))


def _spd(rs, batch, n):
    a = rs.randn(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + 0.5 * np.eye(n)


@pytest.mark.parametrize("t", [LowerCholeskyTransform(), PositiveDefiniteTransform()],
                         ids=["lower_cholesky", "positive_definite"])
def test_matrix_transforms_round_trip_from_codomain_and_pass_gradcheck(t):
    rs = np.random.RandomState(0)
    x = t64(rs.randn(2, 3, 3), grad=True)
    y = t(x)
    assert bool(t.codomain.check(y).all())
    assert tuple(y.shape) == (2, 3, 3)
    # not bijective: only the strict upper triangle is lost, so t(t.inv(y)) == y
    np.testing.assert_allclose(t(t.inv(y)).detach().numpy(), y.detach().numpy(), rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(t.inv(y).detach().numpy(),
                               np.tril(x.detach().numpy()), rtol=1e-9, atol=1e-9)
    target = _spd(rs, (2,), 3)
    if isinstance(t, LowerCholeskyTransform):
        target = np.linalg.cholesky(target)
    target = t64(target, grad=True)
    np.testing.assert_allclose(t(t.inv(target)).detach().numpy(), target.detach().numpy(),
                               rtol=1e-9, atol=1e-9)
    assert gradcheck(lambda x: t(x), (x,))
    if isinstance(t, LowerCholeskyTransform):
        assert gradcheck(lambda y: t.inv(y), (target,))


def test_positive_definite_transform_is_l_lt():
    x = np.random.RandomState(1).randn(3, 3)
    low = np.tril(x, -1) + np.diag(np.exp(np.diag(x)))
    y = PositiveDefiniteTransform()(t64(x)).numpy()
    np.testing.assert_allclose(y, low @ low.T, rtol=1e-12)


def test_softplus_transform_large_inputs_and_sign():
    x = t64([-40.0, -1.0, 0.0, 25.0, 80.0])
    y = SoftplusTransform()(x)
    np.testing.assert_allclose(y.numpy(), np.logaddexp(0, x.numpy()), rtol=1e-12)
    np.testing.assert_allclose(SoftplusTransform().inv(y).numpy()[1:], x.numpy()[1:],
                               rtol=1e-9)
    assert SoftplusTransform().sign == 1 and SoftplusTransform().inv.sign == 1


def test_stick_breaking_output_sums_to_one_with_extreme_inputs():
    x = t64([[-30.0, 0.0, 30.0], [50.0, 50.0, 50.0], [-50.0, -50.0, -50.0]])
    y = StickBreakingTransform()(x).numpy()
    assert y.shape == (3, 4)
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-12)
    assert (y >= 0).all()


def test_corr_cholesky_rows_have_unit_norm():
    y = CorrCholeskyTransform()(t64(np.random.RandomState(2).randn(4, 10))).numpy()
    assert y.shape == (4, 5, 5)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), 1.0, rtol=1e-12)
    assert (np.triu(y, 1) == 0).all() and (np.diagonal(y, axis1=-2, axis2=-1) > 0).all()


@pytest.mark.parametrize("t, shape", [
    (SoftplusTransform(), (3, 4)), (StickBreakingTransform(), (3, 4)),
    (CorrCholeskyTransform(), (3, 6)), (ReshapeTransform((4,), (2, 2)), (3, 4)),
    (CatTransform([ExpTransform(), SoftplusTransform()], -1, [2, 2]), (3, 4)),
    (StackTransform([ExpTransform(), SoftplusTransform()], -1), (3, 2)),
    (CumulativeDistributionTransform(Normal(0.0, 1.0)), (3, 4))],
    ids=lambda p: type(p).__name__)
def test_cache_returns_the_cached_pair(t, shape):
    cached = t.with_cache(1)
    assert t.with_cache(0) is t and cached.with_cache(1) is cached
    assert type(cached) is type(t) and cached._cache_size == 1
    x = ember.tensor(np.random.RandomState(0).uniform(0.1, 1.0, shape), dtype=ember.float32)
    y = cached(x)
    assert cached(x) is y and cached.inv(y) is x
    assert t.inv(y) is not x


def test_cat_and_stack_pass_cache_to_parts_and_check_their_domains():
    cat = CatTransform([ExpTransform(), SoftplusTransform()], -1, [1, 2], cache_size=1)
    assert all(p._cache_size == 1 for p in cat.transforms)
    assert cat.event_dim == 0 and cat.length == 3
    assert isinstance(cat.domain, constraints.cat) and cat.domain.event_dim == 0
    stack = StackTransform([ExpTransform(), IndependentTransform(SoftplusTransform(), 1)], 0)
    assert stack.domain.event_dim == 1 and stack.codomain.event_dim == 1
    assert repr(stack.codomain) == "Stack()"
    value = t64([[0.5, 2.0], [-1.0, 3.0]])
    np.testing.assert_array_equal(constraints.stack([constraints.positive, constraints.real], 0)
                                  .check(value).numpy(), [[True, True], [True, True]])
    cat_constraint = constraints.cat([constraints.positive, constraints.real], -1, [1, 1])
    np.testing.assert_array_equal(cat_constraint.check(value).numpy(),
                                  [[True, True], [False, True]])
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        SoftplusTransform(cache_size=2)


# --- biject_to / transform_to --------------------------------------------------------------
CONSTRAINTS = [
    ("real", constraints.real, ()),
    ("real_vector", constraints.real_vector, (3,)),
    ("independent_positive", constraints.independent(constraints.positive, 2), (2, 3)),
    ("positive", constraints.positive, ()),
    ("nonnegative", constraints.nonnegative, (2,)),
    ("greater_than", constraints.greater_than(-1.5), (2,)),
    ("greater_than_eq", constraints.greater_than_eq(2.0), ()),
    ("less_than", constraints.less_than(3.0), (2,)),
    ("interval", constraints.interval(-2.0, 5.0), (2,)),
    ("unit_interval", constraints.unit_interval, (2,)),
    ("interval_tensor", constraints.interval(t64([-1.0, 0.0, 2.0]), t64([1.0, 0.5, 7.0])),
     (3,)),
    ("simplex", constraints.simplex, (3,)),
    ("lower_cholesky", constraints.lower_cholesky, (3, 3)),
    ("positive_definite", constraints.positive_definite, (3, 3)),
    ("positive_semidefinite", constraints.positive_semidefinite, (2, 2)),
    ("corr_cholesky", constraints.corr_cholesky, (6,)),
    ("cat", constraints.cat([constraints.positive, constraints.real, constraints.unit_interval], -1,
                 [2, 1, 2]), (5,)),
    ("stack", constraints.stack([constraints.positive, constraints.less_than(2.0)], -1), (2,)),
]
NOT_BIJECTIVE = {"lower_cholesky", "positive_definite", "positive_semidefinite"}


@pytest.mark.parametrize("registry", [biject_to, transform_to], ids=["biject", "transform"])
@pytest.mark.parametrize("case", CONSTRAINTS, ids=lambda c: c[0])
def test_registry_output_lies_in_support(case, registry):
    name, constraint, event = case
    if registry is biject_to and name in NOT_BIJECTIVE:
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            registry(constraint)
        return
    t = registry(constraint)
    x = t64(np.random.RandomState(0).uniform(-3, 3, (4,) + event), grad=True)
    y = t(x)
    assert bool(constraint.check(y).all())
    assert gradcheck(lambda x: t(x), (x,))
    if registry is biject_to:
        assert t.bijective
        np.testing.assert_allclose(t.inv(y).detach().numpy(), x.detach().numpy(), rtol=1e-8,
                                   atol=1e-8)
        assert tuple(t.log_abs_det_jacobian(x, y).shape)[:1] == (4,)


def test_registry_picks_torchs_transforms():
    assert biject_to(constraints.unit_interval) == SigmoidTransform()
    assert isinstance(biject_to(constraints.simplex), StickBreakingTransform)
    assert type(transform_to(constraints.simplex)).__name__ == "SoftmaxTransform"
    positive = biject_to(constraints.positive)  # greater_than's entry, as in torch
    assert [type(p).__name__ for p in positive.parts] == ["ExpTransform", "AffineTransform"]
    assert isinstance(transform_to(constraints.positive_semidefinite),
                      PositiveDefiniteTransform)
    assert isinstance(biject_to(constraints.real_vector), IndependentTransform)


def test_registry_register_and_errors():
    registry = ConstraintRegistry()
    registry.register(constraints.positive, lambda c: ExpTransform())

    @registry.register(constraints.interval)
    def _factory(constraint):
        return AffineTransform(constraint.lower_bound, 2.0)

    assert isinstance(registry(constraints.greater_than(3.0)), ExpTransform)
    assert registry(constraints.interval(1.0, 4.0)).loc == 1.0
    with pytest.raises(NotImplementedError, match="Cannot transform _Real constraints"):
        registry(constraints.real)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        registry.register(int, lambda c: c)
    with pytest.raises(NotImplementedError, match="_Boolean"):
        biject_to(constraints.boolean)


# --- FisherSnedecor ------------------------------------------------------------------------
def _f_log_pdf(x, a, b):
    return (lgamma((a + b) / 2) - lgamma(a / 2) - lgamma(b / 2) + a / 2 * np.log(a / b)
            + (a / 2 - 1) * np.log(x) - (a + b) / 2 * np.log1p(a / b * x))


def test_fisher_snedecor_log_prob_and_moments_match_closed_forms():
    a = np.array([0.5, 3.0, 7.0])
    b = np.array([[1.5], [4.5], [9.0]])
    x = np.random.RandomState(0).uniform(0.05, 4.0, (2, 3, 3))
    d = FisherSnedecor(t64(a), t64(b))
    assert tuple(d.batch_shape) == (3, 3)
    np.testing.assert_allclose(d.log_prob(t64(x)).numpy(), _f_log_pdf(x, a, b), rtol=1e-12)
    bb = np.broadcast_to(b, (3, 3))
    np.testing.assert_allclose(d.mean.numpy(), np.where(bb > 2, bb / (bb - 2), np.nan))
    var = 2 * bb ** 2 * (a + bb - 2) / (a * (bb - 2) ** 2 * (bb - 4))
    np.testing.assert_allclose(d.variance.numpy(), np.where(bb > 4, var, np.nan))
    mode = (a - 2) / a * bb / (bb + 2)
    np.testing.assert_allclose(d.mode.numpy(), np.where(a > 2, mode, np.nan))


def test_fisher_snedecor_log_prob_passes_gradcheck():
    a, b = t64([0.7, 3.0], grad=True), t64([[2.5], [6.0]], grad=True)
    x = t64([[0.4, 1.3], [2.2, 0.9]], grad=True)
    assert gradcheck(lambda a, b, x: FisherSnedecor(a, b).log_prob(x), (a, b, x))
    a, b = t64([3.0, 5.0], grad=True), t64([6.0, 9.0], grad=True)
    assert gradcheck(lambda a, b: (FisherSnedecor(a, b).mean, FisherSnedecor(a, b).variance,
                                   FisherSnedecor(a, b).mode), (a, b))


def test_fisher_snedecor_sample_moments_and_shapes():
    a, b = np.array([2.0, 10.0]), np.array([20.0, 12.0])
    d = FisherSnedecor(t64(a), t64(b))
    s = d.sample((40000,)).numpy()
    assert s.shape == (40000, 2) and (s > 0).all()
    np.testing.assert_allclose(s.mean(0), b / (b - 2), rtol=0.02)
    var = 2 * b ** 2 * (a + b - 2) / (a * (b - 2) ** 2 * (b - 4))
    np.testing.assert_allclose(s.var(0), var, rtol=0.1)
    e = FisherSnedecor(3.0, 5.0)
    assert tuple(e.batch_shape) == () and tuple(e.sample((4,)).shape) == (4,)
    assert tuple(e.expand((2, 3)).sample().shape) == (2, 3)
    assert tuple(d.expand((5, 2)).rsample((3,)).shape) == (3, 5, 2)


def test_fisher_snedecor_rsample_gradient_of_the_mean():
    """Pathwise gradients of the sample mean estimate d E[Y] / d df = (0, -2 / (df2 - 2)^2)."""
    df1, df2 = t64([4.0], grad=True), t64([12.0], grad=True)
    FisherSnedecor(df1, df2).rsample((100000,)).mean().backward()
    assert abs(df1.grad.item()) < 0.002
    np.testing.assert_allclose(df2.grad.item(), -2 / 10 ** 2, rtol=0.05)


# --- LogisticNormal ------------------------------------------------------------------------
def _logistic_normal_log_pdf(v, loc, scale):
    k = v.shape[-1]
    left = 1 - np.concatenate([np.zeros(v.shape[:-1] + (1,)), np.cumsum(v, -1)], -1)
    offset = np.arange(k - 1, 0, -1)
    z = np.log(v[..., :-1] / left[..., 1:k]) + np.log(offset)
    log_normal = (-((z - loc) ** 2) / (2 * scale ** 2) - np.log(scale)
                  - 0.5 * np.log(2 * np.pi)).sum(-1)
    # the Jacobian of v[:-1] in z is triangular, with diagonal v_k left_{k+1} / left_k
    log_det = np.log(v[..., :-1] * left[..., 1:k] / left[..., :k - 1]).sum(-1)
    return log_normal - log_det


def test_logistic_normal_log_prob_matches_closed_form_and_gradcheck():
    rs = np.random.RandomState(0)
    loc, scale = rs.randn(2, 3), rs.uniform(0.5, 2.0, (3,))
    v = rs.dirichlet([1.0, 2.0, 3.0, 4.0], size=(5, 2))
    d = LogisticNormal(t64(loc), t64(scale))
    assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == (4,)
    np.testing.assert_allclose(d.log_prob(t64(v)).numpy(),
                               _logistic_normal_log_pdf(v, loc, scale), rtol=1e-10)
    args = (t64(loc, grad=True), t64(scale, grad=True), t64(v[:2], grad=True))
    # validate_args=False: the finite differences step off the simplex
    assert gradcheck(lambda loc, scale, v: LogisticNormal(loc, scale, validate_args=False)
                     .log_prob(v), args)


def test_logistic_normal_samples_invert_to_the_base_normal():
    loc, scale = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3, 2.0])
    d = LogisticNormal(t64(loc), t64(scale))
    s = d.sample((20000,))
    assert tuple(s.shape) == (20000, 4) and bool(constraints.simplex.check(s).all())
    z = StickBreakingTransform().inv(s).numpy()
    np.testing.assert_allclose(z.mean(0), loc, atol=0.05)
    np.testing.assert_allclose(z.std(0), scale, rtol=0.03)


def test_logistic_normal_rsample_passes_gradcheck_with_fixed_noise():
    def fn(loc, scale):
        ember.manual_seed(7)
        return LogisticNormal(loc, scale).rsample((3,))
    assert gradcheck(fn, (t64([0.2, -0.4], grad=True), t64([0.8, 1.3], grad=True)))


def test_logistic_normal_scalar_parameters_and_expand():
    d = LogisticNormal(0.3, 1.5)
    assert tuple(d.batch_shape) == () and tuple(d.event_shape) == (2,)
    assert tuple(d.loc.shape) == (1,) and float(d.scale) == 1.5
    e = LogisticNormal(ember.zeros(3), 1.0).expand((4,))
    assert isinstance(e, LogisticNormal)
    assert tuple(e.batch_shape) == (4,) and tuple(e.sample((2,)).shape) == (2, 4, 4)
    with pytest.raises(NotImplementedError):
        _ = d.mean
