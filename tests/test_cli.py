"""The ``ember`` command line on a tiny generated corpus: train, resume, generate, graph, and
every kind of bad input (exit status, one line on stderr, run directory untouched)."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--context", "3", "--embed-dim", "4", "--hidden", "16", "--layers", "1",
        "--batch-size", "8", "--lr", "0.01", "--sample-tokens", "20", "--threads", "1"]
STEPS = 200  # the shared run: enough to beat the unigram baseline clearly


@pytest.fixture(scope="module")
def trained(tmp_path_factory, corpus):
    """A finished run directory."""
    out = str(tmp_path_factory.mktemp("runs") / "run")
    assert cli.main(["train", "--text", corpus, *TINY, "--steps", str(STEPS), "--out",
                     out]) == 0
    return out


def _snapshot(folder) -> dict:
    """Every file under ``folder`` with its content hash and modification time."""
    snap = {}
    for base, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as f:
                snap[os.path.relpath(path, folder)] = (hashlib.sha256(f.read()).hexdigest(),
                                                      os.stat(path).st_mtime_ns)
    return snap


def _weights(run) -> dict:
    return {k: v.numpy() for k, v in ember.load(os.path.join(run, "model.safetensors")).items()}


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert list(wa) == list(wb)
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


def _python_m_ember(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "ember", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


# --- train --------------------------------------------------------------------------------------

def test_train_writes_a_complete_run_directory(trained):
    names = set(os.listdir(trained))
    assert {"config.json", "vocab.json", "model.safetensors", "checkpoint.safetensors",
            "metrics.csv", "metrics.json", "sample.txt"} <= names
    try:
        import matplotlib  # noqa: F401
        assert "loss.png" in names
    except ImportError:
        pass
    assert not [n for n in names if n.endswith(".tmp")]  # atomic writes left no leftovers
    with open(os.path.join(trained, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    assert config["format"] == "ember-run" and config["model"] == "mlp"
    assert config["model_config"]["context"] == 3 and config["model_config"]["hidden"] == 16
    assert config["train"]["total_steps"] == STEPS
    vocab = ember.text.Vocab.load(os.path.join(trained, "vocab.json"))
    assert config["model_config"]["vocab_size"] == len(vocab)
    with open(os.path.join(trained, "sample.txt"), encoding="utf-8") as f:
        assert len(f.read()) == 20  # 20 characters at the char level


def test_metrics_show_learning_below_the_unigram_baseline(trained):
    with open(os.path.join(trained, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    last = metrics["evaluations"][-1]
    assert last["step"] == STEPS
    assert last["val_loss"] < last["unigram_loss"] - 0.2
    assert last["val_ppl"] == pytest.approx(np.exp(last["val_loss"]))
    assert metrics["train_curve"][-1][0] == STEPS
    with open(os.path.join(trained, "metrics.csv"), encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    assert header[:6] == ["epoch", "step", "tokens", "train_loss", "val_loss", "val_ppl"]


def test_train_reports_loss_perplexity_and_baseline(corpus, tmp_path, capsys):
    out = str(tmp_path / "r")
    assert cli.main(["train", "--text", corpus, *TINY, "--steps", "5", "--out", out]) == 0
    text = capsys.readouterr().out
    assert "validation loss" in text and "perplexity" in text and "unigram baseline" in text


def test_the_weights_file_loads_into_the_model(trained):
    from ember.models import build_model

    with open(os.path.join(trained, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    model = build_model(config["model"], **config["model_config"])
    model.load_state_dict(ember.load(os.path.join(trained, "model.safetensors")))


def test_epochs_end_with_an_evaluation_each(corpus, tmp_path):
    out = str(tmp_path / "r")
    assert cli.main(["train", "--text", corpus, *TINY, "--batch-size", "256", "--epochs", "2",
                     "--out", out]) == 0
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
        rows = json.load(f)["evaluations"]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1]["step"] == 2 * rows[0]["step"]


@pytest.mark.parametrize("level", ["word", "byte"])
def test_other_token_levels_train(corpus, tmp_path, level):
    out = str(tmp_path / level)
    assert cli.main(["train", "--text", corpus, *TINY, "--level", level, "--steps", "3",
                     "--out", out]) == 0
    assert ember.text.Vocab.load(os.path.join(out, "vocab.json")).tokenizer.name in (
        "basic_english", "byte")


def test_python_dash_m_ember_trains(corpus, tmp_path):
    out = str(tmp_path / "sub")
    res = _python_m_ember("train", "--text", corpus, *TINY, "--steps", "4", "--out", out)
    assert res.returncode == 0, res.stderr
    assert "validation loss" in res.stdout
    assert os.path.isfile(os.path.join(out, "model.safetensors"))


# --- resume -------------------------------------------------------------------------------------

def test_resume_continues_exactly(corpus, tmp_path):
    """N steps straight == k steps, then --resume to N (across an epoch boundary)."""
    common = ["train", "--text", corpus, *TINY, "--schedule", "constant"]
    straight, split = str(tmp_path / "straight"), str(tmp_path / "split")
    with open(corpus, encoding="utf-8") as f:
        per_epoch = (int(len(f.read()) * 0.9) - 3) // 8
    n, k = per_epoch + 25, per_epoch - 10  # the resumed part crosses the epoch's end
    assert cli.main([*common, "--steps", str(n), "--out", straight]) == 0
    assert cli.main([*common, "--steps", str(k), "--out", split]) == 0
    assert cli.main(["train", "--resume", split, "--steps", str(n)]) == 0
    _assert_same_weights(straight, split)
    with open(os.path.join(split, "config.json"), encoding="utf-8") as f:
        assert json.load(f)["train"]["total_steps"] == n


def test_ctrl_c_saves_a_checkpoint_and_resume_matches(corpus, tmp_path, monkeypatch, capsys):
    """A real SIGINT mid-run (default cosine schedule, dropout on): resume ends identical."""
    args = ["train", "--text", corpus, *TINY, "--dropout", "0.3", "--steps", "90"]
    straight, split = str(tmp_path / "straight"), str(tmp_path / "split")
    assert cli.main([*args, "--out", straight]) == 0

    real_step = cli._train_step
    calls = []

    def step_then_interrupt(*a):
        loss = real_step(*a)
        calls.append(1)
        if len(calls) == 37:
            os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C
        return loss

    monkeypatch.setattr(cli, "_train_step", step_then_interrupt)
    assert cli.main([*args, "--out", split]) == 130
    err = capsys.readouterr().err
    assert "interrupted at step 37 of 90" in err and f"--resume {split}" in err
    assert not os.path.exists(os.path.join(split, "sample.txt"))  # not finished
    monkeypatch.setattr(cli, "_train_step", real_step)
    assert cli.main(["train", "--resume", split]) == 0
    _assert_same_weights(straight, split)


def test_workers_change_nothing_and_resume_too(corpus, tmp_path):
    """--workers 2 trains on the same batches as loading in-process, across an epoch end
    and across an interruption."""
    a, b = str(tmp_path / "w0"), str(tmp_path / "w2")
    common = ["train", "--text", corpus, *TINY, "--batch-size", "64", "--schedule",
              "constant"]
    assert cli.main([*common, "--steps", "50", "--out", a]) == 0  # ~42 steps an epoch
    assert cli.main([*common, "--steps", "20", "--workers", "2", "--out", b]) == 0
    assert cli.main(["train", "--resume", b, "--steps", "50", "--workers", "2"]) == 0
    _assert_same_weights(a, b)


def test_resuming_a_finished_run_changes_nothing(trained, capsys):
    before = _snapshot(trained)
    assert cli.main(["train", "--resume", trained]) == 0
    assert "already finished" in capsys.readouterr().out
    assert _snapshot(trained) == before


# --- generate -----------------------------------------------------------------------------------

def test_generate_continues_the_prompt(trained, capsys):
    assert cli.main(["generate", "--run", trained, "--prompt", "the c", "--tokens", "30",
                     "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("the c") and len(text.rstrip("\n")) >= 5 + 29


def test_generate_is_repeatable_with_a_seed(trained, capsys):
    args = ["generate", "--run", trained, "--tokens", "40", "--seed", "3"]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert cli.main(args) == 0
    assert capsys.readouterr().out == first


def test_greedy_and_top_k_one_agree(trained, capsys):
    assert cli.main(["generate", "--run", trained, "--prompt", "a", "--tokens", "25",
                     "--temperature", "0"]) == 0
    greedy = capsys.readouterr().out
    assert cli.main(["generate", "--run", trained, "--prompt", "a", "--tokens", "25",
                     "--top-k", "1", "--seed", "9"]) == 0
    assert capsys.readouterr().out == greedy


def test_python_dash_m_ember_generates(trained):
    res = _python_m_ember("generate", "--run", trained, "--tokens", "10", "--seed", "0")
    assert res.returncode == 0, res.stderr
    assert len(res.stdout) >= 10


# --- graph --------------------------------------------------------------------------------------

def test_graph_writes_dot_and_prints_backward_order(trained, tmp_path, capsys):
    out = str(tmp_path / "step.dot")
    assert cli.main(["graph", "--run", trained, "--out", out]) == 0
    printed = capsys.readouterr().out
    with open(out, encoding="utf-8") as f:
        dot = f.read()
    assert dot.lstrip().startswith("digraph") and "AccumulateGrad" in dot
    order = [line.split(". ", 1)[1] for line in printed.splitlines()
             if line.strip()[:1].isdigit() and ". " in line]
    assert order[0].startswith("NllLossBackward")
    params = ["embedding.weight", "blocks.0.weight", "blocks.1.weight", "blocks.1.bias",
              "output.weight", "output.bias"]
    for name in params:
        assert any(name in label for label in order), name
    # the output layer's gradient is ready before the embedding's
    pos = {name: next(i for i, label in enumerate(order) if name in label) for name in params}
    assert pos["output.weight"] < pos["blocks.0.weight"] < pos["embedding.weight"]


def test_graph_without_a_run_uses_a_fresh_model(tmp_path):
    res = _python_m_ember("graph", cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert os.path.isfile(tmp_path / "graph.dot")
    assert "backward visits" in res.stdout


# --- bad input ----------------------------------------------------------------------------------

def _fails_cleanly(argv, capsys, code=2) -> str:
    assert cli.main(argv) == code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err and lines[0].startswith("ember")
    return lines[0]


def test_missing_text_file(tmp_path, capsys):
    line = _fails_cleanly(["train", "--text", str(tmp_path / "nope.txt")], capsys)
    assert "no such file" in line
    assert os.listdir(tmp_path) == []  # no run directory was created


def test_empty_text_file(tmp_path, capsys):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert "is empty" in _fails_cleanly(["train", "--text", str(path),
                                          "--out", str(tmp_path / "r")], capsys)
    assert not os.path.exists(tmp_path / "r")


def test_non_utf8_text_file(tmp_path, capsys):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\u00e9 au lait\n".encode("latin-1") * 50)
    line = _fails_cleanly(["train", "--text", str(path), "--out", str(tmp_path / "r")], capsys)
    assert "not UTF-8" in line and "0xe9" in line
    assert not os.path.exists(tmp_path / "r")


def test_directory_as_text_file(tmp_path, capsys):
    assert "directory" in _fails_cleanly(["train", "--text", str(tmp_path)], capsys)


def test_corpus_shorter_than_one_window(tmp_path, capsys):
    path = tmp_path / "short.txt"
    path.write_text("abc", encoding="utf-8")
    line = _fails_cleanly(["train", "--text", str(path), "--context", "8",
                           "--out", str(tmp_path / "r")], capsys)
    assert "fewer than one window" in line
    assert not os.path.exists(tmp_path / "r")


def test_corpus_smaller_than_one_batch(corpus, tmp_path, capsys):
    line = _fails_cleanly(["train", "--text", corpus, "--batch-size", "100000",
                           "--out", str(tmp_path / "r")], capsys)
    assert "fewer than one batch" in line


def test_epochs_and_steps_contradict(corpus, capsys):
    line = _fails_cleanly(["train", "--text", corpus, "--epochs", "2", "--steps", "5"], capsys)
    assert "--steps" in line and "--epochs" in line


@pytest.mark.parametrize("argv, words", [
    (["train", "--val-fraction", "1.5"], "between 0 and 1"),
    (["train", "--batch-size", "0"], "at least 1"),
    (["train", "--lr", "-1"], "learning rate"),
    (["train", "--level", "sentence"], "invalid choice"),
    (["train", "--model", "nope"], "invalid choice"),
    (["generate"], "--run"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_options_are_one_line(argv, words, capsys):
    assert words in _fails_cleanly(argv, capsys)


def test_out_dir_holding_a_run_is_refused_and_untouched(trained, corpus, capsys):
    before = _snapshot(trained)
    line = _fails_cleanly(["train", "--text", corpus, *TINY, "--steps", "2", "--out", trained],
                          capsys)
    assert "already holds a run" in line and "--resume" in line
    assert _snapshot(trained) == before


def test_resume_refuses_changed_settings_and_leaves_the_run_alone(trained, capsys):
    before = _snapshot(trained)
    line = _fails_cleanly(["train", "--resume", trained, "--lr", "0.5"], capsys)
    assert "--lr cannot be given with it" in line
    line = _fails_cleanly(["train", "--resume", trained, "--out", "elsewhere"], capsys)
    assert "--out" in line
    line = _fails_cleanly(["train", "--resume", trained, "--steps", "10"], capsys)
    assert f"already taken {STEPS} steps" in line
    assert _snapshot(trained) == before


def test_cosine_runs_cannot_be_stretched(trained, capsys):
    before = _snapshot(trained)
    line = _fails_cleanly(["train", "--resume", trained, "--steps", str(2 * STEPS)], capsys)
    assert "cosine schedule" in line and "--schedule constant" in line
    assert _snapshot(trained) == before


@pytest.mark.parametrize("command", ["train --resume", "generate --run", "graph --run"])
def test_a_directory_that_is_not_a_run(command, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    before = _snapshot(tmp_path)
    line = _fails_cleanly([*command.split(), str(tmp_path)], capsys)
    assert "not an ember run directory" in line
    assert _snapshot(tmp_path) == before
    line = _fails_cleanly([*command.split(), str(tmp_path / "missing")], capsys)
    assert "no such directory" in line


def test_a_damaged_checkpoint_is_reported(trained, tmp_path, capsys):
    import shutil

    copy = str(tmp_path / "copy")
    shutil.copytree(trained, copy)
    with open(os.path.join(copy, "model.safetensors"), "r+b") as f:
        f.seek(100)
        f.write(b"\xff" * 50)
    before = _snapshot(copy)
    line = _fails_cleanly(["generate", "--run", copy], capsys)
    assert "model.safetensors" in line
    assert _snapshot(copy) == before


def test_prompt_with_an_unknown_character(trained, capsys):
    line = _fails_cleanly(["generate", "--run", trained, "--prompt", "\u00e9t\u00e9"], capsys)
    assert "not in the vocabulary" in line


@pytest.mark.parametrize("argv, words", [
    (["--temperature", "-0.5"], "temperature"),
    (["--top-k", "0"], "at least 1"),
    (["--tokens", "-3"], "at least 0"),
])
def test_bad_generate_options(trained, argv, words, capsys):
    assert words in _fails_cleanly(["generate", "--run", trained, *argv], capsys)


def test_graph_refuses_an_unknown_picture_format(tmp_path, capsys):
    line = _fails_cleanly(["graph", "--out", str(tmp_path / "g.jpeg")], capsys)
    assert ".dot, .svg or .png" in line


def test_subprocess_bad_input_has_no_traceback(tmp_path):
    res = _python_m_ember("train", "--text", str(tmp_path / "missing.txt"))
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
    assert "no such file" in res.stderr
