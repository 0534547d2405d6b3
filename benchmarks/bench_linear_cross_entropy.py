#!/usr/bin/env python3
"""Fused linear + cross entropy: peak extra memory and time, reference vs chunked path.

    python benchmarks/bench_linear_cross_entropy.py
    python benchmarks/bench_linear_cross_entropy.py --quick
    python benchmarks/bench_linear_cross_entropy.py --rows 4096 --hidden 256 --classes 32000

One forward + backward of ``F.linear_cross_entropy(x, W, target)`` (float32, one BLAS
thread), with ``options=None`` (linear, then cross entropy: the full ``(N, C)`` logits) and
with ``LinearCrossEntropyOptions()`` (chunks of rows), in ember and in torch.

Each case runs in a fresh process, so that one's allocations do not hide another's:

- ``tracemalloc``: the peak of what Python and NumPy allocate during the step, above what
  was allocated before it (ember only: torch's allocator is invisible to it);
- ``RSS``: the peak resident memory during the step above the resident memory before it
  (Linux ``VmHWM``, reset through ``/proc/self/clear_refs``), for both frameworks;
- time: the median of a few steps.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import limit_threads, median_time, try_import_torch  # noqa: E402

CASES = [("ember", "reference"), ("ember", "chunked"), ("torch", "reference"),
         ("torch", "chunked")]
MIB = 2.0 ** 20


def _status_kib(field):
    with open("/proc/self/status") as f:
        return int(re.search(rf"{field}:\s+(\d+)", f.read()).group(1))


def _reset_peak_rss() -> bool:
    """Set the high-water mark to the current RSS (Linux >= 4.0); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def make_step(T, path, rows, hidden, classes):
    """forward + backward of the loss for framework ``T``, on seeded inputs."""
    T.manual_seed(0)
    x = T.randn(rows, hidden, requires_grad=True)
    w = (T.randn(classes, hidden) * hidden ** -0.5).requires_grad_()
    target = T.randint(0, classes, (rows,))
    options = T.nn.LinearCrossEntropyOptions() if path == "chunked" else None

    def step():
        x.grad = w.grad = None
        T.nn.functional.linear_cross_entropy(x, w, target, options=options).backward()

    return step


def child(framework, path, rows, hidden, classes, iters):
    """One case, in this (fresh) process: a JSON line with its memory and time."""
    limiter = limit_threads(1)  # noqa: F841
    T = try_import_torch(1) if framework == "torch" else __import__("ember")
    make_step(T, path, 8, 4, 16)()                     # imports and first-call set-up
    step = make_step(T, path, rows, hidden, classes)
    gc.collect()
    result = {}
    rss = _status_kib("VmRSS")
    if _reset_peak_rss():
        step()
        result["rss"] = max(0, _status_kib("VmHWM") - rss) / 1024
    if framework == "ember":  # only what the step allocates is traced
        gc.collect()
        tracemalloc.start()
        step()
        result["tracemalloc"] = tracemalloc.get_traced_memory()[1] / MIB
        tracemalloc.stop()
    result["time"] = median_time(step, warmup=0, min_time=0.0, min_iters=iters)  # warm by now
    print(json.dumps(result))


def run_case(framework, path, args):
    """Run one case in a subprocess; its JSON result, or None if it failed."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", framework, path,
           "--rows", str(args.rows), "--hidden", str(args.hidden), "--classes",
           str(args.classes), "--iters", str(args.iters)]
    # large blocks always mmap-ed, so that freed memory leaves the RSS (glibc would otherwise
    # raise its mmap threshold after the first free and keep later blocks on its heap)
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"{framework} {path} failed:\n{proc.stderr.strip()}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one timed step")
    ap.add_argument("--rows", type=int, default=2048)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--classes", type=int, default=16384)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child, args.rows, args.hidden, args.classes, args.iters)
        return 0
    if args.quick:
        args.rows, args.hidden, args.classes, args.iters = 512, 64, 4096, 1
    logits = args.rows * args.classes * 4 / MIB
    print(f"\nlinear_cross_entropy forward + backward, N={args.rows} rows, "
          f"hidden={args.hidden}, C={args.classes} classes, float32, one thread")
    print(f"(the full logits alone take {logits:.1f} MiB)")
    print(f"{'case':<20}{'time':>12}{'peak extra (tracemalloc)':>27}{'peak extra (RSS)':>19}")
    for framework, path in CASES:
        if framework == "torch" and try_import_torch(1) is None:
            continue
        r = run_case(framework, path, args)
        if r is None:
            continue
        tm = f"{r['tracemalloc']:>21.1f} MiB" if r.get("tracemalloc") is not None else \
            f"{'-':>25}"
        rss = f"{r['rss']:>15.1f} MiB" if r.get("rss") is not None else f"{'-':>19}"
        print(f"{framework + ' ' + path:<20}{r['time'] * 1e3:>10.0f}ms  {tm}{rss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
