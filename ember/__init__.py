"""ember: PyTorch's core, built from scratch on NumPy, to read and to use.

``import ember as torch`` runs code written for the parts ember covers: tensors and their
ops, define-by-run autograd, ``nn``, ``optim``, ``utils.data``; plus ``ember.text``
(Vocab, TextDataset) and the ``ember train`` command.
"""
from __future__ import annotations

from . import _compat, _dtype, _legacy_types  # noqa: F401
from ._backend import device  # noqa: F401
from ._compat import (  # noqa: F401
    are_deterministic_algorithms_enabled,
    compile,
    finfo,
    get_default_device,
    get_deterministic_debug_mode,
    get_float32_matmul_precision,
    get_num_interop_threads,
    get_num_threads,
    histc,
    histogram,
    iinfo,
    is_autocast_enabled,
    is_deterministic_algorithms_warn_only_enabled,
    set_default_device,
    set_deterministic_debug_mode,
    set_float32_matmul_precision,
    set_num_interop_threads,
    set_num_threads,
    use_deterministic_algorithms,
)
from ._creation import (  # noqa: F401
    arange,
    as_tensor,
    asarray,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from ._default_tensor_type import set_default_tensor_type  # noqa: F401
from ._dtype import (  # noqa: F401
    bfloat16,
    complex64,
    complex128,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    set_default_dtype,
    uint8,
)
from ._dtype import bool_ as bool  # noqa: A001
from ._dtype import result_type as _result_type
from ._format import set_printoptions  # noqa: F401
from ._memory_format import (  # noqa: F401
    channels_last,
    channels_last_3d,
    contiguous_format,
    memory_format,
    preserve_format,
)
from ._numpy_warnings import silence_float_warnings_from_ember as _silence_float_warnings
from ._random import (  # noqa: F401
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from ._tensor import Size, Tensor  # noqa: F401
from .amp import autocast  # noqa: F401
from .amp import autocast_mode as _autocast_mode
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .autograd.anomaly_mode import (  # noqa: F401
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)
from .autograd.grad_mode import is_inference_mode_enabled  # noqa: F401
from .ops import *  # noqa: F401,F403
from .ops import (  # noqa: F401
    abs,
    add,
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    cat,
    clamp,
    div,
    exp,
    log,
    matmul,
    max,
    mean,
    min,
    mul,
    pow,
    round,
    stack,
    sub,
    sum,
    where,
)
from .torch_version import __version__  # noqa: F401  (a TorchVersion, as torch's)

# torch.linalg: the module of that name, where the * above brought ember's matmul ops module
linalg = __import__("importlib").import_module(f"{__name__}.linalg")
# torch's top-level functions that are not Tensor methods (torch.broadcast_shapes, torch.conv2d)
from ._layout import LAYOUTS as _LAYOUTS  # noqa: E402
from ._layout import layout  # noqa: E402,F401
from ._namespace_gaps import *  # noqa: E402,F401,F403
from ._namespace_gaps_misc import *  # noqa: E402,F401,F403
from ._namespace_gaps_native import *  # noqa: E402,F401,F403
from ._namespace_more import *  # noqa: E402,F401,F403
from ._namespace_nn import *  # noqa: E402,F401,F403
from ._storage_more import *  # noqa: E402,F401,F403  (Tensor.storage, torch.is_storage)
from ._view_copies import *  # noqa: E402,F401,F403  (view_as_real_copy, ...)
from .ops._linalg_geqrf import geqrf, ormqr  # noqa: E402,F401  (torch.geqrf, torch.ormqr)
from .ops._linalg_triangular import orgqr  # noqa: E402,F401  (torch.orgqr)

# torch.strided and friends (after ``from .ops import *``, which binds the ops module
# ``strided`` to that name)
globals().update({_name: _layout_obj for _name, _layout_obj in _LAYOUTS.items()})

# torch.pi, torch.e, torch.inf, torch.nan; torch.newaxis is None, as in NumPy
from math import e, inf, nan, pi  # noqa: E402,F401

newaxis = None
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128
globals().update(_legacy_types.LEGACY)  # FloatTensor, LongTensor, ...
# torch.get_autocast_dtype, torch.set_autocast_enabled, ... (the autocast state API)
globals().update({_n: getattr(_autocast_mode, _n) for _n in _autocast_mode.STATE_FUNCTIONS})
_silence_float_warnings()
globals().update(_compat.out_variants())  # torch.exp(x, out=y) and friends


def is_tensor(obj) -> bool:
    """True for ember Tensors."""
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    """True when ``input`` has a float dtype."""
    return input.is_floating_point()


def numel(input) -> int:
    """Number of elements of ``input``."""
    return input.numel()


def result_type(tensor1, tensor2):
    """The dtype torch's promotion gives ``tensor1 op tensor2``."""
    return _result_type(tensor1, tensor2)


def can_cast(from_, to) -> bool:
    """Whether a value of dtype ``from_`` may be cast to ``to`` by in-place ops."""
    return from_._category <= to._category


# torch functions that load their module on first use (what they need is heavy, or rare)
_LAZY_FUNCTIONS = {
    **dict.fromkeys(("lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell",
                     "rnn_tanh_cell", "rnn_relu_cell"), "_functional_rnn"),
    "svd_lowrank": "_lowrank", "pca_lowrank": "_lowrank", "lobpcg": "_lobpcg",
    "cond": "_control_flow", "while_loop": "_control_flow",
    "stft": "fft._stft", "istft": "fft._stft", "GradScaler": "amp",
    "get_device_module": "accelerator", "from_file": "_from_file",
    "sparse_coo_tensor": "sparse",
}


def __getattr__(name):
    import importlib

    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY_FUNCTIONS[name]}"), name)

    lazy = {"nn", "optim", "utils", "text", "models", "autograd", "testing", "cuda",
            "backends", "distributed", "amp", "serialization", "cli", "linalg", "special",
            "random", "jit", "distributions", "cpu", "func", "profiler",
            "compiler", "multiprocessing", "signal", "types", "fx", "fft", "return_types",
            "accelerator", "version", "torch_version", "functional", "mps", "xpu", "sparse"}
    if name in lazy:
        return importlib.import_module(f"{__name__}.{name}")
    if name in ("save", "load"):
        from . import serialization

        return getattr(serialization, name)
    raise AttributeError(f"module 'ember' has no attribute {name!r}")
