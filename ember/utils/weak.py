"""``ember.utils.weak``: weak references and weak-keyed dicts keyed by identity, as torch's.

Tensors compare elementwise (``a == b`` is a Tensor), so ``weakref.WeakKeyDictionary`` cannot
hold them; ``WeakIdKeyDictionary`` hashes and compares its keys by ``id`` instead and drops
an entry when its key dies. Adapted, as torch's is, from CPython's ``Lib/weakref.py``.
"""
from __future__ import annotations

import weakref
from collections.abc import Mapping, MutableMapping
from weakref import ref

from .._tensor import Tensor

WeakRef = ref

__all__ = ["TensorWeakRef", "WeakIdRef", "WeakIdKeyDictionary", "WeakTensorKeyDictionary"]


class _IterationGuard:
    """Defers the container's removals of dead keys while an iteration over it runs."""

    def __init__(self, weakcontainer) -> None:
        self.weakcontainer = ref(weakcontainer)  # no cycle

    def __enter__(self):
        w = self.weakcontainer()
        if w is not None:
            w._iterating.add(self)
        return self

    def __exit__(self, e, t, b):
        w = self.weakcontainer()
        if w is not None:
            s = w._iterating
            s.remove(self)
            if not s:
                w._commit_removals()


class WeakIdRef(weakref.ref):
    """A weak reference that hashes by the referent's ``id`` and compares by identity.

    Two refs are equal when both referents are alive and the same object; a dead ref is
    equal only to itself (so a new object reusing a dead one's id never matches it).
    """

    __slots__ = ["_id"]

    def __init__(self, key, callback=None) -> None:
        self._id = id(key)
        super().__init__(key, callback)

    def __hash__(self):
        return self._id

    def __eq__(self, other):
        a, b = self(), other()
        if a is not None and b is not None:
            return a is b
        return self is other


class WeakIdKeyDictionary(MutableMapping):
    """A dict whose keys are held weakly and matched by identity (any object, Tensors too).

    Args:
        dict: optional mapping (or iterable of pairs) to start from.
        ref_type: the weak reference class wrapping each key (``WeakIdRef``).
    """

    def __init__(self, dict=None, ref_type=WeakIdRef) -> None:  # noqa: A002 (torch's name)
        self.data = {}
        self.ref_type = ref_type

        selfref = ref(self)  # the callback must not keep the dict alive

        def remove(k) -> None:
            d = selfref()
            if d is not None:
                if d._iterating:
                    d._pending_removals.append(k)
                else:
                    d.data.pop(k, None)

        self._remove = remove
        self._pending_removals = []  # dead keys seen during an iteration
        self._iterating = set()
        self._dirty_len = False
        if dict is not None:
            self.update(dict)

    def _commit_removals(self) -> None:
        d = self.data
        while self._pending_removals:
            d.pop(self._pending_removals.pop(), None)

    def _scrub_removals(self) -> None:
        d = self.data
        self._pending_removals = [k for k in self._pending_removals if k in d]
        self._dirty_len = False

    def __delitem__(self, key) -> None:
        self._dirty_len = True
        del self.data[self.ref_type(key)]

    def __getitem__(self, key):
        return self.data[self.ref_type(key)]

    def __len__(self) -> int:
        if self._dirty_len and self._pending_removals:
            self._scrub_removals()
        return len(self.data) - len(self._pending_removals)

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} at {id(self):#x}>"

    def __setitem__(self, key, value) -> None:
        self.data[self.ref_type(key, self._remove)] = value

    def copy(self):
        """A new ``WeakIdKeyDictionary`` with the same live entries."""
        new = WeakIdKeyDictionary()
        with _IterationGuard(self):
            for key, value in self.data.items():
                o = key()
                if o is not None:
                    new[o] = value
        return new

    __copy__ = copy

    def __deepcopy__(self, memo):
        from copy import deepcopy

        new = self.__class__()
        with _IterationGuard(self):
            for key, value in self.data.items():
                o = key()
                if o is not None:
                    new[o] = deepcopy(value, memo)
        return new

    def get(self, key, default=None):
        """The value for ``key`` (by identity), or ``default``."""
        return self.data.get(self.ref_type(key), default)

    def __contains__(self, key) -> bool:
        try:
            wr = self.ref_type(key)
        except TypeError:  # not weak-referenceable: cannot be a key
            return False
        return wr in self.data

    def items(self):
        """The live ``(key, value)`` pairs (a generator)."""
        with _IterationGuard(self):
            for wr, value in self.data.items():
                key = wr()
                if key is not None:
                    yield key, value

    def keys(self):
        """The live keys (a generator)."""
        with _IterationGuard(self):
            for wr in self.data:
                obj = wr()
                if obj is not None:
                    yield obj

    __iter__ = keys

    def values(self):
        """The values of live keys (a generator)."""
        with _IterationGuard(self):
            for wr, value in self.data.items():
                if wr() is not None:
                    yield value

    def keyrefs(self):
        """The weak references to the keys (call each; it may be dead)."""
        return list(self.data)

    def popitem(self):
        """Remove and return some live ``(key, value)`` pair."""
        self._dirty_len = True
        while True:
            key, value = self.data.popitem()
            o = key()
            if o is not None:
                return o, value

    def pop(self, key, *args):
        """Remove ``key`` and return its value (or the default given)."""
        self._dirty_len = True
        return self.data.pop(self.ref_type(key), *args)

    def setdefault(self, key, default=None):
        """The value for ``key``, set to ``default`` first when absent."""
        return self.data.setdefault(self.ref_type(key, self._remove), default)

    def update(self, dict=None, **kwargs) -> None:  # noqa: A002
        """Add the pairs of a mapping (or iterable of pairs) and of ``kwargs``."""
        d = self.data
        if dict is not None:
            if not hasattr(dict, "items"):
                dict = type({})(dict)
            for key, value in dict.items():
                d[self.ref_type(key, self._remove)] = value
        if kwargs:
            self.update(kwargs)

    def __ior__(self, other):
        self.update(other)
        return self

    def __or__(self, other):
        if isinstance(other, Mapping):
            c = self.copy()
            c.update(other)
            return c
        return NotImplemented

    def __ror__(self, other):
        if isinstance(other, Mapping):
            c = self.__class__()
            c.update(other)
            c.update(self)
            return c
        return NotImplemented

    def __eq__(self, other):
        # keys compare by identity, not by the (elementwise) == of Tensors
        if not isinstance(other, Mapping):
            return NotImplemented
        return {id(k): v for k, v in self.items()} == {id(k): v for k, v in other.items()}


WeakTensorKeyDictionary = WeakIdKeyDictionary


class TensorWeakRef:
    """A weak reference to a Tensor: call it to get the Tensor back, or None once it is gone.

    Raises:
        AssertionError: ``tensor`` is not a Tensor (torch's check).
    """

    def __init__(self, tensor: Tensor) -> None:
        if not isinstance(tensor, Tensor):
            raise AssertionError(f"expected torch.Tensor, got {type(tensor)}.")
        self.ref = weakref.ref(tensor)

    def __call__(self):
        out = self.ref()
        if out is None:
            return out
        if not isinstance(out, Tensor):
            raise AssertionError(f"expected torch.Tensor, got {type(out)}.")
        return out
