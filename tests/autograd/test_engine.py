"""The backward engine: order, accumulation, freeing, errors, hooks, long chains."""
import numpy as np
import pytest

import ember
from ember.autograd.gradcheck import gradcheck


def test_gradients_accumulate_over_two_backward_calls():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_zero_grad_by_hand_resets_accumulation():
    x = ember.tensor([1.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad = None
    (x * x).sum().backward()
    assert x.grad.item() == 2.0


def test_diamond_sums_both_branches():
    a = ember.tensor([2.0], requires_grad=True)
    b = a * 3
    c = b * b + b.exp()
    c.backward()
    expected = (2 * 6.0 + np.exp(6.0)) * 3
    assert abs(a.grad.item() - expected) / expected < 1e-6


def test_fan_out_to_same_leaf_many_times():
    x = ember.tensor([1.5], requires_grad=True)
    y = x + x + x * x
    y.backward()
    assert x.grad.item() == pytest.approx(2 + 2 * 1.5)


def test_backward_twice_without_retain_graph_raises_torch_message():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_non_scalar_backward_needs_gradient():
    x = ember.ones(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        y.backward()
    y.backward(ember.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_backward_on_tensor_without_grad_raises():
    x = ember.ones(2)
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        x.sum().backward()


def test_non_leaf_grad_is_none_unless_retained():
    x = ember.ones(2, requires_grad=True)
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h * k).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert h.grad is None
    np.testing.assert_allclose(k.grad.numpy(), [2.0, 2.0])
    assert k.retains_grad and not h.retains_grad


def test_chain_of_10000_ops_has_no_recursion_error():
    x = ember.ones(1, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-3)


def test_backward_order_is_reverse_topological():
    order = []
    x = ember.ones(2, requires_grad=True)
    a = x * 2
    b = a + 1
    c = b * a
    for t, name in ((a, "a"), (b, "b"), (c, "c")):
        t.register_hook(lambda g, name=name: order.append(name))
    c.sum().backward()
    assert order.index("c") < order.index("b") < order.index("a")


def test_tensor_hook_can_replace_gradient():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])


def test_leaf_hook_runs_before_accumulation_and_can_be_removed():
    x = ember.ones(2, requires_grad=True)
    handle = x.register_hook(lambda g: g * 0)
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0])
    handle.remove()
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_grad_fn_names_and_next_functions_like_torch():
    x = ember.ones(2, 2, requires_grad=True)
    y = ember.ones(2, 2)
    z = (x * y).sum()
    assert z.grad_fn.name() == "SumBackward0"
    mul, _ = z.grad_fn.next_functions[0]
    assert mul.name() == "MulBackward0"
    acc, nr = mul.next_functions[0]
    assert acc.name() == "AccumulateGrad" and acc.variable is x and nr == 0
    assert mul.next_functions[1] == (None, 0)


def test_autograd_grad_returns_without_touching_dot_grad():
    x = ember.tensor([3.0], requires_grad=True)
    y = ember.tensor([4.0], requires_grad=True)
    gx, gy = ember.autograd.grad((x * y).sum(), [x, y])
    assert gx.item() == 4.0 and gy.item() == 3.0
    assert x.grad is None and y.grad is None


def test_autograd_grad_unused_input():
    x = ember.tensor([3.0], requires_grad=True)
    z = ember.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        ember.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = ember.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None and gx.item() == 2.0


def test_autograd_grad_of_intermediate():
    x = ember.tensor([2.0], requires_grad=True)
    h = x * x
    out = h * 3
    (gh,) = ember.autograd.grad(out.sum(), [h])
    assert gh.item() == 3.0


def test_batched_grad_outputs_give_one_gradient_per_slice():
    """is_grads_batched: row k of each result is the gradient for grad_outputs[k] (a Jacobian
    when the slices are the identity's rows)."""
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = ember.tensor([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]], requires_grad=True)
    y = (x @ w) ** 2  # y_j = (x . w[:, j])^2, so dy_j/dx = 2 (x . w[:, j]) w[:, j]
    jac_x, jac_w = ember.autograd.grad(y, (x, w), ember.eye(2), is_grads_batched=True)
    assert jac_x.tolist() == [[10.0, 20.0, 0.0], [0.0, 22.0, 66.0]]
    assert jac_w.shape == (2, 3, 2) and jac_w[1].tolist() == [[0, 22], [0, 44], [0, 66]]
    assert x.grad is None
    with pytest.raises(ValueError, match="needs grad_outputs"):
        ember.autograd.grad(y, x, is_grads_batched=True)


def test_create_graph_gives_a_differentiable_grad():
    x = ember.tensor([2.0], requires_grad=True)
    (g,) = ember.autograd.grad((x * x * x).sum(), x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x)
    assert g.tolist() == [12.0] and h.tolist() == [12.0]


def test_backward_with_inputs_accumulates_only_there():
    x = ember.tensor([2.0], requires_grad=True)
    y = ember.tensor([5.0], requires_grad=True)
    (x * y).sum().backward(inputs=[x])
    assert x.grad.item() == 5.0 and y.grad is None


def test_shared_gradient_arrays_are_not_aliased_between_leaves():
    a = ember.ones(3, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(5)
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0, 1.0])


def test_saved_tensor_modified_in_place_raises_torch_error():
    x = ember.randn(3, requires_grad=True)
    y = x.exp()
    with ember.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_in_place_on_leaf_requiring_grad_raises():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used"):
        x.add_(1)
    with ember.no_grad():
        x.add_(1)
    assert x._version == 1


def test_in_place_on_non_leaf_rebases_graph():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(x)  # y = 2x * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    assert y.grad_fn.name() == "MulBackward0"


def test_setitem_records_gradient():
    x = ember.zeros(4, requires_grad=True)
    v = ember.tensor([5.0, 6.0], requires_grad=True)
    y = x * 1
    y[1:3] = v * 2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(v.grad.numpy(), [2.0, 2.0])


def test_version_counter_shared_by_views():
    x = ember.zeros(4)
    v = x[1:3]
    v.add_(1)
    assert x._version == 1 and v._version == 1
    np.testing.assert_allclose(x.numpy(), [0, 1, 1, 0])


def test_gradcheck_passes_on_a_composite_function():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(4, 2, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a, b: (a @ b).tanh().sum(dim=0), (x, w))


def test_gradcheck_detects_a_wrong_backward():
    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 x g

    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(Wrong.apply, (x,))
