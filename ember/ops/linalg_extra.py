"""torch's top-level linear-algebra functions (older names of ``torch.linalg`` ones):
det, logdet, slogdet, inverse, pinverse, matrix_power, matrix_exp, cholesky,
cholesky_solve, cholesky_inverse, the old ``svd`` (U, S, V) and ``orgqr`` (as a method).

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import _arg_errors, return_types
from .._tensor import Tensor, _wrap
from . import shape
from ._linalg_cholesky_solve import cholesky_inverse, cholesky_solve
from ._linalg_factor import Cholesky, Svd, matrix_exp
from ._linalg_inverse import check_matrix, det, inv, pinv
from ._linalg_inverse import slogdet as _slogdet
from ._linalg_norms import matrix_power
from ._linalg_triangular import orgqr
from ._shape_utils import type_name
from .clamp import where

__all__ = ["det", "logdet", "slogdet", "inverse", "pinverse", "matrix_power", "matrix_exp",
           "cholesky", "cholesky_solve", "cholesky_inverse", "svd", "orgqr"]
TENSOR_METHODS: tuple[str, ...] = tuple(__all__)


def slogdet(input: Tensor):
    """(sign, log|det|) as ``torch.slogdet``'s named tuple."""
    return return_types.slogdet(_slogdet(input))


def logdet(input: Tensor) -> Tensor:
    """log det(A) (``torch.logdet``). Real A: NaN where the determinant is negative, -inf
    where it is 0. Complex A: the principal complex log, ``log(sign) + logabsdet``; a zero
    determinant gives ``-inf+nanj``, as torch's complex addition does."""
    check_matrix("logdet", input._data, complex_ok=True)
    sign, logabs = _slogdet(input)
    if input._data.dtype.kind == "c":
        # times a complex 1, an infinite logabs gets a NaN imaginary part, as in torch
        return sign.log() + logabs * (1 + 0j)
    nan = _wrap(np.array(np.nan, input._data.dtype))
    return where(sign == -1, nan, logabs)


def inverse(input: Tensor) -> Tensor:
    """``torch.inverse``: the same as ``linalg.inv``."""
    return inv(input)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv`` with singular values below ``rcond * s_max`` cut."""
    return pinv(input, rtol=rcond)


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """Deprecated ``torch.cholesky`` (warns like torch): ``linalg.cholesky``."""
    _arg_errors.check_bool("cholesky", "upper", 2, upper)
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
                  "removed in a future PyTorch release.", UserWarning, stacklevel=2)
    x = input._data
    if x.size:  # torch returns any empty input as it is, before checking it
        check_matrix("cholesky", x, floating=False)
        if x.dtype.kind not in "fc" or x.dtype == np.float16:
            raise NotImplementedError(f"\"cholesky_cpu\" not implemented for "
                                      f"'{type_name(x.dtype)}'")
    return Cholesky.apply(input, upper=upper, name="cholesky", node="CholeskyBackward0")




def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """The old ``torch.svd``: (U, S, V) with ``V = Vh^H``; ``some=False`` gives full U and V;
    ``compute_uv=False`` gives zero-filled U (m x m) and V (n x n)."""
    _arg_errors.check_bool("svd", "some", 2, some)
    _arg_errors.check_bool("svd", "compute_uv", 3, compute_uv)
    x = input._data
    if x.ndim < 2:
        raise RuntimeError("linalg.svd: input should have at least 2 dimensions, but has "
                           f"{x.ndim} dimensions instead")
    if x.dtype == np.float16:
        raise NotImplementedError("\"linalg_svd_cpu\" not implemented for 'Half'")
    if not compute_uv:
        from ._linalg_factor import svdvals

        m, n = x.shape[-2:]
        zeros = np.zeros
        return return_types.svd((_wrap(zeros(x.shape[:-2] + (m, m), x.dtype)), svdvals(input),
                                 _wrap(zeros(x.shape[:-2] + (n, n), x.dtype))))
    u, s, vh = Svd.apply(input, full_matrices=not some)
    v = shape.transpose(vh, -2, -1)
    return return_types.svd((u, s, v.conj() if x.dtype.kind == "c" else v))  # V = Vh^H


_ = det, matrix_power, matrix_exp  # re-exported through __all__
