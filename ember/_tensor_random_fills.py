"""Tensor's random in-place fills: ``uniform_``, ``normal_``, ``bernoulli_``,
``exponential_`` and ``random_``, drawing what torch's CPU kernels draw for a seeded
generator (``ember/_sampling.py``)."""
from __future__ import annotations

import numpy as np

from . import _random, _sampling, ops
from ._tensor import Tensor
from .ops._shape_utils import type_name

# draws that only make sense for float tensors, with torch's error for the others
_FLOAT_ONLY = {
    "_normal": lambda t: NotImplementedError(f'"normal_kernel_cpu" not implemented for '
                                             f"'{type_name(t._data.dtype)}'"),
    "_uniform": lambda t: NotImplementedError(f'"check_uniform_bounds" not implemented for '
                                              f"'{type_name(t._data.dtype)}'"),
    "_exponential": lambda t: RuntimeError(
        "Exponential distribution is a continuous probability distribution. dtype must be a "
        f"floating point but you specified {type_name(t._data.dtype)}"),
}


def _random_fill(draw):
    refuse = _FLOAT_ONLY.get(draw.__name__)

    def method(self, *args, generator=None, **kwargs):
        if self._data.dtype.kind == "c":  # torch draws the real and imaginary parts
            return ops.complex_ops.random_fill(self, draw, args, kwargs, generator)
        if refuse is not None and self._data.dtype.kind != "f":
            raise refuse(self)
        self._check_inplace()
        values = draw(_random._gen(generator), self._data, *args, **kwargs)
        _sampling.fill(self._data, np.asarray(values).astype(self._data.dtype, copy=False))
        self._bump(draw.__name__.lstrip("_") + "_")
        return self

    method.__doc__ = (f"Fill in place with random numbers ({draw.__name__.lstrip('_')}; torch's "
                      "draws for a seeded generator).")
    return method


# each draw returns the new values flat, in the order torch's CPU kernel writes them
def _uniform(gen, target, a=0.0, b=1.0):
    return _sampling.uniform(gen, (target.size,), target.dtype, a, b)


def _normal(gen, target, mean=0.0, std=1.0):
    return _sampling.normal(gen, target.shape, target.dtype, mean, std,
                            contiguous=target.flags.c_contiguous)


def _bernoulli(gen, target, p=0.5):
    prob = p._data if isinstance(p, Tensor) else np.asarray(p, np.float64)
    prob = np.broadcast_to(prob, target.shape).transpose(
        _sampling._fill_order(target.shape, target.strides))
    return _sampling.bernoulli(gen, np.ascontiguousarray(prob), target.dtype)


def _exponential(gen, target, lambd=1.0):
    return _sampling.exponential(gen, target.size, target.dtype, lambd)


def _random_ints(gen, target, low=None, high=None, to=None):
    high = to if to is not None else high
    if low is None and high is None:
        return _sampling.full_range(gen, target.size, target.dtype)
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    return _sampling.integers(gen, target.size, int(low), int(high), target.dtype)


Tensor.uniform_ = _random_fill(_uniform)
Tensor.normal_ = _random_fill(_normal)
Tensor.bernoulli_ = _random_fill(_bernoulli)
Tensor.exponential_ = _random_fill(_exponential)
Tensor.random_ = _random_fill(_random_ints)
