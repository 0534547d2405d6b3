"""Define-by-run automatic differentiation: the graph is recorded as ops run.

``backward`` and ``grad`` walk it from the outputs back to the leaves (see ``engine``);
``Function`` lets users add their own differentiable ops; ``gradcheck`` verifies
gradients against finite differences; ``graph`` inspects and draws the recorded graph.
"""
from __future__ import annotations

from .anomaly_mode import (  # noqa: F401
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from .function import Function, record_creation_site  # noqa: F401
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401

# NOTE: imported eagerly, as torch does, so that ``autograd.gradcheck`` is always the function
# (a lazy import would leave the package attribute bound to the submodule).
from .gradcheck import gradcheck, gradgradcheck  # noqa: E402,F401


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None, explain=False):
    """Accumulate the gradients of ``tensors`` into the leaves' ``.grad``.

    Args:
        tensors: outputs to differentiate (a tensor or a sequence).
        grad_tensors: their gradients (None for one-element outputs).
        retain_graph: keep the graph's saved values for another backward.
        create_graph: higher-order gradients; not supported yet.
        inputs: only these leaves accumulate.
        explain: print the walk step by step (``ember.autograd.explain``).
    """
    from . import engine

    if create_graph:
        raise NotImplementedError(
            "create_graph=True (higher-order gradients) is not supported yet: ember's op "
            "backwards work on arrays and are not themselves recorded.")
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if grads is not None and len(grads) != len(tensors):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                           f"(got {len(grads)} gradients for {len(tensors)} tensors)")
    tracer = None
    if explain:
        from .explain import Tracer

        tracer = Tracer(print_fn=print if explain is True else explain)
    inputs = _as_tuple(inputs)
    if inputs is not None:
        res = engine.run_backward(tensors, grads, bool(retain_graph), inputs=inputs,
                                  allow_unused=True, tracer=tracer)
        for x, g in zip(inputs, res):
            if g is not None:
                engine._accumulate(x, g._data, False)
        return
    engine.run_backward(tensors, grads, bool(retain_graph), tracer=tracer)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` untouched)."""
    from . import engine

    if create_graph:
        raise NotImplementedError(
            "create_graph=True (higher-order gradients) is not supported yet: ember's op "
            "backwards work on arrays and are not themselves recorded.")
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grads = _as_tuple(grad_outputs)
    unused_ok = bool(allow_unused or materialize_grads)
    if is_grads_batched:
        res = _batched_grad(engine, outputs, inputs, grads, retain_graph, unused_ok)
    else:
        res = engine.run_backward(outputs, grads, bool(retain_graph), inputs=inputs,
                                  accumulate=False, allow_unused=unused_ok)
    if materialize_grads:
        from .._creation import zeros_like

        res = tuple(r if r is not None else zeros_like(x) for r, x in zip(res, inputs))
    return res


def _batched_grad(engine, outputs, inputs, grads, retain_graph, allow_unused):
    """``grad`` for each slice ``grad_outputs[k]`` along the first dim, stacked: torch runs
    the backward under vmap, ember once per slice (the graph kept until the last)."""
    from .. import ops

    if not grads or any(g is None for g in grads):
        raise ValueError("autograd.grad(is_grads_batched=True) needs grad_outputs, one per "
                         "output, each with the batch as its first dim")
    n = grads[0].shape[0]
    per_slice = []
    for k in range(n):
        per_slice.append(engine.run_backward(
            outputs, tuple(g[k] for g in grads), bool(retain_graph) or k < n - 1,
            inputs=inputs, accumulate=False, allow_unused=allow_unused))
    return tuple(None if parts[0] is None else ops.stack(list(parts))
                 for parts in zip(*per_slice))


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802  (torch's old class)
    """torch's deprecated ``Variable(t)``: the tensor itself (Variables and Tensors are one
    thing since torch 0.4), with ``requires_grad`` set."""
    if requires_grad:
        data.requires_grad_(True)
    return data


def __getattr__(name):
    # submodules loaded on first use keep `import ember` cheap
    if name in ("graph", "explain_module", "functional"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name == "explain":
        from .explain import explain

        return explain
    if name == "check_function":
        from .check_function import check_function

        return check_function
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
