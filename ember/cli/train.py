"""``ember train``: the training loop, checkpoints, metrics and the final sample."""
from __future__ import annotations

import csv
import datetime
import inspect
import io
import math
import os
import signal
import sys
import threading
import time
import types
import warnings
from shlex import quote

from ember.cli._data import _build_vocab, _ignore_sigint, _load_corpus, _pad_id, _split
from ember.cli._defaults import (
    LR_DEFAULTS,
    RESUME_OPTIONS,
    SIZE_OPTIONS,
    TRAIN_DEFAULTS,
    _model_defaults,
)
from ember.cli._errors import CLIError, _err, _print
from ember.cli._run_dir import (
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
    _atomic,
    _check_out_dir,
    _check_writable,
    _load_run_config,
    _load_tensors,
    _load_vocab,
    _load_weights,
    _sha256,
    _version,
    _write_json,
)

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
    shown = "the built-in corpus" if data_info["text"] is None else f"--text {data_info['text']}"
    context = s.model_config.get("context")
    if isinstance(context, int):
        # before the model is built: a --context far longer than the text fails at once
        # instead of first allocating a huge model
        _split_windows(ids, context, s, shown)
    ember.manual_seed(s.seed)
    try:
        model = build_model(s.model, **s.model_config)
    except (TypeError, ValueError) as e:
        raise CLIError(f"--model {s.model} cannot be built with these sizes: {e}") from None
    if s.batch_size < 2 and any(isinstance(m, ember.nn.BatchNorm1d) for m in model.modules()):
        raise CLIError(f"--batch-size {s.batch_size}: --model {s.model} has BatchNorm1d "
                       f"layers, which need at least 2 windows a step")
    context = model.context_size
    train_ids, val_ids = _split_windows(ids, context, s, shown)
    train_ds = model.make_dataset(train_ids)
    val_ds = model.make_dataset(val_ids)
    if len(train_ds) < s.batch_size:
        raise CLIError(f"the training text has {len(train_ds):,} windows, fewer than one "
                       f"batch (--batch-size {s.batch_size}); use a longer text, a smaller "
                       f"--batch-size or a smaller --val-fraction")
    data_gen = ember.Generator().manual_seed(s.seed)
    loader = DataLoader(train_ds, batch_size=s.batch_size, shuffle=True, drop_last=True,
                        num_workers=s.workers, generator=data_gen,
                        worker_init_fn=_ignore_sigint if s.workers else None)
    # NOTE: workers start afresh each epoch: each epoch's iterator then draws its workers'
    # seed as an in-process one does (persistent workers draw it once, as torch's), so
    # --workers changes no batch.
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


def _split_windows(ids, context: int, s, shown: str):
    """(train ids, validation ids); CLIError unless each part holds one window."""
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
    return train_ids, val_ids


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
    s = _Settings(TRAIN_DEFAULTS)
    try:  # a hand-edited config.json: one clear line, not a KeyError
        tr = dict(cfg["train"])
        s.update({k: tr[k] for k in tr if k in TRAIN_DEFAULTS or k in ("steps",)})
        s.update(model=cfg["model"], level=cfg["data"]["level"], text=cfg["data"]["text"],
                 model_config=dict(cfg["model_config"]), workers=args.workers or 0,
                 threads=args.threads or TRAIN_DEFAULTS["threads"])
        old_total = int(tr["total_steps"])
    except (KeyError, TypeError, ValueError) as e:
        raise CLIError(f"--resume {run}: {CONFIG_FILE} is incomplete or damaged ({e!r})") \
            from None
    vocab = _load_vocab(run, "--resume")
    if not os.path.isfile(os.path.join(run, CHECKPOINT_FILE)):
        raise CLIError(f"--resume {run}: the run stopped before its first checkpoint (the end "
                       f"of an epoch, or Ctrl-C), so there is nothing to resume; start it "
                       f"again (ember train --out {quote(run)} with its options)")
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
    _check_writable(run, "--resume")
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
    from ember import cli as _cli

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
                    # looked up on the package, so ember.cli._train_step can be patched
                    loss = _cli._train_step(model, optimizer, scheduler, x, y)
                    if not math.isfinite(loss):  # the weights are lost: stop before saving them
                        raise CLIError(
                            f"training diverged: the loss became {loss} at step "
                            f"{state['step'] + 1:,}, so the run stops ({out} keeps its last "
                            f"checkpoint, if any); start again with a smaller --lr than "
                            f"{s.lr:g}", code=1)
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
                    # even when Ctrl-C ended the epoch: a resumed run never redoes this
                    # evaluation, and its metrics must match an uninterrupted run's
                    _evaluate_and_log(out, config, job, state, t_start, bar)
                    _checkpoint(out, job, state, t_start)
                    # tokens/s counts training time only
                    t_last, tokens_last = time.perf_counter(), state["tokens"]
                # ``it`` stays referenced until the next epoch starts: the loader's
                # state_dict() (saved by _checkpoint) reads the position from it.
            interrupted = stop.requested and state["step"] < job.total
    except KeyboardInterrupt:
        bar.close()
        if os.path.isfile(os.path.join(out, CHECKPOINT_FILE)):
            _err(f"ember: stopped at once at step {state['step']:,} without saving; {out} "
                 f"keeps its last checkpoint (resume with: ember train --resume {quote(out)})")
        else:
            _err(f"ember: stopped at once at step {state['step']:,}, before the first "
                 f"checkpoint: there is nothing to resume; the same command starts the run "
                 f"again in {out}")
        return 130
    finally:
        bar.close()
    if interrupted:
        _checkpoint(out, job, state, t_start)
        _err(f"ember: interrupted at step {state['step']:,} of {job.total:,}; checkpoint saved. "
             f"Continue with: ember train --resume {quote(out)}")
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
    _print(f"run saved in {out}; more text with: ember generate --run {quote(out)}")
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
