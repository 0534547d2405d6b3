"""``ember.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and the
``rnn`` helpers (``pad_sequence``)."""
try:  # written in parallel by another developer; guarded until both files exist
    from . import clip_grad  # noqa: F401
    from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_  # noqa: F401
except ImportError:  # pragma: no cover
    pass
try:
    from . import rnn  # noqa: F401
except ImportError:  # pragma: no cover
    pass
