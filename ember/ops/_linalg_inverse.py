"""``torch.linalg`` determinants, inverses and solvers: det, slogdet, inv, solve, pinv.

The checks and ``LinAlgError`` shared by every ``linalg`` function live here too.
"""
from __future__ import annotations

import math

import numpy as np

from .. import return_types
from .._tensor import Tensor
from ..autograd.function import Op
from ._shape_utils import check_broadcast, sum_to_shape, type_name


class LinAlgError(RuntimeError):
    """``torch.linalg.LinAlgError``: the matrix is singular or not positive-definite."""


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _mH(a):
    """The conjugate transpose of (a batch of) matrices; the transpose of real ones."""
    t = np.swapaxes(a, -1, -2)
    return t.conj() if t.dtype.kind == "c" else t


def _conj(a):
    """The complex conjugate; a real array itself (no copy)."""
    return a.conj() if a.dtype.kind == "c" else a


_REAL = {np.dtype(np.complex64): np.dtype(np.float32),
         np.dtype(np.complex128): np.dtype(np.float64)}


def real_dtype(dtype):
    """float32 for complex64, float64 for complex128; a real dtype itself."""
    return _REAL.get(dtype, dtype)


def check_float(name, x, complex_ok=False):
    """torch's error for integer (or bool) input to a ``linalg`` function; ember's own for
    complex input to one that does not cover complex tensors yet (``complex_ok`` False)."""
    if x.dtype.kind != "f":
        if x.dtype.kind == "c":
            if complex_ok:
                return
            raise NotImplementedError(f"{name}: ember's linalg does not support complex tensors "
                                      f"yet (got {type_name(x.dtype)})")
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{type_name(x.dtype)}")


# torch's error for a float16 matrix, by function: the Low precision check of some, the
# missing LAPACK kernel of the others (NumPy's linalg refuses float16 with a TypeError)
_LOW_PRECISION = ("logdet", "linalg.slogdet", "linalg.inv")
_HALF_KERNELS = {"linalg.det": "lu_cpu", "linalg.solve": "lu_cpu",
                 "linalg.cholesky": "cholesky_cpu",
                 "linalg.qr": "geqrf_cpu", "linalg.svd": "linalg_svd_cpu",
                 "torch.linalg.ldl_factor_ex": "ldl_factor_kernel_cpu",
                 "triangular_solve": "triangular_solve_cpu"}


def _check_half(name, x):
    """torch's error for a float16 ``x`` reaching the linalg function ``name``."""
    if name in _LOW_PRECISION:
        raise RuntimeError(f"{name}: Low precision dtypes not supported. "
                           f"Got {type_name(x.dtype)}")
    if name in _HALF_KERNELS:
        raise NotImplementedError(f'"{_HALF_KERNELS[name]}" not implemented for '
                                  f"'{type_name(x.dtype)}'")
    if name == "torch.linalg.lstsq":
        raise RuntimeError("This function doesn't handle types other than float and double")


def check_matrix(name, x, square=True, floating=True, complex_ok=False):
    """torch's checks for ``A``: a float (or, with ``complex_ok``, complex) tensor of at least
    2 dims, square unless told; torch checks the shape before the dtype."""
    if x.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")
    if floating:
        check_float(name, x, complex_ok)
        if x.dtype == np.float16:
            _check_half(name, x)


def check_solve_inputs(name, b, a):
    """torch's checks of a solve's ``b`` and ``A`` arrays (its ``linearSolveCheckInputs``):
    one dtype, square matrices, as many rows in ``b`` as ``A`` has columns."""
    if b.dtype != a.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{type_name(b.dtype)} and A of type {type_name(a.dtype)} instead.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {a.shape[-2]} "
                           f"by {a.shape[-1]} matrices")
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for {name}: each A matrix is "
                           f"{a.shape[-2]} by {a.shape[-1]} but each b matrix is {b.shape[-2]} "
                           f"by {b.shape[-1]}")


def batch_prefix(x, k):
    """torch's "(Batch element k): " in an error about matrix ``k`` of a batch."""
    return "" if x.ndim == 2 else f"(Batch element {k}): "


def _zero_pivot(a):
    """1-based index of the first zero pivot of LU with partial pivoting (0 if none)."""
    a = np.array(a)
    n = a.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        a[[k, p]] = a[[p, k]]
        a[k + 1:, k:] -= np.outer(a[k + 1:, k] / a[k, k], a[k, k:])
    return 0


def _singular_info(x):
    """(flat batch index, zero-pivot index) of the first singular matrix in ``x``."""
    flat = x.reshape((-1,) + x.shape[-2:])
    for k, a in enumerate(flat):
        try:
            np.linalg.inv(a)
        except np.linalg.LinAlgError:
            return k, _zero_pivot(a) or a.shape[-1]
    return None


def _inv_or_raise(x, name="linalg.inv"):
    try:
        return np.linalg.inv(x)
    except np.linalg.LinAlgError:
        k, piv = _singular_info(x)
        raise LinAlgError(f"{name}: {batch_prefix(x, k)}The diagonal element {piv} is zero, the "
                          "inversion could not be completed because the input matrix is "
                          "singular.") from None


class Det(Op):
    """z = det(A); gA = grad conj(det A) A^-H (zero for a singular A, as torch computes it)"""

    _backward_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, x):
        out = np.asarray(np.linalg.det(x)).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        # NOTE: torch's gradient at a singular matrix is 0, not the cofactor matrix
        singular = (out == 0)[..., None, None]
        inv = np.linalg.inv(np.where(singular, np.eye(x.shape[-1], dtype=x.dtype), x))
        g = (grad * _conj(out))[..., None, None] * _mH(inv)
        return np.where(singular, 0, g).astype(x.dtype, copy=False)


def det(A: Tensor) -> Tensor:
    """Determinant of a square matrix or batch of them (``torch.linalg.det``)."""
    check_matrix("linalg.det", A._data, complex_ok=True)
    return Det.apply(A)


class Slogdet(Op):
    """(sign, log|det A|); gA = g A^-H with g = g_log (real A: the sign gets no gradient) or
    g_log - i Im(conj(g_sign) sign) (complex A, torch's slogdet_backward)"""

    _backward_name = "LinalgSlogdetBackward0"
    handles_missing_grads = True  # only the sign used: no gradient at all, as torch

    @staticmethod
    def forward(ctx, x):
        sign, logabs = np.linalg.slogdet(x)
        sign = np.asarray(sign).astype(x.dtype, copy=False)
        if x.dtype.kind == "c":
            ctx.save_for_backward(x, sign)
        else:
            ctx.save_for_backward(x)
        return sign, np.asarray(logabs).astype(real_dtype(x.dtype), copy=False)

    @staticmethod
    def backward(ctx, grad_sign, grad_log):
        x = ctx.saved_tensors[0]
        if x.dtype.kind == "c" and grad_sign is not None:
            g = np.asarray(-1j * (np.conj(grad_sign) * ctx.saved_tensors[1]).imag)
            grad_log = g if grad_log is None else grad_log + g
        if grad_log is None:
            return (None,)
        try:
            inv = np.linalg.inv(x)
        except np.linalg.LinAlgError:  # a singular matrix: log|det| has no finite gradient
            inv = np.full_like(x, np.nan)
        return ((grad_log[..., None, None] * _mH(inv)).astype(x.dtype, copy=False),)


def slogdet(A: Tensor):
    """(sign, log|det A|) as a named tuple (``torch.linalg.slogdet``)."""
    check_matrix("linalg.slogdet", A._data, complex_ok=True)
    return return_types.linalg_slogdet(Slogdet.apply(A))


class Inv(Op):
    """Z = A^-1; gA = -Z^H G Z^H"""

    _backward_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, x, *, check=True):
        if check:
            out = _inv_or_raise(x)
        else:
            try:
                out = np.linalg.inv(x)
            except np.linalg.LinAlgError:  # one by one: NaN for the singular ones
                flat = x.reshape((-1,) + x.shape[-2:])
                out = np.full_like(flat, np.nan)
                for k, a in enumerate(flat):
                    if not _zero_pivot(a):
                        out[k] = np.linalg.inv(a)
                out = out.reshape(x.shape)
        ctx.save_for_backward(out)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        zh = _mH(out)
        return -(zh @ grad @ zh)


def inv(A: Tensor) -> Tensor:
    """Inverse of a square matrix or batch (``torch.linalg.inv``).

    Raises:
        LinAlgError: when a matrix is singular (torch's message, naming the zero pivot).
    """
    check_matrix("linalg.inv", A._data, complex_ok=True)
    return Inv.apply(A)


def inv_ex(A: Tensor, *, check_errors: bool = False):
    """(inverse, info) like ``torch.linalg.inv_ex``: ``info`` (int32) is 0, or the 1-based
    zero pivot of a singular matrix. Differs from torch: a singular matrix's ``inverse`` is
    NaN (torch's holds whatever LAPACK left)."""
    x = A._data
    check_matrix("linalg.inv", x, complex_ok=True)  # torch's messages name linalg.inv
    if check_errors:
        return return_types.linalg_inv_ex((inv(A), _info(x)))
    return return_types.linalg_inv_ex((Inv.apply(A, check=False), _info(x)))


def _info(x):
    from .._tensor import _wrap

    flat = x.reshape((math.prod(x.shape[:-2]),) + x.shape[-2:])
    info = np.array([_zero_pivot(a) if np.linalg.det(a) == 0 else 0 for a in flat], np.int32)
    return _wrap(info.reshape(x.shape[:-2]))


def _solve_operands(x, y, left):
    """A, B as matrices of one broadcast batch; whether B was a vector; torch's errors."""
    vector = y.ndim == 1 or (y.ndim == x.ndim - 1 and y.shape == x.shape[:-1])
    b = y[..., None] if vector else y
    if not left:
        x, b = _mT(x), _mT(b)
    if b.shape[-2] != x.shape[-1]:
        eq, bs = ("AX = B", y.shape[-2:]) if left else ("XA = B", _mT(b).shape[-2:])
        if vector:
            bs = (y.shape[-1], 1)
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} "
                           f"({x.shape[-2]}x{x.shape[-1]} and {bs[0]}x{bs[1]})")
    batch = check_broadcast(b.shape[:-2], x.shape[:-2])  # torch names B's batch 'a'
    return (np.broadcast_to(x, batch + x.shape[-2:]), np.broadcast_to(b, batch + b.shape[-2:]),
            vector)


class Solve(Op):
    """X = A^-1 B (or B A^-1 with left=False); gB = A^-H G, gA = -gB X^H"""

    _backward_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, x, y, *, left=True):
        a, b, vector = _solve_operands(x, y, left)
        try:
            out = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            k, _ = _singular_info(a)
            raise LinAlgError(f"torch.linalg.solve: {batch_prefix(a, k)}The solver failed "
                              "because the input matrix is singular.") from None
        ctx.save_for_backward(a, out)
        ctx.x_shape, ctx.y_shape, ctx.vector, ctx.left = x.shape, y.shape, vector, left
        if not left:
            out = _mT(out)
        return np.ascontiguousarray(out[..., 0] if vector else out)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        g = grad[..., None] if ctx.vector else grad
        if not ctx.left:
            g = _mT(g)
        gb = np.linalg.solve(_mH(a), g)
        gx = gy = None
        if ctx.needs_input_grad[0]:
            ga = -(gb @ _mH(out))
            gx = sum_to_shape(ga if ctx.left else _mT(ga), ctx.x_shape)
        if ctx.needs_input_grad[1]:
            if not ctx.left:
                gb = _mT(gb)
            gy = sum_to_shape(gb[..., 0] if ctx.vector else gb, ctx.y_shape)
        return gx, gy


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """Solve ``A X = B`` (``X A = B`` with ``left=False``), batched and broadcast like
    ``torch.linalg.solve``; ``B`` of shape ``A.shape[:-1]`` (or 1-D) is a batch of vectors."""
    x, y = A._data, B._data
    check_float("linalg.solve", x, complex_ok=True)  # solve checks the dtype first
    check_matrix("linalg.solve", x, complex_ok=True)
    if x.dtype != y.dtype:
        raise RuntimeError("linalg.solve: Expected A and B to have the same dtype, but found A of "
                           f"type {type_name(x.dtype)} and B of type {type_name(y.dtype)} instead")
    return Solve.apply(A, B, left=left)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):
    """(result, info) like ``torch.linalg.solve_ex``; a singular matrix raises here."""
    out = solve(A, B, left=left)
    from .._tensor import _wrap

    return return_types.linalg_solve_ex((out, _wrap(np.zeros(A.shape[:-2], np.int32))))


def _cutoff(s, atol, rtol, m, n):
    """torch's rank cutoff: max(atol, rtol * s_max), rtol = eps * max(m, n) if neither given."""
    if atol is None and rtol is None:
        rtol = np.finfo(s.dtype).eps * max(m, n)
    atol = 0.0 if atol is None else np.asarray(atol, s.dtype)
    rtol = 0.0 if rtol is None else np.asarray(rtol, s.dtype)
    smax = s.max(-1, initial=0.0) if s.shape[-1] else np.zeros(s.shape[:-1], s.dtype)
    return np.maximum(atol, rtol * smax)[..., None]


def _arr(v):
    return v._data if isinstance(v, Tensor) else v


class Pinv(Op):
    """Z = A^+ (from the SVD, or eigh for hermitian A); torch's pinv_backward (with ^H)"""

    _backward_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, x, *, atol=None, rtol=None, hermitian=False):
        m, n = x.shape[-2:]
        if hermitian:
            w, v = np.linalg.eigh(x)
            keep = np.abs(w) > _cutoff(np.abs(w), atol, rtol, m, n)
            with np.errstate(divide="ignore"):
                winv = np.where(keep, 1 / np.where(keep, w, 1), 0).astype(x.dtype)
            out = (v * winv[..., None, :]) @ _mH(v)
        else:
            u, s, vh = np.linalg.svd(x, full_matrices=False)
            keep = s > _cutoff(s, atol, rtol, m, n)
            sinv = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(x.dtype)
            out = (_mH(vh) * sinv[..., None, :]) @ _mH(u)
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, p = ctx.saved_tensors
        m, n = a.shape[-2:]
        ph, gh = _mH(p), _mH(grad)
        if m <= n:
            k = gh @ p
            kph = k @ ph
            return _mH(-(p @ k)) + kph - (a @ p) @ kph + (ph @ p) @ (gh - k @ a)
        k = p @ gh
        phk = ph @ k
        return _mH(-(k @ p)) + (gh - a @ k) @ p @ ph + phk - phk @ p @ a


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """Moore-Penrose pseudo-inverse (``torch.linalg.pinv``): singular values at most
    ``max(atol, rtol * s_max)`` count as zero (rtol defaults to eps * max(m, n))."""
    x = A._data
    if x.dtype.kind not in "fc" or x.dtype == np.float16 or x.ndim < 2:
        shape = ", ".join(str(s) for s in x.shape)
        raise RuntimeError(f"linalg.pinv({type_name(x.dtype)}{{[{shape}]}}): expected a tensor "
                           "with 2 or more dimensions of float, double, cfloat or cdouble types")
    return Pinv.apply(A, atol=_arr(atol), rtol=_arr(rtol), hermitian=hermitian)
