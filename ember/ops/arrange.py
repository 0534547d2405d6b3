"""More ways to arrange tensors: torch functions that reorder, repeat, combine or pick elements.

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).
"""
from __future__ import annotations

__all__: list[str] = []
TENSOR_METHODS: tuple[str, ...] = ()
