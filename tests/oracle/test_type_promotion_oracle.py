"""Binary ops' result dtypes and values as torch's, for every pair of dtypes and dims.

Each operand is a 0-d or 1-d tensor of one of eleven dtypes, or a Python scalar (bool, int,
float, complex): torch's categories (a 0-d tensor promotes like a dimensioned one only
within its category) decide the result dtype. Cases whose torch result would be complex32,
a dtype ember does not have, are left out.
"""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
          "float64", "complex64", "complex128"]
SCALARS = [True, 3, -2, 2.5, 1 + 1j]
OPS = ["add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow",
       "eq", "lt", "maximum", "minimum", "atan2", "copysign", "hypot", "xlogy",
       "bitwise_and", "logical_and"]


def _operand(lib, dtype, ndim):
    t = lib.tensor([1, 2, 3] if ndim else 2)
    return t > 1 if dtype == "bool" else t.to(getattr(lib, dtype))


def _outcome(lib, op, a, b):
    try:
        r = getattr(lib, op)(a, b)
    except Exception as e:  # noqa: BLE001  (the exception type is what is compared)
        return "raises", type(e).__name__, str(e)
    values = np.asarray(r.to(lib.complex128)).tolist()
    return "ok", str(r.dtype).split(".")[-1], values


def _mismatches(op):
    tensors = [(d, n) for d in DTYPES for n in (0, 1)]
    found = []
    for first in tensors:
        for second in tensors + [("scalar", s) for s in SCALARS]:
            outs = []
            for lib in (torch, ember):
                a = _operand(lib, *first)
                b = second[1] if second[0] == "scalar" else _operand(lib, *second)
                outs.append(_outcome(lib, op, a, b))
            want, got = outs
            if want[1] == "complex32" or (want[0] == "raises" and "ComplexHalf" in want[2]):
                continue
            same = want[:2] == got[:2] and (want[0] == "raises" or np.allclose(
                np.array(want[2]), np.array(got[2]), rtol=1e-3, equal_nan=True))
            if not same:
                found.append((first, second, want[:2], got[:2]))
    return found


@pytest.mark.parametrize("op", OPS)
def test_result_dtype_and_value_of_every_operand_pair(op):
    assert _mismatches(op) == []


def test_zero_dim_float16_times_zero_dim_float32_is_float32():
    for lib_op in ("mul", "div", "true_divide"):
        a = ember.tensor(3.0, dtype=ember.float16)
        b = ember.tensor(0.1, dtype=ember.float32)
        r = getattr(ember, lib_op)(a, b)
        t = getattr(torch, lib_op)(torch.tensor(3.0, dtype=torch.float16), torch.tensor(0.1))
        assert r.dtype == ember.float32 and t.dtype == torch.float32
        assert r.item() == t.item()
