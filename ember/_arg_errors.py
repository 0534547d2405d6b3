"""torch's argument-parser TypeErrors, in torch's words, for the ops to raise.

torch checks every call of a ``torch.*`` function or Tensor method against its Python
signature before it runs, and an invalid call raises ``TypeError``. ember's ops check on
their error path instead (or up front where an op is rarely hot) and take the message from
here, so its wording lives in one place.

Positions: torch numbers a method's arguments after ``self`` (``x.mm(0)``: "position 1") and
a function's from its first (``torch.mm(x, 0)``: "position 2"). Most of ember's Tensor
methods run the ``ops`` functions, so a builder asks how the op that raises was entered: as
a method when its frame runs a method's code or was called straight from one. Method code is
registered here by :func:`method` (a method-only function or a method wrapper) or made by
:func:`method_twin` (an ``ops`` function's copy for the Tensor class to hold: the same code
under its own identity, so it costs no extra frame). Builders take the function's position
(``input`` is 1) and renumber for a method.
"""
from __future__ import annotations

import sys
import types

from ._tensor import Tensor

_HERE = __file__
_METHOD_CODES: set[int] = set()  # ids of the code objects that Tensor methods run

# ember's classes that torch spells with their module (its C types' names)
_TORCH_TYPE_NAMES = {"dtype": "torch.dtype", "device": "torch.device",
                     "Generator": "torch._C.Generator", "Size": "torch.Size",
                     "layout": "torch.layout", "memory_format": "torch.memory_format"}


def type_name(value) -> str:
    """How torch's messages name ``value``'s type: ``int``, ``NoneType``, ``Tensor``,
    ``numpy.ndarray``, ``torch.dtype``."""
    cls = type(value)
    module = cls.__module__ or ""
    if module.startswith("ember"):
        return _TORCH_TYPE_NAMES.get(cls.__name__, cls.__name__)
    if module == "numpy":
        return f"numpy.{cls.__name__}"
    return cls.__name__


def method(fn):
    """Register ``fn`` (a method-only function or a method wrapper) as a Tensor method's
    code for the position numbering; returns ``fn``."""
    _METHOD_CODES.add(id(fn.__code__))
    return fn


def method_twin(fn):
    """A copy of the ``ops`` function ``fn`` for the Tensor class to hold: the same code and
    globals (no extra frame) under its own code identity, registered as a method's.

    NOTE: the profiler and forward-mode AD patch some functions (``matmul``, ``sum``,
    ``reshape``, ``abs``, ``getitem``) under every name bound to them, by identity: those
    must stay the ``ops`` functions themselves, never twins."""
    code = fn.__code__.replace()
    twin = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__,
                              fn.__closure__)
    twin.__kwdefaults__ = fn.__kwdefaults__
    twin.__doc__, twin.__module__, twin.__qualname__ = fn.__doc__, fn.__module__, fn.__qualname__
    twin.__dict__.update(fn.__dict__)
    _METHOD_CODES.add(id(code))
    return twin


def called_as_method() -> bool:
    """Whether the op asking (the first caller outside this module) runs as a Tensor method:
    a method's code, or called straight from one (a wrapper such as ``_method``'s). So call
    it, and the builders that number positions, from the op's own frame."""
    frame = sys._getframe(1)
    while frame.f_code.co_filename == _HERE:
        frame = frame.f_back
    caller = frame.f_back
    return id(frame.f_code) in _METHOD_CODES or (caller is not None
                                                 and id(caller.f_code) in _METHOD_CODES)


def _position(pos):
    """`` (position N)`` for the function position ``pos``, renumbered after ``self`` for a
    method call; empty for ``None`` (torch names no position for a keyword argument)."""
    if pos is None:
        return ""
    return f" (position {pos - 1 if called_as_method() else pos})"


def must_be(name: str, arg: str, pos: int | None, expected: str, value) -> TypeError:
    """``name(): argument 'arg' (position pos) must be expected, not <type>``."""
    return TypeError(f"{name}(): argument '{arg}'{_position(pos)} must be {expected}, not "
                     f"{type_name(value)}")


def not_tensor(name: str, arg: str, pos: int | None, value) -> TypeError:
    """torch's error for a non-Tensor ``value`` where ``name`` takes a Tensor."""
    return must_be(name, arg, pos, "Tensor", value)


def check_tensors(name: str, **args) -> None:
    """Raise torch's TypeError for the first of ``args`` that is not a Tensor. Pass them in
    torch's parameter order from ``input`` (the order gives the positions), an optional one
    only when it was given."""
    for pos, (arg, value) in enumerate(args.items(), 1):
        if not isinstance(value, Tensor):
            raise not_tensor(name, arg, pos, value) from None


def check_bool(name: str, arg: str, pos: int | None, value) -> None:
    """torch's parser takes only a Python bool for a bool parameter (not 0, 1 or None)."""
    if value is not True and value is not False:
        raise must_be(name, arg, pos, "bool", value) from None


def missing(name: str, *params: str) -> TypeError:
    """``name() missing N required positional arguments: "a", "b"`` (torch's plural, sic)."""
    n = len(params)
    names = ", ".join(f'"{p}"' for p in params)
    return TypeError(f"{name}() missing {n} required positional argument"
                     f"{'s' if n == 1 else ''}: {names}")


def required(name: str, param: str, value):
    """``value``; torch's :func:`missing` error when it was not given (is None)."""
    if value is None:
        raise missing(name, param)
    return value


def takes_positional(name: str, takes: int | str, given: int) -> TypeError:
    """``name() takes N positional argument(s) but M was/were given``; ``takes`` may be a
    range such as ``"from 0 to 1"``."""
    plural = "" if takes == 1 else "s"
    verb = "was" if given == 1 else "were"
    return TypeError(f"{name}() takes {takes} positional argument{plural} but {given} {verb} "
                     "given")


def invalid_combination(name: str, args: tuple = (), kwargs: dict | None = None,
                        expected: tuple[str, ...] = ()) -> TypeError:
    """``name() received an invalid combination of arguments - got (...), but expected ...``
    with torch's rendering of the given arguments and the overloads in ``expected``."""
    kwargs = kwargs or {}
    given = [type_name(a) for a in args] + [f"{k}={type_name(v)}" for k, v in kwargs.items()]
    got = ", ".join(given) if args else "".join(f"{g}, " for g in given)
    if len(expected) == 1:
        tail = f"expected {expected[0]}"
    else:
        tail = "expected one of:\n" + "".join(f" * {sig}\n" for sig in expected)
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got}), "
                     f"but {tail}")


_TO_KEYWORDS = frozenset(("device", "dtype", "non_blocking", "memory_format", "copy"))
_TO_SIGNATURES = (
    "(torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, "
    "bool copy = False, *, torch.memory_format memory_format = None)",
    "(torch.dtype dtype, bool non_blocking = False, bool copy = False, *, "
    "torch.memory_format memory_format = None)",
    "(Tensor tensor, bool non_blocking = False, bool copy = False, *, "
    "torch.memory_format memory_format = None)")


def check_to_keywords(args: tuple, kwargs: dict) -> None:
    """torch's TypeError for ``Tensor.to`` / ``Module.to`` with a keyword it does not take
    (its parser lists every given keyword: sorted here, torch's order varies)."""
    if kwargs.keys() - _TO_KEYWORDS:
        raise invalid_combination("to", args, dict(sorted(kwargs.items())), _TO_SIGNATURES)


def check_tensor_list(values, arg_index: int = 0) -> None:
    """torch's error for a non-Tensor inside a tensor-list argument (``torch.cat``,
    ``torch.block_diag``, ...)."""
    for i, value in enumerate(values):
        if not isinstance(value, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument {arg_index}, but got "
                            f"{type_name(value)}") from None
