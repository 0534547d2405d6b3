#!/usr/bin/env python3
"""Where the time of one small training step goes: the ops' own NumPy work against the
machinery around them (recording the graph, the backward engine, modules, the optimizer).

The workload is the notes' LM step of ``../shared/bench/lm_step.py`` (``--size tiny`` by
default), one BLAS thread. Each figure is the best of interleaved rounds:

- the whole step, beside the hand-written NumPy floor of the same workload;
- forward + loss with grad mode on, and under ``no_grad`` (the difference is what recording
  the graph costs: nodes, edges, saved arrays, version records, creation sites);
- ``backward()`` on a retained graph, and the same with every node's backward replaced by a
  lookup of its result (what is left is the engine: ordering, buffers, accumulation);
- ``optimizer.step()`` beside the NumPy calls of its update alone.

    python benchmarks/bench_step_breakdown.py
    python benchmarks/bench_step_breakdown.py --size seed --rounds 5
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy  # noqa: F401  (loaded before threadpoolctl looks for BLAS libraries)
import threadpoolctl

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench")))
sys.path.insert(0, os.path.dirname(HERE))

import lm_step  # noqa: E402
from _common import interleaved_best  # noqa: E402

import ember  # noqa: E402


def _op_classes(root):
    """The op classes (``node._fn``) of every node in the graph below ``root``."""
    ops, seen, stack = set(), set(), [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if getattr(node, "_fn", None) is not None:
            ops.add(node._fn)
        stack.extend(fn for fn, _ in node.next_functions)
    return ops


def best_us(fns, rounds, inner):
    """Best microseconds per call of each function, timed in interleaved rounds."""
    return [t * 1e6 for t in interleaved_best(fns, rounds=rounds, inner=inner, warmup=0)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=["tiny", "seed", "wide"], default="tiny")
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    sz = lm_step.SIZES[args.size]
    inner = {"tiny": 200, "seed": 5, "wide": 1}[args.size]
    model, opt, step, to_t = lm_step.torchlike_runner(ember, sz, sz.dropout, 0)
    batches = [(to_t(x), to_t(y)) for x, y in lm_step.make_batches(sz, 1)]
    floor = lm_step.NumpyLM(sz, sz.dropout, 0)
    np_batches = lm_step.make_batches(sz, 1)
    limiter = threadpoolctl.threadpool_limits(limits=1)  # noqa: F841
    F = ember.nn.functional
    x, y = batches[0]
    counter = iter(range(10**9))

    def whole():
        step(*batches[next(counter) % 4])

    def numpy_floor():
        floor.step(*np_batches[next(counter) % 4])

    def forward():
        F.cross_entropy(model(x), y)

    def forward_untracked():
        with ember.no_grad():
            F.cross_entropy(model(x), y)

    for _ in range(20):
        whole()
        numpy_floor()
    t_step, t_floor, t_fwd, t_fwd0 = best_us(
        [whole, numpy_floor, forward, forward_untracked], args.rounds, inner)

    loss = F.cross_entropy(model(x), y)
    results = {}
    ops = _op_classes(loss.grad_fn)
    originals = {op: op.__dict__.get("backward") for op in ops}

    def set_backwards(make):  # every op's backward replaced by make(the original function)
        for op in ops:
            op.backward = staticmethod(make(op.backward))

    def restore():
        for op, original in originals.items():
            if original is None:
                delattr(op, "backward")
            else:
                op.backward = original

    set_backwards(lambda f: lambda ctx, *g: results.setdefault(id(ctx), f(ctx, *g)))
    loss.backward(retain_graph=True)
    restore()

    def backward():
        loss.backward(retain_graph=True)

    def backward_engine_only():
        set_backwards(lambda f: lambda ctx, *g: results[id(ctx)])
        try:
            loss.backward(retain_graph=True)
        finally:
            restore()

    t_bwd, t_engine = best_us([backward, backward_engine_only], args.rounds, inner)

    params = [p for group in opt.param_groups for p in group["params"]]
    flat = numpy.concatenate([p._data.reshape(-1) for p in params])
    m, v, tmp = numpy.zeros_like(flat), numpy.zeros_like(flat), numpy.empty_like(flat)

    def adamw_numpy():  # the update's NumPy calls on one flat buffer, as the floor does them
        np = numpy
        np.multiply(flat, 1 - 1e-5, out=flat)
        np.multiply(m, 0.9, out=m)
        np.multiply(flat, 0.1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(v, 0.999, out=v)
        np.multiply(flat, flat, out=tmp)
        np.multiply(tmp, 0.001, out=tmp)
        np.add(v, tmp, out=v)
        np.sqrt(v, out=tmp)
        np.add(tmp, 1e-8, out=tmp)
        np.divide(m, tmp, out=tmp)
        np.subtract(flat, tmp, out=flat)

    t_opt, t_opt_np = best_us([opt.step, adamw_numpy], args.rounds, inner)

    def line(name, value, note=""):
        print(f"{name:<44}{value:>10.1f} us  {note}")

    print(f"the notes' LM step, size {args.size}, one BLAS thread, best of {args.rounds} "
          "interleaved rounds")
    line("whole step (zero_grad, forward, backward, step)", t_step,
         f"{t_step / t_floor:.2f}x the NumPy floor")
    line("hand-written NumPy floor", t_floor)
    line("forward + loss, recording the graph", t_fwd)
    line("forward + loss under no_grad", t_fwd0, f"recording costs {t_fwd - t_fwd0:.1f} us")
    line("backward (retained graph)", t_bwd)
    line("  the engine alone (node bodies replaced)", t_engine,
         f"node bodies {t_bwd - t_engine:.1f} us")
    line("optimizer.step()", t_opt)
    line("  its NumPy update on one flat buffer", t_opt_np,
         f"bookkeeping {t_opt - t_opt_np:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
