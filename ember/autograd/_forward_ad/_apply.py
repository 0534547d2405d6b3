"""What the wrapped ``Op.apply`` does while a dual level is open.

No input has a tangent: the original ``apply``, nothing else. Otherwise the op runs on the
primal values and its output gets the tangent its rule computes from the inputs' tangents
(``_rules.RULES``), or, for an op without a rule, the double-vjp fallback's. Either way the
tangent computation runs with the wrappers passed through (``_state.off``): its ops see
values only.

The same file holds the wrappers of the few functions that compute a result *without*
``Op.apply`` when nothing requires grad (sum, reshape, getitem, abs, strided views, and the
matmul and ``+ - * /`` fast paths): with a dual input they take the tangent along.
"""
from __future__ import annotations

import numpy as np

from ... import _tensor as _t
from . import _state
from ._rules import RULES

ORIG = {}  # name -> the original function each wrapper calls (filled by _install)


def tangents_of(inputs):
    """One tangent (or None) per input; None when no input has one."""
    ts = None
    for i, x in enumerate(inputs):
        t = getattr(x, "_fw_grad", None)
        if t is not None:
            if ts is None:
                ts = [None] * len(inputs)
            ts[i] = t
    return ts


def op_apply(cls, *inputs, **options):
    """``Op.apply`` while a dual level is open (see the module's notes)."""
    if _state.off:
        return ORIG["op_apply"](cls, *inputs, **options)
    ts = tangents_of(inputs)
    if ts is None:
        return ORIG["op_apply"](cls, *inputs, **options)
    rule = RULES.get(cls)
    if rule is not None:
        with _state.passthrough():
            out = ORIG["op_apply"](cls, *inputs, **options)
            touts = rule(inputs, ts, out, **options)
        if touts is not NotImplemented:
            attach(out, touts, inputs, ts)
            note_saved(out, inputs, ts)
            return out
    from . import _fallback

    out, touts = _fallback.run(cls, inputs, ts, options)
    attach(out, touts, inputs, ts)
    note_saved(out, inputs, ts)
    return out


def attach(out, touts, inputs, ts) -> None:
    """Give each float output its tangent, expanded to the output's shape (a broadcast op
    may give a smaller one) and, when every input tangent has its primal's dtype, cast to the
    output's dtype."""
    outs, touts = (out, touts) if isinstance(out, tuple) else ((out,), (touts,))
    same_dtypes = all(t is None or t._data.dtype == x._data.dtype for x, t in zip(inputs, ts))
    for o, t in zip(outs, touts):
        if t is None or not isinstance(o, _t.Tensor) or o._data.dtype.kind not in "fc":
            continue
        if not isinstance(t, _t.Tensor):
            t = _t._wrap(np.full(o._data.shape, t, o._data.dtype))
        with _state.passthrough():
            if t._data.shape != o._data.shape:
                t = t.expand(*o._data.shape).contiguous()
            if same_dtypes and t._data.dtype != o._data.dtype:
                t = t.to(o.dtype)
        _state.set_tangent(o, t)


def note_saved(out, inputs, ts) -> None:
    """Keep, on the node the op recorded, which saved array had which tangent: a backward
    pass with ``create_graph=True`` inside the level gives them back (``_nested``)."""
    first = out[0] if isinstance(out, tuple) else out
    node = getattr(first, "_grad_fn", None)
    if node is None or not node._saved:
        return
    saved = {}
    for x, t in zip(inputs, ts):
        if t is not None:
            saved[id(x._data)] = t
    for o in out if isinstance(out, tuple) else (out,):
        t = getattr(o, "_fw_grad", None)
        if t is not None:
            saved[id(o._data)] = t
    node._fw_saved = saved
    node._fw_inputs = tuple(ts)
    _state.note_node(node)


# --- functions that skip Op.apply ----------------------------------------------------------
def _same_on_tangent(name):
    """The wrapper of a function linear in its first argument whose result skips
    ``Op.apply`` when that argument does not require grad: the same function on the
    tangent gives the result's tangent."""
    orig = ORIG[name]

    def wrapper(input, *args, **kwargs):
        t = getattr(input, "_fw_grad", None)
        if t is None or _state.off or input._rg:
            return orig(input, *args, **kwargs)
        with _state.passthrough():
            out = orig(input, *args, **kwargs)
            tout = orig(t, *args, **kwargs)
        attach(out, tout, (input,), (t,))
        return out

    wrapper.__wrapped__ = orig
    return wrapper


def abs_(input):
    """``abs`` with a dual input that does not require grad (its fast path skips ``Abs``)."""
    t = getattr(input, "_fw_grad", None)
    if t is None or _state.off or input._rg:
        return ORIG["abs"](input)
    from .rules_pointwise import abs_tangent

    with _state.passthrough():
        out = ORIG["abs"](input)
        tout = abs_tangent(input, t)
    attach(out, tout, (input,), (t,))
    return out


def strided_view(input, array, node_name):
    """``ops.strided._view``: a strided view (unfold, as_strided) of a dual input that does
    not require grad takes the same view of the tangent."""
    t = getattr(input, "_fw_grad", None)
    if t is None or _state.off or input._rg:
        return ORIG["strided_view"](input, array, node_name)
    from ._views import same_view

    with _state.passthrough():
        out = ORIG["strided_view"](input, array, node_name)
        tout = same_view(t, input._data, array)
    attach(out, tout, (input,), (t,))
    return out


def elementwise_fast(op, ufunc, input, other):
    """``+ - * /``'s fast path declines dual operands: ``Op.apply`` (wrapped) follows."""
    if not _state.off and (getattr(input, "_fw_grad", None) is not None
                           or getattr(other, "_fw_grad", None) is not None):
        return None
    return ORIG["fast"](op, ufunc, input, other)


def matmul(input, other, *, out=None, node_name=None):
    """``matmul``: the 2-D fast path records ``Mm`` without ``Op.apply``; dual operands go
    through ``Mm.apply`` (wrapped) instead."""
    if not _state.off and out is None and node_name is None and (
            getattr(input, "_fw_grad", None) is not None
            or getattr(other, "_fw_grad", None) is not None):
        a, b = input._data, getattr(other, "_data", None)
        if b is not None and a.ndim == 2 and b.ndim == 2 and a.dtype is b.dtype \
                and a.shape[1] == b.shape[0] and a.dtype.kind == "f":
            from ...ops.linalg import Mm

            return Mm.apply(input, other)
    return ORIG["matmul"](input, other, out=out, node_name=node_name)


def write_out(name, result, out, inputs=(), warn_resize=True):
    """``out=``: torch's error when a tangent is involved (out= functions have no forward
    AD), the original otherwise."""
    if not _state.off and (getattr(result, "_fw_grad", None) is not None
                           or getattr(out, "_fw_grad", None) is not None
                           or tangents_of(inputs) is not None):
        raise NotImplementedError(f"Trying to use forward AD with {name}_out that does not "
                                  "support it because it is an out= function")
    return ORIG["write_out"](name, result, out, inputs, warn_resize)


def format_tensor(t):
    """The tensor's repr with torch's ``tangent=`` suffix when it has a tangent."""
    text = ORIG["format_tensor"](t)
    tan = getattr(t, "_fw_grad", None)
    if tan is None:
        return text
    from ... import _format

    value = str(tan.item()) if tan._data.ndim == 0 else repr(tan)
    return _format._add_suffixes(text[:-1], [f"tangent={value}"], len("tensor("))
