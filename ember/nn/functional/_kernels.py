"""The dtypes torch's CPU kernels take, and its error for the others.

torch dispatches each op to a kernel compiled for a set of dtypes; any other dtype raises
``NotImplementedError: "<kernel>" not implemented for '<Type>'``, naming the kernel. The
sets below are the ones the nn kernels were built for (float16 included; ember's bfloat16
computes as float32 and passes as one).
"""
from __future__ import annotations

from ...ops._shape_utils import type_name

FLOATING = frozenset({"float16", "float32", "float64"})
FLOATING_AND_LONG = FLOATING | {"int64"}
FLOATING_AND_BYTE = FLOATING | {"uint8"}
REAL = FLOATING | {"int64", "int32", "int16", "int8", "uint8"}  # no bool, no complex


def check_kernel(input, kernel: str, allowed: frozenset) -> None:
    """Raise torch's NotImplementedError when ``input``'s dtype is not in ``allowed``."""
    dt = input._data.dtype
    if dt.name not in allowed:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(dt)}'")
