"""What runs inside a DataLoader worker process: seeding, the task loop, error wrapping.

The main process talks to worker ``k`` through two pipes of its own: tasks go down a
``multiprocessing`` Connection (small pickles: a task number and a list of indices), and
results come back through :mod:`._transport` (pickle protocol 5, array buffers out of band).
"""
from __future__ import annotations

import os
import pickle
import random
import signal
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from . import _transport

# How often (seconds) a worker waiting for a task checks that its parent is still alive.
_PARENT_CHECK_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker process.

    Attributes:
        id: this worker's number, ``0 .. num_workers - 1``.
        num_workers: how many workers the loader started.
        seed: the seed this worker gave Python's ``random`` and ember's generator when it
            started (the iterator's base seed plus ``id``).
        dataset: this process's copy of the dataset.
        rng: torch's optional RNG state container; always None here.
        worker_method: ``"multiprocessing"`` (ember has no thread workers).
    """

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str | None = "multiprocessing"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Information about the current DataLoader worker, or ``None`` in the main process.

    Use it in an ``IterableDataset.__iter__`` or a ``worker_init_fn`` to give each worker
    its own shard of the data, or to seed other libraries from ``info.seed``.

    Returns:
        A :class:`WorkerInfo` (``id``, ``num_workers``, ``seed``, ``dataset``) inside a
        worker process; ``None`` in the main process.
    """
    return _worker_info


class ExceptionWrapper:
    """An exception and its traceback text, carried from a worker to the main process."""

    def __init__(self, exc_info=None, where: str = "in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        # Keep only text: the traceback object itself holds frames and cannot be pickled.
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the wrapped exception type with the worker's traceback in its message."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            # KeyError shows repr() of its argument, which would print the traceback on
            # one line with escaped newlines; a str subclass whose repr is itself avoids that.
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            # An exception class that needs other constructor arguments.
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    """A str whose repr is itself (see ExceptionWrapper.reraise)."""

    __slots__ = ()

    def __repr__(self):
        return self


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's IterableDataset copy is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Start a new epoch in a persistent worker (its random streams carry on, as in torch).

    ``rng_state`` (a :func:`_rng_state` value) first restores the streams, to resume a
    saved epoch. The worker answers with its streams' state at the start of the epoch.
    """

    rng_state: tuple | None = None


def _numpy_seed(base_seed: int, worker_id: int) -> np.ndarray:
    """128 bits for NumPy's legacy global generator, mixed from the base seed and worker id.

    A hash (SeedSequence), not ``base_seed + worker_id``, so neighbouring workers and
    neighbouring epochs get unrelated NumPy streams.
    """
    mask = 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, (base_seed >> 32) & mask]
    return np.random.SeedSequence(entropy).generate_state(4)


def _seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed Python's ``random``, NumPy's global generator and ember's default generator."""
    import ember

    seed = base_seed + worker_id
    random.seed(seed)
    np.random.seed(_numpy_seed(base_seed, worker_id))
    ember.manual_seed(seed)
    return seed


def _rng_state() -> tuple:
    """This process's Python ``random``, NumPy global and ember default generator states,
    as plain values and a uint8 tensor (so that a DataLoader ``state_dict`` can hold them)."""
    import ember

    name, key, pos, has_gauss, cached = np.random.get_state()
    return (random.getstate(), (name, key.tolist(), pos, has_gauss, cached),
            ember.get_rng_state())


def _set_rng_state(state: tuple) -> None:
    """Restore the states :func:`_rng_state` returned."""
    import ember

    py, (name, key, pos, has_gauss, cached), em = state
    random.setstate(py)
    np.random.set_state((name, np.asarray(key, dtype=np.uint32), pos, has_gauss, cached))
    ember.set_rng_state(em)


def _set_worker_info(worker_id, num_workers, seed, dataset):
    global _worker_info
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(0)


def _worker_loop(kind, dataset, task_conn, result_conn, auto_collation, collate_fn, drop_last,
                 base_seed, init_fn, worker_id, num_workers, transport, fds_to_close):
    """Body of worker process ``worker_id``: fetch and collate each task until told to stop."""
    from ._fetch import ITERABLE, create_fetcher

    for fd in fds_to_close:  # other workers' pipe ends inherited through fork
        try:
            os.close(fd)
        except OSError:
            pass
    # The main process terminates a worker that does not stop in time: exit through the
    # finally blocks, so that the shared-memory ring is unlinked.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parent = os.getppid()
    sender = _transport.Sender(result_conn.fileno(), **transport)
    _transport.active = sender  # default_collate builds batches in its shared-memory ring
    try:
        seed = _seed_worker(base_seed, worker_id)
        _set_worker_info(worker_id, num_workers, seed, dataset)
        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        iteration_end = False
        while True:
            if not task_conn.poll(_PARENT_CHECK_INTERVAL):
                if os.getppid() != parent:  # the main process died: nobody will read results
                    break
                continue
            try:
                task = pickle.loads(task_conn.recv_bytes())
            except EOFError:  # the main process closed its end (or died)
                break
            if task is None:
                break
            if isinstance(task, _ResumeIteration):
                if task.rng_state is not None:
                    _set_rng_state(task.rng_state)
                iteration_end = False
                if init_exception is None:
                    try:
                        fetcher = create_fetcher(kind, dataset, auto_collation, collate_fn,
                                                 drop_last)
                    except Exception:
                        init_exception = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
                sender.send((_ResumeIteration(), _rng_state()))
                continue
            if iteration_end:
                continue  # this worker's IterableDataset copy is done; the main process knows
            idx, index = task
            if init_exception is not None:
                data = init_exception  # every task of this worker reports it
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if kind != ITERABLE:
                        data = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
                    else:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                except Exception:
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            try:
                sender.send((idx, data))
            except (BrokenPipeError, ConnectionResetError):
                break  # the main process has gone away
            except Exception:
                # The batch could not be pickled: report that instead.
                sender.send((idx, ExceptionWrapper(
                    where=f"in DataLoader worker process {worker_id}")))
            del data, task, index
    except KeyboardInterrupt:
        pass  # the main process handles Ctrl-C and shuts the workers down
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sender.close()
