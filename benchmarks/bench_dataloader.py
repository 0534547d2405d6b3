#!/usr/bin/env python3
"""DataLoader: ember beside torch in one run, plus the transport and memory measurements.

Three parts (all by default; pick with ``--part``):

``throughput``  The shared workload of ``../shared/bench/dataloader.py`` (imported as it
                is): a sliding-window TextDataset over 5,000,000 int64 tokens, sequence
                length 256, batch 64, shuffled (306 batches an epoch), with ``num_workers``
                0 and 2. Batches/s are counted from creating the iterator (worker start-up
                included), one epoch per run (or ``--max-seconds``); ember and torch
                alternate in rounds so a busy neighbour slows both alike, and the ratio is
                taken from the medians. Also the CPU time per batch (main process plus
                workers), which a busy machine disturbs less than the wall clock.
``transport``   How batches travel from the workers: ember's shared-memory ring against
                its pickle-5 pipe (``loader._transport``), with torch for reference, on
                batches of 0.25 to 32 MB that cost the workers nothing to make.
``memory``      The copy-on-read problem: the growth over one epoch of each worker's
                private memory (USS from /proc/PID/smaps_rollup) for a dataset of 1,000,000
                (int, float) tuples held as a Python list, as a ``SerializedList``, and as
                NumPy arrays, with ember and with torch.

    python benchmarks/bench_dataloader.py
    python benchmarks/bench_dataloader.py --part throughput --rounds 5
    python benchmarks/bench_dataloader.py --json        # one JSON line per measurement too

Target (issue 4): ember at least torch's throughput with 0 and with 2 workers.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_BENCH = os.path.normpath(os.path.join(ROOT, "..", "shared", "bench"))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

JSON = False


def emit(rec: dict) -> None:
    if JSON:
        print(json.dumps(rec), flush=True)


def _cpu(who) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _load_workload():
    """(make_text_dataset, N_TOKENS, SEQ_LEN, STRIDE, BATCH) from the shared bench script."""
    sys.path.insert(0, SHARED_BENCH)
    try:
        import dataloader as shared

        return (shared.make_text_dataset, shared.N_TOKENS, shared.SEQ_LEN, shared.STRIDE,
                shared.BATCH)
    except ImportError:  # a checkout without ../shared: the same workload, inlined
        def make_text_dataset(T, tokens, seq_len, stride):
            class TextDataset(T.utils.data.Dataset):
                def __init__(self):
                    self.tokens, self.seq_len, self.stride = tokens, seq_len, stride
                    self.n = (len(tokens) - seq_len - 1) // stride + 1

                def __len__(self):
                    return self.n

                def __getitem__(self, i):
                    s = i * self.stride
                    return (self.tokens[s:s + self.seq_len],
                            self.tokens[s + 1:s + self.seq_len + 1])

            return TextDataset()

        return make_text_dataset, 5_000_000, 256, 256, 64
    finally:
        sys.path.remove(SHARED_BENCH)


def _touch(batch) -> None:
    """Read one value per 4 KiB page of every array, as a consumer of the batch would."""
    for t in batch if isinstance(batch, (list, tuple)) else [batch]:
        a = t.numpy().reshape(-1)
        a[::max(1, 4096 // a.itemsize)].sum()


def _epoch(loader, max_seconds: float, check=None, touch=False) -> dict:
    """Batches/s of one epoch (or max_seconds) counted from iter(), and CPU per batch."""
    c_self, c_kids = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    n = 0
    it = iter(loader)
    for batch in it:
        if n == 0 and check is not None:
            check(batch)
        if touch:
            _touch(batch)
        n += 1
        if time.perf_counter() - t0 >= max_seconds:
            break
    elapsed = time.perf_counter() - t0
    del it, batch  # shuts non-persistent workers down (both libraries join them)
    main = _cpu(resource.RUSAGE_SELF) - c_self
    time.sleep(0.05)
    kids = _cpu(resource.RUSAGE_CHILDREN) - c_kids
    return {"batches": n, "batches_per_s": n / elapsed, "cpu_us_per_batch_main": main / n * 1e6,
            "cpu_us_per_batch_workers": kids / n * 1e6}


def part_throughput(args) -> None:
    import ember
    import ember.utils.data  # noqa: F401  (makes ember.utils.data an attribute for the workload)

    torch = _torch()
    make_text_dataset, n_tokens, seq_len, stride, batch = _load_workload()
    tok = np.random.default_rng(0).integers(0, 256, size=n_tokens, dtype=np.int64)

    def check(b):
        x, y = b
        assert tuple(x.shape) == (batch, seq_len) and int(x[0, 1]) == int(y[0, 0])

    print(f"\nThroughput: sliding-window TextDataset, {n_tokens:,} tokens, seq_len {seq_len}, "
          f"batch {batch}, shuffle=True; {args.rounds} rounds, medians")
    print(f"{'workers':>8}{'ember b/s':>12}{'torch b/s':>12}{'ember/torch':>13}"
          f"{'ember CPU/batch':>18}{'torch CPU/batch':>18}")
    for workers in args.workers:
        impls = {"ember": ember}
        if torch is not None:
            impls["torch"] = torch
        loaders = {}
        for name, T in impls.items():
            ds = make_text_dataset(T, T.from_numpy(tok), seq_len, stride)
            T.manual_seed(0)
            loaders[name] = T.utils.data.DataLoader(ds, batch_size=batch, shuffle=True,
                                                    num_workers=workers)
        results = {name: [] for name in loaders}
        for r in range(args.rounds):
            order = list(loaders) if r % 2 == 0 else list(reversed(loaders))
            for name in order:
                results[name].append(_epoch(loaders[name], args.max_seconds, check))
        med = {name: {k: statistics.median(x[k] for x in runs) for k in runs[0]}
               for name, runs in results.items()}
        e = med["ember"]
        t = med.get("torch")

        def cpu(m):
            return f"{m['cpu_us_per_batch_main'] + m['cpu_us_per_batch_workers']:>14.0f} us"

        ratio = e["batches_per_s"] / t["batches_per_s"] if t else float("nan")
        print(f"{workers:>8}{e['batches_per_s']:>12.0f}"
              f"{(t['batches_per_s'] if t else float('nan')):>12.0f}{ratio:>12.2f}x"
              f"{cpu(e):>18}{(cpu(t) if t else '-'):>18}")
        emit({"bench": "dataloader_throughput", "workers": workers, "ember": med["ember"],
              "torch": t, "ratio": ratio, "rounds": args.rounds,
              "all": {k: [round(x["batches_per_s"], 1) for x in v] for k, v in results.items()}})


class _Blobs:
    """Map-style dataset whose batches cost nothing to make: the transport is all."""

    def __init__(self, n_batches, batch, row_bytes):
        self.n = n_batches * batch
        self.rows = np.ones((batch, row_bytes // 4), np.float32)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.rows[i % len(self.rows)]


def part_transport(args) -> None:
    import ember.utils.data as ed

    torch = _torch()
    print("\nTransport: 2 workers, batches of 64 float32 rows that cost nothing to make, "
          "read once per page by the main process;\n"
          f"{args.rounds} rounds, medians; CPU = main + workers per MB moved")
    print(f"{'batch':>8}{'ember shm':>22}{'ember pipe':>22}{'torch':>22}{'shm/pipe':>10}")
    for mb in args.transport_mb:
        row_bytes = int(mb * (1 << 20)) // 64
        n_batches = max(60, int(1600 / mb))
        ds = _Blobs(n_batches, 64, row_bytes)
        runs = {"shm": [], "pipe": [], "torch": []}
        for _ in range(args.rounds):
            for mode in ("shm", "pipe"):
                loader = ed.DataLoader(ds, batch_size=64, num_workers=2)
                loader._transport = mode
                runs[mode].append(_epoch(loader, args.max_seconds, touch=True))
            if torch is not None:
                loader = torch.utils.data.DataLoader(ds, batch_size=64, num_workers=2)
                runs["torch"].append(_epoch(loader, args.max_seconds, touch=True))
        med = {}
        for k, v in runs.items():
            if v:
                med[k] = {"mb_per_s": statistics.median(x["batches_per_s"] for x in v) * mb,
                          "cpu_ms_per_mb": statistics.median(
                              x["cpu_us_per_batch_main"] + x["cpu_us_per_batch_workers"]
                              for x in v) / 1e3 / mb}

        def fmt(k, med=med):
            m = med.get(k)
            return (f"{m['mb_per_s']:>8.0f} MB/s {m['cpu_ms_per_mb']:>5.2f} ms" if m
                    else f"{'-':>22}")

        ratio = med["shm"]["mb_per_s"] / med["pipe"]["mb_per_s"]
        print(f"{mb:>6} MB{fmt('shm'):>22}{fmt('pipe'):>22}{fmt('torch'):>22}{ratio:>9.2f}x")
        emit({"bench": "dataloader_transport", "batch_mb": mb, **med})


class _Held:
    """Map-style dataset over ``items`` (a list, a SerializedList, or a pair of arrays)."""

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items) if not isinstance(self.items, tuple) else len(self.items[0])

    def __getitem__(self, i):
        if isinstance(self.items, tuple):
            return self.items[0][i], self.items[1][i]
        return self.items[i]


def _uss_mb(pid: int) -> float:
    """Private memory (clean + dirty) of ``pid`` in MB, from smaps_rollup."""
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total / 1024


def part_memory(args) -> None:
    import ember.utils.data as ed

    torch = _torch()
    if not os.path.exists(f"/proc/{os.getpid()}/smaps_rollup"):
        print("\nMemory: needs Linux /proc/PID/smaps_rollup; skipped")
        return
    n = args.memory_items
    print(f"\nMemory: growth of each worker's private memory (USS) over one epoch; dataset "
          f"of {n:,} (int, float) tuples, 2 persistent workers, batch 1000")
    as_list = [(i, float(i)) for i in range(n)]
    layouts = {
        "Python list": lambda: as_list,
        "SerializedList": lambda: ed.SerializedList(as_list),
        "NumPy arrays": lambda: (np.arange(n, dtype=np.int64), np.arange(n, dtype=np.float64)),
    }
    print(f"{'held as':<16}{'library':>9}{'USS after 1 batch':>20}{'after the epoch':>18}"
          f"{'growth':>12}")
    for layout, make in layouts.items():
        items = make()
        libs = [("ember", ed)] + ([("torch", torch.utils.data)] if torch is not None else [])
        for lib, mod in libs:
            loader = mod.DataLoader(_Held(items), batch_size=1000, num_workers=2,
                                    persistent_workers=True, shuffle=True)
            it = iter(loader)
            next(it)
            pids = [w.pid for w in it._workers]
            start = [_uss_mb(p) for p in pids]
            for _ in it:
                pass
            end = [_uss_mb(p) for p in pids]
            it._shutdown_workers()
            del loader, it
            growth = [b - a for a, b in zip(start, end)]
            print(f"{layout:<16}{lib:>9}{statistics.mean(start):>17.1f} MB"
                  f"{statistics.mean(end):>15.1f} MB{statistics.mean(growth):>+9.1f} MB")
            emit({"bench": "dataloader_memory", "layout": layout, "library": lib,
                  "items": n, "uss_start_mb": start, "uss_end_mb": end, "growth_mb": growth})
        del items


def _torch():
    try:
        import torch
    except ImportError:
        print("(torch not installed: ember only)")
        return None
    torch.set_num_threads(1)
    return torch


def main(argv=None) -> int:
    global JSON
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=["throughput", "transport", "memory", "all"],
                    default="all")
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=20.0)
    ap.add_argument("--memory-items", type=int, default=1_000_000)
    ap.add_argument("--transport-mb", type=float, nargs="+", default=[0.25, 1, 4, 16, 32])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    JSON = args.json
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.part in ("throughput", "all"):
        part_throughput(args)
    if args.part in ("transport", "all"):
        part_transport(args)
    if args.part in ("memory", "all"):
        part_memory(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
