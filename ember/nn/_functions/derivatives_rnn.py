"""Tensor-level backward formulas (``create_graph=True``) of the recurrent sequence ops in
``recurrent.py``: ``LSTMSequence``, ``GRUSequence`` and ``RNNSequence``. See
``ember/ops/derivatives`` for how the formulas work.

A sequence op is one node for a whole sequence, and forward saves only what its NumPy
backward needs: the gates after their activations and the states (not the input
projections ``gi``, and not GRU's ``b_hh``). So forward saves nothing more for these
formulas; each one first replays the time loop with ember ops, to put every step's gates
and states on the graph, then runs backpropagation through time on them as the NumPy
backward does:

- a gate comes from an op that returns the activation forward saved, with the derivative of
  that activation written in terms of its output (``s (1 - s)``, ``1 - t^2``, ``out > 0``),
  as sigmoid's, tanh's and relu's own formulas are. Its input, ``gi[t] + h @ W_hh.T``, only
  links the gate to ``gi``, ``h`` and ``W_hh`` on the graph: its value is never read, so a
  zero stand-in for ``gi`` (and for ``b_hh``, which enters linearly too) serves;
- the states, cells and GRU's ``W_hn h + b_hn`` are recomputed from those gates, or pinned
  to their saved value (``e - e.detach() + value``: ``e``'s derivatives, the saved value).
"""
from __future__ import annotations

import numpy as np

from ...ops.activation import Relu, Sigmoid, Tanh, tanh
from ...ops.clamp import where
from ...ops.derivatives._common import const, formula, saved_tensors, stand_in
from ...ops.shape import cat, stack
from .recurrent import GRUSequence, LSTMSequence, RNNSequence, _steps


# --- activations whose output forward already computed -------------------------------------
class _OutputGiven:
    """Forward of an activation whose output ``out`` is already known: ``x`` brings only its
    graph; backward is the activation's own, written in terms of its output."""

    @staticmethod
    def forward(ctx, x, *, out):
        ctx.save_for_backward(out)
        return out


class _SigmoidOf(_OutputGiven, Sigmoid):
    """z = sigmoid(x) with z given (``out``)"""

    _backward_name = "SigmoidBackward0"


class _TanhOf(_OutputGiven, Tanh):
    """z = tanh(x) with z given (``out``)"""

    _backward_name = "TanhBackward0"


class _ReluOf(_OutputGiven, Relu):
    """z = max(x, 0) with z given (``out``)"""

    _backward_name = "ReluBackward0"


def _given(op, x, out):
    """``op`` applied to ``x``, whose value is ``out`` (a fresh copy: the saved one stays)."""
    return op.apply(x, out=np.array(out))


def _pinned(e, value):
    """A Tensor holding ``value`` with ``e``'s derivatives."""
    return e - e.detach() + const(value)


def _zeros(ctx, i, shape, dtype):
    """Input ``i`` on the graph, valued 0: for an input whose value no result reads."""
    return stand_in(ctx, i, np.zeros(shape, dtype))


# --- what the NumPy backwards share ---------------------------------------------------------
class _Masks:
    """A sequence's mask as constants (``real``, ``pad`` per step), or nothing to do."""

    def __init__(self, mask, dtype):
        self.on = mask is not None
        if self.on:
            self.real = [const(m.astype(dtype)) for m in mask]
            self.pad = [const((~m).astype(dtype)) for m in mask]
            self.is_real = [const(m) for m in mask]

    def keep(self, t, new, old):
        """The new state where step ``t`` is real, the old one where it is padding."""
        return where(self.is_real[t], new, old) if self.on else new


def _arriving(dh, gys, t, masks):
    """``recurrent._arriving`` out of place: (this step's ``dh``, the part passing a pad)."""
    passed = dh * masks.pad[t] if masks.on else None
    if gys is not None:
        dh = dh + gys[t]
    if masks.on:
        dh = dh * masks.real[t]
    return dh, passed


def _start(g, shape, dtype):
    return g if g is not None else const(np.zeros(shape, dtype))


def _summed_outer(ds, h_prevs):
    """``sum_t ds[t].T @ h_prevs[t]`` as one product (both lists in time order)."""
    d, h = stack(ds, 0), stack(h_prevs, 0)
    return d.reshape(-1, d.shape[-1]).t() @ h.reshape(-1, h.shape[-1])


# --- LSTM ------------------------------------------------------------------------------------
@formula(LSTMSequence)
def _lstm_sequence(ctx, g_ys, g_h, g_c):
    _, acts, hs, cs, _ = ctx.saved_tensors
    w = saved_tensors(ctx)[0]
    length, batch, four = acts.shape
    hid = four // 4
    gis = _zeros(ctx, 0, acts.shape, acts.dtype).unbind(0)
    h, c = stand_in(ctx, 1, hs[0]), stand_in(ctx, 2, cs[0])
    masks = _Masks(ctx.mask, acts.dtype)
    steps = list(_steps(length, ctx.reverse))
    wt = w.t()
    rec = [None] * length
    for t in steps:
        a = acts[t]
        pre = (gis[t] + h @ wt).chunk(4, 1)
        i, f, o = (_given(_SigmoidOf, pre[j], a[:, j * hid:(j + 1) * hid]) for j in (0, 1, 3))
        g = _given(_TanhOf, pre[2], a[:, 2 * hid:3 * hid])
        c_new = f * c + i * g
        tc = tanh(c_new)
        rec[t] = (i, f, g, o, tc, c, h)
        h, c = masks.keep(t, o * tc, h), masks.keep(t, c_new, c)

    dh, dc = _start(g_h, (batch, hid), acts.dtype), _start(g_c, (batch, hid), acts.dtype)
    gys = g_ys.unbind(0) if g_ys is not None else None
    dgates = [None] * length
    for t in reversed(steps):
        i, f, g, o, tc, c_prev, _ = rec[t]
        dh, dh_pad = _arriving(dh, gys, t, masks)
        if masks.on:
            dc_pad, dc = dc * masks.pad[t], dc * masks.real[t]
        dc = dc + dh * o * (1 - tc * tc)
        d = cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g),
                 dh * tc * o * (1 - o)], 1)
        dgates[t] = d
        dh, dc = d @ w, dc * f
        if masks.on:
            dh, dc = dh + dh_pad, dc + dc_pad
    dw = _summed_outer(dgates, [r[6] for r in rec]) if ctx.needs_input_grad[3] else None
    return stack(dgates, 0), dh, dc, dw


# --- GRU -------------------------------------------------------------------------------------
@formula(GRUSequence)
def _gru_sequence(ctx, g_ys, g_h):
    _, acts, ghn, hs = ctx.saved_tensors
    w = saved_tensors(ctx)[0]
    length, batch, three = acts.shape
    hid = three // 3
    gis = _zeros(ctx, 0, acts.shape, acts.dtype).unbind(0)
    b = _zeros(ctx, 3, (three,), acts.dtype) if ctx.has_bias else None
    h = stand_in(ctx, 1, hs[0])
    masks = _Masks(ctx.mask, acts.dtype)
    steps = list(_steps(length, ctx.reverse))
    wt = w.t()
    rec = [None] * length
    for t in steps:
        a = acts[t]
        gh = h @ wt if b is None else h @ wt + b
        i_r, i_z, i_n = gis[t].chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r = _given(_SigmoidOf, i_r + h_r, a[:, :hid])
        z = _given(_SigmoidOf, i_z + h_z, a[:, hid:2 * hid])
        h_n = _pinned(h_n, ghn[t])
        n = _given(_TanhOf, i_n + r * h_n, a[:, 2 * hid:])
        rec[t] = (r, z, n, h_n, h)
        h = masks.keep(t, n + z * (h - n), h)

    dh = _start(g_h, (batch, hid), acts.dtype)
    gys = g_ys.unbind(0) if g_ys is not None else None
    dgi, dgh = [None] * length, [None] * length
    for t in reversed(steps):
        r, z, n, h_n, h_prev = rec[t]
        dh, dh_pad = _arriving(dh, gys, t, masks)
        dn = dh * (1 - z) * (1 - n * n)
        drz = [dn * h_n * r * (1 - r), dh * (h_prev - n) * z * (1 - z)]
        dgi[t], dgh[t] = cat(drz + [dn], 1), cat(drz + [dn * r], 1)
        dh = dh * z + dgh[t] @ w
        if masks.on:
            dh = dh + dh_pad
    need = ctx.needs_input_grad
    dw = _summed_outer(dgh, [r[4] for r in rec]) if need[2] else None
    db = stack(dgh, 0).reshape(-1, three).sum(0) if ctx.has_bias and need[3] else None
    return stack(dgi, 0), dh, dw, db


# --- Elman RNN -------------------------------------------------------------------------------
@formula(RNNSequence)
def _rnn_sequence(ctx, g_ys, g_h):
    _, hs = ctx.saved_tensors
    w = saved_tensors(ctx)[0]
    length, batch, hid = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
    gis = _zeros(ctx, 0, (length, batch, hid), hs.dtype).unbind(0)
    h = stand_in(ctx, 1, hs[0])
    masks = _Masks(ctx.mask, hs.dtype)
    steps = list(_steps(length, ctx.reverse))
    act = _ReluOf if ctx.relu else _TanhOf
    wt = w.t()
    rec = [None] * length
    for k, t in enumerate(steps):
        # at a padded step hs holds the kept state, not the activation: masked out below
        out = _given(act, gis[t] + h @ wt, hs[k + 1])
        rec[t] = (out, h)
        h = masks.keep(t, out, h)

    dh = _start(g_h, (batch, hid), hs.dtype)
    gys = g_ys.unbind(0) if g_ys is not None else None
    dpre = [None] * length
    for t in reversed(steps):
        out = rec[t][0]
        dh, dh_pad = _arriving(dh, gys, t, masks)
        deriv = const(out._data > 0, hs.dtype) if ctx.relu else 1 - out * out
        dpre[t] = dh * deriv
        dh = dpre[t] @ w
        if masks.on:
            dh = dh + dh_pad
    dw = _summed_outer(dpre, [r[1] for r in rec]) if ctx.needs_input_grad[2] else None
    return stack(dpre, 0), dh, dw
