"""The multi-process DataLoader iterator: worker start-up, task hand-out, in-order
delivery, failure detection and shutdown."""
from __future__ import annotations

import atexit
import gc
import itertools
import pickle
import select
import signal
import time
import weakref
from multiprocessing.connection import wait as _mp_wait

from . import _transport
from ._iter import _BaseDataLoaderIter
from ._worker import (
    ExceptionWrapper,
    _IterableDatasetStopIteration,
    _ResumeIteration,
    _worker_loop,
)
from .dataset import share_without_copy_on_read

# Longest single wait (seconds) before re-checking the workers when there is no timeout.
_STATUS_CHECK_INTERVAL = 5.0
# How long shutdown waits for workers to exit on their own before terminating them (an idle
# worker exits within milliseconds of its task pipe closing; a busy one is not waited for).
_JOIN_TIMEOUT = 0.5
_STOP = pickle.dumps(None)


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
            raise AssertionError(
                "prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter")
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
        worker_dataset = self._dataset
        if fork and getattr(loader, "serialize_large_lists", True):
            # big Python lists would be copied into every worker as it reads them (their
            # refcounts live on the shared pages): give the workers serialized copies
            worker_dataset = loader.__dict__.get("_worker_dataset")
            if worker_dataset is None:
                worker_dataset = share_without_copy_on_read(self._dataset)
                object.__setattr__(loader, "_worker_dataset", worker_dataset)
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
                    args=(self._dataset_kind, worker_dataset, task_r, res_w,
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
        elif not self._resumed:
            # torch's first epoch calls iter() on the index sampler a second time here
            # (after the base seed), and prefetches from that one
            self._sampler_iter = iter(self._index_sampler)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        restore = self._restore_rng
        if restore is not None and len(restore) != self._num_workers:
            restore = None  # saved with another number of workers: nothing to restore
        if not first_iter or restore is not None:
            # A new epoch for persistent workers (their random streams carry on, as in
            # torch), or a resumed one: restore the saved streams.
            self._snapshot["workers_rng"] = self._resume_workers(restore)
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _resume_workers(self, states=None) -> list:
        """Start a new epoch in every worker (restoring ``states`` if given), dropping what
        the last epoch left in flight; returns the workers' random states."""
        for w, conn in enumerate(self._task_conns):
            state = None if states is None else states[w]
            conn.send_bytes(pickle.dumps(_ResumeIteration(state), -1))
        acks = []
        for w in range(self._num_workers):
            while True:
                _, (idx, data) = self._recv_from(w)
                if isinstance(idx, _ResumeIteration):
                    acks.append(data)
                    break
        return acks

    def _accepts(self, state) -> bool:
        """Whether this persistent iterator can go on to the saved epoch ``state`` (one
        that kept this iterator's base seed), rather than a new iterator replaying it."""
        return state is None or (state.get("base_seed") == self._base_seed
                                 and state.get("workers_rng") is not None)

    def _epoch_end_state(self) -> dict:
        """After a finished epoch: the base seed and the idle workers' random states, so
        that a loader loading them continues with the next epoch exactly."""
        return {"base_seed": self._base_seed, "workers_rng": self._resume_workers()}

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

    def _wait_ready(self, workers):
        """Workers among ``workers()`` (asked again each round) with a message ready,
        waiting up to the loader's ``timeout`` (forever when 0, re-checking them)."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            left = _STATUS_CHECK_INTERVAL if deadline is None else deadline - time.monotonic()
            if left <= 0:
                self._fail(f"DataLoader timed out after {self._timeout} seconds")
            ready = self._poll(workers(), min(left, _STATUS_CHECK_INTERVAL))
            if ready:
                return ready

    def _recv_from(self, w: int):
        """Block for the next message of worker ``w`` (used when resuming an epoch)."""
        self._wait_ready(lambda: [w])
        return w, self._read(w)

    def _get_data(self):
        """The next message from any busy worker: ``(worker, (task index, data))``."""
        want = self._task_info.get(self._rcvd_idx)
        want = want[0] if want is not None and len(want) == 1 else None
        ready = self._wait_ready(lambda: [
            w for w in range(self._num_workers)
            if self._workers_num_tasks[w] > 0 and self._workers_status[w]])
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
