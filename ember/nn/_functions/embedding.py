"""Embedding lookup: rows of a weight table picked by integer ids."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op
from ._reduce import out_of_range

# NumPy >= 1.25 runs ``np.add.at`` on a 1-D target through a fast indexed loop; measured
# against ``ops.indexing.accumulate_rows`` (sort + reduceat, or a one-hot matmul) it wins at
# every size tried: 14 vs 18 us (65 rows, 256 ids, dim 10), 0.52 vs 0.70 ms (96, 4096, 64),
# 4.6 vs 8.4 ms (256, 32768, 64), 1.2 vs 4.3 ms (10000, 4096, 128).
_FAST_ADD_AT = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (1, 25)


_LONG = np.dtype(np.int64)


def check_index_dtype(idx: np.ndarray, arg: str = "#1 'indices'",
                      where: str = "embedding") -> None:
    """torch's error for ids that are neither int64 nor int32 (``checkScalarTypes``)."""
    if idx.dtype.kind != "i" or idx.dtype.itemsize < 4:
        from ..functional._common import _legacy_name

        raise RuntimeError(f"Expected tensor for argument {arg} to have one of the following "
                           f"scalar types: Long, Int; but got {_legacy_name(idx.dtype)} "
                           f"instead (while checking arguments for {where})")


def check_indices(idx: np.ndarray, num_embeddings: int) -> None:
    """Raise torch's errors for ids that are not int64 / int32 and ids outside
    ``[0, num_embeddings)``."""
    dt = idx.dtype
    if dt != _LONG and (dt.kind != "i" or dt.itemsize < 4):  # torch takes int64, int32 only
        check_index_dtype(idx)
    if idx.size and out_of_range(idx, num_embeddings):
        lo, hi = idx.min(), idx.max()
        bad = int(lo) if lo < 0 else int(hi)
        raise IndexError(f"index out of range in self (got {bad}, "
                         f"num_embeddings={num_embeddings})")


def accumulate(num_rows: int, idx: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """``out[idx[k]] += grad[k]`` over rows, repeated ids summed; shape ``(num_rows, dim)``."""
    dim = grad.shape[-1]
    flat_idx = idx.reshape(-1)
    g2 = grad.reshape(flat_idx.size, dim)
    if not _FAST_ADD_AT:  # pragma: no cover - old NumPy only
        from ...ops.indexing import accumulate_rows

        return accumulate_rows(num_rows, flat_idx, g2)
    out = np.zeros((num_rows, dim), grad.dtype)  # owns its memory: a leaf keeps it as .grad
    flat_out = out.reshape(-1)
    if dim == 1:
        np.add.at(flat_out, flat_idx, g2.reshape(-1))
    else:
        pos = flat_idx[:, None] * dim
        pos = pos + np.arange(dim)
        np.add.at(flat_out, pos.reshape(-1), g2.reshape(-1))
    return out


class EmbeddingLookup(Op):
    """z[..., :] = weight[idx[...], :]; the padding row gets no gradient"""

    _backward_name = "EmbeddingBackward0"  # torch's name

    @staticmethod
    def forward(ctx, weight, *, idx, padding_idx=None, scale_grad_by_freq=False):
        ctx.save_for_backward(idx)  # so that a second backward after the graph was freed raises
        ctx.idx, ctx.num_rows = idx, weight.shape[0]
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight.take(idx, axis=0)

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_tensors
        if ctx.scale_grad_by_freq:
            # torch divides each id's gradient by how often the id occurs in the batch
            counts = np.bincount(idx.reshape(-1), minlength=ctx.num_rows)
            grad = grad / counts[idx][..., None].astype(grad.dtype)
        gw = accumulate(ctx.num_rows, idx, grad)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw


def renorm_(weight: np.ndarray, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the rows named in ``idx`` whose ``norm_type``-norm exceeds
    ``max_norm`` to norm ``max_norm`` (torch's ``embedding_renorm_``, same 1e-7 guard)."""
    rows = np.unique(idx.reshape(-1))
    sub = weight[rows]
    if norm_type == 2:
        norms = np.sqrt(np.einsum("ij,ij->i", sub, sub))
    else:
        norms = np.linalg.norm(sub.astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(weight.dtype)
        weight[rows[big]] = sub[big] * scale[:, None]


class EmbeddingBagOp(Op):
    """out[b] = sum / mean / max over the ids j of bag b of weight[idx[j]] (times
    per_sample_weights[j] in sum mode); ids equal to padding_idx are left out, an empty bag
    gives zeros

    ``bag[j]`` is the bag of id j, or -1 for an id in no bag (after the last offset with
    ``include_last_offset``, or the padding id). Backward: sum sends ``g[b] * w_j`` to row
    ``idx[j]``, mean ``g[b] / count[b]``, max ``g[b, d]`` to the row that won feature d;
    ``per_sample_weights[j]`` gets ``g[b] . weight[idx[j]]``.
    """

    _backward_name = "EmbeddingBagBackward0"  # torch's name

    @staticmethod
    def forward(ctx, weight, per_sample_weights=None, *, idx, bag, num_bags, mode,
                scale_grad_by_freq=False):
        keep = bag >= 0
        ids, bags = idx[keep], bag[keep]
        rows = weight[ids]
        dim = weight.shape[1]
        counts = np.bincount(bags, minlength=num_bags)
        winner = None
        if mode == "max":
            out = np.full((num_bags, dim), -np.inf, weight.dtype)
            np.maximum.at(out, bags, rows)
            out[counts == 0] = 0
            # the first id reaching each maximum wins it (torch's tie rule)
            order = np.arange(ids.size)[:, None]
            winner = np.full((num_bags, dim), ids.size, np.int64)
            np.minimum.at(winner, bags, np.where(rows == out[bags], order, ids.size))
        else:
            if rows.dtype == np.float16:  # summed in float32, rounded once (torch's kernel)
                rows = rows.astype(np.float32)
            if per_sample_weights is not None:
                rows = rows * per_sample_weights[keep][:, None]
            out = accumulate(num_bags, bags, rows) if ids.size else np.zeros((num_bags, dim),
                                                                            rows.dtype)
            if mode == "mean":
                out /= np.maximum(counts, 1)[:, None].astype(out.dtype)
            out = out.astype(weight.dtype, copy=False)
        if ctx.needs_input_grad:
            # the weight itself only for per_sample_weights' gradient (as torch, whose
            # in-place checks then leave an updated weight alone)
            ctx.save_for_backward(weight if ctx.needs_input_grad[1] else None,
                                  per_sample_weights)
            ctx.w_shape, ctx.w_dtype = weight.shape, weight.dtype
            ctx.keep, ctx.ids, ctx.bags, ctx.counts = keep, ids, bags, counts
            ctx.mode, ctx.scale_grad_by_freq, ctx.all_idx = mode, scale_grad_by_freq, idx
            ctx.winner = winner
        return out

    @staticmethod
    def backward(ctx, grad):
        weight, psw = ctx.saved_tensors
        ids, bags = ctx.ids, ctx.bags
        g_rows = grad[bags]                                   # each id's bag gradient
        g_weight = g_psw = None
        if ctx.needs_input_grad[0]:
            if ctx.mode == "max":
                g_weight = np.zeros(ctx.w_shape, ctx.w_dtype)
                won = ctx.winner < ids.size                   # non-empty bags
                cols = np.broadcast_to(np.arange(ctx.w_shape[1]), won.shape)
                np.add.at(g_weight, (ids[ctx.winner[won]], cols[won]), grad[won])
            else:
                rows = g_rows
                if psw is not None:
                    rows = rows * psw[ctx.keep][:, None]
                if ctx.mode == "mean":
                    rows = rows / ctx.counts[bags][:, None].astype(grad.dtype)
                if ctx.scale_grad_by_freq:
                    freq = np.bincount(ctx.all_idx, minlength=ctx.w_shape[0])
                    rows = rows / freq[ids][:, None].astype(grad.dtype)
                g_weight = (accumulate(ctx.w_shape[0], ids, rows) if ids.size
                            else np.zeros(ctx.w_shape, ctx.w_dtype))
        if psw is not None and ctx.needs_input_grad[1]:
            g_psw = np.zeros_like(psw)
            g_psw[ctx.keep] = np.einsum("jd,jd->j", g_rows, weight[ids])
        return g_weight, g_psw
