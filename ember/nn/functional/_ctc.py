"""Connectionist temporal classification loss (torch.nn.functional.ctc_loss).

``CtcLoss`` runs the log-space forward (alpha) recursion of Graves et al. (2006) over the
extended targets ``blank, l1, blank, l2, ..., blank``, all samples at once (one step per
time step); its backward runs the beta recursion the same way and gives torch's gradient
``exp(lp) - exp(log sum_s alpha beta + nll - lp)``. That is the gradient with respect to
the *logits* of a log-softmax: correct after a ``log_softmax`` (the added ``exp(lp)``
cancels in log_softmax's backward), but not the derivative with respect to arbitrary
``log_probs``, exactly as torch. The recursions run in float64 whatever the input dtype.

The reductions are torch's composition: ``where`` for ``zero_infinity``, then
``(loss / target_lengths.clamp_min(1)).mean()`` or ``loss.sum()``.
"""
from __future__ import annotations

import numpy as np

from ... import _creation
from ..._tensor import Tensor
from ...autograd.function import Op
from ...ops._shape_utils import type_name
from ...ops.clamp import where
from .. import _reduction

__all__ = ["ctc_loss"]

_NEG_INF = -np.inf


def _logaddexp3(a, b, c):
    """log(e^a + e^b + e^c) with torch's guard: an all -inf triple gives -inf."""
    m = np.maximum(np.maximum(a, b), c)
    m = np.where(m == _NEG_INF, 0.0, m)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(a - m) + np.exp(b - m) + np.exp(c - m)) + m


def _shift(a, k):
    """``a`` moved ``k`` places along the last axis (right for k > 0), filled with -inf."""
    out = np.full_like(a, _NEG_INF)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def _extended(lp, ext, tl):
    """lp at each extended position (T, N, L), the positions inside each target (N, L), and
    where s may also come from s - 2 (a label unlike the one two places before)."""
    lpe = np.take_along_axis(lp, np.broadcast_to(ext, lp.shape[:1] + ext.shape), axis=2)
    valid = np.arange(ext.shape[1]) < (2 * tl + 1)[:, None]
    skip = np.zeros_like(valid)
    skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    return lpe, valid, skip


def _alpha(lpe, valid, skip, tl):
    """alpha[t, b, s]: log prob of the paths of t + 1 steps that end at position s."""
    t_max, n, width = lpe.shape
    alpha = np.full((max(t_max, 1), n, width), _NEG_INF)
    if t_max:
        alpha[0, :, 0] = lpe[0, :, 0]
        if width > 1:
            alpha[0, :, 1] = np.where(tl > 0, lpe[0, :, 1], _NEG_INF)
    for t in range(1, t_max):
        prev = alpha[t - 1]
        new = _logaddexp3(prev, _shift(prev, 1), np.where(skip, _shift(prev, 2), _NEG_INF))
        alpha[t] = np.where(valid, new + lpe[t], _NEG_INF)
    return alpha


def _beta(lpe, valid, skip, il, tl):
    """beta[t, b, s]: log prob of emitting the rest of target b from position s at step t
    (lp[t] included), up to each input's last step."""
    t_max, n, width = lpe.shape
    rows = np.arange(n)
    last = np.full((n, width), _NEG_INF)  # beta at each input's last step
    last[rows, 2 * tl] = lpe[il - 1, rows, 2 * tl]
    has = (tl > 0) & (il > 0)
    last[rows[has], 2 * tl[has] - 1] = lpe[il[has] - 1, rows[has], 2 * tl[has] - 1]
    beta = np.full((t_max, n, width), _NEG_INF)
    for t in range(t_max - 1, -1, -1):
        rec = beta[t]  # -inf
        if t + 1 < t_max:
            nxt = beta[t + 1]
            rec = _logaddexp3(nxt, _shift(nxt, -1), _shift(np.where(skip, nxt, _NEG_INF), -2))
            rec = np.where(valid, rec + lpe[t], _NEG_INF)
        beta[t] = np.where((t == il - 1)[:, None], last,
                           np.where((t < il - 1)[:, None], rec, _NEG_INF))
    return beta


def _logsumexp_by_label(ab, ext, c):
    """(T, N, C): log sum of exp(ab[t, b, s]) over the positions s labelled c."""
    t_max, n, width = ab.shape
    idx = ((np.arange(t_max)[:, None, None] * n + np.arange(n)[None, :, None]) * c
           + ext[None]).ravel()
    ab = ab.ravel()
    top = np.full(t_max * n * c, _NEG_INF)  # each label's own maximum: exact in log space
    np.maximum.at(top, idx, ab)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(ab > _NEG_INF, np.exp(ab - top[idx]), 0.0)
        total = np.bincount(idx, weights=w, minlength=t_max * n * c)
        return (np.log(total) + top).reshape(t_max, n, c)


class CtcLoss(Op):
    """nll_b = -log sum over the alignments pi of target b of prod_t exp(lp[t, b, pi_t])"""

    _backward_name = "CtcLossBackward0"

    @staticmethod
    def forward(ctx, log_probs, *, ext, input_lengths, target_lengths, zero_infinity):
        # ext: (N, 2 S + 1) extended targets; lengths: (N,) int64
        il, tl = input_lengths, target_lengths
        alpha = _alpha(*_extended(log_probs.astype(np.float64), ext, tl), tl)
        last = alpha[np.maximum(il - 1, 0), np.arange(len(il))]  # each input's last step
        end = np.take_along_axis(last, (2 * tl)[:, None], axis=1)[:, 0]
        before = np.take_along_axis(last, np.maximum(2 * tl - 1, 0)[:, None], axis=1)[:, 0]
        nll = -np.logaddexp(end, np.where(tl > 0, before, _NEG_INF))
        # an empty input explains only an empty target
        nll = np.where(il == 0, np.where(tl == 0, -0.0, np.inf), nll)
        ctx.ext, ctx.il, ctx.tl, ctx.zero_infinity = ext, il, tl, zero_infinity
        ctx.alpha, ctx.nll = alpha, nll
        ctx.save_for_backward(log_probs)
        return nll.astype(log_probs.dtype)

    @staticmethod
    def backward(ctx, grad):
        (log_probs,) = ctx.saved_tensors
        il, nll = ctx.il, ctx.nll
        lp = log_probs.astype(np.float64)
        t_max = lp.shape[0]
        if t_max == 0:
            return np.zeros_like(log_probs)
        beta = _beta(*_extended(lp, ctx.ext, ctx.tl), il, ctx.tl)
        lcab = _logsumexp_by_label(ctx.alpha[:t_max] + beta, ctx.ext, lp.shape[2])
        with np.errstate(invalid="ignore"):
            g = (np.exp(lp) - np.exp(lcab + nll[:, None] - lp)) * grad[:, None]
        g[np.arange(t_max)[:, None] >= il] = 0.0  # past each input's end
        if ctx.zero_infinity:
            g[:, nll == np.inf] = 0.0
        return g.astype(log_probs.dtype)


def _lengths(value, name):
    """Lengths (a tensor of integers, a sequence or an int) as a 1-D int64 array."""
    if isinstance(value, Tensor):
        if value.dtype.is_floating_point or value.dtype.is_complex or value._data.dtype == bool:
            raise RuntimeError(f"{name} must be integral")
        return value._data.astype(np.int64).reshape(-1)
    return np.asarray(value, dtype=np.int64).reshape(-1)


def _check_length_lists(input_lengths, target_lengths):
    """torch's argument parser on lengths given as sequences: both must hold ints (a bad
    ``input_lengths`` fails every overload, a bad ``target_lengths`` the matching one)."""
    def first_bad(value):
        if isinstance(value, (list, tuple)):
            return next((i for i, v in enumerate(value)
                         if not isinstance(v, (int, np.integer))), None)
        return None

    kinds = ["Tensor" if isinstance(v, Tensor) else type(v).__name__
             if type(v).__module__ == "builtins" else f"{type(v).__module__}.{type(v).__name__}"
             for v in (input_lengths, target_lengths)]
    # the two overloads: both lengths sequences of ints, or both tensors
    seqs = [isinstance(v, (list, tuple)) for v in (input_lengths, target_lengths)]
    if first_bad(input_lengths) is not None or not (
            all(seqs) or kinds == ["Tensor", "Tensor"]):
        raise TypeError(f"ctc_loss() received an invalid combination of arguments - got (Tensor, "
                        f"Tensor, {kinds[0]}, {kinds[1]}, int, int, bool), but expected one of:")
    pos = first_bad(target_lengths)
    if pos is not None:
        kind = type(target_lengths[pos]).__name__
        raise TypeError(f"ctc_loss(): argument 'target_lengths' failed to unpack the object at "
                        f"pos {pos + 1} with error \"type must be tuple of ints,but got {kind}\"")


def _check(where, value, low, high, name):
    if value < low:
        raise RuntimeError(f"Expected {name} to have value at least {low}, but got value "
                           f"{value} (while checking arguments for {where})")
    if high is not None and value > high:
        raise RuntimeError(f"Expected {name} to have value at most {high}, but got value "
                           f"{value} (while checking arguments for {where})")


def _extended_targets(targets, il, tl, n, t_max, blank, num_labels):
    """torch's checks of ctc_loss_allocate_outputs, then the (N, 2 S + 1) extended targets."""
    where = "ctc_loss_allocate_outputs"
    arg = "argument #2 'targets'"
    if not 0 <= blank < num_labels:
        raise RuntimeError("blank must be in label range")
    if il.size != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.size != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    tg = targets._data
    if tg.dtype.kind != "i":
        tg = tg.astype(np.int64)
    for v in tl:
        _check(where, int(v), 0, None, "target_lengths")
    s_max = int(tl.max(initial=0))
    if tg.ndim == 1:  # concatenated: sample b's target starts after the earlier ones
        if tg.shape[0] != tl.sum():
            raise RuntimeError(f"Expected tensor to have size {tl.sum()} at dimension 0, but "
                               f"got size {tg.shape[0]} for {arg} (while checking arguments "
                               f"for {where})")
        starts = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        pos = starts[:, None] + np.arange(s_max)
        padded = tg[np.minimum(pos, max(tg.shape[0] - 1, 0))] if tg.size else \
            np.zeros((n, s_max), np.int64)
    else:
        if tg.shape[0] != n:
            raise RuntimeError(f"Expected tensor to have size {n} at dimension 0, but got size "
                               f"{tg.shape[0]} for {arg} (while checking arguments for {where})")
        if tg.shape[1] < s_max:
            raise RuntimeError(f"Expected tensor to have size at least {s_max} at dimension 1, "
                               f"but got size {tg.shape[1]} for {arg} (while checking arguments "
                               f"for {where})")
        padded = tg[:, :s_max]
    for v in il:
        _check(where, int(v), 0, t_max, "input_lengths")
    padded = np.where(np.arange(s_max) < tl[:, None], padded, blank).astype(np.int64)
    ext = np.full((n, 2 * s_max + 1), blank, np.int64)
    ext[:, 1::2] = padded
    return ext


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The connectionist temporal classification loss: ``-log p(target | input)`` summed
    over every alignment of the target to the input (labels separated and padded by
    ``blank``, repeats collapsed).

    Args:
        log_probs: ``(T, N, C)`` or unbatched ``(T, C)`` log-probabilities (e.g. from
            ``log_softmax``), float.
        targets: ``(N, S)`` padded targets, or the ``(sum(target_lengths),)`` targets laid
            end to end; class indices other than ``blank``.
        input_lengths: ``(N,)`` lengths of the inputs (each ``<= T``), a tensor of integers
            or a sequence.
        target_lengths: ``(N,)`` lengths of the targets.
        blank: the blank label (default 0).
        reduction: ``'none'`` (``(N,)`` losses), ``'mean'`` (each loss divided by its target
            length, then the batch mean) or ``'sum'``.
        zero_infinity: replace infinite losses (inputs too short for their targets) and
            their gradients by zero.

    Returns:
        The loss; its gradient is torch's (see the module notes).

    Raises:
        ValueError: an unknown ``reduction``.
        RuntimeError: lengths that are not integers, out of range or of the wrong size; a
            ``blank`` outside ``[0, C)``; targets of the wrong size.
    """
    _reduction.check(reduction)
    _check_length_lists(input_lengths, target_lengths)
    il = _lengths(input_lengths, "input_lengths")
    tl = _lengths(target_lengths, "target_lengths")
    if not log_probs.dtype.is_floating_point:
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for "
                                  f"'{type_name(log_probs._data.dtype)}'")
    batched = log_probs.dim() == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    t_max, n, num_labels = lp.shape
    ext = _extended_targets(targets, il, tl, n, t_max, blank, num_labels)
    res = CtcLoss.apply(lp, ext=ext, input_lengths=il, target_lengths=tl,
                        zero_infinity=bool(zero_infinity))
    if zero_infinity:
        res = where(res == float("inf"), _creation.zeros((), dtype=res.dtype), res)
    if reduction == "mean":
        lengths = _creation.tensor(tl, dtype=res.dtype).clamp_min(1)
        return (res / lengths).mean()
    if reduction == "sum":
        return res.sum()
    return res if batched else res.squeeze(0)


ctc_loss.__module__ = "ember.nn.functional"
