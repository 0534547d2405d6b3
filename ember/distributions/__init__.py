"""``torch.distributions``: the distributions RL and VAE code reaches for.

``Normal``, ``Uniform`` (reparameterisable: ``rsample`` is differentiable), ``Categorical``,
``Bernoulli``, ``Independent``, and ``kl_divergence`` for the same-type pairs. Shapes
(``batch_shape``, ``event_shape``), argument validation and its errors follow torch; samples
come from ember's generator, so they match torch in distribution, not in value.
"""
from __future__ import annotations

from . import constraints  # noqa: F401
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "Normal", "Uniform",
           "kl_divergence", "register_kl"]
