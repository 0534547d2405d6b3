#!/usr/bin/env python3
"""One training step of the notes' character LM: ember beside torch and the NumPy floor.

The workload (sizes, model, AdamW, batches, the hand-written NumPy step) is the shared
reference in ``../shared/bench/lm_step.py``, imported as it is so that the figures compare
with the ones measured there. All implementations run in this one process, with one BLAS
thread (threadpoolctl; ``torch.set_num_threads(1)``), and are timed in interleaved rounds
(ember, torch, numpy, ember, ...) so that a busy neighbour slows all three alike; the
ratios are taken from the per-implementation medians of the same run.

    python benchmarks/bench_lm_step.py                 # tiny, seed, wide
    python benchmarks/bench_lm_step.py --size tiny --rounds 15
    python benchmarks/bench_lm_step.py --json          # one JSON line per size too

Targets (issue 3): tiny <= torch, seed and wide <= 1.1x torch, every size <= 1.3x the
NumPy floor.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy  # noqa: F401  (loaded before threadpoolctl looks for BLAS libraries)
import threadpoolctl

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_BENCH = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench"))


def _load_workload():
    sys.path.insert(0, SHARED_BENCH)
    sys.path.insert(0, os.path.dirname(HERE))  # the repository root, for `import ember`
    import lm_step

    return lm_step


def _cycle(step, batches, pool):
    def run(i):
        return step(*batches[i % pool])

    return run


def _runners(lm, sz, seed, impls):
    """{impl: step(i)} with the model, optimizer and batch pool of lm_step.py."""
    out = {}
    if "ember" in impls or "torch" in impls:
        for name in ("ember", "torch"):
            if name not in impls:
                continue
            T = __import__(name)
            if name == "torch":
                T.set_num_threads(1)
            _, _, step, to_t = lm.torchlike_runner(T, sz, sz.dropout, seed)
            batches = [(to_t(x), to_t(y)) for x, y in lm.make_batches(sz, seed + 1)]
            out[name] = _cycle(step, batches, lm.POOL)
    if "numpy" in impls:
        model = lm.NumpyLM(sz, sz.dropout, seed)
        batches = lm.make_batches(sz, seed + 1)
        out["numpy"] = lambda i: model.step(*batches[i % lm.POOL])
    return out


def _steps_per_round(sz) -> int:
    return {"tiny": 200, "seed": 10, "wide": 1}[sz.name]


def bench_size(lm, name, rounds, impls, seed=0, clock="wall"):
    sz = lm.SIZES[name]
    runners = _runners(lm, sz, seed, impls)
    # limit after every library is loaded: a BLAS loaded later would keep its own threads
    limiter = threadpoolctl.threadpool_limits(limits=1)
    k = _steps_per_round(sz)
    for fn in runners.values():  # warm-up: caches, allocator, lazy imports
        for i in range(max(2, min(k, 20))):
            fn(i)
    times = {impl: [] for impl in runners}
    cpu = {impl: [] for impl in runners}
    for r in range(rounds):
        order = list(runners) if r % 2 == 0 else list(reversed(runners))
        for impl in order:
            fn = runners[impl]
            c0, t0 = time.process_time(), time.perf_counter()
            for i in range(k):
                fn(i)
            times[impl].append((time.perf_counter() - t0) / k * 1e3)
            cpu[impl].append((time.process_time() - c0) / k * 1e3)
    # wall time is the figure; CPU time of this process is printed beside it because on a
    # shared machine it is far less disturbed by other processes than wall time
    med = {impl: statistics.median(ts) for impl, ts in (cpu if clock == "cpu" else times).items()}
    row = {"size": name, "clock": clock, "ms_per_step": med,
           "wall_ms": {impl: statistics.median(ts) for impl, ts in times.items()},
           "cpu_ms": {impl: statistics.median(ts) for impl, ts in cpu.items()},
           "min_wall_ms": {impl: min(ts) for impl, ts in times.items()},
           "rounds": rounds, "steps_per_round": k}
    row["threads"] = [(d["internal_api"], d["num_threads"])
                      for d in threadpoolctl.threadpool_info()]
    limiter.restore_original_limits()
    if "ember" in med:
        if "torch" in med:
            row["ember_vs_torch"] = med["ember"] / med["torch"]
        if "numpy" in med:
            row["ember_vs_numpy"] = med["ember"] / med["numpy"]
    if "torch" in med and "numpy" in med:
        row["numpy_vs_torch"] = med["numpy"] / med["torch"]
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", action="append", choices=["tiny", "seed", "wide"],
                    help="repeatable; default: all three")
    ap.add_argument("--rounds", type=int, default=None,
                    help="interleaved rounds per size (default 11 tiny/seed, 5 wide)")
    ap.add_argument("--impl", action="append", choices=["ember", "torch", "numpy"],
                    help="repeatable; default: all three")
    ap.add_argument("--json", action="store_true", help="also print one JSON line per size")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="rank by wall time (default) or by this process's CPU time, which a "
                         "busy shared machine disturbs less")
    args = ap.parse_args(argv)
    lm = _load_workload()
    impls = args.impl or ["ember", "torch", "numpy"]
    sizes = args.size or ["tiny", "seed", "wide"]
    print(f"{args.clock} clock, one BLAS thread")
    print(f"{'size':<6} {'ember ms':>10} {'torch ms':>10} {'numpy ms':>10} "
          f"{'ember/torch':>12} {'ember/numpy':>12}")
    for name in sizes:
        rounds = args.rounds or (5 if name == "wide" else 11)
        row = bench_size(lm, name, rounds, impls, clock=args.clock)
        ms = row["ms_per_step"]
        cells = [f"{ms[i]:10.3f}" if i in ms else f"{'-':>10}" for i in ("ember", "torch", "numpy")]
        ratios = [f"{row[k]:11.2f}x" if k in row else f"{'-':>12}"
                  for k in ("ember_vs_torch", "ember_vs_numpy")]
        print(f"{name:<6} {' '.join(cells)} {' '.join(ratios)}", flush=True)
        if args.json:
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
