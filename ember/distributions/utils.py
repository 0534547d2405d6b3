"""Helpers the distributions share: broadcasting parameters, probs <-> logits, lazy_property."""
from __future__ import annotations

import numbers

import ember


def broadcast_all(*values):
    """``values`` (tensors or numbers) as tensors broadcast to one shape.

    Numbers take the dtype of the first tensor among ``values``, or the default dtype.
    """
    if not all(isinstance(v, (ember.Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, ember.Tensor) for v in values):
        dtype = next((v.dtype for v in values if isinstance(v, ember.Tensor)),
                     ember.get_default_dtype())
        values = [v if isinstance(v, ember.Tensor) else ember.tensor(v, dtype=dtype)
                  for v in values]
    return ember.broadcast_tensors(*values)


def clamp_probs(probs):
    """``probs`` clamped into ``[eps, 1 - eps]``, eps the machine epsilon of its dtype."""
    eps = ember.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from logits: a sigmoid when ``is_binary``, else a softmax over the last
    dim."""
    if is_binary:
        return ember.sigmoid(logits)
    return ember.softmax(logits, dim=-1)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities (clamped away from 0 and 1): ``log p - log(1 - p)`` when
    ``is_binary``, else ``log p``."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ember.log(ps_clamped) - ember.log1p(-ps_clamped)
    return ember.log(ps_clamped)


def broadcast_shapes(*shapes):
    """``torch.broadcast_shapes``: the shape all ``shapes`` broadcast to, with torch's error."""
    max_len = max([1 if isinstance(s, int) else len(s) for s in shapes] + [0])
    result = [1] * max_len
    for idx, shape in enumerate(shapes):
        if isinstance(shape, int):
            shape = (shape,)
        for i in range(-1, -1 - len(shape), -1):
            if shape[i] < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension "
                                   f"({shape[i]}): ({shape[i]})")
            if shape[i] == 1 or shape[i] == result[i]:
                continue
            if result[i] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {shape[i]} "
                                   f"at {i}! Mismatching argument at index {idx} had {shape}; "
                                   f"but expected shape should be broadcastable to {result}")
            result[i] = shape[i]
    return ember.Size(result)


def _standard_normal(shape, dtype=None, device=None):
    """``empty(shape).normal_()``: standard normal draws made as torch makes them."""
    return ember.empty(shape, dtype=dtype, device=device).normal_()


def _sum_rightmost(value, dim):
    """``value`` summed over its ``dim`` rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


class lazy_property:
    """A property computed (with grad enabled) on first access, then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with ember.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


__all__ = ["broadcast_all", "broadcast_shapes", "clamp_probs", "lazy_property", "logits_to_probs",
           "probs_to_logits"]


def _tril_mask(n, diag):
    arange = ember.arange(n)
    return arange < arange.view(-1, 1) + (diag + 1)


def vec_to_tril_matrix(vec, diag=0):
    """A (batch of) vector(s) as ``D x D`` lower-triangular matrices, filled in row order."""
    # the positive root of D^2 + (1 + 2 diag) D - |diag| (diag + 1) - 2 len(vec) = 0
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1]
                            + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = ember.finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., _tril_mask(n, diag)] = vec
    return mat


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular entries of a (batch of) ``D x D`` matrices, in row order."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag)]
