"""torch's older top-level linear algebra: ``qr``, ``lu``, ``lu_unpack``, ``lu_solve`` and
``triangular_solve`` (each deprecated in torch in favour of a ``torch.linalg`` function, with a
warning once, as torch), and the removed ``lstsq``/``solve``/``symeig``/``eig``, which raise
torch's message saying what replaces them.

The LU factorization is LAPACK's ``getrf`` (partial pivoting, the first largest pivot, a
complex one measured as ``|Re| + |Im|``), run on the whole batch at once, column by column;
pivots are 1-based int32 as torch's. Real and complex matrices alike.

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method (see ``ember/ops/__init__.py`` and ``ember/_tensor_methods.py``).
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import _arg_errors, return_types
from .._tensor import Tensor, _wrap
from ..autograd.function import Op
from ._linalg_factor import qr as _linalg_qr
from ._linalg_inverse import _mH, check_matrix, check_solve_inputs
from ._shape_utils import sum_to_shape, type_name

__all__ = ["qr", "lu", "lu_unpack", "lu_solve", "triangular_solve", "lstsq", "solve",
           "symeig", "eig"]
TENSOR_METHODS: tuple[str, ...] = ("qr", "lu", "lu_solve", "triangular_solve", "lstsq",
                                   "solve", "symeig", "eig")

_warned: set = set()
_REMOVED = "This function was deprecated since version 1.9 and is now removed. "


def _warn_once(name: str, text: str) -> None:
    if name not in _warned:
        _warned.add(name)
        warnings.warn(text, UserWarning, stacklevel=3)


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _solve_tri(t, b, *, upper, left=True, unit=False):
    """``t^-1 b`` (``left``) or ``b t^-1`` for triangular ``t`` (only its triangle read)."""
    t = np.triu(t) if upper else np.tril(t)
    if unit:
        n = t.shape[-1]
        t = t.copy()
        t[..., np.arange(n), np.arange(n)] = 1
    if left:
        return np.linalg.solve(t, b)
    return _mT(np.linalg.solve(_mT(t), _mT(b)))


# --- LU -----------------------------------------------------------------------------------
def pivot_size(x):
    """What LAPACK's pivot searches (``i?amax``) compare: ``|x|`` for real numbers,
    ``|Re x| + |Im x|`` for complex ones."""
    return np.abs(x.real) + np.abs(x.imag) if x.dtype.kind == "c" else np.abs(x)


def _getrf(a):
    """(LU, 1-based int32 pivots, int32 info) of a batch ``(..., m, n)``, LAPACK's getrf."""
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    lu = np.array(a).reshape(int(np.prod(batch)), m, n)  # -1 is ambiguous when m*n == 0
    b = np.arange(lu.shape[0])
    piv = np.empty((lu.shape[0], k), np.int32)
    info = np.zeros(lu.shape[0], np.int32)
    for j in range(k):
        p = j + np.argmax(pivot_size(lu[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        row = lu[b, j, :].copy()
        lu[b, j, :] = lu[b, p, :]
        lu[b, p, :] = row
        pivot = lu[:, j, j]
        zero = pivot == 0
        info[zero & (info == 0)] = j + 1
        if j + 1 < m:
            lu[:, j + 1:, j] /= np.where(zero, 1, pivot)[:, None]
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return (lu.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch))


def _permutation(piv, m, dtype):
    """P with A = P L U from 1-based LAPACK pivots (swaps applied in order)."""
    flat = piv.reshape(-1, piv.shape[-1]).astype(np.int64) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        a, b = perm[rows, j].copy(), perm[rows, p].copy()
        perm[rows, j], perm[rows, p] = b, a
    eye = np.zeros((flat.shape[0], m, m), dtype)
    eye[rows[:, None], perm, np.arange(m)[None, :]] = 1
    return eye.reshape(piv.shape[:-1] + (m, m))


def _unpack(lu, k):
    m, n = lu.shape[-2:]
    low = np.tril(lu[..., :, :k], -1)
    low[..., np.arange(k), np.arange(k)] = 1
    return low, np.triu(lu[..., :k, :])


class LuFactor(Op):
    """(LU, pivots, info) = A's LU factorization with partial pivoting (A = P L U); torch's
    gradient, with conjugate transposes for complex A"""

    _backward_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, a):
        lu, piv, info = _getrf(a)
        ctx.save_for_backward(lu, piv)
        return lu, piv, info

    @staticmethod
    def backward(ctx, grad, grad_piv=None, grad_info=None):
        lu, piv = ctx.saved_tensors
        m, n = lu.shape[-2:]
        k = min(m, n)
        low, up = _unpack(lu, k)
        perm = _permutation(piv, m, lu.dtype)
        g_low, g_up = np.tril(grad[..., :, :k], -1), np.triu(grad[..., :k, :])
        if m == n:
            ga = np.tril(_mH(low) @ g_low, -1) + np.triu(g_up @ _mH(up))
            ga = _solve_tri(_mH(up), ga, upper=False, left=False)
            ga = _solve_tri(_mH(low), ga, upper=True, unit=True)
        elif m < n:  # wide: U = [U1 U2]
            ga = np.tril(_mH(low) @ g_low - g_up @ _mH(up), -1)
            ga = _solve_tri(_mH(up[..., :k]), ga, upper=False, left=False)
            ga = np.concatenate([ga + np.triu(g_up[..., :k]), g_up[..., k:]], axis=-1)
            ga = _solve_tri(_mH(low), ga, upper=True, unit=True)
        else:  # tall: L = [L1; L2]
            ga = np.triu(g_up @ _mH(up) - _mH(low) @ g_low)
            ga = _solve_tri(_mH(low[..., :k, :]), ga, upper=True, unit=True)
            ga = np.concatenate([ga + np.tril(g_low[..., :k, :], -1), g_low[..., k:, :]],
                                axis=-2)
            ga = _solve_tri(_mH(up), ga, upper=False, left=False)
        return perm @ ga


class LuUnpack(Op):
    """(L, U) = the unit lower and the upper triangle of packed LU data"""

    @staticmethod
    def forward(ctx, lu):
        ctx.shape = lu.shape
        return _unpack(lu, min(lu.shape[-2:]))

    @staticmethod
    def backward(ctx, g_low, g_up):
        k = min(ctx.shape[-2:])
        out = np.zeros(ctx.shape, g_low.dtype)
        out[..., :, :k] += np.tril(g_low, -1)
        out[..., :k, :] += np.triu(g_up)
        return out


class LuSolve(Op):
    """X = A^-1 B for A = P L U given as (LU, pivots)"""

    _backward_name = "LinalgLuSolveBackward0"

    @staticmethod
    def forward(ctx, b, lu, *, piv):
        low, up = _unpack(lu, lu.shape[-1])
        perm = _permutation(piv, lu.shape[-1], lu.dtype)
        y = _solve_tri(low, _mT(perm) @ b, upper=False, unit=True)
        x = _solve_tri(up, y, upper=True)
        ctx.save_for_backward(b, lu, x)
        ctx.parts = low, up, perm
        return x

    @staticmethod
    def backward(ctx, grad):
        b, lu, x = ctx.saved_tensors
        low, up, perm = ctx.parts
        # gB = A^-H gX = P L^-H U^-H gX; A = P L U, so gLU = tril(P^T gA U^H) + triu(L^H P^T gA)
        gb = perm @ _solve_tri(_mH(low), _solve_tri(_mH(up), grad, upper=False), upper=True,
                               unit=True)
        glu = None
        if ctx.needs_input_grad[1]:
            pga = _mT(perm) @ (-gb @ _mH(x))
            glu = np.tril(pga @ _mH(up), -1) + np.triu(_mH(low) @ pga)
            glu = sum_to_shape(glu, lu.shape)
        return sum_to_shape(gb, b.shape), glu


class TriangularSolve(Op):
    """(X, A copy) with op(T) X = B, T the upper or lower triangle of A (unit diagonal when
    ``unit``), op a transpose when ``trans``"""

    @staticmethod
    def forward(ctx, b, a, *, upper, trans, unit):
        t = np.triu(a) if upper else np.tril(a)
        if unit:
            t = t.copy()
            t[..., np.arange(t.shape[-1]), np.arange(t.shape[-1])] = 1
        x = np.linalg.solve(_mT(t) if trans else t, b)
        ctx.save_for_backward(b, a, t, x)
        ctx.options = upper, trans, unit
        return x, np.array(a)

    @staticmethod
    def backward(ctx, gx, ga_copy):
        b, a, t, x = ctx.saved_tensors
        upper, trans, unit = ctx.options
        gb = np.linalg.solve(t if trans else _mT(t), gx)
        gt = -(x @ _mT(gb)) if trans else -(gb @ _mT(x))
        gt = np.triu(gt, 1 if unit else 0) if upper else np.tril(gt, -1 if unit else 0)
        return sum_to_shape(gb, b.shape), sum_to_shape(gt + ga_copy, a.shape)


# --- wrappers ---------------------------------------------------------------------------------
def qr(input: Tensor, some: bool = True):
    """The QR decomposition as ``(Q, R)``: ``torch.linalg.qr`` with mode "reduced" (or
    "complete" when ``some`` is False); deprecated in torch, which warns once."""
    _arg_errors.check_bool("qr", "some", 2, some)
    _warn_once("qr", "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in "
               "a future PyTorch release.\nThe boolean parameter 'some' has been replaced with "
               "a string parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\n"
               "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')")
    q, r = _linalg_qr(input, "reduced" if some else "complete")
    return return_types.qr((q, r))


def check_lu_input(A: Tensor, pivot: bool, name: str = "torch.lu_factor") -> None:
    """torch's checks before an LU factorization (``torch.lu``, ``linalg.lu_factor[_ex]``,
    ``linalg.lu``, whose messages start with ``name``)."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(a.shape)} instead")
    if a.dtype.kind not in "fc" or a.dtype == np.float16:
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{type_name(a.dtype)}'")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """``(LU, pivots)`` (with ``infos`` when ``get_infos``) of a matrix or a batch: ``L``
    unit lower and ``U`` upper packed in one tensor, 1-based int32 pivots (LAPACK's getrf;
    ``info`` is the first zero pivot, 0 if none). Deprecated in torch, which warns once.

    Raises:
        RuntimeError: ``pivot=False`` (not on the CPU, as torch), or fewer than 2 dims.
        NotImplementedError: an integer or bool input.
    """
    _arg_errors.check_bool("_lu_with_info", "pivot", None, pivot)  # torch.lu passes it by name
    _warn_once("lu", "torch.lu is deprecated in favor of torch.linalg.lu_factor / "
               "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.\n"
               "LU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\nLU, pivots "
               "= torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = "
               "torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\nLU, "
               "pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)")
    check_lu_input(A, pivot)
    lu_data, piv, info = LuFactor.apply(A)
    return return_types._lu_with_info((lu_data, piv, info)) if get_infos else (lu_data, piv)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,  # noqa: N803
              unpack_pivots: bool = True):
    """``(P, L, U)`` from ``lu``'s packed result, with ``A = P @ L @ U``; an empty tensor for
    a part not asked for."""
    _arg_errors.check_tensors("lu_unpack", LU_data=LU_data, LU_pivots=LU_pivots)
    lu_arr, piv = LU_data._data, LU_pivots._data
    m = lu_arr.shape[-2]
    empty = _wrap(np.zeros(0, lu_arr.dtype))
    p = _wrap(_permutation(piv, m, lu_arr.dtype)) if unpack_pivots else empty
    low, up = LuUnpack.apply(LU_data) if unpack_data else (empty, empty)
    return return_types.lu_unpack((p, low, up))


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
    """The solution ``X`` of ``A X = b`` for ``A`` given by ``lu``'s ``(LU_data, LU_pivots)``;
    deprecated in torch, which warns once.

    Raises:
        RuntimeError: pivots that are not int32 or not 1-based, or dtypes that differ.
    """
    _warn_once("lu_solve", "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand "
               "will be removed in a future PyTorch release.\nNote that torch.linalg.lu_solve "
               "has its arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\nshould be "
               "replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)")
    piv = LU_pivots._data
    if piv.dtype != np.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type "
                           "torch.int32")
    if piv.size and piv.min() < 1:
        raise RuntimeError("Pivots given to lu_solve must all be greater or equal to 1. Did you "
                           "properly pass the result of lu_factor?")
    check_matrix("linalg.lu_solve", LU_data._data, complex_ok=True)
    if b._data.dtype != LU_data._data.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but "
                           f"found LU of type {type_name(LU_data._data.dtype)} and B of type "
                           f"{type_name(b._data.dtype)} instead")
    return LuSolve.apply(b, LU_data, piv=piv)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: N803
                     unitriangular: bool = False):
    """``(solution, cloned_coefficient)``: ``X`` with ``op(T) X = b``, ``T`` the upper (or
    lower) triangle of ``A`` (its diagonal taken as ones when ``unitriangular``), ``op`` the
    transpose when ``transpose``; batches broadcast. Deprecated in torch, which warns once.

    Raises:
        RuntimeError: shapes or dtypes that do not fit.
    """
    _arg_errors.check_tensors("triangular_solve", input=b, A=A)
    for pos, (arg, value) in enumerate((("upper", upper), ("transpose", transpose),
                                        ("unitriangular", unitriangular)), 3):
        _arg_errors.check_bool("triangular_solve", arg, pos, value)
    _warn_once("triangular_solve", "torch.triangular_solve is deprecated in favor of "
               "torch.linalg.solve_triangularand will be removed in a future PyTorch release.\n"
               "torch.linalg.solve_triangular has its arguments reversed and does not return a "
               "copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould "
               "be replaced with\nX = torch.linalg.solve_triangular(A, B).")
    x, a = b._data, A._data
    if x.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, "
                           f"but it has {x.ndim} dimensions instead")
    if a.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected A to have at least 2 dimensions, "
                           f"but it has {a.ndim} dimensions instead")
    check_solve_inputs("triangular_solve", x, a)
    check_matrix("triangular_solve", a, complex_ok=True)
    batch = np.broadcast_shapes(x.shape[:-2], a.shape[:-2])
    if x.shape[:-2] != batch:
        b = b.expand(*batch, *x.shape[-2:])
    if a.shape[:-2] != batch:
        A = A.expand(*batch, *a.shape[-2:])  # noqa: N806
    return return_types.triangular_solve(TriangularSolve.apply(
        b, A, upper=bool(upper), trans=bool(transpose), unit=bool(unitriangular)))


# --- removed --------------------------------------------------------------------------------
def lstsq(input: Tensor, A: Tensor):  # noqa: N803
    """Removed from torch (raises its message); use ``ember.linalg.lstsq(A, B)``."""
    raise RuntimeError(
        _REMOVED + "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
        "`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition "
        "in the returned tuple (although it returns other information about the problem).\n\n"
        "To get the QR decomposition consider using `torch.linalg.qr`.\n\nThe returned "
        "solution in `torch.lstsq` stored the residuals of the solution in the last m - n "
        "columns of the returned value whenever m > n. In torch.linalg.lstsq, the residuals "
        "are in the field 'residuals' of the returned named tuple.\n\nThe unpacking of the "
        "solution, as in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced "
        "with:\nX = torch.linalg.lstsq(A, B).solution")


def solve(input: Tensor, A: Tensor):  # noqa: N803
    """Removed from torch (raises its message); use ``ember.linalg.solve(A, B)``."""
    raise RuntimeError(
        _REMOVED + "`torch.solve` is deprecated in favor of `torch.linalg.solve`. "
        "`torch.linalg.solve` has its arguments reversed and does not return the LU "
        "factorization.\n\nTo get the LU factorization see `torch.lu`, which can be used with "
        "`torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution should be "
        "replaced with:\nX = torch.linalg.solve(A, B)")


def symeig(input: Tensor, eigenvectors: bool = False, upper: bool = True):
    """Removed from torch (raises its message); use ``ember.linalg.eigh``."""
    raise RuntimeError(
        _REMOVED + "The default behavior has changed from using the upper triangular portion "
        "of the matrix by default to using the lower triangular portion.\n\nL, _ = "
        "torch.symeig(A, upper=upper) should be replaced with:\nL = torch.linalg.eigvalsh(A, "
        "UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, eigenvectors=True) "
        "should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')")


def eig(input: Tensor, eigenvectors: bool = False):
    """Removed from torch (raises its message pointing to ``linalg.eig``/``eigvals``)."""
    raise RuntimeError(
        _REMOVED + "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` "
        "rather than real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be "
        "replaced with:\nL_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, "
        "eigenvectors=True) should be replaced with:\nL_complex, V_complex = "
        "torch.linalg.eig(A)")
