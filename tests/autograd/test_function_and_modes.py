"""Custom Functions with torch's contract, and grad modes."""
import threading

import numpy as np
import pytest

import ember


class Cube(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x ** 3 * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        assert isinstance(grad, ember.Tensor)
        return grad * 3 * x ** 2 * ctx.scale, None


def test_custom_function_forward_backward_with_non_tensor_argument():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 24.0])


def test_custom_function_needs_input_grad_and_several_outputs():
    seen = {}

    class Split2(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            return a * 2, b * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2, gb * 3

    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2)
    out1, out2 = Split2.apply(a, b)
    assert seen["needs"] == (True, False)
    out1.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])


def test_custom_function_wrong_number_of_gradients():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g

    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(a, b).sum().backward()


def test_custom_function_wrong_gradient_shape():
    class BadShape(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, g):
            return ember.ones(5)

    a = ember.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0"):
        BadShape.apply(a).sum().backward()


def test_mark_non_differentiable_and_materialize_grads():
    class SortWithIdx(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            idx = ember.argsort(x)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return x[idx], idx

        @staticmethod
        def backward(ctx, g, g_idx):
            assert g_idx is None
            (idx,) = ctx.saved_tensors
            out = ember.zeros_like(g)
            out[idx] = g
            return out

    x = ember.tensor([3.0, 1.0, 2.0], requires_grad=True)
    vals, idx = SortWithIdx.apply(x)
    assert not idx.requires_grad
    (vals * ember.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [100.0, 1.0, 10.0])


def test_no_grad_stops_recording_and_works_as_decorator():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        y = x * 2
    assert y.grad_fn is None and not y.requires_grad

    @ember.no_grad()
    def f(t):
        return t * 2

    assert f(x).grad_fn is None
    assert (x * 2).grad_fn is not None


def test_enable_grad_inside_no_grad_and_set_grad_enabled():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        with ember.enable_grad():
            assert (x * 2).requires_grad
        assert not ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    ember.set_grad_enabled(True)
    with ember.set_grad_enabled(False):
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
    with ember.inference_mode():
        assert not (x * 2).requires_grad


def test_grad_mode_is_thread_local():
    x = ember.ones(2, requires_grad=True)
    result = {}

    def worker():
        result["other"] = (x * 2).requires_grad

    with ember.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert result["other"] is True
