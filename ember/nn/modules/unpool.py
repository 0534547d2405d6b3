"""Max unpooling layers: ``MaxUnpool1d``, ``MaxUnpool2d``, ``MaxUnpool3d``."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]


def _ntuple(value, n):
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


class _MaxUnpoolNd(Module):
    """The options, kept as tuples (torch's ``_single`` / ``_pair`` / ``_triple``)."""

    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self._nd)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self._nd)
        self.padding = _ntuple(padding, self._nd)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool1d``: puts each value back at the position its index
    names, zeros elsewhere (``F.max_unpool1d``).

    Args:
        kernel_size, stride, padding: those of the ``MaxPool1d`` being inverted (stride
            defaults to the kernel).

    Shape:
        - Input and indices: ``(N, C, L_in)`` or ``(C, L_in)``; Output: ``(N, C, L_out)``,
          ``L_out = (L_in - 1) stride - 2 padding + kernel_size`` or the ``output_size``
          given to ``forward``.
    """

    _nd = 1

    def forward(self, input, indices, output_size=None):
        """Place each value of ``input`` where ``indices`` says; ``output_size`` as in F."""
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool2d`` (``F.max_unpool2d``); see ``MaxUnpool1d``.

    Shape:
        - Input and indices: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``; Output:
          ``(N, C, H_out, W_out)``.
    """

    _nd = 2

    def forward(self, input, indices, output_size=None):
        """Place each value of ``input`` where ``indices`` says; ``output_size`` as in F."""
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool3d`` (``F.max_unpool3d``); see ``MaxUnpool1d``.

    Shape:
        - Input and indices: ``(N, C, D_in, H_in, W_in)`` or ``(C, D_in, H_in, W_in)``;
          Output: ``(N, C, D_out, H_out, W_out)``.
    """

    _nd = 3

    def forward(self, input, indices, output_size=None):
        """Place each value of ``input`` where ``indices`` says; ``output_size`` as in F."""
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)
