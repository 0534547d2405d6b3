"""torch's small top-level functions that ember lacked: ``adjoint``, the deprecated
``range``, ``matrix_rank`` (removed: it raises), the legacy norms (``nuclear_norm``,
``frobenius_norm``, ``native_norm``, ``norm_except_dim``), ``empty_permuted``, DLPack exchange
(``from_dlpack``, ``to_dlpack``, ``Tensor.__dlpack__``) and two flags.

NOTE: this module defines ``range``, so it never calls Python's builtin of that name.
"""
from __future__ import annotations

import warnings

import numpy as np

from ._layout import check_layout
from ._namespace_gaps import _check_tensor
from ._tensor import Tensor, _wrap

__all__ = ["adjoint", "range", "matrix_rank", "nuclear_norm", "frobenius_norm", "native_norm",
           "norm_except_dim", "empty_permuted", "from_dlpack", "to_dlpack",
           "set_flush_denormal", "is_distributed"]


def adjoint(input):
    """``torch.adjoint``: the last two dims swapped and conjugated, a view; a 0-D tensor's
    conjugate (itself when real), with torch's deprecation warning.

    Raises:
        RuntimeError: ``input`` is 1-D.
    """
    _check_tensor("adjoint", input)
    return input.adjoint()


def _fmt(v):
    return f"{v:g}"


def range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad=False):
    """``torch.range`` (deprecated, warns as torch): ``start, start + step, ...`` up to and
    including ``end``; ``floor((end - start) / step) + 1`` values of the default float dtype
    unless ``dtype`` (or ``out``'s) says otherwise.

    Raises:
        RuntimeError: ``step`` is zero, a bound is not finite, or ``step``'s sign points away
            from ``end``.
    """
    if layout is not None:
        check_layout(layout)
    from ._creation import _finish, _np_dtype

    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    np_dtype = out._data.dtype if out is not None and dtype is None else _np_dtype(dtype)
    # ATen computes in the accumulation type: double for floats, int64 for integers
    acc = float if np_dtype.kind == "f" else int
    xstart, xend, xstep = (acc(v) for v in (start, end, step))
    if xstep == 0:
        raise RuntimeError("step must be nonzero")
    if not (np.isfinite(xstart) and np.isfinite(xend)):
        raise RuntimeError(f"unsupported range: {_fmt(xstart)} -> {_fmt(xend)}")
    if not ((xstep > 0 and xend >= xstart) or (xstep < 0 and xend <= xstart)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    # the signs agree, so Python's floor division is C++'s truncating one here
    size = (xend - xstart) // xstep + 1 if acc is int else int((xend - xstart) / xstep + 1)
    values = xstart + np.arange(size, dtype=np.int64 if acc is int else np.float64) * xstep
    result = _wrap(values.astype(np_dtype))
    if out is not None:
        from ._compat import _write_out

        return _write_out("range", result, out, warn_resize=False)
    return _finish(result._data, requires_grad, device)


def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    """Removed from torch (``torch.matrix_rank`` only raises); use
    :func:`ember.linalg.matrix_rank`.

    Raises:
        RuntimeError: always, with torch's message.
    """
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed.\n"
        "Please use the `torch.linalg.matrix_rank` function instead. "
        "The parameter 'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'.")


def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """``torch.nuclear_norm`` (deprecated, warns as torch): the sum of the singular values of
    the matrices over ``dim`` (the last two dims by default); ``dim`` may be left out with
    ``keepdim`` second. Equals ``linalg.matrix_norm(input, 'nuc', dim, keepdim)``."""
    from . import linalg

    _check_tensor("nuclear_norm", input)
    warnings.warn("at::nuclear_norm is deprecated and it is just left for JIT compatibility. It "
                  "will be removed in a future PyTorch release. Please use "
                  "`linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead", UserWarning,
                  stacklevel=2)
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    if isinstance(dim, int):  # torch's int[2] argument repeats a lone int
        dim = (dim, dim)
    dim = (-2, -1) if dim is None else tuple(dim)
    result = linalg.matrix_norm(input, "nuc", dim=dim, keepdim=keepdim)
    if out is None:
        return result
    from .ops._out import write_out

    return write_out("nuclear_norm", result, out, (input,))


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """``torch.frobenius_norm`` (deprecated, warns as torch): the 2-norm over at most two
    ``dim`` (all dims for ``()``), as ``torch.norm(input, 2, dim, keepdim)``.

    Raises:
        RuntimeError: more than two dims, or an integer ``input``.
    """
    from .ops import norm

    _check_tensor("frobenius_norm", input)
    warnings.warn("at::frobenius_norm is deprecated and it is just left for JIT compatibility. "
                  "It will be removed in a future PyTorch release. Please use "
                  "`linalg.vector_norm(A, 2., dim, keepdim)` instead", UserWarning, stacklevel=2)
    dim = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if len(dim) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dim)} dimensions "
                           "instead.")
    if input._data.dtype.kind != "f":
        from .ops._shape_utils import type_name

        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {type_name(input._data.dtype)} instead.")
    result = norm(input, 2.0, dim if dim else None, keepdim)
    if out is None:
        return result
    from .ops._out import write_out

    return write_out("frobenius_norm", result, out, (input,))


def native_norm(input, p=2, dim=None, keepdim=False, dtype=None):
    """``torch.native_norm``: torch has it for sparse tensors only, so on a dense (CPU)
    tensor it raises, as here.

    Raises:
        NotImplementedError: always (torch's "Could not run ... from the 'CPU' backend").
    """
    _check_tensor("native_norm", input)
    op = "aten::native_norm" if dim is None else "aten::native_norm.ScalarOpt_dim_dtype"
    raise NotImplementedError(f"Could not run '{op}' with arguments from the 'CPU' backend. "
                              "This could be because the operator doesn't exist for this "
                              "backend, or was omitted during the selective/custom build "
                              "process (if using custom build).")


def norm_except_dim(v, pow=2, dim=0):
    """``torch.norm_except_dim``: the ``pow``-norm over every dim but ``dim``, shaped to
    broadcast against ``v`` (weight normalisation's norm); ``dim=-1`` gives the norm of all of
    ``v`` as a 0-d tensor, as torch."""
    from .ops import norm

    _check_tensor("norm_except_dim", v)
    if dim == -1:
        return norm(v, pow)
    nd = v.dim()
    if dim == 0:
        return norm(v.reshape(v.shape[0], -1), pow, 1).reshape((v.shape[0],) + (1,) * (nd - 1))
    if dim == nd - 1:
        return norm(v.reshape(-1, v.shape[-1]), pow, 0).reshape((1,) * (nd - 1) + (v.shape[-1],))
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """``torch.empty_permuted``: an uninitialised dense tensor of ``size`` whose dims lie in
    memory in the order ``physical_layout`` (outermost first): ``(0, 2, 3, 1)`` is NHWC.

    Raises:
        RuntimeError: ``physical_layout`` is not a permutation of the dims, or a negative size.
    """
    if layout is not None:
        check_layout(layout)
    from ._creation import _finish, _np_dtype

    size, perm = [int(s) for s in size], [int(d) for d in physical_layout]
    n = len(size)
    if n != len(perm):
        raise RuntimeError("Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {n} is not equal to "
                           f"len(physical_layout) = {len(perm)}")
    seen = set()
    for i, d in enumerate(perm):
        if not 0 <= d < n:
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and {n - 1}, "
                               f"but got {d} at index {i}).  NB: negative dims not currently "
                               "supported; file an issue if you want it.")
        if d in seen:
            raise RuntimeError("Duplicate dim not allowed")
        seen.add(d)
    physical = [size[d] for d in perm]
    for s in physical:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{physical}")
    arr = np.empty(physical, _np_dtype(dtype)).transpose(np.argsort(perm))
    return _finish(arr, requires_grad, device)


# --- DLPack -----------------------------------------------------------------------------------
def _tensor_dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """A DLPack capsule of this tensor's memory (the consumer shares it).

    Raises:
        BufferError: the tensor requires grad (detach it first), as torch.
    """
    if self._rg:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    kwargs = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device),
                                ("copy", copy)) if v is not None}
    return self._data.__dlpack__(stream=stream, **kwargs)


def _tensor_dlpack_device(self):
    """``(1, 0)``: DLPack's CPU device type and index."""
    return (1, 0)


Tensor.__dlpack__ = _tensor_dlpack
Tensor.__dlpack_device__ = _tensor_dlpack_device


class _Capsule:
    """A bare DLPack capsule dressed with the protocol, for ``np.from_dlpack``."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """``torch.from_dlpack``: a tensor sharing the memory of ``ext_tensor`` (anything with
    ``__dlpack__``: a NumPy array, a torch tensor, an ember tensor; or a capsule from
    :func:`to_dlpack`); ``copy=True`` copies instead.

    Raises:
        RuntimeError: ``ext_tensor`` is neither.
        BufferError: the producer refuses (e.g. a torch tensor that requires grad).
    """
    from ._backend import check_device

    check_device(device)
    if not hasattr(ext_tensor, "__dlpack__"):
        if type(ext_tensor).__name__ != "PyCapsule":
            raise RuntimeError("from_dlpack received an invalid capsule. Note that DLTensor "
                               "capsules can be consumed only once, so you might have already "
                               "constructed a tensor from it once.")
        ext_tensor = _Capsule(ext_tensor)
    arr = np.from_dlpack(ext_tensor, copy=copy)
    return _wrap(arr)


def to_dlpack(tensor):
    """``torch.to_dlpack``: a DLPack capsule of ``tensor``'s memory, for a ``from_dlpack``."""
    _check_tensor("to_dlpack", tensor)
    return tensor.__dlpack__()


# --- flags and predicates ---------------------------------------------------------------------
def set_flush_denormal(mode, /) -> bool:
    """``torch.set_flush_denormal``: False, as torch answers on a CPU without the feature:
    NumPy cannot be told to flush denormals to zero, so ember keeps them either way.

    Raises:
        RuntimeError: ``mode`` is not a bool (torch's message).
    """
    if not isinstance(mode, bool):
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return False


def is_distributed(input) -> bool:
    """``torch.is_distributed``: False (ember tensors are never distributed)."""
    _check_tensor("is_distributed", input)
    return False
