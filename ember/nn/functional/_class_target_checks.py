"""torch's errors for ``cross_entropy`` and ``nll_loss`` arguments, raised in torch's order.

torch routes a call by shapes before it looks at dtypes: a target shaped like the input holds
class probabilities, any other target class indices; ``cross_entropy`` takes the
``log_softmax`` of the input before ``nll_loss`` sees it; ``nll_loss`` checks batch sizes
first, then the target's rank and dtype, then the weight and the kernel's dtypes (``(N, C)``
and ``(C,)`` inputs go to one kernel, ``(N, C, d1, ...)`` ones to the 2-D kernel, whose
messages differ). The losses call these only when their fast check of the common case fails.
"""
from __future__ import annotations

import numpy as np

from ...ops._shape_utils import type_name


def check_log_softmax(x, dim: int) -> None:
    """torch's log_softmax errors for an input array ``x`` over ``dim`` (0-d input: dim 1)."""
    if x.ndim == 0:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got "
                         f"{dim})")
    if x.dtype.kind != "f":
        kernel = "log_softmax_lastdim_kernel_impl" if dim == x.ndim - 1 else \
            "log_softmax_kernel_impl"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(x.dtype)}'")


def check_probability_targets(x, t, w, ignore_index: int, label_smoothing: float) -> None:
    """Errors of ``cross_entropy`` with a target shaped like the input (class probabilities)."""
    if t.dtype.kind != "f":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {type_name(t.dtype)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if x.ndim == 0:
        raise IndexError("Dimension specified as 1 but tensor has no dimensions")
    class_dim = 0 if x.ndim == 1 else 1
    num_classes = x.shape[class_dim]
    if w is not None and (w.ndim != 1 or w.size != num_classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                           f"{num_classes} classes or no classes but got weight tensor of "
                           f"shape: {list(w.shape)}")
    check_log_softmax(x, class_dim)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")


def check_class_targets(x, t, w, *, cross_entropy: bool, label_smoothing: float = 0.0) -> None:
    """Errors of ``cross_entropy`` (``cross_entropy=True``) or ``nll_loss`` with class-index
    targets ``t`` for the input ``x`` and optional ``weight`` ``w`` (arrays)."""
    if cross_entropy:
        if label_smoothing > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                               f"{label_smoothing}")
        check_log_softmax(x, 0 if x.ndim == 1 else 1)
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    # torch reads a 0-d target's batch size as 0
    if x.ndim != 1 and x.shape[0] != (t.shape[0] if t.ndim else 0):
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
                         f"({t.shape[0] if t.ndim else 0}).")
    if x.ndim <= 2:
        _check_rows(x, t, w)
        kernel = "nll_loss_out_frame"
    else:
        _check_spatial(x, t, w)
        kernel = "nll_loss2d_forward_out_frame"
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(x.dtype)}'")
    if w is not None and w.dtype != x.dtype:
        raise RuntimeError(f"expected scalar type {type_name(x.dtype)} but found "
                           f"{type_name(w.dtype)}")
    if x.ndim > 2 and t.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {type_name(t.dtype)}")
    if cross_entropy and label_smoothing > 0 and x.ndim == 1 and t.ndim == 1:
        # torch's smoothing adds a (1,)-shaped loss into a 0-d one
        raise RuntimeError("output with shape [] doesn't match the broadcast shape [1]")


def _check_target_dtype(t) -> None:
    if t.dtype != np.int64 and t.dtype != np.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{type_name(t.dtype)}")


def _check_rows(x, t, w) -> None:
    """nll_loss's own checks for ``(N, C)`` and ``(C,)`` inputs."""
    if t.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    _check_target_dtype(t)
    if x.ndim == 1 and t.ndim == 1 and t.shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                         f"{t.shape[0]}")
    if x.ndim == 2 and t.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    num_classes = x.shape[-1]
    if w is not None and (w.ndim != 1 or w.size != num_classes):
        raise RuntimeError(f"weight tensor should be defined either for all {num_classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(w.shape)}")


def _check_spatial(x, t, w) -> None:
    """The checks for ``(N, C, d1, ...)`` inputs (torch's 2-D kernel)."""
    if x.ndim != 4 and t.shape[1:] != x.shape[2:]:
        raise RuntimeError(f"Expected target size {[x.shape[0], *x.shape[2:]]}, got "
                           f"{list(t.shape)}")
    if x.ndim == 4 and t.ndim != 3:
        raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got "
                           f"targets of dimension: {t.ndim}")
    _check_target_dtype(t)
    if x.ndim == 4 and t.shape[1:] != x.shape[2:]:
        raise RuntimeError(f"size mismatch (got input: {list(x.shape)} , target: "
                           f"{list(t.shape)}")
    if w is not None and w.size != x.shape[1]:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
