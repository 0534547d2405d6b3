"""Shared benchmark helpers: one BLAS thread, median timing, and a ratio table."""
from __future__ import annotations

import statistics
import time


def limit_threads(n: int = 1):
    """Pin BLAS (and torch, if imported later) to ``n`` threads; returns the limiter."""
    try:
        import threadpoolctl

        return threadpoolctl.threadpool_limits(limits=n, user_api="blas")
    except ImportError:  # pragma: no cover - benchmark-only dependency
        return None


def median_time(fn, *, warmup: int = 3, min_time: float = 0.5, min_iters: int = 5,
                max_iters: int = 100_000, inner: int = 1) -> float:
    """Median seconds per call of ``fn`` (``inner`` calls per sample)."""
    for _ in range(warmup):
        fn()
    samples = []
    start = time.perf_counter()
    while (len(samples) < min_iters or time.perf_counter() - start < min_time) \
            and len(samples) < max_iters:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return statistics.median(samples)


def interleaved_best(fns, *, rounds: int = 15, inner: int = 200, warmup: int = 3) -> list:
    """Best (minimum) seconds per call of each of ``fns``, timed in interleaved rounds.

    Each round times ``inner`` calls of every function in turn, so a busy neighbour slows
    them alike; the minimum over rounds is the least disturbed figure (what ``timeit``
    recommends for per-call overhead).
    """
    for fn in fns:
        for _ in range(warmup):
            fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / inner)
    return best


def try_import_torch(threads: int = 1):
    """torch with ``threads`` threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def print_table(title: str, rows, unit: str = "us", scale: float = 1e6):
    """Rows of (name, ember_s, torch_s or None, numpy_s or None) with ratios."""
    print(f"\n{title}")
    print(f"{'case':<34}{'ember':>12}{'torch':>12}{'numpy':>12}{'ember/torch':>13}"
          f"{'ember/numpy':>13}")
    for name, e, t, n in rows:
        def fmt(v):
            return f"{v * scale:>10.2f}{unit}" if v is not None else f"{'-':>12}"
        r_t = f"{e / t:>12.2f}x" if t else f"{'-':>13}"
        r_n = f"{e / n:>12.2f}x" if n else f"{'-':>13}"
        print(f"{name:<34}{fmt(e)}{fmt(t)}{fmt(n)}{r_t}{r_n}")
