"""``out=`` for the ops that take it themselves: the result is written into ``out``'s memory
(torch's semantics: no autograd, a resize when the shape differs), never rebound."""
from __future__ import annotations

import contextlib

import numpy as np


def write_out(name, result, out, inputs=()):
    """``result``, or ``out`` (a tensor, or a tuple of tensors for tuple results) holding it."""
    if out is None:
        return result
    if name in ("all", "any") and out._data.dtype.kind != "b" and out._data.dtype != np.uint8:
        from ._shape_utils import type_name  # torch's all/any write into bool or uint8 only

        raise RuntimeError(f"{name} only supports bool tensor for result, got: "
                           f"{type_name(out._data.dtype)}")
    from .._compat import _write_out

    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not "
                            f"{type(out).__name__}")
        if name in _TUPLE_OUT_MESSAGES:
            _check_tuple_out(name, result, out)
        written = [_write_out(name, r, o, inputs) for r, o in zip(result, out)]
        if hasattr(result, "n_fields"):  # a return type: torch answers with its `_out` twin
            from ..return_types import _out_variant

            return _out_variant(type(result))(written)
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    return _write_out(name, result, out, inputs)


_TUPLE_OUT_MESSAGES = {
    **dict.fromkeys(("sort", "topk", "max", "min", "aminmax"), (
        "Expected out tensor to have dtype {want}, but got {got} instead",) * 2),
    "kthvalue": ("output values must be of same type as input",
                 "output indices must be of scalar type Long"),
    "median": ("Expected tensor for 'values' to have the same type as tensor for argument #2 "
               "'self'; but type {got_t} does not equal {want_t} (while "
               "checking arguments for median)",
               "Expected tensor for argument #1 'indices' to have scalar type Long; but got "
               "{got_t} instead (while checking arguments for median)"),
}


def _check_tuple_out(name, result, out):
    """torch's errors for a (values, indices) ``out`` of other dtypes than the results' (median
    checks its indices first)."""
    from .._compat import _write_out
    from .._dtype import c_type_name

    pairs = list(zip(result, out, _TUPLE_OUT_MESSAGES[name]))
    pairs = pairs[::-1] if name == "median" else pairs
    for i, (r, o, message) in enumerate(pairs):
        want, got = r._data.dtype, o._data.dtype
        if want != got:
            for r_before, o_before, _ in pairs[:i] if name != "median" else ():
                _write_out(name, r_before, o_before)  # torch has resized those (and warned)
            raise RuntimeError(message.format(want=c_type_name(want), got=c_type_name(got),
                                              want_t=_legacy(want), got_t=_legacy(got)))


def _legacy(dtype):
    from ._shape_utils import type_name  # torch's legacy names: torch.FloatTensor

    return f"CPU{type_name(dtype)}Type" if dtype.kind in "bc" else f"torch.{type_name(dtype)}Tensor"


@contextlib.contextmanager
def out_checked_first(name, out, inputs):
    """Run a block of an op's kernel checks so that, with ``out``, torch's checks of ``out``
    come first (see :func:`out_error`)."""
    try:
        yield
    except RuntimeError as e:  # NotImplementedError is one
        raise out_error(name, e, out, inputs) from None


def out_error(name, error, out, inputs):
    """The error torch raises for ``name(*inputs, out=out)`` when the op failed with ``error``
    in its kernel (a dtype it lacks, a division by zero): torch checks ``out`` first (the
    shape of an ``out`` that is also an input, the cast of the result dtype into it)."""
    if out is None:
        return error
    from .._inplace import out_kernel_error

    return out_kernel_error(name, out, inputs, error)
