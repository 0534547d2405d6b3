"""The sparse-gradient branches of ``SGD``, ``Adagrad`` and ``SparseAdam``: torch's
arithmetic on a ``Coo`` gradient, written on its indices and values."""
from __future__ import annotations

import math

import numpy as np

from ._coo import Coo, coalesce, linear_index, merge_add, occurrence_rank

_ADD_DENSE = "add(sparse, dense) is not supported. Use add(dense, sparse) instead."


def is_sparse_grad(p) -> bool:
    """Whether parameter ``p`` has a sparse gradient."""
    g = p._grad
    return g is not None and type(g._data) is Coo


def refuse(params, name: str, hint: str = "") -> None:
    """torch's error for an optimizer without a sparse branch, before it changes anything."""
    for p in params:
        if is_sparse_grad(p):
            raise RuntimeError(f"{name} does not support sparse gradients{hint}")


def index_add_(dense: np.ndarray, g: Coo, alpha=1.0) -> None:
    """``dense += alpha * g`` in place, entry by entry in g's order, as torch's
    ``dense.add_(sparse, alpha=alpha)``: its kernel is an axpy, ``r + alpha * v`` rounded once
    (a fused multiply-add), which float32 gets exactly through float64."""
    if not g.nnz:
        return
    if g.sparse_dim == 0:
        dense += (g.values * dense.dtype.type(alpha)).sum(axis=0).astype(dense.dtype)
        return
    values = g.values.astype(dense.dtype, copy=False)
    if dense.dtype != np.float32:
        np.add.at(dense, tuple(g.indices), values if alpha == 1 else values * alpha)
        return
    a = np.float64(np.float32(alpha))
    lin = linear_index(g.indices, g.shape[:g.sparse_dim])
    # the k-th occurrence of each index goes in round k: each round's indices are unique, and
    # the rounds keep every index's entries in order
    rank = occurrence_rank(lin)
    for k in range(int(rank.max()) + 1):
        sel = np.flatnonzero(rank == k)
        at = tuple(g.indices[:, sel])
        dense[at] = (dense[at].astype(np.float64) + a * values[sel].astype(np.float64)).astype(
            np.float32)


def _scaled(g: Coo, factor) -> Coo:
    return Coo(g.indices, (g.values * g.dtype.type(factor)).astype(g.dtype, copy=False), g.shape,
               g.coalesced)


def sgd_step(opt, p, lr, momentum, dampening, weight_decay, nesterov, maximize) -> None:
    """torch's ``_single_tensor_sgd`` for one parameter whose gradient is sparse: the momentum
    buffer is sparse too (its entries pile up, uncoalesced, as torch's do)."""
    g = p._grad._data
    if maximize:
        g = _scaled(g, -1)
    if weight_decay != 0:
        raise RuntimeError(_ADD_DENSE)
    if momentum != 0:
        from ._tensor import wrap

        state = opt.state[p]
        buf_t = state.get("momentum_buffer")
        if buf_t is None:
            buf = g.copy()
            state["momentum_buffer"] = wrap(buf)
        else:
            buf = buf_t._data
            if type(buf) is not Coo:  # a dense buffer from dense steps takes the sparse one
                buf *= momentum
                index_add_(buf, g, 1 - dampening)
            else:
                buf.values = (buf.values * buf.dtype.type(momentum)).astype(buf.dtype)
                r = merge_add(buf, g, 1 - dampening, dtype=buf.dtype)
                buf.indices, buf.values, buf.coalesced = r.indices, r.values, r.coalesced
        if nesterov:
            if type(buf) is not Coo:
                raise RuntimeError(_ADD_DENSE)
            g = merge_add(g, buf, momentum, dtype=g.dtype)
        elif type(buf) is not Coo:
            p._data += buf * -lr
            p._vc[0] += 1
            return
        else:
            g = buf
    index_add_(p._data, g, -lr)
    p._vc[0] += 1


def adagrad_step(p, state_sum: np.ndarray, clr, eps, weight_decay, maximize) -> None:
    """torch's sparse Adagrad branch: on the coalesced gradient's rows only,
    ``sum[i] += g^2;  p[i] -= clr * g / (sqrt(sum[i]) + eps)``."""
    g = p._grad._data
    if maximize:
        g = _scaled(g, -1)
    if weight_decay != 0:
        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
    g = coalesce(g)
    if not g.nnz:
        return
    idx = tuple(g.indices)
    values = g.values if g.sparse_dim else g.values[0]
    state_sum[idx] += values * values
    std = np.sqrt(state_sum[idx]) + state_sum.dtype.type(eps)
    index_add_(p._data, Coo(g.indices, (values / std).reshape(g.values.shape), g.shape, True),
               -clr)
    p._vc[0] += 1


def sparse_adam_step(p, state, beta1, beta2, eps, lr, maximize) -> None:
    """torch's ``F.sparse_adam`` for one parameter: Adam on the coalesced gradient's rows."""
    g = p._grad._data
    if maximize:
        g = _scaled(g, -1)
    g = coalesce(g)
    if g.values.size == 0:
        return
    idx = tuple(g.indices)
    values = g.values if g.sparse_dim else g.values[0]  # no sparse dim: one entry, the whole
    exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
    step = state["step"]
    # old <- b * old + (1 - b) * new, written as old += (1 - b) * (new - old)
    old_exp_avg = exp_avg[idx]
    exp_avg_update = (values - old_exp_avg) * exp_avg.dtype.type(1 - beta1)
    exp_avg[idx] += exp_avg_update
    old_exp_avg_sq = exp_avg_sq[idx]
    exp_avg_sq_update = (values * values - old_exp_avg_sq) * exp_avg_sq.dtype.type(1 - beta2)
    exp_avg_sq[idx] += exp_avg_sq_update
    # torch adds the update back to the old values rather than reading the rows again
    numer = exp_avg_update + old_exp_avg
    denom = np.sqrt(exp_avg_sq_update + old_exp_avg_sq) + exp_avg_sq.dtype.type(eps)
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr * math.sqrt(bias_correction2) / bias_correction1
    p._data[idx] += p._data.dtype.type(-step_size) * (numer / denom)
    p._vc[0] += 1
