"""Ready models for the command line (``ember train --model NAME``), importable on their own.

A registered model is an :class:`ember.nn.Module` subclass with:

- ``name``: its registry key (``"mlp"``);
- a constructor whose first argument is ``vocab_size``, the rest sizes with defaults,
  and ``config()`` returning the constructor's arguments as JSON-ready values, so a run
  directory can rebuild it with ``build_model(name, **config)``;
- ``context_size``: how many tokens it reads; ``fixed_context``: whether it needs exactly
  that many (True) or up to that many (False);
- ``make_dataset(tokens, stride=1)``: a Dataset of ``(x, y)`` training pairs whose
  ``y`` lines up with ``forward(x)``'s logits, so that the loss is always
  ``F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))``;
- ``forward(ids)``: logits ``(N, V)`` for the next token, or ``(N, L, V)`` for every
  position (generation then reads the last one).

:func:`generate` samples from any of them.
"""
from __future__ import annotations

from ember.models.char_lm import MLPLanguageModel, NextTokenDataset, generate, unigram_loss
from ember.models.gpt import GPTLanguageModel
from ember.models.lstm_lm import LSTMLanguageModel

__all__ = [
    "MLPLanguageModel",
    "GPTLanguageModel",
    "LSTMLanguageModel",
    "NextTokenDataset",
    "generate",
    "unigram_loss",
    "MODELS",
    "register_model",
    "get_model_class",
    "build_model",
    "model_names",
]

#: registry name -> model class; ``ember train --model NAME`` picks from it
MODELS: dict[str, type] = {}


def register_model(cls: type) -> type:
    """Add ``cls`` to :data:`MODELS` under ``cls.name`` (usable as a class decorator)."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__} needs a non-empty str attribute 'name' to register")
    MODELS[name] = cls
    return cls


def model_names() -> list[str]:
    """Registered model names, in registration order."""
    return list(MODELS)


def get_model_class(name: str) -> type:
    """The model class registered as ``name``.

    Raises:
        KeyError: no such model (the message lists the known ones).
    """
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; choose from {', '.join(MODELS)}") from None


def build_model(name: str, **config):
    """``get_model_class(name)(**config)``."""
    return get_model_class(name)(**config)


register_model(MLPLanguageModel)
register_model(GPTLanguageModel)
register_model(LSTMLanguageModel)
