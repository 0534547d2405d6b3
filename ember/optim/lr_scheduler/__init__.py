"""Learning-rate schedulers with torch's recursive and closed forms.

Each scheduler writes ``group["lr"]`` of its optimizer's parameter groups. The recursive
forms (used by ``step()``) and the closed forms (used by the deprecated ``step(epoch)``)
are torch's, term for term, so the learning-rate sequences agree with torch's to the last
bit. ``state_dict()`` holds every attribute but the optimizer, as in torch.

The schedulers live in private modules by family: ``_base`` (LRScheduler), ``_step``
(per-epoch factors), ``_cosine``, ``_cyclic`` (per-batch cycles), ``_plateau`` and
``_chain`` (schedulers of schedulers).
"""

# EPOCH_DEPRECATION_WARNING and _LRScheduler stay importable from here, as in torch
from ._base import EPOCH_DEPRECATION_WARNING, LRScheduler, _LRScheduler  # noqa: F401
from ._chain import ChainedScheduler, SequentialLR
from ._cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from ._cyclic import CyclicLR, OneCycleLR
from ._plateau import ReduceLROnPlateau
from ._step import (
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "SequentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
    "CyclicLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
]

# Keep the public path in reprs, pickles and error messages (torch's classes say
# ``torch.optim.lr_scheduler.StepLR``), as when this was a single module.
for _name in ("_LRScheduler", *__all__):
    globals()[_name].__module__ = __name__
del _name
