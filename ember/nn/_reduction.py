"""The loss ``reduction`` argument and torch's legacy ``size_average`` / ``reduce`` pair."""
from __future__ import annotations

import warnings

_VALID = ("none", "mean", "sum")


def check(reduction: str) -> str:
    """``reduction`` itself, or torch's ValueError when it is not none / mean / sum."""
    if reduction in _VALID:
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def legacy_get_string(size_average, reduce, emit_warning: bool = True) -> str:
    """Translate the deprecated ``size_average`` / ``reduce`` flags into a reduction."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def resolve(size_average, reduce, reduction: str) -> str:
    """The effective reduction of a loss call."""
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    return check(reduction)
