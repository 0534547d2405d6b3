"""ember.nn.parallel: DataParallel (a pass-through on the CPU) and DistributedDataParallel.

As on a CPU-only build of torch, ``DataParallel(model)`` simply calls ``model`` (its
state_dict keys gain the ``module.`` prefix); ``DistributedDataParallel`` needs a
process group, which ember cannot create yet, so constructing one raises.
"""
from __future__ import annotations

from ..modules.module import Module

__all__ = ["DataParallel", "DistributedDataParallel"]


class DataParallel(Module):
    """Wraps ``module``; with no GPUs, ``forward`` calls it directly (torch's CPU behaviour).

    Args:
        module: the module to wrap (kept as ``self.module``).
        device_ids: must be None or empty: there are no CUDA devices.
        output_device: ignored.
        dim: the scatter dimension (unused on the CPU).

    Raises:
        RuntimeError: ``device_ids`` names a device.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if device_ids:
            raise RuntimeError(f"DataParallel: device_ids={list(device_ids)} but CUDA is not "
                               "available (ember runs on the CPU only).")
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        """``self.module(*inputs, **kwargs)``."""
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    """Importable for scripts that mention it; constructing one raises.

    Raises:
        ValueError: always (torch's message when no process group exists, plus why).
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, **kwargs):
        raise ValueError(
            "Default process group has not been initialized, please make sure to call "
            "init_process_group. (ember has no distributed backend yet: "
            "ember.distributed.is_available() is False; run a single process and use the "
            "model directly.)")
