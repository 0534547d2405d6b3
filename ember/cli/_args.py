"""The ``ember`` argument parser."""
from __future__ import annotations

import argparse
import math

from ember.cli._defaults import LR_DEFAULTS, TRAIN_DEFAULTS, WORD_MAX_VOCAB, _model_defaults
from ember.cli._errors import CLIError
from ember.cli._run_dir import _version
from ember.cli.generate import cmd_generate
from ember.cli.graph import cmd_graph
from ember.cli.train import cmd_train


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) raised as CLIError."""

    def error(self, message):
        raise CLIError(f"{self.prog}: {message} (see {self.prog} --help)")


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value
    return parse


def _float_in(low: float, high: float, low_open: bool = False, high_open: bool = False,
              what: str = ""):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        ok = (value > low if low_open else value >= low) and \
             (value < high if high_open else value <= high)
        if not ok or math.isnan(value):
            raise argparse.ArgumentTypeError(what or f"out of range: {value}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The ``ember`` argument parser (subcommands ``train``, ``generate``, ``graph``)."""
    from ember.models import model_names

    d = TRAIN_DEFAULTS
    md = _model_defaults(d["model"])
    parser = _Parser(prog="ember", description="Train, sample from and inspect the notes' "
                     "language model, with ember (PyTorch's API on NumPy).")
    parser.add_argument("--version", action="version", version=f"ember {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train a language model (default: on the built-in corpus)",
                       description="Train a language model and write a run directory. With no "
                       "options it trains the notes' MLP on the built-in corpus in about a "
                       "minute.")
    t.set_defaults(func=cmd_train)
    g = t.add_argument_group("data")
    g.add_argument("--text", metavar="FILE",
                   help="UTF-8 text file to train on (default: the built-in corpus, Python "
                        "standard-library source)")
    g.add_argument("--level", choices=("char", "word", "byte"),
                   help="tokens: characters, words (lowercased, punctuation split), or UTF-8 "
                        f"bytes (default: {d['level']})")
    g.add_argument("--max-vocab", type=_int_at_least(2), metavar="N",
                   help=f"keep the N most frequent tokens (word level default "
                        f"{WORD_MAX_VOCAB:,}; rarer words become <unk>)")
    g.add_argument("--val-fraction", type=_float_in(0, 1, True, True,
                   "must be between 0 and 1 (exclusive)"), metavar="F",
                   help="fraction of the text, from its end, held out for validation "
                        f"(default: {d['val_fraction']})")
    g.add_argument("--workers", type=_int_at_least(0), metavar="N",
                   help=f"DataLoader worker processes (default: {d['workers']}; 0 loads "
                        "in this process)")
    g.add_argument("--threads", type=_int_at_least(1), metavar="N",
                   help=f"threads for NumPy's BLAS (default: {d['threads']}, fastest for "
                        "models this small; takes effect when threadpoolctl is installed)")
    m = t.add_argument_group("model")
    m.add_argument("--model", choices=model_names(),
                   help=f"model to train (default: {d['model']}; the sizes below default "
                        f"to that model's)")
    m.add_argument("--context", type=_int_at_least(1), metavar="N",
                   help=f"tokens the model reads to predict the next one (default: "
                        f"{md['context']})")
    m.add_argument("--embed-dim", type=_int_at_least(1), metavar="N",
                   help=f"embedding size per token (default: {md['embed_dim']})")
    m.add_argument("--hidden", type=_int_at_least(1), metavar="N",
                   help=f"width of each hidden layer (mlp), of the feed-forward block "
                        f"(gpt) or of the LSTM state (lstm) (default: {md['hidden']})")
    m.add_argument("--layers", type=_int_at_least(0), metavar="N",
                   help=f"hidden Linear-BatchNorm1d-ReLU-Dropout blocks (mlp), transformer "
                        f"blocks (gpt) or LSTM layers (lstm) (default: {md['layers']})")
    m.add_argument("--heads", type=_int_at_least(1), metavar="N",
                   help=f"attention heads per block (gpt only; default: "
                        f"{_model_defaults('gpt').get('heads')})")
    m.add_argument("--dropout", type=_float_in(0, 1, False, True,
                   "dropout probability has to be between 0 and 1 (excluding 1)"),
                   metavar="P", help=f"dropout after each hidden activation (default: "
                                     f"{md['dropout']})")
    o = t.add_argument_group("optimisation")
    length = o.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=_int_at_least(1), metavar="N",
                        help=f"passes over the training windows (default: {d['epochs']})")
    length.add_argument("--steps", type=_int_at_least(1), metavar="N",
                        help="optimizer steps in total, instead of --epochs")
    o.add_argument("--batch-size", type=_int_at_least(1), metavar="N",
                   help=f"windows per step (default: {d['batch_size']})")
    o.add_argument("--optimizer", choices=tuple(LR_DEFAULTS),
                   help=f"default: {d['optimizer']}; SGD uses momentum 0.9")
    o.add_argument("--lr", type=_float_in(0, math.inf, True, True,
                   "the learning rate must be a positive number"), metavar="LR",
                   help="learning rate (default: " + ", ".join(
                       f"{v:g} for {k}" for k, v in LR_DEFAULTS.items()) + ")")
    o.add_argument("--weight-decay", type=_float_in(0, math.inf, False, True,
                   "weight decay must be >= 0"), metavar="W",
                   help=f"weight decay (default: {d['weight_decay']})")
    o.add_argument("--schedule", choices=("cosine", "constant"),
                   help=f"learning rate schedule over the run (default: {d['schedule']}; "
                        "cosine decays to a tenth by the last step)")
    o.add_argument("--seed", type=int, metavar="S", help="seed for everything random "
                   f"(default: {d['seed']})")
    r = t.add_argument_group("run directory")
    r.add_argument("--out", metavar="DIR",
                   help="new run directory (default: runs/<date>-<time>)")
    r.add_argument("--resume", metavar="DIR",
                   help="continue the run in DIR exactly where it stopped; only --steps, "
                        "--epochs (to train longer), --workers and --threads may be given "
                        "with it")
    r.add_argument("--sample-tokens", type=_int_at_least(0), metavar="N",
                   help=f"tokens of text to generate at the end (default: "
                        f"{d['sample_tokens']})")

    gen = sub.add_parser("generate", help="generate text from a trained run",
                         description="Sample text from the model of a run directory.")
    gen.set_defaults(func=cmd_generate)
    gen.add_argument("--run", metavar="DIR", required=True, help="run directory")
    gen.add_argument("--prompt", default="", metavar="TEXT",
                     help="text to continue (default: none, start from scratch)")
    gen.add_argument("--tokens", type=_int_at_least(0), default=500, metavar="N",
                     help="tokens to generate (default: 500)")
    gen.add_argument("--temperature", type=_float_in(0, math.inf, False, True,
                     "temperature must be a number >= 0 (0 picks the likeliest token)"),
                     default=1.0, metavar="T",
                     help="below 1 safer, above 1 wilder; 0 is greedy (default: 1)")
    gen.add_argument("--top-k", type=_int_at_least(1), metavar="K",
                     help="sample only among the K likeliest tokens")
    gen.add_argument("--seed", type=int, metavar="S", help="seed, for repeatable samples")

    gr = sub.add_parser("graph", help="draw the autograd graph of one training step",
                        description="Record one training step of the model, write its "
                        "autograd graph as Graphviz DOT and as SVG (drawn by Graphviz's `dot` "
                        "when it is installed, by ember otherwise; PNG needs Graphviz), and "
                        "print the order in which backward visits the nodes.")
    gr.set_defaults(func=cmd_graph)
    gr.add_argument("--run", metavar="DIR",
                    help="use this run's model and vocabulary (default: a fresh model with "
                         "the default sizes)")
    gr.add_argument("--out", default="graph.dot", metavar="FILE",
                    help="where to write the graph: .dot, .svg, or .png (rendered by "
                         "Graphviz); the .dot file is always written beside it (default: "
                         "graph.dot, plus graph.svg)")
    gr.add_argument("--batch-size", type=_int_at_least(2), default=32, metavar="N",
                    help="windows in the recorded step (default: 32; BatchNorm1d needs 2)")
    gr.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default: 0)")
    return parser
