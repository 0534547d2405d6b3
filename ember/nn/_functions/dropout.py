"""Dropout: zero each element with probability p, scale the survivors by 1/(1-p)."""
from __future__ import annotations

import math

import numpy as np

from ...autograd.function import Op


def keep_mask(rng, shape, p):
    """Boolean mask, True with probability 1 - p (to within 2**-33), from one draw.

    Raw 32-bit words of the generator's bit stream compared with ``p * 2**32``: three times
    faster than ``rng.random(dtype=float32)`` and finer (24 bits there).
    """
    n = math.prod(shape)
    bits = rng.bit_generator
    if isinstance(bits, np.random.MT19937):  # one 32-bit word in each uint64 it returns
        words = bits.random_raw(n)
    else:  # 64 random bits per uint64: two words each
        words = bits.random_raw((n + 1) // 2).view(np.uint32)[:n]
    threshold = min(round(p * 2.0**32), 2**32 - 1)  # a Python int: compared exactly
    return np.greater_equal(words, threshold).reshape(shape)


class Dropout(Op):
    """z = x * m / (1 - p), m ~ Bernoulli(1 - p) drawn once per element"""

    _backward_name = "MulBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, p, rng):
        if p >= 1.0:
            mask = np.zeros(x.shape, x.dtype)
        else:
            # the scaled mask is kept in x's dtype: one multiply forward, one backward
            mask = keep_mask(rng, x.shape, p).astype(x.dtype)
            mask *= 1.0 / (1.0 - p)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask
