"""``ember.nn.utils.parametrizations``: torch's ready-made parametrizations.

``weight_norm`` (``original0`` = g, ``original1`` = v), ``spectral_norm`` (power iteration
with the buffers ``_u`` and ``_v`` on the parametrization) and ``orthogonal`` (matrix
exponential, Cayley or Householder maps), each registered through ``parametrize``.
"""
from __future__ import annotations

from enum import Enum, auto

import numpy as np

import ember

from ..._tensor import Tensor, _wrap
from ...autograd.grad_mode import no_grad
from ...ops.linalg import dot
from .. import functional as F
from ..functional._common import _size_str
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _default_dim
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# --- orthogonal ---------------------------------------------------------------------------
def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """torch.linalg.householder_product from differentiable ops: the first ``k`` columns of
    ``H_0 H_1 ... H_{k-1}``, ``H_i = I - tau_i v_i v_i^T``, where ``v_i`` is column ``i`` of
    ``A`` below the diagonal with an implicit 1 on it."""
    n, k = A.shape[-2], A.shape[-1]
    identity = ember.eye(n, k, dtype=A.dtype)
    V = A.tril(-1) + identity
    Q = identity
    for i in reversed(range(tau.shape[-1])):
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i:i + 1].unsqueeze(-1) * (v @ (v.mT @ Q))
    return Q


def _geqrf(A: Tensor) -> tuple[Tensor, Tensor]:
    """torch.geqrf (LAPACK's reflectors below the diagonal, R on and above it) and tau."""
    h, tau = np.linalg.qr(A.detach().numpy(), mode="raw")
    return _wrap(np.ascontiguousarray(np.swapaxes(h, -1, -2))), _wrap(tau)


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A's QR decomposition with the signs making diag(R) non-negative."""
    q, r = np.linalg.qr(A.detach().numpy().astype(np.float64))
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    return _wrap((q * signs).astype(A.detach().numpy().dtype))


def _is_orthogonal(Q: Tensor) -> bool:
    n, k = Q.size(-2), Q.size(-1)
    eps = 10.0 * n * float(np.finfo(Q.detach().numpy().dtype).eps)
    return bool(np.allclose((Q.mH @ Q).detach().numpy(), np.eye(k), rtol=1e-5, atol=eps))


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """The ``orthogonal`` parametrization (torch's private ``_Orthogonal``)."""

    def __init__(self, weight, orthogonal_map: _OrthMaps, *, use_trivialization=True):
        super().__init__()
        is_complex = getattr(weight, "is_complex", lambda: False)()
        if is_complex and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex "
                             "tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        """An orthogonal matrix (or batch) of X's shape built from X's free entries."""
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                X = ember.cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = ember.matrix_exp(A)
            else:  # the Cayley retraction (I + A/2)(I - A/2)^{-1}
                Id = ember.eye(n, dtype=A.dtype)
                Q = ember.linalg.solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # the diagonal of X holds the signs (+-1); no gradient flows through it
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        """The X whose forward gives ``Q`` (made orthogonal first when it is not)."""
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q: Tensor) -> Tensor:
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape "
                             f"{_size_str(self.shape)}. Got a tensor of shape "
                             f"{_size_str(Q.shape)}.")
        Q_init = Q
        n, k = Q.size(-2), Q.size(-1)
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            A, tau = _geqrf(Q)
            arr = A.numpy()
            diag = np.sign(np.diagonal(arr, axis1=-2, axis2=-1))
            diag = np.where(tau.numpy() == 0.0, -diag, diag)  # LAPACK skipped that reflection
            idx = np.arange(min(arr.shape[-2:]))
            arr[..., idx, idx] = diag
            return A.mT if transpose else A
        if n == k:
            Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
        else:  # complete Q to an n x n orthogonal matrix with random columns
            N = ember.randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype)
            Q = _make_orthogonal(ember.cat([Q, N], dim=-1))
        self.base = Q
        # -Id: the Householder map sends it (with the base) back to Q
        neg_id = ember.zeros_like(Q_init)
        arr = neg_id.numpy()
        idx = np.arange(min(arr.shape[-2:]))
        arr[..., idx, idx] = -1.0
        return neg_id


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain the matrix (or batch of matrices) ``module.<name>`` to be orthogonal.

    Args:
        module: the module.
        name: the tensor's name.
        orthogonal_map: ``"matrix_exp"``, ``"cayley"`` or ``"householder"``; by default
            ``"matrix_exp"`` for square matrices and ``"householder"`` otherwise.
        use_trivialization: keep a ``base`` buffer the map is applied on top of (torch's
            default, needed to assign to the weight with the matrix_exp and Cayley maps).

    Returns:
        ``module``.

    Raises:
        ValueError: no such tensor, fewer than 2 dimensions, or an unknown map.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.size(-2) == weight.size(-1)
        orthogonal_map = "matrix_exp" if square else "householder"
    orth_enum = _OrthMaps.__members__.get(orthogonal_map)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# --- weight norm --------------------------------------------------------------------------
class _WeightNorm(Module):
    """``weight = g * v / ||v||``: the parametrization behind ``weight_norm``."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        """The weight from its magnitude ``g`` and direction ``v``."""
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        """``(g, v)`` = (the norms of ``weight`` along ``dim``, ``weight``)."""
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||``.

    ``g`` is ``module.parametrizations.<name>.original0`` and ``v`` is ``original1``. Loading
    a state dict saved with the legacy ``<name>_g`` / ``<name>_v`` keys works too.

    Args:
        module: the module.
        name: the weight's name.
        dim: the dimension whose slices get their own norm; ``None`` for one norm of the
            whole tensor.

    Returns:
        ``module``.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                                 unexpected_keys, error_msgs) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


# --- spectral norm ------------------------------------------------------------------------
class _SpectralNorm(Module):
    """``weight / sigma``, sigma estimated by power iteration: the parametrization behind
    ``spectral_norm``. Holds the buffers ``_u`` and ``_v`` (for weights of 2+ dimensions)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:  # a vector needs no estimate (see forward)
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # u and v are updated in place (other holders of the buffers see the new values)
        with no_grad():
            for _ in range(n_power_iterations):
                self._u = F.normalize(weight_mat @ self._v, dim=0, eps=self.eps, out=self._u)
                self._v = F.normalize(weight_mat.mH @ self._u, dim=0, eps=self.eps,
                                      out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        """``weight / sigma`` (one power-iteration round first while training)."""
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # clones: a later forward's in-place update must not touch this graph's u and v
        u = self._u.clone()
        v = self._v.clone()
        sigma = dot(u, weight_mat @ v)
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        """The identity: an assigned weight is stored as it is."""
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its spectral norm, estimated by power iteration.

    The parametrization (``module.parametrizations.<name>[0]``) keeps the singular-vector
    estimates in the buffers ``_u`` and ``_v``, drawn from the global generator as torch draws
    them and refined by 15 iterations at registration; each training-mode access runs
    ``n_power_iterations`` more (in place), eval mode uses them as they are.

    Args:
        module: the module.
        name: the weight's name.
        n_power_iterations: power-iteration steps per training-mode access.
        eps: the floor on norms when normalizing.
        dim: the dimension of the weight indexing the output (default 0, 1 for transposed
            convolutions).

    Returns:
        ``module``.

    Raises:
        ValueError: no tensor ``name``, or ``n_power_iterations`` not positive.
        IndexError: ``dim`` out of range.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    parametrization = _SpectralNorm(weight, n_power_iterations, _default_dim(module, dim), eps)
    parametrize.register_parametrization(module, name, parametrization)
    return module
