"""Linear layer + cross entropy as one node that never holds the ``(N, C)`` logits at once.

Forward walks the rows ``chunk`` at a time: each chunk's logits ``x_c @ W.T + b`` live in one
``(chunk, C)`` buffer just long enough to give the rows' log-sum-exp and loss. Backward
recomputes each chunk's logits from the saved inputs, turns them into ``softmax - onehot``
in the same buffer, and adds that chunk's share to ``grad_input``, ``grad_weight`` and
``grad_bias``. Peak memory: one chunk of logits plus the gradients themselves.

torch 2.13's chunked op (``torch/nn/modules/linear_cross_entropy.py``) computes the
gradients during forward instead; the numbers are the same, and so are its node names and
its refusal of a second backward for the scalar reductions.
"""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op

_TWICE = ("linear_cross_entropy chunked backward called twice; retain_graph=True / double "
          "backward are not supported.")
_PREFIX = "GeneratedBackwardFor_torch_nn__linear_cross_entropy_batch_chunked"


def row_weights(target, weight, num_classes, ignore_index, reduction, dtype):
    """(corrected target, per-row loss weight): torch's ``neg_weight_target`` without its sign.

    Ignored rows weigh 0 and point at class 0 when ``ignore_index`` is no class; ``'mean'``
    divides by the summed weights (nan when they are all 0, as in torch).
    """
    mask = target == ignore_index
    if not 0 <= ignore_index < num_classes:
        target = np.where(mask, 0, target)
    if weight is None:
        rw = (~mask).astype(dtype)
    else:
        if target.size and (target.min() < 0 or target.max() >= weight.shape[0]):
            raise IndexError("index out of range in self")  # index_select into weight
        rw = np.where(mask, 0, weight[target]).astype(dtype, copy=False)
    if reduction == "mean":
        d = rw.sum(dtype=dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            rw = rw / (d if d != 0 else np.nan)
    return target, rw


def _chunks(rows, chunk, target):
    """``(start, stop)`` per chunk; torch's ``narrow`` error when the target runs out first."""
    for start in range(0, rows, chunk):
        stop = min(start + chunk, rows)
        if stop > target.shape[0]:
            raise RuntimeError(f"start ({start}) + length ({stop - start}) exceeds dimension "
                               f"size ({target.shape[0]}).")
        yield start, stop


def _check_chunk_targets(t, num_classes):
    """torch's ``gather`` errors for a chunk's (corrected) targets."""
    if t.ndim != 1:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    bad = (t < 0) | (t >= num_classes)
    if bad.any():
        raise RuntimeError(f"index {int(t[bad][0])} is out of bounds for dimension 1 with size "
                           f"{num_classes}")


def _logits(buf, x_c, wt, b, acc):
    """``x_c @ W.T + b`` into the first rows of ``buf`` (in the accumulation dtype)."""
    out = buf[:x_c.shape[0]]
    np.matmul(x_c if x_c.dtype == acc else x_c.astype(acc), wt, out=out)
    if b is not None:
        out += b
    return out


def _check_once(ctx):
    """torch's scalar-reduction op consumes its gradients: a second backward raises."""
    if ctx.reduction != "none" and not ctx.allow_retain_graph:
        if getattr(ctx, "_consumed", False):
            raise RuntimeError(_TWICE)
        ctx._consumed = True


class LinearCrossEntropyChunked(Op):
    """loss_i = w[t_i] * (lse(x_i W^T + b) - (x_i W^T + b)[t_i]), ``chunk`` rows at a time

    Inputs: ``input (N, F)``, ``linear_weight (C, F)``, ``target (N,)``, then the bias
    ``(C,)`` if ``has_bias`` and the class weights ``(C,)`` if ``has_weight`` (torch's node
    lists only the tensors it was given). The class weights get no gradient, as in torch.
    """

    _backward_name = f"{_PREFIX}_defaultBackward"

    @staticmethod
    def forward(ctx, x, lw, target, *extras, has_bias=False, has_weight=False,
                reduction="mean", ignore_index=-100, chunk=1, acc_dtype=None,
                allow_retain_graph=False):
        if reduction == "none":
            ctx.show_as(f"{_PREFIX}_no_reduction_defaultBackward")
        b = extras[0] if has_bias else None
        cw = extras[-1] if has_weight else None
        acc = np.dtype(acc_dtype or x.dtype)
        rows, num_classes = x.shape[0], lw.shape[0]
        if target.ndim == 0:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        t, rw = row_weights(target, cw, num_classes, ignore_index, reduction, acc)
        wt = (lw if lw.dtype == acc else lw.astype(acc)).T
        bias = None if b is None else b.astype(acc, copy=False)
        buf = np.empty((min(chunk, rows), num_classes), acc)
        lse = np.empty(rows, acc)
        out = np.empty(rows, x.dtype) if reduction == "none" else acc.type(0)
        for start, stop in _chunks(rows, chunk, t):
            logits = _logits(buf, x[start:stop], wt, bias, acc)
            t_c = t[start:stop]
            _check_chunk_targets(t_c, num_classes)
            m = logits.max(axis=1)
            logits -= m[:, None]                              # softmax stability
            picked = logits[np.arange(stop - start), t_c]
            np.exp(logits, out=logits)
            lse_c = np.log(logits.sum(axis=1))
            lse[start:stop] = lse_c + m
            nll = (lse_c - picked) * rw[start:stop]
            if reduction == "none":
                out[start:stop] = nll
            else:
                out += nll.sum(dtype=acc)
        if reduction == "mean" and rows == 0:
            out = acc.type(np.nan)
        if ctx.needs_input_grad:  # a node is recorded (not the shared no-grad ctx)
            ctx.save_for_backward(x, lw, b, lse)
            if reduction != "none" and allow_retain_graph:
                # torch's scalar op keeps its gradients on the node, not as saved tensors:
                # a second backward works even without retain_graph
                ctx.kept = (x, lw, b, lse)
            ctx.t, ctx.rw, ctx.chunk, ctx.acc = t, rw, chunk, acc
            ctx.reduction, ctx.allow_retain_graph = reduction, allow_retain_graph
            ctx.has_bias = has_bias
        return np.asarray(out, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        _check_once(ctx)
        kept = getattr(ctx, "kept", None)
        x, lw, b, lse = ctx.saved_tensors if ctx._saved is not None or kept is None else kept
        acc, t = ctx.acc, ctx.t
        need = ctx.needs_input_grad
        need_b = ctx.has_bias and need[3]
        rows, num_classes = x.shape[0], lw.shape[0]
        f = ctx.rw[:rows] * np.asarray(grad, acc)            # d loss / d nll_i
        lw_acc = lw if lw.dtype == acc else lw.astype(acc)
        bias = None if b is None else b.astype(acc, copy=False)
        gx = np.empty(x.shape, acc) if need[0] else None
        gw = np.zeros(lw.shape, acc) if need[1] else None
        tmp = np.empty(lw.shape, acc) if need[1] else None
        gb = np.zeros(num_classes, acc) if need_b else None
        buf = np.empty((min(ctx.chunk, rows), num_classes), acc)
        for start, stop in _chunks(rows, ctx.chunk, t):
            x_c = x[start:stop] if x.dtype == acc else x[start:stop].astype(acc)
            g = _logits(buf, x_c, lw_acc.T, bias, acc)
            g -= lse[start:stop, None]
            np.exp(g, out=g)                                  # softmax
            f_c = f[start:stop]
            g *= f_c[:, None]
            g[np.arange(stop - start), t[start:stop]] -= f_c  # minus the one-hot
            if need_b:
                gb += g.sum(axis=0)
            if need[0]:
                np.matmul(g, lw_acc, out=gx[start:stop])
            if need[1]:
                gw += np.matmul(g.T, x_c, out=tmp)
        grads = [None if gx is None else gx.astype(x.dtype, copy=False),
                 None if gw is None else gw.astype(lw.dtype, copy=False), None]
        if ctx.has_bias:
            grads.append(None if gb is None else gb.astype(b.dtype, copy=False))
        return tuple(grads) + (None,) * (len(ctx.next_functions) - len(grads))

    @staticmethod
    def backward_graph(ctx, grad):
        """The same gradient on Tensors (for ``create_graph=True``), chunk by chunk."""
        from ...autograd._double_backward import saved_tensors
        from ...ops.derivatives._common import const
        from ...ops.reduce import softmax
        from ...ops.shape import cat

        _check_once(ctx)
        x, lw, b, _ = saved_tensors(ctx)
        need = ctx.needs_input_grad
        need_b = ctx.has_bias and need[3]
        rows, num_classes = x.shape[0], lw.shape[0]
        dtype = x._data.dtype
        f = grad * const(ctx.rw[:rows], dtype)
        gxs, gw, gb = [], None, None
        for start, stop in _chunks(rows, ctx.chunk, ctx.t):
            x_c = x[start:stop]
            logits = x_c @ lw.t()
            if b is not None:
                logits = logits + b
            onehot = np.zeros((stop - start, num_classes), dtype)
            onehot[np.arange(stop - start), ctx.t[start:stop]] = 1
            g = (softmax(logits, dim=1) - const(onehot)) * f[start:stop].unsqueeze(1)
            if need[0]:
                gxs.append(g @ lw)
            if need[1]:
                gw = g.t() @ x_c if gw is None else gw + g.t() @ x_c
            if need_b:
                gb = g.sum(dim=0) if gb is None else gb + g.sum(dim=0)
        if rows == 0:  # no chunk ran: all gradients are zero
            zero = const(0.0, dtype)
            gxs, gw = [x * zero], lw * zero
            gb = None if b is None else b * zero
        grads = [cat(gxs) if need[0] else None, gw if need[1] else None, None]
        if ctx.has_bias:
            grads.append(gb if need_b else None)
        return tuple(grads) + (None,) * (len(ctx.next_functions) - len(grads))
