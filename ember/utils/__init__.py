"""Utilities around the core, in torch's places: ``ember.utils.data``,
``ember.utils.checkpoint`` and ``ember.utils.hooks`` (loaded on first use: it reaches
into ``ember.nn``)."""
from . import checkpoint, data

__all__ = ["checkpoint", "data", "hooks"]


def __getattr__(name):
    if name == "hooks":
        import importlib

        return importlib.import_module(f"{__name__}.hooks")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
