"""torch's order of checks for reductions of complex tensors, which have no order: an empty
input meets the shape errors of the reduction (checked before the dtype) and may even give an
empty result; any other complex input the dtype error of the kernel."""
from __future__ import annotations

import numpy as np

from .._tensor import _wrap
from ._shape_utils import type_name, wrap_dim


def float_proxy(fn, input, *args, **kwargs):
    """``fn`` applied to a float32 tensor shaped like ``input``: raises the reduction's shape
    errors for an input of any dtype (or returns a result of the right shape)."""
    return fn(_wrap(np.zeros(input._data.shape, np.float32)), *args, **kwargs)


def refuse_complex(fn, name, dim, input):
    """torch's errors for ``max`` or ``min`` (``fn``, named ``name``) of a complex tensor."""
    if not input._data.size:
        float_proxy(fn, input, dim)
    if dim is None:
        raise NotImplementedError(f"\"{name}_all\" not implemented for "
                                  f"'{type_name(input._data.dtype)}'")
    wrap_dim(dim, input._data.ndim)  # torch's IndexError for a dim out of range comes first
    raise RuntimeError(f"{name}(): does not support complex input")


def complex_extreme(fn, kernel, input, dim, keepdim):
    """``amax`` or ``amin`` (``fn``) of a complex tensor: empty where torch's shape checks
    let an empty input through, else the error of the missing ``kernel``."""
    if not input._data.size:
        shape = float_proxy(fn, input, dim, keepdim).shape
        return _wrap(np.zeros(shape, input._data.dtype))
    raise NotImplementedError(f"\"{kernel}\" not implemented for "
                              f"'{type_name(input._data.dtype)}'")
