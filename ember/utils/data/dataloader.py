"""DataLoader: batches from a dataset, in the main process or in worker processes.

``num_workers=0`` fetches and collates in the calling process. ``num_workers > 0`` starts
real worker processes (``multiprocessing``): the main process hands out batches of
indices round robin, at most ``prefetch_factor * num_workers`` at a time, and delivers the
results in sampler order. Each worker has its own task pipe and result channel
(:mod:`._transport`: pickle protocol 5 with array buffers through a shared-memory ring),
and the main process waits on the result channels *and* on the worker processes
themselves, so a dead worker is noticed at once instead of hanging the loop.

The iterators live in ``_iter`` (their base and the single-process one) and ``_mp_iter``
(workers); the constructor's option checks in ``_validate``.
"""
from __future__ import annotations

import multiprocessing
import os
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import ember

from ._fetch import _DatasetKind
from ._iter import _set_generator_states, _SingleProcessDataLoaderIter
from ._mp_iter import _MultiProcessingDataLoaderIter
from ._validate import (
    _check_sampling_options,
    _check_worker_options,
    _pickle_check,
    _resolve_mp_context,
)
from ._worker import get_worker_info
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


_T_co = TypeVar("_T_co", covariant=True)


class _InfiniteConstantSampler(Sampler):
    """``None`` forever: the index sampler behind an IterableDataset."""

    def __iter__(self):
        while True:
            yield None


def _is_generator(obj) -> bool:
    return isinstance(obj, ember.Generator)


class DataLoader(Generic[_T_co]):
    """Iterate over a dataset in batches, optionally loading in worker processes.

    The same constructor as ``torch.utils.data.DataLoader``, with torch's defaults and
    validation errors.

    Args:
        dataset: a map-style :class:`Dataset` (``__getitem__`` + ``__len__``) or an
            :class:`IterableDataset`.
        batch_size: samples per batch (default 1); ``None`` turns batching off: each
            sample goes through ``collate_fn`` (default :func:`default_convert`) alone.
        shuffle: reshuffle every epoch (map-style datasets only).
        sampler: the order of indices (instead of ``shuffle``).
        batch_sampler: yields whole lists of indices; excludes ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: worker processes; 0 loads in the main process.
        collate_fn: merges a list of samples into a batch (default
            :func:`default_collate`; :class:`PadCollate` pads variable lengths).
        pin_memory: accepted for compatibility and does nothing: on the CPU there is no
            page-locked staging memory to copy into; ``iter()`` warns as torch does on a
            machine without an accelerator (and about ``pin_memory_device``, deprecated).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        timeout: seconds to wait for a batch from the workers (0 = forever); raises
            ``RuntimeError`` when exceeded. Non-zero with ``num_workers=0`` makes ``iter()``
            raise torch's ``AssertionError``.
        worker_init_fn: called in each worker with its id, after seeding.
        multiprocessing_context: a start method name (``"fork"``, ``"spawn"``,
            ``"forkserver"``) or a context; default: the platform's.
        generator: ``ember.Generator`` for the shuffle order and the workers' base seed.
        prefetch_factor: batches in flight per worker (default 2 with workers); 0 passes
            the constructor but ``iter()`` raises ``AssertionError``, as in torch.
        persistent_workers: keep the workers alive between epochs (their random streams
            carry on, as in torch).
        pin_memory_device: accepted and ignored (deprecated in torch too).
        in_order: with ``False``, deliver batches as workers finish them.

    Seeding is torch's: a new iterator draws one base seed (from ``generator``, else the
    default generator) before the sampler's draws; a worker seeds Python's ``random`` and
    ember's generator with base seed + id (NumPy's global generator with torch's hash of
    the two) when it starts, and persistent workers keep their random streams running
    across epochs (their later epochs draw no base seed), so shuffle orders, the
    generators' states and random draws inside workers match torch's.

    Differences from torch:
        * Faults: a worker that dies raises ``RuntimeError`` naming its pid and how it
          died; workers shut down when the iterator is dropped, also after an exception.
        * With ``spawn``/``forkserver``, an unpicklable dataset, ``collate_fn`` or
          ``worker_init_fn`` raises ``TypeError`` here, naming it.
        * ``state_dict()`` / ``load_state_dict()`` resume an epoch where it stopped
          (with persistent workers, including the workers' random streams).
        * Mismatched sample shapes raise a :class:`CollateError` that says where.
        * Transport: a worker's batches are built in a shared-memory ring and reach the
          main process as ordinary arrays without extra copies (see ``_transport``), not
          as one shared-memory file per tensor.

    Memory (copy-on-read): forked workers share the dataset's memory with the main
    process, but reading a Python object writes to its reference count, so a dataset
    holding a big Python list ends up copied into every worker over an epoch. NumPy
    arrays and tensors do not suffer from it. So, with ``fork``, the loader hands its
    workers a shallow copy of the dataset in which every ``list`` attribute of 10,000 items
    or more is a :class:`SerializedList` (one byte buffer: reading copies nothing shared);
    your dataset object itself is untouched. Set ``serialize_large_lists = False`` on the
    loader (or the class) if a worker must mutate such a list. The loader also freezes the
    garbage collector's view of the heap while forking (``gc.freeze``), so that
    collections in the workers do not copy objects they never read.
    ``benchmarks/bench_dataloader.py --part memory`` measures it.

    Raises:
        ValueError: invalid or mutually exclusive options, as torch.
        TypeError: a bad ``multiprocessing_context``, or (spawn) unpicklable arguments.
    """

    _initialized = False
    #: with ``fork``, give workers SerializedList copies of big list attributes (see above)
    serialize_large_lists = True

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        prefetch_factor = _check_worker_options(num_workers, timeout, prefetch_factor,
                                                persistent_workers)

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        iterable = isinstance(dataset, IterableDataset)
        _check_sampling_options(iterable, shuffle, sampler, batch_sampler, batch_size, drop_last)
        if iterable:
            self._dataset_kind = _DatasetKind.Iterable
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map
        if batch_sampler is not None:
            batch_size = None
            drop_last = False

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)

        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator

        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers

        self._initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self._last_iter = None
        self._pending_state = None
        self._check_spawn_picklable()
        self.check_worker_number_rationality()

    # --- options -------------------------------------------------------------------------
    @property
    def multiprocessing_context(self):
        """The multiprocessing context workers start in (None: the platform default)."""
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context) -> None:
        self._multiprocessing_context = _resolve_mp_context(multiprocessing_context,
                                                            self.num_workers)

    def _mp_context(self):
        ctx = self._multiprocessing_context
        return ctx if ctx is not None else multiprocessing.get_context()

    def __setattr__(self, attr, val) -> None:
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                          "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def _check_spawn_picklable(self) -> None:
        if self.num_workers == 0:
            return
        method = self._mp_context().get_start_method()
        if method not in ("spawn", "forkserver"):
            return
        _pickle_check(self.dataset, "dataset", method)
        if self.collate_fn not in (default_collate, default_convert):
            _pickle_check(self.collate_fn, "collate_fn", method)
        if self.worker_init_fn is not None:
            _pickle_check(self.worker_init_fn, "worker_init_fn", method)

    def check_worker_number_rationality(self) -> None:
        """Warn when asking for more workers than this process may use CPUs."""
        if not self.num_workers:
            return
        cpuset_checked = hasattr(os, "sched_getaffinity")
        suggest = len(os.sched_getaffinity(0)) if cpuset_checked else os.cpu_count()
        if suggest is None or self.num_workers > suggest:
            detail = (f"Our suggested max number of worker in current system is {suggest}"
                      f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}, "
                      "which is smaller than what this DataLoader is going to create."
                      if suggest is not None else
                      "DataLoader is not able to compute a suggested max number of worker in "
                      "current system.")
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. "
                f"{detail} Please be aware that excessive worker creation might get DataLoader "
                "running slow or even freeze, lower the worker number to avoid potential "
                "slowness/freeze if necessary.", stacklevel=3)

    # --- iteration -----------------------------------------------------------------------
    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is not None and not self._iterator._accepts(self._pending_state):
                self._iterator._shutdown_workers()  # a resume that needs fresh workers
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            it = self._iterator
        else:
            it = self._get_iterator()
        self._last_iter = weakref.ref(it)
        return it

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = -(-length // self.batch_size)
            return length
        return len(self._index_sampler)

    # --- resuming --------------------------------------------------------------------------
    def _owned_generators(self) -> dict:
        """Generators whose streams decide the batches, by where they hang off the loader."""
        found = {}
        for path, obj in (("generator", self.generator),
                          ("sampler.generator", getattr(self.sampler, "generator", None)),
                          ("batch_sampler.sampler.generator",
                           getattr(getattr(self.batch_sampler, "sampler", None), "generator",
                                   None))):
            if _is_generator(obj) and all(obj is not g for g in found.values()):
                found[path] = obj
        return found

    def state_dict(self) -> dict:
        """Where the current epoch stands, so that a new run can continue it exactly.

        Mid-epoch, the state holds the random state the epoch started from and the
        number of batches already delivered; :meth:`load_state_dict` on a loader over
        the same dataset then makes its next ``iter()`` rebuild that epoch's order and
        skip those batches (map-style datasets skip indices without loading them;
        iterable datasets load and discard them). Between epochs it holds the loader's
        own generators, so the following epochs match too. Works with and without
        workers. Workers that are not persistent restart from the epoch's seed, so their
        random augmentations in the rest of that epoch do not continue mid-stream.
        Persistent workers' streams carry on into later epochs, so for them the state
        also holds the base seed and the workers' random states (Python, NumPy, ember)
        at the epoch's start, and the workers load and discard the skipped batches
        (map-style too): the rest of the epoch and every later one then match an
        uninterrupted run exactly, worker-drawn numbers included.

        Returns:
            A dict of plain values and uint8 tensors.
        """
        it = self._last_iter() if self._last_iter is not None else None
        if self._pending_state is not None:
            return dict(self._pending_state)
        if it is None or it._finished or it._snapshot is None:
            state = {"version": 1, "in_progress": False, "num_yielded": 0,
                     "generators": {p: g.get_state()
                                    for p, g in self._owned_generators().items()},
                     "global_rng": None, "base_seed": None, "workers_rng": None}
            if it is not None and it is self._iterator and not it._shutdown:
                state.update(it._epoch_end_state())  # persistent workers carry on
            return state
        return {"version": 1, "in_progress": True, "num_yielded": it._num_yielded,
                "generators": dict(it._snapshot["generators"]),
                "global_rng": it._snapshot["global_rng"],
                "base_seed": it._snapshot["base_seed"],
                "workers_rng": it._snapshot["workers_rng"]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Continue from a :meth:`state_dict`: the next ``iter()`` resumes that epoch.

        Raises:
            ValueError: ``state_dict`` is not one that :meth:`state_dict` returned.
        """
        missing = {"version", "in_progress", "num_yielded", "generators",
                   "global_rng"} - set(state_dict)
        if missing:
            raise ValueError(f"DataLoader.load_state_dict: not a DataLoader state (missing "
                             f"{sorted(missing)})")
        if state_dict["in_progress"] or state_dict.get("base_seed") is not None:
            self._pending_state = dict(state_dict)
            return
        self._pending_state = None
        _set_generator_states(self._owned_generators(), state_dict["generators"])
