"""``LKJCholesky(dim, concentration)``: Cholesky factors of LKJ-distributed correlation
matrices, sampled by the onion method."""
from __future__ import annotations

import math

import ember

from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import broadcast_all


class LKJCholesky(Distribution):
    """The LKJ distribution of lower Cholesky factors ``L`` of correlation matrices: the
    density of ``M = L L^T`` is proportional to ``det(M)^(concentration - 1)`` (uniform over
    correlation matrices at ``concentration == 1``).

    Samples use the onion method (Lewandowski, Kurowicka and Joe, 2009, section 3.2),
    vectorised as torch's: one Beta draw per row, then normals for the directions, so after
    the same ``manual_seed`` they are torch's numbers. Not reparameterisable.

    NOTE: torch draws row ``i``'s squared off-diagonal length from
    ``Beta(offset_i + 1/2, ...)`` with ``offset = (0, 0, 1, 2, ...)``, where the paper has
    ``Beta(i / 2, ...)``; so past the second row its samples are not exactly LKJ's (the
    correlations come out more spread). Kept, to draw torch's numbers; ``log_prob`` is the
    LKJ density.

    Args:
        dim: the matrices' size, at least 2.
        concentration: ``eta > 0`` (a number or a tensor of batch shape).

    Raises:
        ValueError: ``dim < 2``.
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        event_shape = ember.Size((dim, dim))
        # the Beta marginals of the onion method's section 3.2, one per row
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = ember.arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = ember.cat([offset.new_zeros((1,)), offset])
        beta_conc1 = offset + 0.5
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = ember.Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()):
        """The onion method: row ``i`` is ``sqrt(y_i) u_i`` with ``y_i`` a Beta draw and
        ``u_i`` a uniform direction in its first ``i`` coordinates, then the diagonal entry
        that makes the row unit length."""
        with ember.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = ember.randn(self._extended_shape(sample_shape), dtype=y.dtype).tril(-1)
            u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True)
            u_hypersphere[..., 0, :].fill_(0.0)  # the first row is 0 / 0
            w = ember.sqrt(y) * u_hypersphere
            eps = ember.finfo(w.dtype).tiny  # clamped for stability
            diag_elems = ember.clamp(1 - ember.sum(w ** 2, dim=-1), min=eps).sqrt()
            return w + ember.diag_embed(diag_elems)

    def log_prob(self, value):
        """``sum_i (2 (eta - 1) + dim - i) log L_ii`` over ``i = 2..dim``, less the
        normaliser (Lewandowski et al., p. 1999)."""
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = ember.arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = ember.sum(order * diag_elems.log(), dim=-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = ember.lgamma(alpha) * dm1
        numerator = ember.mvlgamma(alpha - 0.5, dm1)
        # the paper's pi term is D (D - 1) / 4 log(pi), mvlgamma's (D - 1)(D - 2) / 4 log(pi)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        normalize_term = pi_constant + numerator - denominator
        return unnormalized_log_pdf - normalize_term


__all__ = ["LKJCholesky"]
