"""Batch normalisation: ``BatchNorm1d``, ``BatchNorm2d``, ``BatchNorm3d``."""
from __future__ import annotations

import numpy as np

from ... import _creation
from ..._tensor import _wrap
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _NormBase(Module):
    """Parameters, buffers, reset and state-dict compatibility shared by the batch norms."""

    _version = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(_creation.empty(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(_creation.empty(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", _creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", _wrap(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics; weight 1, bias 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # version 2 added num_batches_tracked; older (or metadata-less) dicts default it
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked
                                   is not None else _wrap(np.array(0, np.int64)))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        training = self.training
        momentum = self.momentum
        factor = 0.0 if momentum is None else momentum
        buffers = self._buffers
        if training and self.track_running_stats:
            nbt = buffers["num_batches_tracked"]
            if nbt is not None:
                nbt._data += 1
                nbt._vc[0] += 1
                if momentum is None:  # cumulative moving average
                    factor = 1.0 / float(nbt._data)
        rm, rv = buffers["running_mean"], buffers["running_var"]
        bn_training = training or (rm is None and rv is None)
        if training and not self.track_running_stats:
            rm = rv = None  # statistics that are not tracked are never updated
        params = self._parameters
        return F.batch_norm(input, rm, rv, params["weight"], params["bias"], bn_training,
                            factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Normalise each feature over the batch (and length), then scale and shift.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias``. In training the batch mean and
    biased variance normalise, and the running statistics move toward the batch mean and
    *unbiased* variance: ``running = (1 - momentum) * running + momentum * batch``
    (``momentum=None``: the cumulative average over ``num_batches_tracked`` batches). In
    ``eval()`` the running statistics normalise. One fused node with a closed-form backward.

    Args:
        num_features: ``C``, the channel count.
        eps: added to the variance (default 1e-5).
        momentum: weight of the newest batch in the running statistics (default 0.1;
            None: cumulative average).
        affine: learn ``weight`` (ones) and ``bias`` (zeros).
        track_running_stats: keep running statistics; without them batch statistics are
            used in eval too.
        bias: with ``affine``, also learn the bias (keyword-only, torch >= 2.10).

    Shape:
        - Input: ``(N, C)`` or ``(N, C, L)``; Output: the same.

    Raises:
        ValueError: an input that is not 2-D or 3-D; training with one value per channel.
    """

    def _check_input_dim(self, input) -> None:
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """``BatchNorm1d`` for ``(N, C, H, W)`` inputs (statistics over N, H, W)."""

    def _check_input_dim(self, input) -> None:
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """``BatchNorm1d`` for ``(N, C, D, H, W)`` inputs."""

    def _check_input_dim(self, input) -> None:
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")
