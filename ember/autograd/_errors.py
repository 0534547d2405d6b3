"""Autograd error messages in two layers: torch's first line, then why, where and how to fix.

The first line is torch's wording, word for word, so that searching for it finds the
answers written for torch. Then, from what the graph recorded (each node's creation
site, the version counters, which backward freed what):

    Why:   what went wrong, in terms of the graph;
    Where: the lines involved (the op that saved a tensor, the op that changed it ...);
    Fix:   what to change.

Only imported when an error is raised, so it costs nothing on the hot path.
"""
from __future__ import annotations

import gc
import re
import sys

from . import graph as _g
from .function import _FREED, _TORCH_TYPE_NAMES, AccumulateGrad, Node


def _layers(first, why, where, fix):
    out = [first, "", "Why: " + why]
    if where:
        out.append("Where:")
        out.extend("  " + w for w in where)
    out.append("Fix: " + fix)
    return "\n".join(out)


def _node_where(node):
    return _g.where(getattr(node, "_site", None))


def _made_by(node):
    """``MulBackward0, created at t.py:5  y = x * 2``."""
    return f"{node.name()}, created at {_node_where(node)}"


def _tensor_desc(shape, dtype):
    name = getattr(dtype, "name", str(dtype))
    return f"[torch.{_TORCH_TYPE_NAMES.get(name, name)} [{', '.join(str(s) for s in shape)}]]"


def _backward_call_site():
    """Where the user called backward (the frame outside ember that entered run_backward)."""
    f = sys._getframe(1)
    engine = None
    while f is not None:
        if f.f_code.co_name == "run_backward" and f.f_code.co_filename.endswith("engine.py"):
            engine = f
        f = f.f_back
    if engine is None:
        return None
    f = engine.f_back
    while f is not None and f.f_code.co_filename.startswith(_g._PACKAGE_DIR):
        f = f.f_back
    return (f.f_code.co_filename, f.f_lineno) if f is not None else None


def _backward_code_site(node):
    """``(file, line)`` of the backward method that computes this node's gradients."""
    fn = getattr(node, "_fn", None)
    cls = getattr(fn, "cls", fn)  # user Functions are wrapped in an adapter with .cls
    method = getattr(cls, "backward", None)
    code = getattr(method, "__code__", None)
    if code is None:
        return None
    return code.co_filename, code.co_firstlineno


def _fn_name(node):
    fn = getattr(node, "_fn", None)
    cls = getattr(fn, "cls", fn)
    return getattr(cls, "__name__", node.name())


# --- in-place modification of a saved tensor ----------------------------------------------
def _modifier(vc, fn, saver):
    """``(description, site)`` of the in-place op that last changed the tensor behind ``vc``.

    Exact when the version counter carries the site of its last change (``vc[1]``, see the
    proposal in the report); otherwise the tensor is found through the counter it shares,
    and its current ``grad_fn`` is the node the recorded in-place op created.
    """
    if len(vc) > 1 and vc[1] is not None:
        op, site = vc[1]
        return f"{op}", site
    best = _inplace_node(vc, fn, saver)
    if best is not None:
        return f"the in-place op recorded as {best.name()}", getattr(best, "_site", None)
    return None, None


def _inplace_node(vc, fn, saver):
    """The newest node a recorded in-place op made for the tensor behind ``vc`` after
    ``saver`` ran (found through the counter the tensor shares), or None."""
    saver_seq = getattr(saver, "_seq_nr", -1)
    best = None
    for obj in gc.get_referrers(vc):
        gfn = getattr(obj, "grad_fn", None)
        if gfn is None or getattr(obj, "_vc", None) is not vc or gfn is fn:
            continue
        seq = getattr(gfn, "_seq_nr", -1)
        if seq > saver_seq and (best is None or seq > best._seq_nr):
            best = gfn
    return best


def _torch_origin(node, vc, fn, output_nr, tensor):
    """torch's ``, which is output 0 of Mul,`` clause: the tensor's grad_fn *now* (the node of
    the in-place op that changed it, when one was recorded; the saving node itself for a
    saved output), named without its ``Backward0`` suffix; nothing for a leaf."""
    if tensor is not None:
        current, nr = tensor.grad_fn, tensor._output_nr
        name = None if current is None else current.name()
    elif fn is node:
        name, nr = node.name(), output_nr
    elif fn is not None and fn._output_is_view:
        # a view changed in place (itself or through its base): torch regenerates its grad_fn
        name, nr = "AsStridedBackward0", 0
    elif len(vc) > 2 and vc[2] is not None:  # the tensor itself is gone; its counter says
        name, nr = vc[2], 0
    else:
        name, nr = (None if fn is None else fn.name()), output_nr
    if name is None or name == "AccumulateGrad":
        return ""
    return f", which is output {nr} of {re.sub(r'Backward[0-9]*$', '', name)},"


def inplace_modified(node, vc, version, shape, dtype, fn, output_nr, rg, tensor=None) -> str:
    """The message for a saved tensor changed in place before backward used it.

    ``tensor`` (user Functions save Tensors) is the saved tensor itself: when a recorded
    in-place op changed it, its ``grad_fn`` is now that op's node.
    """
    what = site = None
    clause = _torch_origin(node, vc, fn, output_nr, tensor)
    if tensor is not None and fn is not None and fn._seq_nr > node._seq_nr:
        what, site = f"the in-place op recorded as {fn.name()}", getattr(fn, "_site", None)
        fn, output_nr = fn.next_functions[0] if fn.next_functions else (None, 0)
        if type(fn) is AccumulateGrad:
            fn = None
    if fn is node:
        origin = f"output {output_nr} of {fn.name()}"
    elif fn is not None:
        origin = f"output {output_nr} of {fn.name()}"
    else:
        origin = "a leaf tensor" if rg else "an input tensor"
    first = ("one of the variables needed for gradient computation has been modified by an "
             f"inplace operation: {_tensor_desc(shape, dtype)}{clause} is at version {vc[0]}; "
             f"expected version {version} instead.")
    if what is None:
        what, site = _modifier(vc, fn, node)
    why = (f"{node.name()} saved this tensor during the forward pass to compute its gradient "
           f"later; afterwards an in-place operation changed it (version {version} -> "
           f"{vc[0]}), so the saved value is no longer the one the forward pass used and the "
           "gradient would be wrong.")
    where = [f"saved by     {_made_by(node)}"]
    if what is not None:
        where.append(f"modified by  {what}, at {_g.where(site)}")
    else:
        where.append("modified by  an in-place change autograd did not record (inside "
                     "no_grad(), through .data, by optimizer.step(), or on a tensor that does "
                     "not require grad), so its line is unknown")
    if fn is not None and fn is not node:
        where.append(f"the tensor   is {origin}, created at {_node_where(fn)}")
    elif fn is None:
        where.append(f"the tensor   is {origin}")
    if fn is None and rg:
        fix = ("a leaf that requires grad (a parameter) was changed after the forward pass "
               "used it: run optimizer.step() (or any in-place update of the weights) only "
               "after loss.backward(), and run the forward pass again after each update.")
    else:
        fix = ("use the out-of-place form (y = y + 1 instead of y += 1 or y.add_(1); "
               "relu(x) instead of relu_(x) / inplace=True), or clone() the tensor before "
               "changing it in place, or change it only after backward has run.")
    return _layers(first, why, where, fix)


# --- backward through a freed graph -------------------------------------------------------
def freed(node) -> str:
    """The message for using saved tensors that an earlier backward freed."""
    released = getattr(node, "_released", None)
    by = released if isinstance(released, tuple) else None
    why = (f"{node.name()} needs the tensors it saved during the forward pass, but a backward "
           "through this graph already ran and freed them (to save memory, backward frees "
           "each node's saved tensors once it has run, unless retain_graph=True).")
    where = [f"freed node   {_made_by(node)}"]
    if by is not None:
        where.append(f"freed by     the backward called at {_g.where(by)}")
    elif released:
        where.append("freed by     an earlier backward (its line was not recorded)")
    now = _backward_call_site()
    if now is not None:
        where.append(f"used again   by the backward called at {_g.where(now)}")
    else:
        where.append(f"used again   at {_g.where(_g.user_site(2))}")
    fix = ("run the forward pass again before each backward (a training loop recomputes the "
           "loss every step), or pass retain_graph=True to the first backward if you really "
           "need to go through the same graph twice. Two losses sharing part of a graph: add "
           "them and call backward once, (loss1 + loss2).backward().")
    return _layers(_FREED, why, where, fix)


# --- errors at the start of backward ------------------------------------------------------
def not_scalar(t) -> str:
    """backward() without a gradient on a tensor with more than one element."""
    shape = _g.fmt_shape(t.shape)
    why = (f"backward() starts from d(output)/d(output) = 1, which is only defined for a "
           f"one-element output; this tensor has shape {shape} ({t.numel()} elements), so "
           "there is no implicit gradient to start from.")
    where = []
    if t.grad_fn is not None:
        where.append(f"the tensor   was made by {_made_by(t.grad_fn)}")
    where.append(f"backward     called at {_g.where(_backward_call_site() or _g.user_site(2))}")
    fix = ("reduce it to a scalar loss first (out.sum().backward() or out.mean().backward()), "
           "or pass the gradient explicitly: out.backward(gradient=ember.ones_like(out)).")
    return _layers("grad can be implicitly created only for scalar outputs", why, where, fix)


def no_grad_fn(i, t) -> str:
    """backward() on a tensor that does not require grad."""
    from . import grad_mode

    why = ("backward needs a graph and this tensor has none: it is a leaf with "
           "requires_grad=False. Tensors get a graph only when an op computes them, with grad "
           "mode on, from a tensor that requires grad.")
    if not grad_mode.is_grad_enabled():
        why += " Grad mode is off right now (inside no_grad() or set_grad_enabled(False))."
    where = [f"backward     called at {_g.where(_backward_call_site() or _g.user_site(2))}"]
    fix = ("make the parameters require grad (requires_grad=True; nn.Parameter does it), "
           "compute the loss outside `with ember.no_grad():`, and do not go through .detach(), "
           ".data, .item() or NumPy on the way from the parameters to the loss.")
    return _layers(f"element {i} of tensors does not require grad and does not have a grad_fn",
                   why, where, fix)


def shape_mismatch(i, grad_shape, out_shape, first) -> str:
    """A gradient passed to backward() whose shape is not the output's."""
    why = (f"the gradient given to backward() is d(something)/d(output), so it must have the "
           f"output's shape: {_g.fmt_shape(out_shape)}, not {_g.fmt_shape(grad_shape)}.")
    where = [f"backward     called at {_g.where(_backward_call_site() or _g.user_site(2))}"]
    fix = ("pass a gradient shaped like the output, e.g. out.backward(ember.ones_like(out)), or "
           "reduce to a scalar first: out.sum().backward().")
    return _layers(first, why, where, fix)


# --- errors from a node's backward --------------------------------------------------------
def invalid_gradient(node, i, got, want) -> str:
    """A backward returned a gradient whose shape does not fit its input."""
    first = (f"Function {node.name()} returned an invalid gradient at index {i} - got "
             f"{list(got)} but expected shape compatible with {list(want)}")
    child = node.next_functions[i][0] if i < len(node.next_functions) else None
    what = ""
    if type(child) is AccumulateGrad:
        what = " (a leaf)"
    elif isinstance(child, Node):
        what = f" (output of {child.name()})"
    why = (f"a backward must return, for each input of forward, a gradient with that input's "
           f"shape; input {i}{what} has shape {_g.fmt_shape(want)} but the gradient has "
           f"{_g.fmt_shape(got)}.")
    where = [f"the node     {_made_by(node)}"]
    code = _backward_code_site(node)
    if code is not None:
        where.append(f"its backward {_fn_name(node)}.backward, {_g.site_str(code)}")
    fix = ("if forward broadcast this input, sum the gradient over the broadcast dimensions "
           "(grad.sum(dim=0), or grad.sum_to_size(*input.shape)); if it reshaped or "
           "transposed it, undo that; check that the gradients are returned in the order of "
           "forward's arguments.")
    return _layers(first, why, where, fix)


def wrong_count(node, expected, got) -> str:
    """A backward returned more or fewer gradients than forward had inputs."""
    first = (f"function {node.name()} returned an incorrect number of gradients (expected "
             f"{expected}, got {got})")
    why = ("backward must return one value per argument of forward, in the same order: a "
           "gradient for each tensor that may need one, None for the others (non-tensor "
           "arguments included).")
    where = [f"the node     {_made_by(node)}"]
    code = _backward_code_site(node)
    if code is not None:
        where.append(f"its backward {_fn_name(node)}.backward, {_g.site_str(code)}")
    nones = ", ".join(["grad_input"] + ["None"] * (expected - 1)) if expected > 0 else ""
    fix = (f"return a tuple of {expected} value{'s' if expected != 1 else ''}"
           + (f" (e.g. return {nones})" if expected > 1 else "") + ".")
    return _layers(first, why, where, fix)


# --- autograd.grad ------------------------------------------------------------------------
def input_no_grad(inputs, x) -> str:
    """autograd.grad asked for the gradient of a tensor that does not require grad."""
    i = next((k for k, y in enumerate(inputs) if y is x), 0)
    why = (f"autograd.grad can only differentiate with respect to tensors that require grad; "
           f"inputs[{i}] ({_g.fmt_shape(x.shape)} {x.dtype}) has requires_grad=False, so no "
           "graph leads to it.")
    where = [f"called at    {_g.where(_backward_call_site() or _g.user_site(2))}"]
    fix = ("call x.requires_grad_() on it before the forward pass that uses it, or leave it "
           "out of inputs.")
    return _layers("One of the differentiated Tensors does not require grad", why, where, fix)


def unused_input(i, x) -> str:
    """autograd.grad asked for the gradient of a tensor the outputs do not depend on."""
    first = (f"The differentiated Tensor at index {i} appears to not have been used in the "
             "graph. Set allow_unused=True if this is the desired behavior.")
    why = (f"no path in the graph leads from the outputs back to inputs[{i}] "
           f"({_g.fmt_shape(x.shape)}): the outputs were not computed from it, or only "
           "through .detach(), .data, .item(), NumPy or no_grad().")
    where = [f"called at    {_g.where(_backward_call_site() or _g.user_site(2))}"]
    fix = ("check that the outputs really use this input; pass allow_unused=True to get None "
           "for it instead of an error (materialize_grads=True gives zeros).")
    return _layers(first, why, where, fix)

