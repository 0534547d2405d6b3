"""``torch.distributions``: the distributions RL, VAE and Bayesian code reaches for.

Continuous: ``Normal``, ``Uniform``, ``MultivariateNormal``, ``Exponential``, ``Laplace``,
``Gamma``, ``Beta``, ``Dirichlet``, ``LogNormal``, ``RelaxedBernoulli``,
``RelaxedOneHotCategorical`` (all reparameterisable: ``rsample`` is differentiable).
Discrete: ``Categorical``, ``OneHotCategorical``, ``Bernoulli``, ``Binomial``, ``Poisson``.
Also ``Cauchy``, ``HalfCauchy``, ``HalfNormal``, ``StudentT``, ``Chi2``, ``Gumbel``,
``Pareto``, ``Weibull``, ``LowRankMultivariateNormal``; ``Multinomial``, ``Geometric``,
``NegativeBinomial``; ``ContinuousBernoulli``; ``MixtureSameFamily``; ``VonMises``,
``Kumaraswamy``, ``InverseGamma``, ``GeneralizedPareto``, ``Wishart``, ``LKJCholesky``.
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
from .cauchy import Cauchy
from .chi2 import Chi2
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .fishersnedecor import FisherSnedecor
from .gamma import Gamma
from .generalized_pareto import GeneralizedPareto
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .laplace import Laplace
from .lkj_cholesky import LKJCholesky
from .log_normal import LogNormal
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
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
from .transforms_more import (
    CatTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    ReshapeTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
)
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

# LogitRelaxedBernoulli and ExpRelaxedCategorical live in their modules only, as in torch
__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial",
           "Categorical", "Cauchy", "Chi2", "ComposeTransform", "ContinuousBernoulli",
           "Dirichlet", "Distribution", "ExpTransform", "Exponential", "ExponentialFamily", "Gamma",
           "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent",
           "IndependentTransform", "Laplace", "LogNormal", "LowRankMultivariateNormal",
           "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial",
           "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto",
           "Poisson", "PowerTransform", "RelaxedBernoulli", "RelaxedOneHotCategorical",
           "SigmoidTransform", "SoftmaxTransform", "StudentT", "TanhTransform",
           "Transform", "TransformedDistribution", "Uniform", "Weibull",
           "identity_transform", "kl_divergence", "register_kl"]
__all__ += ["GeneralizedPareto", "InverseGamma", "Kumaraswamy", "LKJCholesky", "VonMises",
            "Wishart"]
__all__ += ["CatTransform", "CorrCholeskyTransform", "CumulativeDistributionTransform",
            "FisherSnedecor", "LogisticNormal", "LowerCholeskyTransform",
            "PositiveDefiniteTransform", "ReshapeTransform", "SoftplusTransform",
            "StackTransform", "StickBreakingTransform", "biject_to", "transform_to"]
