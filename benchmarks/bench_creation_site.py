#!/usr/bin/env python3
"""What recording each node's creation site costs: a seed-size training step, on vs off.

Every recorded op keeps the file and line of the user code that called it (one frame
look-up; ``ember.autograd.record_creation_site.enabled``), so that errors and graph views
can name lines. This times one training step of the notes' character LM at the "seed"
size of ``shared/bench/lm_step.py`` (batch 256, context 16, vocabulary 96, embedding 64,
hidden 512 x 2, Linear -> BatchNorm1d -> ReLU -> Dropout, AdamW) with recording on and
off, in interleaved rounds with one BLAS thread, and prints the ratio of the medians.
It also times the look-up itself and multiplies by the nodes per step, a noise-free
estimate of the same overhead. Target: under 5%.

    python benchmarks/bench_creation_site.py             # seed size
    python benchmarks/bench_creation_site.py --size tiny --rounds 21
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import ember  # noqa: E402
from ember.autograd import graph, record_creation_site  # noqa: E402

# (batch, context, vocab, emb, hidden, dropout): shared/bench/lm_step.py's sizes
SIZES = {"tiny": (32, 8, 65, 10, (64,), 0.1), "seed": (256, 16, 96, 64, (512, 512), 0.1)}


def _model_step(size, seed=0):
    """step() of the LM with ember.nn / ember.optim, or a hand-built MLP without them."""
    batch, ctx, vocab, emb, hidden, p = SIZES[size]
    rng = np.random.default_rng(seed + 1)
    pool = [(ember.from_numpy(rng.integers(0, vocab, (batch, ctx))),
             ember.from_numpy(rng.integers(0, vocab, (batch,)))) for _ in range(4)]
    ember.manual_seed(seed)
    try:
        from ember import nn, optim

        layers, d = [], ctx * emb
        for h in hidden:
            layers += [nn.Linear(d, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(p)]
            d = h
        model = nn.Sequential(nn.Embedding(vocab, emb), nn.Flatten(), *layers,
                              nn.Linear(d, vocab))
        model.train()
        opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
        F = nn.functional

        def step(i):
            x, y = pool[i % len(pool)]
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return step, "ember.nn + AdamW"
    except (ImportError, AttributeError):  # before ember.nn / ember.optim existed
        pass
    table = ember.randn(vocab, emb, requires_grad=True)
    ws, d = [], ctx * emb
    for h in (*hidden, vocab):
        ws.append((ember.randn(d, h).mul_(d ** -0.5).requires_grad_(),
                   ember.zeros(h, requires_grad=True)))
        d = h
    params = [table] + [t for pair in ws for t in pair]

    def step(i):
        x, y = pool[i % len(pool)]
        for q in params:
            q.grad = None
        h = table[x].reshape(batch, -1)
        for k, (w, b) in enumerate(ws):
            h = h @ w + b
            if k < len(ws) - 1:
                h = h.relu()
        logp = h.log_softmax(dim=1)
        loss = -logp[ember.arange(batch), y].mean()
        loss.backward()
        with ember.no_grad():
            for q in params:
                q.sub_(q.grad * 0.1)
        return loss

    return step, "hand-built MLP + SGD"


def _site_lookup_seconds():
    from ember.autograd.function import _creation_site

    def inner():  # the depth the recording code calls it from
        return _creation_site()

    def op():
        return inner()

    def call():
        return op()

    n = 20_000
    t0 = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - t0) / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="seed")
    ap.add_argument("--rounds", type=int, default=15, help="interleaved on/off rounds")
    ap.add_argument("--steps", type=int, default=None, help="steps per round")
    args = ap.parse_args(argv)
    try:
        import threadpoolctl

        threadpoolctl.threadpool_limits(limits=1, user_api="blas")
    except ImportError:
        pass
    step, kind = _model_step(args.size)
    k = args.steps or (5 if args.size == "seed" else 100)
    loss = step(0)
    nodes = graph.stats(loss).ops  # freed by now, but still counted
    for i in range(3 * k):  # warm-up
        step(i)
    times = {True: [], False: []}
    for r in range(args.rounds):
        for enabled in ((True, False) if r % 2 == 0 else (False, True)):
            record_creation_site.enabled = enabled
            t0 = time.perf_counter()
            for i in range(k):
                step(i)
            times[enabled].append((time.perf_counter() - t0) / k)
    record_creation_site.enabled = True
    on, off = statistics.median(times[True]), statistics.median(times[False])
    lookup = _site_lookup_seconds()
    print(f"creation-site recording, {args.size} training step ({kind}), "
          f"{args.rounds} rounds x {k} steps, 1 BLAS thread")
    print(f"  recording on   {on * 1e3:9.3f} ms/step")
    print(f"  recording off  {off * 1e3:9.3f} ms/step")
    print(f"  ratio on/off   {on / off:9.4f}x  (medians; target < 1.05x)")
    print(f"  ratio of mins  {min(times[True]) / min(times[False]):9.4f}x")
    print(f"  look-up        {lookup * 1e6:9.3f} us x {nodes} nodes/step = "
          f"{lookup * nodes * 1e6:.1f} us/step = {lookup * nodes / off:.2%} of the step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
