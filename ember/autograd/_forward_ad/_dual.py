"""``make_dual`` and ``unpack_dual``: a view of the primal that carries the tangent, and back."""
from __future__ import annotations

import numpy as np

from ... import _tensor as _t
from .. import grad_mode
from . import _state


def _alias(tensor):
    """A view of ``tensor`` with its whole shape (``ViewBackward0`` when it requires grad)."""
    from ...ops.shape import view

    with _state.passthrough():
        return view(tensor, tuple(tensor._data.shape))


def make(tensor, tangent):
    """``make_dual`` after the level and dtype checks (see ``forward_ad.make_dual``)."""
    if _state.tangent(tensor) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           "gradient at the same level 0 is not supported.")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than "
                           "that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor._data.shape)} while the given forward gradient "
                           f"is of size {list(tangent._data.shape)}.")
    with grad_mode.enable_grad():  # as torch: the view is differentiable even under no_grad
        dual = _alias(tensor)
    _state.set_tangent(dual, in_layout_of(tensor, tangent))
    return dual


def in_layout_of(tensor, tangent):
    """``tangent`` itself when its strides (in elements) are ``tensor``'s, else a copy laid
    out as ``tensor`` is (differentiable, if the tangent requires grad)."""
    a, b = tensor._data, tangent._data
    if a.ndim == 0 or [s // a.itemsize for s in a.strides] == [s // b.itemsize
                                                              for s in b.strides]:
        return tangent
    with _state.passthrough():
        if a.flags.c_contiguous:
            return tangent.contiguous()
        out = _t._wrap(np.empty_like(a, dtype=b.dtype))
        out.copy_(tangent)
        return out


def unpack(tensor, valid):
    """``(primal view, tangent or None)``; ``valid``: whether the level asked for is open.
    While a tangent is being computed (a custom Function's forward and jvp, a formula) no
    tensor has one, as with torch's forward grad turned off."""
    tan = _state.tangent(tensor) if valid and not _state.off else None
    return _alias(tensor), tan
