"""``out=`` for the ops that take it themselves: the result is written into ``out``'s memory
(torch's semantics: no autograd, a resize when the shape differs), never rebound."""
from __future__ import annotations

import contextlib


def write_out(name, result, out, inputs=()):
    """``result``, or ``out`` (a tensor, or a tuple of tensors for tuple results) holding it."""
    if out is None:
        return result
    from .._compat import _write_out

    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not "
                            f"{type(out).__name__}")
        written = [_write_out(name, r, o, inputs) for r, o in zip(result, out)]
        if hasattr(result, "n_fields"):  # a return type: torch answers with its `_out` twin
            from ..return_types import _out_variant

            return _out_variant(type(result))(written)
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    return _write_out(name, result, out, inputs)


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
