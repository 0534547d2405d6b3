"""The ``ember`` command (also ``python -m ember``): train, sample from and look inside the
notes' language model.

::

    ember train [--text FILE] [--level char|word|byte] [--model mlp] [sizes]
                [--epochs N | --steps N] [--lr LR] [--optimizer adamw|adam|sgd]
                [--out DIR] [--resume DIR] ...
    ember generate --run DIR [--prompt TEXT] [--tokens N] [--temperature T] [--top-k K]
                   [--seed S]
    ember graph [--run DIR] [--out FILE]

A run directory holds everything a run needs to be continued or sampled from, each file
written atomically (a crash leaves the previous version, never half a file):

=========================  ===============================================================
``config.json``            model name and sizes, data and training options, corpus origin
``vocab.json``             the Vocab (:meth:`ember.text.Vocab.save`)
``model.safetensors``      the model's state dict, readable by ``safetensors`` and torch
``checkpoint.safetensors`` model, optimizer, scheduler, RNG and DataLoader state, counters
``metrics.csv`` / ``.json`` one row per evaluation; the JSON adds the training-loss curve
``loss.png``               the loss curves (when matplotlib is installed)
``sample.txt``             text generated at the end of training
=========================  ===============================================================

Bad input (a missing, empty or non-UTF-8 text file, a corpus shorter than one window, a
directory that is not a run, contradictory options) ends the command with exit status 2
and one line on stderr, before anything is written.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import hashlib
import inspect
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
import warnings

__all__ = ["main", "build_parser"]

RUN_FORMAT = "ember-run"
RUN_VERSION = 1
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
MODEL_FILE = "model.safetensors"
CHECKPOINT_FILE = "checkpoint.safetensors"
METRICS_CSV = "metrics.csv"
METRICS_JSON = "metrics.json"
LOSS_PNG = "loss.png"
SAMPLE_FILE = "sample.txt"

# Training defaults; a model class may override them with a ``train_defaults`` dict.
TRAIN_DEFAULTS = {
    "model": "mlp",
    "level": "char",
    "batch_size": 256,
    "epochs": 1,
    "optimizer": "adamw",
    "lr": None,  # the optimizer's entry in LR_DEFAULTS
    "weight_decay": 0.01,
    "schedule": "cosine",
    "val_fraction": 0.1,
    "workers": 0,
    "threads": 1,
    "seed": 0,
    "max_vocab": None,  # word level: 10,000
    "sample_tokens": 400,
}
LR_DEFAULTS = {"adamw": 1e-2, "adam": 1e-2, "sgd": 0.1}
WORD_MAX_VOCAB = 10_000
# Model-size options: CLI flag -> constructor argument; defaults come from the constructor.
SIZE_OPTIONS = {"--context": "context", "--embed-dim": "embed_dim", "--hidden": "hidden",
                "--layers": "layers", "--heads": "heads", "--dropout": "dropout"}
# Options `--resume` accepts: the run's own settings are fixed in its config.json.
RESUME_OPTIONS = {"steps", "epochs", "workers", "threads"}


class CLIError(Exception):
    """A problem with the user's input: one line on stderr, exit status ``code``."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


# --- argument parsing -------------------------------------------------------------------------

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
                   help=f"width of each hidden layer (mlp) or of the feed-forward block "
                        f"(gpt) (default: {md['hidden']})")
    m.add_argument("--layers", type=_int_at_least(0), metavar="N",
                   help=f"hidden Linear-BatchNorm1d-ReLU-Dropout blocks (mlp) or transformer "
                        f"blocks (gpt) (default: {md['layers']})")
    m.add_argument("--heads", type=_int_at_least(1), metavar="N",
                   help="attention heads per block (gpt only)")
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
                        "autograd graph as Graphviz DOT (and SVG/PNG when Graphviz's `dot` "
                        "is installed), and print the order in which backward visits the "
                        "nodes.")
    gr.set_defaults(func=cmd_graph)
    gr.add_argument("--run", metavar="DIR",
                    help="use this run's model and vocabulary (default: a fresh model with "
                         "the default sizes)")
    gr.add_argument("--out", default="graph.dot", metavar="FILE",
                    help="where to write the graph: .dot, or .svg/.png to render it with "
                         "Graphviz (default: graph.dot, plus graph.svg when Graphviz is "
                         "installed)")
    gr.add_argument("--batch-size", type=_int_at_least(2), default=32, metavar="N",
                    help="windows in the recorded step (default: 32; BatchNorm1d needs 2)")
    gr.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default: 0)")
    return parser


def _model_defaults(name: str) -> dict:
    """The constructor defaults of model ``name`` (its sizes when no option is given)."""
    from ember.models import get_model_class

    params = inspect.signature(get_model_class(name).__init__).parameters
    return {k: p.default for k, p in params.items()
            if k not in ("self", "vocab_size") and p.default is not inspect.Parameter.empty}


def main(argv: list[str] | None = None) -> int:
    """Run the ``ember`` command line; returns the exit status.

    0: success; 1: a failure while running (reported in one line); 2: bad input or
    options (nothing written); 130: interrupted (a training run saves a checkpoint first).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        return args.func(args)
    except CLIError as e:
        _err(str(e))
        return e.code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 1
    except Exception as e:  # a bug, not bad input: one line unless EMBER_DEBUG asks for more
        if os.environ.get("EMBER_DEBUG"):
            raise
        _err(f"{type(e).__name__}: {e} (set EMBER_DEBUG=1 to see the traceback)")
        return 1


def _err(message: str) -> None:
    message = " ".join(str(message).split())  # one line, whatever the message held
    if not message.startswith("ember"):
        message = f"ember: error: {message}"
    print(message, file=sys.stderr, flush=True)


def _version() -> str:
    import ember

    return ember.__version__


# --- files ------------------------------------------------------------------------------------

def _atomic(path, mode="w"):
    from ember._io import atomic_write

    return atomic_write(path, mode)


def _write_json(path: str, obj) -> None:
    with _atomic(path, "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, allow_nan=True)
        f.write("\n")


def _read_text_file(path: str) -> str:
    """The file as text with ``\\n`` line ends; CLIError for every way it can be unusable."""
    shown = f"--text {path}"
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise CLIError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{shown}: is a directory, not a text file") from None
    except PermissionError:
        raise CLIError(f"{shown}: permission denied") from None
    except OSError as e:
        raise CLIError(f"{shown}: cannot read it ({e.strerror or e})") from None
    if not raw:
        raise CLIError(f"{shown}: the file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CLIError(f"{shown}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset "
                       f"{e.start} is invalid); convert it first, e.g. with "
                       f"`iconv -f latin1 -t utf-8`") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise CLIError(f"{shown}: the file holds only whitespace")
    return text


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _is_run_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, CONFIG_FILE)) and \
        os.path.isfile(os.path.join(path, VOCAB_FILE))


def _load_run_config(path: str, option: str) -> dict:
    """config.json of run directory ``path``; CLIError if it is not one."""
    shown = f"{option} {path}"
    if not os.path.exists(path):
        raise CLIError(f"{shown}: no such directory")
    if not os.path.isdir(path):
        raise CLIError(f"{shown}: not a directory")
    cfg_path = os.path.join(path, CONFIG_FILE)
    if not os.path.isfile(cfg_path):
        raise CLIError(f"{shown}: not an ember run directory (no {CONFIG_FILE}; "
                       f"`ember train --out DIR` makes one)")
    try:
        with open(cfg_path, "rb") as f:
            cfg = json.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CLIError(f"{shown}: {CONFIG_FILE} is unreadable ({e})") from None
    if not isinstance(cfg, dict) or cfg.get("format") != RUN_FORMAT:
        raise CLIError(f"{shown}: {CONFIG_FILE} is not an ember run configuration")
    if not isinstance(cfg.get("version"), int) or cfg["version"] > RUN_VERSION:
        raise CLIError(f"{shown}: written by a newer ember (run format "
                       f"{cfg.get('version')!r}, this one reads {RUN_VERSION})")
    for key in ("model", "model_config", "data", "train"):
        if not isinstance(cfg.get(key), (dict, str)):
            raise CLIError(f"{shown}: {CONFIG_FILE} lacks {key!r}")
    return cfg


def _load_vocab(path: str, option: str):
    from ember.text import Vocab

    vocab_path = os.path.join(path, VOCAB_FILE)
    if not os.path.isfile(vocab_path):
        raise CLIError(f"{option} {path}: the run has no {VOCAB_FILE}")
    try:
        return Vocab.load(vocab_path)
    except (OSError, ValueError) as e:
        raise CLIError(f"{option} {path}: {e}") from None


def _load_tensors(path: str, what: str, option: str, run: str):
    import ember

    if not os.path.isfile(path):
        raise CLIError(f"{option} {run}: the run has no {os.path.basename(path)} ({what})")
    try:
        return ember.load(path)
    except Exception as e:  # a damaged file: any reader error means the same to the user
        raise CLIError(f"{option} {run}: cannot read {os.path.basename(path)}: {e}") from None


def _build_model_from_config(cfg: dict, option: str, run: str):
    from ember.models import build_model

    try:
        return build_model(cfg["model"], **cfg["model_config"])
    except (KeyError, TypeError, ValueError) as e:
        raise CLIError(f"{option} {run}: {CONFIG_FILE} describes a model ember cannot "
                       f"build ({e})") from None


def _load_weights(model, state, option: str, run: str) -> None:
    try:
        model.load_state_dict(state)
    except (KeyError, RuntimeError, ValueError, TypeError) as e:
        raise CLIError(f"{option} {run}: the saved weights do not fit the model "
                       f"({str(e).splitlines()[0]})") from None


# --- data -------------------------------------------------------------------------------------

def _load_corpus(text_path: str | None) -> tuple[str, dict]:
    """The training text and a description of where it came from."""
    if text_path is None:
        from ember.text import builtin_corpus

        corpus = builtin_corpus()
        return corpus.text, {"text": None, "origin": corpus.description}
    text = _read_text_file(text_path)
    return text, {"text": os.path.abspath(text_path),
                  "origin": f"{len(text):,} characters from {os.path.abspath(text_path)}"}


def _build_vocab(text: str, level: str, max_vocab: int | None):
    from ember.text import Vocab

    limit = max_vocab or (WORD_MAX_VOCAB if level == "word" else None)
    if level == "byte" or limit is None:
        return Vocab.from_text(text, tokenizer=level)
    # a capped vocabulary maps the tokens it drops to <unk>
    vocab = Vocab.from_text(text, tokenizer=level, specials=["<unk>"], max_tokens=limit)
    vocab.set_default_index(vocab["<unk>"])
    return vocab


def _split(ids, val_fraction: float):
    """(train ids, validation ids): the validation text is the end of the corpus."""
    n = len(ids)
    n_val = int(round(n * val_fraction))
    return ids[: n - n_val], ids[n - n_val:]


def _pad_id(vocab) -> int:
    for token in ("\n", "<unk>", " "):
        if token in vocab:
            return vocab[token]
    return 0


def _ignore_sigint(worker_id: int) -> None:
    # Ctrl-C goes to the whole process group: the main process saves a checkpoint and
    # stops the workers itself, so they must not die half-way through a batch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# --- train ------------------------------------------------------------------------------------

class _Settings(dict):
    """Resolved training settings (attribute access for readability)."""

    __getattr__ = dict.__getitem__


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _model_kwargs(model_cls, args) -> dict:
    """Size options given on the command line, checked against the model's constructor."""
    params = inspect.signature(model_cls.__init__).parameters
    kwargs = {}
    for flag, name in SIZE_OPTIONS.items():
        value = getattr(args, name)
        if value is None:
            continue
        if name not in params:
            raise CLIError(f"{flag} does not apply to --model {model_cls.name}")
        kwargs[name] = value
    return kwargs


def _new_settings(args) -> _Settings:
    from ember.models import get_model_class

    model_name = args.model or TRAIN_DEFAULTS["model"]
    model_cls = get_model_class(model_name)
    defaults = dict(TRAIN_DEFAULTS, **getattr(model_cls, "train_defaults", {}))
    s = _Settings({k: (getattr(args, k) if getattr(args, k, None) is not None else v)
                   for k, v in defaults.items()})
    s["model"] = model_name
    if args.steps is not None:
        s["epochs"] = None
    s["steps"] = args.steps
    if s.lr is None:
        s["lr"] = LR_DEFAULTS[s.optimizer]
    if s.level == "byte" and s.max_vocab is not None:
        raise CLIError("--max-vocab cannot be used with --level byte (its 256 bytes are all "
                       "needed to encode any text)")
    s["text"] = args.text
    s["model_kwargs"] = _model_kwargs(model_cls, args)
    return s


def _check_out_dir(out: str) -> None:
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise CLIError(f"--out {out}: exists and is not a directory")
        if _is_run_dir(out):
            raise CLIError(f"--out {out}: already holds a run; continue it with --resume {out} "
                           f"or choose another --out")
        if os.listdir(out):
            raise CLIError(f"--out {out}: exists and is not empty; choose a new or empty "
                           f"directory")


def _default_out() -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = os.path.join("runs", stamp)
    k = 2
    while os.path.exists(out):
        out = os.path.join("runs", f"{stamp}-{k}")
        k += 1
    return out


def _prepare(s: _Settings, text: str, vocab, data_info: dict) -> types.SimpleNamespace:
    """Model, datasets, loaders, optimizer and scheduler for settings ``s`` (the same for a
    new run and a resumed one); CLIError if the text cannot make one window or one batch."""
    import ember
    from ember.models import build_model, unigram_loss
    from ember.utils.data import DataLoader

    ids = vocab.encode(text).numpy()
    ember.manual_seed(s.seed)
    model = build_model(s.model, **s.model_config)
    context = model.context_size
    shown = "the built-in corpus" if data_info["text"] is None else f"--text {data_info['text']}"
    window = context + 1
    if len(ids) < window:
        raise CLIError(f"{shown} has {len(ids):,} {s.level} tokens, fewer than one window of "
                       f"--context {context} + 1 = {window} tokens; use a longer text or a "
                       f"smaller --context")
    train_ids, val_ids = _split(ids, s.val_fraction)
    if len(val_ids) < window:
        raise CLIError(f"the held-out text (--val-fraction {s.val_fraction}) has "
                       f"{len(val_ids):,} tokens, fewer than one window of {window}; use a "
                       f"larger --val-fraction, a smaller --context or a longer text")
    train_ds = model.make_dataset(train_ids)
    val_ds = model.make_dataset(val_ids)
    if len(train_ds) < s.batch_size:
        raise CLIError(f"the training text has {len(train_ds):,} windows, fewer than one "
                       f"batch (--batch-size {s.batch_size}); use a longer text, a smaller "
                       f"--batch-size or a smaller --val-fraction")
    data_gen = ember.Generator().manual_seed(s.seed)
    loader = DataLoader(train_ds, batch_size=s.batch_size, shuffle=True, drop_last=True,
                        num_workers=s.workers, generator=data_gen,
                        worker_init_fn=_ignore_sigint if s.workers else None,
                        persistent_workers=s.workers > 0)
    # NOTE: a loader without a generator draws its workers' base seed from the global
    # generator at every iter(), as torch's does; its own keeps evaluation from shifting
    # the dropout stream, so a resumed run matches an uninterrupted one.
    val_loader = DataLoader(val_ds, batch_size=1024, shuffle=False,
                            generator=ember.Generator().manual_seed(s.seed))
    steps_per_epoch = len(loader)
    total = s.steps if s.steps is not None else s.epochs * steps_per_epoch
    optimizer = _make_optimizer(s, model)
    scheduler = None
    if s.schedule == "cosine":
        from ember.optim.lr_scheduler import CosineAnnealingLR

        scheduler = CosineAnnealingLR(optimizer, T_max=max(total, 1), eta_min=s.lr / 10)
    # the baseline scores the same targets as validation: every token after the first window
    unigram = unigram_loss(train_ids, val_ids[context:], len(vocab))
    return types.SimpleNamespace(
        model=model, loader=loader, val_loader=val_loader, optimizer=optimizer,
        scheduler=scheduler, total=total, steps_per_epoch=steps_per_epoch,
        train_ids=train_ids, val_ids=val_ids, vocab=vocab, unigram=unigram)


def _make_optimizer(s, model):
    import ember.optim as optim

    params = model.parameters()
    if s.optimizer == "sgd":
        return optim.SGD(params, lr=s.lr, momentum=0.9, weight_decay=s.weight_decay)
    if s.optimizer == "adam":
        return optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
    return optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay)


def cmd_train(args) -> int:
    """``ember train``: see ``ember train --help``."""
    if args.resume is not None:
        return _train_resume(args)
    s = _new_settings(args)
    out = args.out if args.out is not None else _default_out()
    _check_out_dir(out)
    text, data_info = _load_corpus(s.text)
    vocab = _build_vocab(text, s.level, s.max_vocab)
    model_config = _model_defaults(s.model)
    model_config.update(s.model_kwargs)
    model_config = {"vocab_size": len(vocab), **model_config}
    s["model_config"] = model_config
    job = _prepare(s, text, vocab, data_info)
    # Everything checked: from here on the run directory is written.
    data_info.update(level=s.level, sha256=_sha256(text), num_chars=len(text),
                     num_tokens=int(len(job.train_ids) + len(job.val_ids)),
                     train_tokens=int(len(job.train_ids)), val_tokens=int(len(job.val_ids)),
                     vocab_size=len(vocab))
    config = {
        "format": RUN_FORMAT, "version": RUN_VERSION, "ember_version": _version(),
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "model": s.model, "model_config": s.model_config, "data": data_info,
        "train": {k: s[k] for k in ("batch_size", "epochs", "steps", "optimizer", "lr",
                                    "weight_decay", "schedule", "val_fraction", "seed",
                                    "max_vocab", "sample_tokens")},
    }
    config["train"]["total_steps"] = job.total
    config["train"]["steps_per_epoch"] = job.steps_per_epoch
    os.makedirs(out, exist_ok=True)
    _write_json(os.path.join(out, CONFIG_FILE), config)
    vocab.save(os.path.join(out, VOCAB_FILE))
    state = {"step": 0, "epoch": 0, "batch_in_epoch": 0, "tokens": 0, "elapsed": 0.0,
             "history": [], "curve": [], "since_eval": [0.0, 0], "since_log": [0.0, 0],
             "finished": False}
    _print(f"corpus: {data_info['origin']}")
    n_params = sum(p.numel() for p in job.model.parameters())
    _print(f"{s.level} tokens: {len(job.train_ids):,} train, {len(job.val_ids):,} validation; "
           f"vocabulary {len(vocab):,}; model {s.model} ({n_params:,} parameters); "
           f"{job.total:,} steps of {s.batch_size} ({job.steps_per_epoch:,} per epoch)")
    _print(f"run directory: {out}")
    return _train_loop(out, config, s, job, state, resumed=False)


def _train_resume(args) -> int:
    import ember

    run = args.resume
    cfg = _load_run_config(run, "--resume")
    given = [n for n in vars(args) if n not in RESUME_OPTIONS | {"resume", "command", "func"}
             and getattr(args, n) is not None]
    if given:
        flags = ", ".join(_flag(n) for n in given)
        raise CLIError(f"--resume takes the run's settings from {run}/{CONFIG_FILE}; "
                       f"{flags} cannot be given with it (only --steps, --epochs, --workers, "
                       f"--threads)")
    tr = cfg["train"]
    s = _Settings(TRAIN_DEFAULTS)
    s.update({k: tr[k] for k in tr if k in TRAIN_DEFAULTS or k in ("steps",)})
    s.update(model=cfg["model"], level=cfg["data"]["level"], text=cfg["data"]["text"],
             model_config=cfg["model_config"], workers=args.workers or 0,
             threads=args.threads or TRAIN_DEFAULTS["threads"])
    vocab = _load_vocab(run, "--resume")
    if not os.path.isfile(os.path.join(run, CHECKPOINT_FILE)):
        raise CLIError(f"--resume {run}: the run stopped before its first checkpoint (the end "
                       f"of an epoch, or Ctrl-C), so there is nothing to resume; start it "
                       f"again with another --out")
    ckpt = _load_tensors(os.path.join(run, CHECKPOINT_FILE), "the training state", "--resume",
                         run)
    needed = {"model", "optimizer", "scheduler", "loader", "rng", "progress"}
    if not isinstance(ckpt, dict) or ckpt.get("format") != "ember-checkpoint" or \
            not needed <= set(ckpt) or not isinstance(ckpt["progress"], dict):
        raise CLIError(f"--resume {run}: {CHECKPOINT_FILE} is not an ember training checkpoint")
    if s.text is not None and not os.path.exists(s.text):
        raise CLIError(f"--resume {run}: its text file {s.text} is gone")
    text, data_info = _load_corpus(s.text)
    if _sha256(text) != cfg["data"].get("sha256"):
        what = "the built-in corpus" if s.text is None else s.text
        raise CLIError(f"--resume {run}: {what} changed since the run started, so the run "
                       f"cannot continue exactly; start a new run")
    data_info = dict(cfg["data"])
    state = dict(ckpt["progress"])
    # A new length: --steps N or --epochs N replace the recorded one.
    old_total = tr["total_steps"]
    if args.steps is not None:
        s["steps"], s["epochs"] = args.steps, None
    elif args.epochs is not None:
        s["steps"], s["epochs"] = None, args.epochs
    job = _prepare(s, text, vocab, data_info)
    if job.total < state["step"]:
        raise CLIError(f"--resume {run}: the run has already taken {state['step']:,} steps, "
                       f"more than the {job.total:,} asked for")
    if job.total != old_total and s.schedule == "cosine":
        # a stretched cosine would not be the schedule the finished part followed
        raise CLIError(f"--resume {run}: this run's learning rate follows a cosine schedule "
                       f"over {old_total:,} steps, so it cannot be made longer or shorter "
                       f"({job.total:,} asked for); train with --schedule constant to extend "
                       f"runs later")
    if job.total == state["step"] and state.get("finished"):
        _print(f"{run} has already finished its {state['step']:,} steps; pass --steps or "
               f"--epochs to train it longer")
        return 0
    _load_weights(job.model, ckpt["model"], "--resume", run)
    try:
        job.optimizer.load_state_dict(ckpt["optimizer"])
        if job.scheduler is not None:
            job.scheduler.load_state_dict(ckpt["scheduler"])
        job.loader.load_state_dict(ckpt["loader"])
        ember.set_rng_state(ckpt["rng"])
    except (KeyError, ValueError, RuntimeError, TypeError) as e:
        raise CLIError(f"--resume {run}: {CHECKPOINT_FILE} does not match the run "
                       f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    tr.update(total_steps=job.total, steps=s.steps, epochs=s.epochs)
    cfg["train"] = tr
    _print(f"resuming {run} at step {state['step']:,} of {job.total:,}")
    # the config's length changes only once the resumed run is under way (in _train_loop)
    return _train_loop(run, cfg, s, job, state, resumed=True)


def _train_step(model, optimizer, scheduler, x, y):
    """One optimisation step; returns the loss as a float."""
    import ember.nn.functional as F

    logits = model(x)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return loss.item()


def evaluate(model, loader) -> float:
    """Mean cross-entropy (nats per token) of ``model`` over ``loader``, in eval mode."""
    import ember
    import ember.nn.functional as F

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with ember.no_grad():
            for x, y in loader:
                logits = model(x)
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                       reduction="sum")
                total += float(loss.item())
                count += y.numel()
    finally:
        model.train(was_training)
    return total / max(count, 1)


class _StopFlag:
    """SIGINT sets a flag the training loop checks between steps; a second one stops at once."""

    def __init__(self):
        self.requested = False
        self._old = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def _train_loop(out, config, s, job, state, *, resumed: bool) -> int:
    from tqdm import tqdm

    import ember

    # Small matrices: one BLAS thread beats several (which spin and contend with the
    # Python thread and the loader), measured 7 vs 16 ms a step on a busy 2-core machine.
    ember.set_num_threads(s.threads)

    model, loader, optimizer, scheduler = job.model, job.loader, job.optimizer, job.scheduler
    log_every = max(1, job.total // 200)
    shown = [0.0, 0]  # loss sum and count since the bar's last update
    bar = tqdm(total=job.total, initial=state["step"], unit="step", dynamic_ncols=True,
               file=sys.stderr, disable=None, smoothing=0.05, leave=False)
    t_last, tokens_last = time.perf_counter(), state["tokens"]
    t_start = time.perf_counter() - state["elapsed"]
    interrupted = False
    if resumed:
        _write_json(os.path.join(out, CONFIG_FILE), config)
    model.train()
    try:
        with _StopFlag() as stop:
            while state["step"] < job.total and not stop.requested:
                it = iter(loader)
                exhausted = False
                for x, y in it:
                    loss = _train_step(model, optimizer, scheduler, x, y)
                    state["step"] += 1
                    state["batch_in_epoch"] += 1
                    state["tokens"] += int(y.numel())
                    for acc in (state["since_eval"], state["since_log"], shown):
                        acc[0] += loss
                        acc[1] += 1
                    if state["step"] % log_every == 0 or state["step"] == job.total:
                        total, count = state["since_log"]
                        state["curve"].append([state["step"], total / count])
                        state["since_log"] = [0.0, 0]
                    bar.update(1)
                    if state["step"] % 20 == 0:
                        now = time.perf_counter()
                        rate = (state["tokens"] - tokens_last) / max(now - t_last, 1e-9)
                        t_last, tokens_last = now, state["tokens"]
                        bar.set_postfix({"loss": f"{shown[0] / shown[1]:.3f}",
                                         "tok/s": f"{rate:,.0f}"}, refresh=False)
                        shown = [0.0, 0]
                    if state["step"] >= job.total or stop.requested:
                        break
                else:
                    exhausted = True
                if state["batch_in_epoch"] >= job.steps_per_epoch:
                    if not exhausted:  # see the epoch end, so the loader's state is "between"
                        next(it, None)
                    state["epoch"] += 1
                    state["batch_in_epoch"] = 0
                    if not stop.requested or state["step"] >= job.total:
                        _evaluate_and_log(out, config, job, state, t_start, bar)
                        _checkpoint(out, job, state, t_start)
                        # tokens/s counts training time only
                        t_last, tokens_last = time.perf_counter(), state["tokens"]
                # ``it`` stays referenced until the next epoch starts: the loader's
                # state_dict() (saved by _checkpoint) reads the position from it.
            interrupted = stop.requested and state["step"] < job.total
    except KeyboardInterrupt:
        bar.close()
        _err(f"ember: stopped at once at step {state['step']:,} without saving; {out} keeps "
             f"its last checkpoint (resume with: ember train --resume {out})")
        return 130
    finally:
        bar.close()
    if interrupted:
        _checkpoint(out, job, state, t_start)
        _err(f"ember: interrupted at step {state['step']:,} of {job.total:,}; checkpoint saved. "
             f"Continue with: ember train --resume {out}")
        return 130
    if state["batch_in_epoch"] > 0 and (not state["history"]
                                        or state["history"][-1]["step"] != state["step"]):
        _evaluate_and_log(out, config, job, state, t_start, None)
    state["finished"] = True
    _checkpoint(out, job, state, t_start)
    sample = _sample_text(job.model, job.vocab, s.sample_tokens, s.seed)
    with _atomic(os.path.join(out, SAMPLE_FILE), "w") as f:
        f.write(sample)
    last = state["history"][-1]
    _print(f"done in {state['elapsed']:.1f}s: validation loss {last['val_loss']:.4f} "
           f"(perplexity {last['val_ppl']:.2f}); unigram baseline {job.unigram:.4f} "
           f"(perplexity {math.exp(job.unigram):.2f})")
    _print(f"sample:\n{sample}")
    _print(f"run saved in {out}; more text with: ember generate --run {out}")
    return 0


def _evaluate_and_log(out, config, job, state, t_start, bar) -> None:
    val = evaluate(job.model, job.val_loader)
    n_loss, n = state["since_eval"]
    lr = job.optimizer.param_groups[0]["lr"]
    row = {"epoch": round(state["epoch"] + state["batch_in_epoch"] / job.steps_per_epoch, 4),
           "step": state["step"], "tokens": state["tokens"],
           "train_loss": n_loss / n if n else float("nan"),
           "val_loss": val, "val_ppl": math.exp(min(val, 700.0)),
           "unigram_loss": job.unigram, "unigram_ppl": math.exp(job.unigram),
           "lr": float(lr), "elapsed_s": round(time.perf_counter() - t_start, 2)}
    state["history"].append(row)
    state["since_eval"] = [0.0, 0]
    line = (f"epoch {row['epoch']:g}  step {row['step']:,}  train {row['train_loss']:.4f}  "
            f"val {val:.4f} (ppl {row['val_ppl']:.2f})  unigram {job.unigram:.4f} "
            f"(ppl {row['unigram_ppl']:.2f})  {row['elapsed_s']:.1f}s")
    if bar is not None and not bar.disable:
        bar.write(line, file=sys.stdout)
    else:
        _print(line)


def _checkpoint(out, job, state, t_start) -> None:
    """Write the training state, then the files derived from it (each atomically)."""
    import ember

    state["elapsed"] = time.perf_counter() - t_start
    ckpt = {"format": "ember-checkpoint", "version": 1,
            "model": job.model.state_dict(), "optimizer": job.optimizer.state_dict(),
            "scheduler": job.scheduler.state_dict() if job.scheduler is not None else None,
            "loader": job.loader.state_dict(), "rng": ember.get_rng_state(),
            "progress": state}
    ember.save(ckpt, os.path.join(out, CHECKPOINT_FILE))
    ember.save(job.model.state_dict(), os.path.join(out, MODEL_FILE))
    _write_metrics(out, state)


_METRIC_FIELDS = ("epoch", "step", "tokens", "train_loss", "val_loss", "val_ppl",
                  "unigram_loss", "unigram_ppl", "lr", "elapsed_s")


def _write_metrics(out, state) -> None:
    history = state["history"]
    _write_json(os.path.join(out, METRICS_JSON),
                {"evaluations": history, "train_curve": state["curve"]})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_METRIC_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: row.get(k) for k in _METRIC_FIELDS})
    with _atomic(os.path.join(out, METRICS_CSV), "w") as f:
        f.write(buf.getvalue())
    _plot_losses(os.path.join(out, LOSS_PNG), state)


def _plot_losses(path, state) -> bool:
    """loss.png from the training curve and the evaluations; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure
    except Exception:  # not installed, or unusable here: the picture is optional
        return False
    hist = state["history"]
    if not state["curve"] and not hist:
        return False
    fig = Figure(figsize=(7, 4.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    if state["curve"]:
        steps, losses = zip(*state["curve"])
        ax.plot(steps, losses, lw=1, label="train (mean per interval)")
    if hist:
        ax.plot([h["step"] for h in hist], [h["val_loss"] for h in hist], "o-",
                label="validation")
        ax.axhline(hist[-1]["unigram_loss"], color="grey", ls="--", lw=1,
                   label="unigram baseline")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats per token)")
    ax.grid(alpha=0.3)
    ax.legend()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a font or layout remark must not reach the user
        fig.savefig(buf, format="png", bbox_inches="tight")
    with _atomic(path, "wb") as f:
        f.write(buf.getvalue())
    return True


def _sample_text(model, vocab, n: int, seed: int, prompt_ids=None, temperature=1.0,
                 top_k=None) -> str:
    import ember
    from ember.models import generate

    gen = ember.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(seed)
    prompt_ids = [] if prompt_ids is None else prompt_ids
    new = generate(model, prompt_ids, n, temperature=temperature, top_k=top_k, generator=gen,
                   pad_id=_pad_id(vocab))
    return vocab.decode(new)


def _print(message: str) -> None:
    print(message, flush=True)


# --- generate ---------------------------------------------------------------------------------

def _load_run_model(run: str, option: str):
    cfg = _load_run_config(run, option)
    vocab = _load_vocab(run, option)
    model = _build_model_from_config(cfg, option, run)
    state = _load_tensors(os.path.join(run, MODEL_FILE), "the trained weights", option, run)
    _load_weights(model, state, option, run)
    if len(vocab) != cfg["model_config"].get("vocab_size", len(vocab)):
        raise CLIError(f"{option} {run}: {VOCAB_FILE} has {len(vocab)} tokens but the model "
                       f"was built for {cfg['model_config']['vocab_size']}")
    model.eval()
    return cfg, vocab, model


def cmd_generate(args) -> int:
    """``ember generate``: continue ``--prompt`` with text sampled from a run's model."""
    cfg, vocab, model = _load_run_model(args.run, "--run")
    try:
        prompt_ids = vocab.encode(args.prompt).tolist() if args.prompt else []
    except KeyError as e:
        token = e.args[0] if e.args else "?"
        raise CLIError(f"--prompt: {token!s} is not in the vocabulary of {args.run} "
                       f"(it never occurs in the training text)") from None
    text = _sample_text(model, vocab, args.tokens, args.seed, prompt_ids=prompt_ids,
                        temperature=args.temperature, top_k=args.top_k)
    # word tokens are joined by spaces, so the prompt needs one before the continuation
    joiner = " " if args.prompt and text and vocab.tokenizer.name == "basic_english" else ""
    sys.stdout.write(args.prompt + joiner + text + ("" if text.endswith("\n") else "\n"))
    sys.stdout.flush()
    return 0


# --- graph ------------------------------------------------------------------------------------

def cmd_graph(args) -> int:
    """``ember graph``: one training step's autograd graph as DOT, and backward's order."""
    import ember
    import ember.nn.functional as F
    from ember.models import build_model
    from ember.utils.data import default_collate

    out = args.out
    stem, ext = os.path.splitext(out)
    ext = ext.lower()
    if ext not in (".dot", ".gv", ".svg", ".png"):
        raise CLIError(f"--out {out}: expected a .dot, .svg or .png file name")
    if os.path.isdir(out):
        raise CLIError(f"--out {out}: is a directory")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise CLIError(f"--out {out}: folder {folder} does not exist")
    from ember.text import Vocab, builtin_corpus

    if args.run is not None:
        cfg, vocab, model = _load_run_model(args.run, "--run")
        what = f"the model of {args.run}"
        text = None
        path = cfg["data"].get("text") if isinstance(cfg.get("data"), dict) else None
        with contextlib.suppress(OSError, CLIError):
            text = _read_text_file(path)[:20_000] if path else builtin_corpus(
                max_chars=20_000).text
    else:
        text = builtin_corpus(max_chars=20_000).text
        vocab = Vocab.from_text(text, tokenizer="char")
        ember.manual_seed(args.seed)
        model = build_model(TRAIN_DEFAULTS["model"], vocab_size=len(vocab))
        what = "a fresh model with the default sizes"
    size = model.context_size
    ids, source = None, "random token ids"
    if text is not None:
        with contextlib.suppress(KeyError):
            ids = vocab.encode(text)
            source = "the training text"
    if ids is None or len(ids) < args.batch_size * (size + 1):
        gen = ember.Generator().manual_seed(args.seed)
        ids = ember.randint(0, len(vocab), (args.batch_size * (size + 1),), generator=gen)
        source = "random token ids"
    dataset = model.make_dataset(ids[: args.batch_size * (size + 1)], stride=size + 1)
    x, y = default_collate([dataset[i] for i in range(args.batch_size)])
    model.train()
    ember.manual_seed(args.seed)
    logits = model(x)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    names = {id(p): n for n, p in model.named_parameters()}
    variables = {"x": x, "y": y, "logits": logits, "loss": loss}
    dot = _render_dot(loss, model, names, variables)
    svg = _builtin_svg(loss, model, variables) if shutil.which("dot") is None else None
    order = _backward_order(loss, model)
    dot_path = out if ext in (".dot", ".gv") else stem + ".dot"
    with _atomic(dot_path, "w") as f:
        f.write(dot)
    written = [dot_path]
    exe = shutil.which("dot")
    picture = out if ext in (".svg", ".png") else stem + ".svg"
    if exe is not None:
        try:
            res = subprocess.run([exe, f"-T{os.path.splitext(picture)[1][1:]}", dot_path],
                                 capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise CLIError(f"Graphviz `dot` failed: {e}", code=1) from None
        if res.returncode != 0:
            raise CLIError(f"Graphviz `dot` failed: "
                           f"{res.stderr.decode(errors='replace').strip()}", code=1)
        with _atomic(picture, "wb") as f:
            f.write(res.stdout)
        written.append(picture)
    elif svg is not None and picture.lower().endswith(".svg"):
        with _atomic(picture, "w") as f:
            f.write(svg)
        written.append(picture + " (drawn by ember: Graphviz is not installed)")
    elif ext == ".png":
        _err(f"ember: note: Graphviz's `dot` is not installed, so only {dot_path} was written "
             f"(render it with `dot -Tpng {dot_path} -o {out}` where Graphviz is installed)")
    _print(f"one training step of {what} on {args.batch_size} windows of {source}: "
           f"loss {loss.item():.4f}")
    _print(f"graph: {len(order)} nodes, written to {', '.join(written)}")
    _print("backward visits the nodes in this order (reverse topological; a node runs once "
           "all the gradient flowing into it has arrived):")
    width = len(str(len(order)))
    for k, label in enumerate(order, 1):
        _print(f"  {k:>{width}}. {label}")
    return 0


def _builtin_svg(loss, model, variables) -> str | None:
    """ember's own SVG drawing (no Graphviz needed), when ember.autograd.graph has one."""
    to_svg = getattr(_graph_module(), "to_svg", None)
    if to_svg is None:
        return None
    try:
        text = to_svg(loss, module=model, names=variables, engine="builtin")
    except Exception:  # optional picture
        return None
    return text if isinstance(text, str) and "<svg" in text else None


def _graph_nodes(loss):
    """Every node reachable from ``loss.grad_fn``, in discovery order (iterative walk)."""
    root = loss.grad_fn
    seen, order, stack = {id(root)}, [root], [root]
    while stack:
        node = stack.pop()
        for child, _ in getattr(node, "next_functions", ()):
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                order.append(child)
                stack.append(child)
    return order


def _node_label(node, names) -> str:
    var = getattr(node, "variable", None)
    if var is not None:
        name = names.get(id(var), "leaf")
        return f"AccumulateGrad: {name} {tuple(var.shape)}"
    return node.name() if hasattr(node, "name") else type(node).__name__


def _graph_module():
    try:
        from ember.autograd import graph
    except ImportError:
        return None
    return graph


def _render_dot(loss, model, names: dict, variables: dict) -> str:
    """DOT of the graph behind ``loss``: ember.autograd.graph's when it is there, else ours."""
    graph = _graph_module()
    render = getattr(graph, "render", None)
    if render is not None:
        try:
            text = render(loss, format="dot", module=model, names=variables)
        except Exception:  # an optional view: fall back to the plain drawing below
            text = None
        if isinstance(text, str) and "digraph" in text:
            return text
    lines = ["digraph autograd {", '  rankdir="BT";',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, '
             'fillcolor="#f2f2f2"];',
             f'  loss [label="loss {tuple(loss.shape)}", fillcolor="#b6e3a8"];']
    nodes = _graph_nodes(loss)
    ids = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    for node in nodes:
        label = _node_label(node, names).replace('"', r"\"")
        color = ', fillcolor="#a8c8e8"' if getattr(node, "variable", None) is not None else ""
        lines.append(f'  {ids[id(node)]} [label="{label}"{color}];')
    lines.append(f"  {ids[id(loss.grad_fn)]} -> loss;")
    for node in nodes:
        for child, _ in getattr(node, "next_functions", ()):
            if child is not None:
                lines.append(f"  {ids[id(child)]} -> {ids[id(node)]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _backward_order(loss, model) -> list[str]:
    """Run ``loss.backward()`` and record the order in which its nodes run (hooks only)."""
    names = {id(p): n for n, p in model.named_parameters()}
    order: list[str] = []
    handles = []
    for node in _graph_nodes(loss):
        if getattr(node, "variable", None) is not None:
            var = node.variable
            label = _node_label(node, names)
            handles.append(var.register_hook(lambda g, label=label: order.append(label)))
        else:
            label = _node_label(node, names)
            handles.append(node.register_prehook(lambda g, label=label: order.append(label)))
    try:
        loss.backward()
    finally:
        for h in handles:
            h.remove()
    return order
