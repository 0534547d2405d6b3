"""Testing helpers: torch.testing's public API plus ember's own ``compare_with_torch``.

- ``assert_close(actual, expected, ...)``: torch's closeness check for tensors, numbers,
  NumPy arrays and nested sequences/mappings, with its default tolerances and messages.
- ``assert_allclose``: its deprecated form (warns ``FutureWarning``).
- ``make_tensor(*shape, dtype, ...)``: random test tensors with torch's value ranges.
- ``compare_with_torch(fn, *inputs)`` and its ``Comparison`` report (ember only): run the
  same code on ember and torch and list every difference.
"""
from ._compare_with_torch import Comparison, compare_with_torch
from ._comparison import assert_allclose, assert_close
from ._creation import make_tensor

__all__ = ["assert_close", "assert_allclose", "make_tensor", "compare_with_torch", "Comparison"]
