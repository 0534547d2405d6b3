"""``ExponentialFamily``: the base of distributions with density ``exp(<t(x), theta> - F(theta)
+ k(x))``; entropy (and same-family KL) from the log normaliser by autograd."""
from __future__ import annotations

import ember

from .distribution import Distribution


class ExponentialFamily(Distribution):
    """A distribution given by natural parameters ``theta`` and a log normaliser ``F``.

    Subclasses define ``_natural_params``, ``_log_normalizer`` and ``_mean_carrier_measure``;
    ``entropy`` is then ``F(theta) - <theta, grad F(theta)> - E[k(x)]`` (a Bregman divergence),
    as torch computes it. torch builds that gradient with ``create_graph=True`` on detached
    parameters, so its entropy is not differentiable in the parameters either.
    """

    @property
    def _natural_params(self):
        """The natural parameters, a tuple of tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """The log normaliser ``F`` at the natural parameters."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """``E[k(x)]``, the expected carrier measure."""
        raise NotImplementedError

    def entropy(self):
        """``F(theta) - <theta, grad F(theta)> - E[k(x)]``."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        with ember.enable_grad():
            lg_normal = self._log_normalizer(*nparams)
            gradients = ember.autograd.grad(lg_normal.sum(), nparams)
        result = result + lg_normal.detach()
        for p, g in zip(nparams, gradients):
            result = result - (p.detach() * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result


__all__ = ["ExponentialFamily"]
