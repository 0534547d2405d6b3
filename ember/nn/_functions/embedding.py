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


def check_indices(idx: np.ndarray, num_embeddings: int) -> None:
    """Raise torch's errors for float ids and ids outside ``[0, num_embeddings)``."""
    if idx.dtype.kind not in "iu":
        from ..._dtype import from_numpy
        from ...autograd.function import _TORCH_TYPE_NAMES

        name = _TORCH_TYPE_NAMES.get(idx.dtype.name, from_numpy(idx.dtype).name)
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got torch.{name} instead "
                           "(while checking arguments for embedding)")
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
    out = np.zeros(num_rows * dim, grad.dtype)
    if dim == 1:
        np.add.at(out, flat_idx, g2.reshape(-1))
    else:
        pos = flat_idx[:, None] * dim
        pos = pos + np.arange(dim)
        np.add.at(out, pos.reshape(-1), g2.reshape(-1))
    return out.reshape(num_rows, dim)


class EmbeddingLookup(Op):
    """z[..., :] = weight[idx[...], :]; the padding row gets no gradient"""

    _backward_name = "EmbeddingBackward0"  # torch's name

    @staticmethod
    def forward(ctx, weight, *, idx, padding_idx=None, scale_grad_by_freq=False):
        ctx.idx, ctx.num_rows = idx, weight.shape[0]
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight.take(idx, axis=0)

    @staticmethod
    def backward(ctx, grad):
        idx = ctx.idx
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
