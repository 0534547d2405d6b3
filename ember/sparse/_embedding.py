"""``embedding(..., sparse=True)`` and ``embedding_bag(..., sparse=True)``: the same lookups
with torch's sparse weight gradient (``embedding_sparse_backward``): one entry per looked-up
id, in input order, duplicates kept (uncoalesced), padding ids left out."""
from __future__ import annotations

import numpy as np

from ..nn._functions.embedding import EmbeddingBagOp, EmbeddingLookup
from ._autograd import no_create_graph
from ._coo import Coo

_NO_FREQ = "embedding_backward: scale_grad_by_freq not supported with sparse gradients"


def sparse_rows(ids: np.ndarray, rows: np.ndarray, num_rows: int, padding_idx=None) -> Coo:
    """The sparse gradient of a ``(num_rows, dim)`` table: ``rows[k]`` at row ``ids[k]``."""
    ids = ids.reshape(-1)
    dim = rows.shape[-1]
    rows = rows.reshape(ids.size, dim)
    if padding_idx is not None:
        keep = ids != padding_idx
        ids, rows = ids[keep], rows[keep]
    return Coo(ids.astype(np.int64)[None], np.array(rows, copy=True), (num_rows, dim))


class SparseEmbeddingLookup(EmbeddingLookup):
    """z[..., :] = weight[idx[...], :]; weight's gradient is sparse COO"""

    backward_graph = staticmethod(no_create_graph)  # ember records no graph through it

    @staticmethod
    def backward(ctx, grad):
        if ctx.scale_grad_by_freq:
            raise RuntimeError(_NO_FREQ)
        return sparse_rows(ctx.idx, grad, ctx.num_rows, ctx.padding_idx)


class SparseEmbeddingBag(EmbeddingBagOp):
    """EmbeddingBag with a sparse COO weight gradient (sum and mean modes)"""

    backward_graph = staticmethod(no_create_graph)

    @staticmethod
    def backward(ctx, grad):
        if ctx.scale_grad_by_freq:
            raise RuntimeError(_NO_FREQ)
        weight, psw = ctx.saved_tensors
        ids, bags = ctx.ids, ctx.bags
        g_rows = grad[bags]
        g_weight = g_psw = None
        if ctx.needs_input_grad[0]:
            rows = g_rows
            if psw is not None:
                rows = rows * psw[ctx.keep][:, None]
            if ctx.mode == "mean":
                rows = rows / ctx.counts[bags][:, None].astype(grad.dtype)
            g_weight = sparse_rows(ids, rows.astype(weight.dtype, copy=False), weight.shape[0])
        if psw is not None and ctx.needs_input_grad[1]:
            g_psw = np.zeros_like(psw)
            g_psw[ctx.keep] = np.einsum("jd,jd->j", g_rows, weight[ids])
        return g_weight, g_psw
