"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

The flags are thread-local, as in torch: a ``no_grad`` block in one thread leaves other
threads recording. ``inference_mode`` also marks the tensors it makes as *inference tensors*
(``is_inference()``), which autograd then refuses to save or to see changed in place.
"""
from __future__ import annotations

import functools
import threading


class _State(threading.local):
    """``enabled``: ops record the graph (the flag the hot paths read); ``grad``: the grad mode
    the user set, which ``is_grad_enabled`` reports. They differ only inside
    ``inference_mode``, where nothing records whatever the grad mode says (torch's
    ``InferenceMode`` removes autograd itself, ``enable_grad`` cannot bring it back)."""

    enabled = True
    grad = True
    inference = False


state = _State()


def is_grad_enabled() -> bool:
    """True when grad mode is on in this thread (ops then record the graph, except inside
    ``inference_mode``)."""
    return state.grad if state.inference else state.enabled


def _set_grad_mode(mode: bool) -> None:
    state.grad = mode
    state.enabled = mode and not state.inference


class _GradModeContext:
    """Base of the grad-mode context managers; each also works as a decorator."""

    _target = True
    _prev = (False, False)  # as torch: leaving a context never entered turns recording off

    def __enter__(self):
        self._prev = (state.enabled, state.grad)
        _set_grad_mode(self._target)

    def __exit__(self, *exc):
        state.enabled, state.grad = self._prev
        return False

    def __call__(self, fn):
        mode = type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with mode():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        """A fresh context manager of the same kind."""
        return type(self)()


class no_grad(_GradModeContext):  # noqa: N801
    """Context manager and decorator that stops ops from recording the graph.

    Inside it no ``grad_fn`` is built and nothing is saved for backward, which is where
    the memory saving of evaluation comes from.
    """

    _target = False

    def __init__(self, orig_func=None):
        # Support the bare decorator form ``@no_grad`` as well as ``@no_grad()``.
        self._orig = orig_func

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func) and not isinstance(orig_func, _GradModeContext):
            return self.__call__(orig_func)
        return self


class enable_grad(_GradModeContext):  # noqa: N801
    """Context manager and decorator that turns recording back on inside ``no_grad``."""

    _target = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Set grad mode to ``mode``; takes effect at once and also works as a context manager."""

    def __init__(self, mode: bool):
        self._prev = (state.enabled, state.grad)
        self._target = bool(mode)
        _set_grad_mode(self._target)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.enabled, state.grad = self._prev
        return False

    def clone(self):
        """A context manager with the same mode."""
        return set_grad_enabled(self._target)


class inference_mode(_GradModeContext):  # noqa: N801
    """``no_grad`` that also marks every tensor it makes as an inference tensor (torch's
    ``InferenceMode``); ``inference_mode(False)`` turns both off again inside it (and, as
    torch, turns grad mode on). Works bare as a decorator too (``@inference_mode``)."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode) and not isinstance(mode, _GradModeContext):
            self.__init__()
            return self.__call__(mode)
        return self

    def __init__(self, mode: bool = True):
        self._mode = bool(mode)

    def __enter__(self):
        self._prev = (state.enabled, state.grad, state.inference)
        state.enabled = state.grad = not self._mode
        state.inference = self._mode
        if self._mode:
            from . import function

            function.inference_tensors_exist()

    def __exit__(self, *exc):
        state.enabled, state.grad, state.inference = self._prev
        return False

    def __call__(self, fn):
        if not callable(fn):  # the __new__ above hands bare-decorator calls back here
            return self

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        """A context manager with the same mode."""
        return inference_mode(self._mode)


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode`` (not inside a plain ``no_grad``)."""
    return state.inference
