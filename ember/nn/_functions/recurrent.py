"""A whole sequence of one recurrent layer (one direction) as one node: the time loop runs
in NumPy forward, and backward runs it in reverse (backpropagation through time).

Each op takes the input projections of every step, computed ahead with one ``linear``
(``gi[t] = x[t] @ W_ih.T + b_ih``, plus ``b_hh`` where it only ever appears summed), and
adds the hidden-to-hidden product step by step. torch's gate orders: LSTM ``i, f, g, o``,
GRU ``r, z, n``. Backward returns the gradients of the projections (the ``linear`` before
the op takes them on to ``x``, ``W_ih`` and the biases), of the initial state and of
``W_hh``.

Variable lengths (a ``PackedSequence``): the option ``mask``, a bool array ``(L, N, 1)``,
is False at a sequence's padded steps. There the state passes through unchanged (so the final
state is that of each sequence's last real step, and the reverse direction starts at it) and
the output is zero; backward passes the state's gradient straight through those steps.
"""
from __future__ import annotations

import numpy as np

from ...autograd.function import Op


def _sigmoid_(a):
    """``a`` replaced by sigmoid(a) = 1 / (1 + exp(-a)) (NumPy's exp is about twice as fast as
    its tanh; exp overflowing to inf gives the right limit, 0, and callers silence the
    overflow warning)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)
    return a


def _steps(length, reverse):
    return range(length - 1, -1, -1) if reverse else range(length)


def _masked_out(ys, mask):
    """The outputs in time order, zero at padded steps, as a fresh contiguous array."""
    return np.ascontiguousarray(ys) if mask is None else ys * mask


def _keep(mask, dtype):
    """``(mask, not mask)`` as ``dtype`` arrays to scale gradients by, or ``(None, None)``."""
    if mask is None:
        return None, None
    return mask.astype(dtype), (~mask).astype(dtype)


def _arriving(dh, g_ys, t, real, pad):
    """Add step ``t``'s output gradient into ``dh`` (in place) and keep only its real rows;
    return the part that passes a padded step unchanged (None without a mask)."""
    passed = dh * pad[t] if real is not None else None
    if g_ys is not None:
        dh += g_ys[t]
    if real is not None:
        dh *= real[t]
    return passed


class LSTMSequence(Op):
    """c' = f * c + i * g, h' = o * tanh(c'), gates = gi[t] + h @ W_hh.T

    Backward, per step from the last: ``dc = dc' + dh' * o * (1 - tanh(c')^2)``;
    ``do = dh' * tanh(c')``, ``di = dc * g``, ``df = dc * c``, ``dg = dc * i``, each
    through its activation's derivative; ``dh = dgates @ W_hh``, ``dc = dc * f``,
    ``dW_hh += dgates.T @ h``.
    """

    _backward_name = "MkldnnRnnLayerBackward0"  # torch's CPU LSTM: one node per layer too
    handles_missing_grads = True

    @staticmethod
    def forward(ctx, gi, h0, c0, w_hh, *, reverse=False, mask=None):
        length, batch, four_h = gi.shape
        hidden = four_h // 4
        acts = np.empty_like(gi)                        # i, f, g, o after activation
        hs = np.empty((length + 1, batch, hidden), gi.dtype)   # hs[t + 1]: output of step t
        cs = np.empty((length + 1, batch, hidden), gi.dtype)   # cs[t + 1]: cell after step t
        tcs = np.empty((length, batch, hidden), gi.dtype)      # tanh of each new cell
        tanh_g = np.empty((batch, hidden), gi.dtype)
        hs[0], cs[0] = h0, c0
        h, c = hs[0], cs[0]
        w_t = w_hh.T
        with np.errstate(over="ignore"):  # exp(-x) may overflow to inf: sigmoid 0
            for k, t in enumerate(_steps(length, reverse)):
                a = acts[t]
                np.matmul(h, w_t, out=a)
                a += gi[t]
                i, f, g, o = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:3 * hidden], \
                    a[:, 3 * hidden:]
                np.tanh(g, out=tanh_g)
                _sigmoid_(a)                                  # i, f, o (g's slice is put back)
                g[...] = tanh_g
                c_new = cs[k + 1]
                np.multiply(f, c, out=c_new)
                c_new += i * g
                tc = tcs[t]
                np.tanh(c_new, out=tc)
                h_new = hs[k + 1]
                np.multiply(o, tc, out=h_new)
                if mask is not None:                    # padded step: keep the state
                    np.copyto(c_new, c, where=~mask[t])
                    np.copyto(h_new, h, where=~mask[t])
                h, c = h_new, c_new
        ys = hs[1:] if not reverse else hs[1:][::-1]
        ctx.save_for_backward(w_hh, acts, hs, cs, tcs)
        if ctx.needs_input_grad:
            ctx.reverse, ctx.mask = reverse, mask
        return _masked_out(ys, mask), h.copy(), c.copy()

    @staticmethod
    def backward(ctx, g_ys, g_h, g_c):
        w_hh, acts, hs, cs, tcs = ctx.saved_tensors
        length, batch, four_h = acts.shape
        hidden = four_h // 4
        dh = np.zeros((batch, hidden), acts.dtype) if g_h is None else g_h.copy()
        dc = np.zeros((batch, hidden), acts.dtype) if g_c is None else g_c.copy()
        # every step's activation derivatives at once: s(1 - s) for i, f, o; 1 - g^2 for g
        deriv = 1 - acts
        deriv *= acts
        g_all = acts[:, :, 2 * hidden:3 * hidden]
        np.multiply(g_all, g_all, out=deriv[:, :, 2 * hidden:3 * hidden])
        np.subtract(1, deriv[:, :, 2 * hidden:3 * hidden], out=deriv[:, :, 2 * hidden:3 * hidden])
        o_dtanh = 1 - tcs * tcs                           # d c' / d h' = o * (1 - tanh(c')^2)
        o_dtanh *= acts[:, :, 3 * hidden:]
        dgi = np.empty_like(acts)
        steps = list(_steps(length, ctx.reverse))
        real, pad = _keep(ctx.mask, acts.dtype)
        for k in range(length - 1, -1, -1):
            t = steps[k]
            dh_pad = _arriving(dh, g_ys, t, real, pad)
            if real is not None:
                dc_pad = dc * pad[t]
                dc *= real[t]
            a, d = acts[t], dgi[t]
            np.multiply(dh, tcs[t], out=d[:, 3 * hidden:])           # do
            dh *= o_dtanh[t]
            dc += dh
            np.multiply(dc, a[:, 2 * hidden:3 * hidden], out=d[:, :hidden])   # di
            np.multiply(dc, cs[k], out=d[:, hidden:2 * hidden])              # df
            np.multiply(dc, a[:, :hidden], out=d[:, 2 * hidden:3 * hidden])  # dg
            d *= deriv[t]
            dh = d @ w_hh
            dc *= a[:, hidden:2 * hidden]
            if real is not None:
                dh += dh_pad
                dc += dc_pad
        return dgi, dh, dc, _summed_outer(dgi, hs[:-1], ctx.reverse)


def _summed_outer(d, h_prev, reverse):
    """``sum_t d[t].T @ h_prev(t)`` as one product, ``h_prev`` in step order (reversed back to
    time order for the reverse direction)."""
    if reverse:
        h_prev = h_prev[::-1]
    return d.reshape(-1, d.shape[-1]).T @ h_prev.reshape(-1, h_prev.shape[-1])


class GRUSequence(Op):
    """r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r * gh_n),
    h' = n + z * (h - n), with gh = h @ W_hh.T + b_hh

    Backward, per step from the last: ``dn = dh' * (1 - z)``, ``dz = dh' * (h - n)``,
    through the activations to ``dgi``; ``dgh`` is ``dgi`` but for the n gate, which
    takes ``dn_pre * r``; ``dh = dh' * z + dgh @ W_hh``, ``dW_hh += dgh.T @ h``.
    """

    handles_missing_grads = True

    @staticmethod
    def forward(ctx, gi, h0, w_hh, b_hh=None, *, reverse=False, mask=None):
        length, batch, three_h = gi.shape
        hidden = three_h // 3
        acts = np.empty_like(gi)                         # r, z, n after activation
        ghn = np.empty((length, batch, hidden), gi.dtype)      # W_hn h + b_hn, kept for dr
        hs = np.empty((length + 1, batch, hidden), gi.dtype)
        hs[0] = h0
        h = hs[0]
        w_t = w_hh.T
        with np.errstate(over="ignore"):  # exp(-x) may overflow to inf: sigmoid 0
            for k, t in enumerate(_steps(length, reverse)):
                a = acts[t]
                np.matmul(h, w_t, out=a)
                if b_hh is not None:
                    a += b_hh
                ghn[t] = a[:, 2 * hidden:]
                rz = a[:, :2 * hidden]
                rz += gi[t, :, :2 * hidden]
                _sigmoid_(rz)
                r, z, n = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:]
                np.multiply(r, ghn[t], out=n)
                n += gi[t, :, 2 * hidden:]
                np.tanh(n, out=n)
                h_new = hs[k + 1]
                np.subtract(h, n, out=h_new)
                h_new *= z
                h_new += n
                if mask is not None:                    # padded step: keep the state
                    np.copyto(h_new, h, where=~mask[t])
                h = h_new
        ys = hs[1:] if not reverse else hs[1:][::-1]
        ctx.save_for_backward(w_hh, acts, ghn, hs)
        if ctx.needs_input_grad:
            ctx.reverse, ctx.has_bias, ctx.mask = reverse, b_hh is not None, mask
        return _masked_out(ys, mask), h.copy()

    @staticmethod
    def backward(ctx, g_ys, g_h):
        w_hh, acts, ghn, hs = ctx.saved_tensors
        length, batch, three_h = acts.shape
        hidden = three_h // 3
        dh = np.zeros((batch, hidden), acts.dtype) if g_h is None else g_h.copy()
        # every step's activation derivatives at once: s(1 - s) for r, z; 1 - n^2 for n
        deriv = 1 - acts
        deriv *= acts
        n_all = acts[:, :, 2 * hidden:]
        np.multiply(n_all, n_all, out=deriv[:, :, 2 * hidden:])
        np.subtract(1, deriv[:, :, 2 * hidden:], out=deriv[:, :, 2 * hidden:])
        one_minus_z = 1 - acts[:, :, hidden:2 * hidden]
        dgi = np.empty_like(acts)
        dgh = np.empty_like(acts)
        steps = list(_steps(length, ctx.reverse))
        real, pad = _keep(ctx.mask, acts.dtype)
        for k in range(length - 1, -1, -1):
            t = steps[k]
            dh_pad = _arriving(dh, g_ys, t, real, pad)
            a, d, e = acts[t], dgi[t], dgh[t]
            r, z, n = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:]
            np.multiply(dh, one_minus_z[t], out=d[:, 2 * hidden:])           # dn
            np.subtract(hs[k], n, out=d[:, hidden:2 * hidden])
            d[:, hidden:2 * hidden] *= dh                                    # dz
            d[:, 2 * hidden:] *= deriv[t, :, 2 * hidden:]                    # dn_pre
            np.multiply(d[:, 2 * hidden:], ghn[t], out=d[:, :hidden])        # dr
            d[:, :2 * hidden] *= deriv[t, :, :2 * hidden]
            e[:, :2 * hidden] = d[:, :2 * hidden]
            np.multiply(d[:, 2 * hidden:], r, out=e[:, 2 * hidden:])
            dh *= z
            dh += e @ w_hh
            if real is not None:
                dh += dh_pad
        db = dgh.reshape(-1, three_h).sum(axis=0) if ctx.has_bias else None
        return dgi, dh, _summed_outer(dgh, hs[:-1], ctx.reverse), db


class RNNSequence(Op):
    """h' = act(gi[t] + h @ W_hh.T), act tanh or relu

    Backward, per step from the last: ``dpre = dh' * act'``, ``dh = dpre @ W_hh``,
    ``dW_hh += dpre.T @ h``.
    """

    handles_missing_grads = True

    @staticmethod
    def forward(ctx, gi, h0, w_hh, *, relu=False, reverse=False, mask=None):
        length = gi.shape[0]
        hs = np.empty((length + 1,) + h0.shape, gi.dtype)
        hs[0] = h0
        h = hs[0]
        w_t = w_hh.T
        for k, t in enumerate(_steps(length, reverse)):
            h_new = hs[k + 1]
            np.matmul(h, w_t, out=h_new)
            h_new += gi[t]
            if relu:
                np.maximum(h_new, 0, out=h_new)
            else:
                np.tanh(h_new, out=h_new)
            if mask is not None:                        # padded step: keep the state
                np.copyto(h_new, h, where=~mask[t])
            h = h_new
        ys = hs[1:] if not reverse else hs[1:][::-1]
        ctx.save_for_backward(w_hh, hs)
        if ctx.needs_input_grad:
            ctx.reverse, ctx.relu, ctx.mask = reverse, relu, mask
        return _masked_out(ys, mask), h.copy()

    @staticmethod
    def backward(ctx, g_ys, g_h):
        w_hh, hs = ctx.saved_tensors
        length = hs.shape[0] - 1
        dh = np.zeros(hs.shape[1:], hs.dtype) if g_h is None else g_h.copy()
        outs = hs[1:]
        deriv = (outs > 0).astype(hs.dtype) if ctx.relu else 1 - outs * outs
        dgi = np.empty_like(outs)
        steps = list(_steps(length, ctx.reverse))
        real, pad = _keep(ctx.mask, hs.dtype)
        for k in range(length - 1, -1, -1):
            t = steps[k]
            dh_pad = _arriving(dh, g_ys, t, real, pad)
            d = dgi[t]
            np.multiply(dh, deriv[k], out=d)
            dh = d @ w_hh
            if real is not None:
                dh += dh_pad
        return dgi, dh, _summed_outer(dgi, hs[:-1], ctx.reverse)
