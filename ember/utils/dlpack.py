"""``ember.utils.dlpack``: torch.utils.dlpack's names, for code that imports them from there.

``from_dlpack`` and ``to_dlpack`` are ember's top-level functions (CPU arrays only);
``DLDeviceType`` is DLPack's device enum, as torch spells it.
"""
from __future__ import annotations

import enum

from .._namespace_gaps_misc import from_dlpack, to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (``dlpack.h``); ember only ever produces ``kDLCPU``."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17
