"""Turning one index (or one list of indices) into a collated batch; shared by the main
process (``num_workers=0``) and the workers."""
from __future__ import annotations

from .collate import CollateError

MAP, ITERABLE = 0, 1  # dataset kinds


class _DatasetKind:
    Map = MAP
    Iterable = ITERABLE


class _MapDatasetFetcher:
    """``dataset[i]`` for each index (or ``dataset.__getitems__(indices)``), then collate."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if callable(getitems) else None

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.getitems is not None:
            data = self.getitems(index)
        else:
            dataset = self.dataset
            data = [dataset[i] for i in index]
        try:
            return self.collate_fn(data)
        except CollateError as e:
            try:
                n = len(self.dataset)
            except TypeError:
                n = None
            e.set_dataset_indices(index, n)
            raise


class _IterableDatasetFetcher:
    """``next(iter(dataset))`` ``batch_size`` times (or once), then collate."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
    """The fetcher for a map-style (``MAP``) or iterable (``ITERABLE``) dataset."""
    cls = _MapDatasetFetcher if kind == MAP else _IterableDatasetFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)
