"""Helpers shared by the functional families."""
from __future__ import annotations


def _size_str(shape) -> str:
    # torch's messages print shapes as torch.Size([...]); kept so users can search for them
    return f"torch.Size({list(shape)})"


class _AssertionValueError(ValueError, AssertionError):
    """A bad argument value where torch asserts: catchable as torch's AssertionError and as
    the ValueError it is."""
