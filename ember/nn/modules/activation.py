"""Activation layers; each calls the ``ember.nn.functional`` function of the same name."""
from __future__ import annotations

import warnings

from .. import functional as F
from ..functional._common import _AssertionValueError
from .module import Module

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "SiLU", "Mish", "Tanh", "Sigmoid",
           "Hardtanh", "Softplus", "LogSigmoid", "GLU", "Softmax", "Softmin", "LogSoftmax"]


def _inplace_repr(inplace, lead=""):
    return f"{lead}inplace=True" if inplace else ""


class _InplaceActivation(Module):
    """An activation whose only option is ``inplace``: calls ``_fn(input, inplace=...)``."""

    _fn = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class ReLU(_InplaceActivation):
    """``max(x, 0)`` elementwise.

    Args:
        inplace: overwrite the input.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    _fn = staticmethod(F.relu)


class Hardtanh(Module):
    """``clamp(x, min_val, max_val)`` elementwise.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        if max_val <= min_val:
            raise _AssertionValueError(f"max_val ({max_val}) must be greater than min_val "
                                       f"({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace_repr(
            self.inplace, ", ")


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)`` elementwise."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace_repr(self.inplace, ", ")


class ELU(Module):
    """``x`` where positive, else ``alpha * (exp(x) - 1)``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace, ", ")


class GELU(Module):
    """``x * Phi(x)`` (``approximate='tanh'``: the tanh formula).

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_InplaceActivation):
    """``x * sigmoid(x)`` (swish).

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    _fn = staticmethod(F.silu)


class Mish(_InplaceActivation):
    """``x * tanh(softplus(x))``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    _fn = staticmethod(F.mish)


class Tanh(Module):
    """Hyperbolic tangent elementwise.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def forward(self, input):
        return F.sigmoid(input)


class Softplus(Module):
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    """``log(sigmoid(x))`` elementwise, without overflow.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def forward(self, input):
        return F.logsigmoid(input)


class GLU(Module):
    """``a * sigmoid(b)`` for the two halves ``a, b`` of the input along ``dim``.

    Shape:
        - Input: ``(*, 2N, *)``; Output: ``(*, N, *)``.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _SoftmaxBase(Module):
    _fn = None

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input):
        return type(self)._fn(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """``exp(x) / sum(exp(x))`` along ``dim``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    _fn = staticmethod(F.softmax)


class Softmin(_SoftmaxBase):
    """``softmax(-x)`` along ``dim``."""

    _fn = staticmethod(F.softmin)


class LogSoftmax(_SoftmaxBase):
    """``x - logsumexp(x)`` along ``dim``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    _fn = staticmethod(F.log_softmax)
