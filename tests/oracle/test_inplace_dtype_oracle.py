"""In-place binary ops against torch for every pair of dtypes: the result's dtype and values,
or the exception's type and message. torch checks in its TensorIterator's order (the broadcast
shape, then the cast of the result dtype into self) before its kernel's dtype support, and its
argument errors name the in-place method (``atan2_(): argument 'other' (position 1)``).

Each test sweeps one op: a 1-d self against 0-d and 1-d tensors of every dtype and Python
numbers, a 0-d self against the 1-d tensors (a broadcast self cannot be written), and lists
the cases that differ. The ops with more arguments, ``fill_``/``copy_`` and the ``x op= y``
forms are in ``test_inplace_dtype_more_oracle.py``.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ("bool", "uint8", "int16", "int64", "float16", "float32", "float64", "complex64",
          "complex128")
NUMBERS = (True, 3, 2.5, 1 + 1j, -2)


def _bases(lib):
    """Per (dtype, dims): ``2`` as a 0-d tensor, ``[1, 2, 3]`` as a 1-d one (bool: ``> 1``)."""
    bases = {}
    for name in DTYPES:
        for dims in (0, 1):
            t = lib.tensor([1, 2, 3] if dims else 2)
            bases[name, dims] = t > 1 if name == "bool" else t.to(getattr(lib, name))
    return bases


def _cases():
    tensors = [(name, dims) for name in DTYPES for dims in (0, 1)]
    for name in DTYPES:
        for other in tensors + list(NUMBERS):
            yield (name, 1), other
        for other in DTYPES:
            yield (name, 0), (other, 1)


def _outcome(lib, fn, a, b):
    try:
        r = fn(a, b)
    except Exception as e:  # the error is the outcome compared
        return type(e).__name__, str(e)
    values = np.asarray(r.detach().to(lib.complex128).tolist())
    return str(r.dtype).split(".")[-1], tuple(r.shape), r is a, values


def _same(t, e):
    if len(t) != len(e) or t[:-1] != e[:-1]:
        return False
    if len(t) == 2:
        return t[1] == e[1]
    return np.allclose(t[-1], e[-1], rtol=1e-2, equal_nan=True)


def mismatches(fn):
    """The cases where ``fn(self, other)`` differs between torch and ember."""
    bases = {lib: _bases(lib) for lib in (torch, ember)}
    bad = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, other in _cases():
            t, e = (_outcome(lib, fn, bases[lib][key].clone(),
                             bases[lib][other] if isinstance(other, tuple) else other)
                    for lib in (torch, ember))
            if len(t) == 2 and "ComplexHalf" in t[1]:
                continue  # torch's complex32, which ember does not have
            if not _same(t, e):
                bad.append((key, other, t, e))
    return bad


OPS = {
    "add_": lambda a, b: a.add_(b),
    "sub_": lambda a, b: a.sub_(b),
    "mul_": lambda a, b: a.mul_(b),
    "div_": lambda a, b: a.div_(b),
    "true_divide_": lambda a, b: a.true_divide_(b),
    "floor_divide_": lambda a, b: a.floor_divide_(b),
    "remainder_": lambda a, b: a.remainder_(b),
    "fmod_": lambda a, b: a.fmod_(b),
    "pow_": lambda a, b: a.pow_(b),
    "eq_": lambda a, b: a.eq_(b),
    "ne_": lambda a, b: a.ne_(b),
    "lt_": lambda a, b: a.lt_(b),
    "le_": lambda a, b: a.le_(b),
    "gt_": lambda a, b: a.gt_(b),
    "ge_": lambda a, b: a.ge_(b),
    "atan2_": lambda a, b: a.atan2_(b),
    "hypot_": lambda a, b: a.hypot_(b),
    "xlogy_": lambda a, b: a.xlogy_(b),
    "copysign_": lambda a, b: a.copysign_(b),
    "nextafter_": lambda a, b: a.nextafter_(b),
    "ldexp_": lambda a, b: a.ldexp_(b),
    "float_power_": lambda a, b: a.float_power_(b),
    "clamp_min_": lambda a, b: a.clamp_min_(b),
    "clamp_max_": lambda a, b: a.clamp_max_(b),
    "lerp_": lambda a, b: a.lerp_(b, 0.5),
    "maximum": lambda a, b: a.maximum(b),
}


@pytest.mark.parametrize("name", OPS)
def test_inplace_op_matches_torch_for_every_dtype_pair(name):
    assert mismatches(OPS[name]) == []
