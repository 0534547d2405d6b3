"""torch.backends.cuda: matmul precision flags and attention-kernel switches.

``matmul.allow_tf32`` is tied to ``ember.set_float32_matmul_precision`` as in torch
(True means "high"). The scaled-dot-product-attention switches are remembered; ember has
one attention kernel, so they change nothing.
"""
from __future__ import annotations

import enum
import warnings
from contextlib import contextmanager

from .. import _compat

__all__ = ["is_built", "matmul", "enable_flash_sdp", "flash_sdp_enabled",
           "enable_mem_efficient_sdp", "mem_efficient_sdp_enabled", "enable_math_sdp",
           "math_sdp_enabled", "enable_cudnn_sdp", "cudnn_sdp_enabled", "sdp_kernel",
           "preferred_linalg_library", "SDPBackend"]


def is_built() -> bool:
    """False: ember is not built with CUDA."""
    return False


class cuBLASModule:  # noqa: N801  (torch's class name)
    """``torch.backends.cuda.matmul``: ``allow_tf32`` and the reduced-precision flags."""

    __slots__ = ("allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction", "allow_fp16_accumulation")

    def __init__(self):
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.allow_fp16_accumulation = False

    @property
    def allow_tf32(self) -> bool:
        """True unless the float32 matmul precision is "highest"."""
        return _compat.get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value):
        _compat.set_float32_matmul_precision("high" if value else "highest")

    def __setattr__(self, name, value):
        if name not in ("allow_tf32",) + cuBLASModule.__slots__:
            raise AttributeError(f"Unknown attribute {name}")
        object.__setattr__(self, name, value)


matmul = cuBLASModule()

_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True,
        "overrideable": True}


class SDPBackend(enum.Enum):
    """The kernels of scaled dot-product attention, numbered as torch numbers them
    (``int(SDPBackend.MATH) == 0``); ``ember.nn.attention.sdpa_kernel`` takes them."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self) -> int:
        return self.value

    __index__ = __int__


def enable_flash_sdp(enabled: bool) -> None:
    """Remember the flash-attention switch."""
    _sdp["flash"] = bool(enabled)


def flash_sdp_enabled() -> bool:
    """The flash-attention switch (True at start)."""
    return _sdp["flash"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """Remember the memory-efficient-attention switch."""
    _sdp["mem_efficient"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    """The memory-efficient-attention switch (True at start)."""
    return _sdp["mem_efficient"]


def enable_math_sdp(enabled: bool) -> None:
    """Remember the math-attention switch."""
    _sdp["math"] = bool(enabled)


def math_sdp_enabled() -> bool:
    """The math-attention switch (True at start)."""
    return _sdp["math"]


def enable_cudnn_sdp(enabled: bool) -> None:
    """Remember the cuDNN-attention switch."""
    _sdp["cudnn"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    """The cuDNN-attention switch (True at start)."""
    return _sdp["cudnn"]


@contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True,
               enable_mem_efficient: bool = True, enable_cudnn: bool = True):
    """Set the attention switches for a ``with`` block (torch's deprecated spelling, which
    warns as torch does and, like torch's, also switches the "overrideable" backend off)."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context "
                  "manager will be removed. Please see `torch.nn.attention.sdpa_kernel()` for the "
                  "new context manager, with updated signature.", FutureWarning, stacklevel=3)
    old = dict(_sdp)
    _sdp.update(flash=bool(enable_flash), math=bool(enable_math),
                mem_efficient=bool(enable_mem_efficient), cudnn=bool(enable_cudnn),
                overrideable=False)
    try:
        yield
    finally:
        _sdp.update(old)


def preferred_linalg_library(backend=None):
    """Accepted and ignored; returns "default"."""
    return "default"
