"""Optimizers and learning-rate schedulers, mirroring ``torch.optim``.

``ember.optim.SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``, ``Adadelta``, ``Adamax``,
``NAdam`` and ``RAdam`` follow torch's single-tensor algorithms term for term and update the
parameters' arrays in place; their state dicts use torch's format.
``ember.optim.lr_scheduler`` holds the schedulers.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
    "RAdam", "lr_scheduler",
]
