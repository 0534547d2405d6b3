"""LAPACK's compact QR: ``torch.geqrf`` (``geqrf``: R on and above the diagonal, the
Householder vectors below it, and their scales ``tau``) and ``torch.ormqr`` (``ormqr``:
multiply a matrix by the Q those reflectors make, from the left or the right, optionally
conjugate-transposed).

``geqrf`` is NumPy's ``qr(mode="raw")``, which calls the same LAPACK routine and returns its
output transposed (Fortran order). ``ormqr`` builds Q with ``householder_product``'s helpers
and differentiates through them, so it has torch's gradient for all three inputs.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .. import _arg_errors, return_types
from .._tensor import Tensor
from ..autograd.function import Op
from ._linalg_inverse import _mH
from ._linalg_triangular import HouseholderProduct, _apply_chain, _reflectors
from ._shape_utils import type_name

__all__ = ["geqrf", "ormqr"]


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _check_lapack_dtype(kernel: str, t: Tensor) -> None:
    """float32/float64/complex only, as torch's CPU kernels: its NotImplementedError."""
    if t._data.dtype.kind not in "fc" or t._data.dtype == np.float16:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(t._data.dtype)}'")


class Geqrf(Op):
    """(a, tau) = LAPACK geqrf(x): x = Q R, R in a's upper triangle, Q = H_0 ... H_{k-1} with
    H_i = I - tau_i v_i v_i^H and v_i below a's diagonal; no derivative, as in torch"""

    _backward_name = "GeqrfBackward0"

    @staticmethod
    def forward(ctx, x):
        m, n = x.shape[-2:]
        if x.size == 0:
            return x.copy(), np.zeros(x.shape[:-2] + (min(m, n),), x.dtype)
        h, tau = np.linalg.qr(x, mode="raw")
        return np.ascontiguousarray(_mT(h)).astype(x.dtype, copy=False), \
            tau.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_a, grad_tau=None):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def geqrf(input: Tensor, *, out=None):
    """The QR decomposition of ``input`` in LAPACK's compact form (``torch.geqrf``).

    Args:
        input: ``(*, m, n)`` float32, float64 or complex matrices.
        out: optional pair of tensors to write ``(a, tau)`` into.

    Returns:
        ``(a, tau)`` (``ember.return_types.geqrf``): ``a`` ``(*, m, n)`` holds R on and
        above the diagonal and the Householder vectors below it; ``tau`` ``(*, min(m, n))``
        their scales. :func:`ember.linalg.householder_product` turns them into Q and
        :func:`ormqr` multiplies by Q.

    Raises:
        RuntimeError: fewer than 2 dimensions.
        NotImplementedError: another dtype (torch's message); backward through the result.
    """
    from ._out import write_out

    _arg_errors.check_tensors("geqrf", input=input)
    if input._data.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    _check_lapack_dtype("geqrf_cpu", input)
    result = return_types.geqrf(Geqrf.apply(input))
    return write_out("geqrf", result, out, (input,))


class Ormqr(Op):
    """out = op(Q) C (left) or C op(Q) (right), Q = H_0 ... H_{k-1} from (a, tau) as geqrf
    stores them, op = identity or ^H; the gradient of Q goes back through the reflectors as
    householder_product's does"""

    _backward_name = "OrmqrBackward0"

    @staticmethod
    def forward(ctx, a, tau, c, *, left, transpose):
        v = _reflectors(a, tau.shape[-1])
        chain = _apply_chain(v, tau, a.shape[-2])  # chain[0] is the full (m, m) Q
        opq = _mH(chain[0]) if transpose else chain[0]
        ctx.save_for_backward(v, tau, c, opq)
        ctx.chain, ctx.a_shape, ctx.left, ctx.transpose = chain, a.shape, left, transpose
        return opq @ c if left else c @ opq

    @staticmethod
    def backward(ctx, grad):
        v, tau, c, opq = ctx.saved_tensors
        need = ctx.needs_input_grad
        gc = None
        if need[2]:
            gc = _mH(opq) @ grad if ctx.left else grad @ _mH(opq)
        if not (need[0] or need[1]):
            return None, None, gc
        g_opq = grad @ _mH(c) if ctx.left else _mH(c) @ grad
        gq = _mH(g_opq) if ctx.transpose else g_opq
        reflectors = SimpleNamespace(saved_tensors=(v, tau), chain=ctx.chain,
                                     a_shape=ctx.a_shape)
        ga, gtau = HouseholderProduct.backward(reflectors, gq)
        return ga if need[0] else None, gtau if need[1] else None, gc


# both backwards are written for complex numbers (conjugate transposes throughout)
Geqrf._complex_fn = Geqrf
Ormqr._complex_fn = Ormqr


def _check_ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool) -> None:
    """torch's checks, in torch's order."""
    a, t, c = input._data, tau._data, other._data
    name = "torch.ormqr"
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if c.ndim < 2:
        raise RuntimeError(f"{name}: other must have at least 2 dimensions.")
    cond = -2 if left else -1
    if c.shape[cond] != a.shape[-2]:
        raise RuntimeError(f"{name}: other.shape[{cond}] must be equal to input.shape[-2]")
    if t.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if t.shape[-1] != min(c.shape[cond], a.shape[-1]):
        raise RuntimeError(f"{name}: tau.shape[-1] must be equal to min(other.shape[{cond}], "
                           "input.shape[-1])")
    if a.ndim - t.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {t.ndim} and input.ndim is equal to {a.ndim}")
    if a.ndim != c.ndim:
        raise RuntimeError(f"{name}: Expected other to have the same number of dimensions as "
                           f"input, but got other.ndim equal to {c.ndim} and input.ndim is "
                           f"equal to {a.ndim}")
    if t.shape[:-1] != a.shape[:-2]:
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(t.shape[:-1])}")
    if c.shape[:-2] != a.shape[:-2]:
        raise RuntimeError(f"{name}: Expected batch dimensions of other to be equal to "
                           f"input.shape[:-2], but got {list(c.shape[:-2])}")
    for label, x in (("tau", tau), ("other", other)):
        if x.dtype != input.dtype:
            raise RuntimeError(f"{name}: Expected input and {label} to have the same dtype, but "
                               f"input has dtype{type_name(input._data.dtype)} and {label} has "
                               f"dtype {type_name(x._data.dtype)}")


def ormqr(input: Tensor, input2: Tensor, input3: Tensor, left: bool = True,
          transpose: bool = False, *, out: Tensor | None = None) -> Tensor:
    """Multiply ``input3`` by the Q of a :func:`geqrf` result (``torch.ormqr``).

    Args:
        input: ``(*, mn, k)`` Householder vectors below the diagonal (``geqrf``'s ``a``).
        input2: ``tau``, ``(*, min(mn, k))``, their scales.
        input3: ``other``, the ``(*, m, n)`` matrix C.
        left: compute ``op(Q) @ C`` (Q is ``m x m``); False: ``C @ op(Q)`` (``n x n``).
        transpose: ``op`` is the conjugate transpose; False: ``op`` is the identity.
        out: optional tensor to write the result into.

    Returns:
        The ``(*, m, n)`` product, differentiable in all three inputs (as in torch).

    Raises:
        RuntimeError: shapes or dtypes that do not fit (torch's messages and order).
        NotImplementedError: dtypes other than float32, float64 and complex.
    """
    from ._out import write_out

    _arg_errors.check_tensors("ormqr", input=input, input2=input2, input3=input3)
    _arg_errors.check_bool("ormqr", "left", 4, left)
    _arg_errors.check_bool("ormqr", "transpose", 5, transpose)
    _check_ormqr(input, input2, input3, left)
    _check_lapack_dtype("ormqr_cpu", input)
    result = Ormqr.apply(input, input2, input3, left=left, transpose=transpose)
    return write_out("ormqr", result, out, (input, input2, input3))
