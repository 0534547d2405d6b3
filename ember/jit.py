"""ember.jit: torch.jit's decorators as pass-throughs (ember has no TorchScript).

``script`` and ``trace`` return the function or module they are given, so code that
scripts a model for speed runs eagerly, unchanged; ``save``/``load`` of TorchScript
archives raise NotImplementedError (use ``ember.save`` / ``ember.load``).
"""
from __future__ import annotations

import typing

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "is_scripting",
           "is_tracing", "Final", "Attribute", "annotate", "save", "load", "freeze",
           "optimize_for_inference", "ScriptModule", "ScriptFunction"]

Final = typing.Final


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Return ``obj`` unchanged: it runs eagerly."""
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """Return ``func`` unchanged (no graph is traced); ``example_inputs`` is not run."""
    return func


def trace_module(mod, inputs, **kwargs):
    """Return ``mod`` unchanged."""
    return mod


def ignore(drop=False, **kwargs):
    """Decorator that leaves the function as it is (usable with or without arguments)."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """Decorator that leaves the function as it is."""
    return fn


def export(fn):
    """Decorator that leaves the function as it is."""
    return fn


def is_scripting() -> bool:
    """False: code never runs under TorchScript here."""
    return False


def is_tracing() -> bool:
    """False: nothing is traced."""
    return False


def annotate(the_type, the_value):
    """Return ``the_value`` (the type annotation only matters to TorchScript)."""
    return the_value


def Attribute(value, type):  # noqa: N802,A002  (torch's spelling)
    """Return ``value`` (the type annotation only matters to TorchScript)."""
    return value


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """Return ``mod`` unchanged."""
    return mod


def optimize_for_inference(mod, other_methods=None):
    """Return ``mod`` unchanged."""
    return mod


def save(m, f, _extra_files=None):
    """Raises NotImplementedError: no TorchScript archives; use ``ember.save(state_dict)``."""
    raise NotImplementedError("ember.jit.save: ember has no TorchScript; save the state_dict "
                              "with ember.save(model.state_dict(), path) instead")


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """Raises NotImplementedError: TorchScript archives cannot be loaded."""
    raise NotImplementedError("ember.jit.load: ember cannot load TorchScript archives; load a "
                              "state_dict with ember.load(path) instead")


class ScriptModule:
    """Placeholder type so ``isinstance(m, torch.jit.ScriptModule)`` is False, not an error."""


class ScriptFunction:
    """Placeholder type so ``isinstance(f, torch.jit.ScriptFunction)`` is False."""
