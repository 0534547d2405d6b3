"""``out=`` for the ops that take it themselves: the result is written into ``out``'s memory
(torch's semantics: no autograd, a resize when the shape differs), never rebound."""
from __future__ import annotations


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
