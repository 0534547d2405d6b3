"""Tensor's dtype and device shorthands: ``x.float()``, ``x.long()``, ``x.cpu()`` ...

Each dtype shorthand is ``x.to(dtype)``; the device ones answer for the CPU, the only
device ember has.
"""
from __future__ import annotations

from . import _dtype
from ._backend import check_device
from ._tensor import Tensor

# method name: (dtype, docstring)
_DTYPE_SHORTHANDS = {
    "float": (_dtype.float32, "As float32."),
    "double": (_dtype.float64, "As float64."),
    "half": (_dtype.float16, "As float16."),
    "bfloat16": (_dtype.float32, "As 'bfloat16' (float32 storage: NumPy has no bfloat16)."),
    "long": (_dtype.int64, "As int64."),
    "int": (_dtype.int32, "As int32."),
    "short": (_dtype.int16, "As int16."),
    "char": (_dtype.int8, "As int8."),
    "byte": (_dtype.uint8, "As uint8."),
    "bool": (_dtype.bool_, "As bool."),
}


def _shorthand(name, dtype, doc):
    def convert(self, memory_format=None):
        if memory_format is None:
            return self.to(dtype)
        return self.to(dtype, memory_format=memory_format)

    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = doc
    return convert


for _name, (_to, _doc) in _DTYPE_SHORTHANDS.items():
    setattr(Tensor, _name, _shorthand(_name, _to, _doc))


def cpu(self):
    """Self: tensors already live on the CPU."""
    return self


def cuda(self, device=None, non_blocking=False):
    """Raises: no CUDA device here."""
    check_device("cuda")


def pin_memory(self):
    """Self: nothing to pin on the CPU."""
    return self


def is_pinned(self, device=None) -> bool:
    """False: ember has no pinned memory. ``device`` is deprecated in torch (which warns);
    a bare index means the current accelerator, and raises torch's error (ember has none)."""
    if device is not None:
        import warnings

        from ._backend import device as as_device

        if isinstance(device, int):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        as_device(device)  # torch's error for a device string it cannot read
        warnings.warn("The argument 'device' of Tensor.is_pinned() is deprecated. Please do not "
                      "pass this argument.", DeprecationWarning, stacklevel=2)
    return False


def share_memory_(self):
    """Self (NumPy arrays are shared with worker processes by the DataLoader itself)."""
    return self


def is_shared(self) -> bool:
    """False."""
    return False


for _fn in (cpu, cuda, pin_memory, is_pinned, share_memory_, is_shared):
    setattr(Tensor, _fn.__name__, _fn)
