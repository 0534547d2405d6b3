"""Training defaults and the options that touch them (shared by the parser and ``train``)."""
from __future__ import annotations

import inspect

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


def _model_defaults(name: str) -> dict:
    """The constructor defaults of model ``name`` (its sizes when no option is given)."""
    from ember.models import get_model_class

    params = inspect.signature(get_model_class(name).__init__).parameters
    return {k: p.default for k, p in params.items()
            if k not in ("self", "vocab_size") and p.default is not inspect.Parameter.empty}
