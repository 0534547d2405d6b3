"""Parameters and buffers whose shape is not known yet (torch's ``UninitializedParameter``
and ``UninitializedBuffer``), for the lazy modules; re-exported by ``ember.nn.parameter``.

An uninitialized tensor holds an empty array of its dtype. ``materialize(shape)`` gives it
an (uninitialised) array of that shape and turns it into the class it stands for
(``Parameter``, or a plain ``Tensor`` for a buffer), keeping the object itself, so that
modules and optimizers holding it see the change.
"""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .._backend import check_device
from .._tensor import Tensor
from .parameter import Parameter


class UninitializedTensorMixin:
    """What uninitialized parameters and buffers share: ``materialize`` and the guards.

    NOTE: torch intercepts every other use with ``__torch_function__`` and raises
    ValueError; ember guards only ``shape`` (and ``share_memory_``). Ops on an
    uninitialized tensor see its empty array and fail on its shape instead.
    """

    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give this tensor an uninitialised array of ``shape`` (and ``dtype``, by default
        its own) and turn it into ``cls_to_become`` in place."""
        check_device(device)
        np_dtype = self._data.dtype if dtype is None else _dtype.convert(dtype).np
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
        self._data = np.empty(shape, np_dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        """Raises RuntimeError: the shape is not known until ``materialize``."""
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error "
            "usually happens in `load_state_dict` when trying to load an uninitialized "
            "parameter into an initialized one. Call `forward` to initialize the parameters "
            "before accessing their attributes.")

    def share_memory_(self):
        """Raises RuntimeError: there is no storage to share yet."""
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}>"

    def __reduce_ex__(self, proto):
        return (self.__class__, (self.requires_grad,))


def _empty(device, dtype):
    check_device(device)
    d = _dtype.convert(dtype) if dtype is not None else _dtype.get_default_dtype()
    return np.empty(0, d.np)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A ``Parameter`` whose shape is decided later (by a lazy module's first forward).

    Args:
        requires_grad: as for ``Parameter`` (default True).
        device: only ``"cpu"``.
        dtype: the dtype it will have (default: ember's default dtype).
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        self = Parameter.__new__(cls, None, requires_grad)
        self._data = _empty(device, dtype)
        return self

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, None, _dtype.from_numpy(self._data.dtype))
        memo[id(self)] = result
        return result


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is decided later (a lazy norm layer's running statistics).

    Args:
        requires_grad: default False.
        device: only ``"cpu"``.
        dtype: the dtype it will have (default: ember's default dtype).
        persistent: whether it belongs in ``state_dict``.
    """

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        self = object.__new__(cls)
        self._data = _empty(device, dtype)
        self._rg = False
        self.grad = None
        self._grad_fn = None
        self._vc = [0]
        self.persistent = persistent
        self._is_buffer = True
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, None, _dtype.from_numpy(self._data.dtype),
                            getattr(self, "persistent", True))
        memo[id(self)] = result
        return result


def is_lazy(param) -> bool:
    """Whether ``param`` is an uninitialized parameter or buffer."""
    return isinstance(param, UninitializedTensorMixin)
