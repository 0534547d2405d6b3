"""Utilities around the core, in torch's places: ``ember.utils.data``,
``ember.utils.checkpoint``, and, loaded on first use, ``ember.utils.hooks`` (it reaches
into ``ember.nn``), ``dlpack``, ``weak`` and ``_pytree``."""
from . import checkpoint, data

__all__ = ["checkpoint", "data", "dlpack", "hooks", "weak"]


def __getattr__(name):
    if name in ("hooks", "dlpack", "weak", "_pytree"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
