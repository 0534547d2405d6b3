"""Convolution layers: Conv1d, Conv2d, Conv3d and their transposes."""
from __future__ import annotations

import math

from ... import _creation
from .. import functional as F
from .. import init
from ..functional._common import _size_str
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _ntuple(value, n):
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


class _ConvNd(Module):
    """Shared constructor, init and repr of the convolution layers (torch's ``_ConvNd``)."""

    _nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        nd = self._nd
        kernel_size, stride = _ntuple(kernel_size, nd), _ntuple(stride, nd)
        dilation = _ntuple(dilation, nd)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{ {'same', 'valid'} }")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, nd)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.transposed = dilation, transposed
        self.output_padding, self.groups = output_padding, groups
        self.padding_mode = padding_mode
        # F.pad's argument for the non-zero padding modes: last axis first, both sides
        if isinstance(padding, str):
            self._reversed_padding_repeated_twice = [0, 0] * nd
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(nd - 1, -1, -1)):
                    total = d * (k - 1)
                    left = total // 2
                    self._reversed_padding_repeated_twice[2 * i] = left
                    self._reversed_padding_repeated_twice[2 * i + 1] = total - left
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(padding)
                                                     for _ in range(2)]
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + kernel_size
        self.weight = Parameter(_creation.empty(shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(_creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the weight (kaiming-uniform, a = sqrt(5)) and the bias (U(+-1/sqrt(fan_in)))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, (0,) * self._nd, groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        conv = (F.conv1d, F.conv2d, F.conv3d)[self._nd - 1]
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution layer: ``F.conv1d(input, weight, bias, ...)``.

    Args:
        in_channels, out_channels: channels of the input and output.
        kernel_size, stride, dilation: an int or a 1-tuple.
        padding: an int, a 1-tuple, ``"valid"`` or ``"same"``.
        groups: independent channel groups (must divide both channel counts).
        bias: learn an additive bias (default True).
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.

    Attributes:
        weight: ``(out_channels, in_channels / groups, kW)``, kaiming-uniform (a = sqrt(5)).
        bias: ``(out_channels,)``, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    Shape:
        - Input: ``(N, C_in, L)`` or ``(C_in, L)``; Output: ``(N, C_out, L_out)``.
    """

    _nd = 1


class Conv2d(_Conv):
    """2-D convolution layer: ``F.conv2d(input, weight, bias, ...)``; see ``Conv1d``.

    Shape:
        - Input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``; Output: ``(N, C_out, H_out, W_out)``.
    """

    _nd = 2


class Conv3d(_Conv):
    """3-D (volumetric) convolution layer: ``F.conv3d(input, weight, bias, ...)``; see
    ``Conv1d``. Sizes are an int or a triple (depth, height, width).

    Attributes:
        weight: ``(out_channels, in_channels / groups, kD, kH, kW)``.

    Shape:
        - Input: ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``; Output: ``(N, C_out, D_out,
          H_out, W_out)``.
    """

    _nd = 3


class _ConvTranspose(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f"{type(self).__name__}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, _ntuple(output_padding, self._nd), groups, bias, padding_mode,
                         device, dtype)

    def _output_padding(self, input, output_size):
        """The output padding that gives ``output_size`` (torch's checks and messages)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        lead = 2 if input.dim() == nd + 2 else 1
        if len(output_size) == lead + nd:
            output_size = output_size[lead:]
        if len(output_size) != nd:
            raise ValueError(f"ConvTranspose{nd}D: for {input.dim()}D input, output_size must "
                             f"have {nd} or {lead + nd} elements (got {len(output_size)})")
        least = [(input.shape[lead + d] - 1) * self.stride[d] - 2 * self.padding[d]
                 + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(nd)]
        most = [n + s - 1 for n, s in zip(least, self.stride)]
        for size, lo, hi in zip(output_size, least, most):
            if not lo <= size <= hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {least} to {most} (for an input of "
                                 f"{_size_str(input.shape[2:])})")
        return tuple(size - lo for size, lo in zip(output_size, least))

    def forward(self, input, output_size=None):
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._nd - 1]
        output_padding = self._output_padding(input, output_size)
        return conv(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                    self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution layer: ``F.conv_transpose1d``.

    Attributes:
        weight: ``(in_channels, out_channels / groups, kW)``.
        bias: ``(out_channels,)``.

    Shape:
        - Input: ``(N, C_in, L)`` or ``(C_in, L)``; Output: ``(N, C_out, L_out)``, ``L_out =
          (L - 1) stride - 2 padding + dilation (kW - 1) + output_padding + 1``.
    """

    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution layer: ``F.conv_transpose2d``; see ``ConvTranspose1d``."""

    _nd = 2


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution layer: ``F.conv_transpose3d``; see ``ConvTranspose1d``.

    Attributes:
        weight: ``(in_channels, out_channels / groups, kD, kH, kW)``.
    """

    _nd = 3
