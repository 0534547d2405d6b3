"""``ember.types``: torch.types' aliases for annotations (``Number``, ``Device``, ``_size``...).

torch's ``_layout``, ``_qscheme``, ``SymInt`` and friends have no ember counterpart and are
left out.
"""
from __future__ import annotations

import os
from builtins import bool as _bool  # noqa: F401
from builtins import bytes as _bytes  # noqa: F401
from builtins import complex as _complex  # noqa: F401
from builtins import float as _float  # noqa: F401
from builtins import int as _int  # noqa: F401
from builtins import str as _str  # noqa: F401
from collections.abc import Sequence
from typing import IO

from ._backend import device as _device
from ._dtype import dtype as _dtype  # noqa: F401
from ._tensor import Size, Tensor

__all__ = ["Number", "Device", "FileLike"]

_TensorOrTensors = Tensor | Sequence[Tensor]
_TensorOrOptionalTensors = Tensor | Sequence[Tensor | None]
_size = Size | list[int] | tuple[int, ...]

Number = int | float | bool
"""Anything "numeric", as torch's docs use the word."""
_Number = (int, float, bool)  # for isinstance(x, _Number)

FileLike = str | os.PathLike[str] | IO[bytes]
"""A path or an open binary file (``ember.save``/``ember.load``)."""

Device = _device | str | int | None
"""Anything a ``device=`` argument takes (None: the default device)."""
