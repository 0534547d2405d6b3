"""Optimizers and learning-rate schedulers, mirroring ``torch.optim``.

``ember.optim.SGD``, ``Adam``, ``AdamW`` and ``RMSprop`` follow torch's single-tensor
algorithms term for term and update the parameters' arrays in place; their state dicts
use torch's format. ``ember.optim.lr_scheduler`` holds the schedulers.
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
