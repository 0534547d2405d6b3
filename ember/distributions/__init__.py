"""``torch.distributions``: the distributions RL, VAE and Bayesian code reaches for.

Continuous: ``Normal``, ``Uniform``, ``MultivariateNormal``, ``Exponential``, ``Laplace``,
``Gamma``, ``Beta``, ``Dirichlet``, ``LogNormal``, ``RelaxedBernoulli``,
``RelaxedOneHotCategorical`` (all reparameterisable: ``rsample`` is differentiable).
Discrete: ``Categorical``, ``OneHotCategorical``, ``Bernoulli``, ``Binomial``, ``Poisson``.
Wrappers: ``Independent``, ``TransformedDistribution`` with ``transforms``. ``kl_divergence``
covers the same-type pairs and torch's closed forms between families. Shapes
(``batch_shape``, ``event_shape``), argument validation and its errors follow torch, and
samples are drawn the way torch draws them from the same generator, so after the same
``manual_seed`` they are torch's numbers.
"""
from __future__ import annotations

from . import constraints, transforms  # noqa: F401
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    IndependentTransform,
    PowerTransform,
    SigmoidTransform,
    SoftmaxTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .uniform import Uniform

# LogitRelaxedBernoulli and ExpRelaxedCategorical live in their modules only, as in torch
__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical",
           "ComposeTransform", "Dirichlet", "Distribution", "ExpTransform", "Exponential",
           "ExponentialFamily", "Gamma", "Independent", "IndependentTransform", "Laplace",
           "LogNormal", "MultivariateNormal", "Normal", "OneHotCategorical",
           "OneHotCategoricalStraightThrough", "Poisson", "PowerTransform", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "SigmoidTransform", "SoftmaxTransform", "TanhTransform",
           "Transform", "TransformedDistribution", "Uniform", "identity_transform",
           "kl_divergence", "register_kl"]
