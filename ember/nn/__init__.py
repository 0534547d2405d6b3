"""Neural-network building blocks (torch's ``torch.nn``): ``Module`` and the layers,
containers and losses in ``ember.nn.modules``, ``Parameter`` / ``Buffer``, and the
``functional``, ``init`` and ``utils`` namespaces."""
from . import functional, init, utils  # noqa: F401
from .modules import (  # noqa: F401
    ELU,
    GELU,
    GLU,
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    BCELoss,
    BCEWithLogitsLoss,
    Bilinear,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    EmbeddingBag,
    Flatten,
    GroupNorm,
    Hardtanh,
    HuberLoss,
    Identity,
    KLDivLoss,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    Mish,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    ParameterDict,
    ParameterList,
    ReLU,
    ReLU6,
    RMSNorm,
    Sequential,
    Sigmoid,
    SiLU,
    SmoothL1Loss,
    Softmax,
    Softmin,
    Softplus,
    Tanh,
    Unflatten,
)
from .parameter import Buffer, Parameter  # noqa: F401

__all__ = [
    "Module", "Parameter", "Buffer", "functional", "init", "utils",
    "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    "Identity", "Linear", "Bilinear", "Embedding", "EmbeddingBag", "Dropout", "Flatten",
    "Unflatten",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "RMSNorm",
    "ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "SiLU", "Mish", "Tanh", "Sigmoid", "Hardtanh",
    "Softplus", "LogSigmoid", "GLU", "Softmax", "Softmin", "LogSoftmax",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
    "BCEWithLogitsLoss", "KLDivLoss",
]

# the newer layer families list their public names themselves
from .modules import (  # noqa: E402
    activation_more,
    conv,
    fold,
    instancenorm,
    loss_more,
    padding,
    pixelshuffle,
    pooling,
    rnn,
    transformer,
)

for _family in (activation_more, loss_more, padding, rnn, conv, pooling, transformer,
                instancenorm, pixelshuffle, fold):
    globals().update({_name: getattr(_family, _name) for _name in _family.__all__})
    __all__ += _family.__all__
