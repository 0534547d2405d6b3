"""Classification losses on logits and log-probabilities: cross entropy (fused log-softmax +
NLL, with class-index or class-probability targets) and the negative log-likelihood.

All three see the input as rows of class scores: ``(N, C)`` as it is, ``(C,)`` as one row,
``(N, C, d1, ...)`` with the class axis moved last and the rest flattened into rows.
"""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op
from ._reduce import out_of_range


def to_rows(x):
    """(rows, C) view or copy of an input whose class axis is 1 (0 for a 1-D input)."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x[None, :]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def from_rows(g, shape):
    """Undo ``to_rows`` for a gradient."""
    if len(shape) == 2:
        return g
    if len(shape) == 1:
        return g.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return np.moveaxis(g.reshape(moved), -1, 1)


def check_targets(t, num_classes, ignore_index):
    """Targets as a flat index array plus the mask of counted rows (None: all counted).

    Raises torch's IndexError for a target outside ``[0, C)`` that is not ``ignore_index``.
    """
    if t.size == 0:
        return t, None
    if not 0 <= ignore_index < num_classes:
        if not out_of_range(t, num_classes):
            return t, None                             # the common case: nothing ignored
    else:
        lo, hi = t.min(), t.max()
        if lo >= 0 and hi < num_classes and not (lo <= ignore_index <= hi):
            return t, None
    valid = t != ignore_index
    bad = (t < 0) | (t >= num_classes)
    bad &= valid
    if bad.any():
        raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")
    return np.where(valid, t, 0), valid


def row_factors(grad, rows, valid, reduction, denom):
    """d loss / d loss_i per row: the upstream gradient spread by the reduction."""
    if reduction == "none":
        f = grad.reshape(-1).astype(grad.dtype, copy=True)
    elif reduction == "sum":
        f = np.full(rows, grad, grad.dtype)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.full(rows, grad / denom, grad.dtype)
    if valid is not None:
        f = np.where(valid, f, 0).astype(f.dtype, copy=False)  # ignored rows: 0, even if nan
    return f


def reduce_rows(loss, valid, reduction, denom, out_shape):
    if valid is not None:
        loss = np.where(valid, loss, 0).astype(loss.dtype, copy=False)
    if reduction == "none":
        return loss.reshape(out_shape)
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(total)
    with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as torch
        return np.asarray(total / denom, loss.dtype)


def flat_positions(t, num_classes):
    """Where ``x2[i, t[i]]`` lies in the flattened ``(rows, C)`` scores: a flat ``take`` or
    in-place update there is twice as fast as indexing with ``(arange(rows), t)``."""
    if not num_classes:
        return t
    return np.arange(0, t.size * num_classes, num_classes) + t


def _denominator(t, valid, weight, dtype):
    """What 'mean' divides by: the summed weights of the counted targets (or their count)."""
    if weight is None:
        n = t.size if valid is None else int(np.count_nonzero(valid))
        return dtype.type(n)
    wt = weight[t]
    if valid is not None:
        wt = wt[valid]
    return wt.sum(dtype=dtype)


def _cross_entropy_node_name(ndim, reduction, label_smoothing):
    """torch's ``grad_fn`` name for a cross entropy with class-index targets."""
    if label_smoothing:
        return "AddBackward0"
    if reduction == "none" and ndim != 4:  # torch views the input as 4-D and the loss back
        return "ViewBackward0"
    return "NllLoss2DBackward0"


class CrossEntropy(Op):
    """loss_i = (1 - eps) * w[t_i] * (lse(x_i) - x_i[t_i]) + eps / C * sum_c w_c (lse(x_i) - x_ic)

    The backward is softmax minus the (smoothed, weighted) one-hot, scaled per row.
    """

    # torch's names for what users see as ``grad_fn``: its cross entropy is nll_loss after
    # log_softmax (one node here), NllLoss2D for (N, C, d1, ...), a sum with label smoothing
    _backward_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, *, target, weight=None, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        if x.ndim > 2 or label_smoothing:
            ctx.show_as(_cross_entropy_node_name(x.ndim, reduction, label_smoothing))
        x2 = to_rows(x)
        rows, num_classes = x2.shape
        t, valid = check_targets(target.reshape(-1), num_classes, ignore_index)
        pos = flat_positions(t, num_classes)
        # C order even for a transposed input: backward updates ``e`` through a flat view
        s = np.subtract(x2, x2.max(axis=1, keepdims=True), order="C")
        picked = s.take(pos)
        eps = label_smoothing
        if eps:
            ssum = s.sum(axis=1) if weight is None else s @ weight
        e = np.exp(s, out=s)
        se = e.sum(axis=1)
        lse = np.log(se)
        ctx.save_for_backward(e, se)
        ctx.t, ctx.pos, ctx.valid, ctx.weight = t, pos, valid, weight
        ctx.reduction, ctx.eps = reduction, eps
        ctx.x_shape = x.shape
        if weight is None and valid is None and not eps and reduction != "none" and rows:
            # the common case: plain mean (or sum) of -log p[t]
            total = lse.sum() - picked.sum()
            ctx.denom = x.dtype.type(rows) if reduction == "mean" else None
            return np.asarray(total / rows if reduction == "mean" else total, x.dtype)
        nll = lse - picked                               # -log p[t]
        if weight is not None:
            nll *= weight[t]
        loss = nll
        if eps:
            wsum = num_classes if weight is None else weight.sum()
            smooth = lse * wsum - ssum                  # -sum_c w_c log p_c
            if x.dtype == np.float16 and reduction != "none":
                ctx.denom = _denominator(t, valid, weight, x.dtype) if reduction == "mean" \
                    else None
                return _half_smoothed(nll, smooth, valid, ctx.denom, eps / num_classes, eps)
            loss = (1.0 - eps) * nll + (eps / num_classes) * smooth
            loss = loss.astype(x.dtype, copy=False)
        denom = _denominator(t, valid, weight, x.dtype) if reduction == "mean" else None
        ctx.denom = denom
        return reduce_rows(loss, valid, reduction, denom, target.shape)

    @staticmethod
    def backward(ctx, grad):
        e, se = ctx.saved_tensors
        rows, num_classes = e.shape
        t, weight, eps = ctx.t, ctx.weight, ctx.eps
        if weight is None and ctx.valid is None and not eps and ctx.reduction != "none":
            coef = grad / ctx.denom if ctx.reduction == "mean" else grad
            gx = e * (coef / se)[:, None]                # softmax * coef
            gx.reshape(-1)[ctx.pos] -= coef
            return from_rows(gx, ctx.x_shape)
        f = row_factors(grad, rows, ctx.valid, ctx.reduction, ctx.denom)
        if weight is None:
            onehot_coef = f * (1.0 - eps) if eps else f
            p_coef = f
        else:
            wt = weight[t]
            onehot_coef = f * ((1.0 - eps) * wt)
            p_coef = onehot_coef + f * (eps / num_classes * weight.sum()) if eps else onehot_coef
        gx = e * (p_coef / se)[:, None]                  # softmax, scaled per row
        gx.reshape(-1)[ctx.pos] -= onehot_coef
        if eps:
            k = f * (eps / num_classes)
            gx -= k[:, None] if weight is None else np.outer(k, weight)
        return from_rows(gx.astype(e.dtype, copy=False), ctx.x_shape)


def _half_smoothed(nll, smooth, valid, denom, share, eps):
    """torch's reduced float16 loss with label smoothing: the NLL and the smoothing term
    are reduced apart, each sum rounded to float16 (a smoothing sum past 65504 is inf), then
    ``(1 - eps) * nll + smooth * eps / C``."""
    if valid is not None:
        nll, smooth = np.where(valid, nll, 0), np.where(valid, smooth, 0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        n, s = (np.float32(np.float16(a.sum(dtype=np.float32))) for a in (nll, smooth))
        if denom is not None:
            n, s = np.float16(n / np.float32(denom)), np.float16(s / np.float32(denom))
        return np.asarray(np.float16(np.float32(n) * (1.0 - eps))
                          + np.float16(np.float32(s) * share), np.float16)


class SoftCrossEntropy(Op):
    """loss_i = -sum_c w_c q_ic log softmax(x_i)_c, q = (1 - eps) * target + eps / C"""

    _backward_name = "NegBackward0"  # torch's last op: a negated sum (then / N for "mean")

    @staticmethod
    def forward(ctx, x, target, *, weight=None, reduction="mean", label_smoothing=0.0):
        if reduction == "mean":
            ctx.show_as("DivBackward1")
        x2 = to_rows(x)
        q = to_rows(target)
        rows, num_classes = x2.shape
        s = x2 - x2.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        eps = label_smoothing
        if eps:
            q = q * (1.0 - eps) + eps / num_classes
        wq = q if weight is None else q * weight
        loss = -np.einsum("ij,ij->i", wq, logp)
        ctx.save_for_backward(logp, wq)
        ctx.reduction, ctx.eps, ctx.x_shape, ctx.weight = reduction, eps, x.shape, weight
        out_shape = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
        return reduce_rows(loss, None, reduction, x.dtype.type(rows), out_shape)

    @staticmethod
    def backward(ctx, grad):
        logp, wq = ctx.saved_tensors
        rows = logp.shape[0]
        f = row_factors(grad, rows, None, ctx.reduction, rows)
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = np.exp(logp) * (wq.sum(axis=1) * f)[:, None]
            gx -= wq * f[:, None]
            gx = from_rows(gx.astype(logp.dtype, copy=False), ctx.x_shape)
        if ctx.needs_input_grad[1]:
            gt = logp * (-f)[:, None]
            if ctx.weight is not None:
                gt *= ctx.weight
            if ctx.eps:
                gt *= 1.0 - ctx.eps
            gt = from_rows(gt.astype(logp.dtype, copy=False), ctx.x_shape)
        return gx, gt


class NLLLoss(Op):
    """loss_i = -w[t_i] * x_i[t_i] on log-probabilities x"""

    _backward_name = "NllLossBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, target, weight=None, ignore_index=-100, reduction="mean"):
        if x.ndim > 2:  # torch computes (N, C, d1, ...) inputs with its 2-D kernel
            ctx.show_as("NllLoss2DBackward0")
        x2 = to_rows(x)
        rows, num_classes = x2.shape
        t, valid = check_targets(target.reshape(-1), num_classes, ignore_index)
        loss = -x2[np.arange(rows), t]
        if weight is not None:
            loss *= weight[t]
        denom = _denominator(t, valid, weight, x.dtype) if reduction == "mean" else None
        # saved, so that a second backward after the graph was freed raises as torch's
        ctx.save_for_backward(t)
        ctx.t, ctx.valid, ctx.weight, ctx.denom = t, valid, weight, denom
        ctx.reduction, ctx.x_shape, ctx.dtype = reduction, x.shape, x.dtype
        return reduce_rows(loss.astype(x.dtype, copy=False), valid, reduction, denom,
                           target.shape)

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        rows = t.size
        num_classes = ctx.x_shape[1] if len(ctx.x_shape) > 1 else ctx.x_shape[0]
        f = row_factors(grad, rows, ctx.valid, ctx.reduction, ctx.denom)
        if ctx.weight is not None:
            f *= ctx.weight[t]
        gx = np.zeros((rows, num_classes), ctx.dtype)
        gx[np.arange(rows), t] = -f
        return from_rows(gx, ctx.x_shape)
