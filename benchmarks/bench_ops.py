"""Per-op overhead on tiny tensors, and a 3-layer MLP forward+backward, ember beside torch.

    python benchmarks/bench_ops.py            # both parts
    python benchmarks/bench_ops.py --quick    # shorter timing

One BLAS thread for everyone; the MLP is batch 256, 1024 -> 512 -> 512 -> 96, float32,
with a hand-written NumPy forward+backward as the floor.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    interleaved_best,
    limit_threads,
    median_time,
    print_table,
    try_import_torch,
)

import ember  # noqa: E402


def op_cases(T):
    a, b = T.randn(8, 8), T.randn(8, 8)
    ag, bg = T.randn(8, 8, requires_grad=True), T.randn(8, 8, requires_grad=True)
    v = T.randn(8, requires_grad=True)

    def fwd_bwd(make):
        def run():
            make().backward()
        return run

    return [
        ("add (no grad)", lambda: a + b),
        ("mul scalar (no grad)", lambda: a * 2.0),
        ("matmul 8x8 (no grad)", lambda: a @ b),
        ("sum (no grad)", lambda: a.sum()),
        ("exp (no grad)", lambda: a.exp()),
        ("reshape (no grad)", lambda: a.reshape(64)),
        ("index a[1:3] (no grad)", lambda: a[1:3]),
        ("add (recorded)", lambda: ag + bg),
        ("mul (recorded)", lambda: ag * bg),
        ("matmul (recorded)", lambda: ag @ bg),
        ("relu (recorded)", lambda: ag.relu()),
        ("fwd+bwd (a*b).sum()", fwd_bwd(lambda: (ag * bg).sum())),
        ("fwd+bwd tanh(a@b+v).sum()", fwd_bwd(lambda: (ag @ bg + v).tanh().sum())),
    ]


def bench_ops(quick: bool):
    torch = try_import_torch(1)
    e_cases = op_cases(ember)
    t_cases = op_cases(torch) if torch else [(n, None) for n, _ in e_cases]
    rows = []
    rounds = 7 if quick else 25
    for (name, ef), (_, tf) in zip(e_cases, t_cases):
        inner = 20 if "fwd+bwd" in name else 200
        te, tt = interleaved_best([ef, tf] if tf else [ef, ef], rounds=rounds, inner=inner)
        rows.append((name, te, tt if tf else None, None))
    print_table(f"Per-op overhead, 8x8 float32 tensors (best of {rounds} interleaved rounds, "
                "per call)", rows)


def mlp_numpy(x, y_grad, ws):
    """Hand-written forward+backward of the MLP (the floor)."""
    (w1, b1), (w2, b2), (w3, b3) = ws
    h1 = x @ w1.T
    h1 += b1
    np.maximum(h1, 0, out=h1)
    h2 = h1 @ w2.T
    h2 += b2
    np.maximum(h2, 0, out=h2)
    out = h2 @ w3.T
    out += b3
    g = y_grad
    gw3, gb3 = g.T @ h2, g.sum(0)
    g = g @ w3
    g *= h2 > 0
    gw2, gb2 = g.T @ h1, g.sum(0)
    g = g @ w2
    g *= h1 > 0
    gw1, gb1 = g.T @ x, g.sum(0)
    return gw1, gb1, gw2, gb2, gw3, gb3


def bench_mlp(quick: bool):
    torch = try_import_torch(1)
    rng = np.random.default_rng(0)
    sizes = [(1024, 512), (512, 512), (512, 96)]
    ws = [(rng.standard_normal((o, i), dtype=np.float32) * 0.03,
           rng.standard_normal(o, dtype=np.float32) * 0.01) for i, o in sizes]
    x = rng.standard_normal((256, 1024), dtype=np.float32)
    gout = np.ones((256, 96), np.float32) / 256

    def make(T, F):
        params = [(T.from_numpy(w.copy()).requires_grad_(), T.from_numpy(b.copy()).requires_grad_())
                  for w, b in ws]
        xt = T.from_numpy(x)

        def step():
            for w, b in params:
                w.grad = None
                b.grad = None
            h = F.linear(xt, *params[0]).relu()
            h = F.linear(h, *params[1]).relu()
            out = F.linear(h, *params[2])
            (out.sum() / 256).backward()
        return step

    # interleaved rounds: a busy shared machine then slows all three alike
    steps = {"ember": make(ember, ember.ops), "numpy": lambda: mlp_numpy(x, gout, ws)}
    if torch:
        steps["torch"] = make(torch, torch.nn.functional)
    samples = {k: [] for k in steps}
    for _ in range(6 if quick else 15):
        for name, fn in steps.items():
            samples[name].append(median_time(fn, warmup=1, min_time=0.0, min_iters=3))
    med = {k: statistics.median(v) for k, v in samples.items()}
    print_table("3-layer MLP forward+backward, batch 256, 1024-512-512-96 (median per step)",
                [("MLP step", med["ember"], med.get("torch"), med["numpy"])], unit="ms",
                scale=1e3)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--part", choices=["ops", "mlp", "all"], default="all")
    args = ap.parse_args(argv)
    limiter = limit_threads(1)  # noqa: F841  (kept alive for the whole run)
    if args.part in ("ops", "all"):
        bench_ops(args.quick)
    if args.part in ("mlp", "all"):
        bench_mlp(args.quick)


if __name__ == "__main__":
    main()
