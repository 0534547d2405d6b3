"""What ``Binomial`` and ``NegativeBinomial`` share: a ``total_count`` broadcast with either
``probs`` or ``logits`` (the one given is ``_param``), and the expansion of both."""
from __future__ import annotations

import ember

from .distribution import Distribution
from .utils import broadcast_all


def init_count_and_param(dist, total_count, probs, logits, validate_args):
    """Set ``total_count`` and ``probs`` or ``logits`` (broadcast, the count in their dtype),
    then initialise ``dist`` with their batch shape.

    Raises:
        ValueError: neither or both of ``probs`` and ``logits``.
    """
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    if probs is not None:
        dist.total_count, dist.probs = broadcast_all(total_count, probs)
        dist.total_count = dist.total_count.type_as(dist.probs)
    else:
        dist.total_count, dist.logits = broadcast_all(total_count, logits)
        dist.total_count = dist.total_count.type_as(dist.logits)
    dist._param = dist.probs if probs is not None else dist.logits
    Distribution.__init__(dist, dist._param.size(), validate_args=validate_args)


def expand_count_and_param(dist, cls, batch_shape, _instance):
    """``dist.expand(batch_shape)`` for a ``cls`` set up by :func:`init_count_and_param`."""
    new = dist._get_checked_instance(cls, _instance)
    batch_shape = ember.Size(batch_shape)
    new.total_count = dist.total_count.expand(batch_shape)
    if "probs" in dist.__dict__:
        new.probs = dist.probs.expand(batch_shape)
        new._param = new.probs
    if "logits" in dist.__dict__:
        new.logits = dist.logits.expand(batch_shape)
        new._param = new.logits
    Distribution.__init__(new, batch_shape, validate_args=False)
    new._validate_args = dist._validate_args
    return new
