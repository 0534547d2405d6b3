"""Anomaly detection: backward checks every node's gradients for NaN and names the node and
the line that made it (``detect_anomaly``, ``set_detect_anomaly``).

Off by default: the check reads every gradient once more. ember records creation sites
anyway, so anomaly mode only adds the NaN test.
"""
from __future__ import annotations

import warnings


class _Anomaly:
    enabled = False
    check_nan = True


state = _Anomaly()


def is_anomaly_enabled() -> bool:
    """Whether backward checks gradients for NaN now."""
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode, when on, looks for NaN."""
    return state.check_nan


class detect_anomaly:  # noqa: N801  (torch's name)
    """Context manager (and decorator) turning anomaly detection on inside it."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self._prev = (state.enabled, state.check_nan)
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        self._prev = (state.enabled, state.check_nan)
        state.enabled, state.check_nan = True, self.check_nan

    def __exit__(self, *exc):
        state.enabled, state.check_nan = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:  # noqa: N801  (torch's name)
    """Turn anomaly detection on or off at once; as a context manager, restore it after."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = (state.enabled, state.check_nan)
        state.enabled, state.check_nan = bool(mode), check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.enabled, state.check_nan = self._prev
        return False


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """``torch.set_anomaly_enabled``: switch anomaly detection on or off, with no restore."""
    state.enabled, state.check_nan = bool(enabled), bool(check_nan)


def check_gradients(node, grads) -> None:
    """Raise torch's error when ``node``'s backward returned NaN, then say where it was made."""
    import numpy as np

    for i, g in enumerate(grads):
        if g is not None and g.dtype.kind == "f" and np.isnan(g).any():
            from . import graph

            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output.\n\n"
                f"Where: the node was made at {graph.where(getattr(node, '_site', None))}\n"
                "Fix: look for an op whose derivative is infinite or undefined at the values "
                "it got there (sqrt or log at 0, 0/0, inf - inf).")
