"""``ember.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``),
``parameters_to_vector`` / ``vector_to_parameters``, the ``rnn`` helpers
(``pad_sequence``, ``PackedSequence`` and the packing functions), ``parametrize`` /
``parametrizations`` (weight reparametrization), the legacy hook-based ``weight_norm`` and
``spectral_norm``, ``prune`` (masks), ``stateless`` (the deprecated ``functional_call``),
``fusion`` (BatchNorm folded into a conv or linear layer) and ``init`` (``skip_init``)."""
from . import (  # noqa: F401
    clip_grad,
    convert_parameters,
    fusion,
    init,
    parametrizations,
    parametrize,
    rnn,
)
from .clip_grad import (  # noqa: F401
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .fusion import (  # noqa: F401
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from .init import skip_init  # noqa: F401

# as in torch, the functions shadow their submodules' names on the package
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401


def __getattr__(name):
    # prune and stateless load on first use (import ember stays quick)
    if name in ("prune", "stateless"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "parameters_to_vector", "vector_to_parameters", "clip_grad", "rnn",
           "parametrize", "parametrizations", "weight_norm", "remove_weight_norm",
           "spectral_norm", "remove_spectral_norm", "stateless", "fuse_conv_bn_eval",
           "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights", "skip_init"]
