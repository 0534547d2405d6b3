"""torch's repr of a sparse COO tensor: indices, values, then size, nnz, dtype and layout."""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .._format import PRINT_OPTIONS, format_array

_INDEX = "indices=tensor("
_VALUES = "values=tensor("


def _body(arr, indent):
    text = format_array(arr, indent)
    if arr.size == 0:
        text += f", size={tuple(arr.shape)}"
    return text


def format_sparse(t) -> str:
    """``tensor(indices=tensor(...),\\n       values=tensor(...),\\n       size=..., nnz=...,
    layout=torch.sparse_coo)`` with torch's line breaks."""
    c = t._data
    prefix = "tensor("
    indent = len(prefix)
    suffixes = [f"size={tuple(c.shape)}", f"nnz={c.nnz}"]
    d = c.dtype
    if not (d == _dtype.get_default_dtype().np or d == np.int64 or d == np.bool_
            or d == _dtype.default_complex().np):
        suffixes.append(f"dtype={_dtype.from_numpy(d)}")
    text = (prefix + _INDEX + _body(c.indices, indent + len(_INDEX)) + "),\n" + " " * indent
            + _VALUES + _body(c.values, indent + len(_VALUES)) + ")")
    suffixes.append(f"layout={t.layout}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    force = True  # torch starts the suffixes of a sparse tensor on a new line
    for s in suffixes:
        if force or last + len(s) + 2 > PRINT_OPTIONS["linewidth"]:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
            force = False
        else:
            parts.append(", " + s)
            last += len(s) + 2
    parts.append(")")
    return "".join(parts)
