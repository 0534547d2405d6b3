"""Users' ``autograd.Function`` subclasses in forward mode: their ``jvp`` staticmethod.

torch's contract: ``forward`` runs on the primal values (it sees no tangents); then
``jvp(ctx, *tangents)`` gets one tangent per forward argument (zeros for a tensor without
one, None for anything that is not a tensor) and returns one tangent per output. In
``jvp``, ``ctx.saved_tensors`` holds what forward gave ``ctx.save_for_forward``. A Function
without ``jvp`` raises torch's NotImplementedError when a tangent reaches it.
"""
from __future__ import annotations

import numpy as np

from ... import _tensor as _t
from . import _state
from ._apply import ORIG, attach, tangents_of


def function_apply(cls, *args, **kwargs):
    """``Function.apply`` while a dual level is open."""
    if _state.off:
        return ORIG["function_apply"](cls, *args, **kwargs)
    ts = tangents_of(args)
    if ts is None:
        return ORIG["function_apply"](cls, *args, **kwargs)
    from ..function import Function

    if _jvp_of(cls) is vars(Function)["jvp"].__func__:
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")
    with _state.passthrough():
        out, ctx = _run_capturing_ctx(cls, args, kwargs)
        tangents = [None if not isinstance(a, _t.Tensor) else
                    t if t is not None else _t._wrap(np.zeros_like(a._data))
                    for a, t in zip(args, ts)]
        touts = _call_jvp(cls, ctx, tangents)
    outs = out if isinstance(out, tuple) else (out,)
    if not isinstance(touts, tuple):
        touts = (touts,)
    if len(touts) != len(outs):
        raise RuntimeError(f"Function's jvp returned an invalid number of forward gradients "
                           f"(expected {len(outs)} but got {len(touts)})")
    non_diff = {id(t) for t in getattr(ctx, "_non_diff", ())}
    for o, t in zip(outs, touts):
        if isinstance(o, _t.Tensor) and isinstance(t, _t.Tensor) and \
                t._data.shape != o._data.shape:
            raise RuntimeError("Trying to set a forward gradient that has a different size than "
                               "that of the original Tensor, this is not supported. Tensor is "
                               f"of size {list(o._data.shape)} while the given forward gradient "
                               f"is of size {list(t._data.shape)}.")
    touts = tuple(None if id(o) in non_diff else t for o, t in zip(outs, touts))
    attach(out, touts if isinstance(out, tuple) else touts[0], args, ts)
    return out


def _jvp_of(cls):
    raw = None
    for k in cls.__mro__:
        if "jvp" in vars(k):
            raw = vars(k)["jvp"]
            break
    return raw.__func__ if isinstance(raw, staticmethod) else raw


def _run_capturing_ctx(cls, args, kwargs):
    """Run ``cls.apply`` and catch the ctx it makes (the first node of ``cls``'s class)."""
    node_cls = cls._node_cls
    made = []

    def init(self, *a, **k):
        if not made:
            made.append(self)

    node_cls.__init__ = init  # node classes define no __init__ of their own
    try:
        out = ORIG["function_apply"](cls, *args, **kwargs)
    finally:
        del node_cls.__init__
    return out, made[0]


def _call_jvp(cls, ctx, tangents):
    """``cls.jvp(ctx, *tangents)`` with ``ctx.saved_tensors`` reading what forward gave
    ``save_for_forward``."""
    saved = getattr(ctx, "saved_for_forward", None)
    if saved is None:
        return cls.jvp(ctx, *tangents)
    before = ctx._saved, getattr(ctx, "_user_versions", ())
    ctx._saved = tuple(saved)
    ctx._user_versions = tuple(t._vc[0] if isinstance(t, _t.Tensor) else None for t in saved)
    try:
        return cls.jvp(ctx, *tangents)
    finally:
        ctx._saved, ctx._user_versions = before
