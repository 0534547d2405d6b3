"""``SyncBatchNorm``: batch normalisation over any ``(N, C, *)`` input whose statistics torch
averages across the processes of a distributed group.

ember has no process groups (``ember.distributed.is_available()`` is False), so, like torch
on one process, it always falls back to the plain batch norm: the same numbers as
``BatchNorm1d/2d/3d`` in both modes. ``convert_sync_batchnorm`` swaps the BatchNorm layers of
a model for SyncBatchNorm ones that share their parameters and buffers, as torch's does.
"""
from __future__ import annotations

from .batchnorm import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation of a ``(N, C, *)`` input (torch's ``nn.SyncBatchNorm``).

    Args:
        num_features: ``C``.
        eps, momentum, affine, track_running_stats, device, dtype, bias: as in
            ``BatchNorm1d``.
        process_group: the group to synchronise over; kept, but ember has no process
            groups, so the statistics are always this process's batch's.

    Shape:
        - Input: ``(N, C, *)``, at least 2-D.
        - Output: the same shape.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input) -> None:
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input):
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        if bn_training and self.training:
            from ... import distributed

            if distributed.is_available() and distributed.is_initialized():
                # torch syncs only accelerator tensors; every ember tensor is on the CPU
                raise ValueError("SyncBatchNorm expected input tensor to be on GPU or XPU or "
                                 "privateuseone")
        return super().forward(input)  # one process: the plain batch norm, as torch falls back

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every ``BatchNorm*d`` in ``module`` (recursively) with a SyncBatchNorm that
        shares its parameters, buffers and training mode.

        Returns:
            ``module`` with its BatchNorm children converted; a new SyncBatchNorm when
            ``module`` itself is a BatchNorm.
        """
        module_output = module
        if isinstance(module, _BatchNorm):
            module_output = SyncBatchNorm(module.num_features, module.eps, module.momentum,
                                          module.affine, module.track_running_stats,
                                          process_group, bias=module.bias is not None)
            if module.affine:
                module_output.weight = module.weight
                module_output.bias = module.bias
            module_output.running_mean = module.running_mean
            module_output.running_var = module.running_var
            module_output.num_batches_tracked = module.num_batches_tracked
            module_output.training = module.training
            if hasattr(module, "qconfig"):
                module_output.qconfig = module.qconfig
        for name, child in module.named_children():
            module_output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return module_output
