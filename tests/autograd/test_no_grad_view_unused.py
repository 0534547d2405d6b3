"""A view made under no_grad of a tensor that requires grad requires grad too, but its
gradient edge goes nowhere: ``autograd.grad`` with respect to it finds it unused (torch)."""
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
