"""Forward over reverse: a ``create_graph=True`` backward pass inside a dual level.

The backward formulas (``ember/ops/derivatives``) run ember ops on what forward saved, given
back as fresh Tensors (``saved_tensors``, ``stand_in``). Those carry no tangent, so the
wrappers here give each the tangent its array had when the op ran (``_apply.note_saved``
kept them on the node): the gradients the formulas compute then carry tangents too, which
is how ``jacfwd(jacrev(f))`` (``hessian``) gets its second derivatives. An op with no
formula computes its gradient on arrays, without tangents: it raises torch's error rather
than give a wrong derivative.
"""
from __future__ import annotations

from . import _state
from ._apply import ORIG


def saved_tensors(ctx):
    """``_double_backward.saved_tensors`` with the saved arrays' tangents."""
    out = ORIG["saved_tensors"](ctx)
    saved = getattr(ctx, "_fw_saved", None)
    if saved and not _state.off:
        for t in out:
            if getattr(t, "_data", None) is not None and t.__dict__.get("_fw_grad") is None:
                tan = saved.get(id(t._data))
                if tan is not None:
                    _state.set_tangent(t, tan)
    return out


def stand_in(ctx, i, array):
    """``_double_backward.stand_in`` with input ``i``'s tangent."""
    out = ORIG["stand_in"](ctx, i, array)
    inputs = getattr(ctx, "_fw_inputs", None)
    if inputs and not _state.off and inputs[i] is not None and \
            out.__dict__.get("_fw_grad") is None:
        _state.set_tangent(out, inputs[i])
    return out


def call_without_formula(node, grads):
    """An op without a Tensor-level formula cannot pass tangents on: torch's error."""
    if not _state.off and (getattr(node, "_fw_saved", None) or any(
            getattr(g, "_fw_grad", None) is not None for g in grads)):
        from ._fallback import unsupported

        raise NotImplementedError(unsupported(node._fn))
    return ORIG["call_without_formula"](node, grads)
