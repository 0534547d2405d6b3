"""Helpers shared by the functional families."""
from __future__ import annotations


def _size_str(shape) -> str:
    # torch's messages print shapes as torch.Size([...]); kept so users can search for them
    return f"torch.Size({list(shape)})"
