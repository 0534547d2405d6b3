"""Structured control flow run eagerly: ``torch.cond`` and ``torch.while_loop``.

torch runs both through ``torch.compile`` even in eager mode: it traces every branch (and the
loop body) once on fake tensors, checks that the branches' outputs agree (pytree structure,
dtype, rank; sizes may differ) and that nothing aliases or (with grad mode on) mutates an
input, then runs the graph. ember has no tracer, so it runs the branch that is not taken
(and, for a loop that never iterates, the body) once on detached clones under ``no_grad`` to
make the same checks, and then runs the real call with ordinary ops: gradients flow exactly as
through the code that ran. The errors are RuntimeErrors carrying torch's messages.
"""
from __future__ import annotations

from ._tensor import Tensor

__all__ = ["cond", "while_loop"]


def _tree():
    from .func import _pytree

    return _pytree


def _root(t):
    from .ops._storage import storage_root

    return storage_root(t._data)


def _clones(tree):
    """``tree`` with every tensor leaf replaced by a detached copy."""
    return _tree().tree_map(lambda t: t.detach().clone() if isinstance(t, Tensor) else t, tree)


def _call(op, fn, args, leaves, strict):
    """``fn(*args)``, refusing outputs that alias ``leaves`` and, when ``strict`` (grad mode
    was on at the call), in-place changes to them (torch's tracing rules)."""
    tensors = [t for t in leaves if isinstance(t, Tensor)]
    versions = [t._version for t in tensors]
    out = fn(*args)
    if strict and any(t._version != v for t, v in zip(tensors, versions)):
        raise RuntimeError(f"{op}: Encountered input mutation during higher order op tracing. "
                           "Higher order ops do not support input mutation.")
    roots = {id(_root(t)) for t in tensors}
    for o in _tree().tree_flatten(out)[0]:
        if isinstance(o, Tensor) and id(_root(o)) in roots:
            raise RuntimeError(f"{op}: Encountered aliasing during higher order op tracing. "
                               "Higher order ops do not support aliasing. Replace `return "
                               "input` with `return input.clone()` to avoid aliasing.")
    return out


def _check_leaves(op, leaves):
    for leaf in leaves:
        if not isinstance(leaf, (Tensor, int)):
            raise RuntimeError(f"{op}: HigherOrderOperator body's output must consist of "
                               f"tensors or ints/bools only but got {type(leaf)}.")


def _check_merge(a, b):
    """torch's ``_merge_output`` checks for one pair of branch outputs."""
    if type(a) is int and type(b) is int:
        return
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise RuntimeError(f"expected both a and b to be tensors, got a={type(a)}, b={type(b)}")
    prefix = "When merging two branches' output in torch.cond, "
    for attr, x, y in (("dtype", a.dtype, b.dtype), ("dim", a.dim(), b.dim())):
        if x != y:
            raise RuntimeError(f"{prefix} expected same {attr} but got {x} and {y}.")


def cond(pred, true_fn, false_fn, operands=()):
    """Run ``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)`` (``torch.cond``).

    A Python bool, int or float ``pred`` just calls the chosen branch, as torch does eagerly.
    With a tensor ``pred`` both branches must be callables taking ``operands`` and returning
    the same pytree of tensors (same dtype and rank; sizes may differ) or ints; the other
    branch is run once on detached clones under ``no_grad`` to check this. Gradients flow as
    through the branch taken.

    Args:
        pred: a bool, or a tensor with one element.
        true_fn, false_fn: the branches.
        operands: a tuple or list (possibly nested, with dicts) of tensors.

    Returns:
        The taken branch's output.

    Raises:
        RuntimeError: a bad ``pred``, branches or operands, outputs that differ between the
            branches, an output aliasing an operand, or an operand changed in place while
            grad mode is on (torch's messages).
    """
    if isinstance(pred, (bool, int, float)):
        return true_fn(*operands) if pred else false_fn(*operands)
    if not isinstance(pred, (bool, Tensor)):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("Expect both branches to be callable.")
    tree = _tree()
    in_leaves = tree.tree_flatten(operands)[0]
    if not isinstance(operands, (tuple, list)) or not all(isinstance(t, Tensor)
                                                         for t in in_leaves):
        raise RuntimeError("Expect operands to be a tuple of possibly nested dict/list/tuple "
                           f"that only consists of tensor leaves, but got {operands}.")
    from .autograd import grad_mode

    taken, strict = bool(pred), grad_mode.is_grad_enabled()
    copies = _clones(operands)
    with grad_mode.no_grad():
        other = _call("torch.cond", false_fn if taken else true_fn, copies,
                      tree.tree_flatten(copies)[0], strict)
    out = _call("torch.cond", true_fn if taken else false_fn, operands, in_leaves, strict)
    true_out, false_out = (out, other) if taken else (other, out)
    true_leaves, true_spec = tree.tree_flatten(true_out)
    false_leaves, false_spec = tree.tree_flatten(false_out)
    _check_leaves("torch.cond", true_leaves + false_leaves)
    if true_spec != false_spec:
        raise RuntimeError("Unmatched output spec from torch.cond branches: true branch "
                           f"tree_spec {true_spec} vs false branch tree_spec {false_spec}.")
    for a, b in zip(true_leaves, false_leaves):
        _check_merge(a, b)
    return out


def _check_pred(pred):
    if (isinstance(pred, Tensor) and pred.dim() == 0 and pred.dtype.name == "bool") \
            or isinstance(pred, bool):
        return bool(pred)
    raise RuntimeError(f"cond_fn must return a boolean scalar tensor or a boolean but got {pred}")


def _check_body(out_leaves, in_leaves):
    """The body's flat outputs against the carried inputs: count, type, shape and dtype."""
    if len(out_leaves) != len(in_leaves):
        raise RuntimeError("Expected body_fn_output and carried_inputs to have same number of "
                           f"outputs but got lhs:{out_leaves} and rhs:{in_leaves}")
    for i, (a, b) in enumerate(zip(out_leaves, in_leaves)):
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            diffs = [f"'{name}: {x} vs {y}'" for name, x, y in
                     (("shape", a.shape, b.shape), ("dtype", a.dtype, b.dtype)) if x != y]
        elif type(a) is type(b) or (isinstance(a, int) and isinstance(b, int)):
            diffs = []
        else:
            diffs = [f"type: {a!r} vs {b!r}"]
        if diffs:
            raise RuntimeError("Expected body_fn_output and carried_inputs to have same metadata "
                               f"but found:\npair[{i}] differ in {', '.join(diffs)}")


def while_loop(cond_fn, body_fn, carried_inputs):
    """``val = carried_inputs; while cond_fn(*val): val = body_fn(*val)`` (``torch.while_loop``).

    Runs eagerly with ordinary ops, so gradients flow through every iteration that ran (to
    the carried inputs and to tensors the functions capture).

    Args:
        cond_fn: returns a bool scalar tensor or a Python bool.
        body_fn: returns the next carried values: the same number of tensors (same shape and
            dtype) and ints as ``carried_inputs``, none of them an input itself.
        carried_inputs: a tuple or list (possibly nested, with dicts) of tensors and ints.

    Returns:
        The last values, in the structure ``body_fn`` returns (tensors cloned when the loop
        never ran; the body is then run once on clones under ``no_grad`` for its structure,
        as torch traces it).

    Raises:
        AssertionError: a carried leaf that is neither a tensor nor an int (torch's).
        RuntimeError: a bad ``cond_fn`` result, body outputs that do not match the carried
            inputs, aliasing, or in-place changes to them while grad mode is on.
    """
    tree = _tree()
    flat, in_spec = tree.tree_flatten(carried_inputs)
    if not callable(cond_fn) or not callable(body_fn):
        raise RuntimeError("Expect cond_fn and body_fn to be callable.")
    if not all(isinstance(t, (Tensor, int)) for t in flat):
        types = ", ".join(str(type(t)) for t in flat)
        raise AssertionError(f"{flat} can only be of ({Tensor}, {int}) but got ({types})")
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"carried_inputs must be a tuple or list but got "
                           f"{type(carried_inputs)}")
    from .autograd import grad_mode

    carried, out_spec, strict = carried_inputs, None, grad_mode.is_grad_enabled()
    while _check_pred(_call("torch.while_loop", cond_fn, carried, flat, strict)):
        out_leaves, out_spec = tree.tree_flatten(_call("torch.while_loop", body_fn, carried,
                                                       flat, strict))
        _check_body(out_leaves, flat)
        flat = out_leaves
        carried = tree.tree_unflatten(flat, in_spec)
    if out_spec is None:                        # never ran: the body's structure, as traced
        copies = _clones(carried_inputs)
        with grad_mode.no_grad():
            traced = _call("torch.while_loop", body_fn, copies, tree.tree_flatten(copies)[0],
                           strict)
        out_leaves, out_spec = tree.tree_flatten(traced)
        _check_body(out_leaves, flat)
        flat = [t.clone() if isinstance(t, Tensor) else t for t in flat]
    return tree.tree_unflatten(flat, out_spec)
