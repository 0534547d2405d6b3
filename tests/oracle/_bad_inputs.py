"""The bad-input oracle tests' shared machinery: each case is an expression evaluated once
with torch and once with ember (``lib``), on the same deterministic inputs and parameters,
and the two outcomes must agree: the exception's type (ember's may subclass torch's) and
first message line, or the result's dtype, shape and values; and the warnings raised."""
from __future__ import annotations

import math
import warnings
import zlib
from typing import NamedTuple

import numpy as np

import ember
from ember._numpy_warnings import silence_float_warnings_from_ember

_DTYPES = {"f32": "float32", "f64": "float64", "f16": "float16", "i64": "int64",
           "i32": "int32", "i16": "int16", "i8": "int8", "u8": "uint8", "b": "bool",
           "c64": "complex64"}


def _array(shape, dtype, low, high, seed):
    rng = np.random.default_rng(zlib.crc32(repr((shape, dtype, low, high, seed)).encode()))
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith(("int", "uint")):
        return rng.integers(0 if low is None else low, 3 if high is None else high,
                            size=shape).astype(dtype)
    values = rng.uniform(-1.0 if low is None else low, 1.0 if high is None else high, shape)
    return values.astype(dtype)


def namespace(lib):
    """The names a case may use: ``lib``, ``F``, ``nn``, ``X`` (inputs) and ``M`` (modules)."""

    def X(*shape, dt="f32", low=None, high=None, nc=False):
        """A deterministic tensor of ``shape``; ``nc``: a non-contiguous (transposed) one."""
        if nc:
            swapped = shape[:-2] + (shape[-1], shape[-2])
            return lib.tensor(_array(swapped, _DTYPES[dt], low, high, 0)).transpose(-1, -2)
        return lib.tensor(_array(shape, _DTYPES[dt], low, high, 0))

    def M(name, *args, **kwargs):
        """``nn.<name>(*args, **kwargs)`` with every parameter set from its name."""
        module = getattr(lib.nn, name)(*args, **kwargs)
        with lib.no_grad():
            for pname, p in module.named_parameters():
                dtype = str(p.dtype).rsplit(".", 1)[-1]
                p.copy_(lib.tensor(_array(tuple(p.shape), dtype, -0.5, 0.5, pname)))
        return module

    return {"lib": lib, "F": lib.nn.functional, "nn": lib.nn, "X": X, "M": M}


def _first_line(message):
    # ember spells its own classes ember.X where torch says torch.X
    return str(message).strip().split("\n")[0].replace("ember.", "torch.")


class Raised(NamedTuple):
    """What a case raised: the exception's type and its message's first line."""

    type: type
    message: str


def outcome(lib, src):
    """(result or Raised, [(warning category, first line), ...])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_float_warnings_from_ember()
        try:
            value = eval(src, namespace(lib))  # noqa: S307
        except Exception as e:  # noqa: BLE001
            value = Raised(type(e), _first_line(e))
    messages = [(w.category.__name__, _first_line(w.message).split(" (Triggered internally")[0])
                for w in caught]
    return value, messages


def comparable(value, lib):
    """A comparable form of a result: tensors as (kind, dtype name, shape, array), tuples and
    lists element by element."""
    if isinstance(value, lib.Tensor):
        return ("tensor", str(value.dtype).rsplit(".", 1)[-1], tuple(value.shape),
                value.detach().numpy().copy())
    if isinstance(value, (tuple, list)):
        return tuple(comparable(v, lib) for v in value)
    return value


def _same_value(a, b):
    if isinstance(a, tuple) and a and a[0] == "tensor":
        if not (isinstance(b, tuple) and len(b) == 4 and a[:3] == b[:3]):
            return False
        tol = 2e-2 if a[1] == "float16" else 1e-5
        return np.allclose(a[3].astype(complex), b[3].astype(complex), rtol=tol, atol=tol,
                           equal_nan=True)
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same_value, a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def assert_same_outcome(torch, src, prefix=False):
    """``src`` gives the same outcome in both libraries. ``prefix``: ember's message may go
    on after torch's (the project's style adds the values that explain the failure)."""
    expected, expected_warnings = outcome(torch, src)
    got, got_warnings = outcome(ember, src)
    if isinstance(expected, Raised):
        assert isinstance(got, Raised), f"{src}: torch raised {expected.type.__name__}: " \
            f"{expected.message}, ember gave {got!r}"
        names = [c.__name__ for c in got.type.__mro__]
        assert expected.type.__name__ in names, f"{src}: {got.type.__name__} is not a " \
            f"{expected.type.__name__}"
        if prefix:
            assert got.message.startswith(expected.message), f"{src}: {got.message!r} vs " \
                f"{expected.message!r}"
        else:
            assert got.message == expected.message, f"{src}:\n torch: {expected.message}\n " \
                f"ember: {got.message}"
    else:
        assert not isinstance(got, Raised), f"{src}: ember raised {got.type.__name__}: " \
            f"{got.message}"
        expected, got = comparable(expected, torch), comparable(got, ember)
        assert _same_value(expected, got), f"{src}: torch {expected!r}, ember {got!r}"
    assert got_warnings == expected_warnings, f"{src}: {got_warnings} vs {expected_warnings}"
