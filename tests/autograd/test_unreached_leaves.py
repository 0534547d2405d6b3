"""Leaves the gradient does not reach, as in torch: a view made under no_grad of a tensor
that requires grad (its edge goes nowhere: ``autograd.grad`` finds it unused), and a leaf
that stopped requiring grad after the forward (AccumulateGrad skips it)."""
import pytest

import ember


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_wrt_no_grad_view_is_unused(create_graph):
    x = ember.ones(3, requires_grad=True)
    with ember.no_grad():
        v = x[:2]
    assert v.requires_grad and v.is_leaf
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        ember.autograd.grad((v * 2).sum(), v, create_graph=create_graph)
    y = (v * 2 + x[:2]).sum()
    gv, gx = ember.autograd.grad(y, [v, x], allow_unused=True, create_graph=create_graph)
    assert gv is None
    assert gx.tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize("create_graph", [False, True])
def test_leaf_frozen_after_forward_gets_no_gradient(create_graph):
    w = ember.ones(2, requires_grad=True)
    v = ember.ones(2, requires_grad=True)
    y = (w * v * 2).sum()
    w.requires_grad_(False)  # torch's AccumulateGrad skips a leaf that no longer requires grad
    y.backward(create_graph=create_graph)
    assert w.grad is None
    assert v.grad.tolist() == [2.0, 2.0]
