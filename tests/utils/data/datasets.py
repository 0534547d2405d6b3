"""Datasets and helpers for the DataLoader tests (module level, so spawn workers can import
them)."""
from __future__ import annotations

import contextlib
import faulthandler
import os
import random
import signal
import time

import numpy as np

import ember
from ember.utils.data import Dataset, IterableDataset, get_worker_info


class RangeDataset(Dataset):
    """Item i is the int i."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i


class ArrayDataset(Dataset):
    """Item i is (float32 row i of a (n, 3) array, int label i % 5)."""

    def __init__(self, n):
        self.x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], i % 5


class SeedProbe(Dataset):
    """Item i: (i, worker id, Python random, NumPy global random, ember random)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = get_worker_info()
        wid = -1 if info is None else info.id
        return i, wid, random.random(), float(np.random.rand()), float(ember.rand(1).item())


class FailAt(Dataset):
    """Raises ``exc_type`` at index ``bad``."""

    def __init__(self, n, bad, exc_type=ValueError):
        self.n, self.bad, self.exc_type = n, bad, exc_type

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc_type(f"bad sample {i}")
        return i


class DieAt(Dataset):
    """The worker process dies at index ``bad``: ``how`` is "exit", "kill" or "segv"."""

    def __init__(self, n, bad, how="kill"):
        self.n, self.bad, self.how = n, bad, how

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad and get_worker_info() is not None:
            if self.how == "exit":
                os._exit(3)
            elif self.how == "segv":
                faulthandler.disable()  # pytest's handler would print a dump; it is expected
                os.kill(os.getpid(), signal.SIGSEGV)
            else:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(10)
        return i


class Slow(Dataset):
    """Sleeps ``delay`` seconds per item (from index ``start`` on)."""

    def __init__(self, n, delay, start=0):
        self.n, self.delay, self.start = n, delay, start

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i >= self.start:
            time.sleep(self.delay)
        return i


class Counting(Dataset):
    """Counts fetched items in a shared integer (fork-inherited multiprocessing Value)."""

    def __init__(self, n, counter):
        self.n, self.counter = n, counter

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        with self.counter.get_lock():
            self.counter.value += 1
        return i


class ShardedRange(IterableDataset):
    """range(start, end), split between workers in contiguous shards."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __len__(self):
        return self.end - self.start

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per = -(-(self.end - self.start) // info.num_workers)
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.end)))


class UnshardedRange(IterableDataset):
    """range(n) in every worker (duplicates with several workers, as in torch)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


class VarLen(Dataset):
    """Item i: 1-D int64 array of length lengths[i]."""

    def __init__(self, lengths):
        self.lengths = lengths

    def __len__(self):
        return len(self.lengths)

    def __getitem__(self, i):
        return {"input_ids": np.arange(self.lengths[i], dtype=np.int64) + 1, "label": i}


def record_worker_pid(worker_id):
    """A worker_init_fn that does nothing (picklable)."""
    return None


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def children() -> list[int]:
    """Pids of this process's live children."""
    me = str(os.getpid())
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{name}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            if rest[1] == me and rest[0] not in ("Z", "X"):
                out.append(int(name))
    return out


def wait_gone(pids, timeout=5.0) -> list[int]:
    """Wait until none of ``pids`` is alive; return those still alive after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.02)
    return [p for p in pids if alive(p)]
