"""The array module behind a device. Only "cpu" (NumPy) exists today."""
from __future__ import annotations

import numpy as np

xp = np


class device:  # noqa: N801  (torch spells it in lower case)
    """Where a tensor lives: ``device("cpu")``. Other types raise a clear RuntimeError."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        if isinstance(type, int):
            type, index = "cuda", type
        name = str(type)
        if ":" in name:
            name, _, idx = name.partition(":")
            index = int(idx)
        if name not in ("cpu", "cuda", "mps", "meta", "xpu"):
            raise RuntimeError(
                f"Expected one of cpu, cuda, mps, meta, xpu device type at start of device "
                f"string: {type}"
            )
        self.type = name
        self.index = index

    def __eq__(self, other):  # a string is never equal, as in torch: device("cpu") != "cpu"
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


class DeviceUnavailableError(RuntimeError, AssertionError):
    """A device ember lacks was asked for. A RuntimeError, and also the AssertionError a
    CPU-only build of torch raises ("Torch not compiled with CUDA enabled")."""


_NOT_COMPILED = {"cuda": "Torch not compiled with CUDA enabled: ",
                 "xpu": "Torch not compiled with XPU enabled: "}


def check_device(dev) -> device:
    """Return the device, or raise if it is not available here (only the CPU is)."""
    if dev is None:
        return CPU
    d = dev if isinstance(dev, device) else device(dev)
    if d.type != "cpu":
        raise DeviceUnavailableError(
            f"{_NOT_COMPILED.get(d.type, '')}Device '{d}' is not available: ember runs on the "
            f"CPU only (ember.cuda.is_available() is False). Use device='cpu'."
        )
    return CPU
