"""``LinearCrossEntropyLoss`` and the ``LinearCrossEntropyOptions`` of its chunked path.

The options follow torch 2.13's ``torch/nn/modules/linear_cross_entropy_options.py``: the
same fields, validation, ``"auto"`` resolution and chunk-size heuristic. Only the chunk size
and the accumulation dtype change what ember computes; ``acc_policy`` is resolved and kept
for parity (it picks CUDA-side buffer layouts in torch).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Literal, NamedTuple

from ... import _dtype
from .. import functional as F
from .linear import Linear
from .loss import _WeightedLoss

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]


class _AutoDefault(NamedTuple):
    acc_policy: str
    chunking_method: str


# torch's picks for the "auto" sentinels, keyed by (device type, input dtype)
_AUTO_DEFAULTS = {
    ("cuda", "bfloat16"): _AutoDefault("compact", "aspect_ratio:2"),
    ("cuda", "float16"): _AutoDefault("compact", "aspect_ratio:2"),
    ("cpu", "bfloat16"): _AutoDefault("accurate", "aspect_ratio"),
    ("cpu", "float16"): _AutoDefault("accurate", "aspect_ratio"),
}
_AUTO_FALLBACK = _AutoDefault("compact", "aspect_ratio:2")
_ACC_DTYPES = ("float16", "bfloat16", "float32", "float64")


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """Configuration of the chunked :func:`~ember.nn.functional.linear_cross_entropy`.

    The chunked path processes the rows of the batch in pieces, so the full
    ``(num_batches, num_classes)`` logits are never materialized; pass ``options=None`` for
    the reference path. Unsupported configurations fall back to it with a warning.

    Args:
        allow_retain_graph: allow a second backward through the scalar reductions.
        batch_chunk_size: rows per chunk (None: one chunk, unless ``chunking_method``
            decides); cannot disagree with ``chunking_method``.
        chunking_method: ``"auto"``, ``"aspect_ratio"``, ``"aspect_ratio:N"`` (chunks N
            times smaller than one whose logits match the input's size) or None.
        acc_policy: ``"auto"``, ``"accurate"``, ``"balanced"`` or ``"compact"``.
        acc_dtype: accumulation dtype (None: float32 for float16 inputs under "auto", else
            the input's dtype).

    Raises:
        ValueError: an unknown policy or method, a non-positive chunk size, a non-float
            ``acc_dtype``.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: Literal["accurate", "balanced", "compact", "auto"] = "auto"
    acc_dtype: _dtype.dtype | None = None

    def __post_init__(self):
        if self.acc_policy not in {"auto", "accurate", "balanced", "compact"}:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = self.chunking_method.partition(":")
            if not sep:
                factor = "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        if not (self.batch_chunk_size is None
                or (isinstance(self.batch_chunk_size, int) and self.batch_chunk_size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got "
                             f"{self.batch_chunk_size!r}")
        if self.acc_dtype is not None and getattr(self.acc_dtype, "name", None) not in _ACC_DTYPES:
            raise ValueError(f"acc_dtype must be one of {{None, ember.float16, ember.bfloat16, "
                             f"ember.float32, ember.float64}}, got {self.acc_dtype!r}. Pass "
                             f"acc_dtype=None to let the op pick automatically.")

    @staticmethod
    def _ceil_div(a: int, b: int) -> int:
        return -(-a // b)

    @staticmethod
    def _resolve_auto_acc_dtype(dtype, device):
        """float32 for float16 / bfloat16 inputs on the CPU; None otherwise."""
        if device is None or dtype.name not in ("float16", "bfloat16"):
            return None
        return _dtype.float32 if device.type == "cpu" else None

    def _compute_batch_chunk_size(self, num_batches: int, in_features: int,
                                  num_classes: int, method: str | None = None) -> int:
        """Rows per chunk for ``"aspect_ratio[:N]"``: a chunk's logits about as large as the
        input, divided by N."""
        method = str(method if method is not None else self.chunking_method)
        factor = int(method.split(":", 1)[1]) if ":" in method else 1
        inc_factor = self._ceil_div(num_classes, in_features)
        target = self._ceil_div(num_batches, inc_factor)
        chunk_size = 1 << (target - 1).bit_length()  # next power of 2 >= target
        return min(chunk_size // factor, num_batches)

    def _adjust(self, num_batches, in_features, num_classes, dtype, device=None):
        """These options with ``"auto"`` and None resolved for one call (torch's ``_adjust``)."""
        acc_policy, chunking_method = self.acc_policy, self.chunking_method
        if chunking_method == "auto" and self.batch_chunk_size is not None:
            chunking_method = None  # an explicit size wins over the heuristic
        if acc_policy == "auto" or chunking_method == "auto":
            if device is not None:
                ap, cm = _AUTO_DEFAULTS.get((device.type, dtype.name), _AUTO_FALLBACK)
            else:
                ap, cm = _AUTO_FALLBACK
            acc_policy = ap if acc_policy == "auto" else acc_policy
            chunking_method = cm if chunking_method == "auto" else chunking_method
        if self.batch_chunk_size is None:
            batch_chunk_size = num_batches
        else:
            batch_chunk_size = min(self.batch_chunk_size, num_batches)
        if chunking_method is not None:
            batch_chunk_size = self._compute_batch_chunk_size(num_batches, in_features,
                                                              num_classes, chunking_method)
            if self.batch_chunk_size is not None and self.batch_chunk_size != batch_chunk_size:
                raise ValueError(f"batch_chunk_size (={self.batch_chunk_size}) and "
                                 f"chunking_method ('{chunking_method}') give different chunk "
                                 f"sizes ({self.batch_chunk_size} vs {batch_chunk_size}); pass "
                                 f"only one.")
        if self.acc_dtype is None:
            auto = (self._resolve_auto_acc_dtype(dtype, device) if self.acc_policy == "auto"
                    else None)
            acc_dtype = auto if auto is not None else dtype
        else:
            acc_dtype = self.acc_dtype
        return dataclasses.replace(self, acc_policy=acc_policy, chunking_method=chunking_method,
                                   batch_chunk_size=max(1, batch_chunk_size),
                                   acc_dtype=acc_dtype)


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross entropy between the target and the input mapped to logits by a linear layer.

    Holds a :class:`Linear` (``self.linear``) whose 2-D weight is reshaped to
    ``(num_classes, *out_features, in_features)`` in ``forward`` and handed to
    :func:`~ember.nn.functional.linear_cross_entropy`.

    Args:
        in_features: size of each input sample.
        num_classes: number of classes ``C``.
        out_features: dims ``(d_1, ..., d_K)`` of a K-dimensional loss (default ``()``).
        bias: give the linear layer a bias (stored flat, ``C * prod(out_features)``).
        device, dtype: of the linear layer's parameters.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        weight: per-class rescaling ``(C,)`` (a buffer).
        ignore_index: target value to ignore (None: -100 for class indices).
        label_smoothing: in ``[0, 1]``.
        options: :class:`LinearCrossEntropyOptions` for the chunked path, or None.

    Shape:
        - Input: ``(in_features)`` or ``(N, in_features)``.
        - Target: ``()``, ``(N)`` or ``(N, *out_features)`` class indices, or class
          probabilities ``(C)`` / ``(N, C, *out_features)``.
        - Output: scalar, or the target's shape with ``reduction='none'``.

    Raises:
        RuntimeError: ``weight`` not of shape ``(C,)``; ``label_smoothing`` outside [0, 1].
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple = (),
                 bias: bool = False, device=None, dtype=None, reduction: str = "mean",
                 weight=None, ignore_index: int | None = None, label_smoothing: float = 0.0,
                 options: LinearCrossEntropyOptions | None = None) -> None:
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f"expected weight shape to be {(num_classes,)}, got "
                               f"{tuple(weight.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError(f"expected label_smoothing to be in range [0, 1], got "
                               f"{label_smoothing}")
        super().__init__(weight=weight, size_average=None, reduce=None, reduction=reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        # Linear's weight is 2-D: the (C, *out_features) logits are its rows, reshaped
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes),
                             bias=bias, device=device, dtype=dtype)
        self.options = options

    def forward(self, input, target):
        """The loss of ``input`` (mapped by ``self.linear``) against ``target``."""
        linear_weight = self.linear.weight.reshape(
            (self.num_classes, *self.out_features, self.linear.in_features))
        linear_bias = (self.linear.bias.reshape((self.num_classes, *self.out_features))
                       if self.linear.bias is not None else None)
        return F.linear_cross_entropy(
            input, linear_weight, target, linear_bias=linear_bias, weight=self.weight,
            reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
