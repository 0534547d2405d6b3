"""``Dirichlet(concentration)``: distributions over the simplex, reparameterisable."""
from __future__ import annotations

import ember

from . import constraints
from ._functions import sample_dirichlet
from .exp_family import ExponentialFamily


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution over the last dim of ``concentration`` (alpha):
    density ``prod x_k^(alpha_k - 1) / B(alpha)`` on the simplex."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = ember.Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self.event_shape)
        ExponentialFamily.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        """torch's draws (float64 gammas, normalised); gradients reach ``concentration``
        through torch's ``_dirichlet_grad``."""
        shape = self._extended_shape(sample_shape)
        return sample_dirichlet(self.concentration.expand(shape))

    def log_prob(self, value):
        """``sum (alpha - 1) log x + lgamma(sum alpha) - sum lgamma(alpha)``."""
        if self._validate_args:
            self._validate_sample(value)
        return (ember.xlogy(self.concentration - 1.0, value).sum(-1)
                + ember.lgamma(self.concentration.sum(-1))
                - ember.lgamma(self.concentration).sum(-1))

    @property
    def mean(self):
        """``alpha / sum alpha``."""
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        """``(alpha - 1)+ / sum (alpha - 1)+``; a one-hot vertex where every alpha < 1."""
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        vertex = ember.nn.functional.one_hot(mode.argmax(dim=-1),
                                             concentrationm1.shape[-1]).to(mode)
        return ember.where(mask.unsqueeze(-1), vertex, mode)

    @property
    def variance(self):
        """``alpha (a0 - alpha) / (a0^2 (a0 + 1))`` with ``a0 = sum alpha``."""
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        """``log B(alpha) + (a0 - K) digamma(a0) - sum (alpha - 1) digamma(alpha)``."""
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (ember.lgamma(self.concentration).sum(-1) - ember.lgamma(a0)
                - (k - a0) * ember.digamma(a0)
                - ((self.concentration - 1.0) * ember.digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - ember.lgamma(x.sum(-1))


__all__ = ["Dirichlet"]
