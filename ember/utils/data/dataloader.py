"""DataLoader: batches from a dataset, in the main process or in worker processes.

``num_workers=0`` fetches and collates in the calling process. ``num_workers > 0`` starts
real worker processes (``multiprocessing``): the main process hands out batches of
indices round robin, at most ``prefetch_factor * num_workers`` at a time, and delivers the
results in sampler order. Each worker has its own task pipe and result channel
(:mod:`._transport`: pickle protocol 5 with array buffers through a shared-memory ring),
and the main process waits on the result channels *and* on the worker processes
themselves, so a dead worker is noticed at once instead of hanging the loop.
"""
from __future__ import annotations

import atexit
import gc
import itertools
import multiprocessing
import os
import pickle
import select
import signal
import time
import warnings
import weakref
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait as _mp_wait

import ember

from . import _transport
from ._fetch import ITERABLE, MAP, create_fetcher
from ._worker import (
    ExceptionWrapper,
    _IterableDatasetStopIteration,
    _ResumeIteration,
    _worker_loop,
    get_worker_info,
)
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _draw_seed

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

# Longest single wait (seconds) before re-checking the workers when there is no timeout.
_STATUS_CHECK_INTERVAL = 5.0
# How long shutdown waits for workers to exit on their own before terminating them (an idle
# worker exits within milliseconds of its task pipe closing; a busy one is not waited for).
_JOIN_TIMEOUT = 0.5
_END = object()
_STOP = pickle.dumps(None)


class _DatasetKind:
    Map = MAP
    Iterable = ITERABLE


class _InfiniteConstantSampler(Sampler):
    """``None`` forever: the index sampler behind an IterableDataset."""

    def __iter__(self):
        while True:
            yield None


def _is_generator(obj) -> bool:
    return isinstance(obj, ember.Generator)


def _pickle_check(obj, what: str, method: str) -> None:
    """Fail now, naming ``what``, if ``obj`` cannot be sent to a spawn/forkserver worker."""

    class _Sink:
        def write(self, b):
            return len(b)

    from multiprocessing.reduction import ForkingPickler

    try:
        # Protocol 5 with a buffer callback: large arrays are not even serialised.
        ForkingPickler(_Sink(), 5, True, lambda buf: None).dump(obj)
    except Exception as e:
        name = getattr(obj, "__qualname__", None) or f"{type(obj).__qualname__} object"
        raise TypeError(
            f"DataLoader: the {what} ({name}) cannot be pickled, but with the '{method}' "
            f"start method every worker process receives the {what} by pickling it: "
            f"{type(e).__name__}: {e}. Define it at module level (not inside a function, "
            "and not a lambda), keep unpicklable state (open files, locks, generators) out "
            "of it or create that state lazily in the worker, or use "
            "multiprocessing_context='fork' where the platform has it.") from e


class DataLoader:
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
            page-locked staging memory to copy into; the hook is where a GPU device would
            pin.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        timeout: seconds to wait for a batch from the workers (0 = forever); raises
            ``RuntimeError`` when exceeded.
        worker_init_fn: called in each worker with its id, after seeding.
        multiprocessing_context: a start method name (``"fork"``, ``"spawn"``,
            ``"forkserver"``) or a context; default: the platform's.
        generator: ``ember.Generator`` for the shuffle order and the workers' base seed.
        prefetch_factor: batches in flight per worker (default 2 with workers).
        persistent_workers: keep the workers alive between epochs.
        pin_memory_device: accepted and ignored (deprecated in torch too).
        in_order: with ``False``, deliver batches as workers finish them.

    Differences from torch:
        * Seeding: each worker seeds Python's ``random``, NumPy's global generator and
          ember's generator from the epoch's base seed and its id, every epoch (persistent
          workers included), so augmentations never repeat across workers or epochs.
        * Faults: a worker that dies raises ``RuntimeError`` naming its pid and how it
          died; workers shut down when the iterator is dropped, also after an exception.
        * With ``spawn``/``forkserver``, an unpicklable dataset, ``collate_fn`` or
          ``worker_init_fn`` raises ``TypeError`` here, naming it.
        * ``state_dict()`` / ``load_state_dict()`` resume an epoch where it stopped.
        * Mismatched sample shapes raise a :class:`CollateError` that says where.
        * Transport: a worker's batches are built in a shared-memory ring and reach the
          main process as ordinary arrays without extra copies (see ``_transport``), not
          as one shared-memory file per tensor.

    Memory (copy-on-read): forked workers share the dataset's memory with the main
    process, but reading a Python object writes to its reference count, so a dataset
    holding a big Python list ends up copied into every worker over an epoch. NumPy
    arrays and tensors do not suffer from it; for lists, wrap them in
    :class:`SerializedList`. The loader also freezes the garbage collector's view of the
    heap while forking (``gc.freeze``), so that collections in the workers do not copy
    objects they never read. ``benchmarks/bench_dataloader.py --part memory`` measures it.

    Raises:
        ValueError: invalid or mutually exclusive options, as torch.
        TypeError: a bad ``multiprocessing_context``, or (spawn) unpicklable arguments.
    """

    _initialized = False

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            elif batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is "
                                 "mutually exclusive with drop_last")

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
        if multiprocessing_context is not None:
            if self.num_workers > 0:
                if isinstance(multiprocessing_context, str):
                    valid_start_methods = multiprocessing.get_all_start_methods()
                    if multiprocessing_context not in valid_start_methods:
                        raise ValueError(
                            "multiprocessing_context option should specify a valid start "
                            f"method in {valid_start_methods!r}, but got "
                            f"multiprocessing_context={multiprocessing_context!r}")
                    multiprocessing_context = multiprocessing.get_context(
                        multiprocessing_context)
                if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                    raise TypeError(
                        "multiprocessing_context option should be a valid context object or a "
                        "string specifying the start method, but got "
                        f"multiprocessing_context={multiprocessing_context}")
            else:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading "
                    f"(num_workers > 0), but got num_workers={self.num_workers}")
        self._multiprocessing_context = multiprocessing_context

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
        workers (workers are reseeded from the same epoch seed; random augmentations
        inside workers restart from that seed rather than continuing mid-stream).

        Returns:
            A dict of plain values and uint8 tensors.
        """
        it = self._last_iter() if self._last_iter is not None else None
        if self._pending_state is not None:
            return dict(self._pending_state)
        if it is None or it._finished or it._snapshot is None:
            return {"version": 1, "in_progress": False, "num_yielded": 0,
                    "generators": {p: g.get_state() for p, g in self._owned_generators().items()},
                    "global_rng": None}
        return {"version": 1, "in_progress": True, "num_yielded": it._num_yielded,
                "generators": dict(it._snapshot["generators"]),
                "global_rng": it._snapshot["global_rng"]}

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
        if state_dict["in_progress"]:
            self._pending_state = dict(state_dict)
            return
        self._pending_state = None
        owned = self._owned_generators()
        for path, state in state_dict["generators"].items():
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
        self._pin_memory = False  # nothing to pin on the CPU (documented no-op)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._snapshot = None
        self._finished = False
        self._start_epoch(loader)

    def _start_epoch(self, loader) -> None:
        """Draw the epoch's base seed, start the index sampler, and apply a pending resume."""
        resume, loader._pending_state = loader._pending_state, None
        owned = loader._owned_generators()
        use_global = loader.generator is None
        saved_global = None
        if resume is not None:
            for path, state in resume["generators"].items():
                if path in owned:
                    owned[path].set_state(state)
            if use_global and resume["global_rng"] is not None:
                # Replay the epoch's draws from the default generator without changing
                # its state for the rest of the program.
                saved_global = ember.get_rng_state()
                ember.set_rng_state(resume["global_rng"])
        try:
            self._snapshot = {
                "generators": {p: g.get_state() for p, g in owned.items()},
                "global_rng": ember.get_rng_state() if use_global else None,
            }
            self._base_seed = _draw_seed(loader.generator)
            it = iter(self._index_sampler)
            # Draw the first index now, so the epoch's random draws all happen here.
            first = next(it, _END)
            self._sampler_iter = iter(()) if first is _END else itertools.chain((first,), it)
            skip = resume["num_yielded"] if resume is not None else 0
            self._num_yielded = 0
            self._discard = 0
            if skip and self._dataset_kind == _DatasetKind.Map:
                for _ in itertools.islice(self._sampler_iter, skip):
                    pass
                self._num_yielded = skip
            elif skip:
                self._discard = skip  # iterable: load and drop these batches
        finally:
            if saved_global is not None:
                ember.set_rng_state(saved_global)
        self._finished = False

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False) -> None:
        self._start_epoch(loader)
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
                    "the IterableDataset documentation for examples.")
        warnings.warn(msg, stacklevel=3)

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Fetch and collate in the calling process."""

    def __init__(self, loader) -> None:
        super().__init__(loader)
        self._fetcher = create_fetcher(self._dataset_kind, self._dataset, self._auto_collation,
                                       self._collate_fn, self._drop_last)

    def _reset(self, loader, first_iter=False) -> None:
        super()._reset(loader, first_iter)
        self._fetcher = create_fetcher(self._dataset_kind, self._dataset, self._auto_collation,
                                       self._collate_fn, self._drop_last)

    def _next_data(self):
        return self._fetcher.fetch(next(self._sampler_iter))


# Live multi-process iterators, shut down at interpreter exit before multiprocessing's own
# handler would terminate their (daemonic) workers less politely.
_live_iterators: weakref.WeakSet = weakref.WeakSet()
_exiting = False


@atexit.register
def _shutdown_all() -> None:
    global _exiting
    for it in list(_live_iterators):
        it._shutdown_workers()
    _exiting = True


def _describe_exit(proc) -> str:
    code = proc.exitcode
    if code is None:
        return "is not responding"
    if code < 0:
        try:
            sig = signal.Signals(-code)
            desc = signal.strsignal(sig) or sig.name
            text = f"was killed by signal: {desc} ({sig.name})"
        except ValueError:
            return f"was killed by signal {-code}"
        if sig == signal.SIGKILL:
            text += ("; SIGKILL often comes from the out-of-memory killer: check the "
                     "memory use of the dataset and batch")
        return text
    return f"exited with code {code}"


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Hand batches of indices to worker processes and deliver their results in order."""

    def __init__(self, loader) -> None:
        self._shutdown = True  # nothing to shut down until the workers exist
        self._workers, self._task_conns, self._result_conns, self._receivers = [], [], [], []
        super().__init__(loader)
        self._shutdown = False
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            raise ValueError(f"prefetch_factor must be positive with workers, got "
                             f"{self._prefetch_factor}")
        ctx = loader._mp_context()
        transport = {"mode": getattr(loader, "_transport", _transport.DEFAULT),
                     "slots": self._prefetch_factor + 1}
        fork = ctx.get_start_method() == "fork"
        inherited = []  # parent fds that children forked later must close
        _live_iterators.add(self)
        # Forked workers share the parent's heap copy-on-write; a garbage collection in a
        # worker would write to every tracked object's header and copy its page. Freezing
        # the heap first keeps the workers' collections off the parent's objects (only if
        # the program has not frozen anything itself, since unfreeze undoes all of it).
        freeze = fork and gc.isenabled() and gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
        try:
            for i in range(self._num_workers):
                task_r, task_w = ctx.Pipe(duplex=False)
                res_r, res_w = ctx.Pipe(duplex=False)
                _transport.grow_pipe(res_w.fileno())
                w = ctx.Process(
                    target=_worker_loop,
                    args=(self._dataset_kind, self._dataset, task_r, res_w,
                          self._auto_collation, self._collate_fn, self._drop_last,
                          self._base_seed, loader.worker_init_fn, i, self._num_workers,
                          transport, tuple(inherited) if fork else ()),
                    daemon=True)
                self._workers.append(w)
                self._task_conns.append(task_w)
                self._result_conns.append(res_r)
                w.start()
                task_r.close()
                res_w.close()
                self._receivers.append(_transport.Receiver(res_r.fileno()))
                inherited += [task_w.fileno(), res_r.fileno()]
        except BaseException:
            self._shutdown_workers()
            raise
        finally:
            if freeze:
                gc.unfreeze()
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False) -> None:
        if not first_iter:
            super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # New epoch for persistent workers: drop whatever the last epoch left in
            # flight, and reseed them with this epoch's base seed.
            for conn in self._task_conns:
                conn.send_bytes(pickle.dumps(_ResumeIteration(self._base_seed), -1))
            for w in range(self._num_workers):
                while True:
                    _, (idx, _data) = self._recv_from(w)
                    if isinstance(idx, _ResumeIteration):
                        break
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    # --- receiving -----------------------------------------------------------------------
    def _fail(self, message: str, cause=None):
        self._shutdown_workers()
        raise RuntimeError(message) from cause

    def _worker_died(self, w: int):
        proc = self._workers[w]
        proc.join(timeout=1.0)
        self._fail(f"DataLoader worker (pid(s) {proc.pid}) exited unexpectedly: worker {w} "
                   f"(pid {proc.pid}) {_describe_exit(proc)}.")

    def _read(self, w: int):
        try:
            return self._receivers[w].recv()
        except (EOFError, OSError) as e:
            if not self._workers[w].is_alive() or isinstance(e, EOFError):
                self._worker_died(w)
            raise

    def _poll(self, workers, timeout):
        """Workers among ``workers`` with a message ready, waiting up to ``timeout`` s.

        A worker whose process has exited while nothing is left to read raises the
        "exited unexpectedly" RuntimeError.
        """
        ready = [w for w in workers if self._receivers[w].pending()]
        if ready:
            return ready
        poller = select.poll()
        fds = {}
        for w in workers:
            fd = self._result_conns[w].fileno()
            poller.register(fd, select.POLLIN)
            fds[fd] = w
            poller.register(self._workers[w].sentinel, select.POLLIN)
        events = poller.poll(None if timeout is None else max(0, timeout) * 1000)
        ready = [fds[fd] for fd, _ in events if fd in fds]
        if ready or not events:
            return ready
        # Only sentinels fired: a worker exited. Read what it sent before it went, if any.
        for fd, _ in events:
            w = next(w for w in workers if self._workers[w].sentinel == fd)
            if _mp_wait([self._result_conns[w]], 0):
                return [w]
            self._worker_died(w)
        return []

    def _recv_from(self, w: int):
        """Block for the next message of worker ``w`` (used when resuming an epoch)."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            left = _STATUS_CHECK_INTERVAL if deadline is None else deadline - time.monotonic()
            if left <= 0:
                self._fail(f"DataLoader timed out after {self._timeout} seconds")
            if self._poll([w], min(left, _STATUS_CHECK_INTERVAL)):
                return w, self._read(w)

    def _get_data(self):
        """The next message from any busy worker: ``(worker, (task index, data))``."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        want = self._task_info.get(self._rcvd_idx)
        want = want[0] if want is not None and len(want) == 1 else None
        while True:
            busy = [w for w in range(self._num_workers)
                    if self._workers_num_tasks[w] > 0 and self._workers_status[w]]
            left = _STATUS_CHECK_INTERVAL if deadline is None else deadline - time.monotonic()
            if left <= 0:
                self._fail(f"DataLoader timed out after {self._timeout} seconds")
            ready = self._poll(busy, min(left, _STATUS_CHECK_INTERVAL))
            if ready:
                w = want if want in ready else ready[0]
                return w, self._read(w)

    def _next_data(self):
        while True:
            # Skip tasks that went to a worker whose iterable copy has run out.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process_data(info[1], info[0])
            w, (idx, data) = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                self._workers_num_tasks[w] -= 1
                self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    del self._task_info[idx]
                    return self._process_data(data, w)
                self._task_info[idx] = (w, data)
            else:
                del self._task_info[idx]
                self._rcvd_idx += 1
                return self._process_data(data, w)

    def __next__(self):
        data = super().__next__()
        if type(data) is ExceptionWrapper:
            # Raise from a frame that no longer holds the iterator, so that the traceback
            # does not keep the workers alive after the loop is gone.
            del self
            data.reraise()
        return data

    # --- sending ---------------------------------------------------------------------------
    def _try_put_index(self) -> None:
        max_tasks = self._prefetch_factor * self._num_workers
        assert self._tasks_outstanding < max_tasks
        active = sum(self._workers_status)
        for _ in range(self._num_workers):  # the next active worker, if any
            w = next(self._worker_queue_idx_cycle)
            if self._workers_status[w] and (
                    self._in_order or self._workers_num_tasks[w] < max_tasks // active):
                break
        else:
            return
        try:
            index = self._next_index()
        except StopIteration:
            return
        self._task_conns[w].send_bytes(pickle.dumps((self._send_idx, index), -1))
        self._task_info[self._send_idx] = (w,)
        self._workers_num_tasks[w] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data, w):
        self._workers_num_tasks[w] -= 1
        self._try_put_index()
        return data

    def _mark_worker_as_unavailable(self, w: int) -> None:
        self._workers_status[w] = False
        if not self._persistent_workers:
            try:
                self._task_conns[w].send_bytes(_STOP)
            except OSError:
                pass

    # --- shutting down ---------------------------------------------------------------------
    def _shutdown_workers(self) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        _live_iterators.discard(self)
        for conn in self._task_conns:
            try:
                conn.send_bytes(_STOP)
            except (OSError, ValueError):
                pass
        for conn in self._task_conns:
            conn.close()
        for rcv in self._receivers:
            rcv.close()
        for conn in self._result_conns:
            conn.close()  # a worker stuck writing a big batch gets EPIPE and exits
        deadline = time.monotonic() + _JOIN_TIMEOUT
        for w in self._workers:
            if w._popen is not None:
                w.join(timeout=max(0.0, deadline - time.monotonic()))
        for w in self._workers:
            if w._popen is not None and w.is_alive():
                w.terminate()  # the worker turns SIGTERM into SystemExit and cleans up
                w.join(timeout=1.0)
                if w.is_alive():
                    w.kill()
                    w.join()
        _transport.remove_orphans([w.pid for w in self._workers if w.pid is not None])

    def __del__(self) -> None:
        if not _exiting:
            self._shutdown_workers()

