"""Datasets: map-style (``__len__`` + ``__getitem__``) and iterable, and ways to combine them."""
from __future__ import annotations

import bisect
import copy
import itertools
import math
import pickle
import warnings
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

import numpy as np

import ember

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "SerializedList",
    "StackDataset",
    "Subset",
    "TensorDataset",
    "random_split",
]

_T_co = TypeVar("_T_co", covariant=True)
_T_stack = TypeVar("_T_stack", tuple, dict)


class Dataset(Generic[_T_co]):
    """A map from keys (usually ``0 .. len - 1``) to samples.

    Subclasses implement ``__getitem__`` (one sample) and usually ``__len__`` (which
    the default samplers need); they may add ``__getitems__(indices)`` returning a list
    of samples, which the DataLoader then calls once per batch instead of ``__getitem__``
    per index. ``a + b`` is ``ConcatDataset([a, b])``.
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[_T_co], Iterable[_T_co]):
    """A stream of samples: subclasses implement ``__iter__``.

    ``__iter__`` is abstract (the class derives from ``collections.abc.Iterable``, as
    torch's does), so a subclass without it cannot be instantiated (``TypeError``).

    With ``num_workers > 0`` every worker iterates its own copy of the dataset, so
    unless ``__iter__`` (or a ``worker_init_fn``) splits the work using
    :func:`get_worker_info`, each sample comes once per worker. ``a + b`` is
    ``ChainDataset([a, b])``.
    """

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple]):
    """Samples are rows: ``dataset[i] == tuple(t[i] for t in tensors)``.

    Args:
        *tensors: tensors with the same size of the first dimension.

    Raises:
        AssertionError: the first dimensions differ (torch's exception type).
    """

    def __init__(self, *tensors) -> None:
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class StackDataset(Dataset[_T_stack]):
    """Several datasets of the same length side by side: samples are tuples or dicts.

    ``StackDataset(a, b)[i] == (a[i], b[i])``; ``StackDataset(x=a, y=b)[i] ==
    {"x": a[i], "y": b[i]}``.

    Raises:
        ValueError: no datasets, both positional and keyword datasets, or unequal lengths.
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args:
            if kwargs:
                raise ValueError("Supported either ``tuple``- (via ``args``) or"
                                 "``dict``- (via ``kwargs``) like input/output, but both "
                                 "types are given.")
            self._length = len(args[0])
            if any(self._length != len(dataset) for dataset in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets = args
        elif kwargs:
            tmp = list(kwargs.values())
            self._length = len(tmp[0])
            if any(self._length != len(dataset) for dataset in tmp):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: dataset[index] for k, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list):
        # Each part is read with its own __getitems__ where it has one (as torch does).
        named = self.datasets.items() if isinstance(self.datasets, dict) else \
            enumerate(self.datasets)
        columns = {k: _getitems(dataset, indices) for k, dataset in named}
        if isinstance(self.datasets, dict):
            return [{k: column[j] for k, column in columns.items()} for j in range(len(indices))]
        return [tuple(column[j] for column in columns.values()) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length


def _getitems(dataset, indices: list) -> list:
    """``dataset.__getitems__(indices)`` if it has one (checking its length), else each item."""
    if callable(getattr(dataset, "__getitems__", None)):
        items = dataset.__getitems__(indices)
        if len(items) != len(indices):
            raise ValueError("Nested dataset's output size mismatch."
                             f" Expected {len(indices)}, got {len(items)}")
        return items
    return [dataset[i] for i in indices]


class ConcatDataset(Dataset[_T_co]):
    """Map-style datasets one after another.

    Args:
        datasets: the datasets to concatenate (not iterable ones).

    Raises:
        AssertionError: ``datasets`` is empty or holds an IterableDataset (torch's type).
    """

    @staticmethod
    def cumsum(sequence):
        """Running totals of the datasets' lengths."""
        r, s = [], 0
        for e in sequence:
            s += len(e)
            r.append(s)
        return r

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]

    @property
    def cummulative_sizes(self):
        """Deprecated (FutureWarning, as torch): the old spelling of ``cumulative_sizes``."""
        warnings.warn("`cummulative_sizes` attribute is renamed to `cumulative_sizes`",
                      FutureWarning, stacklevel=2)
        return self.cumulative_sizes


class ChainDataset(IterableDataset):
    """Iterable datasets one after another, chained lazily.

    Args:
        datasets: iterable datasets.
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset[_T_co]):
    """The samples of ``dataset`` at ``indices``, renumbered ``0 .. len(indices) - 1``.

    Args:
        dataset: the whole dataset.
        indices: which of its indices to keep, in this order.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        if type(self).__getitem__ is not Subset.__getitem__:
            return [self[idx] for idx in indices]  # a subclass changed __getitem__
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[idx] for idx in indices])
        return [self.dataset[self.indices[idx]] for idx in indices]

    def __len__(self) -> int:
        return len(self.indices)


class SerializedList(Sequence):
    """A read-only list stored as one NumPy byte buffer, for datasets read by workers.

    The copy-on-read problem: a dataset that holds a big Python list (of ints, strings,
    tuples, dicts...) is shared with forked DataLoader workers page by page, but merely
    *reading* an item writes to its reference count, so each worker ends up with its own
    copy of every page it touched: over an epoch, a full copy of the data per worker.
    A ``SerializedList`` keeps all items pickled back to back in a single array plus an
    array of offsets (two Python objects in all), so reading an item copies nothing
    shared. ``benchmarks/bench_dataloader.py --memory`` measures the difference.

    Args:
        items: any iterable of picklable items.

    Each ``self[i]`` unpickles a fresh copy of item ``i``: changing it does not change
    the list. Slices return plain lists.
    """

    def __init__(self, items: Iterable):
        blobs = [pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL) for x in items]
        self._ends = np.cumsum(np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)))
        self._buf = np.frombuffer(b"".join(blobs), dtype=np.uint8)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self._ends)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError(f"SerializedList index out of range (got {index}, length {n})")
        start = int(self._ends[i - 1]) if i else 0
        return pickle.loads(self._buf[start:int(self._ends[i])])

    def __repr__(self) -> str:
        return f"SerializedList(<{len(self)} items, {self._buf.nbytes} bytes>)"


def share_without_copy_on_read(dataset, min_items: int = 10_000):
    """``dataset`` as forked workers should see it: large list attributes as SerializedLists.

    Returns a shallow copy whose ``list`` attributes of at least ``min_items`` items are
    replaced by ``SerializedList``s (the user's dataset object is not changed), or the
    dataset itself when there is nothing to replace. The DataLoader hands this copy to
    forked workers so that reading items does not copy the parent's pages into each worker.
    Lists whose items cannot be pickled are left as they are.
    """
    attrs = getattr(dataset, "__dict__", None)
    if not attrs:
        return dataset
    big = {k: v for k, v in attrs.items() if type(v) is list and len(v) >= min_items}
    if not big:
        return dataset
    clone = copy.copy(dataset)
    for name, items in big.items():
        try:
            setattr(clone, name, SerializedList(items))
        except Exception:  # unpicklable items: keep the list (and its copy-on-read cost)
            continue
    return clone


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator=None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping subsets.

    Args:
        dataset: the dataset to split.
        lengths: the subsets' lengths, or fractions summing to 1: each subset then gets
            ``floor(frac * len(dataset))`` items and the remainder is dealt out one by
            one, round robin from the first.
        generator: ``ember.Generator`` for the permutation (default generator if None).

    Returns:
        One :class:`Subset` per entry of ``lengths``.

    Raises:
        ValueError: a fraction outside [0, 1], or lengths that do not add up.
    """
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        subset_lengths: list[int] = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            subset_lengths.append(math.floor(len(dataset) * frac))
        remainder = len(dataset) - sum(subset_lengths)
        for i in range(remainder):
            subset_lengths[i % len(subset_lengths)] += 1
        lengths = subset_lengths
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              f"This might result in an empty dataset.", stacklevel=2)
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = ember.randperm(sum(lengths), generator=generator).tolist()
    return [Subset(dataset, indices[offset - length:offset])
            for offset, length in zip(itertools.accumulate(lengths), lengths)]
