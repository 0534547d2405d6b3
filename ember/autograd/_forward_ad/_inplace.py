"""In-place ops on dual tensors: the tangent changes in place with the value.

ember runs an in-place op out of place and writes the result back (``_inplace.run``); with a
tangent involved the out-of-place result's tangent is written into the tensor's tangent the
same way (``copy_``), so a view's tangent, itself a view of its base's tangent, changes its
base's tangent too, as in torch. A tensor without a tangent gets one (a view without one:
its base gets a zero tangent and the view a view of it). The in-place methods that write
into the array directly when nothing is recorded (``add_`` ..., ``zero_``, ``fill_``,
``copy_``, ``masked_fill_``, ``__setitem__``, the in-place view ops) take the recorded path
while a tangent is involved.
"""
from __future__ import annotations

import numpy as np

from ... import _tensor as _t
from . import _state
from ._apply import ORIG, tangents_of


def _involved(t, args, kwargs=None):
    if _state.off:
        return False
    if getattr(t, "_fw_grad", None) is not None or tangents_of(args) is not None:
        return True
    return bool(kwargs) and tangents_of(tuple(kwargs.values())) is not None


def run(t, fn, args, kwargs):
    """``_inplace.run`` taking the tangent along (see the module's notes)."""
    if not _involved(t, args, kwargs):
        return ORIG["run"](t, fn, args, kwargs)
    tt = getattr(t, "_fw_grad", None)
    results = []

    def traced(x, *a, **k):
        if tt is not None and x is not t and getattr(x, "_fw_grad", None) is None:
            _state.set_tangent(x, tt)  # the snapshot ``run`` makes of t's old value
        out = fn(x, *a, **k)
        results.append(out)
        return out

    traced.__name__ = getattr(fn, "__name__", "an in-place op")
    value = ORIG["run"](t, traced, args, kwargs)
    write_tangent(t, getattr(results[-1], "_fw_grad", None) if results else None)
    return value


def write_tangent(t, new) -> None:
    """Make ``new`` the tangent of ``t``, in place when ``t`` has one."""
    if new is None:
        return
    tt = getattr(t, "_fw_grad", None)
    with _state.passthrough():
        if tt is None:
            tt = _fresh_tangent(t, new)
            if tt is None:
                return
        if np.may_share_memory(tt._data, new._data):
            new = new.clone()
        tt.copy_(new)


def _fresh_tangent(t, new):
    """A tangent for ``t``, which had none: ``new``'s copy, or for a view, a view of its
    base's tangent (a zero one made for the base when it had none). None: ``new`` was
    given to ``t`` as it is."""
    base = t._base
    if base is None:
        _state.set_tangent(t, new.clone())
        return None
    from ._views import same_view, zeros_laid_out_as

    tb = getattr(base, "_fw_grad", None)
    if tb is None:  # (of the base's dtype under a view of another: z.real, view_as_real)
        dtype = new._data.dtype if t._data.dtype == base._data.dtype else base._data.dtype
        tb = _t._wrap(zeros_laid_out_as(base._data, dtype))
        _state.set_tangent(base, tb)
    tt = same_view(tb, base._data, t._data)
    _state.set_tangent(t, tt)
    return tt


def setitem(t, index, value):
    """``t[index] = value``: the tangent's region gets the value's tangent (or zeros)."""
    if not _involved(t, (value,)):
        return ORIG["setitem"](t, index, value)
    with _state.passthrough():
        ORIG["setitem"](t, index, value)
    tv = getattr(value, "_fw_grad", None)
    tt = getattr(t, "_fw_grad", None)
    with _state.passthrough():
        if tt is None:
            tt = _fresh_tangent(t, _t._wrap(np.zeros(t._data.shape, t._data.dtype)))
            tt = tt if tt is not None else t._fw_grad
        tt[index] = tv if tv is not None else 0.0


ARITHMETIC = ("add_", "sub_", "mul_", "div_")


def _arithmetic(name):
    """``add_`` ``sub_`` ``mul_`` ``div_``: the recorded path when a tangent is involved."""
    orig = ORIG["Tensor." + name]

    def method(self, other, *, alpha=1, **kwargs):
        if not _involved(self, (other,)):
            return orig(self, other, alpha=alpha, **kwargs)
        from ... import ops

        if alpha != 1:
            kwargs["alpha"] = alpha
        return self._inplace(getattr(ops, name[:-1]), other, **kwargs)

    method.__name__ = name
    return method


def zero_(self):
    """``zero_``: the tangent becomes zero too."""
    if not _involved(self, ()):
        return ORIG["Tensor.zero_"](self)
    from ... import ops

    return self._inplace(ops.fill, 0, node_name="ZeroBackward0")


def fill_(self, value):
    """``fill_``: the tangent becomes the value's (zero for a number)."""
    if not _involved(self, (value,)):
        return ORIG["Tensor.fill_"](self, value)
    from ... import ops

    return self._inplace(ops.fill, value)


def copy_(self, src, non_blocking=False):
    """``copy_``: the tangent becomes ``src``'s (zero when it has none)."""
    if not _involved(self, (src,)):
        return ORIG["Tensor.copy_"](self, src, non_blocking)
    from ... import ops

    return self._inplace(ops.fill, src, node_name="CopyBackwards")


def masked_fill_(self, mask, value):
    """``masked_fill_``: the tangent is filled with the value's tangent where ``mask``."""
    if not _involved(self, (value,)):
        return ORIG["Tensor.masked_fill_"](self, mask, value)
    from ... import ops

    return self._inplace(ops.masked_fill, mask, value)


def view_inplace(self, name, view_fn, node_name):
    """``t_``, ``transpose_``, ``squeeze_`` ...: the tangent becomes the same view of itself."""
    tt = getattr(self, "_fw_grad", None)
    if tt is None or _state.off:
        return ORIG["view_inplace"](self, name, view_fn, node_name)
    with _state.passthrough():
        out = ORIG["view_inplace"](self, name, view_fn, node_name)
        _state.set_tangent(self, view_fn(tt))
    return out
