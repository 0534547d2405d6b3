"""``torch.utils.hooks``: ``RemovableHandle`` (what every ``register_*_hook`` of a Module or an
Optimizer returns), ``unserializable_hook`` and ``warn_if_has_hooks``.

``RemovableHandle`` is the class ``ember.nn``, ``ember.optim`` and the autograd engine use
themselves, so ``isinstance(module.register_forward_hook(f), RemovableHandle)`` and
``isinstance(tensor.register_hook(f), RemovableHandle)`` hold as in torch.
"""
from __future__ import annotations

import warnings

from .._removable_handle import RemovableHandle

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks"]


def unserializable_hook(f):
    """Mark ``f`` as a hook that is not meant to be saved, which silences
    :func:`warn_if_has_hooks` for it; returns ``f``."""
    f.__torch_unserializable__ = True
    return f


def _tensor_hooks(tensor) -> list:
    hooks = list(getattr(tensor, "_hooks", None) or ())
    fn = tensor.grad_fn
    table = getattr(fn, "_tensor_hooks", None) if fn is not None else None
    if table:
        hooks += [h for h in table.get(tensor._output_nr, ()) if not getattr(h, "_retain", False)]
    return hooks


def warn_if_has_hooks(tensor) -> None:
    """Warn for each backward hook on ``tensor`` that serialization would drop (those not
    marked with :func:`unserializable_hook`), with torch's message."""
    for hook in _tensor_hooks(tensor):
        if not hasattr(hook, "__torch_unserializable__"):
            warnings.warn(f"backward hook {hook!r} on tensor will not be serialized.  If this is "
                          "expected, you can decorate the function with "
                          "@torch.utils.hooks.unserializable_hook to suppress this warning",
                          stacklevel=2)
