"""``Parameter``: a Tensor that a Module registers as one of its learnable weights."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _copy_fields, _require_grad, _wrap


class Parameter(Tensor):
    """A leaf tensor, ``requires_grad=True`` by default, that Modules collect.

    Assigning one as a Module attribute registers it (``named_parameters``,
    ``state_dict``). ``Parameter(t)`` shares ``t``'s storage.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = _wrap(np.empty(0, np.float32))
        if not isinstance(data, Tensor):
            data = _wrap(np.asarray(data))
        self = object.__new__(cls)
        _copy_fields(self, _wrap(data._data))
        self._vc = data._vc
        if requires_grad:
            _require_grad(self, "Only Tensors of floating point and complex dtype can require "
                                "gradients")
        return self

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (_wrap(self._data), self._rg))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = type(self)(_wrap(self._data.copy()), self._rg)  # as torch's: no .grad
        memo[id(self)] = new
        return new


class _BufferMeta(type):
    # torch's Buffer(...) is a plain Tensor flagged ``_is_buffer``: isinstance reads the flag
    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a Module buffer when assigned (torch 2.5+).

    As in torch, ``Buffer(t)`` returns a plain Tensor (``t`` detached, sharing its storage,
    keeping its ``requires_grad``) flagged as a buffer, with a ``persistent`` attribute;
    ``isinstance(x, Buffer)`` is true for such flagged tensors.
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = _wrap(np.empty(0, np.float32))
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


# the lazy modules' placeholders live in their own file; torch spells them nn.parameter.*
from ._uninitialized import (  # noqa: E402,F401
    UninitializedBuffer,
    UninitializedParameter,
    UninitializedTensorMixin,
    is_lazy,
)
