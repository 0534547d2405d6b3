"""``torch.nn.attention``: ``SDPBackend`` and ``sdpa_kernel``, which choose the kernels
``scaled_dot_product_attention`` may use.

The switches are the ones ``ember.backends.cuda`` keeps (``enable_flash_sdp`` ...). ember
computes attention one way, but it picks a "kernel" the way torch does on the CPU, which has
two: flash attention (tried first, when the inputs suit it) and the math fallback. So a
block that allows neither raises torch's "No viable backend ..." error, and one that allows
flash attention only, for inputs flash attention cannot take (3-D inputs, dropout, a value
head size that differs ...), warns why and raises "No available kernel.  Aborting
execution." as torch does; otherwise the result is the same as with every kernel allowed.
"""
from __future__ import annotations

import contextlib
import warnings

from ...backends.cuda import SDPBackend, _sdp

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


# torch's flag name for each backend, in torch's order
_FLAGS = {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION,
          "mem_efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH,
          "overrideable": SDPBackend.OVERRIDEABLE}
_priority = [1, 2, 0, 3, 4]  # torch's default order (it matters only on GPUs)


def _cur_sdpa_kernel_backends(with_priority: bool = False) -> list:
    backends = [b for name, b in _FLAGS.items() if _sdp[name]]
    if with_priority:
        backends.sort(key=lambda b: _priority.index(int(b)))
    return backends


def _sdpa_kernel(backends, set_priority: bool = False) -> None:
    for name, backend in _FLAGS.items():
        _sdp[name] = backend in backends
    if set_priority:
        order = [int(b) for b in backends]
        _priority[:] = order + [b for b in _priority if b not in order]


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Allow only ``backends`` (one ``SDPBackend`` or a list) for scaled dot-product
    attention inside the ``with`` block; the previous switches come back on exit.

    Args:
        backends: the backends to allow.
        set_priority: read the list's order as the backends' priority (kept, as torch does,
            though the CPU's order is always flash attention, then math).

    Raises:
        AssertionError: ``backends`` is neither an ``SDPBackend`` nor a list (torch's check).
    """
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous = _cur_sdpa_kernel_backends(with_priority=set_priority)
    order = list(_priority)
    try:
        _sdpa_kernel(backends, set_priority)
        yield {}
    finally:
        _sdpa_kernel(previous, set_priority)
        _priority[:] = order


# --- the CPU's kernel choice (torch's sdp_utils_cpp) -----------------------------------------
def _flash_reason(query, key, value, attn_mask, dropout_p, enable_gqa):
    """Why torch's CPU flash attention cannot take these inputs ("" when it can; None when it
    cannot but torch gives no reason)."""
    q, k, v = query.shape, key.shape, value.shape
    if not _sdp["flash"]:
        return "Flash attention has been runtime disabled."
    if dropout_p > 0.0:
        return "Both fused kernels do not support non-zero dropout."
    if not (len(q) == len(k) == len(v) == 4):
        return ("All fused kernels requires query, key and value to be 4 dimensional, but got "
                f"Query dim: {len(q)}, Key dim: {len(k)}, Value dim: {len(v)} instead.")
    if not q[0] == k[0] == v[0]:
        return ("For dense inputs, both fused kernels require query, key and value to have the "
                f"same batch_size. Query.sizes(): {list(q)}, Key.sizes(): {list(k)}, "
                f"Value.sizes(): {list(v)} instead. To broadcast dense inputs, try using "
                "unsqueeze and expand_to before passing them into the kernel.")
    if enable_gqa:
        if k[-3] != v[-3]:
            return ("Both fused kernels require key and value to have the same num_heads and "
                    f"batch_size but got: Key sizes: {list(k)}, Value sizes: {list(v)}, "
                    f"Query sizes: {list(q)} instead.")
        if q[-3] % k[-3]:
            return ("The number of heads in key/value must divide number of heads in query."
                    f"Got input Key sizes(): {k[-3]}, Value sizes(): {v[-3]}, Query sizes(): "
                    f"{q[-3]} instead.")
    elif not q[-3] == k[-3] == v[-3]:
        return ("For dense input, both fused kernels require query, key and value to have the "
                f"same num_heads. Query.sizes(): {list(q)}, Key sizes(): {list(k)}, Value "
                f"sizes(): {list(v)} instead. To broadcast dense inputs, try using unsqueeze "
                "and expand_to before passing them into the kernel.")
    if attn_mask is not None:
        if getattr(attn_mask, "requires_grad", False):
            return None
        m = tuple(attn_mask.shape)
        fits = (m[-2] in (q[2], 1) and m[-1] in (k[2], 1)
                and (len(m) == 2 or (len(m) == 4 and m[0] in (1, q[0]) and m[1] in (1, q[1]))))
        if not fits:
            return ("Please use the following attn mask shapes: 2d - ({Q_seq_len, 1}  x "
                    "{KV_seq_len, 1}); 4d - ({Batch, 1} x {Num_heads, 1} x {Q_seq_len, 1}  x "
                    "{KV_seq_len, 1})")
    if not q[-1] == k[-1] == v[-1]:
        return ("Flash attention requires q,k,v to have the same last dimension. Got "
                f"Query.size(-1): {q[-1]}, Key.size(-1): {k[-1]}, Value.size(-1): {v[-1]} "
                "instead.")
    if q[-2] == 0 or k[-2] == 0:
        return "All fused kernels do not support zero seq_len_q or seq_len_kv."
    strides = [t.stride(-1) for t in (query, key, value)]
    if strides != [1, 1, 1]:
        return ("All fused kernels require the last dimension of the input to have stride 1. "
                f"Got Query.stride(-1): {strides[0]}, Key.stride(-1): {strides[1]}, "
                f"Value.stride(-1): {strides[2]}")
    if query.dtype.is_floating_point and query.dtype == key.dtype == value.dtype:
        return ""
    return ("Expected query, key and value to all be of dtype: {Float, Double, BFloat16, Half}"
            f". Got Query dtype: {query.dtype}, Key dtype: {key.dtype}, and Value dtype: "
            f"{value.dtype} instead.")


def check_cpu_kernel(query, key, value, attn_mask, dropout_p, enable_gqa) -> None:
    """Raise (after torch's warnings) when the switches leave no CPU kernel for these inputs;
    called by ``scaled_dot_product_attention`` only when the math kernel is switched off."""
    if _sdp["math"] or 0 in (query.numel(), key.numel(), value.numel()):
        return  # math always runs; torch takes empty inputs whatever the switches say
    if not _sdp["flash"]:
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This "
                           "is likely due to turning off both the math kernel and the fused "
                           "kernels.")
    reason = _flash_reason(query, key, value, attn_mask, dropout_p, enable_gqa)
    if reason == "":
        return  # flash attention: the same numbers as the math kernel, to rounding
    warnings.warn("Flash attention kernel not used because:", UserWarning, stacklevel=3)
    if reason:
        warnings.warn(reason, UserWarning, stacklevel=3)
    raise RuntimeError("No available kernel.  Aborting execution.")
