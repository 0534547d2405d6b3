"""How generated code and printouts spell an ember function: ``ember.relu``,
``ember.nn.functional.relu``, ``ember.linalg.norm``.

torch's functions carry ``__module__ == "torch"``; ember's say where they are *defined*
(``ember.ops.activation``), so the public spelling is found by looking the function up in
ember's public namespaces, preferring the one its module lies under.
"""
from __future__ import annotations

import importlib
import sys

# the namespaces whose functions the tracer records (and patches while tracing)
PUBLIC_NAMESPACES = ("ember", "ember.nn.functional", "ember.special", "ember.linalg")


def public_namespaces() -> list:
    """ember's public function namespaces, as modules."""
    return [importlib.import_module(name) for name in PUBLIC_NAMESPACES]


def unpatched(value):
    """The original behind a tracing wrapper (the value itself when it is not one)."""
    return getattr(value, "_fx_orig", value)


def is_from_ember(obj: object) -> bool:
    """Whether ``obj`` is defined inside the ember package."""
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and (module == "ember" or module.startswith("ember."))


def ember_qualified_name(obj) -> str:
    """The dotted public name of ember function or class ``obj`` (``"ember.cat"``)."""
    name = obj.__name__
    module = obj.__module__
    spaces = public_namespaces()
    # longest matching namespace first: ember.nn.functional.relu before ember.relu
    spaces.sort(key=lambda ns: -len(ns.__name__) if module.startswith(ns.__name__) else 0)
    for ns in spaces:
        if unpatched(vars(ns).get(name)) is obj:
            return f"{ns.__name__}.{name}"
    tensor = sys.modules["ember._tensor"].Tensor
    if vars(tensor).get(name) is obj:
        return f"ember.Tensor.{name}"
    home = sys.modules.get(module)
    if home is not None and unpatched(vars(home).get(name)) is obj:
        return f"{module}.{name}"
    for ns in spaces:
        for key, value in vars(ns).items():
            if unpatched(value) is obj:
                return f"{ns.__name__}.{key}"
    raise RuntimeError(f"cannot find module for {obj}")
