"""Which modules are running now, forward or backward: ``torch.utils.module_tracker``.

Global module hooks add a module's name to ``parents`` when its forward starts and take it
out when the forward returns. For the backward, the forward post hook puts a multi-grad hook
on the module's outputs (the module is entered again when their gradients arrive) and the pre
hook one on its inputs (it is left when theirs are computed). At the end of each backward
``parents`` goes back to ``{"Global"}``.
"""
from __future__ import annotations

import logging
import weakref

from .._tensor import Tensor

__all__ = ["ModuleTracker"]

logger = logging.getLogger(__name__)


def _tensors_needing_grad(tree):
    """The tensors in nested tuples, lists and dicts that require grad, left to right."""
    out, stack = [], [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            if item.requires_grad:
                out.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return out


class ModuleTracker:
    """Context manager that tracks which ``nn.Module``\\ s are running, so other tools (the
    flop counter) can ask at any moment, forward or backward.

    ``parents`` is the set of fully qualified names of the modules whose forward (or
    backward) is running; it always holds ``"Global"``. A module's name is its class name
    for the first module seen, and ``parent.child`` below it (the ``state_dict`` prefixes,
    with the root's class name in front). ``is_bw`` says whether a backward is running.

    As in torch, ``parents`` keeps the modules entered in the backward until the backward
    ends (a module whose inputs need no gradient is never left before that).

    Example::

        with ModuleTracker() as tracker:
            model(x)  # inside any op: tracker.parents == {"Global", "Net", "Net.fc1"}
    """

    parents: set[str]

    def __init__(self) -> None:
        self.parents = {"Global"}
        self._known_modules: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._seen_modules: weakref.WeakSet = weakref.WeakSet()
        self._has_callback = False
        self._hooks: list = []

    def _maybe_set_engine_callback(self) -> None:
        # torch queues a callback at the end of the running backward; ember's engine drops
        # its GraphTask there, so a finalizer on it runs at that moment
        if self._has_callback:
            return
        from ..autograd import engine

        task = engine.current_task[0]
        if task is None:
            return

        def callback() -> None:
            self.parents = {"Global"}
            self._has_callback = False

        weakref.finalize(task, callback)
        self._has_callback = True

    @property
    def is_bw(self) -> bool:
        """Whether a backward pass is running now."""
        from ..autograd import engine

        return engine.current_task[0] is not None

    def _get_mod_name(self, mod) -> str:
        if mod not in self._known_modules:
            self._known_modules[mod] = type(mod).__name__
        mod_name = self._known_modules[mod]
        if mod not in self._seen_modules:
            for name, submod in mod.named_children():
                self._known_modules[submod] = f"{mod_name}.{name}"
                self._get_mod_name(submod)
            self._seen_modules.add(mod)
        return mod_name

    def _get_append_fn(self, name, is_bw):
        def fn(*args) -> None:
            if is_bw:
                self._maybe_set_engine_callback()
            if name in self.parents:
                logger.info("The module hierarchy tracking seems to be broken as this Module "
                            "was already entered. %s during %s", name,
                            "backward" if is_bw else "forward")
            self.parents.add(name)

        return fn

    def _get_pop_fn(self, name, is_bw):
        def fn(*args) -> None:
            if name in self.parents:
                self.parents.remove(name)
            else:
                logger.info("The Module hierarchy tracking is confused as we're exiting a "
                            "Module that was never entered. %s during %s", name,
                            "backward" if is_bw else "forward")

        return fn

    def _fw_pre_hook(self, mod, input) -> None:
        from ..autograd.graph import register_multi_grad_hook

        name = self._get_mod_name(mod)
        self._get_append_fn(name, False)()
        tensors = _tensors_needing_grad(input)
        if tensors:
            self._hooks.append(register_multi_grad_hook(tensors, self._get_pop_fn(name, True)))

    def _fw_post_hook(self, mod, input, output) -> None:
        from ..autograd.graph import register_multi_grad_hook

        name = self._get_mod_name(mod)
        self._get_pop_fn(name, False)()
        tensors = _tensors_needing_grad(output)
        if tensors:
            self._hooks.append(register_multi_grad_hook(tensors,
                                                        self._get_append_fn(name, True)))

    def __enter__(self):
        from ..nn.modules import module

        self._fw_pre_handle = module.register_module_forward_pre_hook(self._fw_pre_hook)
        self._fw_post_handle = module.register_module_forward_hook(self._fw_post_hook)
        return self

    def __exit__(self, *args):
        self._fw_pre_handle.remove()
        self._fw_post_handle.remove()
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()
