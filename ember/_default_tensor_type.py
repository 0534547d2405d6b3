"""``ember.set_default_tensor_type``: torch's deprecated way to set the default float dtype
through a legacy tensor type (``torch.DoubleTensor``) or its name (``"torch.DoubleTensor"``)."""
from __future__ import annotations

import importlib
import warnings

_warned = [False]  # torch warns once per process (TORCH_WARN_ONCE)


def _import_dotted_name(name: str):
    """The object a dotted name reaches; a leading "torch" reads as "ember"."""
    first, *rest = name.split(".")
    obj = importlib.import_module("ember" if first == "torch" else first)
    for part in rest:
        obj = getattr(obj, part)
    return obj


def set_default_tensor_type(t) -> None:
    """Make the floating point type ``t`` the default: ``set_default_tensor_type(
    torch.DoubleTensor)`` is ``set_default_dtype(torch.float64)``.

    Deprecated in torch since 2.1 (its UserWarning, once per process): use
    :func:`ember.set_default_dtype` and :func:`ember.set_default_device`.

    Args:
        t: a legacy tensor type (``ember.FloatTensor``) or its name (``"torch.FloatTensor"``).

    Raises:
        TypeError: a non-floating type, a CUDA type (ember is a CPU-only build) or an object
            that is not a tensor type (torch's messages).
        ModuleNotFoundError, AttributeError: a name that does not import.
    """
    from . import _dtype, cuda
    from ._legacy_types import _TensorType

    name = None
    if isinstance(t, str):
        name = t.replace("ember.", "torch.", 1) if t.startswith("ember.") else t
        t = _import_dotted_name(t)
    if t is cuda.FloatTensor:  # ember.cuda's tensor types are one placeholder
        shown = name if name and name.startswith("torch.cuda.") else "torch.cuda tensor type"
        raise TypeError(f"type {shown} not available. Torch not compiled with CUDA enabled.")
    if not isinstance(t, _TensorType):
        raise TypeError("invalid type object: only floating-point types are supported as the "
                        "default type")
    if not t.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    if not _warned[0]:
        _warned[0] = True
        warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please "
                      "use torch.set_default_dtype() and torch.set_default_device() as "
                      "alternatives.", UserWarning, stacklevel=2)
    _dtype.set_default_dtype(t.dtype)
