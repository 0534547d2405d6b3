"""Variance and standard deviation: ``var``, ``std``, ``var_mean``, ``std_mean``, each one
``Var`` node (``reduce.Var``), with torch's two spellings of the correction and its warning
when no degrees of freedom are left."""
from __future__ import annotations

import numpy as np

from .._user_warning import warn_at_user
from ._shape_utils import wrap_dims
from .reduce import Var, mean


def _var_args(name, input, dim, unbiased, correction, names=None):
    """(dim, correction) from torch's two spellings; ``var(x, False)`` means unbiased=False."""
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        "(Tensor, correction=int, unbiased=bool), but expected one of: "
                        "(unbiased=bool) or (correction=Number)")
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"{names or name} only support floating point and complex dtypes")
    if correction is None:
        correction = 0 if unbiased is False else 1
    shape = input._data.shape
    axes = wrap_dims(dim, len(shape)) if shape else None
    n = int(np.prod(shape if axes is None else [shape[a] for a in axes]))
    if n - correction <= 0 or not input._data.size:  # torch's n: numel / output numel, or 0
        warn_no_dof(name)
    return dim, correction


def warn_no_dof(name):
    """torch's warning when ``correction`` leaves no degrees of freedom."""
    warn_at_user(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                 "than the reduction factor (input numel divided by output numel).")


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default; ``unbiased=False`` = 0)."""
    dim, c = _var_args("var", input, dim, unbiased, correction, "std and var")
    return Var.apply(input, dim=dim, correction=c, keepdim=keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim`` (see ``var``)."""
    dim, c = _var_args("std", input, dim, unbiased, correction, "std and var")
    return Var.apply(input, dim=dim, correction=c, keepdim=keepdim, std=True)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``."""
    dim, c = _var_args("var_mean", input, dim, unbiased, correction)
    return Var.apply(input, dim=dim, correction=c, keepdim=keepdim), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``."""
    dim, c = _var_args("std_mean", input, dim, unbiased, correction)
    return (Var.apply(input, dim=dim, correction=c, keepdim=keepdim, std=True),
            mean(input, dim, keepdim))
