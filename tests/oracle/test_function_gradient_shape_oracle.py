"""A custom Function's backward may return a gradient *larger* than its input when the
input's shape expands to it: torch sums it back (and refuses any other shape). The same
with ``create_graph=True``, where the gradient stays a differentiable Tensor."""
import pytest

import ember

CASES = [((1,), (5,)), ((3,), (1,)), ((3,), (2, 3)), ((2, 1), (2, 4)), ((), (3,)), ((3,), ()),
         ((2, 3), (3,)), ((2, 3), (2, 3))]


def _grad_of(lib, x_shape, g_shape, create_graph):
    class Returns(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return lib.ones(g_shape) * g.sum()

    x = lib.ones(x_shape, requires_grad=True)
    try:
        (grad,) = lib.autograd.grad(Returns.apply(x).sum() * 1.5, x, create_graph=create_graph)
    except RuntimeError as e:
        return "RuntimeError", str(e).splitlines()[0]
    return tuple(grad.shape), grad.tolist()


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("x_shape, g_shape", CASES, ids=str)
def test_gradient_shapes_accepted_and_refused_like_torch(torch, x_shape, g_shape, create_graph):
    assert (_grad_of(ember, x_shape, g_shape, create_graph)
            == _grad_of(torch, x_shape, g_shape, create_graph))
