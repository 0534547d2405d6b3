"""How ember functions get recorded while tracing: temporary patching.

torch's functions notice a Proxy argument through ``__torch_function__``; ember's do not,
so for the duration of a trace the tracer swaps every public function of ``ember``,
``ember.nn.functional``, ``ember.special`` and ``ember.linalg`` (and the same functions
imported into the traced code's globals) for a wrapper. Called with a Proxy anywhere in its
arguments, the wrapper records a ``call_function`` node whose target is the original
function; otherwise it just calls the original. ``ember.Tensor``'s methods are wrapped the
same way, so ``weight.add(proxy)`` and ``buffer + proxy`` record ``call_method`` nodes as in
torch. A ``_Patcher`` remembers every swap and undoes them all on exit, also when tracing
raises.
"""
from __future__ import annotations

import builtins
import functools
import types
from collections.abc import Callable
from typing import Any

import ember

from ._qualname import public_namespaces
from .proxy import _find_proxy

# not dispatched by torch either: they answer for the Proxy object itself
_NOT_RECORDED = frozenset({"is_tensor", "is_storage", "typename"})

# Tensor dunders and the method name torch records for ``tensor <op> proxy``
_TENSOR_DUNDER_TARGETS = {
    "__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div",
    "__matmul__": "matmul", "__pow__": "pow", "__mod__": "remainder", "__lt__": "lt",
    "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__eq__": "eq", "__ne__": "ne",
    "__floordiv__": "__floordiv__", "__getitem__": "__getitem__", "__and__": "__and__",
    "__or__": "__or__", "__xor__": "__xor__", "__lshift__": "__lshift__",
    "__rshift__": "__rshift__"}


class _Patcher:
    """Records attribute swaps and reverts them all (newest first) on exit."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []
        self._visited: set[int] = set()

    def patch(self, frame_dict: dict[str, Any], name: str, new_fn: Callable,
              deduplicate: bool = True) -> None:
        """Set ``frame_dict[name] = new_fn`` (shadowing a builtin when ``name`` is missing)."""
        new_fn._fx_already_patched = deduplicate
        if name not in frame_dict and hasattr(builtins, name):
            self._undo.append(lambda: frame_dict.pop(name, None))
        elif getattr(frame_dict[name], "_fx_already_patched", False):
            return
        else:
            orig = frame_dict[name]
            self._undo.append(lambda: frame_dict.__setitem__(name, orig))
        frame_dict[name] = new_fn

    def patch_method(self, cls: type, name: str, new_fn: Callable,
                     deduplicate: bool = True) -> None:
        """Set ``cls.<name> = new_fn``."""
        new_fn._fx_already_patched = deduplicate
        if getattr(getattr(cls, name), "_fx_already_patched", False):
            return
        if name in vars(cls):
            orig = vars(cls)[name]
            self._undo.append(lambda: setattr(cls, name, orig))
        else:
            self._undo.append(lambda: delattr(cls, name))
        setattr(cls, name, new_fn)

    def visit_once(self, thing: object) -> bool:
        """True the first time ``thing`` is seen by this patcher."""
        if id(thing) in self._visited:
            return False
        self._visited.add(id(thing))
        return True

    def revert_all(self) -> None:
        """Undo every patch, newest first."""
        while self._undo:
            self._undo.pop()()
        self._visited.clear()

    def __enter__(self) -> _Patcher:
        return self

    def __exit__(self, *exc) -> None:
        self.revert_all()


def _create_wrapped_func(orig_fn: Callable, mark_wrapped: bool = True) -> Callable:
    """A stand-in for ``orig_fn`` that records a ``call_function`` node when given a Proxy.

    ``mark_wrapped`` sets ``meta["is_wrapped"]`` (functions registered with ``fx.wrap`` and
    autowrapped ones), which makes the generated code re-register them with ``wrap``.
    """
    @functools.wraps(orig_fn)
    def wrapped(*args, **kwargs):
        proxy = _find_proxy(args, kwargs)
        if proxy is not None:
            return_proxy = proxy.tracer.create_proxy("call_function", orig_fn, args, kwargs)
            if mark_wrapped:
                return_proxy.node.meta["is_wrapped"] = True
            return return_proxy
        return orig_fn(*args, **kwargs)

    wrapped._fx_orig = orig_fn
    return wrapped


def _create_wrapped_method(orig_fn: Callable, method_name: str) -> Callable:
    """A stand-in for a Tensor method that records ``call_method`` when given a Proxy."""
    @functools.wraps(orig_fn)
    def wrapped(*args, **kwargs):
        proxy = _find_proxy(args, kwargs)
        if proxy is not None:
            return proxy.tracer.create_proxy("call_method", method_name, args, kwargs)
        return orig_fn(*args, **kwargs)

    wrapped._fx_orig = orig_fn
    return wrapped


# one wrapper per original, reused across traces
_api_wrappers: dict[int, tuple[Callable, Callable]] = {}
_method_wrappers: dict[tuple[str, int], tuple[Callable, Callable]] = {}


def _api_wrapper(fn: Callable) -> Callable:
    entry = _api_wrappers.get(id(fn))
    if entry is None or entry[0] is not fn:
        entry = _api_wrappers[id(fn)] = (fn, _create_wrapped_func(fn, mark_wrapped=False))
    return entry[1]


def patched_form(fn: Callable) -> Callable:
    """The tracing wrapper standing in for ember function ``fn`` (``fn`` if it has none)."""
    entry = _api_wrappers.get(id(fn))
    return entry[1] if entry is not None and entry[0] is fn else fn


def _is_api_function(name: str, value: object) -> bool:
    return (not name.startswith("_") and name not in _NOT_RECORDED
            and isinstance(value, (types.FunctionType, types.BuiltinFunctionType))
            and hasattr(value, "__name__"))


def ember_api_functions() -> dict[int, Callable]:
    """``id -> function`` for every public function of ember's function namespaces."""
    found = {}
    for ns in public_namespaces():
        for name, value in vars(ns).items():
            if _is_api_function(name, value):
                found[id(value)] = value
    return found


def patch_ember_api(patcher: _Patcher) -> None:
    """Swap ember's public functions and ``Tensor`` methods for recording wrappers."""
    for ns in public_namespaces():
        frame_dict = vars(ns)
        if not patcher.visit_once(frame_dict):
            continue
        for name, value in list(frame_dict.items()):
            if _is_api_function(name, value):
                patcher.patch(frame_dict, name, _api_wrapper(value))
    tensor = ember.Tensor
    for name, value in list(vars(tensor).items()):
        if name.startswith("_"):
            method_name = _TENSOR_DUNDER_TARGETS.get(name)
            if method_name is None:
                continue
        else:
            method_name = name
        if not isinstance(value, types.FunctionType):
            continue  # properties, and builtins (which would not bind ``self`` if wrapped)
        key = (method_name, id(value))
        entry = _method_wrappers.get(key)
        if entry is None or entry[0] is not value:
            entry = _method_wrappers[key] = (value, _create_wrapped_method(value, method_name))
        patcher.patch_method(tensor, name, entry[1])


def autowrap_check(patcher: _Patcher, frame_dict: dict[str, Any], function_ids: set[int],
                   api_functions: dict[int, Callable]) -> None:
    """Wrap the autowrap functions (``math.*``) and ember functions found in ``frame_dict``.

    This catches ``from math import sqrt`` and ``from ember import relu`` in traced code.
    """
    if not patcher.visit_once(frame_dict):
        return
    for name, value in list(frame_dict.items()):
        if name.startswith("_") or not callable(value):
            continue
        if id(value) in function_ids:
            patcher.patch(frame_dict, name, _create_wrapped_func(value))
        elif api_functions.get(id(value)) is value:
            patcher.patch(frame_dict, name, _api_wrapper(value))
