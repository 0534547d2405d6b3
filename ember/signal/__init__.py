"""``ember.signal``: torch.signal, i.e. its window functions (``ember.signal.windows``)."""
from . import windows

__all__ = ["windows"]
