"""The ``*_copy`` twins of the complex view ops (``view_as_real_copy``,
``view_as_complex_copy``) and of torch's private views ``_conj_copy``, ``_neg_view_copy``
and ``_reshape_alias_copy``, which ember lacked.

As in ``_namespace_gaps.py``: the view op runs, its result is copied to fresh contiguous
memory, and the node shows torch's name (``ViewAsRealBackward0_copy``). torch gives no
derivative for the copies with a complex output: those raise its RuntimeError when the input
requires grad.
"""
from __future__ import annotations

import numpy as np

from ._namespace_gaps import _check_tensor, _copied
from .autograd.function import Op

__all__ = ["view_as_real_copy", "view_as_complex_copy", "_conj_copy", "_neg_view_copy",
           "_reshape_alias_copy"]


def _no_complex_derivative(name, input):
    from .autograd import grad_mode

    if grad_mode.state.enabled and input.requires_grad:
        raise RuntimeError(f"{name} does not support automatic differentiation for outputs "
                           "with complex dtype.")


def view_as_real_copy(input, *, out=None):
    """``torch.view_as_real_copy``: :func:`ember.view_as_real` copied (``(*, 2)`` real and
    imaginary parts); a conjugated input is resolved first, as in torch, and the gradient
    flows back to the complex input.

    Raises:
        RuntimeError: a real input (torch's message).
    """
    from .ops.complex_ops import view_as_real

    _check_tensor("view_as_real_copy", input)
    if input.is_complex() and input.is_conj():
        input = input.resolve_conj()
    return _copied("view_as_real_copy", view_as_real(input), "ViewAsRealBackward0_copy", out,
                   input)


def view_as_complex_copy(input, *, out=None):
    """``torch.view_as_complex_copy``: :func:`ember.view_as_complex` copied.

    Raises:
        RuntimeError: torch's dtype/shape/stride errors of ``view_as_complex``; an input that
            requires grad (torch has no derivative for this copy).
    """
    from .ops.complex_ops import view_as_complex

    _check_tensor("view_as_complex_copy", input)
    view = view_as_complex(input)
    _no_complex_derivative("view_as_complex_copy", input)
    return _copied("view_as_complex_copy", view, "ViewAsComplexBackward0_copy", out, input)


def _conj_copy(input, *, out=None):
    """``torch._conj_copy``: the conjugate of a complex tensor, materialised (not lazily
    conjugated).

    Raises:
        RuntimeError: a real input (torch fails an internal assert); an input that requires
            grad (no derivative for this copy).
    """
    _check_tensor("_conj_copy", input)
    if not input.is_complex():
        raise RuntimeError("isComplexType(typeMetaToScalarType(dtype())) INTERNAL ASSERT "
                           "FAILED: _conj_copy needs a complex tensor")
    _no_complex_derivative("_conj_copy", input)
    return _copied("_conj_copy", input.conj_physical(), "ConjBackward0_copy", out, input)


def _neg_view_copy(input, *, out=None):
    """``torch._neg_view_copy``: ``-input`` in memory of its own (differentiable).

    Raises:
        NotImplementedError: a bool input (torch's message).
    """
    _check_tensor("_neg_view_copy", input)
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"neg_cpu\" not implemented for 'Bool'")
    return _copied("_neg_view_copy", -input, "NegViewBackward0_copy", out, input)


class _ReshapeAliasCopy(Op):
    """out = the given strided read of x, copied; the gradient is grad reshaped to x's shape
    (torch's formula: it takes the alias for a reshape, whatever the strides)"""

    _backward_name = "ReshapeAliasBackward0_copy"

    @staticmethod
    def forward(ctx, x, *, values):
        ctx.x_shape = x.shape
        return np.array(values, copy=True)

    @staticmethod
    def backward(ctx, grad):
        return np.ascontiguousarray(grad).reshape(ctx.x_shape)


def _reshape_alias_copy(input, size, stride, *, out=None):
    """``torch._reshape_alias_copy``: ``input`` read with ``size`` and ``stride`` (as
    :func:`ember.as_strided`), copied. As in torch, the gradient is reshaped back to
    ``input``'s shape (the op stands for a reshape)."""
    from .ops.strided import as_strided

    _check_tensor("_reshape_alias_copy", input)
    values = as_strided(input.detach(), tuple(size), tuple(stride))._data
    result = _ReshapeAliasCopy.apply(input, values=values)
    if out is None:
        return result
    return _copied("_reshape_alias_copy", result, "ReshapeAliasBackward0_copy", out, input)
