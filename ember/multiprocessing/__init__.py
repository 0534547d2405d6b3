"""``ember.multiprocessing``: torch.multiprocessing's surface over the stdlib module.

Everything in Python's ``multiprocessing`` is re-exported (``Process``, ``Queue``, ``Pool``,
``get_context``...), plus torch's sharing-strategy switches and ``spawn``, which runs
``fn(i, *args)`` in ``nprocs`` fresh processes and re-raises a child's exception, traceback
included, as ``ProcessRaisedException``.

How it differs from torch: a Tensor sent to another process (through a ``Queue``, a
``Pipe`` or ``spawn``'s ``args``) is pickled, so it arrives as a copy with the same values,
dtype, shape and ``requires_grad`` (a Parameter stays a Parameter); torch instead moves its
storage into shared memory, so in-place changes made by one process are seen by the other.
No ember tensor is shared that way, and the sharing strategy changes nothing.
"""
from __future__ import annotations

import multiprocessing
import sys
from multiprocessing import *  # noqa: F401,F403

from .spawn import (  # noqa: F401
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    SpawnContext,
    spawn,
    start_processes,
)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"]
__all__ += multiprocessing.__all__

if sys.platform in ("darwin", "win32"):
    _sharing_strategy = "file_system"
    _all_sharing_strategies = {"file_system"}
else:
    _sharing_strategy = "file_descriptor"
    _all_sharing_strategies = {"file_descriptor", "file_system"}


def set_sharing_strategy(new_strategy) -> None:
    """Choose how CPU tensors would be shared (recorded only: ember sends copies).

    Args:
        new_strategy: one of ``get_all_sharing_strategies()``.

    Raises:
        AssertionError: an unknown strategy (torch's check).
    """
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of "
                             f"{_all_sharing_strategies}")
    _sharing_strategy = new_strategy


def get_sharing_strategy() -> str:
    """The current sharing strategy: ``'file_descriptor'`` on Linux unless changed."""
    return _sharing_strategy


def get_all_sharing_strategies() -> set:
    """The strategies this platform supports (Linux: file_descriptor and file_system)."""
    return _all_sharing_strategies
