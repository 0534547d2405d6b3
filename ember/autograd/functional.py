"""Derivatives of whole functions: ``jacobian``, ``vjp`` and ``jvp`` (torch.autograd.functional).

Each calls the function on fresh leaves that require grad and runs backward on its outputs:
``vjp`` once, ``jacobian`` once per output element (row by row), ``jvp`` as the Jacobian
times the vector. Second derivatives (``hessian``, ``hvp``, ``vhp``, ``create_graph=True``)
need a recorded backward, which ember does not have yet.
"""
from __future__ import annotations

import numpy as np

from .. import _tensor as _t
from . import engine

_NO_SECOND = ("{name} needs second derivatives (create_graph=True), which ember does not "
              "support yet: its op backwards work on arrays and are not themselves recorded.")


def _inputs(inputs):
    """(leaves that require grad, whether the caller passed a tuple)."""
    is_tuple = isinstance(inputs, (tuple, list))
    items = tuple(inputs) if is_tuple else (inputs,)
    for i, x in enumerate(items):
        if not isinstance(x, _t.Tensor):
            raise TypeError(f"The inputs given to jacobian must be either a Tensor or a tuple "
                            f"of Tensors but the value at index {i} has type {type(x).__name__}.")
    return tuple(x.detach().requires_grad_(x.is_floating_point()) for x in items), is_tuple


def _outputs(func, leaves, create_graph, strict, name):
    if create_graph:
        raise NotImplementedError(_NO_SECOND.format(name=f"{name}(create_graph=True)"))
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


def _grads(outs, cotangents, leaves, retain):
    """d(sum_i <outs_i, cotangents_i>)/d(leaves): zeros for leaves the outputs do not use."""
    from .. import _creation

    pairs = [(o, c) for o, c in zip(outs, cotangents) if o.requires_grad]
    res = (None,) * len(leaves)
    if pairs:
        res = engine.run_backward(tuple(o for o, _ in pairs), tuple(c for _, c in pairs),
                                  retain, inputs=leaves, accumulate=False, allow_unused=True)
    return tuple(_creation.zeros_like(x) if g is None else g for g, x in zip(res, leaves))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product, one backward pass."""
    leaves, in_tuple = _inputs(inputs)
    outs, out_tuple = _outputs(func, leaves, create_graph, strict, "vjp")
    if v is None:
        if any(o.numel() != 1 for o in outs):
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        cotangents = [np.ones(o._data.shape, o._data.dtype) for o in outs]
    else:
        cotangents = [c._data for c in (tuple(v) if isinstance(v, (tuple, list)) else (v,))]
    grads = _grads(outs, cotangents, leaves, False)
    values = tuple(o.detach() for o in outs)
    return (values if out_tuple else values[0]), (grads if in_tuple else grads[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for each output and input, a tensor of shape
    ``output.shape + input.shape``. Computed row by row, one backward per output element."""
    from .. import ops

    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    leaves, in_tuple = _inputs(inputs)
    outs, out_tuple = _outputs(func, leaves, create_graph, strict, "jacobian")
    table = []
    for i, o in enumerate(outs):
        rows = [[] for _ in leaves]
        n = o.numel()
        for k in range(n):
            basis = np.zeros(n, o._data.dtype)
            basis[k] = 1
            cot = [basis.reshape(o._data.shape) if j == i else np.zeros_like(p._data)
                   for j, p in enumerate(outs)]
            for r, g in zip(rows, _grads(outs, cot, leaves, True)):
                r.append(g)
        table.append(tuple(
            ops.stack(r).reshape(*o.shape, *x.shape) if r else
            _t._wrap(np.zeros(tuple(o.shape) + tuple(x.shape), x._data.dtype))
            for r, x in zip(rows, leaves)))
    if not out_tuple:
        table = table[0]
        return table if in_tuple else table[0]
    return tuple(row if in_tuple else row[0] for row in table)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product (from the Jacobian's rows)."""
    leaves, in_tuple = _inputs(inputs)
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
        products.append(total.detach())
    values = tuple(o.detach() for o in outs)
    return (values if out_tuple else values[0]), (tuple(products) if out_tuple else products[0])


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """Second derivatives: not supported yet (raises NotImplementedError saying why)."""
    raise NotImplementedError(_NO_SECOND.format(name="hessian"))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """Hessian-vector product: not supported yet (raises NotImplementedError saying why)."""
    raise NotImplementedError(_NO_SECOND.format(name="hvp"))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """Vector-Hessian product: not supported yet (raises NotImplementedError saying why)."""
    raise NotImplementedError(_NO_SECOND.format(name="vhp"))
