"""Operations across channels (torch.nn.functional): ``local_response_norm``,
``channel_shuffle``, and the op behind ``nn.CrossMapLRN2d``.

``local_response_norm`` is torch's composition (square, pad, average pool over channels,
``(k + alpha * avg) ** beta``, divide), node for node. ``CrossMapLRN2d`` is the legacy Lua
layer: torch's Python port keeps two off-by-one slips, and ember keeps them too so that
the numbers agree (see the op's notes).
"""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op
from ._affine import pad
from ._pooling import avg_pool2d
from ._pooling3d import avg_pool3d

__all__ = ["local_response_norm", "channel_shuffle"]


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Normalise each element by its neighbours across channels:
    ``b_c = a_c * (k + alpha / n * sum_{c'} a_{c'}^2) ** -beta`` over the ``n = size``
    channels around ``c`` (zero beyond the edges).

    Shape: ``(N, C, *)`` with at least one trailing axis; output the same.

    Raises:
        ValueError: an input of fewer than 3 dimensions.
    """
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          "
                         f"input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input.mul(input)
    if dim == 3:
        div = div.unsqueeze(1)
        div = pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.size()
        div = div.view(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1)
        div = div.view(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


class ChannelShuffle(Op):
    """z[:, j * g + i] = x[:, i * (C / g) + j]: channels regrouped from g groups"""

    @staticmethod
    def forward(ctx, x, *, groups):
        n, c = x.shape[:2]
        ctx.groups = groups
        out = x.reshape((n, groups, c // groups) + x.shape[2:]).swapaxes(1, 2)
        return np.ascontiguousarray(out).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        n, c = grad.shape[:2]
        g = grad.reshape((n, c // ctx.groups, ctx.groups) + grad.shape[2:]).swapaxes(1, 2)
        return np.ascontiguousarray(g).reshape(grad.shape)


def channel_shuffle(input, groups):
    """Split the ``C`` channels of ``(N, C, *)`` input into ``groups`` groups and interleave
    them: ``(N, g, C / g, *)`` -> ``(N, C / g, g, *)`` -> ``(N, C, *)``.

    Raises:
        RuntimeError: fewer than 3 dimensions, ``groups <= 0``, or ``C`` not divisible by it.
    """
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    c = input.shape[1]
    if c % groups != 0:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    return ChannelShuffle.apply(input, groups=int(groups))


class CrossMapLRN2d(Op):
    """z = x * (k + alpha / size * (window sum of x^2 over channels)) ** -beta (torch's port)

    NOTE: two slips of torch's port of the Lua layer are kept so the numbers match torch.
    In forward, the running window sum never drops channel 0 once the window has passed
    it. In backward, the window of channel ``c`` covers the ratios of channels
    ``c - ipp .. c + size - 1 - ipp`` with ``ipp = int(size - (size - 1) / 2)``, one channel
    off from the forward window; the gradient is torch's, not the derivative of forward.
    """

    _backward_name = "CrossMapLRN2dBackward"

    @staticmethod
    def forward(ctx, x, *, size, alpha, beta, k):
        c = x.shape[1]
        sq = x * x
        pre = int((size - 1) / 2 + 1)
        # csum[i] = sum of sq over channels < i
        csum = np.concatenate([np.zeros_like(sq[:, :1]), np.cumsum(sq, axis=1)], axis=1)
        ch = np.arange(c)
        top = np.minimum(ch + pre, c)  # channels below top are in the window
        drop = np.maximum(ch - pre + 1, 1)  # channels 1 .. drop - 1 have left it
        scale = csum[:, top] - (csum[:, drop] - csum[:, 1:2])
        scale = (scale * (alpha / size) + k).astype(x.dtype, copy=False)
        out = (scale ** -beta * x).astype(x.dtype, copy=False)
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        ctx.save_for_backward(x, out, scale)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out, scale = ctx.saved_tensors
        size, c = ctx.size, x.shape[1]
        ipp = int(size - (size - 1) / 2)
        ratio = grad * out / scale
        # padded[ipp + j] = ratio[j]; channel c sums padded[c .. c + size - 1]
        padded = np.zeros(x.shape[:1] + (c + size + ipp,) + x.shape[2:], x.dtype)
        padded[:, ipp:ipp + c] = ratio
        csum = np.concatenate([np.zeros_like(padded[:, :1]), np.cumsum(padded, axis=1)], axis=1)
        window = csum[:, size:size + c] - csum[:, :c]
        gx = scale ** -ctx.beta * grad - (2 * ctx.alpha * ctx.beta / size) * x * window
        return gx.astype(x.dtype, copy=False)


for _name in __all__:
    globals()[_name].__module__ = "ember.nn.functional"
del _name
