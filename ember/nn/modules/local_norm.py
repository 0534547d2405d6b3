"""Normalisation across neighbouring channels: ``LocalResponseNorm`` and the legacy
``CrossMapLRN2d``."""
from __future__ import annotations

from ...ops._shape_utils import type_name
from .. import functional as F
from ..functional._channel import CrossMapLRN2d as _CrossMapLRN2dOp
from .module import Module

__all__ = ["LocalResponseNorm", "CrossMapLRN2d"]


class LocalResponseNorm(Module):
    """``b_c = a_c * (k + alpha / n * sum_{c'} a_{c'}^2) ** -beta`` over the ``n = size``
    channels around ``c`` (``F.local_response_norm``).

    Args:
        size: how many neighbouring channels normalise each one.
        alpha: multiplicative factor (default 1e-4).
        beta: exponent (default 0.75).
        k: additive factor (default 1).

    Shape:
        - Input: ``(N, C, *)``; Output: the same.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        """Normalise ``input`` across its channels."""
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class CrossMapLRN2d(Module):
    """The legacy (Lua torch) local response norm over the channels of ``(N, C, H, W)``
    input, with torch's own forward and backward, quirks included (see
    ``ember.nn.functional._channel.CrossMapLRN2d``).

    Args:
        size, alpha, beta, k: as for ``LocalResponseNorm``.

    Shape:
        - Input: ``(N, C, H, W)``; Output: the same.

    Raises:
        ValueError: an input that is not 4-D.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        """Normalise ``input`` across its channels."""
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D "
                             f"instead.")
        kind = input._data.dtype.kind
        if kind not in "fc":  # torch's port scales the input in place by a float (or long)
            raise RuntimeError(f"result type {'Long' if kind == 'b' else 'Float'} can't be cast "
                               f"to the desired output type {type_name(input._data.dtype)}")
        return _CrossMapLRN2dOp.apply(input, size=self.size, alpha=self.alpha, beta=self.beta,
                                      k=self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
