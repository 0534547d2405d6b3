"""``out=`` against torch for every dtype of the inputs and of ``out``: the value, dtype and
shape ``out`` ends with (resized, with torch's warning, when it has another shape), or the
exception's type and message. torch checks ``out`` before its kernel's dtype support: an
``out`` that is also an input is never resized, so its shape must be the result's; the result
dtype must cast to ``out``'s (a reduction computes in ``out``'s dtype, ``abs``/``neg``/``amax``
take an ``out`` of the input's dtype only)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ("bool", "uint8", "int16", "int64", "float16", "float32", "float64", "complex64",
          "complex128")
INPUTS = ("bool", "int64", "float32", "complex64")
OUTS = ("bool", "uint8", "int64", "float16", "float32", "complex64")


_BASES: dict = {}


def _make(lib, name, shape):
    """``1, 2, ...`` in ``shape`` (bool: ``> 1``), a fresh copy of a cached tensor."""
    key = lib.__name__, name, shape
    if key not in _BASES:
        t = lib.arange(1, 1 + math.prod(shape)).reshape(shape)
        _BASES[key] = t > 1 if name == "bool" else t.to(getattr(lib, name))
    return _BASES[key].clone()


def _outcome(lib, build):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r, out = build(lib)
        except Exception as e:  # the error is the outcome compared
            return type(e).__name__, str(e)
    said = sorted({str(w.message)[:40] for w in caught if "resized" in str(w.message)})
    values = np.asarray(out.to(lib.complex128).tolist())
    return str(out.dtype).split(".")[-1], tuple(out.shape), r is out, said, values


def _mismatches(cases):
    bad = []
    for label, build in cases:
        t, e = _outcome(torch, build), _outcome(ember, build)
        if len(t) == 2 and "ComplexHalf" in t[1]:
            continue  # torch's complex32, which ember does not have
        same = (t[:-1] == e[:-1] and np.allclose(t[-1], e[-1], rtol=1e-2, equal_nan=True)
                if len(t) == len(e) == 5 else t == e)
        if not same:
            bad.append((label, t, e))
    return bad


BINARY = {
    "add": lambda lib, a, b, out: lib.add(a, b, out=out),
    "sub": lambda lib, a, b, out: lib.sub(a, b, out=out),
    "mul": lambda lib, a, b, out: lib.mul(a, b, out=out),
    "div": lambda lib, a, b, out: lib.div(a, b, out=out),
    "div_floor": lambda lib, a, b, out: lib.div(a, b, rounding_mode="floor", out=out),
    "remainder": lambda lib, a, b, out: lib.remainder(a, b, out=out),
    "pow": lambda lib, a, b, out: lib.pow(a, b, out=out),
    "atan2": lambda lib, a, b, out: lib.atan2(a, b, out=out),
    "logaddexp": lambda lib, a, b, out: lib.logaddexp(a, b, out=out),
    "fmax": lambda lib, a, b, out: lib.fmax(a, b, out=out),
    "maximum": lambda lib, a, b, out: lib.maximum(a, b, out=out),
    "bitwise_and": lambda lib, a, b, out: lib.bitwise_and(a, b, out=out),
    "logical_and": lambda lib, a, b, out: lib.logical_and(a, b, out=out),
    "eq": lambda lib, a, b, out: lib.eq(a, b, out=out),
    "lt": lambda lib, a, b, out: lib.lt(a, b, out=out),
}


def _binary_cases(fn):
    def into(da, db, do, shape):
        return lambda lib: (lambda a, b, o: (fn(lib, a, b, o), o))(
            _make(lib, da, (3,)), _make(lib, db, (3,)), _make(lib, do, shape))

    def into_input(da, db, which):  # out is the 0-d input: not resized
        def build(lib):
            a = _make(lib, da, () if which == 0 else (3,))
            b = _make(lib, db, () if which == 1 else (3,))
            out = (a, b)[which]
            return fn(lib, a, b, out), out
        return build

    for da in INPUTS:
        for db in INPUTS:
            for do in OUTS:
                yield f"{da},{db}->{do}", into(da, db, do, (3,))
            for shape in ((0,), (2,), (), (1, 3)):
                yield f"{da},{db}->{da}{shape}", into(da, db, da, shape)
            yield f"{da}0,{db}->a", into_input(da, db, 0)
            yield f"{da},{db}0->b", into_input(da, db, 1)


@pytest.mark.parametrize("name", BINARY)
def test_binary_out_matches_torch(name):
    assert _mismatches(_binary_cases(BINARY[name])) == []


UNARY = {
    "abs": lambda lib, x, out: lib.abs(x, out=out),
    "neg": lambda lib, x, out: lib.neg(x, out=out),
    "exp": lambda lib, x, out: lib.exp(x, out=out),
    "sqrt": lambda lib, x, out: lib.sqrt(x, out=out),
    "sum": lambda lib, x, out: lib.sum(x, 0, out=out),
    "sum_dtype": lambda lib, x, out: lib.sum(x, 0, dtype=lib.float64, out=out),
    "mean": lambda lib, x, out: lib.mean(x, 0, out=out),
    "prod": lambda lib, x, out: lib.prod(x, 0, out=out),
    "amax": lambda lib, x, out: lib.amax(x, 0, out=out),
    "cumsum": lambda lib, x, out: lib.cumsum(x, 0, out=out),
}


def _unary_cases(fn):
    def into(dx, do, shape):
        return lambda lib: (lambda x, o: (fn(lib, x, o), o))(_make(lib, dx, (2, 3)),
                                                             _make(lib, do, shape))

    for dx in DTYPES:
        for do in DTYPES:
            yield f"{dx}->{do}", into(dx, do, (3,))
        for do in (dx, "float32"):
            for shape in ((0,), (2,), (2, 3)):
                yield f"{dx}->{do}{shape}", into(dx, do, shape)


@pytest.mark.parametrize("name", UNARY)
def test_unary_and_reduction_out_matches_torch(name):
    assert _mismatches(_unary_cases(UNARY[name])) == []
