"""``F.interpolate`` forward and forward+backward, ember beside torch (float32, one thread).

    python benchmarks/bench_interpolate.py            # every case
    python benchmarks/bench_interpolate.py --quick    # fewer rounds
    python benchmarks/bench_interpolate.py --only bicubic --part fwd

Cases: nearest, bilinear and bicubic (align_corners False and True) on 8x3x128x128 upscaled
2x; bilinear with and without antialias on 8x3x256x256 downscaled 0.5x; bilinear on
2x16x32x32 upscaled 2x (torch's channels-last kernel: the output has at most 128 rows plus
columns); nearest and trilinear on a 5-d 2x4x16x32x32 upscaled 2x. "fwd+bwd" is one
forward and ``out.backward(g)`` with a fixed upstream gradient. Timings are the best of
interleaved rounds (ember, then torch, in turn), in ms per call; ``--clock cpu`` times
process CPU time instead of wall time (steadier on a shared, oversubscribed machine, where
a long call is preempted more often than a short one).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import interleaved_best, limit_threads, print_table, try_import_torch  # noqa: E402

import ember  # noqa: E402

# (name, input shape, interpolate keyword arguments)
CASES = [
    ("nearest 8x3x128^2 x2", (8, 3, 128, 128), {"mode": "nearest"}),
    ("bilinear 8x3x128^2 x2", (8, 3, 128, 128), {"mode": "bilinear"}),
    ("bilinear ac 8x3x128^2 x2", (8, 3, 128, 128), {"mode": "bilinear", "align_corners": True}),
    ("bicubic 8x3x128^2 x2", (8, 3, 128, 128), {"mode": "bicubic"}),
    ("bicubic ac 8x3x128^2 x2", (8, 3, 128, 128), {"mode": "bicubic", "align_corners": True}),
    ("bilinear 8x3x256^2 x0.5", (8, 3, 256, 256), {"mode": "bilinear", "scale_factor": 0.5}),
    ("bilinear aa 8x3x256^2 x0.5", (8, 3, 256, 256),
     {"mode": "bilinear", "scale_factor": 0.5, "antialias": True}),
    ("bilinear 2x16x32^2 x2 (cl)", (2, 16, 32, 32), {"mode": "bilinear"}),
    ("nearest 2x4x16x32^2 x2", (2, 4, 16, 32, 32), {"mode": "nearest"}),
    ("trilinear 2x4x16x32^2 x2", (2, 4, 16, 32, 32), {"mode": "trilinear"}),
    ("trilinear ac 2x4x16x32^2 x2", (2, 4, 16, 32, 32),
     {"mode": "trilinear", "align_corners": True}),
]


def make_calls(T, shape, kwargs):
    """(forward, forward+backward) closures for framework ``T`` on seeded float32 input."""
    kwargs = {"scale_factor": 2.0, **kwargs}
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(shape, dtype=np.float32)
    x = T.from_numpy(x0.copy())
    xg = T.from_numpy(x0.copy()).requires_grad_()
    interpolate = T.nn.functional.interpolate
    out_shape = tuple(interpolate(x, **kwargs).shape)
    g = T.from_numpy(rng.standard_normal(out_shape, dtype=np.float32))

    def forward():
        return interpolate(x, **kwargs)

    def forward_backward():
        xg.grad = None
        interpolate(xg, **kwargs).backward(g)

    return forward, forward_backward


def cpu_interleaved_best(fns, *, rounds, inner):
    """``interleaved_best`` (one warm-up call each) timed in process CPU time."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.process_time()
            for _ in range(inner):
                fn()
            best[i] = min(best[i], (time.process_time() - t0) / inner)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--part", choices=["fwd", "fwd+bwd", "all"], default="all")
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = ap.parse_args(argv)
    limiter = limit_threads(1)  # noqa: F841  (kept alive for the whole run)
    torch = try_import_torch(1)
    rounds = 5 if args.quick else 11
    parts = ["fwd", "fwd+bwd"] if args.part == "all" else [args.part]
    for part in parts:
        rows = []
        for name, shape, kwargs in CASES:
            if args.only not in name:
                continue
            which = 0 if part == "fwd" else 1
            fns = [make_calls(ember, shape, kwargs)[which]]
            if torch:
                fns.append(make_calls(torch, shape, kwargs)[which])
            inner = 3 if part == "fwd" else 2
            if args.clock == "wall":
                times = interleaved_best(fns, rounds=rounds, inner=inner, warmup=1)
            else:
                times = cpu_interleaved_best(fns, rounds=rounds, inner=inner)
            rows.append((name, times[0], times[1] if torch else None, None))
        print_table(f"interpolate {part}, float32 (best of {rounds} interleaved rounds, per "
                    f"call, {args.clock} clock)", rows, unit="ms", scale=1e3)


if __name__ == "__main__":
    main()
