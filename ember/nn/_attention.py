"""Scaled dot-product attention as one fused op with a closed-form backward.

One node instead of five (matmul, scale, mask, softmax, matmul): forward keeps only the
attention weights, backward is three batched matmuls and a softmax Jacobian-vector
product, and the causal mask is a cached additive (0 / -inf) array added in place.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _random, ops
from .._tensor import Tensor
from ..autograd.function import Op
from ..backends.cuda import _sdp
from ..ops._shape_utils import check_broadcast, sum_to_shape, type_name
from ..ops.derivatives import const, saved_tensors, sum_to
from ._functions.dropout import dropout_scale, keep_mask

_CAUSAL = {}


def _causal_bias(L, S, dtype):
    """(L, S) array: 0 on and below the diagonal, -inf above (cached: it is read-only)."""
    key = (L, S, dtype)
    bias = _CAUSAL.get(key)
    if bias is None:
        if len(_CAUSAL) > 64:
            _CAUSAL.clear()
        bias = np.triu(np.full((L, S), -np.inf, dtype=dtype), 1)
        bias.flags.writeable = False
        _CAUSAL[key] = bias
    return bias


def _swap(a):
    return np.swapaxes(a, -1, -2)


class ScaledDotProductAttention(Op):
    """z = softmax(q k^T * scale + bias) v, with dropout on the weights when p > 0.

    ``bias`` is an additive float mask (-inf where a bool mask is False); ``causal``
    adds the cached upper-triangle -inf bias. Rows with every score -inf give zeros, as in
    torch. Backward: with P the weights and G the output gradient,
    dV = P^T G, dP = G V^T, dS = P * (dP - rowsum(dP * P)), dQ = dS K * scale,
    dK = dS^T Q * scale, dBias = dS.
    """

    @staticmethod
    def forward(ctx, q, k, v, bias=None, *, scale, causal=False, dropout_p=0.0, generator=None):
        if q.dtype == np.float16:  # in float32, rounded once (torch's half attention kernel)
            wide = (a if a is None else a.astype(np.float32) for a in (q, k, v, bias))
            out = ScaledDotProductAttention.forward(
                ctx, *wide, scale=scale, causal=causal, dropout_p=dropout_p, generator=generator)
            ctx.save_for_backward(q, k, v, *ctx.saved_tensors[3:])  # the inputs themselves
            return out.astype(np.float16)
        s = np.matmul(q, _swap(k))
        s *= s.dtype.type(scale)
        L, S = s.shape[-2], s.shape[-1]
        if causal:
            s += _causal_bias(L, S, s.dtype)
        if bias is not None:
            full = np.broadcast_shapes(s.shape, bias.shape)
            s = np.add(s, bias, out=s) if full == s.shape else s + bias
        # no keys at all (S == 0): an empty softmax, and torch's zeros out of the matmul
        m = s.max(axis=-1, keepdims=True) if S else np.zeros(s.shape[:-1] + (1,), s.dtype)
        masked_rows = None
        if bias is not None:
            dead = np.isneginf(m)
            if dead.any():  # a row that may attend nowhere: torch returns zeros there
                masked_rows = dead
                m[dead] = 0
        s -= m
        np.exp(s, out=s)
        total = s.sum(axis=-1, keepdims=True)
        if masked_rows is not None:
            total[masked_rows] = 1
        s /= total
        p = s
        keep = None
        if dropout_p > 0.0:
            keep = keep_mask(generator, p.shape, dropout_p).astype(p.dtype)
            if dropout_p < 1.0:
                keep *= dropout_scale(p.dtype, dropout_p)
            pd = p * keep
        else:
            pd = p
        out = np.matmul(pd, v)
        ctx.scale = scale
        ctx.save_for_backward(q, k, v, p, keep)
        ctx.bias_shape = None if bias is None else bias.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        if grad.dtype == np.float16:  # float16: in float32, each gradient rounded once
            grads = ScaledDotProductAttention.backward(ctx, grad.astype(np.float32))
            return tuple(None if g is None else g.astype(np.float16) for g in grads)
        q, k, v, p, keep = ctx.saved_tensors
        need = ctx.needs_input_grad
        scale = p.dtype.type(ctx.scale)
        gq = gk = gv = gb = None
        pd = p if keep is None else p * keep
        if need[2]:
            gv = sum_to_shape(np.matmul(_swap(pd), grad), v.shape)
        if need[0] or need[1] or (len(need) > 3 and need[3]):
            dp = np.matmul(grad, _swap(v))
            if keep is not None:
                dp *= keep
            # softmax backward: dS = P * (dP - sum(dP * P, -1))
            ds = dp
            ds -= np.einsum("...ij,...ij->...i", dp, p)[..., None]
            ds *= p
            if len(need) > 3 and need[3]:
                gb = sum_to_shape(ds, ctx.bias_shape)
                if gb is ds:  # (a full-shape mask: ds is scaled in place below)
                    gb = ds.copy()
            if need[0] or need[1]:
                ds *= scale
                if need[0]:
                    gq = sum_to_shape(np.matmul(ds, k), q.shape)
                if need[1]:
                    gk = sum_to_shape(np.matmul(_swap(ds), q), k.shape)
        return gq, gk, gv, gb

    @staticmethod
    def backward_graph(ctx, grad):
        """The same on Tensors, for ``create_graph=True`` (a bias needing grad: not covered)."""
        need = ctx.needs_input_grad
        if len(need) > 3 and need[3]:
            return NotImplemented
        q, k, v = saved_tensors(ctx)[:3]
        p_a, keep = ctx.saved_tensors[3:]  # arrays: P (a function of q, k) and the dropout mask
        # the scores rebuilt on the graph of q and k: log P differs from them by a constant
        # per row, which softmax ignores; a row masked everywhere (P all 0) stays 0
        dead = ~(p_a > 0).any(axis=-1, keepdims=True)
        qk = (q @ k.transpose(-1, -2)) * ctx.scale
        with np.errstate(divide="ignore"):
            rest = np.where(dead, 0.0, np.log(p_a)) - qk._data
        p = ops.softmax(qk + const(rest.astype(p_a.dtype)), -1)
        if dead.any():
            p = p * const(~dead, p_a.dtype)
        keep = None if keep is None else const(keep)
        pd = p if keep is None else p * keep
        gv = sum_to(pd.transpose(-1, -2) @ grad, v.shape) if need[2] else None
        dp = grad @ v.transpose(-1, -2)
        if keep is not None:
            dp = dp * keep
        ds = p * (dp - (dp * p).sum(-1, keepdim=True)) * ctx.scale
        gq = sum_to(ds @ k, q.shape) if need[0] else None
        gk = sum_to(ds.transpose(-1, -2) @ q, k.shape) if need[1] else None
        return gq, gk, gv, None


def _repeat_heads(x, rep):
    """(..., H, S, E) -> (..., H * rep, S, E), each head repeated in place (as
    ``repeat_interleave``)."""
    from .. import ops

    shape = tuple(x.shape)
    expanded = ops.expand(ops.unsqueeze(x, -3), *shape[:-2], rep, *shape[-2:])
    return ops.reshape(expanded, *shape[:-3], shape[-3] * rep, *shape[-2:])


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """Attention ``softmax(query @ key^T * scale + mask) @ value``, one fused op.

    Args:
        query: ``(N, ..., L, E)``.
        key: ``(N, ..., S, E)``.
        value: ``(N, ..., S, Ev)``.
        attn_mask: broadcastable to ``(N, ..., L, S)``: bool (True = may attend) or a
            float tensor added to the scores (it receives a gradient if it requires one).
        dropout_p: dropout probability on the attention weights, applied whenever > 0
            (pass ``p if self.training else 0.0``, as with torch).
        is_causal: mask out keys after each query (the top-left aligned lower triangle);
            combined with ``attn_mask`` only where torch's CPU flash kernel takes the inputs
            (4-d, no dropout, equal head sizes...), an error elsewhere, as in torch.
        scale: score multiplier; ``1 / sqrt(E)`` by default.
        enable_gqa: let ``key``/``value`` have fewer heads (dim -3) than ``query``; each
            is repeated to match.

    Returns:
        ``(N, ..., L, Ev)``. Rows whose mask allows no key are zeros, as in torch.

    Raises:
        RuntimeError: torch's messages for mismatched dtypes, a mask of the wrong dtype,
            or ``attn_mask`` together with ``is_causal`` outside the flash kernel.
    """
    qd, kd, vd = query._data.dtype, key._data.dtype, value._data.dtype
    if not (qd == kd == vd):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_c_name(qd)} key.dtype: {_c_name(kd)} and value.dtype: {_c_name(vd)} instead.")
    dims = [t.dim() for t in (query, key, value)]
    if min(dims) < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {dims[0]} key.dim: {dims[1]} and value.dim: "
                           f"{dims[2]} instead.")
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            from .._creation import as_tensor

            attn_mask = as_tensor(attn_mask)
        md = attn_mask._data.dtype
        # torch validates this before it picks a kernel: bool, float32 or the query's dtype
        if md not in (np.bool_, np.float32, qd):
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                f"attn_mask.dtype: {_c_name(md)} and  query.dtype: {_c_name(qd)} instead.")
        if md != qd and md != np.bool_:  # a float32 mask on float64 scores
            attn_mask = attn_mask.to(query.dtype)
    if not _sdp["math"]:  # torch chooses a kernel here (ember.nn.attention.sdpa_kernel)
        from .attention import check_cpu_kernel

        check_cpu_kernel(query, key, value, attn_mask, dropout_p, enable_gqa)
    causal_mask = False
    if is_causal and attn_mask is not None:
        from .attention import _flash_reason

        # torch's math kernel refuses both; its CPU flash kernel (when it takes the inputs)
        # applies the causal mask on top of attn_mask
        if _flash_reason(query, key, value, attn_mask, dropout_p, enable_gqa) != "":
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not "
                               "be set when is_causal=True")
        causal_mask, is_causal = True, False
    _check_matmul_shapes(query._data.shape, key._data.shape, value._data.shape, enable_gqa)
    if scale is None:
        scale = 1.0 / math.sqrt(query._data.shape[-1])
    if enable_gqa and key.dim() >= 3 and key._data.shape[-3] != query._data.shape[-3]:
        hq, hk, hv = (t._data.shape[-3] for t in (query, key, value))
        if hq % hk or hq % hv:
            # (torch's message, cut short as torch prints it)
            raise RuntimeError("Number of heads in key and value must divide the number of "
                               "heads in ")
        key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hv)
    if enable_gqa:
        check_broadcast(query._data.shape[:-2], key._data.shape[:-2])  # torch's error
    if qd.kind != "f":  # torch's math kernel computes in a floating type
        raise RuntimeError(f"expected scalar type Float but found {type_name(qd)}")
    if dropout_p > 1.0:  # torch drops out only for p > 0 (a negative p is no dropout)
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    dropout_p = max(dropout_p, 0.0)
    generator = _random.default_generator if dropout_p > 0.0 else None
    options = dict(scale=float(scale), causal=bool(is_causal), dropout_p=float(dropout_p),
                   generator=generator)
    if attn_mask is None:
        return ScaledDotProductAttention.apply(query, key, value, **options)
    md = attn_mask._data.dtype
    q, k = query._data.shape, key._data.shape
    scores = check_broadcast(q[:-2], k[:-2]) + (q[-2], k[-2])
    full = check_broadcast(scores, attn_mask._data.shape)  # torch's error: a mask that can't fit
    if tuple(full) != tuple(scores):  # torch adds the mask to the scores in place
        raise RuntimeError(f"output with shape {list(scores)} doesn't match the broadcast shape "
                           f"{list(full)}")
    keep = np.tril(np.ones(scores[-2:], dtype=bool)) if causal_mask else True
    if md == np.bool_:
        bias = np.where(attn_mask._data & keep, qd.type(0), qd.type(-np.inf))
        return ScaledDotProductAttention.apply(query, key, value, bias, **options)
    if causal_mask:  # (a mask that requires grad never reaches here: flash refuses it)
        attn_mask = np.where(keep, attn_mask._data, qd.type(-np.inf))
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, **options)


def _check_matmul_shapes(q, k, v, enable_gqa):
    """torch's errors of the two products (q k^T, then with v) for shapes that do not fit:
    its matmul's for 2-D operands, its bmm's (batch flattened) for more, and broadcasting's
    for batch dims that differ."""
    if q[-1] != k[-1] or k[-2] != v[-2]:
        first = q[-1] != k[-1]
        rows, cols = (q[-2:], k[-2:][::-1]) if first else ((q[-2], k[-2]), v[-2:])
        if len(q) == 2 and len(k) == 2 and len(v) == 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows[0]}x{rows[1]} "
                               f"and {cols[0]}x{cols[1]})")
        batch = math.prod(check_broadcast(q[:-2], k[:-2]))
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch}, {rows[1]}] but got: [{batch}, {cols[0]}].")
    if not enable_gqa:
        check_broadcast(check_broadcast(q[:-2], k[:-2]), v[:-2])


def _c_name(np_dtype) -> str:
    """torch's C++ spelling of a dtype in these messages ("float", "double", "long int")."""
    return {"float32": "float", "float64": "double", "int64": "long int", "float16": "c10::Half",
            "int32": "int"}.get(np.dtype(np_dtype).name, type_name(np_dtype))
