"""Gradients at the edges a gradient sweep found, against torch: var/std with no degrees of
freedom left (first and second order), slogdet when only the sign is used, logit with an
eps above 1/2."""
import warnings

import numpy as np
import pytest

import ember

DATA = np.array([[1.0, 2.0, 2.5], [3.0, 4.5, 3.0]])

SPREADS = [dict(), dict(correction=6), dict(correction=7), dict(dim=1, correction=3),
           dict(dim=1, correction=4), dict(dim=(0, 1), correction=6),
           dict(dim=0, correction=2.5), dict(dim=0, correction=0)]


def _spread_grads(lib, name, options, data):
    x = lib.tensor(data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the degrees-of-freedom warning
        out = getattr(x, name)(**options)
    weights = lib.tensor(np.arange(1.0, 1.0 + out.numel()).reshape(tuple(out.shape)))
    (grad,) = lib.autograd.grad((out * weights).sum(), x, create_graph=True)
    result = [out.detach().numpy(), grad.detach().numpy()]
    if grad.requires_grad:
        (second,) = lib.autograd.grad((grad * lib.tensor(DATA)).sum(), x)
        result.append(second.numpy())
    return result


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("options", SPREADS, ids=str)
def test_var_and_std_gradients_without_degrees_of_freedom_match_torch(torch, name, options):
    ours, theirs = (_spread_grads(lib, name, options, DATA) for lib in (ember, torch))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_var_of_a_single_value_gives_nan_gradient_not_an_error():
    x = ember.tensor(0.7, dtype=ember.float64, requires_grad=True)
    for name in ("var", "std"):
        x.grad = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(x, name)().backward()
        assert np.isnan(x.grad.item())


def _slogdet_grads(lib):
    a = np.array([[4.0, 1, 2], [1, 3, 0.5], [2, 0.5, 5]])
    out = []
    for use in ("sign", "log", "both"):
        x = lib.tensor(a, requires_grad=True)
        sign, logabs = lib.linalg.slogdet(x)
        y = {"sign": sign * 3, "log": logabs, "both": sign + logabs}[use]
        if y.requires_grad:
            y.backward()
        out.append(None if x.grad is None else x.grad.numpy())
    x = lib.tensor(a, requires_grad=True)
    sign, logabs = lib.slogdet(x)
    (g,) = lib.autograd.grad(sign * 2 + logabs * logabs, x, create_graph=True)
    out.append(lib.autograd.grad(g.sum(), x)[0].numpy())
    return out


def test_slogdet_sign_alone_gives_no_gradient_as_torch(torch):
    ours, theirs = _slogdet_grads(ember), _slogdet_grads(torch)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12)


def _logit(lib, eps):
    x = lib.tensor([-0.5, 0.0, 0.2, 0.5, 0.7, 1.0, 2.0], dtype=lib.float64,
                   requires_grad=True)
    y = lib.logit(x, eps)
    y.backward(lib.ones_like(y))
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("eps", [None, 0.0, 0.1, 0.5, 0.7, 1.0])
def test_logit_clamps_below_eps_first_as_torch(torch, eps):
    for a, b in zip(_logit(ember, eps), _logit(torch, eps)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _gelu_0d(lib, dtype, approximate):
    x = lib.tensor(0.7, dtype=getattr(lib, dtype), requires_grad=True)
    y = lib.nn.functional.gelu(x, approximate=approximate)
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    g.backward()
    return tuple(y.shape), y.item(), g.item(), x.grad.item()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_of_a_0d_tensor_matches_torch(torch, dtype, approximate):
    ours, theirs = _gelu_0d(ember, dtype, approximate), _gelu_0d(torch, dtype, approximate)
    assert ours[0] == theirs[0] == ()
    tol = {"float16": 2e-3, "float32": 1e-6, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(ours[1:], theirs[1:], rtol=tol)


def _logit_tangent(lib, eps):
    fw = lib.autograd.forward_ad
    x = np.array([-0.5, 0.0, 0.2, 0.5, 0.7, 1.0, 2.0, np.nan])
    with fw.dual_level():
        dual = fw.make_dual(lib.tensor(x), lib.tensor(np.linspace(-1, 2, 8)))
        return fw.unpack_dual(lib.logit(dual, eps)).tangent.numpy()


@pytest.mark.parametrize("eps", [None, 0.0, 0.1, 0.7, 1.0])
def test_logit_tangent_matches_torch_outside_the_range(torch, eps):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _logit_tangent(ember, eps), _logit_tangent(torch, eps)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("loss", ["abs", "vector_norm", "matrix_norm"])
def test_complex_second_order_through_abs_and_norms_matches_torch(torch, loss):
    """First and second order match torch (the phase x / |x| is differentiated, not held
    constant)."""
    values = np.array([1 + 2j, -0.5 + 0.3j])

    def first(lib):
        z = lib.tensor(values, requires_grad=True)
        f = {"abs": lambda t: t.abs().sum(), "vector_norm": lambda t: lib.linalg.vector_norm(t),
             "matrix_norm": lambda t: lib.linalg.matrix_norm(t.reshape(1, 2))}[loss]
        (g,) = lib.autograd.grad(f(z), z, create_graph=True)
        (gg,) = lib.autograd.grad((g.real * 2).sum() + g.imag.sum(), z)
        return g.detach().numpy(), gg.numpy()

    for ours, theirs in zip(first(ember), first(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
