"""``torch.linalg`` functions built from other ops, as torch builds them: vector_norm,
matrix_norm, norm, cond, matrix_rank, lstsq, multi_dot, vecdot, matrix_power, diagonal.

Their gradients come from the ops they are made of (torch's are composite too, except
lstsq's, which is the same as that of ``pinv(A) @ B``).
"""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype, return_types
from .._tensor import Tensor, _wrap
from ..autograd import grad_mode
from . import arrange, reduce, shape
from ._linalg_factor import eigvalsh, svdvals
from ._linalg_inverse import _cutoff, check_float, check_matrix, inv, pinv, real_dtype
from ._shape_utils import type_name, wrap_dim
from .linalg import matmul
from .vector_norm import norm as _vector_norm


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Vector ``ord``-norm over ``dim`` (all elements when None): ``torch.linalg.vector_norm``."""
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                        "str")
    return _vector_norm(x, p=ord, dim=dim, keepdim=keepdim, dtype=dtype)


def _ord_text(ord):
    return str(int(ord)) if isinstance(ord, float) and ord.is_integer() else str(ord)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """Matrix norm over the two dims ``dim`` (``torch.linalg.matrix_norm``): 'fro', 'nuc',
    2 / -2 (largest / smallest singular value), 1 / -1 (max / min column sum of |A|),
    inf / -inf (max / min row sum)."""
    if isinstance(ord, str):  # torch checks the order first
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    elif ord not in (1, -1, 2, -2, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {_ord_text(ord)} not supported.")
    x = A._data
    if x.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    check_float("linalg.matrix_norm", x, complex_ok=True)
    if x.dtype == np.float16 and ord in (2, -2, "nuc"):  # the SVD-based orders
        raise RuntimeError("linalg.matrix_norm: Low precision dtypes not supported. Got Half")
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) != 2:
        raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                           + " ".join(str(d) for d in dims))
    d0, d1 = wrap_dim(dims[0], x.ndim), wrap_dim(dims[1], x.ndim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    if dtype is not None:
        to = _dtype.convert(dtype)
        if _dtype.promote_types(_dtype.from_numpy(x.dtype), to) != to:
            raise RuntimeError(f"linalg.matrix_norm: the dtype of the input "
                               f"({type_name(x.dtype)}) should be convertible without narrowing "
                               f"to the specified dtype ({type_name(to.np)})")
        A = A.to(dtype)
    if ord == "fro":
        return _vector_norm(A, p=2.0, dim=(d0, d1), keepdim=keepdim)
    if ord == "nuc" or abs(ord) == 2:
        perm = [i for i in range(x.ndim) if i not in (d0, d1)] + [d0, d1]
        sv = svdvals(shape.permute(A, perm))
        if ord == "nuc":
            out = reduce.sum(sv, -1)
        else:
            out = (reduce.amax if ord > 0 else reduce.amin)(sv, -1)
        if keepdim:
            out = shape.unsqueeze(shape.unsqueeze(out, -1), -1)
            out = shape.permute(out, [perm.index(i) for i in range(x.ndim)])
        return out
    if abs(ord) == math.inf:  # the inf norm is the 1 norm of the transpose
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    col = _vector_norm(A, p=1.0, dim=d0, keepdim=keepdim)
    return (reduce.amax if ord > 0 else reduce.amin)(col, d1, keepdim)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int (or None with ``ord`` None,
    over all elements), a matrix norm when ``dim`` is a pair (or None for 2-D input)."""
    x = A._data
    dims = None if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if dims is not None:
        if len(dims) not in (1, 2):
            raise RuntimeError("linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dims)}")
    elif ord is not None and x.ndim not in (1, 2):
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {x.ndim}D.")
    if isinstance(ord, str) or (ord is not None and (
            (dims is not None and len(dims) == 2) or (dims is None and x.ndim == 2))):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


def cond(A: Tensor, p=None) -> Tensor:
    """Condition number (``torch.linalg.cond``): s_max / s_min for p None or 2 (s_min / s_max
    for -2), else ``matrix_norm(A, p) * matrix_norm(inv(A), p)``."""
    x = A._data
    if p not in (None, 2, -2):
        check_matrix(f"linalg.cond(ord={_ord_text(p)})", x, complex_ok=True)
    if x.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p in (None, 2, -2):
        sv = svdvals(A)
        big, small = sv[..., 0], sv[..., -1]
        return big / small if p != -2 else small / big
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """Number of singular values above ``max(atol, rtol * s_max)`` (int64), as
    ``torch.linalg.matrix_rank``; rtol defaults to eps * max(m, n)."""
    x = A._data
    if x.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least "
                           "2 dimensions.")
    if x.dtype not in (np.float32, np.float64, np.complex64, np.complex128):
        raise RuntimeError("This function doesn't handle types other than float and double")
    check_matrix("linalg.matrix_rank", x, square=hermitian, complex_ok=True)
    with grad_mode.no_grad():
        s = np.abs(eigvalsh(A)._data) if hermitian else svdvals(A)._data
    atol = atol._data if isinstance(atol, Tensor) else atol
    rtol = rtol._data if isinstance(rtol, Tensor) else rtol
    return _wrap((s > _cutoff(s, atol, rtol, *x.shape[-2:])).sum(-1).astype(np.int64))


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` (``torch.linalg.lstsq``), as the named tuple
    (solution, residuals, rank, singular_values); which of the last three are filled depends
    on ``driver`` as in torch on CPU (default 'gelsy'). The solution is ``pinv(A) @ B`` with
    cutoff ``rcond`` (min-norm for rank-deficient A, like gelsy/gelsd/gelss).

    Differs from torch: ``residuals`` carries no gradient (torch ignores it in backward too,
    but marks it as requiring grad)."""
    x, y = A._data, B._data
    if x.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if x.dtype.kind not in "fc" or x.dtype == np.float16:
        raise RuntimeError("This function doesn't handle types other than float and double")
    check_matrix("torch.linalg.lstsq", x, square=False, complex_ok=True)
    if x.dtype != y.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype,"
                           f" but got input's dtype {type_name(x.dtype)} and other's dtype "
                           f"{type_name(y.dtype)}")
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy,"
                           " gelsd, gelss)")
    vector = y.ndim == x.ndim - 1
    if (y.shape[-1] if vector else y.shape[-2]) != x.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = x.shape[-2:]
    real = real_dtype(x.dtype)
    rtol = np.finfo(real).eps * max(m, n) if rcond is None or rcond < 0 else rcond
    rhs = shape.unsqueeze(B, -1) if vector else B
    sol = matmul(pinv(A, rtol=float(rtol)), rhs)
    empty_f, empty_i = _wrap(np.zeros((0,), real)), _wrap(np.zeros((0,), np.int64))
    s = np.linalg.svd(x, compute_uv=False)
    rank_arr = (s > _cutoff(s, None, float(rtol), m, n)).sum(-1).astype(np.int64)
    rank = empty_i if driver == "gels" else _wrap(rank_arr)
    svals = _wrap(s) if driver in ("gelsd", "gelss") else empty_f
    residuals = empty_f
    if m > n and driver != "gelsy" and np.all(rank_arr == n):
        r = np.asarray(x @ sol._data - rhs._data)
        sq = (r * r.conj()).real if r.dtype.kind == "c" else r * r
        residuals = _wrap(np.sum(sq, axis=-2).astype(real))
    if vector:
        sol = shape.squeeze(sol, -1)
    return return_types.linalg_lstsq((sol, residuals, rank, svals))


def _chain_order(dims):
    """torch's matrix-chain split points: ``split[i][j]`` is where to cut the product i..j."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or q < cost[i][j]:
                    cost[i][j], split[i][j] = q, k
    return split


def _c10(t):
    """c10's lower-case dtype name ('float', 'double', 'long'), as multi_dot's error says."""
    return type_name(t._data.dtype).lower()


def multi_dot(tensors) -> Tensor:
    """Product of a chain of matrices in the cheapest order (``torch.linalg.multi_dot``); the
    first and last may be 1-D (a row and a column vector)."""
    ts = list(tensors)
    n = len(ts)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    for i, t in enumerate(ts):
        d = t.ndim
        if i == 0 and d not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {d}D")
        if i == n - 1 and d not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {d}D")
        if 0 < i < n - 1 and d != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {d}D")
        if t.dtype != ts[0].dtype:
            raise RuntimeError("multi_dot(): all tensors must have be the same dtype but tensor 0"
                               f" is {_c10(ts[0])} and tensor {i} {_c10(t)}")
    first_1d, last_1d = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_1d:
        ts[0] = shape.unsqueeze(ts[0], 0)
    if last_1d:
        ts[-1] = shape.unsqueeze(ts[-1], -1)
    for i in range(n - 1):
        if ts[i].shape[1] != ts[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(ts[i].shape)} and {list(ts[i + 1].shape)} cannot be "
                               "multiplied")
    if n == 2:
        out = matmul(ts[0], ts[1])
    elif n == 3:  # torch's closed form for three: (AB)C unless A(BC) is strictly cheaper
        a, b = ts[0].shape
        c, d = ts[2].shape
        if a * c * (b + d) > b * d * (a + c):
            out = matmul(ts[0], matmul(ts[1], ts[2]))
        else:
            out = matmul(matmul(ts[0], ts[1]), ts[2])
    else:
        split = _chain_order([t.shape[0] for t in ts] + [ts[-1].shape[1]])

        def chain(i, j):
            if i == j:
                return ts[i]
            k = split[i][j]
            return matmul(chain(i, k), chain(k + 1, j))

        out = chain(0, n - 1)
    if first_1d and last_1d:
        return shape.reshape(out, ())
    if first_1d:
        return shape.reshape(out, (out.shape[1],))
    if last_1d:
        return shape.reshape(out, (out.shape[0],))
    return out


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Dot products of vectors along ``dim``, broadcast (``torch.linalg.vecdot``): the sum of
    ``conj(x) * y``, so complex ``x`` is conjugated."""
    check_float("linalg.vecdot", x._data, complex_ok=True)
    if x.dtype != y.dtype:
        raise RuntimeError("linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {type_name(x._data.dtype)} and y of type "
                           f"{type_name(y._data.dtype)} instead")
    if x._data.dtype.kind == "c":
        x = x.conj()
    return reduce.sum(x * y, dim)


def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A`` to the integer power ``n`` (``torch.linalg.matrix_power``): negative ``n`` inverts
    first; the products follow torch's binary decomposition, so rounding matches."""
    x = A._data
    if x.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 "
                           "dimensions.")
    check_matrix("linalg.matrix_power", x, floating=False)
    if n == 0:
        eye = np.broadcast_to(np.eye(x.shape[-1], dtype=x.dtype), x.shape)
        return A * 0 + _wrap(np.ascontiguousarray(eye)) if A.requires_grad else _wrap(eye.copy())
    if n < 0:
        A, n = inv(A), -n
    if n == 1:
        return A.clone()
    if n == 2:
        return matmul(A, A)
    if n == 3:
        return matmul(matmul(A, A), A)
    z = result = None
    while n > 0:
        bit, n = n % 2, n // 2
        z = A if z is None else matmul(z, z)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal of each matrix (``torch.linalg.diagonal``: ``torch.diagonal`` with
    ``dim1=-2, dim2=-1`` by default)."""
    return arrange.diagonal(A, offset, dim1, dim2)
