"""Dropout: zero each element with probability p, scale the survivors by 1/(1-p)."""
from __future__ import annotations

import numpy as np

from ..._sampling import bernoulli_scalar
from ...autograd.function import Op


def keep_mask(generator, shape, p, like=None):
    """Boolean mask, True with probability 1 - p: torch's ``bernoulli_(1 - p)`` (the draw
    its CPU dropout makes), so after the same seed the same elements survive.

    torch draws into a tensor laid out like the input, in memory order: ``like`` (the
    input's array), when it is a transposed dense array, gives that order.
    """
    order = _memory_order(like) if like is not None and not like.flags.c_contiguous else None
    if order is None:
        return bernoulli_scalar(generator, shape, 1.0 - p)
    drawn = bernoulli_scalar(generator, tuple(shape[d] for d in order), 1.0 - p)
    return drawn.transpose(np.argsort(order))


def _memory_order(a):
    """The axes of ``a`` from largest stride to smallest, when that permutation of ``a`` is
    C-contiguous (torch's ``empty_like`` keeps such a layout); else None."""
    order = sorted(range(a.ndim), key=lambda d: -abs(a.strides[d]))
    return order if a.transpose(order).flags.c_contiguous else None


def dropout_scale(dtype, p):
    """torch's ``noise.div_(1 - p)`` factor: ``1 / (1 - p)`` computed in ``dtype``."""
    t = np.dtype(dtype).type
    return t(1.0) / t(1.0 - p)


class Dropout(Op):
    """z = x * m / (1 - p), m ~ Bernoulli(1 - p) drawn once per element

    torch multiplies by the scaled mask, so its node is a ``MulBackward0`` with a second edge
    (for the mask, which needs no gradient): ``apply(x, None, ...)`` records the same two.
    """

    _backward_name = "MulBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, noise=None, *, p, generator):
        if p >= 1.0:
            mask = np.zeros(x.shape, x.dtype)
        else:
            # the scaled mask is kept in x's dtype: one multiply forward, one backward
            mask = np.multiply(keep_mask(generator, x.shape, p, like=x),
                               dropout_scale(x.dtype, p), dtype=x.dtype)
        ctx.save_for_backward(None, mask)  # as torch's mul: `other`, for self's gradient
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.saved_tensors[1], None
