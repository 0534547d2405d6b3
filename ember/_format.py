"""Printing tensors the way torch does: ``tensor([[1., 2.], ...], requires_grad=True)``.

A port of torch's ``_tensor_str``: one formatter per tensor picks integer, fixed or
scientific notation from the nonzero finite values and pads every element to the width of
the widest of those; rows wrap at ``linewidth``; tensors above ``threshold`` elements print
``edgeitems`` from each end.
"""
from __future__ import annotations

import math

import numpy as np

from . import _dtype

_DEFAULT_INT = np.dtype(np.int64)
PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                 "sci_mode": None}
_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions: digits, summarisation threshold, edge items, line width.

    Args:
        precision: digits after the decimal point (4).
        threshold: element count above which a tensor is summarised (1000).
        edgeitems: items printed at each end of a summarised dimension (3).
        linewidth: characters per line before wrapping (80).
        profile: "default", "short" or "full" (never summarise); the other arguments
            override it.
        sci_mode: True/False forces scientific notation on/off; None chooses.
    """
    if profile is not None:
        PRINT_OPTIONS.update(_PROFILES[profile])
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            PRINT_OPTIONS[k] = v
    PRINT_OPTIONS["sci_mode"] = sci_mode


class _Formatter:
    """Chooses the notation and the element width from (the summarised) values."""

    def __init__(self, arr):
        self.floating = arr.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        prec = PRINT_OPTIONS["precision"]
        values = arr.reshape(-1)
        if not self.floating:
            if values.size:
                self.max_width = max(len(str(v)) for v in values.tolist())
            return
        values = values.astype(np.float64)
        nonzero = values[np.isfinite(values) & (values != 0)]
        if nonzero.size == 0:
            return
        mags = np.abs(nonzero)
        lo, hi = mags.min(), mags.max()
        self.int_mode = bool(np.all(nonzero == np.ceil(nonzero)))
        vals = nonzero.tolist()
        # a forced sci_mode decides the notation before the width is measured, as in torch
        self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) \
            if PRINT_OPTIONS["sci_mode"] is None else bool(PRINT_OPTIONS["sci_mode"])
        if self.sci_mode:
            self.max_width = max(len(f"{v:.{prec}e}") for v in vals)
        elif self.int_mode:
            self.max_width = max(len(f"{v:.0f}") for v in vals) + 1
        else:
            self.max_width = max(len(f"{v:.{prec}f}") for v in vals)

    def format(self, value) -> str:
        if self.floating:
            prec = PRINT_OPTIONS["precision"]
            if self.sci_mode:
                s = f"{value:{self.max_width}.{prec}e}"
            elif self.int_mode:
                s = f"{value:.0f}"
                if math.isfinite(value):
                    s += "."
            else:
                s = f"{value:.{prec}f}"
        else:
            s = f"{value}"
        return " " * (self.max_width - len(s)) + s


class _ComplexFormatter:
    """torch's pair of formatters for a complex tensor: one for the real parts, one for the
    imaginary parts, each choosing its own notation and width."""

    def __init__(self, arr):
        self.real, self.imag = _Formatter(arr.real), _Formatter(arr.imag)
        self.max_width = self.real.max_width + self.imag.max_width + 1  # the "j"

    def format(self, value) -> str:
        real = self.real.format(value.real)
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return real + imag if imag[0] in "+-" else real + "+" + imag


def _summarized(arr):
    """The elements a summarised print shows (they decide the formatter's width)."""
    edge = PRINT_OPTIONS["edgeitems"]
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        if arr.shape[0] > 2 * edge:
            return np.concatenate((arr[:edge], arr[-edge:]))
        return arr
    if not edge:
        return np.empty([0] * arr.ndim, arr.dtype)
    rows = range(arr.shape[0])
    if arr.shape[0] > 2 * edge:
        rows = list(range(edge)) + list(range(arr.shape[0] - edge, arr.shape[0]))
    return np.stack([_summarized(arr[i]) for i in rows])


def _vector_str(arr, indent, summarize, fmt):
    edge = PRINT_OPTIONS["edgeitems"]
    per_line = max(1, int(math.floor((PRINT_OPTIONS["linewidth"] - indent)
                                     / (fmt.max_width + 2))))
    if summarize and not edge:
        data = ["..."]
    elif summarize and arr.shape[0] > 2 * edge:
        data = ([fmt.format(v) for v in arr[:edge].tolist()] + [" ..."]
                + [fmt.format(v) for v in arr[-edge:].tolist()])
    else:
        data = [fmt.format(v) for v in arr.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(arr, indent, summarize, fmt):
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, fmt)
    edge = PRINT_OPTIONS["edgeitems"]
    n = arr.shape[0]
    if summarize and n > 2 * edge:
        slices = ([_tensor_str(arr[i], indent + 1, summarize, fmt) for i in range(edge)]
                  + ["..."]
                  + [_tensor_str(arr[i], indent + 1, summarize, fmt)
                     for i in range(n - edge, n)])
    else:
        slices = [_tensor_str(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def format_array(arr, indent: int = 7) -> str:
    """The bracketed body torch prints for ``arr`` (no ``tensor(`` prefix or suffixes)."""
    if arr.size == 0:
        return "[]"
    summarize = arr.size > PRINT_OPTIONS["threshold"]
    kind = _ComplexFormatter if arr.dtype.kind == "c" else _Formatter
    fmt = kind(_summarized(arr) if summarize else arr)
    return _tensor_str(arr, indent, summarize, fmt)


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTIONS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(t) -> str:
    """torch-style repr of tensor ``t``."""
    arr = t._data
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    d = arr.dtype
    default = _dtype.get_default_dtype().np
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if d != default:
            suffixes.append(f"dtype={_dtype.from_numpy(d)}")
    elif not (d == default or d == _DEFAULT_INT or d == np.bool_
              or d == _dtype.default_complex().np):
        suffixes.append(f"dtype={_dtype.from_numpy(d)}")
    body = format_array(arr, indent)
    try:
        fn = t.grad_fn
    except RuntimeError:  # a view torch refuses to give a grad_fn (changed in place): as torch
        fn, suffixes = None, [*suffixes, "grad_fn=<Invalid>"]
    if fn is not None:
        suffixes.append(f"grad_fn=<{fn.name()}>")
    elif t._rg and not suffixes[-1:] == ["grad_fn=<Invalid>"]:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
