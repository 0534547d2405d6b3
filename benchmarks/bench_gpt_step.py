"""One GPT training step (forward, backward, AdamW, zero_grad), ember beside torch.

    python benchmarks/bench_gpt_step.py       # batch 32, block 64, 4 layers x 4 heads, width 128
    python benchmarks/bench_gpt_step.py --threads 2 --rounds 12 --profile

The model is ``examples/char_gpt.py`` itself, loaded twice: as written (``import ember as
torch``) and with that line replaced by ``import torch``; both start from the same weights
and see the same batch (the first-step losses are printed side by side). The two are timed
in interleaved rounds so that other load on the machine hits both alike; the table gives
the median and the minimum time per step. ``--profile`` prints ember's hottest functions.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import limit_threads, median_time, print_table, try_import_torch  # noqa: E402

EXAMPLE = os.path.join(HERE, os.pardir, "examples", "char_gpt.py")


def load_example(backend: str) -> types.ModuleType:
    """``examples/char_gpt.py`` as a module running on ``backend`` ("ember" or "torch")."""
    with open(EXAMPLE, encoding="utf-8") as f:
        source = f.read()
    if backend == "torch":
        source = source.replace("\nimport ember as torch\n", "\nimport torch\n", 1)
    module = types.ModuleType(f"char_gpt_{backend}")
    module.__file__ = EXAMPLE
    sys.modules[module.__name__] = module  # dataclasses look the module up by name
    exec(compile(source, EXAMPLE, "exec"), module.__dict__)
    return module


def make_step(mod, state, x, y, config):
    """A closure running one training step of ``mod``'s GPT from ``state``."""
    lib = mod.torch
    model = mod.GPT(mod.GPTConfig(**config))
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    optimizer = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95), "cpu")
    xb, yb = lib.tensor(x), lib.tensor(y)

    def step():
        _, loss = model(xb, yb)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--block", type=int, default=64)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=65)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=8, help="interleaved timing rounds")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round and side")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    limit_threads(args.threads)
    torch = try_import_torch(args.threads)
    config = dict(block_size=args.block, vocab_size=args.vocab, n_layer=args.layers,
                  n_head=args.heads, n_embd=args.width, dropout=0.0, bias=False)
    rs = np.random.RandomState(0)
    x = rs.randint(0, args.vocab, (args.batch, args.block)).astype(np.int64)
    y = rs.randint(0, args.vocab, (args.batch, args.block)).astype(np.int64)

    ember_mod = load_example("ember")
    ember_mod.torch.manual_seed(0)
    state = {k: v.numpy().copy()
             for k, v in ember_mod.GPT(ember_mod.GPTConfig(**config)).state_dict().items()}
    e_step = make_step(ember_mod, state, x, y, config)
    t_step = make_step(load_example("torch"), state, x, y, config) if torch else None
    if t_step is not None:
        e_loss, t_loss = e_step().item(), t_step().item()
        print(f"first-step loss: ember {e_loss:.6f}  torch {t_loss:.6f}")

    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(10):
            e_step()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)

    # Interleaved rounds, so that load from other processes hits both sides alike; the
    # minimum is the least disturbed figure, the median the typical one.
    e_times, t_times = [], []
    for _ in range(args.rounds):
        e_times.append(median_time(e_step, warmup=1, min_time=0, min_iters=args.steps))
        if t_step is not None:
            t_times.append(median_time(t_step, warmup=1, min_time=0, min_iters=args.steps))
    name = f"b{args.batch} T{args.block} L{args.layers} H{args.heads} C{args.width}"
    rows = [(f"{name} (median)", statistics.median(e_times),
             statistics.median(t_times) if t_times else None, None),
            (f"{name} (min)", min(e_times), min(t_times) if t_times else None, None)]
    print_table(f"GPT training step, {args.threads} BLAS thread(s), {args.rounds} interleaved "
                f"rounds", rows, unit="ms", scale=1e3)

if __name__ == "__main__":
    main()
