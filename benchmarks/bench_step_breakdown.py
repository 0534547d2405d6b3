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
- the ops' NumPy forward and backward bodies alone, called in order on arrays, beside the
  floor's forward + backward (what the step would cost with no machinery at all);
- ``optimizer.step()`` beside the NumPy calls of its update alone;
- the same step on a bare graph around the same op bodies (``_bare_graph.py``: no hooks,
  checks or version counters), first checked to give ember's losses: what the graph itself
  costs, against what torch's semantics cost on top.

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
from _bare_graph import bare_step  # noqa: E402
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


def _op_bodies(model, x, y):
    """The step's forward and backward as the op bodies alone: each op's NumPy ``forward``
    and ``backward`` called in order on arrays, with no modules, nodes, engine or checks
    around them (what ember's machinery adds is the whole step minus this)."""
    from ember.autograd.function import Node
    from ember.nn._functions.batch_norm import BatchNorm
    from ember.nn._functions.cross_entropy import CrossEntropy
    from ember.nn._functions.dropout import Dropout
    from ember.nn._functions.embedding import EmbeddingLookup
    from ember.ops.activation import Relu
    from ember.ops.linalg import Linear

    class Ctx(Node):
        needs_input_grad = (True, True, True)

    gen = ember.default_generator
    idx, target = x._data, y._data
    emb = model.emb.weight._data
    layers = list(model.body)
    blocks = [(layers[i], layers[i + 1], layers[i + 3]) for i in range(0, len(layers), 4)]
    head_w, head_b = model.head.weight._data, model.head.bias._data
    grad_loss = numpy.ones((), numpy.float32)

    def run():
        ctx_emb, ctxs = Ctx(), []
        h = EmbeddingLookup.forward(ctx_emb, emb, idx=idx)
        h = h.reshape(h.shape[0], -1)
        for lin, bn, drop in blocks:
            c = (Ctx(), Ctx(), Ctx(), Ctx())
            h = Linear.forward(c[0], h, lin.weight._data, lin.bias._data)
            h = BatchNorm.forward(c[1], h, bn.weight._data, bn.bias._data,
                                  running_mean=bn.running_mean._data,
                                  running_var=bn.running_var._data, training=True,
                                  momentum=bn.momentum, eps=bn.eps)
            h = Relu.forward(c[2], h)
            h = Dropout.forward(c[3], h, p=drop.p, generator=gen)
            ctxs.append(c)
        ctx_head, ctx_loss = Ctx(), Ctx()
        logits = Linear.forward(ctx_head, h, head_w, head_b)
        CrossEntropy.forward(ctx_loss, logits, target=target)
        g = CrossEntropy.backward(ctx_loss, grad_loss)
        g = Linear.backward(ctx_head, g)[0]
        for c in reversed(ctxs):
            g = Relu.backward(c[2], Dropout.backward(c[3], g)[0])
            g = Linear.backward(c[0], BatchNorm.backward(c[1], g)[0])[0]
        EmbeddingLookup.backward(ctx_emb, g.reshape(idx.shape + emb.shape[1:]))

    return run


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

    bare_model = lm_step.torchlike_runner(ember, sz, sz.dropout, 0)[0]
    bare = bare_step(bare_model)
    check_model, _, check_step, _ = lm_step.torchlike_runner(ember, sz, sz.dropout, 0)
    ember.manual_seed(1)
    ours = [check_step(*batches[i % 4]).item() for i in range(8)]
    ember.manual_seed(1)
    theirs = [float(bare(*np_batches[i % 4]).data) for i in range(8)]
    bare_error = max(abs(a - b) / abs(a) for a, b in zip(ours, theirs))

    def bare_graph():
        bare(*np_batches[next(counter) % 4])

    for _ in range(20):
        whole()
        numpy_floor()
        bare_graph()
    t_step, t_floor, t_bare, t_fwd, t_fwd0 = best_us(
        [whole, numpy_floor, bare_graph, forward, forward_untracked], args.rounds, inner)

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

    bodies = _op_bodies(model, x, y)
    np_x, np_y = np_batches[0]
    t_bodies, t_floor_fb = best_us(
        [bodies, lambda: floor.forward_backward(np_x, np_y)], args.rounds, inner)

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
    line("the same step on a bare graph", t_bare,
         f"{t_bare / t_floor:.2f}x the floor (losses within {bare_error:.1g} of ember's)")
    line("forward + loss, recording the graph", t_fwd)
    line("forward + loss under no_grad", t_fwd0, f"recording costs {t_fwd - t_fwd0:.1f} us")
    line("backward (retained graph)", t_bwd)
    line("  the engine alone (node bodies replaced)", t_engine,
         f"node bodies {t_bwd - t_engine:.1f} us")
    line("the ops' forward and backward bodies alone", t_bodies,
         f"{t_bodies / t_floor_fb:.2f}x the floor's forward + backward ({t_floor_fb:.1f} us)")
    line("optimizer.step()", t_opt)
    line("  its NumPy update on one flat buffer", t_opt_np,
         f"bookkeeping {t_opt - t_opt_np:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
