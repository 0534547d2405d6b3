"""Printing tensors the way torch does: ``tensor([[1., 2.], ...], requires_grad=True)``."""
from __future__ import annotations

import numpy as np

from . import _dtype

_DEFAULT_INT = np.dtype(np.int64)
PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                 "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions: digits, summarisation threshold, edge items, line width."""
    if profile == "default":
        PRINT_OPTIONS.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "full":
        PRINT_OPTIONS.update(threshold=float("inf"))
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            PRINT_OPTIONS[k] = v
    PRINT_OPTIONS["sci_mode"] = sci_mode


def _float_formatter(values):
    prec = PRINT_OPTIONS["precision"]
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return lambda v: _special(v) or str(v)
    absvals = np.abs(finite)
    integral = np.all(finite == np.round(finite))
    nonzero = absvals[absvals > 0]
    big = absvals.max()
    small = nonzero.min() if nonzero.size else 0.0
    sci = PRINT_OPTIONS["sci_mode"]
    if sci is None:
        sci = big >= 1e8 or (small and (small < 1e-4 or big / small > 1e3 and not integral
                                        and small < 1e-4))
    if integral and not sci:
        return lambda v: _special(v) or f"{v:.0f}."
    if sci:
        return lambda v: _special(v) or f"{v:.{prec}e}"
    return lambda v: _special(v) or f"{v:.{prec}f}"


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _body(arr):
    opts = PRINT_OPTIONS
    if arr.dtype.kind == "f":
        fmt = _float_formatter(arr.astype(np.float64).reshape(-1)) if arr.size else str
        strs = np.vectorize(fmt, otypes=[object])(arr.astype(np.float64)) if arr.size else arr
        width = max((len(s) for s in strs.reshape(-1)), default=0)
        formatter = {"float_kind": lambda v: fmt(v).rjust(width)}
    elif arr.dtype.kind == "b":
        formatter = {"bool": lambda v: "True" if v else "False"}
        width = 5 if arr.any() and not arr.all() else 0
        formatter = {"bool": lambda v: ("True" if v else "False").rjust(width)}
    else:
        formatter = None
    return np.array2string(arr, separator=", ", prefix="tensor(", formatter=formatter,
                           threshold=opts["threshold"], edgeitems=opts["edgeitems"],
                           max_line_width=opts["linewidth"])


def format_tensor(t) -> str:
    """torch-style repr of tensor ``t``."""
    arr = t._data
    body = _body(arr)
    suffix = []
    if arr.size == 0 and arr.shape != (0,):
        suffix.append(f"size={tuple(arr.shape)}")
    d = arr.dtype
    default = _dtype.get_default_dtype().np
    if not (d == default or d == _DEFAULT_INT or d == np.bool_):
        suffix.append(f"dtype={_dtype.from_numpy(d)}")
    elif arr.size == 0 and d != default:
        suffix.append(f"dtype={_dtype.from_numpy(d)}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffix.append("requires_grad=True")
    if suffix:
        return f"tensor({body}, " + ", ".join(suffix) + ")"
    return f"tensor({body})"
