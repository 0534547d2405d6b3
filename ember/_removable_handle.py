"""``RemovableHandle``: what every ``register_*_hook`` returns (torch's
``torch.utils.hooks.RemovableHandle``), for modules, optimizers, tensors and graph nodes.

Module and optimizer hooks live in ordered dicts keyed by the handle's ``id``; the autograd
engine keeps a tensor's or node's hooks in plain lists, which it walks on every backward, so
their handles (``ListHandle``) remove by identity from that list instead.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook.

    Also a context manager: the hook is removed on exit.
    """

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        if extra_dict is None:
            extra = ()
        elif isinstance(extra_dict, (list, tuple)):
            extra = tuple(extra_dict)
        else:
            extra = (extra_dict,)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra if d is not None)

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __getstate__(self):
        # weak references do not pickle: keep the dicts themselves (torch's state layout)
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state) -> None:
        hooks = state[0] if state[0] is not None else OrderedDict()  # None: a dead reference
        self.hooks_dict_ref = weakref.ref(hooks)
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        extra = state[2] if len(state) > 2 and state[2] is not None else ()
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra if d is not None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class ListHandle(RemovableHandle):
    """The handle of a hook kept in a list (tensor and node hooks of the autograd engine)."""

    def __init__(self, hooks: list, fn):
        self._hooks, self._fn = hooks, fn
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref = ()

    def remove(self) -> None:
        """Remove the hook (a second call does nothing)."""
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)

    def __getstate__(self):
        return (self._hooks, self._fn, self.id)

    def __setstate__(self, state) -> None:
        self._hooks, self._fn, self.id = state
        self.extra_dict_ref = ()
