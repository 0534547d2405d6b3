"""Optimizers and learning-rate schedulers, mirroring ``torch.optim``.

``ember.optim.SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``, ``Adadelta``, ``Adamax``,
``NAdam``, ``RAdam``, ``ASGD`` and ``SparseAdam`` follow torch's single-tensor algorithms term
for term and update the parameters' arrays in place; ``LBFGS`` is torch's L-BFGS, with its
strong-Wolfe line search. Their state dicts use torch's format.
``ember.optim.lr_scheduler`` holds the schedulers; ``ember.optim.swa_utils`` the weight
averaging (``AveragedModel``, ``SWALR``, ``update_bn``).
"""

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
    "RAdam", "ASGD", "SparseAdam", "LBFGS", "lr_scheduler", "swa_utils",
    "Rprop", "Adafactor", "Muon",
]
