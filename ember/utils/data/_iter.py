"""The DataLoader iterators' shared base (epoch start, resuming, the length warning) and
the single-process iterator (``num_workers=0``)."""
from __future__ import annotations

import itertools
import warnings
from typing import TYPE_CHECKING

import ember

from ._fetch import _DatasetKind, create_fetcher
from .sampler import _draw_seed

if TYPE_CHECKING:
    from .dataloader import DataLoader

_END = object()


def _set_generator_states(owned: dict, states: dict) -> None:
    """Give each generator the loader owns its saved state (paths it lacks are skipped)."""
    for path, state in states.items():
        if path in owned:
            owned[path].set_state(state)


class _BaseDataLoaderIter:
    _shutdown = False

    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be "
                          "used as the device,ignore pin_memory_device="
                          f"'{loader.pin_memory_device}'.", stacklevel=5)
        if loader.pin_memory:
            # torch says the same on a machine without an accelerator, and so pins nothing
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=5)
        self._pin_memory = False  # nothing to pin on the CPU (documented no-op)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._snapshot = None
        self._finished = False
        self._start_epoch(loader, new_iterator=True)

    def _start_epoch(self, loader, new_iterator: bool) -> None:
        """Start the index sampler, and apply a pending resume.

        As in torch, only a new iterator draws the workers' base seed (before the
        sampler's own draws); a persistent iterator's later epochs keep it.
        """
        resume, loader._pending_state = loader._pending_state, None
        owned = loader._owned_generators()
        use_global = loader.generator is None
        saved_global = None
        if resume is not None:
            _set_generator_states(owned, resume["generators"])
            if use_global and resume["global_rng"] is not None:
                # Replay the epoch's draws from the default generator without changing
                # its state for the rest of the program.
                saved_global = ember.get_rng_state()
                ember.set_rng_state(resume["global_rng"])
        try:
            self._snapshot = {
                "generators": {p: g.get_state() for p, g in owned.items()},
                "global_rng": ember.get_rng_state() if use_global else None,
                # None: this epoch drew the base seed; else the seed it kept, and the
                # (persistent) workers' random states at its start
                "base_seed": None, "workers_rng": None,
            }
            kept = resume.get("base_seed") if resume is not None else None
            self._restore_rng = resume.get("workers_rng") if resume is not None else None
            # As torch: iter() on the index sampler comes before the base seed's draw (a
            # sampler that shuffles in __iter__ draws first), and the indices themselves
            # are drawn lazily, when batches are asked for (a generator-function sampler
            # draws at the first next(), so an unused iterator draws nothing).
            it = iter(self._index_sampler)
            if kept is None and new_iterator:
                self._base_seed = _draw_seed(loader.generator)
            else:  # a persistent iterator's later epoch, or a saved epoch that kept its seed
                if kept is not None:
                    self._base_seed = kept
                self._snapshot["base_seed"] = self._base_seed
            self._resumed = resume is not None
            if resume is not None:
                # A resumed epoch replays its draws now, from the saved random states.
                first = next(it, _END)
                it = iter(()) if first is _END else itertools.chain((first,), it)
            self._sampler_iter = it
            skip = resume["num_yielded"] if resume is not None else 0
            self._num_yielded = 0
            self._discard = 0
            # Persistent workers' random streams run on into later epochs, so they load
            # the skipped batches too: the streams then continue exactly.
            replay = self._persistent_workers and self._num_workers > 0
            if skip and self._dataset_kind == _DatasetKind.Map and not replay:
                for _ in itertools.islice(self._sampler_iter, skip):
                    pass
                self._num_yielded = skip
            elif skip:
                self._discard = skip  # load and drop these batches
        finally:
            if saved_global is not None:
                ember.set_rng_state(saved_global)
        self._finished = False

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False) -> None:
        self._start_epoch(loader, new_iterator=False)
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def _skip_discarded(self) -> None:
        while self._discard:
            self._discard -= 1
            self._next_data()
            self._num_yielded += 1

    def __next__(self):
        try:
            if self._discard:
                self._skip_discarded()
            data = self._next_data()
        except StopIteration:
            self._finished = True
            raise
        self._num_yielded += 1
        if self._IterableDataset_len_called is not None and \
                self._dataset_kind == _DatasetKind.Iterable and \
                self._num_yielded > self._IterableDataset_len_called:
            self._warn_len()
        return data

    def _warn_len(self) -> None:
        msg = (f"Length of IterableDataset {self._dataset} was reported to be "
               f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
               f"{self._num_yielded} samples have been fetched. ")
        if self._num_workers > 0:
            msg += ("For multiprocessing data-loading, this could be caused by not properly "
                    "configuring the IterableDataset replica at each worker. Please see "
                    "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset"
                    " for examples.")
        warnings.warn(msg, stacklevel=3)

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Fetch and collate in the calling process."""

    def __init__(self, loader) -> None:
        super().__init__(loader)
        if self._timeout != 0:  # torch's check: timeout only means something with workers
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._fetcher = create_fetcher(self._dataset_kind, self._dataset, self._auto_collation,
                                       self._collate_fn, self._drop_last)

    def _reset(self, loader, first_iter=False) -> None:
        super()._reset(loader, first_iter)
        self._fetcher = create_fetcher(self._dataset_kind, self._dataset, self._auto_collation,
                                       self._collate_fn, self._drop_last)

    def _next_data(self):
        return self._fetcher.fetch(next(self._sampler_iter))
