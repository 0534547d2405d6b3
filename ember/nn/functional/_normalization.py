"""Dropout, batch / group / instance / layer / RMS normalisation, normalize and cosine
similarity."""
from __future__ import annotations

import numpy as np

from ... import _dtype, _random
from ... import ops as _ops
from ..._arg_errors import must_be
from ..._dtype import c_type_name
from ..._tensor import Tensor
from ..._user_warning import warn_at_user
from ...ops._shape_utils import check_broadcast, type_name
from .._functions.batch_norm import BatchNorm
from .._functions.dropout import Dropout
from .._functions.group_norm import GroupNorm
from .._functions.layer_norm import LayerNorm
from ._common import _size_index_error, _size_str


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def check_mask_dtype(dtype) -> None:
    """torch's error for drawing a dropout mask (0 < p < 1) for a complex input."""
    if dtype.kind == "c":
        raise NotImplementedError(f"\"bernoulli_scalar_cpu_\" not implemented for "
                                  f"'{type_name(dtype)}'")


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
    if input._data.dtype.kind not in "fc" and p < 1.0:  # torch scales by 1 / (1 - p)
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{type_name(input._data.dtype)}")
    if p < 1.0:
        check_mask_dtype(input._data.dtype)
    gen = _random.default_generator
    if inplace:
        return input._inplace(lambda x: Dropout.apply(x, None, p=p, generator=gen))
    return Dropout.apply(input, None, p=p, generator=gen)


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
        name = "running_mean" if rm is None else "running_var"
        raise RuntimeError(f"{name} must be defined in evaluation mode")
    x_dt = _check_norm_dtypes(input, (w, b, rm, rv), "batch_norm")
    if input._data.size == 0:  # torch: an empty batch leaves the statistics alone
        return _empty_norm(input, weight, bias)
    x = input if x_dt == input._data.dtype else input.to(_dtype.float32)
    try:
        out = BatchNorm.apply(x, weight, bias, running_mean=rm, running_var=rv,
                              training=training, momentum=momentum, eps=eps)
    except ValueError:  # NumPy's broadcast error: running statistics that are not vectors
        bad = next((a for a in (rm, rv) if a is not None and a.ndim != 1), None)
        if bad is None:
            raise
        raise RuntimeError(f"TensorAccessor expected 1 dims but tensor has {bad.ndim}") from None
    except IndexError:  # a 1-D input has no channel dim, size(1)
        if len(shape) != 1:
            raise
        raise _size_index_error(1, 1) from None
    if x is not input:
        out = out.to(input.dtype)
    # (the running statistics change in place without a version bump: torch's kernel writes
    # them directly too)
    return out


def _check_channel_param(input, param, what, shown=None):
    """group norm's check of ``weight`` / ``bias``; ``shown``: the shape the message prints
    (torch prints the weight's shape, or [0], in the bias's message)."""
    c = input._data.shape[1]
    if param is not None and (param.dim() != 1 or param._data.size != c):
        shape = list(param.shape) if shown is None else shown
        raise RuntimeError(f"Expected {what} to be a vector of size equal to the number of "
                           f"channels in input, but got {what} of shape {shape} "
                           f"and input of shape {list(input.shape)}")


def _channel_affine(out, weight, bias):
    """``out * weight + bias`` with the ``(C,)`` vectors broadcast along dimension 1."""
    shape = (1, -1) + (1,) * (out.dim() - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Split the channels (dimension 1) into ``num_groups`` groups and normalise each group
    of each sample (biased variance), then scale and shift each channel by ``weight`` and
    ``bias``. Composed of the layer-norm node and a per-channel affine.

    Raises:
        RuntimeError: an input with fewer than 2 dimensions; channels not divisible by
            ``num_groups``; ``weight`` / ``bias`` not of the channel count.
        ValueError: one value per group.
    """
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    shape = tuple(input._data.shape)
    # torch's Python check (0 groups: Python's own ZeroDivisionError, as in torch)
    size = [shape[0] * shape[1] // num_groups, num_groups, *shape[2:]]
    if int(np.prod(size, dtype=np.int64)) == num_groups:  # torch prints this list
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {size}")
    return group_norm_kernel(input, num_groups, weight, bias, eps)


def group_norm_kernel(input: Tensor, num_groups: int, weight: Tensor | None = None,
                      bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """``torch.group_norm``: :func:`group_norm` with the checks of torch's kernel only (no
    batch-size check), in its order.

    Raises:
        IndexError: an input with fewer than 2 dimensions.
        RuntimeError: ``num_groups`` not positive, or as :func:`group_norm`.
        NotImplementedError: an integer or bool input.
    """
    if input.dim() < 2:  # torch reads input.size(0) and input.size(1)
        raise IndexError("Dimension specified as 0 but tensor has no dimensions" if not input.dim()
                         else "Dimension out of range (expected to be in range of [-1, 0], but "
                         "got 1)")
    if num_groups <= 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    shape = tuple(input._data.shape)
    n, c = shape[0], shape[1]
    if c % num_groups != 0:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(shape)} and "
                           f"num_groups={num_groups}")
    _check_channel_param(input, weight, "weight")
    _check_channel_param(input, bias, "bias", [0] if weight is None else list(weight.shape))
    x_dt = _check_norm_dtypes(input, [None if a is None else a._data for a in (weight, bias)],
                              "GroupNormKernelImpl")
    if input._data.size == 0:
        return _empty_norm(input, weight, bias)
    half = x_dt == np.float16  # torch's half kernel: in float32, the output rounded once
    if not half and x_dt == input._data.dtype:
        return GroupNorm.apply(input, weight, bias, num_groups=num_groups, eps=eps)
    x = input if x_dt == input._data.dtype and not half else input.to(_dtype.float32)
    if half:
        weight, bias = (None if p is None else p.to(_dtype.float32) for p in (weight, bias))
    grouped = x.reshape(n, num_groups, int(np.prod(shape[1:], dtype=np.int64)) // num_groups)
    out = LayerNorm.apply(grouped, None, None, k=1, eps=eps, half_stats=half).reshape(shape)
    out = _channel_affine(out, weight, bias)
    return out if out.dtype == input.dtype else out.to(input.dtype)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dimensions, then scale and
    shift each channel.

    As torch: batch norm of the input viewed as ``(1, N * C, *spatial)`` with the running
    statistics and affine parameters repeated ``N`` times; the running statistics then
    become the mean over the batch of their updated copies. ``use_input_stats=False``
    normalises with the running statistics instead.

    Raises:
        ValueError: ``use_input_stats`` with one spatial element.
        RuntimeError: ``use_input_stats=False`` without running statistics.
    """
    shape = tuple(input._data.shape)
    if use_input_stats and int(np.prod(shape[2:], dtype=np.int64)) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size {_size_str(shape)}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    if shape[0] * shape[1] == 0 and (weight is not None or bias is not None):
        # torch repeats the affine parameters over the batch, then reads element 0
        raise IndexError("select(): index 0 out of range for tensor of size [0] at dimension 0")
    n, c = shape[0], shape[1]
    rm, rv, w, b = (None if t is None else _ops.tile(t, (n,))
                    for t in (running_mean, running_var, weight, bias))
    out = batch_norm(input.reshape((1, n * c) + shape[2:]), rm, rv, w, b, use_input_stats,
                     momentum, eps)
    for stat, repeated in ((running_mean, rm), (running_var, rv)):
        if stat is not None and use_input_stats:  # (torch copies them back only then)
            stat.copy_(repeated.reshape(n, c).mean(0))
    return out.reshape(shape)


def _empty_norm(input, weight, bias):
    """A normalisation of an empty input: an empty result, still connected to every input
    (so backward gives empty / zero gradients, as torch)."""
    out = input * 0
    for param in (weight, bias):
        if param is not None:
            out = out + (_ops.sum(param) * 0).to(input.dtype)
    return out


def _check_norm_dtypes(input, params, name):
    """torch's CPU dtype rules for batch / layer / group norm, ``params`` in torch's order
    (weight, bias, then the running statistics; None where absent): all of the input's
    floating dtype, or float32 parameters for a float16 input (computed in float32).
    Returns the dtype to compute in."""
    x_dt = input._data.dtype
    for a in params:
        if a is not None and a.dtype != x_dt:
            return _mixed_norm_dtypes(x_dt, params, name)
    if x_dt.kind != "f":
        raise NotImplementedError(f"\"{name}\" not implemented for '{type_name(x_dt)}'")
    return x_dt


def _mixed_norm_dtypes(x_dt, params, name):
    """The rules when the dtypes differ: torch takes the first parameter's dtype as the
    parameters' and checks the "mixed type" case (float32 parameters for float16) before
    its kernel's dtype checks (batch norm checks its kernel first)."""
    if name == "batch_norm" and x_dt.kind != "f":
        raise NotImplementedError(f"\"{name}\" not implemented for '{type_name(x_dt)}'")
    dts = [a.dtype for a in params if a is not None]
    if dts[0] != x_dt:
        if any(d != np.float32 for d in dts):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if x_dt != np.float16:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        return np.dtype(np.float32)
    if x_dt.kind != "f":
        raise NotImplementedError(f"\"{name}\" not implemented for '{type_name(x_dt)}'")
    other = next(d for d in dts if d != x_dt)
    raise RuntimeError(f"expected scalar type {type_name(x_dt)} but found {type_name(other)}")


def _check_normalized_shape(input, normalized_shape, weight, bias, sep):
    k = len(normalized_shape)
    if k > input.dim() and sep == "":
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got "
                         f"{input.dim()}")
    if k > input.dim() or tuple(input._data.shape[input.dim() - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input "
                           f"with shape [*{sep}{', '.join(str(s) for s in normalized_shape)}], "
                           f"but got input of size{list(input.shape)}")
    for what, a in (("weight", weight), ("bias", bias)):
        if a is not None and tuple(a.shape) != normalized_shape:
            raise RuntimeError(f"Expected {what} to be of same shape as normalized_shape, but "
                               f"got {what} of shape {list(a.shape)} and normalized_shape = "
                               f"{list(normalized_shape)}")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale and shift.

    A float16 input with float32 ``weight`` / ``bias`` is computed in float32 and returned
    as float16 (torch's mixed-dtype rule); other dtype mixes raise, as in torch.
    """
    normalized_shape = _shape_tuple(normalized_shape, "layer_norm")
    _check_normalized_shape(input, normalized_shape, weight, bias, ", ")
    x_dt = _check_norm_dtypes(input, [None if a is None else a._data for a in (weight, bias)],
                              "LayerNormKernelImpl")
    if x_dt == input._data.dtype:
        return LayerNorm.apply(input, weight, bias, k=len(normalized_shape), eps=eps)
    out = LayerNorm.apply(input.to(_dtype.float32), weight, bias, k=len(normalized_shape),
                          eps=eps)
    return out.to(input.dtype)


_RMS_WARNED: list = []


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing dimensions (composed, as
    torch: float16 is computed in float32, and the result has the input's dtype)."""
    normalized_shape = _shape_tuple(normalized_shape, "rms_norm")
    _check_normalized_shape(input, normalized_shape, weight, None, "")
    x_dt = input._data.dtype
    if weight is not None and weight._data.dtype != x_dt and not _RMS_WARNED:
        _RMS_WARNED.append(True)  # torch warns once per process (TORCH_WARN_ONCE)
        warn_at_user(f"Mismatch dtype between input and weight: input dtype = "
                     f"{c_type_name(x_dt)}, weight dtype = {c_type_name(weight._data.dtype)}, "
                     f"Cannot dispatch to fused implementation.")
    if x_dt.kind not in "fc":
        raise NotImplementedError(f"\"rms_norm\" not implemented for '{type_name(x_dt)}'")
    x = input.to(_dtype.float32) if x_dt == np.float16 else input
    if eps is None:  # the machine epsilon of the dtype it is computed in
        eps = float(np.finfo(x._data.dtype).eps)
    dims = tuple(range(-len(normalized_shape), 0))
    out = x * _ops.rsqrt(_ops.mean(x * x, dim=dims, keepdim=True) + eps)
    if weight is not None:
        out = out * weight
    return out if out.dtype == input.dtype else out.to(input.dtype)


def _shape_tuple(shape, fn):
    """``normalized_shape`` as a tuple, with torch's argument errors (its functions take a
    sequence of ints only; the modules take an int too)."""
    if not isinstance(shape, (tuple, list)):
        raise must_be(fn, "normalized_shape", 2, "tuple of ints", shape)
    for pos, size in enumerate(shape):
        if not isinstance(size, (int, np.integer)):
            raise TypeError(f"{fn}(): argument 'normalized_shape' (position 2) must be tuple of "
                            f"ints, but found element of type {type(size).__name__} at pos {pos}")
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    return tuple(int(s) for s in shape)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim`` (written into ``out`` when given)."""
    denom = _ops.clamp_min(_ops.norm(input, p, dim=dim, keepdim=True), eps)
    if out is not None:
        return _ops.div(input, denom, out=out)
    return input / denom


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum((x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps)))`` along ``dim``, as torch:
    each norm is clamped separately, and the clamp passes the gradient straight through
    (torch clamps in place under no_grad)."""
    dt = _dtype.promote_types(x1.dtype, x2.dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{type_name(dt.np)}")
    # torch casts only integer operands; a float16 one keeps its own norm
    x1, x2 = (x if x.dtype.is_floating_point else x.to(dt) for x in (x1, x2))
    shape = check_broadcast(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = (x if tuple(x.shape) == shape else _ops.broadcast_to(x, shape) for x in (x1, x2))
    return _ops.sum((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps)),
                    dim=dim)


def _clamped_norm(x, dim, eps):
    n = _ops.norm(x, 2, dim=dim, keepdim=True)
    return n + _ops.clamp_min(eps - n.detach(), 0.0)  # the value clamped, the gradient not
