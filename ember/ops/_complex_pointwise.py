"""Complex kernels kept apart from the real ones: torch's complex log-add-exp (logaddexp and
logcumsumexp's running sum), and which of ``binary_float``'s ops take complex tensors."""
from __future__ import annotations

import numpy as np

# binary_float's ops (pointwise_math.py) with a complex kernel in torch
COMPLEX_BINARY = frozenset({"logaddexp", "ldexp"})


def log_add_exp(x, y):
    """torch's complex log(exp(x) + exp(y)): log1p(exp(min - max)) + max, ordered by the real
    part (the imaginary part keeps the larger term's branch)."""
    nan_x, nan_y = np.isnan(x), np.isnan(y)
    swap = x.real < y.real
    lo, hi = np.where(swap, x, y), np.where(swap, y, x)
    with np.errstate(all="ignore"):
        out = np.log1p(np.exp(lo - hi)) + hi
        both_inf = ~np.isfinite(lo.real) & (lo.real == hi.real)
        out = np.where(both_inf, np.where(lo.real < 0, lo, np.log(np.exp(lo) + np.exp(hi))), out)
    return np.where(nan_x | nan_y, complex(np.nan, np.nan), out).astype(x.dtype, copy=False)
