"""``ember.nn.functional``: the stateless layers and losses (torch's ``torch.nn.functional``).

Thin on purpose: each function checks its arguments with torch's messages and hands the
arrays to one op. The math of the fused ones (embedding, dropout, batch and layer norm,
cross entropy, nll) lives in ``ember/nn/_functions/``; the rest are ``ember.ops`` or small
compositions of them.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import _random
from .. import ops as _ops
from .._tensor import Tensor
from . import _reduction
from ._attention import scaled_dot_product_attention  # noqa: F401  (one fused node)
from ._functions.activation import Elu, Hardtanh, LeakyRelu, LogSigmoid
from ._functions.batch_norm import BatchNorm
from ._functions.cross_entropy import CrossEntropy, NLLLoss, SoftCrossEntropy
from ._functions.dropout import Dropout
from ._functions.embedding import EmbeddingLookup, check_indices, renorm_
from ._functions.layer_norm import LayerNorm
from ._functions.pad import ConstantPad, IndexPad, source_index

__all__ = [
    "linear", "bilinear", "embedding", "one_hot", "pad", "dropout", "batch_norm", "layer_norm",
    "rms_norm", "normalize", "relu", "relu_", "relu6", "leaky_relu", "elu", "gelu", "silu",
    "mish", "sigmoid", "tanh", "hardtanh", "softplus", "logsigmoid", "glu", "softmax",
    "softmin", "log_softmax", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "kl_div", "cosine_similarity", "scaled_dot_product_attention",
]


def _size_str(shape) -> str:
    # torch's messages print shapes as torch.Size([...]); kept so users can search for them
    return f"torch.Size({list(shape)})"


# --- affine maps and lookups -----------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` as one node.

    Shape:
        - input ``(*, in_features)``, weight ``(out_features, in_features)``,
          bias ``(out_features,)``; output ``(*, out_features)``.
    """
    return _ops.linear(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None):
    """``y_k = x1 @ weight[k] @ x2 + bias[k]`` (composed: one matmul, a product, a sum)."""
    n_out, n1, n2 = weight.shape
    w = _ops.reshape(_ops.permute(weight, (1, 0, 2)), n1, n_out * n2)
    t = _ops.reshape(_ops.matmul(input1, w), *input1.shape[:-1], n_out, n2)
    out = _ops.sum(t * _ops.unsqueeze(input2, -2), dim=-1)
    return out + bias if bias is not None else out


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer ids in ``input``.

    Args:
        input: integer ids of any shape.
        weight: the table, ``(num_embeddings, embedding_dim)``.
        padding_idx: a row that receives no gradient (negative counts from the end).
        max_norm: rows looked up whose norm exceeds it are rescaled in place first.
        norm_type: the p of that norm.
        scale_grad_by_freq: divide each row's gradient by its id's count in the batch.
        sparse: accepted; gradients are always dense here.

    Raises:
        RuntimeError: ids of a float dtype.
        IndexError: an id outside ``[0, num_embeddings)``.
    """
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    num = weight._data.shape[0]
    check_indices(idx, num)
    if padding_idx is not None:
        padding_idx = _check_padding_idx(padding_idx, num)
    if max_norm is not None:
        renorm_(weight._data, idx, max_norm, norm_type)
        weight._vc[0] += 1
    return EmbeddingLookup.apply(weight, idx=idx, padding_idx=padding_idx,
                                 scale_grad_by_freq=scale_grad_by_freq)


class _PaddingIdxError(ValueError, AssertionError):
    """torch asserts here (AssertionError); a ValueError is what the value error is."""


def _check_padding_idx(padding_idx: int, num_embeddings: int) -> int:
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise _PaddingIdxError("Padding_idx must be within num_embeddings")
    return padding_idx % num_embeddings


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a trailing dimension of ``num_classes``."""
    return _ops.one_hot(tensor, num_classes)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions: ``pad = (left, right, top, bottom, ...)``,
    starting from the last dimension. ``mode`` is constant (negative pads crop), reflect,
    replicate or circular."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    ndim = input.dim()
    k = len(pad) // 2
    if k > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {ndim}")
    pairs = [(0, 0)] * (ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    if mode == "constant":
        return ConstantPad.apply(input, pads=tuple(pairs), value=0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad mode {mode!r} is not supported (constant, reflect, "
                                  "replicate, circular are)")
    if value:
        raise ValueError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    indices = {}
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            n = input.shape[axis]
            if mode == "reflect" and (before >= n or after >= n):
                raise RuntimeError(f"Argument #4: Padding size should be less than the "
                                   f"corresponding input dimension, but got: padding "
                                   f"({before}, {after}) at dimension {axis} of input "
                                   f"{list(input.shape)}")
            indices[axis] = source_index(n, before, after, mode)
    return IndexPad.apply(input, indices=indices)


# --- regularisation and normalisation ---------------------------------------------------
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Identity (the input itself, as torch on the CPU) when ``training`` is False or
    ``p == 0``. The mask is one draw from ember's default generator.

    Raises:
        ValueError: ``p`` outside [0, 1].
    """
    _check_p(p)
    if not training or p == 0.0 or input._data.size == 0:
        return input
    rng = _random.default_generator._rng
    if inplace:
        return input._inplace(lambda x: Dropout.apply(x, p=p, rng=rng))
    return Dropout.apply(input, p=p, rng=rng)


def _verify_batch_size(shape) -> None:
    n = shape[0]
    for s in shape[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {_size_str(shape)}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dimension 1) of ``input``, one fused node.

    In training the batch statistics (biased variance) normalise and, when given, the
    running statistics are updated in place with the unbiased variance; otherwise the
    running statistics normalise.

    Raises:
        ValueError: training with one value per channel.
        RuntimeError: a running statistic, weight or bias whose size is not the channel
            count; evaluation without running statistics.
    """
    shape = input._data.shape
    if training:
        _verify_batch_size(shape)
    c = shape[1] if len(shape) > 1 else 0
    rm = running_mean._data if running_mean is not None else None
    rv = running_var._data if running_var is not None else None
    w = weight._data if weight is not None else None
    b = bias._data if bias is not None else None
    for name, a in (("running_mean", rm), ("running_var", rv), ("weight", w), ("bias", b)):
        if a is not None and a.size != c:
            raise RuntimeError(f"{name} should contain {c} elements not {a.size}")
    if not training and (rm is None or rv is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    out = BatchNorm.apply(input, weight, bias, running_mean=rm, running_var=rv,
                          training=training, momentum=momentum, eps=eps)
    if training:  # the running statistics changed in place
        if running_mean is not None:
            running_mean._vc[0] += 1
        if running_var is not None:
            running_var._vc[0] += 1
    return out


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale and shift."""
    normalized_shape = _shape_tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input._data.shape[input.dim() - k:]) != normalized_shape or k > input.dim():
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input "
                           f"with shape [*, {', '.join(str(s) for s in normalized_shape)}], "
                           f"but got input of size{list(input.shape)}")
    return LayerNorm.apply(input, weight, bias, k=k, eps=eps)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing dimensions (composed)."""
    k = len(_shape_tuple(normalized_shape))
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(-k, 0))
    out = input * _ops.rsqrt(_ops.mean(input * input, dim=dims, keepdim=True) + eps)
    return out * weight if weight is not None else out


def _shape_tuple(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``."""
    denom = _ops.clamp_min(_ops.norm(input, p, dim=dim, keepdim=True), eps)
    return input / denom


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1 . x2 / max(||x1|| * ||x2||, eps)`` along ``dim``."""
    dot = _ops.sum(x1 * x2, dim=dim)
    n1 = _ops.sum(x1 * x1, dim=dim)
    n2 = _ops.sum(x2 * x2, dim=dim)
    return dot / _ops.sqrt(_ops.clamp_min(n1 * n2, eps * eps))


# --- activations ----------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``."""
    return _ops.relu(input, inplace=inplace)


def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``."""
    return input.relu_()


def _maybe_inplace(input, inplace, fn):
    return input._inplace(fn) if inplace else fn(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``clamp(input, min_val, max_val)`` with a zero gradient outside the open interval."""
    return _maybe_inplace(input, inplace,
                          lambda x: Hardtanh.apply(x, min_val=min_val, max_val=max_val))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``."""
    return _maybe_inplace(input, inplace,
                          lambda x: LeakyRelu.apply(x, negative_slope=negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``alpha * (exp(input) - 1)``."""
    return _maybe_inplace(input, inplace, lambda x: Elu.apply(x, alpha=alpha))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``input * Phi(input)`` (``approximate='tanh'`` for the tanh formula)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _ops.gelu(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)``."""
    return _maybe_inplace(input, inplace, _ops.silu)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))``."""
    return _maybe_inplace(input, inplace, lambda x: x * _ops.tanh(_ops.softplus(x)))


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-input))``."""
    return _ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _ops.tanh(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * input)) / beta``, linear above ``threshold``."""
    return _ops.softplus(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(input))``, computed without overflow."""
    return LogSigmoid.apply(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """``a * sigmoid(b)`` with ``a, b`` the halves of ``input`` along ``dim``."""
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.dim()} "
                           f"is size {input.shape[dim]}")
    a, b = _ops.chunk(input, 2, dim)
    return a * _ops.sigmoid(b)


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(input) / sum(exp(input))`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return _ops.softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-input)`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    return _ops.softmax(-input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """``input - logsumexp(input)`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _ops.log_softmax(input, dim, dtype=dtype)


# --- losses ---------------------------------------------------------------------------------
def _class_targets(input, target, weight, name):
    """Checks shared by cross_entropy and nll_loss on class-index targets."""
    x_shape = input._data.shape
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype != np.int64 and t.dtype != np.uint8:
        kind = {"f": "Float" if t.dtype == np.float32 else "Double", "i": "Int",
                "b": "Bool"}.get(t.dtype.kind, str(t.dtype))
        if t.dtype == np.int16:
            kind = "Short"
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {kind}")
    if input.dim() == 1:
        if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != 1):
            raise ValueError(f"Expected input batch_size (1) to match target batch_size "
                             f"({t.shape[0] if t.ndim else 1}).")
        t = t.reshape(())
    elif input.dim() == 2:
        if t.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif input.dim() == 0:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    else:
        if t.ndim == 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.dim() >= 2 and t.shape[:1] != x_shape[:1]:
        raise ValueError(f"Expected input batch_size ({x_shape[0]}) to match target "
                         f"batch_size ({t.shape[0]}).")
    if input.dim() > 2 and t.shape != x_shape[:1] + x_shape[2:]:
        raise RuntimeError(f"Expected target size {list(x_shape[:1] + x_shape[2:])}, got "
                           f"{list(t.shape)}")
    if t.dtype != np.int64:
        t = t.astype(np.int64)
    w = None
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
        c = x_shape[1] if input.dim() > 1 else x_shape[0]
        if w.shape != (c,):
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes "
                               f"or no classes but got weight tensor of shape: {list(w.shape)}")
        if w.dtype != input._data.dtype:
            raise RuntimeError(f"expected scalar type {_dtype_word(input._data.dtype)} but "
                               f"found {_dtype_word(w.dtype)}")
    return t, w


def _dtype_word(dt):
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(dt.name, dt.name)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits and class indices (or class probabilities), fused:
    one node whose backward is ``softmax - one_hot`` (smoothed and weighted).

    Args:
        input: logits ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``.
        target: class indices ``(N,)`` / ``()`` / ``(N, d1, ...)`` (int64), or class
            probabilities shaped like ``input`` (float).
        weight: per-class rescaling ``(C,)``.
        ignore_index: target value that contributes neither loss nor gradient (and is
            left out of the 'mean' denominator).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``; 'mean' divides by the summed
            weights of the counted targets.
        label_smoothing: mix ``label_smoothing / C`` of the uniform distribution into the
            target.

    Raises:
        ValueError: batch sizes differ; a bad ``reduction``.
        IndexError: a class index outside ``[0, C)`` (other than ``ignore_index``).
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    t = target._data if isinstance(target, Tensor) else None
    if t is not None and t.dtype.kind == "f":
        return _soft_cross_entropy(input, target, weight, ignore_index, reduction,
                                   label_smoothing)
    t, w = _class_targets(input, target, weight, "cross_entropy")
    return CrossEntropy.apply(input, target=t, weight=w, ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=label_smoothing)


def _soft_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    if target._data.shape != input._data.shape:
        if input.dim() == 2 and target.dim() != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_dtype_word(target._data.dtype)}")
    if ignore_index != -100:
        raise RuntimeError("ignore_index is not supported for floating point target")
    # the op sees rows with the class axis last, so a flat (C,) weight broadcasts there
    w = weight._data if weight is not None else None
    return SoftCrossEntropy.apply(input, target, weight=w, reduction=reduction,
                                  label_smoothing=label_smoothing)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities ``input``.

    Shapes, ``weight``, ``ignore_index`` and ``reduction`` as in :func:`cross_entropy`.
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    t, w = _class_targets(input, target, weight, "nll_loss")
    return NLLLoss.apply(input, target=t, weight=w, ignore_index=ignore_index,
                         reduction=reduction)


def _warn_size(input, target, stacklevel=3):
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({_size_str(target.shape)}) that is different to "
                      f"the input size ({_size_str(input.shape)}). This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same "
                      "size.", stacklevel=stacklevel)


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return _ops.sum(loss)
    return _ops.mean(loss)


def _weighted(loss, weight, reduction, input):
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return _ops.sum(loss) / _ops.sum(weight)
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)^2``, reduced."""
    _warn_size(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    d = input - target
    loss = d * d
    if weight is not None:
        return _weighted(loss, weight, reduction, input)
    return _reduce(loss, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``, reduced."""
    _warn_size(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    loss = _ops.abs(input - target)
    if weight is not None:
        return _weighted(loss, weight, reduction, input)
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target)."""
    _warn_size(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    a = _ops.abs(d)
    if beta == 0:
        return _reduce(a, reduction)
    loss = _ops.where(a._data < beta, 0.5 * d * d / beta, a - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| <= delta``, else ``delta (|d| - 0.5 delta)``."""
    _warn_size(input, target)
    reduction = _reduction.check(reduction)
    d = input - target
    a = _ops.abs(d)
    loss = _ops.where(a._data <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    if weight is not None:
        if weight.shape != input.shape:
            raise ValueError("Weights and input must have the same size.")
        return _reduce(loss * weight, reduction)
    return _reduce(loss, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log x + (1 - t) log(1 - x))`` on probabilities, logs clamped at -100."""
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({_size_str(target.shape)}) that is different "
                         f"to the input size ({_size_str(input.shape)}) is deprecated. Please "
                         "ensure they have the same size.")
    x = input._data
    if x.size and (x.min() < 0 or x.max() > 1):
        raise RuntimeError("all elements of input should be between 0 and 1")
    log_x = _ops.clamp_min(_ops.log(input), -100.0)
    log_1mx = _ops.clamp_min(_ops.log(1 - input), -100.0)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross entropy in one stable formula:
    ``(1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)``, times ``weight``."""
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({_size_str(target.shape)}) must be the same as input "
                         f"size ({_size_str(input.shape)})")
    sp = _ops.softplus(-input, 1.0, 20.0)
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    else:
        loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Pointwise ``target * (log target - input)`` (``input`` holds log-probabilities)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction.legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if log_target:
        loss = _ops.exp(target) * (target - input)
    else:
        t = target._data
        safe = _ops.where(t > 0, target, 1.0) if isinstance(target, Tensor) else target
        loss = _ops.where(t > 0, target * (_ops.log(safe) - input), 0.0)
    if reduction == "batchmean":
        total = _ops.sum(loss)
        return total / input.shape[0] if input.dim() else total
    return _reduce(loss, _reduction.check(reduction))
