"""Argument checks shared by the models' constructors."""
from __future__ import annotations

import operator


def _check_int(value, name: str, low: int) -> int:
    """``value`` as an int of at least ``low`` (a bool is not an int here)."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = operator.index(value)
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return value


def _check_dropout(value) -> float:
    """``value`` as a dropout probability in [0, 1), with torch's message otherwise."""
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1 (excluding 1), "
                         f"but got {value}")
    return value
