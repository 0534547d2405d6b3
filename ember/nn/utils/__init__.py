"""``ember.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``),
``parameters_to_vector`` / ``vector_to_parameters`` and the ``rnn`` helpers
(``pad_sequence``, ``PackedSequence`` and the packing functions)."""
from . import clip_grad, convert_parameters, rnn  # noqa: F401
from .clip_grad import (  # noqa: F401
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "parameters_to_vector", "vector_to_parameters", "clip_grad", "rnn"]
