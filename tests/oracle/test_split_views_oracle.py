"""The pieces of split/chunk (one piece too), tensor_split and unbind as torch makes them:
the node names, which pieces may be changed in place (split's and unbind's may not,
tensor_split's plain slices may), and the gradients; t() of 0-d/1-d tensors, prod over a dim
and kthvalue as their own nodes."""
import numpy as np
import pytest

import ember

CALLS = {
    "chunk into one": lambda m, x: x.chunk(1)[0],
    "split bigger than the dim": lambda m, x: x.split(3)[0],
    "tensor_split into one": lambda m, x: x.tensor_split(1, 1)[0],
    "tensor_split sections": lambda m, x: x.tensor_split(2, 1)[1],
    "tensor_split indices": lambda m, x: x.tensor_split([1, 3], 1)[2],
    "tensor_split reversed indices": lambda m, x: x.tensor_split([3, 1], 1)[1],
    "tensor_split negative index": lambda m, x: x.tensor_split([2, -1], 1)[1],
    "tensor_split tensor indices": lambda m, x: x.tensor_split(m.tensor([1, 3]), 1)[1],
    "tensor_split 0-d tensor": lambda m, x: x.tensor_split(m.tensor(3), 1)[0],
    "unbind": lambda m, x: x.unbind(1)[2],
    "t of 1-d": lambda m, x: x[0].t(),
    "t of 0-d": lambda m, x: x[0, 0].t(),
    "prod over a dim": lambda m, x: x.prod(0),
    "prod": lambda m, x: x.prod(),
    "kthvalue": lambda m, x: x.kthvalue(2, 1)[0],
    "kthvalue keepdim": lambda m, x: x.kthvalue(2, 0, keepdim=True)[0],
}
DATA = np.arange(12.0).reshape(3, 4) % 5 + np.arange(12.0).reshape(3, 4) / 100


def _outcome(lib, call):
    leaf = lib.tensor(DATA, requires_grad=True)
    piece = call(lib, leaf * 1)
    name = piece.grad_fn.name()
    weights = lib.arange(float(piece.numel())).reshape(tuple(piece.shape))
    (grad,) = lib.autograd.grad((piece * weights).sum(), leaf, retain_graph=True)
    try:
        piece.add_(1)
        in_place = "allowed"
    except RuntimeError as e:
        in_place = str(e).splitlines()[0]
    return name, piece.tolist(), grad.tolist(), in_place


@pytest.mark.parametrize("name", sorted(CALLS))
def test_pieces_match_torch(torch, name):
    assert _outcome(ember, CALLS[name]) == _outcome(torch, CALLS[name])


def test_unbind_and_kthvalue_second_order():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda t: ember.stack([p * p for p in t.unbind(1)]), (x,))
    assert ember.autograd.gradgradcheck(lambda t: t.kthvalue(2, 1)[0] ** 2, (x,))
