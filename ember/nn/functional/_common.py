"""Helpers shared by the functional families."""
from __future__ import annotations


def _size_str(shape) -> str:
    # torch's messages print shapes as torch.Size([...]); kept so users can search for them
    return f"torch.Size({list(shape)})"


class _AssertionValueError(ValueError, AssertionError):
    """A bad argument value where torch asserts: catchable as torch's AssertionError and as
    the ValueError it is."""


# torch's legacy tensor-type names in its C++ messages ("CPUBoolType" for the newer types)
_LEGACY_NAMES = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
                 "float16": "torch.HalfTensor", "int64": "torch.LongTensor",
                 "int32": "torch.IntTensor", "int16": "torch.ShortTensor",
                 "int8": "torch.CharTensor", "uint8": "torch.ByteTensor", "bool": "CPUBoolType",
                 "complex64": "CPUComplexFloatType", "complex128": "CPUComplexDoubleType"}


def _legacy_name(np_dtype) -> str:
    """torch's legacy tensor-type name of a NumPy dtype: ``torch.FloatTensor``,
    ``CPUBoolType``."""
    return _LEGACY_NAMES.get(np_dtype.name, np_dtype.name)


def _size_index_error(ndim, dim) -> IndexError:
    """torch's error for ``size(dim)`` of an ``ndim``-d tensor that has no such dim."""
    if ndim == 0:
        return IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                      f"{ndim - 1}], but got {dim})")
