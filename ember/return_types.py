"""``ember.return_types``: the named tuples torch's multi-output ops return.

``ember.max(x, 0)`` gives ``ember.return_types.max(values=..., indices=...)``, as torch gives a
``torch.return_types.max``. torch's are C "structseq" types, and these copy their behaviour:
a plain ``tuple`` subclass (equality, hashing, slicing and unpacking are a tuple's), fields
read by name and read-only, ``n_fields``/``n_sequence_fields``/``n_unnamed_fields``, the
constructor takes one sequence (``max((values, indices))``), pickling by reference, a
multi-line repr, and none of ``namedtuple``'s ``_fields``/``_asdict``/``_replace``/``_make``.
Each type is registered as a pytree node (flattening to its fields, with no context), as
``torch.return_types`` registers its own. An op called with ``out=`` returns the ``*_out``
twin (``max_out``), as torch does.

The classes are Python classes; subclassing them raises TypeError, as for torch's C types, and
``ember.utils._pytree.is_structseq`` recognises them by their module.
"""
from __future__ import annotations

import builtins

from ember.func._pytree import _seq_keys, register_pytree_node

__all__ = ["pytree_register_structseq", "all_return_types"]

all_return_types: list = []


class _Field:
    """A read-only field of a return type: item ``index`` of the tuple."""

    def __init__(self, index: int, doc: str) -> None:
        self.index = index
        self.__doc__ = doc

    def __get__(self, obj, owner=None):
        return self if obj is None else obj[self.index]

    def __set__(self, obj, value):
        raise AttributeError("readonly attribute")

    def __delete__(self, obj):
        raise AttributeError("readonly attribute")


def pytree_register_structseq(cls) -> None:
    """Register a return type as a pytree node: its fields are the children, no context."""
    register_pytree_node(cls, lambda s: (list(s), None), lambda values, context: cls(values),
                         flatten_with_keys_fn=lambda s: _seq_keys(list(s), None))


def _structseq(name: str, *fields: str):
    """A new return type ``name`` with the given field names, registered and exported."""
    full_name = f"{__name__}.{name}"

    def __new__(cls, sequence, dict=None):  # noqa: A002 (CPython's parameter name)
        try:
            values = tuple(sequence)
        except TypeError:
            raise TypeError("constructor requires a sequence") from None
        if dict is not None and not isinstance(dict, builtins.dict):
            raise TypeError(f"{full_name}() takes a dict as second arg, if any")
        if len(values) != len(fields):
            raise TypeError(f"{full_name}() takes a {len(fields)}-sequence "
                            f"({len(values)}-sequence given)")
        return tuple.__new__(cls, values)

    def __repr__(self) -> str:
        items = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"{full_name}(\n{items})"

    def __reduce__(self):
        return type(self), (tuple(self), {})

    def __init_subclass__(cls, **kwargs):
        raise TypeError(f"type '{full_name}' is not an acceptable base type")

    namespace = {
        "__doc__": f"``{full_name}({', '.join(fields)})``: a tuple with named fields.",
        "__module__": __name__, "__qualname__": name, "__slots__": (),
        "__new__": __new__, "__repr__": __repr__, "__reduce__": __reduce__,
        "__init_subclass__": __init_subclass__, "__match_args__": fields,
        "n_fields": len(fields), "n_sequence_fields": len(fields), "n_unnamed_fields": 0,
    }
    for index, field in enumerate(fields):
        namespace[field] = _Field(index, f"Alias for field number {index}")
    cls = type(name, (tuple,), namespace)
    pytree_register_structseq(cls)
    all_return_types.append(cls)
    __all__.append(name)
    return cls


def _with_out(name: str, *fields: str):
    """``name`` and its ``name_out`` twin (the type an op called with ``out=`` returns)."""
    return _structseq(name, *fields), _structseq(f"{name}_out", *fields)


# NOTE: `max` and `min` shadow the builtins in this module; nothing below uses the builtins.
max, max_out = _with_out("max", "values", "indices")  # noqa: A001
min, min_out = _with_out("min", "values", "indices")  # noqa: A001
sort, sort_out = _with_out("sort", "values", "indices")
topk, topk_out = _with_out("topk", "values", "indices")
kthvalue, kthvalue_out = _with_out("kthvalue", "values", "indices")
median = _structseq("median", "values", "indices")
nanmedian = _structseq("nanmedian", "values", "indices")
mode = _structseq("mode", "values", "indices")
cummax = _structseq("cummax", "values", "indices")
cummin = _structseq("cummin", "values", "indices")
aminmax = _structseq("aminmax", "min", "max")
frexp = _structseq("frexp", "mantissa", "exponent")
histogram, histogram_out = _with_out("histogram", "hist", "bin_edges")
histogramdd = _structseq("histogramdd", "hist", "bin_edges")
slogdet = _structseq("slogdet", "sign", "logabsdet")
qr = _structseq("qr", "Q", "R")
svd = _structseq("svd", "U", "S", "V")
triangular_solve = _structseq("triangular_solve", "solution", "cloned_coefficient")
lu_unpack = _structseq("lu_unpack", "P", "L", "U")
_lu_with_info = _structseq("_lu_with_info", "LU", "pivots", "info")  # torch.lu(get_infos=True)
linalg_slogdet = _structseq("linalg_slogdet", "sign", "logabsdet")
linalg_qr = _structseq("linalg_qr", "Q", "R")
linalg_svd = _structseq("linalg_svd", "U", "S", "Vh")
linalg_eigh = _structseq("linalg_eigh", "eigenvalues", "eigenvectors")
linalg_eig, linalg_eig_out = _with_out("linalg_eig", "eigenvalues", "eigenvectors")
linalg_cholesky_ex = _structseq("linalg_cholesky_ex", "L", "info")
linalg_inv_ex = _structseq("linalg_inv_ex", "inverse", "info")
linalg_solve_ex = _structseq("linalg_solve_ex", "result", "info")
linalg_lstsq = _structseq("linalg_lstsq", "solution", "residuals", "rank", "singular_values")
linalg_lu, linalg_lu_out = _with_out("linalg_lu", "P", "L", "U")
linalg_lu_factor, linalg_lu_factor_out = _with_out("linalg_lu_factor", "LU", "pivots")
linalg_lu_factor_ex, linalg_lu_factor_ex_out = _with_out("linalg_lu_factor_ex", "LU", "pivots",
                                                         "info")
linalg_ldl_factor, linalg_ldl_factor_out = _with_out("linalg_ldl_factor", "LD", "pivots")
linalg_ldl_factor_ex, linalg_ldl_factor_ex_out = _with_out("linalg_ldl_factor_ex", "LD",
                                                           "pivots", "info")
geqrf, geqrf_out = _with_out("geqrf", "a", "tau")


def _out_variant(result_type):
    """The ``*_out`` twin of a return type (what ``op(..., out=...)`` returns), or the type
    itself when ember has no ``out=`` for that op."""
    return globals().get(f"{result_type.__qualname__}_out", result_type)
