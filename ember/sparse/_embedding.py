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
    # torch's values are a view of the gradient when reshaping allows one; an expanded
    # (stride-0) one stays a view, so that sparse additions concatenate as torch's do. Other
    # strides are torch's own business (its backward formulas follow the input's layout),
    # so anything else is copied: contiguous, added by merging as in torch
    if not any(st == 0 and n > 1 for st, n in zip(rows.strides, rows.shape)):
        rows = np.array(rows, order="C")
    return Coo(ids.astype(np.int64)[None], rows, (num_rows, dim))


class SparseEmbeddingLookup(EmbeddingLookup):
    """z[..., :] = weight[idx[...], :]; weight's gradient is sparse COO"""

    backward_graph = staticmethod(no_create_graph)  # ember records no graph through it
    _sparse_linear = True  # the gradient reads no input (see ``no_create_graph``)

    @staticmethod
    def backward(ctx, grad):
        if ctx.scale_grad_by_freq:
            raise RuntimeError(_NO_FREQ)
        return sparse_rows(ctx.idx, grad, ctx.num_rows, ctx.padding_idx)


class SparseEmbeddingBag(EmbeddingBagOp):
    """EmbeddingBag with a sparse COO weight gradient (sum and mean modes)"""

    backward_graph = staticmethod(no_create_graph)
    _sparse_linear = False  # per_sample_weights' gradient reads the weight

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
            g_weight = sparse_rows(ids, rows.astype(ctx.w_dtype, copy=False), ctx.w_shape[0])
        if psw is not None and ctx.needs_input_grad[1]:
            g_psw = np.zeros_like(psw)
            g_psw[ctx.keep] = np.einsum("jd,jd->j", g_rows, weight[ids])
        return g_weight, g_psw
