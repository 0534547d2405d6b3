"""Activation functions and the softmax family."""
from __future__ import annotations

import warnings

import numpy as np

from ... import ops as _ops
from ..._arg_errors import must_be
from ..._tensor import Tensor
from ...ops._shape_utils import type_name, wrap_dim
from .._functions.activation import Elu, Glu, Hardtanh, LeakyRelu, LogSigmoid, Mish


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``."""
    return _ops.relu(input, inplace=inplace)


def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``."""
    return input.relu_()


def _maybe_inplace(input, inplace, fn):
    return input._inplace(fn) if inplace else fn(input)


def _floating(input, kernel, complex_ok=False):
    """torch's error for the activations that have no integer (or complex) kernel."""
    dt = input._data.dtype
    if dt.kind != "f" and not (complex_ok and dt.kind == "c"):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(dt)}'")


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``clamp(input, min_val, max_val)`` with a zero gradient outside the open interval."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _hardtanh(input, min_val, max_val, inplace)


def _hardtanh(input, min_val, max_val, inplace):
    """hardtanh without the Python-level check of its bounds (torch's hardtanh_ has none)."""
    kind = input._data.dtype.kind
    if kind in "cbu":
        if kind == "c":
            raise NotImplementedError("clamp is not supported for complex types")
        if kind == "b":
            raise RuntimeError("Bool inputs not supported for hardtanh")
        if min_val < 0:
            raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    return _maybe_inplace(input, inplace,
                          lambda x: Hardtanh.apply(x, min_val=min_val, max_val=max_val))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``."""
    _floating(input, "leaky_relu_cpu")
    return _maybe_inplace(input, inplace,
                          lambda x: LeakyRelu.apply(x, negative_slope=negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``alpha * (exp(input) - 1)``."""
    _floating(input, "elu_cpu")
    return _maybe_inplace(input, inplace, lambda x: Elu.apply(x, alpha=alpha))


def gelu(input: Tensor, *, approximate: str = "none") -> Tensor:
    """``input * Phi(input)`` (``approximate='tanh'`` for the tanh formula)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _floating(input, "GeluKernelImpl")
    return _ops.gelu(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)``."""
    _floating(input, "silu_cpu", complex_ok=True)
    return _maybe_inplace(input, inplace, _ops.silu)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))``."""
    _floating(input, "mish_cpu")
    return _maybe_inplace(input, inplace, _mish)


def _mish(x):
    return Mish.apply(x)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-input))``."""
    return _ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _ops.tanh(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * input)) / beta``, linear above ``threshold``."""
    _floating(input, "softplus_cpu")
    return _ops.softplus(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(input))``, computed without overflow."""
    _floating(input, "log_sigmoid_cpu")
    return LogSigmoid.apply(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """``a * sigmoid(b)`` with ``a, b`` the halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = wrap_dim(dim, input.dim())
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size "
                           f"{input.shape[dim]}")
    _floating(input, "glu_cpu")
    return Glu.apply(input, dim=dim)


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(input) / sum(exp(input))`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    elif not isinstance(dim, (int, np.integer)):  # torch calls input.softmax(dim)
        raise must_be("softmax", "dim", 1, "int", dim)
    return _ops.softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-input)`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    elif not isinstance(dim, (int, np.integer)):  # torch calls (-input).softmax(dim)
        raise must_be("softmax", "dim", 1, "int", dim)
    return _ops.softmax(-input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """``input - logsumexp(input)`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    elif not isinstance(dim, (int, np.integer)):  # torch calls input.log_softmax(dim)
        raise must_be("log_softmax", "dim", 1, "int", dim)
    return _ops.log_softmax(input, dim, dtype=dtype)
