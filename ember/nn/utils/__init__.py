"""``ember.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and the
``rnn`` helpers (``pad_sequence``)."""
from . import clip_grad, rnn  # noqa: F401
from .clip_grad import (  # noqa: F401
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "clip_grad", "rnn"]
