"""Derivatives of whole functions (torch.autograd.functional): ``jacobian``, ``vjp``, ``jvp``,
and the second derivatives ``hessian``, ``hvp`` and ``vhp``.

Each calls the function on fresh leaves that require grad and runs backward on its outputs:
``vjp`` once, ``jacobian`` once per output element (row by row), ``jvp`` as the Jacobian
times the vector. The second derivatives differentiate a gradient computed with
``create_graph=True``. With ``create_graph=True`` the results keep their graph (the leaves
are then views of the inputs, so it reaches the caller's tensors), as in torch.
"""
from __future__ import annotations

import numpy as np

from .. import _tensor as _t
from . import engine


def _inputs(inputs, create_graph=False, name="jacobian"):
    """(leaves that require grad, whether the caller passed a tuple)."""
    is_tuple = isinstance(inputs, (tuple, list))
    items = tuple(inputs) if is_tuple else (inputs,)
    for i, x in enumerate(items):
        if not isinstance(x, _t.Tensor):
            raise TypeError(f"The inputs given to {name} must be either a Tensor or a tuple "
                            f"of Tensors but the value at index {i} has type {type(x).__name__}.")
    if create_graph:  # a view keeps the graph connected to the caller's tensor
        return tuple(x.view_as(x) if x.requires_grad else
                     x.detach().requires_grad_(x.is_floating_point()) for x in items), is_tuple
    return tuple(x.detach().requires_grad_(x.is_floating_point()) for x in items), is_tuple


def _outputs(func, leaves, create_graph, strict, name):
    from .grad_mode import enable_grad

    with enable_grad():
        out = func(*leaves)
    is_tuple = isinstance(out, (tuple, list))
    outs = tuple(out) if is_tuple else (out,)
    for i, o in enumerate(outs):
        if not isinstance(o, _t.Tensor):
            raise TypeError(f"The outputs of the user-provided function given to {name} must be "
                            f"either a Tensor or a tuple of Tensors but the value at index {i} "
                            f"has type {type(o).__name__}.")
        if strict and not o.requires_grad:
            raise RuntimeError(f"Output {i} of the user-provided function does not require "
                               "gradients. The outputs must be computed in a differentiable "
                               "manner from the input when running in strict mode.")
    return outs, is_tuple


def _grads(outs, cotangents, leaves, retain, create_graph=False):
    """d(sum_i <outs_i, cotangents_i>)/d(leaves): zeros for leaves the outputs do not use."""
    from .. import _creation

    pairs = [(o, c) for o, c in zip(outs, cotangents) if o.requires_grad]
    res = (None,) * len(leaves)
    if pairs:
        if create_graph:
            from ._double_backward import run_backward_graph

            res = run_backward_graph(tuple(o for o, _ in pairs), tuple(c for _, c in pairs),
                                     True, inputs=leaves, accumulate=False, allow_unused=True)
        else:
            res = engine.run_backward(
                tuple(o for o, _ in pairs),
                tuple(c._data if isinstance(c, _t.Tensor) else c for _, c in pairs),
                retain, inputs=leaves, accumulate=False, allow_unused=True)
    return tuple(_creation.zeros_like(x) if g is None else g for g, x in zip(res, leaves))


def _done(values, create_graph):
    """torch's postprocessing: results keep their graph only with ``create_graph``."""
    return tuple(v if create_graph else v.detach() for v in values)


def _vectors(v, like, name):
    """``v`` as a tuple of Tensors shaped like ``like`` (torch's checks and words)."""
    vs = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if len(vs) != len(like):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got "
                           f"{len(vs)}.")
    for i, (a, b) in enumerate(zip(vs, like)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Entry {i} in v has invalid size: should be {b.shape} but got "
                               f"{a.shape}.")
    return vs


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product, one backward pass."""
    leaves, in_tuple = _inputs(inputs, create_graph, "vjp")
    outs, out_tuple = _outputs(func, leaves, create_graph, strict, "vjp")
    if v is None:
        if any(o.numel() != 1 for o in outs):
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        cotangents = [_t._wrap(np.ones(o._data.shape, o._data.dtype)) for o in outs]
    else:
        cotangents = _vectors(v, outs, "vjp")
    grads = _done(_grads(outs, cotangents, leaves, create_graph, create_graph), create_graph)
    values = _done(outs, create_graph)
    return (values if out_tuple else values[0]), (grads if in_tuple else grads[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for each output and input, a tensor of shape
    ``output.shape + input.shape``. Computed row by row, one backward per output element."""
    from .. import ops

    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    leaves, in_tuple = _inputs(inputs, create_graph)
    outs, out_tuple = _outputs(func, leaves, create_graph, strict, "jacobian")
    table = []
    for i, o in enumerate(outs):
        rows = [[] for _ in leaves]
        n = o.numel()
        for k in range(n):
            basis = np.zeros(n, o._data.dtype)
            basis[k] = 1
            cot = [_t._wrap(basis.reshape(o._data.shape) if j == i else np.zeros_like(p._data))
                   for j, p in enumerate(outs)]
            for r, g in zip(rows, _grads(outs, cot, leaves, True, create_graph)):
                r.append(g)
        table.append(tuple(
            _done((ops.stack(r).reshape((*o.shape, *x.shape)),), create_graph)[0] if r else
            _t._wrap(np.zeros(tuple(o.shape) + tuple(x.shape), x._data.dtype))
            for r, x in zip(rows, leaves)))
    if not out_tuple:
        table = table[0]
        return table if in_tuple else table[0]
    return tuple(row if in_tuple else row[0] for row in table)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product (from the Jacobian's rows)."""
    leaves, in_tuple = _inputs(inputs, create_graph, "jvp")
    vs = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if v is None:
        if any(x.numel() != 1 for x in leaves):
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        vs = tuple(x.detach() * 0 + 1 for x in leaves)
    jac = jacobian(func, tuple(leaves), create_graph, strict)
    outs, out_tuple = _outputs(func, leaves, create_graph, strict, "jvp")
    rows = jac if out_tuple else (jac,)
    products = []
    for o, row in zip(outs, rows):
        total = None
        for j, x in zip(row, vs):
            part = (j.reshape(o.numel(), x.numel()) @ x.reshape(-1).to(j.dtype)).reshape(o.shape)
            total = part if total is None else total + part
        products.append(total if create_graph else total.detach())
    values = _done(outs, create_graph)
    return (values if out_tuple else values[0]), (tuple(products) if out_tuple else products[0])


def _scalar_function(func, name, strict):
    """``func``, checked to return one Tensor of one element (hessian, hvp and vhp need that)."""

    def scalar(*args):
        out = func(*args)
        if not isinstance(out, _t.Tensor):
            raise RuntimeError(f"The function given to {name} should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {name} should "
                               "contain a single element")
        if strict and not out.requires_grad:
            raise RuntimeError("The output of the user-provided function is independent of "
                               "input 0. This is not allowed in strict mode.")
        return out.squeeze()

    return scalar


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """Second derivatives of a scalar function: the Jacobian of its gradient. One input:
    a tensor of shape ``input.shape + input.shape``; a tuple: ``H[i][j]`` for each pair."""
    scalar = _scalar_function(func, "hessian", strict)

    def gradient(*args):  # the gradient, recorded so that jacobian can differentiate it
        return jacobian(scalar, args, create_graph=True, strict=strict)

    rows = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                    strategy=outer_jacobian_strategy)
    return rows if isinstance(inputs, (tuple, list)) else rows[0]


def _hessian_product(func, inputs, v, create_graph, strict, name):
    """(func(inputs), v^T H), H the Hessian of the scalar ``func``: the gradient of
    ``<grad func, v>``, so two backward passes and no Hessian."""
    from .grad_mode import enable_grad

    leaves, in_tuple = _inputs(inputs, create_graph, name)
    (out,), _ = _outputs(_scalar_function(func, name, strict), leaves, create_graph, strict,
                         name)
    if v is None:
        if any(x.numel() != 1 for x in leaves):
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        v = tuple(_t._wrap(np.ones(x._data.shape, x._data.dtype)) for x in leaves)
    vs = _vectors(v, leaves, name)
    grads = _grads((out,), (None,), leaves, True, create_graph=True)
    with enable_grad():
        dot = sum((g * u).sum() for g, u in zip(grads, vs))
    products = _grads((dot,), (None,), leaves, create_graph, create_graph)
    products = _done(products, create_graph)
    return _done((out,), create_graph)[0], (products if in_tuple else products[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)``: the Hessian-vector product of a scalar function (H is
    symmetric, so this is the gradient of ``<grad func, v>``)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)``: the vector-Hessian product of a scalar function."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")
