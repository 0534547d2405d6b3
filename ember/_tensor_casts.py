"""Tensor's dtype and device shorthands: ``x.float()``, ``x.long()``, ``x.cpu()`` ...

Each dtype shorthand is ``x.to(dtype)``; the device ones answer for the CPU, the only
device ember has.
"""
from __future__ import annotations

from . import _dtype
from ._backend import check_device
from ._tensor import Tensor, _copy_fields, _wrap

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


# --- Python protocols ----------------------------------------------------------------------
def __format__(self, spec):
    """``format(t, spec)``: a plain 0-d tensor formats as its number."""
    # torch: a plain 0-d tensor formats as its number (f"{loss:>7f}"), anything else as
    # its str (a 0-d Parameter: "Parameter containing:..."); ember is lenient where torch
    # raises: any one-element tensor takes a format spec
    if (self._data.ndim == 0 and type(self) is Tensor) or (spec and self._data.size == 1):
        return format(self.item(), spec)
    if spec:
        raise TypeError(f"unsupported format string passed to {type(self).__name__}."
                        "__format__")
    return str(self)


def __reduce_ex__(self, protocol):
    """Pickling: the array and ``requires_grad`` (the DataLoader's worker queues)."""
    from ._creation import _rebuild

    return (_rebuild, (self._data, self._rg))


def __deepcopy__(self, memo):
    """A leaf's copy with its own storage, ``.grad`` and attributes."""
    if self.grad_fn is not None:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                           "support the deepcopy protocol at the moment.")
    new = type(self).__new__(type(self))
    _copy_fields(new, _wrap(self._data.copy(), self._rg))
    new._vc[0] = 1  # torch fills the copy's new storage in place (a Parameter's is a clone)
    if self.grad is not None:
        g = self.grad
        new.grad = g.detach().clone() if g.is_sparse else _wrap(g._data.copy())
    if hasattr(self, "__dict__"):
        import copy

        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
    memo[id(self)] = new
    return new


for _fn in (__format__, __reduce_ex__, __deepcopy__):
    setattr(Tensor, _fn.__name__, _fn)
