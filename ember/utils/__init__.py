"""Utilities around the core, in torch's places: ``ember.utils.data``."""
from . import data

__all__ = ["data"]
