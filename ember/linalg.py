"""``torch.linalg``: norms, decompositions, inverses and solvers of matrices (and batches).

Every function takes a matrix or a batch of them (``(*, m, n)``), float32 or float64 (and,
for most, complex64 or complex128), and returns torch's dtypes, named tuples and errors. The
ops live in ``ember/ops/_linalg_*.py``.
"""
from __future__ import annotations

from .ops._linalg_eig import eig, eigvals  # noqa: F401
from .ops._linalg_factor import (  # noqa: F401
    cholesky,
    cholesky_ex,
    eigh,
    eigvalsh,
    matrix_exp,
    qr,
    svd,
    svdvals,
)
from .ops._linalg_inverse import (  # noqa: F401
    LinAlgError,
    det,
    inv,
    inv_ex,
    pinv,
    slogdet,
    solve,
    solve_ex,
)
from .ops._linalg_ldl import ldl_factor, ldl_factor_ex, ldl_solve  # noqa: F401
from .ops._linalg_lu import lu, lu_solve, tensorinv, tensorsolve  # noqa: F401
from .ops._linalg_norms import (  # noqa: F401
    cond,
    diagonal,
    lstsq,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    norm,
    vecdot,
    vector_norm,
)
from .ops._linalg_triangular import (  # noqa: F401
    householder_product,
    lu_factor,
    lu_factor_ex,
    solve_triangular,
    vander,
)
from .ops.linalg import matmul  # noqa: F401
from .ops.statistics_pairs import linalg_cross as cross  # noqa: F401

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig",
           "eigvals", "eigh",
           "eigvalsh", "inv", "inv_ex", "lstsq", "matmul", "matrix_exp", "matrix_norm",
           "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_ex", "svd", "svdvals", "vecdot", "vector_norm", "householder_product",
           "ldl_factor", "ldl_factor_ex", "ldl_solve", "lu", "lu_factor", "lu_factor_ex",
           "lu_solve", "solve_triangular", "tensorinv", "tensorsolve", "vander"]
