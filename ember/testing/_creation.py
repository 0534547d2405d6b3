"""``make_tensor``: torch.testing's random test tensors, drawn the way torch draws them."""
from __future__ import annotations

import collections.abc
import math
import warnings

import ember


def _integral_types():
    return [ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64]


def _floating_types():
    return [ember.float16, ember.bfloat16, ember.float32, ember.float64]


def _complex_types():
    return [ember.complex64, ember.complex128]


def _low_high(low, high, dtype, *, lowest_inclusive, highest_exclusive, default_low,
              default_high):
    """The user's bounds (or the dtype's defaults), checked and clamped to the dtype's range;
    integer bounds are rounded up (``high`` too: randint's upper bound is exclusive)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got {low=} and {high=}")
    if low == high and dtype in _floating_types() + _complex_types():
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                      "complex types is deprecated since 2.1 and will be removed in 2.3. "
                      "Use `torch.full(...)` instead.", FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest_inclusive or low >= highest_exclusive:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, "
                         f"{high}), but {dtype} only supports [{lowest_inclusive}, "
                         f"{highest_exclusive})")
    low = min(max(low, lowest_inclusive), highest_exclusive)
    high = min(max(high, lowest_inclusive), highest_exclusive)
    if dtype == ember.bool or dtype in _integral_types():
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` with values drawn uniformly from ``[low, high)``; mirrors
    ``torch.testing.make_tensor``.

    Bounds outside the dtype's finite range are clamped to it. Defaults: bool ``[0, 2)``,
    uint8 ``[0, 10)``, signed integers ``[-9, 10)``, floating and complex types ``[-9, 9)``
    (for complex types, the range of both the real and the imaginary part). Integers come
    from ``randint`` and floats from ``uniform_`` (on ``view_as_real`` for complex types),
    as in torch, so after the same ``manual_seed`` the values are torch's where ember's draws
    are: bool, integers (spans below 2**28) and floating and complex types (bfloat16
    computes in float32 here).

    Args:
        *shape: the sizes, as integers or one sequence.
        dtype: the element type (bool, integer, floating point or complex).
        device: the device (ember runs on the CPU). torch requires this argument.
        low: inclusive lower bound (``None``: the dtype's default).
        high: exclusive upper bound (``None``: the dtype's default).
        requires_grad: whether the result requires grad (floating and complex types only).
        noncontiguous: return a non-contiguous view (ignored for fewer than two elements);
            excludes ``memory_format``.
        exclude_zero: replace zeros by 1 (bool, integers) or the dtype's ``finfo.tiny``
            (complex: ``tiny + 0j``, as torch's code does).
        memory_format: the result's memory format (e.g. ``ember.channels_last``).

    Returns:
        A new tensor.

    Raises:
        ValueError: ``requires_grad`` with a bool or integer dtype; ``low >= high``; a NaN
            bound; an interval outside the dtype's range; both ``noncontiguous`` and
            ``memory_format``.
        TypeError: a dtype this function does not support.
    """
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got {noncontiguous=} and {memory_format=}")
    exact = dtype == ember.bool or dtype in _integral_types()
    if requires_grad and exact:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got {dtype=}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        # twice the last dimension, so the strided view keeps distinct values
        shape = (*shape[:-1], 2 * shape[-1])

    if dtype == ember.bool:
        low, high = _low_high(low, high, dtype, lowest_inclusive=0, highest_exclusive=2,
                              default_low=0, default_high=2)
        result = ember.randint(low, high, shape, device=device, dtype=dtype)
    elif exact:
        info = ember.iinfo(dtype)
        # randint cannot return int64's maximum: torch's exclusive bound stays there
        low, high = _low_high(
            low, high, dtype, lowest_inclusive=info.min,
            highest_exclusive=info.max + (1 if dtype != ember.int64 else 0),
            default_low=-9, default_high=10)
        result = ember.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _floating_types() + _complex_types():
        info = ember.finfo(dtype)  # a complex dtype's is its parts'
        low, high = _low_high(low, high, dtype, lowest_inclusive=info.min,
                              highest_exclusive=info.max, default_low=-9, default_high=9)
        result = ember.empty(shape, device=device, dtype=dtype)
        # complex: both parts from [low, high), drawn as torch does (real, imag, real, ...)
        parts = ember.view_as_real(result) if dtype.is_complex else result
        # uniform_ needs high - low within the dtype's range: draw half as wide, then double
        if high - low >= info.max:
            parts.uniform_(low / 2, high / 2).mul_(2)
        else:
            parts.uniform_(low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        "ember.testing.make_tensor().")

    if noncontiguous:
        result = result[..., 1::2]  # offset by one to catch offset bugs too
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        # NOTE: a complex zero becomes tiny + 0j, as torch's code does (its docs promise
        # tiny in both parts); a zero in one part only is kept
        result[result == 0] = 1 if exact else ember.finfo(dtype).tiny
    if not exact:
        result.requires_grad = requires_grad
    return result
