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

import codecs
import contextlib
import os
import sys

# Re-exported: the names ember.cli had when it was one module.
from ember.cli._args import build_parser
from ember.cli._defaults import LR_DEFAULTS, TRAIN_DEFAULTS  # noqa: F401
from ember.cli._errors import CLIError, _err
from ember.cli._run_dir import (  # noqa: F401
    CHECKPOINT_FILE,
    CONFIG_FILE,
    LOSS_PNG,
    METRICS_CSV,
    METRICS_JSON,
    MODEL_FILE,
    RUN_FORMAT,
    RUN_VERSION,
    SAMPLE_FILE,
    VOCAB_FILE,
)
from ember.cli.generate import cmd_generate  # noqa: F401
from ember.cli.graph import cmd_graph  # noqa: F401
from ember.cli.train import _train_step, cmd_train, evaluate  # noqa: F401

__all__ = ["main", "build_parser"]


def main(argv: list[str] | None = None) -> int:
    """Run the ``ember`` command line; returns the exit status.

    0: success; 1: a failure while running (reported in one line); 2: bad input or
    options (nothing written); 130: interrupted (a training run saves a checkpoint first).
    """
    parser = build_parser()
    with _printable_streams():
        return _main(parser, argv)


@contextlib.contextmanager
def _printable_streams():
    """Text the terminal's encoding lacks (a CJK sample on an ASCII or cp1252 stdout) is
    printed as escapes instead of failing the command after its work is done."""
    changed = []
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            utf = codecs.lookup(encoding).name.startswith("utf")
        except LookupError:
            utf = False
        if not utf and getattr(stream, "errors", None) == "strict" and \
                hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
            changed.append(stream)
    try:
        yield
    finally:
        for stream in changed:
            with contextlib.suppress(ValueError, OSError):  # closed meanwhile
                stream.reconfigure(errors="strict")


def _main(parser, argv) -> int:
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
