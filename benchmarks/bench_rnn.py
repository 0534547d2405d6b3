#!/usr/bin/env python3
"""Recurrent layers, forward + backward of a sum of the outputs, ember beside torch.

    python benchmarks/bench_rnn.py
    python benchmarks/bench_rnn.py --quick

One BLAS thread, float32. The LSTM cases also time a hand-written NumPy LSTM (one layer,
forward and backpropagation through time, preallocated buffers): the floor for any
NumPy-backed framework.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import interleaved_best, limit_threads, print_table, try_import_torch  # noqa: E402

import ember  # noqa: E402

# (name, layer, sequence length, batch, input size, hidden size, extra kwargs)
CASES = [
    ("LSTM L=32 N=16 64->128", "LSTM", 32, 16, 64, 128, {}),
    ("GRU L=32 N=16 64->128", "GRU", 32, 16, 64, 128, {}),
    ("RNN tanh L=32 N=16 64->128", "RNN", 32, 16, 64, 128, {}),
    ("LSTM 2 layers bidir L=10 N=4 16->32", "LSTM", 10, 4, 16, 32,
     {"num_layers": 2, "bidirectional": True}),
]


def framework_step(T, layer, length, batch, n_in, hidden, kwargs):
    """forward + backward of ``out.sum()`` for framework ``T`` (torch or ember)."""
    T.manual_seed(0)
    model = getattr(T.nn, layer)(n_in, hidden, **kwargs)
    x = T.randn(length, batch, n_in, requires_grad=True)

    def step():
        model.zero_grad()
        x.grad = None
        out, _ = model(x)
        out.sum().backward()

    return step


def numpy_lstm_step(length, batch, n_in, hidden):
    """A one-layer LSTM forward + backward of ``sum(outputs)``, written out in NumPy."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = rng.standard_normal((length, batch, n_in), dtype=f32)
    w_ih = rng.standard_normal((4 * hidden, n_in), dtype=f32) * 0.1
    w_hh = rng.standard_normal((4 * hidden, hidden), dtype=f32) * 0.1
    b = rng.standard_normal(4 * hidden, dtype=f32) * 0.1
    gates = np.empty((length, batch, 4 * hidden), f32)
    hs = np.zeros((length + 1, batch, hidden), f32)
    cs = np.zeros((length + 1, batch, hidden), f32)
    tcs = np.empty((length, batch, hidden), f32)
    dgates = np.empty_like(gates)
    g_w_hh, g_w_ih, g_b = np.empty_like(w_hh), np.empty_like(w_ih), np.empty_like(b)
    H = hidden

    def step():
        np.matmul(x.reshape(-1, n_in), w_ih.T, out=gates.reshape(-1, 4 * H))
        np.add(gates, b, out=gates)
        for t in range(length):
            a = gates[t]
            a += hs[t] @ w_hh.T
            a[:, 2 * H:3 * H] *= 2.0                         # tanh(x) = 2 sigmoid(2x) - 1
            np.negative(a, out=a)
            np.exp(a, out=a)
            a += 1.0
            np.reciprocal(a, out=a)
            g = a[:, 2 * H:3 * H]
            g *= 2.0
            g -= 1.0
            np.multiply(a[:, H:2 * H], cs[t], out=cs[t + 1])
            cs[t + 1] += a[:, :H] * g
            np.tanh(cs[t + 1], out=tcs[t])
            np.multiply(a[:, 3 * H:], tcs[t], out=hs[t + 1])
        dh = np.zeros((batch, H), f32)
        dc = np.zeros((batch, H), f32)
        g_w_hh.fill(0.0)
        for t in range(length - 1, -1, -1):
            dh += 1.0                                         # d sum(outputs) / d h_t
            a, tc, d = gates[t], tcs[t], dgates[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            dc += dh * o * (1.0 - tc * tc)
            np.multiply(dh * tc, o * (1.0 - o), out=d[:, 3 * H:])
            np.multiply(dc * g, i * (1.0 - i), out=d[:, :H])
            np.multiply(dc * cs[t], f * (1.0 - f), out=d[:, H:2 * H])
            np.multiply(dc * i, 1.0 - g * g, out=d[:, 2 * H:3 * H])
            np.add(g_w_hh, d.T @ hs[t], out=g_w_hh)
            dh = d @ w_hh
            dc *= f
        d2 = dgates.reshape(-1, 4 * H)
        np.matmul(d2.T, x.reshape(-1, n_in), out=g_w_ih)
        np.sum(d2, axis=0, out=g_b)
        return d2 @ w_ih                                     # the input's gradient

    return step


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    limiter = limit_threads(1)  # noqa: F841
    torch = try_import_torch(1)
    rounds = 3 if args.quick else 9
    rows = []
    for name, layer, length, batch, n_in, hidden, kwargs in CASES:
        fns = [framework_step(ember, layer, length, batch, n_in, hidden, kwargs)]
        fns.append(framework_step(torch, layer, length, batch, n_in, hidden, kwargs)
                   if torch else None)
        fns.append(numpy_lstm_step(length, batch, n_in, hidden)
                   if layer == "LSTM" and not kwargs else None)
        timed = [f for f in fns if f is not None]
        best = iter(interleaved_best(timed, rounds=rounds, inner=5, warmup=2))
        e, t, n = (next(best) if f is not None else None for f in fns)
        rows.append((name, e, t, n))
    print_table(f"Recurrent layers, forward + backward (best of {rounds} interleaved rounds, "
                "per step)", rows, unit="ms", scale=1e3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
