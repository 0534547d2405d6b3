"""Define-by-run automatic differentiation: the graph is recorded as ops run.

``backward`` and ``grad`` walk it from the outputs back to the leaves (see ``engine``);
``Function`` lets users add their own differentiable ops; ``gradcheck`` verifies
gradients against finite differences; ``graph`` inspects and draws the recorded graph.
"""
from __future__ import annotations

from . import _saved_attrs  # noqa: F401,I001  (grad_fn._saved_self & co., on Node)
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
        retain_graph: keep the graph's saved values for another backward (default:
            ``create_graph``).
        create_graph: record the backward pass itself, so that the leaves' ``.grad`` have a
            ``grad_fn`` and can be differentiated again (higher-order gradients).
        inputs: only these accumulate (tensors, ``GradientEdge``s, or a dict of tensors).
        explain: print the walk step by step (``ember.autograd.explain``).
    """
    from . import engine
    from ._graph_extras import edges_as_tensors, inputs_tuple  # GradientEdges, dicts

    tensors = _as_tuple(edges_as_tensors(tensors))
    inputs = inputs_tuple(inputs, "backward")
    grads = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if grads is not None and len(grads) != len(tensors):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                           f"(got {len(grads)} gradients for {len(tensors)} tensors)")
    if create_graph:
        _backward_graph(tensors, grads, retain_graph, inputs)
        return
    tracer = None
    if explain:
        from .explain import Tracer

        tracer = Tracer(print_fn=print if explain is True else explain)
    engine.run_backward(tensors, grads, bool(retain_graph), inputs=inputs, tracer=tracer)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` untouched).

    With ``create_graph=True`` the backward pass is recorded: the gradients have a
    ``grad_fn`` and can be differentiated again (``retain_graph`` then defaults to True).
    """
    from . import engine
    from ._graph_extras import edges_as_tensors, inputs_tuple, materialize

    keys = list(inputs) if type(inputs) is dict else None  # a dict in, a dict out
    outputs = _as_tuple(edges_as_tensors(outputs))  # GradientEdges as outputs or inputs
    inputs = inputs_tuple(inputs, "grad")
    grads = _as_tuple(grad_outputs)
    unused_ok = bool(allow_unused or materialize_grads)
    if retain_graph is None:
        retain_graph = create_graph
    run = engine.run_backward
    if create_graph:
        from ._double_backward import run_backward_graph as run
    if is_grads_batched:
        res = _batched_grad(run, outputs, inputs, grads, retain_graph, unused_ok)
    else:
        res = run(outputs, grads, bool(retain_graph), inputs=inputs, accumulate=False,
                  allow_unused=unused_ok, capture_hooks=True)
    if materialize_grads:
        res = materialize(res, inputs, create_graph)
    return res if keys is None else dict(zip(keys, res))


_warned_cycle = False


def _backward_graph(tensors, grads, retain_graph, inputs):
    """``backward(create_graph=True)``: the leaves' ``.grad`` get a graph of their own."""
    import warnings

    from ._double_backward import run_backward_graph

    if retain_graph is None:
        retain_graph = True
    if inputs is not None:
        run_backward_graph(tensors, grads, retain_graph, inputs=inputs)
        return
    global _warned_cycle
    if not _warned_cycle:  # once, as torch's TORCH_WARN_ONCE
        _warned_cycle = True
        warnings.warn("Using backward() with create_graph=True will create a reference cycle "
                      "between the parameter and its gradient which can cause a memory leak. We "
                      "recommend using autograd.grad when creating the graph to avoid this. If "
                      "you have to use this function, make sure to reset the .grad fields of "
                      "your parameters to None after use to break the cycle and avoid the leak.",
                      UserWarning, stacklevel=4)
    run_backward_graph(tensors, grads, retain_graph)


def _batched_grad(run, outputs, inputs, grads, retain_graph, allow_unused):
    """``grad`` for each slice ``grad_outputs[k]`` along the first dim, stacked: torch runs
    the backward under vmap, ember once per slice (the graph kept until the last)."""
    from .. import ops

    if not grads or any(g is None for g in grads):
        raise ValueError("autograd.grad(is_grads_batched=True) needs grad_outputs, one per "
                         "output, each with the batch as its first dim")
    n = grads[0].shape[0]
    per_slice = []
    for k in range(n):
        per_slice.append(run(
            outputs, tuple(g[k] for g in grads), bool(retain_graph) or k < n - 1,
            inputs=inputs, accumulate=False, allow_unused=allow_unused, capture_hooks=True))
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
    if name in ("graph", "explain_module", "functional", "profiler", "forward_ad"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name in ("set_multithreading_enabled", "is_multithreading_enabled"):
        from . import _graph_extras

        return getattr(_graph_extras, name)
    if name == "explain":
        from .explain import explain

        return explain
    if name == "check_function":
        from .check_function import check_function

        return check_function
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
