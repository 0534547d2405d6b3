"""torch's top-level spellings of ``nn.functional`` ops (``torch.conv2d``, ``torch.batch_norm``...).

These are ATen's signatures, which differ from ``nn.functional``'s: the norms take
``(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled)``
with every argument required, ``dropout(input, p, train)`` has no defaults, ``embedding`` takes
the weight first, the losses take an int ``reduction`` (0 none, 1 mean, 2 sum), and
``embedding_bag`` / ``adaptive_max_pool1d`` / ``max_pool1d_with_indices`` return tuples.

NOTE: torch 2.13's Python bindings apply *no* reduction when a loss's ``reduction`` is left
out (although its schema says mean); these functions do the same so the numbers agree.

Each function imports ``ember.nn.functional`` when called, keeping ``import ember`` light.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import _arg_errors
from ._dtype import c_type_name
from ._tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "dropout", "alpha_dropout", "feature_alpha_dropout",
           "feature_dropout", "layer_norm", "group_norm", "instance_norm", "batch_norm",
           "rms_norm", "embedding", "embedding_bag", "bilinear", "pixel_shuffle",
           "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "max_pool1d",
           "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d",
           "adaptive_avg_pool1d", "adaptive_max_pool1d", "selu", "celu", "rrelu", "rrelu_",
           "threshold",
           "pdist", "pairwise_distance", "cosine_similarity", "kl_div", "cosine_embedding_loss",
           "hinge_embedding_loss", "margin_ranking_loss", "triplet_margin_loss",
           "poisson_nll_loss", "binary_cross_entropy_with_logits", "ctc_loss", "constant_pad_nd",
           "grid_sampler", "affine_grid_generator"]

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _F():  # noqa: N802  (torch's own alias for the module)
    from .nn import functional

    return functional


def _reduction(name, reduction):
    """torch's int reduction as nn.functional's string (a string is accepted as well)."""
    if isinstance(reduction, str):
        return reduction
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}(): {reduction} is not a valid value for reduction")
    return _REDUCTIONS[int(reduction)]


# --- convolutions, pixel ops -------------------------------------------------------------------
_CONV_FORMS = ("(Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, "
               "tuple of ints padding = 0, tuple of ints dilation = 1, int groups = 1)",
               "(Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, "
               'str padding = "valid", tuple of ints dilation = 1, int groups = 1)')


def _check_conv(name, input, weight):
    """torch's parser error for a non-Tensor ``input`` or ``weight`` (two overloads)."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)):
        raise _arg_errors.invalid_combination(name, (input, weight), expected=_CONV_FORMS)

def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``torch.conv1d``: :func:`ember.nn.functional.conv1d`."""
    _check_conv("conv1d", input, weight)
    return _F().conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``torch.conv2d``: :func:`ember.nn.functional.conv2d`."""
    _check_conv("conv2d", input, weight)
    return _F().conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``torch.conv3d``: :func:`ember.nn.functional.conv3d`."""
    _check_conv("conv3d", input, weight)
    return _F().conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """``torch.conv_transpose1d``: :func:`ember.nn.functional.conv_transpose1d`."""
    _arg_errors.check_tensors("conv_transpose1d", input=input, weight=weight)
    return _F().conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups,
                                 dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """``torch.conv_transpose2d``: :func:`ember.nn.functional.conv_transpose2d`."""
    _arg_errors.check_tensors("conv_transpose2d", input=input, weight=weight)
    return _F().conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                                 dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """``torch.conv_transpose3d``: :func:`ember.nn.functional.conv_transpose3d`."""
    _arg_errors.check_tensors("conv_transpose3d", input=input, weight=weight)
    return _F().conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups,
                                 dilation)


def bilinear(input1, input2, weight, bias=None):
    """``torch.bilinear``: ``x1^T W x2 + b`` (:func:`ember.nn.functional.bilinear`)."""
    return _F().bilinear(input1, input2, weight, bias)


def pixel_shuffle(input, upscale_factor):
    """``torch.pixel_shuffle``: ``(*, C r^2, H, W)`` to ``(*, C, H r, W r)``."""
    return _F().pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    """``torch.pixel_unshuffle``: the inverse of :func:`pixel_shuffle`."""
    return _F().pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input, groups):
    """Interleave the channels of ``(N, C, *)`` in ``groups`` (``torch.channel_shuffle``):
    view as ``(N, groups, C / groups, *)``, swap those two dims, flatten back."""
    if input.dim() <= 2:
        raise RuntimeError("channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError("Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and "
                           f"{groups} groups.")
    return (input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
            .reshape(n, c, *rest))


def native_channel_shuffle(input, groups):
    """``torch.native_channel_shuffle``: :func:`channel_shuffle`."""
    return channel_shuffle(input, groups)


# --- dropout ----------------------------------------------------------------------------------

def _check_p(p):
    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p, train):
    """``torch.dropout(input, p, train)``: :func:`ember.nn.functional.dropout`."""
    _check_p(p)
    return _F().dropout(input, p, train)


def alpha_dropout(input, p, train):
    """``torch.alpha_dropout(input, p, train)``: :func:`ember.nn.functional.alpha_dropout`."""
    _check_p(p)
    return _F().alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    """``torch.feature_alpha_dropout(input, p, train)``: channel-wise alpha dropout."""
    _check_p(p)
    return _F().feature_alpha_dropout(input, p, train)


def feature_dropout(input, p, train):
    """Zero whole channels of ``(N, C, *)`` with probability ``p`` and scale the rest by
    ``1 / (1 - p)`` while ``train`` (``torch.feature_dropout``). The mask comes from ember's
    generator, so its values differ from torch's."""
    from . import _creation

    _check_p(p)
    if p == 0 or not train or input.numel() == 0:
        return input
    if p == 1:
        return input * _creation.zeros((), dtype=input.dtype)
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    from .nn.functional._normalization import check_mask_dtype

    check_mask_dtype(input._data.dtype)
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    keep = _creation.full(shape, 1 - p, dtype=input.dtype)
    return input * (_creation.bernoulli(keep) / (1 - p))


# --- normalisation ----------------------------------------------------------------------------

def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    """``torch.layer_norm``: :func:`ember.nn.functional.layer_norm` (``cudnn_enable`` unused)."""
    if isinstance(normalized_shape, int):
        raise _arg_errors.must_be("layer_norm", "normalized_shape", 2, "tuple of ints",
                                  normalized_shape)
    return _F().layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """``torch.group_norm``: :func:`ember.nn.functional.group_norm` without its Python-level
    checks (rank, one value per group), as torch's kernel."""
    from .nn.functional._normalization import group_norm_kernel

    return group_norm_kernel(input, num_groups, weight, bias, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    """``torch.instance_norm`` in ATen's argument order (all required); updates the running
    statistics in place like :func:`ember.nn.functional.instance_norm`."""
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                              momentum, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """``torch.batch_norm`` in ATen's argument order (weight and bias first, all required);
    updates the running statistics in place while ``training``."""
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                           eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``torch.rms_norm``: :func:`ember.nn.functional.rms_norm`."""
    if isinstance(normalized_shape, int):
        raise _arg_errors.must_be("rms_norm", "normalized_shape", 2, "tuple of ints",
                                  normalized_shape)
    return _F().rms_norm(input, normalized_shape, weight, eps)


# --- embeddings -------------------------------------------------------------------------------

def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``torch.embedding(weight, indices, ...)``: the rows of ``weight`` at ``indices``; a
    non-negative ``padding_idx`` gets no gradient (-1, ATen's default, means none)."""
    _arg_errors.check_tensors("embedding", weight=weight, indices=indices)
    pad = padding_idx if padding_idx is not None and padding_idx >= 0 else None
    return _F().embedding(indices, weight, pad, scale_grad_by_freq=scale_grad_by_freq,
                          sparse=sparse)


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """``torch.embedding_bag``: ATen's op, ``mode`` 0 sum, 1 mean, 2 max.

    Returns:
        ``(output, offset2bag, bag_size, max_indices)`` with torch's CPU values for the three
        bookkeeping tensors (empty/zeros where its sum fast path leaves them so).
    """
    from ._tensor import _wrap

    if mode not in (0, 1, 2):
        raise RuntimeError(f"embedding_bag: unknown mode {mode}")
    num = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    flat = indices.reshape(-1)
    out = _F().embedding_bag(flat, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                             mode=("sum", "mean", "max")[mode], sparse=sparse,
                             per_sample_weights=per_sample_weights,
                             include_last_offset=include_last_offset, padding_idx=padding_idx)
    idx = flat.numpy().astype(np.int64)
    offs = offsets.numpy().astype(np.int64)
    bags = len(offs) - 1 if include_last_offset else len(offs)
    bag_of = np.searchsorted(offs[:bags], np.arange(len(idx)), side="right") - 1
    keep = idx != padding_idx if padding_idx is not None else np.ones(len(idx), bool)
    sizes = np.bincount(bag_of[keep], minlength=bags).astype(np.int64)[:bags]
    if mode == 0:  # ATen's sum path sizes these by the offsets, include_last_offset or not
        offset2bag = bag_of if padding_idx is not None else np.zeros(0, np.int64)
        return (out, _wrap(offset2bag), _wrap(np.zeros(len(offs), np.int64)),
                _wrap(np.zeros(len(offs), np.int64)))
    if mode == 1:
        return out, _wrap(bag_of), _wrap(sizes), _wrap(sizes.copy())
    w = weight.detach().numpy()
    max_idx = np.zeros((bags, w.shape[1]), np.int64)
    for b in range(bags):
        members = idx[(bag_of == b) & keep]
        if len(members):
            max_idx[b] = members[np.argmax(w[members], axis=0)]
    return out, _wrap(bag_of), _wrap(sizes), _wrap(max_idx)


# --- pooling ----------------------------------------------------------------------------------

def _stride(stride):
    return None if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool1d`` (``stride=()`` means the kernel size); returns the values only."""
    return _F().max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool2d`` (``stride=()`` means the kernel size)."""
    return _F().max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool3d`` (``stride=()`` means the kernel size)."""
    return _F().max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    """``torch.max_pool1d_with_indices``: ``(values, indices)``."""
    return _F().max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode,
                           return_indices=True)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True):
    """``torch.avg_pool1d``: :func:`ember.nn.functional.avg_pool1d`."""
    return _F().avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode,
                           count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    """``torch.adaptive_avg_pool1d``: :func:`ember.nn.functional.adaptive_avg_pool1d`."""
    return _F().adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size):
    """``torch.adaptive_max_pool1d``: ``(values, indices)`` (ATen always returns both)."""
    return _F().adaptive_max_pool1d(input, output_size, return_indices=True)


# --- activations ------------------------------------------------------------------------------

def selu(input):
    """``torch.selu``: :func:`ember.nn.functional.selu`."""
    return _F().selu(input)


def celu(input, alpha=1.0):
    """``torch.celu``: :func:`ember.nn.functional.celu`."""
    return _F().celu(input, alpha)


def rrelu(input, lower=0.125, upper=1.0 / 3.0, training=False, generator=None):
    """``torch.rrelu``: randomized leaky ReLU (slope ``(lower + upper) / 2`` unless
    ``training``; then torch's draws, from ``generator`` or the default one)."""
    from .nn.functional._more_activation import _rrelu

    return _rrelu(input, lower, upper, training, False, generator)


def rrelu_(input, lower=0.125, upper=1.0 / 3.0, training=False, generator=None):
    """``torch.rrelu_``: :func:`rrelu` in place."""
    from .nn.functional._more_activation import _rrelu

    return _rrelu(input, lower, upper, training, True, generator)


def threshold(input, threshold, value):
    """``torch.threshold``: ``value`` where ``input <= threshold``, else ``input``."""
    return _F().threshold(input, threshold, value)


# --- distances and losses ---------------------------------------------------------------------

def pdist(input, p=2.0):
    """``torch.pdist``: :func:`ember.nn.functional.pdist`."""
    return _F().pdist(input, p)


def pairwise_distance(x1, x2, p=2.0, eps=1e-06, keepdim=False):
    """``torch.pairwise_distance``: :func:`ember.nn.functional.pairwise_distance`."""
    _arg_errors.check_tensors("pairwise_distance", x1=x1, x2=x2)
    return _F().pairwise_distance(x1, x2, p, eps, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-08):
    """``torch.cosine_similarity``: :func:`ember.nn.functional.cosine_similarity`."""
    _arg_errors.check_tensors("cosine_similarity", x1=x1, x2=x2)
    return _F().cosine_similarity(x1, x2, dim, eps)


def kl_div(input, target, reduction=0, *, log_target=False):
    """``torch.kl_div``: pointwise KL divergence; ``reduction`` 1 is the plain mean over all
    elements (without nn.functional's warning about ``batchmean``)."""
    _arg_errors.check_tensors("kl_div", input=input, target=target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _F().kl_div(input, target, reduction=_reduction("kl_div", reduction),
                           log_target=log_target)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """``torch.cosine_embedding_loss`` (int ``reduction``)."""
    return _F().cosine_embedding_loss(input1, input2, target, margin,
                                      reduction=_reduction("cosine_embedding_loss", reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """``torch.hinge_embedding_loss`` (int ``reduction``)."""
    _arg_errors.check_tensors("hinge_embedding_loss", input=input, target=target)
    return _F().hinge_embedding_loss(input, target, margin,
                                     reduction=_reduction("hinge_embedding_loss", reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """``torch.margin_ranking_loss`` (int ``reduction``)."""
    return _F().margin_ranking_loss(input1, input2, target, margin,
                                    reduction=_reduction("margin_ranking_loss", reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False,
                        reduction=0):
    """``torch.triplet_margin_loss`` (int ``reduction``)."""
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                    reduction=_reduction("triplet_margin_loss", reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """``torch.poisson_nll_loss``: every argument required, int ``reduction``."""
    return _F().poisson_nll_loss(input, target, log_input=log_input, full=full, eps=eps,
                                 reduction=_reduction("poisson_nll_loss", reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """``torch.binary_cross_entropy_with_logits``: ``pos_weight`` comes fourth, before the
    int ``reduction`` (nn.functional's order differs)."""
    _arg_errors.check_tensors("binary_cross_entropy_with_logits", input=input, target=target)
    return _F().binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction("binary_cross_entropy_with_logits",
                                                    reduction), pos_weight=pos_weight)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
             zero_infinity=False):
    """``torch.ctc_loss`` (int ``reduction``; left out, each sequence's loss comes back)."""
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                         reduction=_reduction("ctc_loss", reduction),
                         zero_infinity=zero_infinity)


# --- padding and sampling grids ---------------------------------------------------------------

def constant_pad_nd(input, pad, value=0):
    """``torch.constant_pad_nd``: ``F.pad(input, pad, "constant", value)`` (negative pads
    crop); unlike ``F.pad`` it takes a complex ``value`` for a complex (or bool) input."""
    if isinstance(value, complex):
        kind = input._data.dtype.kind
        if kind == "b":
            value = bool(value)
        elif kind != "c":
            names = {"int64": "int64_t", "int8": "int8_t", "uint8": "uint8_t"}
            name = input._data.dtype.name
            raise RuntimeError(f"value cannot be converted to type "
                               f"{names.get(name) or c_type_name(input._data.dtype)} without "
                               f"overflow")
        else:
            value = np.complex128(value)  # F.pad takes NumPy numbers
    return _F().pad(input, pad, "constant", value)


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """``torch.grid_sampler``: ``F.grid_sample`` with ATen's int modes (interpolation 0
    bilinear, 1 nearest, 2 bicubic; padding 0 zeros, 1 border, 2 reflection)."""
    return _F().grid_sample(input, grid, ("bilinear", "nearest", "bicubic")[interpolation_mode],
                            ("zeros", "border", "reflection")[padding_mode], align_corners)


def affine_grid_generator(theta, size, align_corners):
    """``torch.affine_grid_generator``: ``F.affine_grid(theta, size, align_corners)``."""
    return _F().affine_grid(theta, size, align_corners)
