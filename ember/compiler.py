"""``ember.compiler``: torch.compiler's eager-mode surface.

ember has no compiler, so code always runs eagerly: ``is_compiling()`` is False, the
decorators hand back the function (``disable`` a thin wrapper marked as torch marks it), and
``reset``/``cudagraph_mark_step_begin`` do nothing. ``compile`` is ``ember.compile``.
"""
from __future__ import annotations

import functools

__all__ = ["compile", "disable", "allow_in_graph", "assume_constant_result", "reset",
           "cudagraph_mark_step_begin", "is_compiling", "is_dynamo_compiling", "is_exporting"]


def compile(*args, **kwargs):  # noqa: A001 (torch's name)
    """``ember.compile``: returns the model or function unchanged (see there)."""
    from ._compat import compile as _compile

    return _compile(*args, **kwargs)


def is_compiling() -> bool:
    """Whether the code runs inside ``torch.compile``/``torch.export`` tracing: never, here."""
    return False


def is_dynamo_compiling() -> bool:
    """Whether TorchDynamo traces the code: never, here."""
    return False


def is_exporting() -> bool:
    """Whether ``torch.export`` traces the code: never, here."""
    return False


def _innermost_fn(fn):
    # undo earlier disable() wrappers, as torch does, so wrapping twice wraps the original
    while (hasattr(fn, "_torchdynamo_orig_callable")
           and getattr(fn, "_torchdynamo_wrapper_id", None) == id(fn)):
        fn = fn._torchdynamo_orig_callable
    return fn


def _disable_one(fn, recursive, reason):
    from .nn.modules.module import Module

    fn = _innermost_fn(fn)
    if not callable(fn):
        raise AssertionError("fn must be callable")
    if isinstance(fn, Module):
        return fn  # eager already; torch wraps it in an OptimizedModule

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    wrapper._torchdynamo_disable = True
    wrapper._torchdynamo_disable_msg = reason
    wrapper._torchdynamo_orig_callable = fn
    wrapper._torchdynamo_wrapper_id = id(wrapper)
    wrapper._torchdynamo_disable_recursive = recursive
    return wrapper


def disable(fn=None, recursive=True, *, reason=None):
    """Mark ``fn`` as never compiled; as a decorator with or without arguments.

    Args:
        fn: the function to disable; None returns a decorator.
        recursive: kept for torch's signature (nothing is compiled either way).
        reason: a note torch prints when it meets the function while tracing.

    Returns:
        A wrapper calling ``fn`` (``functools.wraps``-ed, ``__wrapped__`` is ``fn``), or a
        decorator making one. An ``nn.Module`` comes back unchanged.

    Raises:
        AssertionError: ``fn`` is not callable (torch's check).
    """
    if fn is None:
        return lambda f: _disable_one(f, bool(recursive), reason)
    return _disable_one(fn, bool(recursive), reason)


def allow_in_graph(fn):
    """Let the tracer put ``fn`` in the graph whole: ``fn`` itself (a list or tuple of
    callables gives a list of them).

    Raises:
        AssertionError: ``fn`` is not callable (torch's check).
    """
    if isinstance(fn, (list, tuple)):
        return [allow_in_graph(x) for x in fn]
    if not callable(fn):
        raise AssertionError("allow_in_graph expects a callable")
    return fn


def assume_constant_result(fn):
    """Mark ``fn``'s result as a constant for the tracer; returns ``fn`` itself."""
    fn._dynamo_marked_constant = True
    return fn


def reset() -> None:
    """Clear the compiler's caches: there are none here."""


def cudagraph_mark_step_begin() -> None:
    """Mark the start of a CUDA-graph step: nothing to mark on ember's CPU-only tensors."""
