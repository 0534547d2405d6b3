"""Warnings that point at the user's line, as torch's (raised in C++) do."""
from __future__ import annotations

import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_user(message: str, category=UserWarning) -> None:
    """``warnings.warn`` with the stack level of the innermost caller outside ember, however
    many of ember's frames (methods, wrappers) lie between."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)


_warned_once = set()


def warn_once(message: str, category=UserWarning) -> None:
    """``warn_at_user``, the first time ``message`` comes up in this process only (torch's
    ``TORCH_WARN_ONCE``)."""
    if message not in _warned_once:
        _warned_once.add(message)
        warn_at_user(message, category)
