"""Storages: ``Tensor.storage()`` (a ``TypedStorage``, deprecated in torch and warned about
once), ``Tensor.untyped_storage()`` (an ``UntypedStorage`` of bytes) and ``is_storage``.

A storage is the whole memory a tensor views (``ops/_storage.py`` finds the NumPy array that
owns it), seen as a flat run of elements or of bytes: reading it reads the tensor's memory
and writing it writes through to every tensor that shares the memory.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import _dtype
from ._tensor import Tensor

__all__ = ["TypedStorage", "UntypedStorage", "is_storage"]

_warned = [False]


def _warn_typed_storage_removal(stacklevel=3):
    """torch's deprecation warning, given once per process."""
    if not _warned[0]:
        warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                      "UntypedStorage will be the only storage class. This should only matter "
                      "to you if you are using storages directly.  To access UntypedStorage "
                      "directly, use tensor.untyped_storage() instead of tensor.storage()",
                      UserWarning, stacklevel=stacklevel)
        _warned[0] = True


def _flat_memory(a: np.ndarray) -> np.ndarray:
    """The whole memory under ``a`` as a flat array of its dtype."""
    from .ops._storage import storage_root, strided_over

    root = storage_root(a)
    count = root.nbytes // a.itemsize
    if root.dtype != a.dtype:
        root = root.reshape(-1).view(a.dtype) if root.flags.c_contiguous else root
    return strided_over(root, (count,), (1,), 0)


class _StorageBase:
    """What both storages share: a flat NumPy view ``_mem`` and the owner's version counter."""

    __slots__ = ("_mem", "_vc")

    def _index(self, idx):
        n = self._mem.shape[0]
        if not isinstance(idx, (int, np.integer)):
            raise TypeError(f"can't index a {type(self).__name__} with {type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"index {idx} out of range for storage of size {n}")
        return int(idx) % n

    def _write(self, key, value):
        if isinstance(value, Tensor):
            value = value.numpy()
        self._mem[key] = value
        if self._vc is not None:
            self._vc[0] += 1

    def __len__(self):
        return self._mem.shape[0]

    def size(self) -> int:
        """Number of elements (bytes for an ``UntypedStorage``)."""
        return self._mem.shape[0]

    def nbytes(self) -> int:
        """Size in bytes."""
        return self._mem.nbytes

    def data_ptr(self) -> int:
        """Address of the first element (0 for an empty storage, as torch)."""
        return self._mem.__array_interface__["data"][0] if self._mem.size else 0

    def tolist(self) -> list:
        """The elements as a list of Python numbers."""
        return self._mem.tolist()

    def __iter__(self):
        return iter(self.tolist())

    def fill_(self, value):
        """Set every element to ``value``; returns self."""
        self._write(slice(None), value)
        return self

    @property
    def device(self):
        """The CPU: ember's only device."""
        from ._backend import device

        return device("cpu")

    @property
    def is_cuda(self) -> bool:
        """False: ember runs on the CPU."""
        return False

    def is_shared(self) -> bool:
        """False: ember's storages are never in shared memory."""
        return False

    def cpu(self):
        """Itself: the storage is on the CPU already."""
        return self

    def _lines(self, kind, extra):
        body = "\n".join(f" {v}" for v in self.tolist())
        return f"{body}\n[ember.{kind}({extra}device=cpu) of size {len(self)}]"


class UntypedStorage(_StorageBase):
    """The bytes under a tensor (``torch.UntypedStorage``); ``UntypedStorage(n)`` makes ``n``
    fresh zero bytes. Indexing gives ints 0..255; a slice gives the storage of those bytes."""

    __slots__ = ()

    def __init__(self, size: int = 0, *, device=None):
        self._mem = np.zeros(int(size), np.uint8)
        self._vc = None

    @classmethod
    def _over(cls, mem: np.ndarray, vc):
        out = cls.__new__(cls)
        out._mem, out._vc = mem.view(np.uint8), vc
        return out

    def element_size(self) -> int:
        """One: the elements are bytes."""
        return 1

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            step = idx.step if idx.step is not None else 1
            if step != 1:
                raise RuntimeError(f"Trying to slice with a step of {step}, but only a step "
                                   "of 1 is supported")
            return UntypedStorage._over(self._mem[idx], self._vc)
        return int(self._mem[self._index(idx)])

    def __setitem__(self, idx, value):
        self._write(idx if isinstance(idx, slice) else self._index(idx), value)

    def __repr__(self):
        return self._lines("UntypedStorage", "")


class TypedStorage(_StorageBase):
    """The elements under a tensor, of its dtype (``torch.TypedStorage``; deprecated there).

    ``TypedStorage(n, dtype=...)`` makes ``n`` zeros and ``TypedStorage(seq, dtype=...)``
    holds ``seq``'s values (default dtype: ember's default). Indexing gives Python numbers;
    assigning writes through to the tensors that share the memory.
    """

    __slots__ = ("dtype",)

    def __init__(self, *args, dtype=None, device=None):
        _warn_typed_storage_removal()
        dtype = _dtype.get_default_dtype() if dtype is None else dtype
        if len(args) > 1:
            raise TypeError("TypedStorage(): expected a size or a sequence, got "
                            f"{len(args)} arguments")
        data = args[0] if args else 0
        if isinstance(data, (int, np.integer)):
            self._mem = np.zeros(int(data), dtype.np)
        else:
            self._mem = np.array(list(data), dtype.np)
        self.dtype, self._vc = dtype, None

    @classmethod
    def _of(cls, tensor: Tensor):
        out = cls.__new__(cls)
        out._mem, out._vc = _flat_memory(tensor._data), tensor._vc
        out.dtype = tensor.dtype
        return out

    def element_size(self) -> int:
        """Bytes per element."""
        return self._mem.itemsize

    def untyped(self) -> UntypedStorage:
        """The same memory as bytes."""
        return UntypedStorage._over(self._mem, self._vc)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        return self._mem[self._index(idx)].item()

    def __setitem__(self, idx, value):
        self._write(idx if isinstance(idx, slice) else self._index(idx), value)

    def type(self) -> str:
        """The legacy name of this storage's type, ``"ember.FloatStorage"`` and so on."""
        from ._legacy_types import _NAMES

        kind = next((k for k, v in _NAMES.items() if v == self.dtype.name), self.dtype.name)
        return f"ember.{kind}Storage"

    def __repr__(self):
        return self._lines("TypedStorage", f"dtype={self.dtype}, ")


def is_storage(obj) -> bool:
    """True for a ``TypedStorage`` or an ``UntypedStorage`` (``torch.is_storage``)."""
    return isinstance(obj, (TypedStorage, UntypedStorage))


def _storage(self) -> TypedStorage:
    """The memory this tensor views, as a ``TypedStorage`` of its dtype (``Tensor.storage``;
    deprecated in torch, which warns once)."""
    _warn_typed_storage_removal()
    return TypedStorage._of(self)


def _untyped_storage(self) -> UntypedStorage:
    """The memory this tensor views, as an ``UntypedStorage`` of bytes."""
    return UntypedStorage._over(_flat_memory(self._data), self._vc)


Tensor.storage = _storage
Tensor.untyped_storage = _untyped_storage
