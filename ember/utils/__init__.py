"""Utilities around the core, in torch's places: ``ember.utils.data`` and
``ember.utils.checkpoint``."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]
