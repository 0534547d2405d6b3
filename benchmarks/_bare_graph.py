"""The notes' LM step on the least machinery a define-by-run graph needs, for comparison.

ember's own op bodies (the same NumPy forward and backward as in a real step) run inside a
bare autograd: slotted tensors and nodes, modules whose ``__call__`` is ``forward``, a
depth-first backward that sums gradients in a dict, and the AdamW update on one flat
buffer. Nothing else: no hooks, version counters, creation sites, argument checks, grad
mode, retained-graph errors or optimizer state objects.

What separates this from the whole ember step is what torch's semantics cost in Python;
what separates it from the hand-written floor is the graph itself.
"""
from __future__ import annotations

import numpy as np

import ember
from ember.nn._functions.batch_norm import BatchNorm
from ember.nn._functions.cross_entropy import CrossEntropy
from ember.nn._functions.dropout import Dropout
from ember.nn._functions.embedding import EmbeddingLookup
from ember.ops.activation import Relu
from ember.ops.linalg import Linear


class _Node:
    """One recorded op: its class, its inputs, and what its forward saved (it is the ctx)."""

    __slots__ = ("op", "inputs", "_saved", "shape", "__dict__")
    needs_input_grad = (True, True, True)

    def save_for_backward(self, *values):
        self._saved = values

    @property
    def saved_tensors(self):
        return self._saved


class _Tensor:
    """An array, its gradient and the node that made it (None for a leaf)."""

    __slots__ = ("data", "grad", "node")

    def __init__(self, data, node=None):
        self.data, self.grad, self.node = data, None, node


def _apply(op, inputs, **options):
    node = _Node()
    node.op, node.inputs = op, inputs
    return _Tensor(op.forward(node, *[x.data for x in inputs], **options), node)


class _Flatten:
    """Reshape to (batch, -1); backward reshapes back."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return x.reshape(x.shape[0], -1)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


def _backward(loss):
    order, seen, stack = [], set(), [(loss.node, False)]
    while stack:  # post-order depth-first walk: a node after everything it feeds
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((x.node, False) for x in node.inputs if x.node is not None)
    grads = {id(loss.node): np.ones((), loss.data.dtype)}
    for node in reversed(order):
        result = node.op.backward(node, grads.pop(id(node)))
        if type(result) is not tuple:
            result = (result,)
        for x, g in zip(node.inputs, result):
            if g is None:
                continue
            if x.node is None:
                x.grad = g if x.grad is None else x.grad + g
            else:
                key = id(x.node)
                grads[key] = grads[key] + g if key in grads else g


def bare_step(model, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    """``step(x, y)`` for the notes' model built by ``lm_step.build_torchlike``: the same
    weights (copied into one flat buffer), the same op bodies, the bare graph above."""
    layers = list(model.body)
    params = []

    def leaf(t):
        params.append(_Tensor(t._data))
        return params[-1]

    emb = leaf(model.emb.weight)
    blocks = []
    for i in range(0, len(layers), 4):
        lin, bn, drop = layers[i], layers[i + 1], layers[i + 3]
        blocks.append((leaf(lin.weight), leaf(lin.bias), leaf(bn.weight), leaf(bn.bias), bn,
                       drop.p))
    head_w, head_b = leaf(model.head.weight), leaf(model.head.bias)
    flat = np.concatenate([p.data.reshape(-1) for p in params])
    offset = 0
    for p in params:
        p.data = flat[offset:offset + p.data.size].reshape(p.data.shape)
        offset += p.data.size
    grads, m, v, tmp = (np.zeros_like(flat) for _ in range(4))
    gen = ember.default_generator
    b1, b2 = betas
    t = [0]

    def step(x, y):
        for p in params:
            p.grad = None
        h = _apply(_Flatten, (_apply(EmbeddingLookup, (emb,), idx=x),))
        for w, b, gamma, beta, bn, p in blocks:
            h = _apply(Linear, (h, w, b))
            h = _apply(BatchNorm, (h, gamma, beta), running_mean=bn.running_mean._data,
                       running_var=bn.running_var._data, training=True,
                       momentum=bn.momentum, eps=bn.eps)
            h = _apply(Dropout, (_apply(Relu, (h,)),), p=p, generator=gen)
        loss = _apply(CrossEntropy, (_apply(Linear, (h, head_w, head_b)),), target=y)
        _backward(loss)
        np.concatenate([p.grad for p in params], axis=None, out=grads)
        t[0] += 1
        np.multiply(flat, 1 - lr * weight_decay, out=flat)
        np.multiply(m, b1, out=m)
        np.multiply(grads, 1 - b1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(v, b2, out=v)
        np.multiply(grads, grads, out=tmp)
        np.multiply(tmp, 1 - b2, out=tmp)
        np.add(v, tmp, out=v)
        np.sqrt(v, out=tmp)
        np.divide(tmp, np.sqrt(1 - b2 ** t[0]), out=tmp)
        np.add(tmp, eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        np.multiply(tmp, lr / (1 - b1 ** t[0]), out=tmp)
        np.subtract(flat, tmp, out=flat)
        return loss

    return step
