"""The shape ops that take another tensor's shape (``view_as``, ``reshape_as``, ``expand_as``)
and ``broadcast_to``, with torch's argument errors: a non-Tensor ``other`` is found on the
error path (its missing ``.shape``), so the success path pays nothing for the check."""
from __future__ import annotations

from .. import _arg_errors
from .shape import expand, reshape, view


def view_as(input, other):
    """View with ``other``'s shape."""
    try:
        return view(input, other.shape)
    except AttributeError:
        _arg_errors.check_tensors("view_as", input=input, other=other)
        raise


def reshape_as(input, other):
    """Reshape to ``other``'s shape."""
    try:
        return reshape(input, other.shape)
    except AttributeError:
        _arg_errors.check_tensors("reshape_as", input=input, other=other)
        raise


def expand_as(input, other):
    """Broadcast to ``other``'s shape."""
    try:
        return expand(input, other.shape)
    except AttributeError:
        _arg_errors.check_tensors("expand_as", input=input, other=other)
        raise


def broadcast_to(input, size):
    """Broadcast to ``size`` (a bare int only as ``Tensor.broadcast_to``'s, as in torch)."""
    if isinstance(size, int) and not _arg_errors.called_as_method():
        raise _arg_errors.must_be("broadcast_to", "size", 2, "tuple of ints", size)
    return expand(input, size)
