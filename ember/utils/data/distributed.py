"""DistributedSampler: each of ``num_replicas`` processes reads its own share of a dataset.

torch's ``torch.utils.data.distributed.DistributedSampler``. ember has no process group
(``ember.distributed.is_available()`` is False), so pass ``num_replicas`` and ``rank``
yourself; left out, they are asked of ``ember.distributed``, which raises torch's
"Default process group has not been initialized" ``ValueError``, as torch does before
``init_process_group``.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TypeVar

import ember
import ember.distributed as dist

from .sampler import Sampler

__all__ = ["DistributedSampler"]

_T_co = TypeVar("_T_co", covariant=True)


class DistributedSampler(Sampler[_T_co]):
    """The indices of one replica: every ``num_replicas``-th index, starting at ``rank``.

    Args:
        dataset: a map-style dataset (anything with ``__len__``).
        num_replicas: how many processes share the dataset (default: the world size).
        rank: this process's number, ``0 .. num_replicas - 1`` (default: the rank).
        shuffle: permute the indices each epoch, the same way in every replica (a
            generator seeded with ``seed + epoch``); call :meth:`set_epoch` before each
            epoch, or every epoch repeats the first one's order.
        seed: the shuffle's seed; the same in every replica.
        drop_last: drop the tail so that every replica gets ``len // num_replicas``
            indices; without it, the first indices are repeated to pad the total up to a
            multiple of ``num_replicas``.

    The permutation is ``randperm`` on a generator seeded as torch seeds it, so each replica
    gets torch's indices, in torch's order, for the same seed and epoch.

    Raises:
        ValueError: ``rank`` outside ``[0, num_replicas - 1]``, or ``num_replicas``/``rank``
            left out (no process group exists).
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = dist.get_world_size()
        if rank is None:
            rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[_T_co]:
        n = len(self.dataset)
        if self.shuffle:
            g = ember.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = ember.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match "
                                 f"total_size ({self.total_size})")
        indices = indices[self.rank:self.total_size:self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(indices)}) does not "
                                 f"match num_samples ({self.num_samples})")
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which (with ``seed``) decides the shuffle: call it every epoch."""
        self.epoch = epoch
