"""Run directories: file names, atomic writes, and loading a run's config, vocabulary
and weights (see :mod:`ember.cli`)."""
from __future__ import annotations

import hashlib
import json
import os
from shlex import quote

from ember.cli._errors import CLIError

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
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Windows "Unicode" text: suggest the right fix
        raise CLIError(f"{shown}: UTF-16 text, not UTF-8 (it starts with a UTF-16 byte-order "
                       f"mark); convert it first, e.g. with `iconv -f utf-16 -t utf-8`")
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


def _check_out_dir(out: str) -> None:
    if not out:
        raise CLIError("--out: the directory name is empty")
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise CLIError(f"--out {out}: exists and is not a directory")
        names = os.listdir(out)
        if names and not _unstarted_run(out, names):
            if _is_run_dir(out):
                raise CLIError(f"--out {out}: already holds a run; continue it with --resume "
                               f"{quote(out)} or choose another --out")
            raise CLIError(f"--out {out}: exists and is not empty; choose a new or empty "
                           f"directory")
        _check_writable(out, "--out")
        return
    # a new directory: the nearest folder that exists must be one and be writable
    parent = os.path.dirname(os.path.abspath(out))
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise CLIError(f"--out {out}: cannot create it, {parent} is not a directory")
    _check_writable(parent, "--out", out)


def _check_writable(folder: str, option: str, shown: str | None = None) -> None:
    """CLIError unless files can be created in ``folder`` (checked before any is written)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CLIError(f"{option} {shown or folder}: cannot write there ({folder} is not "
                       f"writable)")


def _unstarted_run(out: str, names) -> bool:
    """A run that stopped before its first checkpoint (only its config and vocabulary were
    written): starting it again loses nothing."""
    if CONFIG_FILE not in names or not set(names) <= {CONFIG_FILE, VOCAB_FILE}:
        return False
    try:
        _load_run_config(out, "--out")
    except CLIError:
        return False
    return True


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
