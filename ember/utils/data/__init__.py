"""Datasets, samplers and the DataLoader: torch's ``torch.utils.data`` for ember.

``from ember.utils.data import DataLoader, Dataset`` works as torch's import does. This
package sits above the tensor core and uses only ``import ember`` and NumPy (it never
imports ``ember.autograd``, ``ember.ops``, ``ember._tensor`` or ``ember.nn``).
"""
from ._worker import WorkerInfo, get_worker_info
from .collate import (
    CollateError,
    PadCollate,
    PaddedBatch,
    collate,
    default_collate,
    default_collate_fn_map,
    default_convert,
)
from .dataloader import DataLoader
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    SerializedList,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "CollateError",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "PadCollate",
    "PaddedBatch",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SerializedList",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "collate",
    "default_collate",
    "default_collate_fn_map",
    "default_convert",
    "get_worker_info",
    "random_split",
]
