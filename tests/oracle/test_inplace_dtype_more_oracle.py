"""More in-place ops against torch for every pair of dtypes (see
``test_inplace_dtype_oracle.py`` for the sweep): the logical, bitwise and shift ops, the
``x op= y`` forms, ops with more arguments (``alpha``, ``rounding_mode``, ``addcmul_``,
``clamp_`` with tensor bounds, ``masked_fill_``), ``copy_`` from and ``fill_`` with every
dtype."""
from __future__ import annotations

import pytest

from tests.oracle.test_inplace_dtype_oracle import mismatches

pytest.importorskip("torch")


def _mask(a):
    """A bool mask of ``a``'s library and shape."""
    return (a == a) if a.dim() == 0 else a.new_tensor([True, False, True]).bool()


OPS = {
    "logical_and_": lambda a, b: a.logical_and_(b),
    "logical_or_": lambda a, b: a.logical_or_(b),
    "logical_xor_": lambda a, b: a.logical_xor_(b),
    "bitwise_and_": lambda a, b: a.bitwise_and_(b),
    "bitwise_or_": lambda a, b: a.bitwise_or_(b),
    "bitwise_xor_": lambda a, b: a.bitwise_xor_(b),
    "bitwise_left_shift_": lambda a, b: a.bitwise_left_shift_(b),
    "bitwise_right_shift_": lambda a, b: a.bitwise_right_shift_(b),
    "heaviside_": lambda a, b: a.heaviside_(b),
    "gcd_": lambda a, b: a.gcd_(b),
    "__iand__": lambda a, b: a.__iand__(b),
    "__ior__": lambda a, b: a.__ior__(b),
    "__ixor__": lambda a, b: a.__ixor__(b),
    "__imod__": lambda a, b: a.__imod__(b),
    "__ifloordiv__": lambda a, b: a.__ifloordiv__(b),
    "__ipow__": lambda a, b: a.__ipow__(b),
    "__isub__": lambda a, b: a.__isub__(b),
    "add_alpha_int": lambda a, b: a.add_(b, alpha=2),
    "add_alpha_float": lambda a, b: a.add_(b, alpha=0.5),
    "sub_alpha": lambda a, b: a.sub_(b, alpha=2),
    "div_floor": lambda a, b: a.div_(b, rounding_mode="floor"),
    "div_trunc": lambda a, b: a.div_(b, rounding_mode="trunc"),
    "addcmul_": lambda a, b: a.addcmul_(b, b, value=2),
    "addcdiv_": lambda a, b: a.addcdiv_(b, b),
    "clamp_tensors": lambda a, b: a.clamp_(b, b),
    "clamp_max_tensor": lambda a, b: a.clamp_(None, b),
    "masked_fill_": lambda a, b: a.masked_fill_(_mask(a), b),
    "copy_": lambda a, b: a.copy_(b),
    "fill_": lambda a, b: a.fill_(b),
}


@pytest.mark.parametrize("name", OPS)
def test_inplace_op_matches_torch_for_every_dtype_pair(name):
    assert mismatches(OPS[name]) == []
