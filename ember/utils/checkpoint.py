"""Activation checkpointing: trade compute for memory (``torch.utils.checkpoint``).

``checkpoint(fn, *args)`` runs ``fn`` and keeps only its inputs and outputs; the values its
ops saved for backward are dropped at once. When backward reaches the checkpoint, ``fn``
runs again (with the random state it had the first time, so dropout draws the same mask)
and its own backward gives the gradients of the inputs and of every parameter it used.

ember records the segment's graph once to learn which parameters ``fn`` reads, then keeps
one node in its place: ``CheckpointFunctionBackward``, as torch's reentrant variant shows.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import _random
from .._tensor import Tensor
from ..autograd import engine
from ..autograd.function import AccumulateGrad, Function
from ..autograd.grad_mode import enable_grad, no_grad

__all__ = ["checkpoint", "checkpoint_sequential"]


def _leaves_read(outputs, args) -> list:
    """The leaves that require grad reachable from ``outputs`` without passing through the
    history of ``args`` (the segment's parameters)."""
    stop = {id(a.grad_fn) for a in args if a.grad_fn is not None}
    arg_ids = {id(a) for a in args}
    seen, leaves = set(), []
    stack = [o.grad_fn for o in outputs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen or id(node) in stop:
            continue
        seen.add(id(node))
        if type(node) is AccumulateGrad:
            if id(node.variable) not in arg_ids:
                leaves.append(node.variable)
            continue
        stack.extend(child for child, _ in node.next_functions if child is not None)
    return leaves


class CheckpointFunction(Function):
    """Runs the segment without keeping its graph; backward runs it again to differentiate."""

    @staticmethod
    def forward(ctx, fn, rng_state, n_args, *tensors):
        # the RNG state kept as bytes: not an activation, so not counted as one
        ctx.fn, ctx.rng_state, ctx.n_args = fn, rng_state.numpy().tobytes(), n_args
        ctx.save_for_backward(*tensors)
        with no_grad():
            out = fn(*tensors[:n_args])
        ctx.single = not isinstance(out, tuple)
        return out

    @staticmethod
    def backward(ctx, *grads):
        tensors = ctx.saved_tensors
        args, leaves = tensors[:ctx.n_args], tensors[ctx.n_args:]
        inputs = [a.detach().requires_grad_(a.requires_grad) for a in args]
        now = _random.get_rng_state()
        _random.set_rng_state(np.frombuffer(ctx.rng_state, np.uint8))
        try:
            with enable_grad():
                out = ctx.fn(*inputs)
        finally:
            _random.set_rng_state(now)
        outs = (out,) if ctx.single else tuple(out)
        pairs = [(o, g) for o, g in zip(outs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        wanted = [x for x in (*inputs, *leaves) if x.requires_grad]
        found = {}
        if pairs and wanted:
            res = engine.run_backward(tuple(o for o, _ in pairs), tuple(g._data for _, g in pairs),
                                      False, inputs=tuple(wanted), accumulate=False,
                                      allow_unused=True)
            found = {id(x): g for x, g in zip(wanted, res)}
        return (None, None, None, *(found.get(id(x)) for x in (*inputs, *leaves)))


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """``function(*args)``, keeping no activations inside it for backward (recomputed then).

    Gradients reach ``args`` that require grad and every parameter ``function`` reads, with
    or without ``use_reentrant``.
    """
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. use_reentrant=False is recommended.", UserWarning, stacklevel=2)
    if kwargs:
        function = _with_kwargs(function, kwargs)
    tensors = [a for a in args if isinstance(a, Tensor)]
    if len(tensors) != len(args):
        function, args = _tensors_only(function, args), tuple(tensors)
    rng_state = _random.get_rng_state() if preserve_rng_state else None
    with enable_grad():  # one recorded run, only to find the parameters the segment reads
        probe = function(*args)
    outs = probe if isinstance(probe, tuple) else (probe,)
    leaves = _leaves_read([o for o in outs if isinstance(o, Tensor)], args)
    if not any(isinstance(o, Tensor) and o.requires_grad for o in outs):
        return probe
    if rng_state is not None:
        _random.set_rng_state(rng_state)
    return CheckpointFunction.apply(function, rng_state if rng_state is not None else
                                    _random.get_rng_state(), len(args), *args, *leaves)


def _with_kwargs(function, kwargs):
    def call(*args):
        return function(*args, **kwargs)

    return call


def _tensors_only(function, args):
    """``function`` taking only the tensor arguments, the others bound in their places."""
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]

    def call(*tensors):
        full = list(args)
        for i, t in zip(positions, tensors):
            full[i] = t
        return function(*full)

    return call


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a ``Sequential`` (or list of modules) in ``segments`` checkpointed pieces; the last
    piece runs normally, as in torch."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = max(len(functions) // segments, 1)

    def run(start, end):
        def forward(x):
            for f in functions[start:end]:
                x = f(x)
            return x

        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end + 1), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(functions))(input)
