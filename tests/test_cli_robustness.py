"""The ``ember`` command line as a new user breaks it: odd training texts, bad options, run
directories that are not runs or cannot be written, Ctrl-C at any point, damaged files,
odd prompts. Each ends in one line on stderr with the right exit status, and leaves no
temporary or half-written file behind."""
from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import sys

import numpy as np
import pytest

import ember
from ember import cli

TINY = ["--context", "3", "--embed-dim", "4", "--hidden", "16", "--layers", "1",
        "--batch-size", "8", "--lr", "0.01", "--sample-tokens", "10", "--threads", "1"]
# 64 windows a step: the tiny corpus makes 36 steps an epoch
EPOCH = ["--context", "3", "--embed-dim", "4", "--hidden", "16", "--layers", "1",
         "--batch-size", "64", "--sample-tokens", "10", "--threads", "1"]
STEPS_PER_EPOCH = 36


@pytest.fixture(scope="module")
def run(tmp_path_factory, corpus):
    """A finished run directory."""
    out = str(tmp_path_factory.mktemp("runs") / "run")
    assert cli.main(["train", "--text", corpus, *TINY, "--steps", "20", "--out", out]) == 0
    return out


def _fails_cleanly(argv, capsys, code=2) -> str:
    assert cli.main(argv) == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ember"), err
    assert "Traceback" not in err and "EMBER_DEBUG" not in err, err
    return lines[0]


def _temp_files(folder) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


def _metrics(run_dir) -> dict:
    with open(os.path.join(run_dir, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    for row in metrics["evaluations"]:
        row.pop("elapsed_s")  # wall-clock time, the one field allowed to differ
    return metrics


def _weights(run_dir) -> dict:
    return {k: v.numpy() for k, v in
            ember.load(os.path.join(run_dir, "model.safetensors")).items()}


def _assert_same_run(a, b):
    assert _metrics(a) == _metrics(b)  # the whole loss curve, bit for bit
    wa, wb = _weights(a), _weights(b)
    assert list(wa) == list(wb)
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


# --- training text ------------------------------------------------------------------------------

@pytest.mark.parametrize("content, words", [
    (b"", "is empty"),
    (b"x", "fewer than one window"),
    (b"abcdef", "fewer than one window"),  # the held-out part is too short
    (bytes(range(256)) * 8, "not UTF-8"),
    ("caf\u00e9\n".encode("utf-16") * 100, "UTF-16"),
    (b" \r\n\t\n", "only whitespace"),
], ids=["empty", "one-char", "six-chars", "binary", "utf16", "whitespace"])
def test_unusable_training_text(tmp_path, capsys, content, words):
    path = tmp_path / "text.txt"
    path.write_bytes(content)
    line = _fails_cleanly(["train", "--text", str(path), *TINY, "--out",
                           str(tmp_path / "r")], capsys)
    assert words in line and ("text.txt" in line or "held-out text" in line)
    assert not os.path.exists(tmp_path / "r")


def test_utf16_text_gets_the_right_conversion_advice(tmp_path, capsys):
    path = tmp_path / "notepad.txt"
    path.write_text("hello world\n" * 100, encoding="utf-16")
    line = _fails_cleanly(["train", "--text", str(path)], capsys)
    assert "iconv -f utf-16 -t utf-8" in line and "latin1" not in line


def test_text_smaller_than_one_batch(corpus, tmp_path, capsys):
    line = _fails_cleanly(["train", "--text", corpus, *TINY, "--batch-size", "5000", "--out",
                           str(tmp_path / "r")], capsys)
    assert "fewer than one batch" in line
    assert not os.path.exists(tmp_path / "r")


@pytest.mark.parametrize("where, words", [("missing.txt", "no such file"),
                                          ("", "directory")])
def test_text_path_that_is_no_file(tmp_path, capsys, where, words):
    line = _fails_cleanly(["train", "--text", str(tmp_path / where), "--out",
                           str(tmp_path / "r")], capsys)
    assert words in line and not os.path.exists(tmp_path / "r")


def test_cjk_and_emoji_text_trains_and_generates(tmp_path, capsys):
    rng = random.Random(1)
    chars = [chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(300)] + \
        [chr(rng.randint(0x1F300, 0x1F64F)) for _ in range(100)]
    path = tmp_path / "cjk.txt"
    path.write_text("".join(rng.choice(chars) for _ in range(3000)), encoding="utf-8")
    out = str(tmp_path / "r")
    assert cli.main(["train", "--text", str(path), *TINY, "--steps", "3", "--out", out]) == 0
    assert len(ember.text.Vocab.load(os.path.join(out, "vocab.json"))) > 350
    capsys.readouterr()
    assert cli.main(["generate", "--run", out, "--tokens", "8", "--seed", "0"]) == 0
    text = capsys.readouterr().out.rstrip("\n")
    assert len(text) == 8 and set(text) <= set(chars)


def test_crlf_text_trains_exactly_as_lf(corpus, tmp_path):
    with open(corpus, "rb") as f:
        lf = f.read()
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(lf.replace(b"\n", b"\r\n"))
    a, b = str(tmp_path / "lf"), str(tmp_path / "crlf")
    assert cli.main(["train", "--text", corpus, *TINY, "--steps", "5", "--out", a]) == 0
    assert cli.main(["train", "--text", str(crlf), *TINY, "--steps", "5", "--out", b]) == 0
    assert "\r" not in ember.text.Vocab.load(os.path.join(b, "vocab.json"))
    _assert_same_run(a, b)


def test_paths_with_spaces_and_quoted_suggestions(corpus, tmp_path, capsys):
    folder = tmp_path / "my texts"
    folder.mkdir()
    text = folder / "the book.txt"
    shutil.copy(corpus, text)
    out = str(folder / "run one")
    assert cli.main(["train", "--text", str(text), *TINY, "--steps", "2", "--out", out]) == 0
    assert f"ember generate --run '{out}'" in capsys.readouterr().out  # copy-pastable
    assert cli.main(["generate", "--run", out, "--tokens", "5", "--seed", "0"]) == 0
    line = _fails_cleanly(["train", "--text", str(text), *TINY, "--out", out], capsys)
    assert f"--resume '{out}'" in line


# --- options ------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, words", [
    (["--steps", "0"], "at least 1"),
    (["--steps", "-5"], "at least 1"),
    (["--epochs", "0"], "at least 1"),
    (["--batch-size", "0"], "at least 1"),
    (["--batch-size", "-1"], "at least 1"),
    (["--lr", "0"], "learning rate"),
    (["--lr", "-0.1"], "learning rate"),
    (["--lr", "nan"], "learning rate"),
    (["--context", "0"], "at least 1"),
    (["--context", "-3"], "at least 1"),
    (["--val-fraction", "0"], "between 0 and 1"),
    (["--val-fraction", "1"], "between 0 and 1"),
    (["--steps", "ten"], "expected an integer"),
    (["--steps", "3", "--epochs", "2"], "not allowed with"),
    (["--stesp", "3"], "unrecognized arguments"),
    (["--heads", "2"], "--heads does not apply to --model mlp"),
    (["--level", "byte", "--max-vocab", "10"], "--max-vocab cannot be used with --level byte"),
])
def test_bad_train_options(corpus, tmp_path, capsys, argv, words):
    line = _fails_cleanly(["train", "--text", corpus, "--out", str(tmp_path / "r"), *argv],
                          capsys)
    assert words in line
    assert not os.path.exists(tmp_path / "r")


@pytest.mark.parametrize("argv, words", [
    (["--model", "gpt", "--embed-dim", "6", "--heads", "4"], "multiple of heads"),
    (["--model", "lstm", "--layers", "0"], "layers must be at least 1"),
    (["--batch-size", "1"], "BatchNorm1d"),  # failed at the first step, after writing
])
def test_sizes_the_model_rejects_are_bad_input(corpus, tmp_path, capsys, argv, words):
    line = _fails_cleanly(["train", "--text", corpus, "--steps", "1", "--out",
                           str(tmp_path / "r"), *argv], capsys)
    assert words in line and "--model" in line
    assert not os.path.exists(tmp_path / "r")


def test_context_longer_than_the_text_fails_before_the_model_is_built(corpus, tmp_path, capsys,
                                                                       monkeypatch):
    import ember.models

    def no_model(*args, **kwargs):
        raise MemoryError("a 100,000-token MLP was allocated")

    monkeypatch.setattr(ember.models, "build_model", no_model)
    line = _fails_cleanly(["train", "--text", corpus, "--context", "100000", "--out",
                           str(tmp_path / "r")], capsys)
    assert "fewer than one window" in line and "--context 100000" in line


@pytest.mark.parametrize("command", [[], ["train"], ["generate"], ["graph"]])
def test_help_for_every_command(command, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ember") and "--help" in out
    if command == ["train"]:
        assert all(flag in out for flag in ("--steps", "--resume", "--val-fraction"))


# --- run directory ------------------------------------------------------------------------------

def test_resume_refuses_every_changed_setting_by_name(run, capsys):
    line = _fails_cleanly(["train", "--resume", run, "--lr", "0.5", "--batch-size", "4",
                           "--context", "5"], capsys)
    assert "cannot be given with it" in line
    assert all(flag in line for flag in ("--lr", "--batch-size", "--context"))


@pytest.mark.parametrize("out, words", [("", "name is empty"),
                                        ("file.txt/run", "not a directory"),
                                        ("file.txt", "not a directory"),
                                        ("busy", "not empty")])
def test_out_that_cannot_be_a_run(corpus, tmp_path, monkeypatch, capsys, out, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    line = _fails_cleanly(["train", "--text", corpus, *TINY, "--out", out], capsys)
    assert words in line
    assert sorted(os.listdir(tmp_path)) == ["busy", "file.txt"]
    assert os.listdir(tmp_path / "busy") == ["notes.txt"]


def _deny_writes(monkeypatch, folder):
    """os.access as for a read-only ``folder`` (the tests may run as root, who may write)."""
    real = os.access
    folder = os.path.realpath(folder)

    def access(path, mode, *args, **kwargs):
        if os.path.realpath(path) == folder and mode & os.W_OK:
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def test_unwritable_places_are_refused_before_training(corpus, tmp_path, monkeypatch, capsys):
    _deny_writes(monkeypatch, tmp_path)
    line = _fails_cleanly(["train", "--text", corpus, *TINY, "--out",
                           str(tmp_path / "new" / "run")], capsys)
    assert "not writable" in line
    assert os.listdir(tmp_path) == []


def test_resuming_a_read_only_run_is_refused_and_changes_nothing(corpus, tmp_path,
                                                                  monkeypatch, capsys):
    out = str(tmp_path / "r")
    args = ["train", "--text", corpus, *TINY, "--schedule", "constant"]
    assert cli.main([*args, "--steps", "4", "--out", out]) == 0
    before = {n: os.stat(os.path.join(out, n)).st_mtime_ns for n in os.listdir(out)}
    _deny_writes(monkeypatch, out)
    line = _fails_cleanly(["train", "--resume", out, "--steps", "8"], capsys)
    assert "not writable" in line
    assert {n: os.stat(os.path.join(out, n)).st_mtime_ns for n in os.listdir(out)} == before


def test_damaged_config_is_named_on_resume(run, tmp_path, capsys):
    copy = str(tmp_path / "copy")
    shutil.copytree(run, copy)
    with open(os.path.join(copy, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    del cfg["train"]["total_steps"]
    with open(os.path.join(copy, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f)
    line = _fails_cleanly(["train", "--resume", copy], capsys)
    assert "config.json" in line and "total_steps" in line


# --- interruption -------------------------------------------------------------------------------

def _interrupt_at(monkeypatch, step, how):
    """Make training step ``step`` press Ctrl-C (``"signal"``) or die of KeyboardInterrupt
    before it runs (``"raise"``: a second Ctrl-C, or one outside the handler)."""
    real, calls = cli._train_step, []

    def patched(*args):
        calls.append(1)
        if len(calls) == step and how == "raise":
            raise KeyboardInterrupt
        loss = real(*args)
        if len(calls) == step:
            os.kill(os.getpid(), signal.SIGINT)
        return loss

    monkeypatch.setattr(cli, "_train_step", patched)
    return real


@pytest.fixture(scope="module")
def straight(tmp_path_factory, corpus):
    """80 uninterrupted steps over two epoch ends (dropout on, cosine schedule)."""
    out = str(tmp_path_factory.mktemp("straight") / "run")
    assert cli.main(["train", "--text", corpus, *EPOCH, "--dropout", "0.3", "--steps", "80",
                     "--out", out]) == 0
    return out


@pytest.mark.parametrize("step, how", [(STEPS_PER_EPOCH, "signal"), (50, "raise")])
def test_interrupted_run_resumes_to_the_same_loss_curve(corpus, straight, tmp_path,
                                                        monkeypatch, capsys, step, how):
    out = str(tmp_path / "r")
    real = _interrupt_at(monkeypatch, step, how)
    assert cli.main(["train", "--text", corpus, *EPOCH, "--dropout", "0.3", "--steps", "80",
                     "--out", out]) == 130
    err = capsys.readouterr().err
    assert f"--resume {out}" in err and "Traceback" not in err
    assert not _temp_files(out) and not os.path.exists(os.path.join(out, "sample.txt"))
    progress = ember.load(os.path.join(out, "checkpoint.safetensors"))["progress"]
    # Ctrl-C saves where it stopped; a hard stop keeps the epoch end's checkpoint
    assert progress["step"] == (step if how == "signal" else STEPS_PER_EPOCH)
    monkeypatch.setattr(cli, "_train_step", real)
    assert cli.main(["train", "--resume", out]) == 0
    _assert_same_run(straight, out)


def test_hard_stop_before_the_first_checkpoint(corpus, tmp_path, monkeypatch, capsys):
    out = str(tmp_path / "r")
    argv = ["train", "--text", corpus, *EPOCH, "--steps", "40", "--out", out]
    real = _interrupt_at(monkeypatch, 10, "raise")
    assert cli.main(argv) == 130
    err = capsys.readouterr().err
    assert "nothing to resume" in err and "keeps its last checkpoint" not in err
    assert sorted(os.listdir(out)) == ["config.json", "vocab.json"]
    monkeypatch.setattr(cli, "_train_step", real)
    assert cli.main(argv) == 0  # the same command starts it again: nothing was lost
    assert os.path.isfile(os.path.join(out, "sample.txt"))


@pytest.mark.parametrize("write", [1, 3, 4, 6])
def test_ctrl_c_during_a_file_write_leaves_no_partial_file(corpus, tmp_path, monkeypatch,
                                                           capsys, write):
    """KeyboardInterrupt inside the n-th atomic write (1: config.json, 3: the first
    checkpoint, 4: model.safetensors, 6: metrics.csv)."""
    import ember._io

    real_fsync, calls = os.fsync, []

    def fsync(fd):
        calls.append(1)
        if len(calls) == write:
            raise KeyboardInterrupt
        return real_fsync(fd)

    monkeypatch.setattr(ember._io.os, "fsync", fsync)
    out = str(tmp_path / "r")
    assert cli.main(["train", "--text", corpus, *EPOCH, "--steps", "40", "--out", out]) == 130
    err = capsys.readouterr().err
    assert err.startswith("ember") and "Traceback" not in err
    assert not _temp_files(out)
    for name in os.listdir(out):
        if name.endswith(".safetensors"):
            ember.load(os.path.join(out, name))
        elif name.endswith(".json"):
            with open(os.path.join(out, name), encoding="utf-8") as f:
                json.load(f)
    has_checkpoint = os.path.isfile(os.path.join(out, "checkpoint.safetensors"))
    assert ("keeps its last checkpoint" in err) == has_checkpoint


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow, on purpose here
def test_diverging_run_stops_with_advice_and_can_start_again(corpus, tmp_path, capsys):
    out = str(tmp_path / "r")
    argv = ["train", "--text", corpus, *TINY, "--steps", "6", "--out", out]
    line = _fails_cleanly([*argv, "--optimizer", "sgd", "--lr", "1e30"], capsys, code=1)
    assert "diverged" in line and "smaller --lr" in line
    assert sorted(os.listdir(out)) == ["config.json", "vocab.json"]  # no NaN checkpoint
    assert cli.main(argv) == 0


def test_generate_refuses_non_finite_weights(run, tmp_path, capsys):
    copy = str(tmp_path / "copy")
    shutil.copytree(run, copy)
    state = ember.load(os.path.join(copy, "model.safetensors"))
    state["output.bias"][0] = float("nan")
    ember.save(state, os.path.join(copy, "model.safetensors"))
    line = _fails_cleanly(["generate", "--run", copy], capsys)
    assert "non-finite weights" in line and "output.bias" in line


# --- damaged files ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["checkpoint.safetensors", "model.safetensors"])
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_file_is_named(run, tmp_path, capsys, name, damage):
    copy = str(tmp_path / "copy")
    shutil.copytree(run, copy)
    path = os.path.join(copy, name)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[-7] ^= 0xFF  # in the last tensor's bytes: only the checksum can tell
    with open(path, "wb") as f:
        f.write(data)
    command = ["generate", "--run", copy] if name == "model.safetensors" else \
        ["train", "--resume", copy, "--steps", "40"]
    line = _fails_cleanly(command, capsys)
    assert name in line and ("truncated" in line or "corrupt" in line)
    with open(path, "rb") as f:
        assert f.read() == data  # left as it was


# --- generate -----------------------------------------------------------------------------------

def test_prompt_outside_the_vocabulary_names_the_characters(run, capsys):
    line = _fails_cleanly(["generate", "--run", run, "--prompt", "the zebra\u00e9"], capsys)
    assert "'z', 'b', '\u00e9' are not in the vocabulary" in line
    assert "default index" not in line  # Vocab's advice is for programmers, not CLI users


def test_prompt_with_windows_line_ends(run, capsys):
    assert cli.main(["generate", "--run", run, "--prompt", "the\r\ncat", "--tokens", "3",
                     "--seed", "0"]) == 0
    assert capsys.readouterr().out.startswith("the\ncat")


@pytest.mark.parametrize("argv, check", [
    (["--prompt", "", "--tokens", "6"], lambda out: len(out) == 7),
    (["--prompt", "the", "--tokens", "0"], lambda out: out == "the\n"),
    (["--tokens", "0"], lambda out: out == "\n"),
])
def test_generate_edge_lengths(run, capsys, argv, check):
    assert cli.main(["generate", "--run", run, "--seed", "0", *argv]) == 0
    assert check(capsys.readouterr().out)


def test_generate_seed_and_temperature_zero_are_repeatable(run, capsys):
    outs = []
    for argv in (["--seed", "5"], ["--seed", "5"], ["--seed", "6"],
                 ["--temperature", "0", "--seed", "1"], ["--temperature", "0", "--seed", "2"]):
        assert cli.main(["generate", "--run", run, "--prompt", "a", "--tokens", "40",
                         *argv]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] != outs[2]
    assert outs[3] == outs[4]  # greedy ignores the seed


@pytest.mark.parametrize("argv, words", [(["--temperature", "-1"], "temperature"),
                                         (["--temperature", "nan"], "temperature"),
                                         (["--tokens", "-1"], "at least 0")])
def test_bad_generate_values(run, capsys, argv, words):
    assert words in _fails_cleanly(["generate", "--run", run, *argv], capsys)


def test_output_the_terminal_cannot_encode_is_escaped(tmp_path, monkeypatch):
    path = tmp_path / "cjk.txt"
    path.write_text("\u4e2d\u6587\u5b57" * 400, encoding="utf-8")
    out = str(tmp_path / "r")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert cli.main(["train", "--text", str(path), *TINY, "--steps", "2", "--out", out]) == 0
    assert cli.main(["generate", "--run", out, "--tokens", "3", "--seed", "0"]) == 0
    stdout.flush()
    assert "\\u4e" in stdout.buffer.getvalue().decode("ascii")
    assert stdout.errors == "strict"  # put back afterwards


# --- graph --------------------------------------------------------------------------------------

def test_graph_writes_what_it_says(run, tmp_path, capsys):
    out = tmp_path / "step.dot"
    assert cli.main(["graph", "--run", run, "--out", str(out), "--batch-size", "2"]) == 0
    printed = capsys.readouterr().out
    assert out.read_text(encoding="utf-8").lstrip().startswith("digraph")
    assert f"written to {out}" in printed and not _temp_files(tmp_path)


@pytest.mark.parametrize("target, words", [("nowhere/g.dot", "does not exist"),
                                           ("file.txt/g.dot", "is not a directory"),
                                           ("pic.svg", "pic.dot is a directory"),
                                           ("pic.dot", "pic.dot is a directory")])
def test_graph_refuses_an_impossible_output(tmp_path, monkeypatch, capsys, target, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "pic.dot").mkdir()
    line = _fails_cleanly(["graph", "--out", target], capsys)
    assert words in line
    assert sorted(os.listdir(tmp_path)) == ["file.txt", "pic.dot"]
    assert os.listdir(tmp_path / "pic.dot") == []


def test_graph_refuses_an_unwritable_folder(tmp_path, monkeypatch, capsys):
    _deny_writes(monkeypatch, tmp_path)
    line = _fails_cleanly(["graph", "--out", str(tmp_path / "g.dot")], capsys)
    assert "not writable" in line and os.listdir(tmp_path) == []
