"""The distributions of ``test_more_distributions.py``: sampling mechanics, shapes,
supports, transforms and argument validation, without torch."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.distributions import (
    AffineTransform,
    Beta,
    Binomial,
    ComposeTransform,
    Dirichlet,
    Exponential,
    ExpTransform,
    Gamma,
    Independent,
    Laplace,
    LogNormal,
    MultivariateNormal,
    Normal,
    OneHotCategorical,
    Poisson,
    RelaxedOneHotCategorical,
    SigmoidTransform,
    TanhTransform,
    TransformedDistribution,
    constraints,
)
from tests.distributions.test_more_distributions import (
    close,
    t64,
)


# --- sampling mechanics, shapes, transforms, validation ----------------------------------------
def test_samples_are_reproducible_and_in_the_parameter_dtype():
    def draw():
        return [MultivariateNormal(ember.zeros(2), ember.eye(2)).sample((3,)),
                Gamma(ember.ones(3), 1.0).sample((2,)), Beta(0.5, 0.5).sample((4,)),
                Dirichlet(ember.ones(3)).sample(), Poisson(ember.tensor([3.0])).sample((5,)),
                Binomial(10, ember.tensor([0.5])).sample((5,)), Laplace(0.0, 1.0).sample((3,)),
                Exponential(ember.tensor([1.0])).sample((3,)), ember.rand(3)]

    ember.manual_seed(21)
    a = draw()
    ember.manual_seed(21)
    b = draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    g = Gamma(ember.ones(3, dtype=ember.float64), 2.0).sample()
    assert g.dtype == ember.float64
    assert Poisson(ember.ones(2, dtype=ember.float64)).sample().dtype == ember.float64
    assert not Gamma(ember.ones(3, requires_grad=True), 1.0).sample().requires_grad
    r = Gamma(ember.ones(3, requires_grad=True), 1.0).rsample()
    assert r.requires_grad and r.grad_fn is not None
    assert (Gamma(ember.full((1000,), 0.01), 1.0).sample() > 0).all()  # floored at tiny


def test_shapes_expand_and_supports():
    cases = [
        (MultivariateNormal(ember.zeros(4, 1, 3), ember.eye(3).expand(2, 3, 3)), (4, 2), (3,)),
        (Exponential(ember.ones(2, 3)), (2, 3), ()),
        (Beta(ember.ones(2), ember.ones(3, 1)), (3, 2), ()),
        (Dirichlet(ember.ones(5, 4)), (5,), (4,)),
        (Binomial(ember.tensor([[5.0], [10.0]]), probs=ember.full((3,), 0.5)), (2, 3), ()),
        (OneHotCategorical(logits=ember.zeros(2, 4)), (2,), (4,)),
        (RelaxedOneHotCategorical(ember.tensor(0.5), logits=ember.zeros(2, 4)), (2,), (4,)),
        (LogNormal(ember.zeros(3), 1.0), (3,), ()),
    ]
    for d, batch, event in cases:
        assert d.batch_shape == batch and d.event_shape == event
        assert d.sample((2,)).shape == (2,) + batch + event
        e = d.expand((6,) + batch)
        assert e.batch_shape == (6,) + batch and e.sample().shape == (6,) + batch + event
        assert e.log_prob(e.sample()).shape == (6,) + batch
    assert repr(MultivariateNormal.support) == "IndependentConstraint(Real(), 1)"
    assert repr(Gamma.support) == "GreaterThanEq(lower_bound=0.0)"
    assert repr(Poisson.support) == "IntegerGreaterThan(lower_bound=0)"
    assert repr(OneHotCategorical.support) == "OneHot()"
    assert repr(constraints.positive_definite) == "PositiveDefinite()"
    assert repr(constraints.lower_cholesky) == "LowerCholesky()"
    assert constraints.positive_definite.check(ember.eye(2) * -1).item() is False
    assert constraints.lower_cholesky.check(ember.tensor([[1.0, 0.0], [3.0, 2.0]])).item()


def test_transforms_and_transformed_distribution():
    x = t64([-1.5, 0.2, 2.0], True)
    for t in (ExpTransform(), SigmoidTransform(), TanhTransform(), AffineTransform(1.0, -3.0),
              ComposeTransform([AffineTransform(0.5, 2.0), SigmoidTransform()])):
        y = t(x)
        close(t.inv(y), x.detach().numpy(), rtol=1e-9)
        (dy,) = ember.autograd.grad(y.sum(), [x])
        close(t.log_abs_det_jacobian(x, y), np.log(np.abs(dy.numpy())), rtol=1e-9)
        close(t.inv.log_abs_det_jacobian(y, x), -np.log(np.abs(dy.numpy())), rtol=1e-9)
    # a logistic distribution built from a uniform, against its closed form
    loc, scale = 0.5, 2.0
    logistic = TransformedDistribution(
        Independent(ember.distributions.Uniform(t64([0.0, 0.0]), t64([1.0, 1.0])), 1),
        [SigmoidTransform().inv, AffineTransform(loc, scale)])
    v = np.array([[-1.0, 3.0], [0.5, 0.0]])
    z = (v - loc) / scale
    assert logistic.event_shape == (2,) and logistic.batch_shape == ()
    close(logistic.log_prob(t64(v)), (-z - np.log(scale) - 2 * np.log1p(np.exp(-z))).sum(-1),
          rtol=1e-9)
    assert logistic.sample((5,)).shape == (5, 2)
    ln = TransformedDistribution(Normal(t64([0.0, 1.0]), 2.0), ExpTransform())
    close(ln.log_prob(t64([0.5, 2.0])), LogNormal(t64([0.0, 1.0]), 2.0)
          .log_prob(t64([0.5, 2.0])).numpy(), rtol=1e-12)
    close(ln.cdf(ln.icdf(t64([0.25, 0.75]))), [0.25, 0.75], rtol=1e-9)


@pytest.mark.parametrize("make, message", [
    (lambda: MultivariateNormal(ember.zeros(2), ember.tensor([[1.0, 2.0], [2.0, 1.0]])),
     r"Expected parameter covariance_matrix .* PositiveDefinite\(\)"),
    (lambda: MultivariateNormal(ember.zeros(2), scale_tril=ember.tensor([[1.0, 1.0],
                                                                         [0.0, 1.0]])),
     r"Expected parameter scale_tril .* LowerCholesky\(\)"),
    (lambda: MultivariateNormal(ember.zeros(2)), "Exactly one of covariance_matrix"),
    (lambda: MultivariateNormal(ember.tensor(0.0), ember.eye(2)),
     "loc must be at least one-dimensional"),
    (lambda: Exponential(ember.tensor([-1.0])), r"Expected parameter rate .* GreaterThan"),
    (lambda: Gamma(1.0, 1.0).log_prob(-1.0), r"Expected value argument .*GreaterThanEq"),
    (lambda: Beta(0.0, 1.0), "Expected parameter concentration"),
    (lambda: Dirichlet(ember.tensor([1.0, -1.0])),
     r"IndependentConstraint\(GreaterThan\(lower_bound=0.0\), 1\)"),
    (lambda: Poisson(2.0).log_prob(ember.tensor(0.5)), "IntegerGreaterThan"),
    (lambda: Binomial(10, probs=ember.tensor(0.5)).log_prob(ember.tensor(11.0)),
     "IntegerInterval"),
    (lambda: OneHotCategorical(logits=ember.zeros(3)).log_prob(ember.tensor([1.0, 1.0, 0.0])),
     r"OneHot\(\)"),
    (lambda: LogNormal(0.0, -1.0), "Expected parameter scale"),
])
def test_validation_raises_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_validate_args_false_and_linalg_errors():
    d = Gamma(-1.0, 1.0, validate_args=False)
    assert d.concentration.item() == -1.0
    with pytest.raises(ember.linalg.LinAlgError):
        MultivariateNormal(ember.zeros(2), ember.tensor([[1.0, 2.0], [2.0, 1.0]]),
                           validate_args=False)
