"""``LogisticNormal(loc, scale)``: a Normal pushed onto the simplex by stick-breaking."""
from __future__ import annotations

from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms_more import StickBreakingTransform


class LogisticNormal(TransformedDistribution):
    """The logistic-normal distribution on the ``K``-simplex: ``X = StickBreaking(Z)`` for
    ``Z ~ Normal(loc, scale)`` of length ``K - 1``: coordinate ``k`` of
    ``log(X / (1 - X.cumsum(-1)))[..., :-1]`` is ``Z_k - log(K - 1 - k)``.

    The last dim of the broadcast ``loc``/``scale`` is the event (a scalar pair becomes one of
    length 1); ``mean``, ``variance`` and ``entropy`` have no closed form and raise
    NotImplementedError, as in torch.

    Args:
        loc: mean of the base normal.
        scale: standard deviation of the base normal (positive).
        validate_args: check the arguments (and ``log_prob``'s values) as torch does.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base_dist = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogisticNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        """The base normal's mean."""
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        """The base normal's standard deviation."""
        return self.base_dist.base_dist.scale


__all__ = ["LogisticNormal"]
