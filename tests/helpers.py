"""Small helpers shared by the tests: ``assert_close`` and ``make_inputs``."""
from __future__ import annotations

import numpy as np

import ember

# torch.testing.assert_close's defaults, by dtype
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}


def to_numpy(x) -> np.ndarray:
    """An ember or torch tensor, array or number as a NumPy array (detached, copied)."""
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        return np.array(x.detach().numpy())
    return np.asarray(x)


def assert_close(actual, expected, *, rtol=None, atol=None, msg=""):
    """Shapes equal and ``|actual - expected| <= atol + rtol * |expected|`` elementwise.

    Takes ember or torch tensors, arrays and numbers; the default tolerances are
    torch.testing's for the less precise of the two dtypes. On failure the message names the
    worst element and both values.
    """
    a, e = to_numpy(actual), to_numpy(expected)
    prefix = f"{msg}: " if msg else ""
    if a.shape != e.shape:
        raise AssertionError(f"{prefix}shape {a.shape} != expected {e.shape}")
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        if not np.array_equal(a, e):
            bad = np.argwhere(a != e)[0]
            raise AssertionError(f"{prefix}values differ at {tuple(bad)}: {a[tuple(bad)]!r} != "
                                 f"{e[tuple(bad)]!r}\nactual:\n{a}\nexpected:\n{e}")
        return
    default = [_TOLERANCES.get(d.dtype, (0.0, 0.0)) for d in (a, e)]
    rtol = max(t[0] for t in default) if rtol is None else rtol
    atol = max(t[1] for t in default) if atol is None else atol
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    ok = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        err = np.where(ok, 0, np.abs(a64 - e64))
        worst = np.unravel_index(np.nanargmax(err) if a.ndim else 0, a.shape)
        raise AssertionError(
            f"{prefix}{(~ok).sum()} of {ok.size} elements differ (rtol={rtol}, atol={atol}); "
            f"worst at {tuple(int(i) for i in worst)}: {a64[worst]!r} vs expected {e64[worst]!r}")


def make_inputs(shapes, *, dtype=np.float64, seed=0, low=-2.0, high=2.0, requires_grad=True):
    """Uniform random ember tensors, one per shape, reproducible from ``seed``.

    ``shapes`` may also be an object with ``shapes``, ``low`` and ``high`` attributes (a row
    of the op table), whose domain then overrides ``low`` and ``high``.
    """
    if hasattr(shapes, "shapes"):
        low, high, shapes = shapes.low, shapes.high, shapes.shapes
    rng = np.random.default_rng(seed)
    return [ember.tensor(rng.uniform(low, high, size=s).astype(dtype),
                         requires_grad=requires_grad) for s in shapes]
