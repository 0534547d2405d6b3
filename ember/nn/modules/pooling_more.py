"""More pooling layers: power-average (``LPPool1d/2d/3d``) and fractional max pooling
(``FractionalMaxPool2d/3d``)."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["LPPool1d", "LPPool2d", "LPPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d"]


class _LPPoolNd(Module):
    """The options, kept as given (torch's ``_LPPoolNd``)."""

    def __init__(self, norm_type: float, kernel_size, stride=None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling: each window gives ``(sum x ** p) ** (1 / p)``
    (``F.lp_pool1d``); ``p = inf`` is max pooling of ``|x|``, ``p = 1`` sum pooling.

    Args:
        norm_type: ``p``.
        kernel_size: the window, an int.
        stride: defaults to the kernel.
        ceil_mode: round the output length up.

    Shape:
        - Input: ``(N, C, L_in)`` or ``(C, L_in)``; Output: ``(N, C, L_out)``,
          ``L_out = floor((L_in - kernel_size) / stride + 1)``.
    """

    def forward(self, input):
        """Pool ``input`` (see the class)."""
        return F.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """2-D power-average pooling (``F.lp_pool2d``); see ``LPPool1d``. ``kernel_size`` and
    ``stride`` are an int or a pair.

    Shape:
        - Input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``; Output: ``(N, C, H_out,
          W_out)``.
    """

    def forward(self, input):
        """Pool ``input`` (see the class)."""
        return F.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool3d(_LPPoolNd):
    """3-D power-average pooling (``F.lp_pool3d``); see ``LPPool1d``. ``kernel_size`` and
    ``stride`` are an int or a triple.

    Shape:
        - Input: ``(N, C, D_in, H_in, W_in)`` or ``(C, D_in, H_in, W_in)``.
    """

    def forward(self, input):
        """Pool ``input`` (see the class)."""
        return F.lp_pool3d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


def _ntuple(value, n):
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


class _FractionalMaxPoolNd(Module):
    """The options and their checks; ``_random_samples`` is a buffer (None: drawn anew
    at each call)."""

    _nd = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None) -> None:
        super().__init__()
        nd, name = self._nd, type(self).__name__
        if nd == 3 and ((isinstance(kernel_size, int) and kernel_size <= 0) or (
                isinstance(kernel_size, (tuple, list)) and not all(k > 0 for k in kernel_size))):
            raise ValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
        self.kernel_size = _ntuple(kernel_size, nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _ntuple(output_size, nd) if output_size is not None else None
        self.output_ratio = _ntuple(output_ratio, nd) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             f"ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max pooling over ``kH x kW`` windows at pseudo-random, increasing steps chosen to give
    the requested output size (``F.fractional_max_pool2d``).

    Args:
        kernel_size: the window, an int or ``(kH, kW)``.
        output_size: ``(oH, oW)`` or an int; or else
        output_ratio: the output size as a fraction of the input's, in (0, 1).
        return_indices: also return the flat ``H * W`` indices (for ``MaxUnpool2d``).
        _random_samples: fixed ``(N, C, 2)`` samples; None draws new ones at each call.

    Shape:
        - Input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``; Output: ``(N, C, oH, oW)``.

    Raises:
        ValueError: neither or both of ``output_size`` and ``output_ratio``; a ratio outside
            (0, 1).
    """

    _nd = 2

    def forward(self, input):
        """Pool ``input`` (see the class)."""
        return F.fractional_max_pool2d(input, self.kernel_size, self.output_size,
                                       self.output_ratio, self.return_indices,
                                       _random_samples=self._random_samples)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-D fractional max pooling over ``kT x kH x kW`` windows
    (``F.fractional_max_pool3d``); see ``FractionalMaxPool2d``. ``_random_samples`` is
    ``(N, C, 3)``.

    Shape:
        - Input: ``(N, C, T_in, H_in, W_in)`` or ``(C, T_in, H_in, W_in)``.

    Raises:
        ValueError: also a kernel size that is not positive.
    """

    _nd = 3

    def forward(self, input):
        """Pool ``input`` (see the class)."""
        return F.fractional_max_pool3d(input, self.kernel_size, self.output_size,
                                       self.output_ratio, self.return_indices,
                                       _random_samples=self._random_samples)
