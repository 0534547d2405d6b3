"""``ember.nn.functional``: the stateless layers and losses (torch's ``torch.nn.functional``).

Thin on purpose: each function checks its arguments with torch's messages and hands the
arrays to one op. The math of the fused ones (embedding, dropout, batch and layer norm,
cross entropy, nll) lives in ``ember/nn/_functions/``; the rest are ``ember.ops`` or small
compositions of them.

The functions live in private modules by family: ``_affine`` (linear, embedding, pad),
``_normalization`` (dropout and the norms), ``_activation`` and ``_loss``.
"""
from __future__ import annotations

from .._attention import scaled_dot_product_attention  # noqa: F401  (one fused node)
from ._activation import (
    elu,
    gelu,
    glu,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    relu,
    relu6,
    relu_,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    tanh,
)
from ._affine import bilinear, embedding, embedding_bag, linear, one_hot, pad
from ._loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ._normalization import (
    batch_norm,
    cosine_similarity,
    dropout,
    group_norm,
    instance_norm,
    layer_norm,
    normalize,
    rms_norm,
)

__all__ = [
    "linear", "bilinear", "embedding", "embedding_bag", "one_hot", "pad", "dropout",
    "batch_norm", "layer_norm",
    "group_norm", "instance_norm", "rms_norm", "normalize", "relu", "relu_", "relu6",
    "leaky_relu", "elu", "gelu", "silu",
    "mish", "sigmoid", "tanh", "hardtanh", "softplus", "logsigmoid", "glu", "softmax",
    "softmin", "log_softmax", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "kl_div", "cosine_similarity", "scaled_dot_product_attention",
]

# Keep the public path in reprs and pickles (torch's functions say
# ``torch.nn.functional``), as when this was a single module.
for _name in __all__:
    if globals()[_name].__module__.startswith(__name__ + "."):  # one of the family modules
        globals()[_name].__module__ = __name__
del _name

# the newer families list their public names themselves
from . import (  # noqa: E402
    _attention_layers,
    _channel,
    _conv,
    _ctc,
    _fractional,
    _interpolate,
    _lp_pool,
    _more_activation,
    _more_loss,
    _pooling,
    _pooling3d,
    _unpool,
    _vision,
)

for _family in (_more_activation, _more_loss, _conv, _pooling, _interpolate, _pooling3d,
                _attention_layers, _vision, _unpool, _fractional, _lp_pool, _channel, _ctc):
    globals().update({_name: getattr(_family, _name) for _name in _family.__all__})
from ..._namespace_gaps_native import conv_tbc  # noqa: E402,F401  (torch.nn.functional.conv_tbc)
from ..._namespace_nn import native_channel_shuffle  # noqa: E402,F401  (torch's, one object)
from ._grouped_mm import grouped_mm  # noqa: E402,F401
from ._linear_cross_entropy import linear_cross_entropy  # noqa: E402,F401
