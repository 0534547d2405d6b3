"""torch's legacy typed tensor names: ``FloatTensor``, ``LongTensor`` ... and ``Tensor.type``.

``ember.LongTensor([1, 2])`` builds an int64 tensor, ``isinstance(x, ember.FloatTensor)``
checks the dtype, and ``x.type(ember.LongTensor)`` or ``x.type("torch.LongTensor")``
converts, as in torch. The names are not subclasses of ``Tensor`` (torch's are not either).
"""
from __future__ import annotations

from . import _dtype
from ._tensor import Tensor

_NAMES = {"Float": "float32", "Double": "float64", "Half": "float16", "BFloat16": "bfloat16",
          "Long": "int64", "Int": "int32", "Short": "int16", "Char": "int8", "Byte": "uint8",
          "Bool": "bool_"}


class _TensorType(type):
    """The metaclass of the legacy names: calling one makes a tensor of its dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args, device=None):
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype != cls.dtype:
                from ._tensor_methods_views import _options

                raise TypeError(f"expected {_options(cls.dtype.np)} "
                                f"(got {_options(args[0]._data.dtype)})")
            return args[0]
        return Tensor(*args, dtype=cls.dtype, device=device)

    def __repr__(cls):
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def _legacy(prefix, dtype_name):
    dtype = getattr(_dtype, dtype_name)
    doc = (f"torch.{prefix}Tensor: builds {dtype_name.rstrip('_')} tensors; isinstance checks "
           "the dtype.")
    return _TensorType(f"{prefix}Tensor", (), {"dtype": dtype, "is_cuda": False,
                                               "is_sparse": False, "__doc__": doc,
                                               "__module__": "ember"})


LEGACY = {f"{p}Tensor": _legacy(p, name) for p, name in _NAMES.items()
          if hasattr(_dtype, name)}


def type(self, dtype=None, non_blocking=False, **kwargs):  # noqa: A001  (torch's name)
    """The type name ("torch.FloatTensor") without an argument; else converted to a dtype, a
    legacy type (``ember.LongTensor``) or a type name ("torch.LongTensor")."""
    if dtype is None:
        from .autograd.function import _TORCH_TYPE_NAMES

        return "torch." + _TORCH_TYPE_NAMES[self._data.dtype.name]
    if isinstance(dtype, str):
        prefix, _, name = dtype.rpartition(".")
        if prefix in ("torch.cuda", "ember.cuda"):
            from ._backend import check_device

            check_device("cuda")
        if prefix not in ("torch", "ember") or name not in LEGACY:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = LEGACY[name]
    if isinstance(dtype, _TensorType):
        dtype = dtype.dtype
    return self.to(dtype)


Tensor.type = type
