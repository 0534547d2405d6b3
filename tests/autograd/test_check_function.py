"""check_function: each contract a custom Function's backward must keep, and its report."""
import numpy as np
import pytest

import ember
from ember.autograd import Function, check_function
from ember.autograd.check_function import FunctionCheckError


class Scale(Function):
    """out = x * w (w broadcast over rows), written correctly."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        gx = grad * w if ctx.needs_input_grad[0] else None
        gw = (grad * x).sum(0) if ctx.needs_input_grad[1] else None
        return gx, gw


def _inputs():
    return ember.randn(4, 3, requires_grad=True), ember.randn(3, requires_grad=True)


def _problems(rep):
    return [p.check for p in rep.problems]


def test_correct_function_passes_every_check():
    rep = check_function(Scale, *_inputs())
    assert rep.ok and bool(rep), rep.report()
    text = rep.report()
    assert text.startswith("check_function(Scale): all checks passed")
    assert "needs_input_grad respected" in text
    assert "gradients match finite differences" in text
    assert rep.max_error < 1e-6


def test_correct_function_with_a_constant_input_passes():
    x, w = _inputs()
    assert check_function(Scale, x, w.detach())


def test_wrong_number_of_gradients_is_explained():
    class TooFew(Scale):
        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return grad * w

    rep = check_function(TooFew, *_inputs())
    assert _problems(rep) == ["gradient count"]
    p = rep.problems[0]
    assert "backward returned 1 value for 2 arguments" in p.message
    assert "incorrect number of gradients" in p.why and "return 2 values" in p.fix


def test_unreduced_broadcast_gradient_is_a_shape_problem():
    class NoSum(Scale):
        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return (grad * w if ctx.needs_input_grad[0] else None,
                    grad * x if ctx.needs_input_grad[1] else None)

    rep = check_function(NoSum, *_inputs())
    assert _problems(rep) == ["gradient 1"]
    assert "has shape [4, 3] but input 1 has shape [3]" in rep.problems[0].message
    assert "sum over the broadcast dimensions" in rep.problems[0].fix
    assert "finite-difference check skipped" in rep.report()


def test_wrong_dtype_is_reported():
    class Float64Grad(Scale):
        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            gx = grad * w
            return (gx.double() if ctx.needs_input_grad[0] else None,
                    (grad * x).sum(0) if ctx.needs_input_grad[1] else None)

    rep = check_function(Float64Grad, *_inputs())
    assert _problems(rep) == ["dtype of gradient 0"]
    assert "is float64 but input 0 is float32" in rep.problems[0].message


def test_ignoring_needs_input_grad_is_reported():
    class Greedy(Scale):
        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return grad * w, (grad * x).sum(0)

    rep = check_function(Greedy, *_inputs())
    assert _problems(rep) == ["needs_input_grad"]
    assert "ctx.needs_input_grad[0] was False" in rep.problems[0].message


def test_tensor_kept_on_ctx_is_reported_and_named():
    class Stash(Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.x = x
            ctx.pair = (w, 3)
            ctx.n = x.shape[0]  # plain values on ctx are fine
            return x * w

        @staticmethod
        def backward(ctx, grad):
            x, (w, _) = ctx.x, ctx.pair
            return (grad * w if ctx.needs_input_grad[0] else None,
                    (grad * x).sum(0) if ctx.needs_input_grad[1] else None)

    rep = check_function(Stash, *_inputs())
    assert _problems(rep) == ["save_for_backward"]
    messages = rep.problems[0].message
    assert "ctx.x holds a Tensor [4, 3], ctx.pair holds a tuple of tensors" in messages
    assert "ctx.n" not in messages
    assert "gradients match finite differences" in rep.report()  # still checked


def test_wrong_derivative_fails_finite_differences_with_values():
    class WrongSign(Scale):
        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return (-grad * w if ctx.needs_input_grad[0] else None,
                    (grad * x).sum(0) if ctx.needs_input_grad[1] else None)

    rep = check_function(WrongSign, *_inputs())
    assert _problems(rep) == ["finite differences"]
    assert rep.problems[0].message.startswith("gradient of input 0 at element [0, 0]")
    assert "chain rule" in rep.problems[0].fix


def test_large_inputs_use_random_directions():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    class Off(Square):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2.5 * x * grad

    x = ember.randn(40, 40, requires_grad=True)
    assert check_function(Square, x)
    rep = check_function(Off, x)
    assert "a random direction" in rep.problems[0].message


def test_forward_changing_its_input_in_place_is_reported():
    class Sneaky(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    rep = check_function(Sneaky, ember.randn(3, requires_grad=True))
    assert "inputs unchanged" in _problems(rep)
    assert "mark_dirty" in rep.problems[0].fix


def test_backward_changing_grad_output_is_reported():
    class Clobber(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            grad.mul_(2)
            return grad

    rep = check_function(Clobber, ember.randn(3, requires_grad=True))
    assert _problems(rep) == ["grad_output unchanged"]


def test_non_tensor_argument_must_get_none():
    class Power(Function):
        @staticmethod
        def forward(ctx, x, p):
            ctx.save_for_backward(x)
            ctx.p = p
            return x ** p

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * ctx.p * x ** (ctx.p - 1), grad

    rep = check_function(Power, ember.rand(3, requires_grad=True) + 0.5, 3.0)
    assert _problems(rep) == ["gradient 1"]
    assert "is a float, not a tensor" in rep.problems[0].message


def test_errors_in_forward_and_backward_are_reported():
    class Boom(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("oops")

    rep = check_function(Boom, ember.randn(3, requires_grad=True))
    assert _problems(rep) == ["backward"] and "ValueError: oops" in rep.problems[0].message


def test_bad_arguments_and_raise_exception():
    assert _problems(check_function(Scale.apply, *_inputs())) == ["function"]
    assert _problems(check_function(Scale, ember.randn(2), ember.randn(2))) == ["inputs"]

    class TooFew(Scale):
        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(FunctionCheckError, match="gradient count"):
        check_function(TooFew, *_inputs(), raise_exception=True)


def test_reachable_as_ember_autograd_check_function():
    rep = ember.autograd.check_function(Scale, *_inputs())
    assert rep.ok
    np.testing.assert_array_less(rep.max_error, 1e-6)
