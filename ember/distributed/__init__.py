"""ember.distributed: importable so DDP-ready scripts load; no backend exists yet.

``is_available()`` and ``is_initialized()`` are False. ``init_process_group`` raises a
RuntimeError saying there is no backend; the collectives and rank queries raise torch's
"Default process group has not been initialized" error, which is what they would say
before ``init_process_group`` in torch. Scripts that take the single-process path
(``ddp = int(os.environ.get("RANK", -1)) != -1`` is False) never reach them.
"""
from __future__ import annotations

import os
from enum import Enum

__all__ = ["is_available", "is_initialized", "is_nccl_available", "is_gloo_available",
           "is_mpi_available", "is_torchelastic_launched", "init_process_group",
           "destroy_process_group", "get_rank", "get_world_size", "get_backend", "barrier",
           "all_reduce", "reduce", "broadcast", "all_gather", "gather", "scatter",
           "reduce_scatter", "all_gather_object", "broadcast_object_list", "new_group",
           "ReduceOp", "Backend", "GroupMember", "group"]

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")


def is_available() -> bool:
    """False: ember has no distributed backend (no gloo, nccl or mpi)."""
    return False


def is_initialized() -> bool:
    """False: no process group can be initialised."""
    return False


def is_nccl_available() -> bool:
    """False."""
    return False


def is_gloo_available() -> bool:
    """False."""
    return False


def is_mpi_available() -> bool:
    """False."""
    return False


def is_torchelastic_launched() -> bool:
    """Whether this process was started by torchrun (``TORCHELASTIC_RUN_ID`` is set)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Raises RuntimeError: ember has no distributed backend yet; run a single process."""
    raise RuntimeError(
        f"ember.distributed.init_process_group(backend={backend!r}): ember has no distributed "
        "backend (ember.distributed.is_available() is False). Run the script as a single "
        "process (without torchrun / RANK set).")


def _needs_group(name):
    def fn(*args, **kwargs):
        raise ValueError(_NOT_INITIALIZED)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Raises ValueError: ``{name}`` needs a process group, and none exists."
    return fn


for _name in ("destroy_process_group get_rank get_world_size get_backend barrier all_reduce "
              "reduce broadcast all_gather gather scatter reduce_scatter all_gather_object "
              "broadcast_object_list new_group").split():
    globals()[_name] = _needs_group(_name)
del _name


class ReduceOp(Enum):
    """Reduction kinds of the collectives (names only)."""

    SUM = 0
    PRODUCT = 1
    MIN = 2
    MAX = 3
    BAND = 4
    BOR = 5
    BXOR = 6
    AVG = 7
    PREMUL_SUM = 8
    UNUSED = 9


class Backend(str):
    """Backend names, as torch spells them."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"


class GroupMember:
    """The default group's placeholder (``WORLD`` is None before initialisation)."""

    WORLD = None
    NON_GROUP_MEMBER = -100


group = GroupMember
