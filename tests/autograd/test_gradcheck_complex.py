"""gradcheck on complex inputs and outputs (each complex number two real variables) and on
inputs of any strides: a wrong gradient must fail, a right one pass."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.autograd.gradcheck import GradcheckError


class _ConjWithoutConjugatedGradient(ember.autograd.Function):
    """y = conj(z), with the backward a holomorphic op would have (wrong here: the right one
    is conj(g))."""

    @staticmethod
    def forward(ctx, z):
        return z.conj().clone()

    @staticmethod
    def backward(ctx, grad):
        return grad


class _RealPartOnlyGradient(ember.autograd.Function):
    """y = |z|^2, with a backward that drops the imaginary part of the gradient 2z."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return (z * z.conj()).real

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return (2 * grad * z.real).to(z.dtype)


def _z():
    return ember.tensor([1 + 2j, 3 - 1j, -0.5 + 0.25j], dtype=ember.complex128,
                        requires_grad=True)


def test_a_wrong_complex_gradient_fails():
    with pytest.raises(GradcheckError, match="imaginary part of complex outputs"):
        gradcheck(_ConjWithoutConjugatedGradient.apply, (_z(),))
    assert not gradcheck(_ConjWithoutConjugatedGradient.apply, (_z(),), raise_exception=False)


def test_a_gradient_missing_its_imaginary_part_fails():
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(_RealPartOnlyGradient.apply, (_z(),))


@pytest.mark.parametrize("f", [
    lambda z: z.conj() * 2, lambda z: z * z, lambda z: z.abs(), lambda z: z.exp().sum(),
    lambda z: ember.view_as_real(z), lambda z: z.real * z.imag, lambda z: z.angle(),
    lambda z: (z[:, None] * z.conj()).sum(0),
])
def test_right_complex_gradients_pass_to_second_order(f):
    assert gradcheck(f, (_z(),))
    assert gradgradcheck(f, (_z(),))


def test_a_real_input_to_a_complex_output():
    r = ember.tensor([0.3, -1.2], dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a: ember.complex(a, a * a) * (1 - 2j), (r,))


def test_a_complex_input_needs_no_precision_warning(recwarn):
    gradcheck(lambda z: z * 3, (_z(),))
    assert not [w for w in recwarn if "double precision" in str(w.message)]


def test_transposed_inputs_are_nudged_in_place():
    x = ember.tensor(np.arange(12.0).reshape(3, 4), requires_grad=False).T
    x.requires_grad_()
    assert not x.is_contiguous()
    assert gradcheck(lambda t: t * t, (x,))
    assert gradgradcheck(lambda t: t.sin(), (x,))
