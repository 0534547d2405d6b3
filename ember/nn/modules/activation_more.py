"""More activation layers: SELU, CELU, Hardswish, PReLU, Threshold, ...

Also the channel-wise and alpha dropout layers. Each layer calls the
``ember.nn.functional`` function of the same name.
"""
from __future__ import annotations

from ... import _creation
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .activation import _inplace_repr, _InplaceActivation
from .dropout import _DropoutNd
from .module import Module

__all__ = [
    "SELU", "CELU", "Hardswish", "Hardsigmoid", "Softsign", "Tanhshrink", "Softshrink",
    "Hardshrink", "Threshold", "PReLU", "RReLU", "Softmax2d", "AlphaDropout",
    "FeatureAlphaDropout", "Dropout1d", "Dropout2d", "Dropout3d",
]


class SELU(_InplaceActivation):
    """``scale * elu(x, alpha)`` with SELU's fixed constants.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    _fn = staticmethod(F.selu)


class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace, ", ")


class Hardswish(_InplaceActivation):
    """``x * relu6(x + 3) / 6``. Its repr shows no options, as torch's.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    _fn = staticmethod(F.hardswish)

    def extra_repr(self) -> str:
        return ""


class Hardsigmoid(_InplaceActivation):
    """``relu6(x + 3) / 6``. Its repr shows no options, as torch's.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    _fn = staticmethod(F.hardsigmoid)

    def extra_repr(self) -> str:
        return ""


class Softsign(Module):
    """``x / (1 + |x|)``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """``x - tanh(x)``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def forward(self, input):
        return F.tanhshrink(input)


class Softshrink(Module):
    """Shrink towards zero by ``lambd`` (zero inside ``[-lambd, lambd]``).

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """``x`` where ``|x| > lambd``, else 0.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return (f"threshold={self.threshold}, value={self.value}"
                + _inplace_repr(self.inplace, ", "))


class PReLU(Module):
    """``max(0, x) + weight * min(0, x)`` with a learned slope, shared or per channel.

    Args:
        num_parameters: 1 (one slope for all) or the channel count (dimension 1).
        init: the slopes' initial value.

    Shape:
        - Input: ``(*)`` (channels at dimension 1); Output: the same.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None,
                 dtype=None) -> None:
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(_creation.empty(num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: slopes drawn from ``U(lower, upper)`` in ``train()``, their
    mean in ``eval()``.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + _inplace_repr(self.inplace, ", ")


class Softmax2d(Module):
    """Softmax over the channels of every spatial location.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; Output: the same.

    Raises:
        ValueError: input not 3-D or 4-D.
    """

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D "
                             "instead")
        return F.softmax(input, -3, _stacklevel=5)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for SELU networks (keeps zero mean and unit variance); the identity
    in ``eval()``. ``inplace`` is accepted and ignored, as in torch.

    Shape:
        - Input: ``(*)``; Output: the same.
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels.

    Shape:
        - Input: ``(N, C, *)``; Output: the same.
    """

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Zero whole channels with probability ``p`` while training.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``; Output: the same.
    """

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels with probability ``p`` while training.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(N, C, L)``; Output: the same.
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels with probability ``p`` while training.

    Shape:
        - Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``; Output: the same.
    """

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)
