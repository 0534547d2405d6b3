"""Worker faults: exceptions, deaths, timeouts, shutdown, spawn pickling; no child left."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from ember.utils.data import CollateError, DataLoader

from .datasets import DieAt, FailAt, RangeDataset, Slow, VarLen, alive, children, wait_gone

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


@pytest.fixture
def no_leftover_children():
    """Fail if a test leaves a child process of its own behind."""
    before = set(children())
    yield
    left = [p for p in children() if p not in before]
    assert not wait_gone(left, timeout=20.0), f"child processes left: {left}"


def _shm_files():
    try:
        return {n for n in os.listdir("/dev/shm") if n.startswith("ember-dl-")}
    except FileNotFoundError:
        return set()


def test_worker_exception_is_reraised_with_traceback(no_leftover_children):
    loader = DataLoader(FailAt(6, bad=1), batch_size=1, num_workers=2)
    it = iter(loader)
    assert next(it).tolist() == [0]
    t0 = time.monotonic()
    with pytest.raises(ValueError) as info:
        next(it)
    assert time.monotonic() - t0 < 10
    msg = str(info.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 1.")
    assert "Original Traceback (most recent call last):" in msg
    assert "datasets.py" in msg and "bad sample 1" in msg
    # as in torch, the iterator can go on after a failed batch
    assert next(it).tolist() == [2]
    del it, info


def test_workers_stop_when_the_loop_dies_with_the_exception(no_leftover_children):
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 0"):
        for _ in DataLoader(FailAt(50, bad=4), batch_size=2, num_workers=2):
            pass
    # nothing holds the iterator any more (not even the traceback): workers are gone


def test_key_error_message_stays_readable():
    with pytest.raises(KeyError) as info:
        list(DataLoader(FailAt(4, bad=0, exc_type=KeyError), batch_size=1, num_workers=1))
    text = str(info.value)
    assert "Caught KeyError in DataLoader worker process 0.\nOriginal Traceback" in text
    del info


def test_collate_error_from_a_worker_keeps_its_type():
    with pytest.raises(CollateError, match="Caught CollateError in DataLoader worker"):
        list(DataLoader(VarLen([3, 3, 2, 3]), batch_size=4, num_workers=1))


def test_worker_init_fn_error_is_reported():
    def init(worker_id):
        raise RuntimeError(f"cannot init {worker_id}")

    with pytest.raises(RuntimeError, match="cannot init 0"):
        list(DataLoader(RangeDataset(4), num_workers=1, worker_init_fn=init))


def test_unpicklable_batch_is_reported():
    with pytest.raises(Exception, match="Caught .* in DataLoader worker process 0"):
        list(DataLoader(RangeDataset(2), num_workers=1, collate_fn=lambda b: (lambda: b)))


@pytest.mark.parametrize("how, detail", [("kill", "SIGKILL"), ("segv", "SIGSEGV"),
                                         ("exit", "exited with code 3")])
def test_dead_worker_raises_naming_its_pid(how, detail, no_leftover_children):
    loader = DataLoader(DieAt(40, bad=5, how=how), batch_size=1, num_workers=2)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError) as info:
        for _ in loader:
            pass
    assert time.monotonic() - t0 < 10
    msg = str(info.value)
    assert "DataLoader worker (pid(s) " in msg and "exited unexpectedly" in msg
    assert detail in msg
    pid = int(msg.split("(pid(s) ")[1].split(")")[0])
    assert not alive(pid)
    del info


def test_timeout_raises_and_cleans_up(no_leftover_children):
    loader = DataLoader(Slow(4, delay=5.0, start=1), batch_size=1, num_workers=1, timeout=0.3)
    it = iter(loader)
    next(it)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        next(it)
    assert time.monotonic() - t0 < 4
    del it


def test_breaking_out_of_the_loop_shuts_workers_down(no_leftover_children):
    pids = []
    for i, _ in enumerate(loop := iter(DataLoader(Slow(100, delay=0.01), batch_size=2,
                                                  num_workers=2))):
        pids = [w.pid for w in loop._workers]
        if i == 2:
            break
    del loop
    assert not wait_gone(pids, timeout=20)
    # no shared-memory ring of theirs is left behind either
    assert not [f for f in _shm_files() if int(f.split("-")[2]) in pids]


def test_deleting_an_iterator_with_a_busy_worker_is_quick(no_leftover_children):
    it = iter(DataLoader(Slow(10, delay=10.0, start=2), batch_size=1, num_workers=2))
    next(it)
    t0 = time.monotonic()
    del it
    assert time.monotonic() - t0 < 4


def test_spawn_unpicklable_arguments_fail_at_construction():
    class Local(RangeDataset):
        pass

    with pytest.raises(TypeError, match=r"the dataset \(.*Local object\) cannot be pickled"):
        DataLoader(Local(3), num_workers=1, multiprocessing_context="spawn")
    with pytest.raises(TypeError, match="the collate_fn .* cannot be pickled.*'spawn'"):
        DataLoader(RangeDataset(3), num_workers=1, multiprocessing_context="spawn",
                   collate_fn=lambda b: b)
    with pytest.raises(TypeError, match="the worker_init_fn .* cannot be pickled"):
        DataLoader(RangeDataset(3), num_workers=1, multiprocessing_context="forkserver",
                   worker_init_fn=lambda i: None)
    # fork needs no pickling, so the same arguments are fine there
    DataLoader(Local(3), num_workers=1, multiprocessing_context="fork", collate_fn=lambda b: b)


def _run_script(code: str, timeout: float = 60):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_spawn_workers_load_correctly():
    out = _run_script("""
        from ember.utils.data import DataLoader
        from tests.utils.data.datasets import RangeDataset
        loader = DataLoader(RangeDataset(7), batch_size=3, num_workers=1,
                            multiprocessing_context="spawn")
        print([b.tolist() for b in loader])
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[[0, 1, 2], [3, 4, 5], [6]]"


def test_no_orphans_at_interpreter_exit_or_when_the_parent_is_killed():
    # persistent workers left running at exit are shut down by the atexit handler
    out = _run_script("""
        from ember.utils.data import DataLoader
        from tests.utils.data.datasets import RangeDataset
        loader = DataLoader(RangeDataset(100), batch_size=2, num_workers=2,
                            persistent_workers=True)
        it = iter(loader); next(it)
        print(" ".join(str(w.pid) for w in loader._iterator._workers), flush=True)
    """)
    assert out.returncode == 0, out.stderr
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2 and not wait_gone(pids, timeout=20)
    assert "leaked" not in out.stderr

    # a main process killed outright: its workers notice and exit on their own
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import time
        from ember.utils.data import DataLoader
        from tests.utils.data.datasets import RangeDataset
        loader = DataLoader(RangeDataset(100), batch_size=2, num_workers=2,
                            persistent_workers=True)
        it = iter(loader); next(it)
        print(" ".join(str(w.pid) for w in loader._iterator._workers), flush=True)
        time.sleep(60)
    """)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
    finally:
        proc.kill()
        proc.wait()
    assert len(pids) == 2 and not wait_gone(pids, timeout=30)
