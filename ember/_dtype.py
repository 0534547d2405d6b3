"""dtypes: torch's names over NumPy dtypes, and torch's type-promotion rules."""
from __future__ import annotations

import numpy as np


class dtype:  # noqa: N801  (torch spells it in lower case)
    """A tensor element type, e.g. ``ember.float32``; wraps one NumPy dtype."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_category")

    def __init__(self, name: str, np_dtype, category: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == 2
        self.is_signed = name not in ("uint8", "bool")
        self.itemsize = self.np.itemsize
        self._category = category  # 0 bool, 1 integer, 2 floating point, 3 complex

    @property
    def is_complex(self) -> bool:
        """True for complex64 and complex128."""
        return self._category == 3

    def to_real(self) -> dtype:
        """The real counterpart of a complex dtype (complex64 -> float32); others unchanged."""
        return _REAL_OF.get(self.name, self)

    def to_complex(self) -> dtype:
        """The complex counterpart of a floating-point dtype (float32 -> complex64).

        float16 and bfloat16 give complex64 (torch: complex32, which NumPy lacks).

        Raises:
            RuntimeError: for integer and bool dtypes, as torch does.
        """
        if self._category == 3:
            return self
        if self._category != 2:
            raise RuntimeError(f"Unknown Complex ScalarType for {scalar_type_name(self.np)}")
        return complex128 if self.name == "float64" else complex64

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))


float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
float16 = dtype("float16", np.float16, 2)
int64 = dtype("int64", np.int64, 1)
int32 = dtype("int32", np.int32, 1)
int16 = dtype("int16", np.int16, 1)
int8 = dtype("int8", np.int8, 1)
uint8 = dtype("uint8", np.uint8, 1)
bool_ = dtype("bool", np.bool_, 0)
complex64 = dtype("complex64", np.complex64, 3)
complex128 = dtype("complex128", np.complex128, 3)
# NumPy has no bfloat16: the name exists so scripts that mention it import; it computes in float32.
bfloat16 = dtype("bfloat16", np.float32, 2)

ALL = (float32, float64, float16, int64, int32, int16, int8, uint8, bool_, complex64, complex128)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL + (bfloat16,)}
_BY_NAME.update(float=float32, double=float64, half=float16, long=int64, int=int32, short=int16,
                cfloat=complex64, cdouble=complex128)
_REAL_OF = {"complex64": float32, "complex128": float64}
# torch's ScalarType names for dtypes in its messages ("expected scalar type Float")
_SCALAR_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                      "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                      "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
# the C++ type torch's messages name for a dtype ("expected dtype float ... got dtype double")
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
                 "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                 "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
                 "complex128": "c10::complex<double>"}

_default = [float32]


def scalar_type_name(np_dtype) -> str:
    """torch's name for a (NumPy) dtype in error messages: 'Float', 'Long', 'ComplexFloat'."""
    return _SCALAR_TYPE_NAMES.get(np.dtype(np_dtype).name, str(np_dtype))


def c_type_name(np_dtype) -> str:
    """torch's C++ name of a (NumPy) dtype in its messages: 'float', 'long int', 'c10::Half'."""
    name = np.dtype(np_dtype).name
    return _C_TYPE_NAMES.get(name, name)


def from_name(name: str) -> dtype:
    """The dtype called ``name`` ("float32", "long", ...)."""
    return _BY_NAME[name]


def to_numpy(d) -> np.dtype:
    """The NumPy dtype of an ember dtype (also accepts NumPy dtypes and Python types)."""
    if isinstance(d, dtype):
        return d.np
    return np.dtype(convert(d).np)


def from_numpy(np_dtype) -> dtype:
    """The ember dtype of a NumPy dtype; TypeError for dtypes ember does not have."""
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        np_dtype = np.dtype(np_dtype)
        # torch's message; its list has unsigned types that ember lacks, so for those (which
        # torch would convert) the list is ember's own
        uints = "uint8" if np_dtype.kind == "u" else "uint64, uint32, uint16, uint8"
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np_dtype.type.__name__}. The only "
            "supported types are: float64, float32, float16, complex64, complex128, int64, "
            f"int32, int16, int8, {uints}, and bool."
        ) from None


def convert(d) -> dtype:
    """Accept an ember dtype, a NumPy dtype, or the Python types float/int/bool."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return _default[0]
    if d is int:
        return int64
    if d is bool:
        return bool_
    if d is complex:
        return default_complex()
    if isinstance(d, str):
        return from_name(d)
    return from_numpy(d)


def get_default_dtype() -> dtype:
    """The dtype of floating-point tensors made from Python floats (float32 at start)."""
    return _default[0]


def default_complex() -> dtype:
    """The dtype of tensors made from Python complex numbers: the default dtype's complex
    counterpart (complex64 under float32, complex128 under float64)."""
    return _default[0].to_complex()


def set_default_dtype(d) -> None:
    """Change the default floating-point dtype (float32, float64 or float16)."""
    d = convert(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: the higher category wins; within a category NumPy's rule. A
    complex dtype keeps a floating one's precision: float64 with complex64 is complex128."""
    if a is b:
        return a
    if a._category != b._category:
        hi, lo = (a, b) if a._category > b._category else (b, a)
        if hi._category == 3 and lo._category == 2:
            return _BY_NP[np.promote_types(hi.np, lo.np)]
        return hi
    return _BY_NP[np.promote_types(a.np, b.np)]


def scalar_dtype(value) -> dtype:
    """The dtype torch gives a Python scalar standing alone."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, complex):
        return default_complex()
    return _default[0]


def result_type(*operands) -> dtype:
    """torch.result_type for tensors (dimensioned, then 0-d) and Python scalars.

    Dimensioned tensors decide the dtype; a 0-d tensor or a scalar changes it only when it
    is of a higher category (bool < integer < floating point < complex), so ``int_tensor * 2.5``
    is float32 and ``float32_tensor * float64_scalar_tensor`` stays float32. A complex 0-d
    tensor or scalar meeting floating point keeps its precision: ``float64_tensor * 1j`` is
    complex128, ``float32_tensor * complex128_scalar_tensor`` complex64.
    """
    from ._tensor import Tensor

    dims = zero = scal = None
    for x in operands:
        if isinstance(x, Tensor):
            d = x.dtype
            if x._data.ndim:
                dims = d if dims is None else promote_types(dims, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        elif isinstance(x, np.ndarray):
            d = from_numpy(x.dtype)
            dims = d if dims is None else promote_types(dims, d)
        else:
            d = scalar_dtype(x)
            scal = d if scal is None else promote_types(scal, d)
    return _combine(dims, _combine(zero, scal))


def _combine(higher, lower):
    """torch's ``combine_categories``: ``lower`` (the lower-priority group) counts only when
    it is of a higher category."""
    if lower is None:
        return higher
    if higher is None or lower._category > higher._category:
        if higher is not None and higher._category == 2 and lower._category == 3:
            return higher.to_complex()
        return lower
    return higher
